/**
 * The wire format of the Anthropic Messages API (`POST /v1/messages`), as TypeScript types.
 *
 * These types describe what `@llm-fiber/anthropic` sends (`MessagesRequest`) and the
 * `providerOptions.anthropic` fields it passes through (`ProviderOptions`). Responses and
 * stream events are decoded with small hand-written guards, not typed here: Anthropic
 * adds block and event types often (server tools, compaction, fallback, …) and unknown
 * ones must be skipped, never rejected.
 *
 * @example
 * ```ts
 * import type { AnthropicWire } from "@llm-fiber/anthropic"
 *
 * const anthropic: AnthropicWire.ProviderOptions = {
 *   thinking: { type: "enabled", budget_tokens: 2048 },
 *   top_k: 40,
 *   betas: ["interleaved-thinking-2025-05-14"]
 * }
 * const request = { model: "claude-sonnet-4-5", messages: "hi", providerOptions: { anthropic } }
 * ```
 *
 * @since 0.1.0
 */

/**
 * A prompt-cache breakpoint.
 *
 * @since 0.1.0
 * @category request
 */
export interface CacheControl {
  readonly type: "ephemeral"
  readonly ttl?: "5m" | "1h"
}

/**
 * A text block.
 *
 * @since 0.1.0
 * @category request
 */
export interface TextBlock {
  readonly type: "text"
  readonly text: string
  readonly cache_control?: CacheControl
}

/**
 * An image block, as base64 data or by URL.
 *
 * @since 0.1.0
 * @category request
 */
export interface ImageBlock {
  readonly type: "image"
  readonly source:
    | { readonly type: "base64"; readonly media_type: string; readonly data: string }
    | { readonly type: "url"; readonly url: string }
  readonly cache_control?: CacheControl
}

/**
 * A tool call of the assistant.
 *
 * @since 0.1.0
 * @category request
 */
export interface ToolUseBlock {
  readonly type: "tool_use"
  readonly id: string
  readonly name: string
  readonly input: Readonly<Record<string, unknown>>
  readonly cache_control?: CacheControl
}

/**
 * The result of a tool call (in a `user` message).
 *
 * @since 0.1.0
 * @category request
 */
export interface ToolResultBlock {
  readonly type: "tool_result"
  readonly tool_use_id: string
  readonly content?: string
  readonly is_error?: boolean
  readonly cache_control?: CacheControl
}

/**
 * Extended thinking, sent back unchanged with its `signature`.
 *
 * @since 0.1.0
 * @category request
 */
export interface ThinkingBlock {
  readonly type: "thinking"
  readonly thinking: string
  readonly signature: string
}

/**
 * Thinking the safety systems encrypted; `data` is opaque and sent back unchanged.
 *
 * @since 0.1.0
 * @category request
 */
export interface RedactedThinkingBlock {
  readonly type: "redacted_thinking"
  readonly data: string
}

/**
 * Any content block llm-fiber sends.
 *
 * @since 0.1.0
 * @category request
 */
export type ContentBlock =
  | TextBlock
  | ImageBlock
  | ToolUseBlock
  | ToolResultBlock
  | ThinkingBlock
  | RedactedThinkingBlock

/**
 * A message (roles alternate; tool results travel in `user` messages).
 *
 * @since 0.1.0
 * @category request
 */
export interface Message {
  readonly role: "user" | "assistant"
  readonly content: ReadonlyArray<ContentBlock>
}

/**
 * A client tool.
 *
 * @since 0.1.0
 * @category request
 */
export interface Tool {
  readonly name: string
  readonly description?: string
  readonly input_schema: Readonly<Record<string, unknown>>
  readonly cache_control?: CacheControl
}

/**
 * Which tool the model must use.
 *
 * @since 0.1.0
 * @category request
 */
export type ToolChoice =
  | { readonly type: "auto" | "any" | "none" }
  | { readonly type: "tool"; readonly name: string }

/**
 * The body of `POST /v1/messages` as llm-fiber builds it (before `providerOptions` are merged).
 *
 * @since 0.1.0
 * @category request
 */
export interface MessagesRequest {
  readonly model: string
  readonly max_tokens: number
  readonly system?: string | ReadonlyArray<TextBlock>
  readonly messages: ReadonlyArray<Message>
  readonly tools?: ReadonlyArray<Tool>
  readonly tool_choice?: ToolChoice
  readonly temperature?: number
  readonly top_p?: number
  readonly stop_sequences?: ReadonlyArray<string>
  /** Automatic caching: the breakpoint goes on the last cacheable block. */
  readonly cache_control?: CacheControl
  readonly stream?: boolean
}

/**
 * Fields of `providerOptions.anthropic`: merged into the body last (shallow), except
 * `betas`, which is sent as the `anthropic-beta` header.
 *
 * @since 0.1.0
 * @category request
 */
export interface ProviderOptions {
  readonly thinking?:
    | { readonly type: "enabled"; readonly budget_tokens: number }
    | { readonly type: "disabled" }
    | { readonly type: "adaptive" }
    | undefined
  readonly metadata?: { readonly user_id?: string | undefined } | undefined
  readonly top_k?: number | undefined
  readonly service_tier?: "auto" | "standard_only" | undefined
  /** Beta feature names, added to the `anthropic-beta` header (not sent in the body). */
  readonly betas?: ReadonlyArray<string> | string | undefined
  readonly [key: string]: unknown
}
