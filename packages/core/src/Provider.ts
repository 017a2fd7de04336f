/**
 * The provider contract: what a provider package implements.
 *
 * A provider turns a normalized `ChatRequest` into wire calls and wire data into a
 * normalized `ChatResult` or `StreamEvent`s — nothing else. The core owns the pipeline
 * around it (model resolution, spans, cache, budget, rate limits, circuit breaking,
 * retries, timeouts, cost, metrics), so every provider gets all of it for free.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type * as ChatRequest from "./ChatRequest.js"
import type * as ChatResult from "./ChatResult.js"
import type * as LlmError from "./LlmError.js"
import type * as StreamEvent from "./StreamEvent.js"
import type * as Usage from "./Usage.js"

/**
 * What a provider can do (per provider; per-model capabilities live in the `Catalog`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Capabilities {
  readonly streaming: boolean
  readonly tools: boolean
  readonly vision: boolean
  readonly jsonSchema: boolean
  readonly embeddings: boolean
  readonly promptCaching: boolean
  readonly reasoning: boolean
  /** The provider accepts an idempotency key header. */
  readonly idempotency: boolean
}

/**
 * The deadlines of one attempt, in milliseconds (resolved from `Timeouts` and the
 * request's `timeout` override).
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolvedTimeouts {
  readonly connectMs: number
  readonly firstByteMs: number
  readonly idleMs: number
  readonly totalMs: number
}

/**
 * One call to a provider, as the pipeline hands it over.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  /** The normalized request. `request.model` is what the caller wrote. */
  readonly request: ChatRequest.ChatRequest
  /** The model name the provider understands (`gpt-4o-mini`, without `openai:`). */
  readonly model: string
  readonly timeouts: ResolvedTimeouts
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number
}

/**
 * An embeddings request.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmbedCall {
  readonly model: string
  readonly input: ReadonlyArray<string>
  readonly dimensions?: number | undefined
  readonly timeouts: ResolvedTimeouts
}

/**
 * An embeddings result.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmbedResult {
  readonly model: string
  readonly provider: string
  readonly embeddings: ReadonlyArray<ReadonlyArray<number>>
  readonly usage: Usage.Usage
}

/**
 * A provider.
 *
 * `chat` returns a `ChatResult` whose `timing` covers this attempt (`ttfbMs` = time to
 * response headers); `cost` is left out — the pipeline prices results. `chatStream`
 * emits `Start` first and `Finish` last; failures are `LlmError`s (never an
 * `HttpClientError`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Provider {
  /** The registry name: `openai`, `anthropic`, `gemini`, `ollama`, … */
  readonly name: string
  /** The wire format it speaks: `openai-chat`, `openai-responses`, `anthropic`, `gemini`. */
  readonly api: string
  readonly capabilities: Capabilities
  readonly chat: (call: Call) => Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  readonly chatStream: (call: Call) => Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  readonly embed?: ((call: EmbedCall) => Effect.Effect<EmbedResult, LlmError.LlmError>) | undefined
  /**
   * This provider's own deadlines (e.g. `Timeouts.localModels` for a model on a CPU). They
   * override the client's `Timeouts`; a request's `timeout` overrides both.
   */
  readonly timeouts?: Partial<ResolvedTimeouts> | undefined
}

/**
 * Capabilities with everything off; spread and switch on what a provider supports.
 *
 * @since 0.1.0
 * @category constructors
 */
export const noCapabilities: Capabilities = {
  streaming: false,
  tools: false,
  vision: false,
  jsonSchema: false,
  embeddings: false,
  promptCaching: false,
  reasoning: false,
  idempotency: false
}

/**
 * Capabilities with everything on.
 *
 * @since 0.1.0
 * @category constructors
 */
export const allCapabilities: Capabilities = {
  streaming: true,
  tools: true,
  vision: true,
  jsonSchema: true,
  embeddings: true,
  promptCaching: true,
  reasoning: true,
  idempotency: true
}
