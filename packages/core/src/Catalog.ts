/**
 * Model capabilities and prices, used to put a `cost` on every result.
 *
 * Prices are US dollars per million tokens. A dated snapshot name
 * (`gpt-4.1-nano-2025-04-14`) is priced as its base model. A model that is not in the
 * table gets no `cost` (never a silent 0).
 *
 * @example
 * ```ts
 * import { Catalog } from "@llm-fiber/core"
 *
 * // price a private fine-tune like its base model
 * const Prices = Catalog.layer({
 *   models: { "ft:gpt-4o-mini:acme": { provider: "openai", inputPerMTok: 0.3, outputPerMTok: 1.2 } }
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type * as Usage from "./Usage.js"

/**
 * One row of the catalog.
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelInfo {
  readonly provider: string
  /** USD per 1M input tokens (uncached). */
  readonly inputPerMTok: number
  /** USD per 1M output tokens (reasoning included). */
  readonly outputPerMTok: number
  /** USD per 1M input tokens read from the prompt cache (defaults to the input price). */
  readonly cachedInputPerMTok?: number | undefined
  /** USD per 1M input tokens written to the prompt cache (defaults to the input price). */
  readonly cacheWritePerMTok?: number | undefined
  readonly contextWindow?: number | undefined
  readonly maxOutputTokens?: number | undefined
  /** Where the numbers come from, and when they were checked. */
  readonly source?: string | undefined
  readonly checked?: string | undefined
}

const openaiPricing = "https://platform.openai.com/docs/pricing"

/**
 * The built-in table (OpenAI for now; Anthropic and Gemini rows come with their providers).
 *
 * @since 0.1.0
 * @category models
 */
export const defaultModels: Readonly<Record<string, ModelInfo>> = {
  "gpt-4o": {
    provider: "openai",
    inputPerMTok: 2.5,
    outputPerMTok: 10,
    cachedInputPerMTok: 1.25,
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    source: openaiPricing,
    checked: "2025-08"
  },
  // the first gpt-4o snapshot kept its launch price; later ones cost what "gpt-4o" costs
  "gpt-4o-2024-05-13": {
    provider: "openai",
    inputPerMTok: 5,
    outputPerMTok: 15,
    contextWindow: 128_000,
    maxOutputTokens: 4_096,
    source: openaiPricing,
    checked: "2025-08"
  },
  "gpt-4o-mini": {
    provider: "openai",
    inputPerMTok: 0.15,
    outputPerMTok: 0.6,
    cachedInputPerMTok: 0.075,
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    source: openaiPricing,
    checked: "2025-08"
  },
  "gpt-4.1": {
    provider: "openai",
    inputPerMTok: 2,
    outputPerMTok: 8,
    cachedInputPerMTok: 0.5,
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    source: openaiPricing,
    checked: "2025-08"
  },
  "gpt-4.1-mini": {
    provider: "openai",
    inputPerMTok: 0.4,
    outputPerMTok: 1.6,
    cachedInputPerMTok: 0.1,
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    source: openaiPricing,
    checked: "2025-08"
  },
  "gpt-4.1-nano": {
    provider: "openai",
    inputPerMTok: 0.1,
    outputPerMTok: 0.4,
    cachedInputPerMTok: 0.025,
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    source: openaiPricing,
    checked: "2025-08"
  },
  "gpt-5": {
    provider: "openai",
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cachedInputPerMTok: 0.125,
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    source: openaiPricing,
    checked: "2025-08"
  },
  "gpt-5-mini": {
    provider: "openai",
    inputPerMTok: 0.25,
    outputPerMTok: 2,
    cachedInputPerMTok: 0.025,
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    source: openaiPricing,
    checked: "2025-08"
  },
  "gpt-5-nano": {
    provider: "openai",
    inputPerMTok: 0.05,
    outputPerMTok: 0.4,
    cachedInputPerMTok: 0.005,
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    source: openaiPricing,
    checked: "2025-08"
  },
  "o3": {
    provider: "openai",
    inputPerMTok: 2,
    outputPerMTok: 8,
    cachedInputPerMTok: 0.5,
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    source: openaiPricing,
    checked: "2025-08"
  },
  "o4-mini": {
    provider: "openai",
    inputPerMTok: 1.1,
    outputPerMTok: 4.4,
    cachedInputPerMTok: 0.275,
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    source: openaiPricing,
    checked: "2025-08"
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The row for a model (exact name, then its undated base name). */
  readonly get: (model: string) => ModelInfo | undefined
  /** Cost of a usage at a model's prices; `undefined` when the model is not priced. */
  readonly cost: (model: string, usage: Usage.Usage) => Usage.Cost | undefined
  /** Every row. */
  readonly all: () => ReadonlyMap<string, ModelInfo>
}

/** `-2025-04-14` (OpenAI), `-20250929` (Anthropic), `-0613` (older OpenAI) */
const datedSuffix = /-\d{4}-\d{2}-\d{2}$|-\d{8}$|-\d{4}$/

/**
 * The cost of a usage at the given prices. Cached reads and cache writes are charged at
 * their own rates; everything else of the input at the input rate.
 *
 * @since 0.1.0
 * @category pricing
 */
export const costOf = (info: ModelInfo, usage: Usage.Usage): Usage.Cost => {
  const cached = usage.cachedInputTokens ?? 0
  const written = usage.cacheWriteTokens ?? 0
  const plain = Math.max(0, usage.inputTokens - cached - written)
  const inputUsd = (plain * info.inputPerMTok + cached * (info.cachedInputPerMTok ?? info.inputPerMTok) +
    written * (info.cacheWritePerMTok ?? info.inputPerMTok)) / 1e6
  const outputUsd = (usage.outputTokens * info.outputPerMTok) / 1e6
  return { inputUsd, outputUsd, totalUsd: inputUsd + outputUsd }
}

/**
 * A catalog with your own rows on top of the built-in ones.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: { readonly models?: Readonly<Record<string, ModelInfo>> | undefined } = {}): Service => {
  const rows = new Map(Object.entries({ ...defaultModels, ...options.models }))
  const get = (model: string): ModelInfo | undefined => {
    const exact = rows.get(model)
    if (exact !== undefined) return exact
    const base = model.replace(datedSuffix, "")
    return base !== model ? rows.get(base) : undefined
  }
  return {
    get,
    cost: (model, usage) => {
      const info = get(model)
      return info === undefined ? undefined : costOf(info, usage)
    },
    all: () => rows
  }
}

/**
 * The catalog in use (the built-in table unless a layer provides another).
 *
 * @since 0.1.0
 * @category tags
 */
export class Catalog extends Context.Reference<Catalog>()("@llm-fiber/core/Catalog", {
  defaultValue: () => make()
}) {}

/**
 * A catalog with extra or overriding rows.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: { readonly models?: Readonly<Record<string, ModelInfo>> | undefined }) =>
  Layer.succeed(Catalog, make(options))
