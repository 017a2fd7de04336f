import { describe, expect, it } from "@effect/vitest"
import { Catalog } from "@llm-fiber/core"
import type { Usage } from "@llm-fiber/core"
import { Effect } from "effect"

const catalog = Catalog.make({
  models: {
    "claude-sonnet-4-5": {
      provider: "anthropic",
      inputPerMTok: 3,
      outputPerMTok: 15,
      cachedInputPerMTok: 0.3,
      cacheWritePerMTok: 3.75
    },
    "gpt-4": { provider: "openai", inputPerMTok: 30, outputPerMTok: 60 },
    "ft:gpt-4o-mini:acme": { provider: "openai", inputPerMTok: 0.3, outputPerMTok: 1.2 }
  }
})

describe("Catalog.get", () => {
  it("exact names", () => {
    expect(catalog.get("gpt-4o-mini")).toMatchObject({ provider: "openai", inputPerMTok: 0.15, outputPerMTok: 0.6 })
    expect(catalog.get("ft:gpt-4o-mini:acme")).toMatchObject({ inputPerMTok: 0.3, outputPerMTok: 1.2 })
  })

  it("a dated OpenAI snapshot is priced as its base model", () => {
    expect(catalog.get("gpt-4.1-nano-2025-04-14")).toMatchObject({
      provider: "openai",
      inputPerMTok: 0.1,
      outputPerMTok: 0.4,
      cachedInputPerMTok: 0.025
    })
    expect(catalog.get("gpt-4o-mini-2024-07-18")).toMatchObject({ inputPerMTok: 0.15 })
    expect(catalog.get("gpt-4o-2024-08-06")).toMatchObject({ inputPerMTok: 2.5, outputPerMTok: 10 })
  })

  it("a snapshot with its own price keeps it (gpt-4o-2024-05-13 costs $5/$15)", () => {
    expect(catalog.get("gpt-4o-2024-05-13")).toMatchObject({ inputPerMTok: 5, outputPerMTok: 15 })
  })

  it("Anthropic (8-digit) and old OpenAI (4-digit) date suffixes", () => {
    expect(catalog.get("claude-sonnet-4-5-20250929")).toMatchObject({ provider: "anthropic", inputPerMTok: 3 })
    expect(catalog.get("gpt-4-0613")).toMatchObject({ inputPerMTok: 30 })
  })

  it("unknown models, and models that merely start like a known one, have no price", () => {
    expect(catalog.get("llama3.2")).toBeUndefined()
    expect(catalog.get("gpt-4o-mini-tts")).toBeUndefined()
    expect(catalog.get("gpt-4o-audio-preview-2024-12-17")).toBeUndefined()
    expect(catalog.get("ft:gpt-4o-mini:other")).toBeUndefined()
    expect(catalog.get("")).toBeUndefined()
  })

  it("user rows override built-in ones", () => {
    const mine = Catalog.make({ models: { "gpt-4o": { provider: "openai", inputPerMTok: 1, outputPerMTok: 2 } } })
    expect(mine.get("gpt-4o")).toEqual({ provider: "openai", inputPerMTok: 1, outputPerMTok: 2 })
    expect(mine.get("gpt-4o-2024-11-20")?.inputPerMTok).toBe(1)
    expect(mine.all().get("gpt-4o-mini")?.inputPerMTok).toBe(0.15)
  })
})

