/**
 * Deadlines for provider calls, in milliseconds.
 *
 * - `connectMs`: opening the connection (enforced by the HTTP transport)
 * - `firstByteMs`: for streams, from sending the request to the first event
 * - `idleMs`: for streams, the longest silence between two chunks
 * - `totalMs`: one attempt from start to end (for non-streaming calls the first byte *is*
 *   the whole answer, so only this one applies)
 *
 * Each expiry fails the attempt with a `TimeoutError` whose `phase` names the deadline;
 * timeouts are retryable. A request's `timeout` field overrides any of them per call.
 *
 * The defaults suit hosted APIs. Local models on a CPU can take minutes to answer:
 * use `Timeouts.layer(Timeouts.localModels)`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type * as ChatRequest from "./ChatRequest.js"
import type * as Provider from "./Provider.js"

/**
 * Defaults for hosted APIs: connect 10 s, first event 120 s, idle 90 s, total 10 min.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hosted: Provider.ResolvedTimeouts = {
  connectMs: 10_000,
  firstByteMs: 120_000,
  idleMs: 90_000,
  totalMs: 600_000
}

/**
 * A profile for slow local models (Ollama, llama.cpp on a CPU): connect 10 s, first event
 * 10 min, idle 5 min, total 30 min.
 *
 * @since 0.1.0
 * @category constructors
 */
export const localModels: Provider.ResolvedTimeouts = {
  connectMs: 10_000,
  firstByteMs: 600_000,
  idleMs: 300_000,
  totalMs: 1_800_000
}

/**
 * The timeouts in use (`hosted` unless a layer provides others).
 *
 * @since 0.1.0
 * @category tags
 */
export class Timeouts extends Context.Reference<Timeouts>()("@llm-fiber/core/Timeouts", {
  defaultValue: (): Provider.ResolvedTimeouts => hosted
}) {}

/**
 * Use these timeouts (fields not given keep the `hosted` defaults).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (timeouts: Partial<Provider.ResolvedTimeouts>): Layer.Layer<Timeouts> =>
  Layer.succeed(Timeouts, { ...hosted, ...timeouts })

/**
 * Apply a request's per-call overrides.
 *
 * @since 0.1.0
 * @category combinators
 */
export const resolve = (
  base: Provider.ResolvedTimeouts,
  overrides: ChatRequest.TimeoutOverrides | Partial<Provider.ResolvedTimeouts> | undefined
): Provider.ResolvedTimeouts =>
  overrides === undefined ? base : {
    connectMs: overrides.connectMs ?? base.connectMs,
    firstByteMs: overrides.firstByteMs ?? base.firstByteMs,
    idleMs: overrides.idleMs ?? base.idleMs,
    totalMs: overrides.totalMs ?? base.totalMs
  }

/**
 * The deadlines of one call: the client's, then the provider's own, then the request's.
 *
 * @since 0.1.0
 * @category combinators
 */
export const forCall = (
  client: Provider.ResolvedTimeouts,
  provider: Provider.Provider,
  request: ChatRequest.TimeoutOverrides | undefined
): Provider.ResolvedTimeouts => resolve(resolve(client, provider.timeouts), request)
