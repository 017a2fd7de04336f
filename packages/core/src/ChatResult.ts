/**
 * The normalized result of a chat call — the same shape for every provider, and the
 * same value `StreamEvent.accumulate` folds a stream into.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Message from "./Message.js"
import * as Usage from "./Usage.js"

/**
 * Why generation stopped.
 *
 * - `stop`: a natural end or a stop sequence
 * - `length`: `maxTokens` or the context window was reached
 * - `tool_calls`: the model called tools and waits for their results
 * - `content_filter`: output was withheld by a content policy (or the model refused)
 * - `error`: the provider reported an error in place of a finish
 * - `other`: anything else (the provider's own reason is in `providerMetadata`)
 *
 * @since 0.1.0
 * @category models
 */
export const FinishReason = Schema.Literal("stop", "length", "tool_calls", "content_filter", "error", "other")

/**
 * @since 0.1.0
 * @category models
 */
export type FinishReason = typeof FinishReason.Type

/**
 * A tool call of the model: `arguments` is the parsed JSON (or, when the model produced
 * invalid JSON, the raw string — compare with `rawArguments`).
 *
 * @since 0.1.0
 * @category models
 */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.Unknown,
  rawArguments: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolCall = typeof ToolCall.Type

/**
 * Timing of a call: `latencyMs` end to end (retries included), `ttfbMs` until the first
 * byte of the response (for streams: the first content event).
 *
 * @since 0.1.0
 * @category models
 */
export const Timing = Schema.Struct({
  latencyMs: Schema.Number,
  ttfbMs: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Timing = typeof Timing.Type

/**
 * Provider-specific data that has no normalized field, namespaced by provider.
 *
 * @since 0.1.0
 * @category models
 */
export const ProviderMetadata = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * @since 0.1.0
 * @category models
 */
export type ProviderMetadata = typeof ProviderMetadata.Type

/**
 * A model of a fallback chain that failed before another one served the call.
 *
 * @since 0.1.0
 * @category models
 */
export const FallbackAttempt = Schema.Struct({
  /** The model as the chain named it. */
  model: Schema.String,
  /** The tag of the error that moved the call on (`ServerError`, `CircuitOpenError`, …). */
  error: Schema.String,
  message: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type FallbackAttempt = typeof FallbackAttempt.Type

/**
 * The result of `LlmClient.chat`.
 *
 * @since 0.1.0
 * @category models
 */
export class ChatResult extends Schema.Class<ChatResult>("@llm-fiber/ChatResult")({
  /** The provider's response id. */
  id: Schema.String,
  /** The model that answered, as the provider names it. */
  model: Schema.String,
  /** The provider that served the call (`openai`, `anthropic`, `ollama`, …). */
  provider: Schema.String,
  /** The assistant's text (all text parts joined). */
  text: Schema.String,
  /** The reasoning text, when the model exposed it. */
  reasoning: Schema.optional(Schema.String),
  /** The assistant message, ready to append to the conversation. */
  message: Message.AssistantMessage,
  toolCalls: Schema.Array(ToolCall),
  finishReason: FinishReason,
  usage: Usage.Usage,
  /** Cost in USD at catalog prices; absent when the model is not priced. */
  cost: Schema.optional(Usage.Cost),
  timing: Timing,
  /** The provider's request id (for support tickets). */
  requestId: Schema.optional(Schema.String),
  /** The models of `request.fallback` that failed before this one answered, in order. */
  fallbacks: Schema.optional(Schema.Array(FallbackAttempt)),
  providerMetadata: Schema.optional(ProviderMetadata),
  /**
   * `true` when the `ResponseCache` answered: `usage` and `cost` are those of the original
   * call (nothing was spent this time).
   */
  fromCache: Schema.optional(Schema.Boolean)
}) {
  /**
   * Whether part of the prompt was read from the provider's prompt cache
   * (`usage.cachedInputTokens > 0`), for every provider alike.
   *
   * @since 0.1.0
   */
  get promptCacheHit(): boolean {
    return (this.usage.cachedInputTokens ?? 0) > 0
  }
}

/**
 * Build the assistant message of a result from its text, reasoning and tool calls.
 *
 * @since 0.1.0
 * @category constructors
 */
export const assistantMessage = (
  text: string,
  toolCalls: ReadonlyArray<ToolCall>,
  reasoning?: ReadonlyArray<Message.ReasoningPart>
): Message.AssistantMessage => {
  const content: Array<Message.TextPart | Message.ToolCallPart | Message.ReasoningPart> = []
  if (reasoning !== undefined) content.push(...reasoning)
  if (text !== "") content.push({ type: "text", text })
  for (const call of toolCalls) {
    content.push({ type: "tool-call", id: call.id, name: call.name, arguments: call.arguments })
  }
  return { role: "assistant", content }
}

/**
 * Parse tool-call arguments: `{}` for an empty string, the parsed JSON value, or the raw
 * string when it is not valid JSON.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseArguments = (raw: string): unknown => {
  if (raw === "" || raw.trim() === "") return {}
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}
