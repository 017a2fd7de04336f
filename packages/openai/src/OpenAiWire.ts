/**
 * The wire format of the OpenAI Chat Completions and Embeddings APIs, as TypeScript types.
 *
 * These types describe what `@llm-fiber/openai` sends (`ChatCompletionRequest`,
 * `EmbeddingRequest`) and what it reads (`ChatCompletion`, `ChatCompletionChunk`,
 * `EmbeddingResponse`). Responses are typed loosely on purpose: every field is optional
 * and `unknown`-tolerant, because OpenAI-compatible servers (Ollama, vLLM, llama.cpp,
 * Groq, DeepSeek, Mistral, xAI, Azure) add, drop and reshape fields. The provider decodes
 * them with small hand-written guards (no per-chunk `Schema` decoding on the hot path).
 *
 * Use them to type `providerOptions` passthrough values or to inspect
 * `providerMetadata`.
 *
 * @example
 * ```ts
 * import type { OpenAiWire } from "@llm-fiber/openai"
 *
 * const extra: Partial<OpenAiWire.ChatCompletionRequest> = { reasoning_effort: "low", service_tier: "flex" }
 * const request = { model: "o4-mini", messages: "hi", providerOptions: { openai: extra } }
 * ```
 *
 * @since 0.1.0
 */

/**
 * A text content part.
 *
 * @since 0.1.0
 * @category request
 */
export interface TextContentPart {
  readonly type: "text"
  readonly text: string
}

/**
 * An image content part (`url` is an `https:` URL or a `data:` URL).
 *
 * @since 0.1.0
 * @category request
 */
export interface ImageContentPart {
  readonly type: "image_url"
  readonly image_url: { readonly url: string; readonly detail?: "auto" | "low" | "high" }
}

/**
 * A tool call as the assistant made it (request and response side).
 *
 * @since 0.1.0
 * @category request
 */
export interface ToolCall {
  readonly id: string
  readonly type: "function"
  readonly function: { readonly name: string; readonly arguments: string }
}

/**
 * A message of a chat completion request.
 *
 * @since 0.1.0
 * @category request
 */
export type RequestMessage =
  | { readonly role: "system" | "developer"; readonly content: string; readonly name?: string }
  | {
    readonly role: "user"
    readonly content: string | ReadonlyArray<TextContentPart | ImageContentPart>
    readonly name?: string
  }
  | {
    readonly role: "assistant"
    readonly content: string | null
    readonly name?: string
    readonly tool_calls?: ReadonlyArray<ToolCall>
  }
  | { readonly role: "tool"; readonly tool_call_id: string; readonly content: string }

/**
 * A function tool definition.
 *
 * @since 0.1.0
 * @category request
 */
export interface FunctionTool {
  readonly type: "function"
  readonly function: {
    readonly name: string
    readonly description?: string
    readonly parameters: Readonly<Record<string, unknown>>
    readonly strict?: boolean
  }
}

/**
 * `tool_choice`.
 *
 * @since 0.1.0
 * @category request
 */
export type ToolChoice =
  | "auto"
  | "none"
  | "required"
  | { readonly type: "function"; readonly function: { readonly name: string } }

/**
 * `response_format`.
 *
 * @since 0.1.0
 * @category request
 */
export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | {
    readonly type: "json_schema"
    readonly json_schema: {
      readonly name: string
      readonly schema: Readonly<Record<string, unknown>>
      readonly description?: string
      readonly strict?: boolean
    }
  }

/**
 * The body of `POST /chat/completions` as built from a `ChatRequest` (plus anything
 * passed through `providerOptions`).
 *
 * @since 0.1.0
 * @category request
 */
export interface ChatCompletionRequest {
  readonly model: string
  readonly messages: ReadonlyArray<RequestMessage>
  readonly temperature?: number
  readonly top_p?: number
  readonly stop?: ReadonlyArray<string>
  readonly seed?: number
  /** OpenAI itself (the deprecated `max_tokens` is rejected by reasoning models). */
  readonly max_completion_tokens?: number
  /** OpenAI-compatible servers (most do not know `max_completion_tokens`). */
  readonly max_tokens?: number
  readonly tools?: ReadonlyArray<FunctionTool>
  readonly tool_choice?: ToolChoice
  readonly response_format?: ResponseFormat
  readonly stream?: boolean
  readonly stream_options?: { readonly include_usage?: boolean }
  readonly reasoning_effort?: "minimal" | "low" | "medium" | "high" | (string & {})
  readonly service_tier?: "auto" | "default" | "flex" | "priority" | (string & {})
  readonly parallel_tool_calls?: boolean
  readonly logprobs?: boolean
  readonly top_logprobs?: number
  readonly user?: string
  readonly prompt_cache_key?: string
  readonly safety_identifier?: string
  readonly store?: boolean
  readonly [key: string]: unknown
}

