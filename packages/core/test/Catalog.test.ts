import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Catalog } from "@llm-fiber/core"
import type { Usage } from "@llm-fiber/core"
import { Effect, Either, Exit, Layer } from "effect"

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

describe("Catalog built-in table", () => {
  it("is versioned", () => {
    expect(Catalog.version).toBe("2026.11.22")
    expect(Catalog.updated).toBe("2026-11-22")
    expect(Catalog.make().version).toBe("2026.11.22")
  })

  it("every built-in row passes the same validation as a user's JSON table", () => {
    const decoded = Catalog.decodeRows(Catalog.defaultRows)
    if (Either.isLeft(decoded)) throw new Error(decoded.left.message)
    expect(decoded.right).toHaveLength(Catalog.defaultRows.length)
  })

  it("every row: a price for input, output > 0 unless an embedding, cached ≤ input ≤ write, source and date", () => {
    for (const row of Catalog.defaultRows) {
      const name = row.model
      expect(row.inputPerMTok, name).toBeGreaterThan(0)
      if (row.kind === "embedding") expect(row.outputPerMTok, name).toBe(0)
      else expect(row.outputPerMTok, name).toBeGreaterThan(0)
      if (row.cachedInputPerMTok !== undefined) {
        expect(row.cachedInputPerMTok, name).toBeLessThan(row.inputPerMTok)
      }
      if (row.cacheWritePerMTok !== undefined) {
        expect(row.cacheWritePerMTok, name).toBeGreaterThan(row.inputPerMTok)
        expect(row.cacheWrite1hPerMTok ?? Infinity, name).toBeGreaterThan(row.cacheWritePerMTok)
      }
      expect(row.source, name).toMatch(/^https:\/\//)
      expect(row.checked, name).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(row.capabilities, name).toBeDefined()
      expect(row.contextWindow, name).toBeGreaterThan(0)
    }
  })

  it("covers the current models of the three providers", () => {
    const ids = Catalog.defaultRows.map((r) => `${r.provider}/${r.model}`)
    expect(ids).toEqual(expect.arrayContaining([
      "openai/gpt-5",
      "openai/gpt-5-mini",
      "openai/gpt-5-nano",
      "openai/gpt-4.1",
      "openai/gpt-4.1-mini",
      "openai/gpt-4.1-nano",
      "openai/gpt-4o",
      "openai/gpt-4o-mini",
      "openai/o3",
      "openai/o4-mini",
      "openai/o3-mini",
      "openai/text-embedding-3-small",
      "openai/text-embedding-3-large",
      "anthropic/claude-opus-4-1",
      "anthropic/claude-sonnet-4-5",
      "anthropic/claude-sonnet-4",
      "anthropic/claude-haiku-4-5",
      "anthropic/claude-3-5-haiku",
      "gemini/gemini-2.5-pro",
      "gemini/gemini-2.5-flash",
      "gemini/gemini-2.5-flash-lite",
      "gemini/gemini-2.0-flash"
    ]))
  })

  // [model, input, output, cached read, 5m write, 1h write, context window, max output] — from the
  // providers' pricing pages, written out by hand
  const prices: ReadonlyArray<
    readonly [string, number, number, number, number, number, number, number | undefined]
  > = [
    ["gpt-5", 1.25, 10, 0.125, 1.25, 1.25, 400_000, 128_000],
    ["gpt-5-mini", 0.25, 2, 0.025, 0.25, 0.25, 400_000, 128_000],
    ["gpt-5-nano", 0.05, 0.4, 0.005, 0.05, 0.05, 400_000, 128_000],
    ["gpt-4.1", 2, 8, 0.5, 2, 2, 1_047_576, 32_768],
    ["gpt-4.1-mini", 0.4, 1.6, 0.1, 0.4, 0.4, 1_047_576, 32_768],
    ["gpt-4.1-nano", 0.1, 0.4, 0.025, 0.1, 0.1, 1_047_576, 32_768],
    ["gpt-4o", 2.5, 10, 1.25, 2.5, 2.5, 128_000, 16_384],
    ["gpt-4o-mini", 0.15, 0.6, 0.075, 0.15, 0.15, 128_000, 16_384],
    ["o3", 2, 8, 0.5, 2, 2, 200_000, 100_000],
    ["o4-mini", 1.1, 4.4, 0.275, 1.1, 1.1, 200_000, 100_000],
    ["o3-mini", 1.1, 4.4, 0.55, 1.1, 1.1, 200_000, 100_000],
    ["text-embedding-3-small", 0.02, 0, 0.02, 0.02, 0.02, 8_191, undefined],
    ["text-embedding-3-large", 0.13, 0, 0.13, 0.13, 0.13, 8_191, undefined],
    ["claude-opus-4-1", 15, 75, 1.5, 18.75, 30, 200_000, 32_000],
    ["claude-sonnet-4-5", 3, 15, 0.3, 3.75, 6, 200_000, 64_000],
    ["claude-sonnet-4", 3, 15, 0.3, 3.75, 6, 200_000, 64_000],
    ["claude-haiku-4-5", 1, 5, 0.1, 1.25, 2, 200_000, 64_000],
    ["claude-3-5-haiku", 0.8, 4, 0.08, 1, 1.6, 200_000, 8_192],
    ["gemini-2.5-pro", 1.25, 10, 0.125, 1.25, 1.25, 1_048_576, 65_536],
    ["gemini-2.5-flash", 0.3, 2.5, 0.03, 0.3, 0.3, 1_048_576, 65_536],
    ["gemini-2.5-flash-lite", 0.1, 0.4, 0.01, 0.1, 0.1, 1_048_576, 65_536],
    ["gemini-2.0-flash", 0.1, 0.4, 0.025, 0.1, 0.1, 1_048_576, 8_192]
  ]
  const builtIn = Catalog.make()
  for (const [model, input, output, cached, write, write1h, context, maxOut] of prices) {
    it(`${model}: $${input} in, $${output} out, $${cached} cached, $${write}/$${write1h} cache write`, () => {
      expect(builtIn.price(model)).toMatchObject({
        inputPerMTok: input,
        outputPerMTok: output,
        cachedInputPerMTok: cached,
        cacheWritePerMTok: write,
        cacheWrite1hPerMTok: write1h
      })
      expect(builtIn.get(model)?.contextWindow).toBe(context)
      expect(builtIn.get(model)?.maxOutputTokens).toBe(maxOut)
    })
  }
})

describe("Catalog lookups: snapshots, aliases, capabilities, prices", () => {
  const builtIn = Catalog.make()

  it("dated and versioned ids of all three providers resolve to their base row", () => {
    expect(builtIn.get("claude-sonnet-4-20250514")).toBe(builtIn.get("claude-sonnet-4"))
    expect(builtIn.get("claude-opus-4-1-20250805")).toBe(builtIn.get("claude-opus-4-1"))
    expect(builtIn.get("claude-haiku-4-5-20251001")).toBe(builtIn.get("claude-haiku-4-5"))
    expect(builtIn.get("claude-3-5-haiku-20241022")?.inputPerMTok).toBe(0.8)
    expect(builtIn.get("gpt-5-2025-08-07")?.inputPerMTok).toBe(1.25)
    expect(builtIn.get("o3-mini-2025-01-31")?.cachedInputPerMTok).toBe(0.55)
    expect(builtIn.get("gemini-2.0-flash-001")?.provider).toBe("gemini")
    expect(builtIn.get("gemini-2.0-flash-001")?.inputPerMTok).toBe(0.1)
  })

  it("a row's aliases (ids the provider accepts for the same model) share its row", () => {
    expect(builtIn.get("claude-sonnet-4-0")).toBe(builtIn.get("claude-sonnet-4"))
    expect(builtIn.get("claude-3-5-haiku-latest")?.outputPerMTok).toBe(4)
    expect(builtIn.names()).toEqual(expect.arrayContaining(["claude-sonnet-4-0", "claude-opus-4-0", "gpt-4o"]))
    // aliases are not rows of their own
    expect(builtIn.all().has("claude-sonnet-4-0")).toBe(false)
  })

  it("capabilities: flags per model, undefined when the catalog does not say", () => {
    expect(builtIn.capabilities("o3")).toEqual({
      tools: true,
      vision: true,
      jsonSchema: true,
      promptCaching: true,
      reasoning: true
    })
    expect(builtIn.capabilities("gpt-4.1-mini-2025-04-14")?.reasoning).toBe(false)
    expect(builtIn.capabilities("claude-3-5-haiku")).toMatchObject({ vision: false, reasoning: false, tools: true })
    expect(builtIn.capabilities("text-embedding-3-small")).toEqual({
      tools: false,
      vision: false,
      jsonSchema: false,
      promptCaching: false,
      reasoning: false
    })
    expect(builtIn.capabilities("llama3.2")).toBeUndefined()
    const mine = Catalog.make({
      models: {
        bare: { provider: "x", inputPerMTok: 1, outputPerMTok: 1 },
        some: { provider: "x", inputPerMTok: 1, outputPerMTok: 1, capabilities: { tools: true } }
      }
    })
    expect(mine.capabilities("bare")).toBeUndefined()
    expect(mine.capabilities("some")).toEqual({
      tools: true,
      vision: false,
      jsonSchema: false,
      promptCaching: false,
      reasoning: false
    })
  })

  it("price: the defaults applied, undefined when unpriced", () => {
    expect(builtIn.price("llama3.2")).toBeUndefined()
    expect(builtIn.price("gemini-2.5-pro")?.longContext).toMatchObject({
      thresholdTokens: 200_000,
      inputPerMTok: 2.5,
      outputPerMTok: 15,
      cachedInputPerMTok: 0.25
    })
    const mine = Catalog.make({
      models: { m: { provider: "x", inputPerMTok: 4, outputPerMTok: 8, cacheWritePerMTok: 5 } }
    })
    expect(mine.price("m")).toEqual({
      inputPerMTok: 4,
      outputPerMTok: 8,
      cachedInputPerMTok: 4,
      cacheWritePerMTok: 5,
      cacheWrite1hPerMTok: 5
    })
  })
})

describe("Catalog.costOf: long context and 1-hour cache writes", () => {
  const builtIn = Catalog.make()

  it("gemini-2.5-pro above 200K prompt tokens: the whole request at the long-context rates", () => {
    // 300,000 input (100,000 cached): 200,000 × $2.50 + 100,000 × $0.25 = $0.525; 10,000 × $15 = $0.15
    const cost = builtIn.cost("gemini-2.5-pro", {
      inputTokens: 300_000,
      cachedInputTokens: 100_000,
      outputTokens: 10_000,
      totalTokens: 310_000
    })
    expect(cost?.inputUsd).toBeCloseTo(0.525, 12)
    expect(cost?.outputUsd).toBeCloseTo(0.15, 12)
    expect(cost?.totalUsd).toBeCloseTo(0.675, 12)
  })

  it("gemini-2.5-pro at exactly 200K: the normal rates", () => {
    // 200,000 × $1.25 = $0.25; 1,000 × $10 = $0.01
    const cost = builtIn.cost("gemini-2.5-pro", { inputTokens: 200_000, outputTokens: 1_000, totalTokens: 201_000 })
    expect(cost?.inputUsd).toBeCloseTo(0.25, 12)
    expect(cost?.outputUsd).toBeCloseTo(0.01, 12)
  })

  it("claude-sonnet-4-5 above 200K input: long-context rates for plain, cached and written input", () => {
    // 250,000 input = 100,000 plain × $6 + 100,000 read × $0.60 + 50,000 written × $7.50 = $1.035
    // 1,000 output × $22.50 = $0.0225
    const cost = builtIn.cost("claude-sonnet-4-5-20250929", {
      inputTokens: 250_000,
      cachedInputTokens: 100_000,
      cacheWriteTokens: 50_000,
      outputTokens: 1_000,
      totalTokens: 251_000
    })
    expect(cost?.inputUsd).toBeCloseTo(1.035, 12)
    expect(cost?.outputUsd).toBeCloseTo(0.0225, 12)
  })

  it("1-hour cache writes at their own rate when the detail says how many", () => {
    const usage: Usage.Usage = { inputTokens: 10_000, cacheWriteTokens: 10_000, outputTokens: 0, totalTokens: 10_000 }
    // all at the 5-minute rate: 10,000 × $3.75 = $0.0375
    expect(builtIn.cost("claude-sonnet-4-5", usage)?.inputUsd).toBeCloseTo(0.0375, 12)
    // 6,000 × $3.75 + 4,000 × $6 = $0.0225 + $0.024 = $0.0465
    expect(builtIn.cost("claude-sonnet-4-5", usage, { cacheWrite1hTokens: 4_000 })?.inputUsd).toBeCloseTo(0.0465, 12)
    // never more 1-hour writes than writes: 10,000 × $6 = $0.06
    expect(builtIn.cost("claude-sonnet-4-5", usage, { cacheWrite1hTokens: 99_999 })?.inputUsd).toBeCloseTo(0.06, 12)
  })

  it("embeddings: input only", () => {
    // 3,000,000 × $0.02 = $0.06
    expect(builtIn.cost("text-embedding-3-small", { inputTokens: 3_000_000, outputTokens: 0, totalTokens: 3_000_000 }))
      .toEqual({ inputUsd: 0.06, outputUsd: 0, totalUsd: 0.06 })
  })
})

describe("Catalog overrides", () => {
  it("extend (the default): your rows on top, the version says so", () => {
    const mine = Catalog.make({
      models: [{ model: "my-model", provider: "openai", inputPerMTok: 1, outputPerMTok: 2 }]
    })
    expect(mine.get("my-model")).toEqual({ provider: "openai", inputPerMTok: 1, outputPerMTok: 2 })
    expect(mine.get("gpt-4o")?.inputPerMTok).toBe(2.5)
    expect(mine.version).toBe("2026.11.22+custom")
  })

  it("replace: your rows only", () => {
    const mine = Catalog.make({
      mode: "replace",
      version: "acme-7",
      updated: "2026-11-01",
      models: { "my-model": { provider: "openai", inputPerMTok: 1, outputPerMTok: 2 } }
    })
    expect(mine.get("gpt-4o")).toBeUndefined()
    expect(mine.cost("gpt-4o", { inputTokens: 1, outputTokens: 1, totalTokens: 2 })).toBeUndefined()
    expect([...mine.all().keys()]).toEqual(["my-model"])
    expect(mine.version).toBe("acme-7")
    expect(mine.updated).toBe("2026-11-01")
  })

  it("replacing a row replaces all of it, aliases included", () => {
    const mine = Catalog.make({
      models: { "claude-opus-4": { provider: "anthropic", inputPerMTok: 1, outputPerMTok: 1 } }
    })
    expect(mine.get("claude-opus-4")?.inputPerMTok).toBe(1)
    expect(mine.get("claude-opus-4-20250514")?.inputPerMTok).toBe(1)
    expect(mine.get("claude-opus-4-0")).toBeUndefined()
  })

  it.effect("the accessors read the catalog in use", () =>
    Effect.gen(function*() {
      expect((yield* Catalog.price("o4-mini"))?.cachedInputPerMTok).toBe(0.275)
      expect((yield* Catalog.capabilities("o4-mini"))?.reasoning).toBe(true)
      expect(yield* Catalog.get("nope")).toBeUndefined()
      const custom = Layer.succeed(Catalog.Catalog, Catalog.make({ mode: "replace", models: {} }))
      expect(yield* Effect.provide(Catalog.price("o4-mini"), custom)).toBeUndefined()
      const cost = yield* Effect.provide(
        Catalog.cost("x", { inputTokens: 1_000_000, outputTokens: 0, totalTokens: 0 }),
        Catalog.layer({ models: { x: { provider: "p", inputPerMTok: 7, outputPerMTok: 1 } } })
      )
      expect(cost).toEqual({ inputUsd: 7, outputUsd: 0, totalUsd: 7 })
    }))

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

describe("Catalog.fromJson", () => {
  const fails = (text: string): Catalog.CatalogError => {
    const result = Catalog.fromJson(text)
    if (Either.isRight(result)) throw new Error(`expected a CatalogError, got ${JSON.stringify(result.right)}`)
    expect(result.left).toBeInstanceOf(Catalog.CatalogError)
    expect(result.left._tag).toBe("CatalogError")
    return result.left
  }
  const row = (fields: Record<string, unknown>) => ({
    model: "m",
    provider: "p",
    inputPerMTok: 1,
    outputPerMTok: 2,
    ...fields
  })
  const table = (...rows: ReadonlyArray<unknown>) => JSON.stringify({ version: "v1", models: rows })

  it("an object with version, date and rows", () => {
    const result = Catalog.fromJson(JSON.stringify({
      version: "acme-3",
      updated: "2026-11-01",
      models: [
        {
          model: "acme-large",
          provider: "openrouter",
          inputPerMTok: 3,
          outputPerMTok: 15,
          cachedInputPerMTok: 0.3,
          contextWindow: 200000,
          capabilities: { tools: true },
          aliases: ["acme-l"],
          source: "https://example.com/prices",
          checked: "2026-11-01"
        }
      ]
    }))
    expect(result).toEqual(Either.right({
      version: "acme-3",
      updated: "2026-11-01",
      models: [{
        model: "acme-large",
        provider: "openrouter",
        inputPerMTok: 3,
        outputPerMTok: 15,
        cachedInputPerMTok: 0.3,
        contextWindow: 200000,
        capabilities: { tools: true },
        aliases: ["acme-l"],
        source: "https://example.com/prices",
        checked: "2026-11-01"
      }]
    }))
  })

  it("a bare array of rows", () => {
    expect(Catalog.fromJson(JSON.stringify([row({})]))).toEqual(
      Either.right({ models: [{ model: "m", provider: "p", inputPerMTok: 1, outputPerMTok: 2 }] })
    )
  })

  it("not JSON, or not a table", () => {
    expect(fails("{ nope").message).toMatch(/^the catalog is not valid JSON: /)
    expect(fails("{\"rows\": []}").message).toBe(
      "the catalog must be an array of rows or an object with a \"models\" array"
    )
    expect(fails("42").message).toContain("must be an array of rows")
    expect(fails(JSON.stringify({ version: 3, models: [] })).field).toBe("version")
  })

  const bad: ReadonlyArray<readonly [string, Record<string, unknown>, string, string]> = [
    ["a price that is not a number", { inputPerMTok: "abc" }, "inputPerMTok", "expected a non-negative number"],
    ["a negative price", { outputPerMTok: -1 }, "outputPerMTok", "expected a non-negative number"],
    ["an infinite price", { cachedInputPerMTok: 1e400 }, "cachedInputPerMTok", "expected a non-negative number"],
    ["a missing price", { outputPerMTok: undefined }, "outputPerMTok", "is missing"],
    ["a misspelled field", { inputPerMtok: 1 }, "inputPerMtok", "unknown field"],
    ["a fractional context window", { contextWindow: 1.5 }, "contextWindow", "expected a positive whole number"],
    ["a bad capability flag", { capabilities: { tools: "yes" } }, "capabilities.tools", "expected true or false"],
    ["a bad date", { checked: "Nov 2026" }, "checked", "expected a date"],
    ["an unknown kind", { kind: "image" }, "kind", "expected \"chat\" or \"embedding\""],
    ["an empty provider", { provider: "" }, "provider", "expected a non-empty string"],
    [
      "a bad long-context price",
      { longContext: { thresholdTokens: 1000, inputPerMTok: 1 } },
      "longContext.outputPerMTok",
      "is missing"
    ]
  ]
  for (const [name, fields, field, message] of bad) {
    it(`${name} names row and field`, () => {
      const e = fails(table(row({ model: "fine" }), row({ model: "broken", ...fields })))
      expect(e.row).toBe(1)
      expect(e.model).toBe("broken")
      expect(e.field).toBe(field)
      expect(e.message).toContain(`catalog row 1 ("broken"): ${field}: `)
      expect(e.message).toContain(message)
    })
  }

  it("a row without a model id is named by its index", () => {
    const e = fails(table(row({ model: undefined })))
    expect(e.row).toBe(0)
    expect(e.model).toBeUndefined()
    expect(e.message).toBe("catalog row 0: model: is missing")
  })

  it("a model id or alias defined twice", () => {
    const twice = fails(table(row({ model: "a" }), row({ model: "b" }), row({ model: "a" })))
    expect(twice.message).toBe("catalog row 2 (\"a\"): \"a\" is already defined by row 0")
    expect(twice.field).toBe("model")
    const alias = fails(table(row({ model: "a" }), row({ model: "b", aliases: ["a"] })))
    expect(alias.message).toBe("catalog row 1 (\"b\"): \"a\" is already defined by row 0")
    expect(alias.field).toBe("aliases")
  })
})

describe("Catalog.layerFile", () => {
  const file = JSON.stringify({
    version: "acme-9",
    updated: "2026-11-20",
    models: [{ model: "acme-large", provider: "openrouter", inputPerMTok: 2, outputPerMTok: 6 }]
  })
  const files = (contents: Record<string, string>) =>
    FileSystem.layerNoop({
      readFileString: (path) => {
        const text = contents[path]
        return text !== undefined ? Effect.succeed(text) : Effect.dieMessage(`unexpected read of ${path}`)
      }
    })

  it.effect("reads, validates and extends the built-in table", () =>
    Effect.gen(function*() {
      const catalog = yield* Catalog.Catalog.pipe(
        Effect.provide(
          Catalog.layerFile("/etc/llm/prices.json").pipe(Layer.provide(files({ "/etc/llm/prices.json": file })))
        )
      )
      expect(catalog.get("acme-large")).toEqual({ provider: "openrouter", inputPerMTok: 2, outputPerMTok: 6 })
      expect(catalog.get("gpt-4o")?.inputPerMTok).toBe(2.5)
      expect(catalog.version).toBe("acme-9")
      expect(catalog.updated).toBe("2026-11-20")
    }))

  it.effect("mode replace: the file's rows only", () =>
    Effect.gen(function*() {
      const catalog = yield* Catalog.Catalog.pipe(
        Effect.provide(
          Catalog.layerFile("/p.json", { mode: "replace" }).pipe(Layer.provide(files({ "/p.json": file })))
        )
      )
      expect(catalog.get("gpt-4o")).toBeUndefined()
      expect([...catalog.all().keys()]).toEqual(["acme-large"])
    }))

  it.effect("a missing file fails the layer with a CatalogError naming the path", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Catalog.Catalog.pipe(
          Effect.provide(Catalog.layerFile("/nope.json").pipe(Layer.provide(FileSystem.layerNoop({}))))
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        expect(error).toBeInstanceOf(Catalog.CatalogError)
        expect(error?.path).toBe("/nope.json")
        expect(error?.message).toMatch(/^cannot read the catalog file \/nope\.json: /)
      }
    }))

  it.effect("a bad row fails the layer naming the file, the row and the field", () =>
    Effect.gen(function*() {
      const broken = JSON.stringify([{ model: "x", provider: "p", inputPerMTok: -2, outputPerMTok: 1 }])
      const error = yield* Effect.flip(
        Catalog.Catalog.pipe(
          Effect.provide(Catalog.layerFile("/b.json").pipe(Layer.provide(files({ "/b.json": broken }))))
        )
      )
      expect(error).toMatchObject({ _tag: "CatalogError", path: "/b.json", row: 0, model: "x", field: "inputPerMTok" })
      expect(error.message).toBe(
        "/b.json: catalog row 0 (\"x\"): inputPerMTok: expected a non-negative number (USD per 1M tokens)"
      )
    }))
})
