/**
 * The shape every pipeline concern shares.
 *
 * `LlmClient` runs each call through, in order: `ResponseCache` → `Budget` →
 * `RateLimiter` → `CircuitBreaker` → (retries and timeouts) → the provider. Each of the
 * four named concerns is a `Middleware`: given what the call is and the rest of the
 * pipeline (`next`), it returns the call's effect or stream — it may answer on its own
 * (a cache hit), fail fast (an open circuit), wait (a rate limit) or observe the result
 * (settling a budget). Their defaults pass straight through; providing a layer switches a
 * concern on without touching `LlmClient`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { CircuitBreaker, Middleware } from "@llm-fiber/core"
 *
 * // a toy concern: log every call
 * const logging: Middleware.Middleware = {
 *   chat: (info, next) => Effect.tap(next, () => Effect.log(`served ${info.provider}:${info.model}`)),
 *   chatStream: (_info, next) => next
 * }
 * const Logging = CircuitBreaker.layer(logging)
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type * as CallContext from "./CallContext.js"
import type * as ChatRequest from "./ChatRequest.js"
import type * as ChatResult from "./ChatResult.js"
import type * as LlmError from "./LlmError.js"
import type * as Metrics from "./Metrics.js"
import type * as Provider from "./Provider.js"
import type * as StreamEvent from "./StreamEvent.js"

/**
 * What a middleware knows about the call.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallInfo {
  readonly operation: "chat" | "stream"
  readonly request: ChatRequest.ChatRequest
  /** The resolved provider name. */
  readonly provider: string
  /** The model name the provider understands. */
  readonly model: string
  /** The provider itself (capabilities, wire format). */
  readonly implementation: Provider.Provider
  /** The context bound where the call runs (`CallContext.bind`). */
  readonly context: CallContext.CallContext
  /** The call's metrics (tagged `provider`, `model` and the context's metric labels). */
  readonly metrics: Metrics.CallMetrics
  /**
   * Tell the client what the response cache did (`hit` / `miss`), for the call's span
   * attribute `llm.cache` and log line.
   */
  readonly reportCache: (outcome: CacheOutcome) => void
}

/**
 * What the response cache did for a call.
 *
 * @since 0.1.0
 * @category models
 */
export type CacheOutcome = "hit" | "miss"

/**
 * A pipeline concern.
 *
 * @since 0.1.0
 * @category models
 */
export interface Middleware {
  readonly chat: (
    info: CallInfo,
    next: Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  ) => Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  readonly chatStream: (
    info: CallInfo,
    next: Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  ) => Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
}

/**
 * The middleware that does nothing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const passthrough: Middleware = {
  chat: (_info, next) => next,
  chatStream: (_info, next) => next
}