describe("Catalog.costOf", () => {
  it("charges cached reads and cache writes at their own rates (worked by hand)", () => {
    const usage: Usage.Usage = {
      inputTokens: 10_000, // all input: 5,000 plain + 4,000 cached + 1,000 written
      cachedInputTokens: 4_000,
      cacheWriteTokens: 1_000,
      outputTokens: 2_000,
      totalTokens: 12_000
    }
    const info: Catalog.ModelInfo = {
      provider: "anthropic",
      inputPerMTok: 3,
      outputPerMTok: 15,
      cachedInputPerMTok: 0.3,
      cacheWritePerMTok: 3.75
    }
    // 5000 × $3 + 4000 × $0.30 + 1000 × $3.75 = $15,000 + $1,200 + $3,750 per million = $0.01995
    // 2000 × $15 per million = $0.03
    const cost = Catalog.costOf(info, usage)
    expect(cost.inputUsd).toBeCloseTo(0.01995, 12)
    expect(cost.outputUsd).toBeCloseTo(0.03, 12)
    expect(cost.totalUsd).toBeCloseTo(0.04995, 12)
  })

  it("cached and written tokens default to the input price", () => {
    const info: Catalog.ModelInfo = { provider: "x", inputPerMTok: 2, outputPerMTok: 8 }
    const cost = Catalog.costOf(info, {
      inputTokens: 1_000_000,
      cachedInputTokens: 500_000,
      cacheWriteTokens: 250_000,
      outputTokens: 1_000_000,
      totalTokens: 2_000_000
    })
    expect(cost).toEqual({ inputUsd: 2, outputUsd: 8, totalUsd: 10 })
  })

  it("gpt-4o-mini with a cache hit (built-in row)", () => {
    // 1,000 input of which 600 cached: 400 × $0.15 + 600 × $0.075 = $105 per million; 100 output × $0.60 = $60 per million
    const cost = catalog.cost("gpt-4o-mini", {
      inputTokens: 1_000,
      cachedInputTokens: 600,
      outputTokens: 100,
      totalTokens: 1_100
    })
    expect(cost?.inputUsd).toBeCloseTo(105e-6, 15)
    expect(cost?.outputUsd).toBeCloseTo(60e-6, 15)
    expect(cost?.totalUsd).toBeCloseTo(165e-6, 15)
  })

  it("a dated name is costed at its base model's prices", () => {
    const cost = catalog.cost("gpt-4.1-nano-2025-04-14", {
      inputTokens: 2_000_000,
      outputTokens: 500_000,
      totalTokens: 0
    })
    // 2M × $0.10 + 0.5M × $0.40
    expect(cost?.inputUsd).toBeCloseTo(0.2, 12)
    expect(cost?.outputUsd).toBeCloseTo(0.2, 12)
  })

  it("reasoning tokens are part of the output and not charged twice", () => {
    const cost = catalog.cost("o4-mini", {
      inputTokens: 0,
      outputTokens: 1_000,
      reasoningTokens: 800,
      totalTokens: 1_000
    })
    expect(cost?.outputUsd).toBeCloseTo(1_000 * 4.4 / 1e6, 15)
  })

  it("never charges a negative plain part when the counts overlap", () => {
    const cost = Catalog.costOf({ provider: "x", inputPerMTok: 10, outputPerMTok: 0, cachedInputPerMTok: 1 }, {
      inputTokens: 100,
      cachedInputTokens: 150,
      outputTokens: 0,
      totalTokens: 100
    })
    expect(cost.inputUsd).toBeGreaterThanOrEqual(0)
    expect(cost.inputUsd).toBeCloseTo(150 * 1 / 1e6, 15)
  })

  it("an unpriced model gets no cost, never a silent zero", () => {
    expect(catalog.cost("llama3.2", { inputTokens: 10, outputTokens: 10, totalTokens: 20 })).toBeUndefined()
  })

  it("zero usage costs zero", () => {
    expect(catalog.cost("gpt-4o", { inputTokens: 0, outputTokens: 0, totalTokens: 0 })).toEqual({
      inputUsd: 0,
      outputUsd: 0,
      totalUsd: 0
    })
  })
})

describe("Catalog table sanity", () => {
  it("every built-in row has positive prices, cached ≤ input, and a source", () => {
    for (const [name, row] of Object.entries(Catalog.defaultModels)) {
      expect(row.inputPerMTok, name).toBeGreaterThan(0)
      expect(row.outputPerMTok, name).toBeGreaterThan(0)
      if (row.cachedInputPerMTok !== undefined) {
        expect(row.cachedInputPerMTok, name).toBeLessThanOrEqual(row.inputPerMTok)
      }
      expect(row.source, name).toMatch(/^https:\/\//)
    }
  })

  it.effect("the Catalog reference defaults to the built-in table; a layer adds rows", () =>
    Effect.gen(function*() {
      const builtIn = yield* Catalog.Catalog
      expect(builtIn.get("gpt-5")?.inputPerMTok).toBe(1.25)
      expect(builtIn.get("my-fine-tune")).toBeUndefined()
      const custom = yield* Catalog.Catalog.pipe(
        Effect.provide(
          Catalog.layer({ models: { "my-fine-tune": { provider: "openai", inputPerMTok: 1, outputPerMTok: 1 } } })
        )
      )
      expect(custom.get("my-fine-tune")?.inputPerMTok).toBe(1)
      expect(custom.get("gpt-5")?.inputPerMTok).toBe(1.25)
    }))
})