/**
 * `usage` of a response or of the final stream chunk. Compatible servers add their own
 * fields (`prompt_cache_hit_tokens` from DeepSeek, `queue_time` from Groq, …).
 *
 * @since 0.1.0
 * @category response
 */
export interface CompletionUsage {
  readonly prompt_tokens?: number
  readonly completion_tokens?: number
  readonly total_tokens?: number
  readonly prompt_tokens_details?: { readonly cached_tokens?: number; readonly [key: string]: unknown } | null
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number; readonly [key: string]: unknown } | null
  /** DeepSeek: prompt tokens read from its context cache. */
  readonly prompt_cache_hit_tokens?: number
  readonly [key: string]: unknown
}

/**
 * A non-streaming chat completion.
 *
 * @since 0.1.0
 * @category response
 */
export interface ChatCompletion {
  readonly id?: string
  readonly object?: string
  readonly created?: number
  readonly model?: string
  readonly choices?: ReadonlyArray<{
    readonly index?: number
    readonly message?: {
      readonly role?: string
      /** A string, `null`, or (Mistral) a list of `text` / `thinking` parts. */
      readonly content?: unknown
      readonly refusal?: string | null
      /** DeepSeek, xAI, vLLM. */
      readonly reasoning_content?: string | null
      /** Groq, Ollama, OpenRouter. */
      readonly reasoning?: string | null
      readonly tool_calls?: ReadonlyArray<Partial<ToolCall>> | null
    }
    readonly finish_reason?: string | null
  }>
  readonly usage?: CompletionUsage | null
  readonly system_fingerprint?: string | null
  readonly service_tier?: string | null
  readonly [key: string]: unknown
}

/**
 * A tool-call delta of a stream chunk: `index` identifies the call (it may be missing or
 * start at 1 on compatible servers), `id` and `function.name` usually arrive only once.
 *
 * @since 0.1.0
 * @category response
 */
export interface ToolCallDelta {
  readonly index?: number
  readonly id?: string | null
  readonly type?: "function"
  readonly function?: { readonly name?: string | null; readonly arguments?: string | null }
}

/**
 * One `data:` payload of a streamed chat completion.
 *
 * @since 0.1.0
 * @category response
 */
export interface ChatCompletionChunk {
  readonly id?: string
  readonly object?: string
  readonly created?: number
  readonly model?: string
  readonly choices?: ReadonlyArray<{
    readonly index?: number
    readonly delta?: {
      readonly role?: string
      readonly content?: unknown
      readonly refusal?: string | null
      readonly reasoning_content?: string | null
      readonly reasoning?: string | null
      readonly tool_calls?: ReadonlyArray<ToolCallDelta> | null
    }
    readonly finish_reason?: string | null
  }>
  readonly usage?: CompletionUsage | null
  /** Groq puts the usage of the final chunk here (and, lately, in `usage` too). */
  readonly x_groq?: { readonly usage?: CompletionUsage }
  readonly system_fingerprint?: string | null
  readonly service_tier?: string | null
  /** An error reported inside a stream that had started with HTTP 200. */
  readonly error?: { readonly message?: string; readonly type?: string; readonly code?: unknown }
  readonly [key: string]: unknown
}

/**
 * The body of `POST /embeddings`.
 *
 * @since 0.1.0
 * @category request
 */
export interface EmbeddingRequest {
  readonly model: string
  readonly input: ReadonlyArray<string>
  readonly dimensions?: number
}

/**
 * The response of `POST /embeddings`.
 *
 * @since 0.1.0
 * @category response
 */
export interface EmbeddingResponse {
  readonly data?: ReadonlyArray<{ readonly index?: number; readonly embedding?: ReadonlyArray<number> }>
  readonly model?: string
  readonly usage?: { readonly prompt_tokens?: number; readonly total_tokens?: number }
}

// -----------------------------------------------------------------------------
// Responses API (`POST /responses`)
// -----------------------------------------------------------------------------

/**
 * A content part of a Responses input message.
 *
 * @since 0.1.0
 * @category responses
 */
export type ResponsesInputContent =
  | { readonly type: "input_text"; readonly text: string }
  | {
    readonly type: "input_image"
    readonly image_url: string
    readonly detail: "auto" | "low" | "high" | "original"
  }

