/**
 * When and how often a failed provider call is tried again.
 *
 * Only errors whose `retryable` is true are retried (timeouts, network errors, 408/409/
 * 429/5xx/529 — never 400/401/403/404/422, budget or circuit errors). The delay before
 * retry `n` comes from an Effect `Schedule` (default: exponential from 500 ms, doubling,
 * capped at 8 s, with full jitter); when the provider sent `Retry-After` /
 * `retry-after-ms`, that delay is used instead — and when it is longer than
 * `maxRetryAfterMs`, the call fails at once with the provider's error (which carries
 * `retryAfterMs`) rather than waiting minutes. At most `maxRetries` retries (default 2,
 * as the official SDKs); a request's own `maxRetries` overrides it. A stream is retried
 * only while none of its content has reached the caller.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { RetryPolicy } from "@llm-fiber/core"
 *
 * const Retries = RetryPolicy.layer({ maxRetries: 5, schedule: Schedule.spaced("1 second") })
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import type * as LlmError from "./LlmError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Delays between attempts; its input is the error that failed the attempt. */
  readonly schedule: Schedule.Schedule<unknown, LlmError.LlmError>
  /** How many retries after the first attempt. */
  readonly maxRetries: number
  /** The longest `Retry-After` the client will wait for. */
  readonly maxRetryAfterMs: number
  /** Which errors to retry (default: `error.retryable`). */
  readonly isRetryable: (error: LlmError.LlmError) => boolean
}

/**
 * Capped exponential backoff with full jitter: a random delay between 0 and
 * `min(cap, base * 2^n)`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const exponentialBackoff = (options?: {
  readonly baseMs?: number | undefined
  readonly capMs?: number | undefined
}): Schedule.Schedule<Duration.Duration> => {
  const base = options?.baseMs ?? 500
  const cap = options?.capMs ?? 8_000
  return Schedule.exponential(Duration.millis(base), 2).pipe(
    Schedule.modifyDelayEffect((_, delay) =>
      Effect.map(Random.nextRange(0, Math.min(cap, Duration.toMillis(delay))), Duration.millis)
    )
  )
}

/**
 * The default policy: 2 retries, capped exponential backoff with full jitter, waits for
 * `Retry-After` up to 60 s.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultPolicy: Service = {
  schedule: exponentialBackoff(),
  maxRetries: 2,
  maxRetryAfterMs: 60_000,
  isRetryable: (error) => error.retryable
}

/**
 * The retry policy in use (`defaultPolicy` unless a layer provides another).
 *
 * @since 0.1.0
 * @category tags
 */
export class RetryPolicy extends Context.Reference<RetryPolicy>()("@llm-fiber/core/RetryPolicy", {
  defaultValue: (): Service => defaultPolicy
}) {}

/**
 * A policy built from the default with some fields replaced.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Partial<Service>): Layer.Layer<RetryPolicy> =>
  Layer.succeed(RetryPolicy, { ...defaultPolicy, ...options })

/**
 * Never retry.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<RetryPolicy> = layer({ maxRetries: 0 })
