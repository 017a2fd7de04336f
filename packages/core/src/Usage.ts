/**
 * Token usage and cost, with one meaning across providers.
 *
 * - `inputTokens`: *all* input tokens, cached or not (Anthropic: `input_tokens +
 *   cache_creation_input_tokens + cache_read_input_tokens`; OpenAI `prompt_tokens`;
 *   Gemini `promptTokenCount`).
 * - `cachedInputTokens`: the part of the input read from a prompt cache.
 * - `cacheWriteTokens`: the part of the input written to a prompt cache.
 * - `outputTokens`: all output, reasoning included; `reasoningTokens` is the reasoning share.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category models
 */
export const Usage = Schema.Struct({
  inputTokens: Schema.Number,
  outputTokens: Schema.Number,
  totalTokens: Schema.Number,
  cachedInputTokens: Schema.optional(Schema.Number),
  cacheWriteTokens: Schema.optional(Schema.Number),
  reasoningTokens: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Usage = typeof Usage.Type

/**
 * Money spent on a call, in US dollars, from the catalog's prices.
 *
 * @since 0.1.0
 * @category models
 */
export const Cost = Schema.Struct({
  inputUsd: Schema.Number,
  outputUsd: Schema.Number,
  totalUsd: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type Cost = typeof Cost.Type

/**
 * Zero usage.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 }

/**
 * Build a `Usage` from input and output counts (`totalTokens` is their sum unless given).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (fields: {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly totalTokens?: number | undefined
  readonly cachedInputTokens?: number | undefined
  readonly cacheWriteTokens?: number | undefined
  readonly reasoningTokens?: number | undefined
}): Usage => {
  const out: {
    inputTokens: number
    outputTokens: number
    totalTokens: number
    cachedInputTokens?: number
    cacheWriteTokens?: number
    reasoningTokens?: number
  } = {
    inputTokens: fields.inputTokens,
    outputTokens: fields.outputTokens,
    totalTokens: fields.totalTokens ?? fields.inputTokens + fields.outputTokens
  }
  if (fields.cachedInputTokens !== undefined) out.cachedInputTokens = fields.cachedInputTokens
  if (fields.cacheWriteTokens !== undefined) out.cacheWriteTokens = fields.cacheWriteTokens
  if (fields.reasoningTokens !== undefined) out.reasoningTokens = fields.reasoningTokens
  return out
}

const addOpt = (a: number | undefined, b: number | undefined) => a === undefined ? b : b === undefined ? a : a + b

/**
 * Sum two usages (for multi-step tool loops — never for the repeated cumulative usage of
 * a single stream).
 *
 * @since 0.1.0
 * @category combinators
 */
export const add = (a: Usage, b: Usage): Usage =>
  make({
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    cachedInputTokens: addOpt(a.cachedInputTokens, b.cachedInputTokens),
    cacheWriteTokens: addOpt(a.cacheWriteTokens, b.cacheWriteTokens),
    reasoningTokens: addOpt(a.reasoningTokens, b.reasoningTokens)
  })