/**
 * An item of the Responses `input` list as llm-fiber builds it: messages (the assistant's
 * as plain text), function calls of earlier turns and their outputs.
 *
 * @since 0.1.0
 * @category responses
 */
export type ResponsesInputItem =
  | {
    readonly type: "message"
    readonly role: "user" | "system" | "developer"
    readonly content: string | ReadonlyArray<ResponsesInputContent>
  }
  | { readonly type: "message"; readonly role: "assistant"; readonly content: string }
  | { readonly type: "function_call"; readonly call_id: string; readonly name: string; readonly arguments: string }
  | { readonly type: "function_call_output"; readonly call_id: string; readonly output: string }

/**
 * A function tool of the Responses API (flat: no nested `function` object).
 *
 * @since 0.1.0
 * @category responses
 */
export interface ResponsesFunctionTool {
  readonly type: "function"
  readonly name: string
  readonly description?: string
  readonly parameters: Readonly<Record<string, unknown>>
  /** Required by the spec; `false` unless the tool asks for strict mode. */
  readonly strict: boolean
}

/**
 * `text.format` of the Responses API.
 *
 * @since 0.1.0
 * @category responses
 */
export type ResponsesTextFormat =
  | { readonly type: "text" }
  | { readonly type: "json_object" }
  | {
    readonly type: "json_schema"
    readonly name: string
    readonly schema: Readonly<Record<string, unknown>>
    readonly description?: string
    readonly strict?: boolean
  }

/**
 * The body of `POST /responses` as built from a `ChatRequest` (plus anything passed
 * through `providerOptions["openai-responses"]`).
 *
 * @since 0.1.0
 * @category responses
 */
export interface ResponsesRequest {
  readonly model: string
  readonly input: ReadonlyArray<ResponsesInputItem>
  readonly instructions?: string
  readonly temperature?: number
  readonly top_p?: number
  readonly max_output_tokens?: number
  readonly tools?: ReadonlyArray<ResponsesFunctionTool>
  readonly tool_choice?: "auto" | "none" | "required" | { readonly type: "function"; readonly name: string }
  readonly text?: { readonly format?: ResponsesTextFormat; readonly verbosity?: "low" | "medium" | "high" }
  readonly stream?: boolean
  /** llm-fiber sends `false` unless told otherwise (it sends the whole conversation each time). */
  readonly store?: boolean
  readonly reasoning?: {
    readonly effort?: "none" | "minimal" | "low" | "medium" | "high" | "xhigh" | (string & {})
    readonly summary?: "auto" | "concise" | "detailed"
  }
  readonly prompt_cache_key?: string
  /** Deprecated by OpenAI in favour of `prompt_cache_options.ttl`, still accepted. */
  readonly prompt_cache_retention?: "in_memory" | "24h"
  readonly previous_response_id?: string
  readonly include?: ReadonlyArray<string>
  readonly parallel_tool_calls?: boolean
  readonly service_tier?: string
  readonly safety_identifier?: string
  readonly [key: string]: unknown
}

/**
 * `usage` of a Responses `Response` object.
 *
 * @since 0.1.0
 * @category responses
 */
export interface ResponsesUsage {
  readonly input_tokens?: number
  readonly input_tokens_details?: {
    readonly cached_tokens?: number
    readonly cache_write_tokens?: number
    readonly [key: string]: unknown
  }
  readonly output_tokens?: number
  readonly output_tokens_details?: { readonly reasoning_tokens?: number; readonly [key: string]: unknown }
  readonly total_tokens?: number
  readonly [key: string]: unknown
}

/**
 * A Responses `Response` object (the non-streaming body, and the `response` of
 * `response.created` / `response.completed` / … stream events). Typed loosely: only
 * what the provider reads.
 *
 * @since 0.1.0
 * @category responses
 */
export interface ResponseObject {
  readonly id?: string
  readonly object?: "response"
  readonly model?: string
  readonly status?: "completed" | "failed" | "in_progress" | "cancelled" | "queued" | "incomplete" | (string & {})
  readonly error?: { readonly code?: string; readonly message?: string } | null
  readonly incomplete_details?: { readonly reason?: "max_output_tokens" | "content_filter" | (string & {}) } | null
  readonly output?: ReadonlyArray<{ readonly type?: string; readonly [key: string]: unknown }>
  readonly usage?: ResponsesUsage | null
  readonly service_tier?: string | null
  readonly [key: string]: unknown
}
