/**
 * Several API keys (or deployments: a base URL and its key) behind one provider, picked
 * per request by a strategy, with keys that got a 429 skipped while they cool down.
 *
 * Provider packages accept `apiKeys` (plus `keyStrategy`) as an alternative to `apiKey`
 * and build one pool per provider instance; `KeyPool.make` builds a pool by hand, to share
 * it between providers or to read its state.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { LlmClient, ProviderRegistry, UndiciHttpClient } from "@llm-fiber/core"
 * import { OpenAI } from "@llm-fiber/openai"
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(OpenAI.layer({
 *     apiKeys: [
 *       { key: process.env.OPENAI_KEY_A!, label: "team-a" },
 *       { key: process.env.OPENAI_KEY_B!, label: "team-b", weight: 3 }
 *     ],
 *     keyStrategy: "weighted"
 *   })),
 *   Layer.provide([ProviderRegistry.layer, UndiciHttpClient.layer()])
 * )
 * ```
 *
 * **When to use**: one key's rate limit is too small for the traffic, or requests should be
 * spread over several deployments (Azure-style gateways, regional endpoints, vLLM replicas).
 *
 * **Details**
 * - Strategies: `round-robin` (default; key after key), `least-in-flight` (the key with the
 *   fewest requests under way; ties go round-robin), `weighted` (smooth weighted
 *   round-robin: deterministic, and over any `sum(weights)` consecutive picks each key is
 *   picked exactly `weight` times).
 * - A provider 429 (`RateLimitError` with `source: "provider"`) cools its key down for the
 *   error's `retryAfterMs`, else `defaultCooldownMs` (10 s); a cooling key is skipped. Since
 *   the retry policy calls the provider again, a retry after a 429 goes to another key.
 * - When every key is cooling, the key whose cooldown ends first is used
 *   (`whenAllCooling: "soonest"`, default), or the call fails at once with a local,
 *   non-retryable `RateLimitError` (`whenAllCooling: "fail"`).
 * - Keys stay `Redacted`; errors, logs and spans name a key by its label (`key#2`, or the
 *   `label` you give), never by its text.
 * - Time comes from `Clock` (so `TestClock` drives cooldowns); every decision is one
 *   synchronous step, so concurrent fibers never interleave inside it.
 *
 * **Gotchas**
 * - State lives in the process: several processes each keep their own cooldowns.
 * - A key answering 401/403 is not skipped by default; pass `cooldownFor` to do so.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as LlmError from "./LlmError.js"
import type * as Provider from "./Provider.js"
import * as ProviderConfig from "./ProviderConfig.js"

/**
 * How a key is picked for a request.
 *
 * @since 0.1.0
 * @category models
 */
export type Strategy = "round-robin" | "least-in-flight" | "weighted"

/**
 * The strategies, in documentation order.
 *
 * @since 0.1.0
 * @category constants
 */
export const strategies: ReadonlyArray<Strategy> = ["round-robin", "least-in-flight", "weighted"]

/**
 * One key of a pool: a key, or a deployment (a base URL and its key).
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyInput {
  readonly key: Redacted.Redacted | string
  /** The share of requests under the `weighted` strategy (a positive number; default 1). */
  readonly weight?: number | undefined
  /** This key's base URL, in the provider's format (default: the provider's `baseUrl`). */
  readonly baseUrl?: string | undefined
  /** The name errors, logs and spans use for this key (default `key#1`, `key#2`, …). */
  readonly label?: string | undefined
}

/**
 * A key as options accept it: a bare key or a `KeyInput`.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyEntry = KeyInput | Redacted.Redacted | string

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly keys: ReadonlyArray<KeyEntry>
  /** Default `round-robin`. */
  readonly strategy?: Strategy | undefined
  /** How long a key cools down after a 429 without a `Retry-After` (default 10 000 ms). */
  readonly defaultCooldownMs?: number | undefined
  /**
   * When every key is cooling: use the one whose cooldown ends first (`soonest`, default),
   * or fail at once with a local `RateLimitError` (`fail`).
   */
  readonly whenAllCooling?: "soonest" | "fail" | undefined
  /**
   * How long a failed request's key cools down, or `undefined` for not at all. Default: a
   * provider `RateLimitError` cools for its `retryAfterMs`, else `defaultCooldownMs`.
   */
  readonly cooldownFor?: ((error: LlmError.LlmError, defaultCooldownMs: number) => number | undefined) | undefined
  /** The provider name errors and logs use (default `llm`). */
  readonly name?: string | undefined
}

/**
 * A key handed to one request. `release` gives its slot back without an outcome
 * (interruption); `KeyPool.report` gives it back with one. Both are idempotent.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  /** The key's position in the pool (0-based). */
  readonly index: number
  readonly label: string
  readonly key: Redacted.Redacted
  readonly baseUrl: string | undefined
  readonly release: Effect.Effect<void>
}

/**
 * How a request ended: `"success"`, or its error.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = "success" | LlmError.LlmError

/**
 * What a key is doing now.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyStatus {
  readonly index: number
  readonly label: string
  readonly baseUrl: string | undefined
  readonly weight: number
  readonly inFlight: number
  /** What is left of the key's cooldown (0: available). */
  readonly coolingForMs: number
  /** Requests that ended (successes and failures). */
  readonly requests: number
  readonly failures: number
  /** Failures that cooled the key down. */
  readonly cooldowns: number
}

/**
 * The public description of a pool's key (no key text).
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyInfo {
  readonly index: number
  readonly label: string
  readonly baseUrl: string | undefined
  readonly weight: number
  readonly key: Redacted.Redacted
}

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@llm-fiber/core/KeyPool")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A pool of keys.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyPool {
  readonly [TypeId]: TypeId
  readonly strategy: Strategy
  readonly keys: ReadonlyArray<KeyInfo>
  /** Pick a key for one request (fails only with `whenAllCooling: "fail"`). */
  readonly acquire: Effect.Effect<Lease, LlmError.RateLimitError>
  /** Record how the request ended and give its key back (idempotent per lease). */
  readonly report: (lease: Lease, outcome: Outcome) => Effect.Effect<void>
  readonly snapshot: Effect.Effect<ReadonlyArray<KeyStatus>>
}

/**
 * The default cooldown of a key after a 429 without a `Retry-After`, in milliseconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCooldownMs = 10_000

/**
 * Is this value a `KeyPool`?
 *
 * @since 0.1.0
 * @category guards
 */
export const isKeyPool = (u: unknown): u is KeyPool => typeof u === "object" && u !== null && TypeId in u

interface KeyState {
  readonly info: KeyInfo
  inFlight: number
  coolUntil: number
  /** smooth weighted round-robin: the key's current weight */
  current: number
  requests: number
  failures: number
  cooldowns: number
}

class LeaseImpl implements Lease {
  settled = false
  readonly release: Effect.Effect<void>
  constructor(
    readonly index: number,
    readonly label: string,
    readonly key: Redacted.Redacted,
    readonly baseUrl: string | undefined,
    settle: (lease: LeaseImpl, outcome: Outcome | undefined, now: number) => void
  ) {
    this.release = Effect.sync(() => settle(this, undefined, 0))
  }
}

const defaultCooldownFor = (error: LlmError.LlmError, fallbackMs: number): number | undefined =>
  error._tag === "RateLimitError" && error.source === "provider" ? error.retryAfterMs ?? fallbackMs : undefined

const seconds = (ms: number): string => ms < 1000 ? `${ms} ms` : `${Math.ceil(ms / 100) / 10} s`

const invalid = (message: string): never => {
  throw new Error(`KeyPool.make: ${message}`)
}

const normalize = (entries: ReadonlyArray<KeyEntry>): Array<KeyInfo> => {
  if (entries.length === 0) invalid("`keys` is empty; give at least one key")
  const labels = new Set<string>()
  return entries.map((entry, index) => {
    const input: KeyInput = typeof entry === "string" || Redacted.isRedacted(entry) ? { key: entry } : entry
    const key = ProviderConfig.redactedKey(input.key)
    if (key === undefined) return invalid(`keys[${index}] is empty`)
    const weight = input.weight ?? 1
    if (!(Number.isFinite(weight) && weight > 0)) {
      invalid(`keys[${index}].weight must be a positive number (got ${String(weight)})`)
    }
    const given = ProviderConfig.nonEmptyString(input.label)?.trim()
    if (given !== undefined && given.includes(Redacted.value(key).trim())) {
      invalid(`keys[${index}].label must not contain the key`)
    }
    const label = given ?? `key#${index + 1}`
    if (labels.has(label)) invalid(`keys[${index}].label "${label}" is used twice`)
    labels.add(label)
    const baseUrl = ProviderConfig.nonEmptyString(input.baseUrl)
    return {
      index,
      label,
      key,
      weight,
      baseUrl: baseUrl === undefined ? undefined : ProviderConfig.trimSlash(baseUrl.trim())
    }
  })
}

/**
 * Build a pool now (no effect: for code that builds providers synchronously). Invalid
 * options (no keys, an empty key, a weight ≤ 0, a label that repeats or contains its key)
 * throw an `Error` naming the option.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (options: Options): KeyPool => {
  const strategy = options.strategy ?? "round-robin"
  if (!strategies.includes(strategy)) invalid(`unknown strategy "${String(strategy)}"`)
  const fallbackMs = options.defaultCooldownMs ?? defaultCooldownMs
  if (!(Number.isFinite(fallbackMs) && fallbackMs >= 0)) invalid("`defaultCooldownMs` must be a number ≥ 0")
  const cooldownFor = options.cooldownFor ?? defaultCooldownFor
  const failWhenAllCooling = options.whenAllCooling === "fail"
  const name = options.name ?? "llm"
  const infos = normalize(options.keys)
  const states: Array<KeyState> = infos.map((info) => ({
    info,
    inFlight: 0,
    coolUntil: 0,
    current: 0,
    requests: 0,
    failures: 0,
    cooldowns: 0
  }))
  const n = states.length
  let cursor = 0

  const settle = (lease: LeaseImpl, outcome: Outcome | undefined, now: number): void => {
    if (lease.settled) return
    lease.settled = true
    const state = states[lease.index]!
    state.inFlight--
    if (outcome === undefined) return
    state.requests++
    if (outcome === "success") return
    state.failures++
    const ms = cooldownFor(outcome, fallbackMs)
    if (ms !== undefined && ms > 0) {
      state.cooldowns++
      state.coolUntil = Math.max(state.coolUntil, now + ms)
    }
  }

  /** The key whose cooldown ends first (in cursor order on a tie). */
  const soonest = (): number => {
    let best = -1
    for (let i = 0; i < n; i++) {
      const j = (cursor + i) % n
      if (best < 0 || states[j]!.coolUntil < states[best]!.coolUntil) best = j
    }
    return best
  }

  /** Pick among the keys for which `ok` holds (at least one does). */
  const pick = (ok: (state: KeyState) => boolean): number => {
    let chosen = -1
    switch (strategy) {
      case "round-robin": {
        for (let i = 0; i < n && chosen < 0; i++) {
          const j = (cursor + i) % n
          if (ok(states[j]!)) chosen = j
        }
        break
      }
      case "least-in-flight": {
        for (let i = 0; i < n; i++) {
          const j = (cursor + i) % n
          const s = states[j]!
          if (ok(s) && (chosen < 0 || s.inFlight < states[chosen]!.inFlight)) chosen = j
        }
        break
      }
      case "weighted": {
        // smooth weighted round-robin (as nginx): exact shares, spread out, no randomness
        let total = 0
        for (let j = 0; j < n; j++) {
          const s = states[j]!
          if (!ok(s)) continue
          s.current += s.info.weight
          total += s.info.weight
          if (chosen < 0 || s.current > states[chosen]!.current) chosen = j
        }
        states[chosen]!.current -= total
        break
      }
    }
    cursor = (chosen + 1) % n
    return chosen
  }

  const lease = (index: number): Lease => {
    const state = states[index]!
    state.inFlight++
    const { baseUrl, key, label } = state.info
    return new LeaseImpl(index, label, key, baseUrl, settle)
  }

  const allCooling = (now: number): LlmError.RateLimitError => {
    const waits = states.map((s) => `${s.info.label} for ${seconds(s.coolUntil - now)}`)
    return new LlmError.RateLimitError({
      provider: name,
      source: "local",
      retryAfterMs: Math.max(0, states[soonest()]!.coolUntil - now),
      message: `${name}: every API key is cooling down after a 429 (${waits.join(", ")})`
    }, true)
  }

  const acquire: Effect.Effect<Lease, LlmError.RateLimitError> = Clock.clockWith((clock) =>
    Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      let available = false
      for (let j = 0; j < n && !available; j++) available = states[j]!.coolUntil <= now
      if (available) return Effect.succeed(lease(pick((s) => s.coolUntil <= now)))
      if (failWhenAllCooling) return Effect.fail(allCooling(now))
      const first = soonest()
      return Effect.succeed(lease(pick((s) => s === states[first])))
    })
  )

  const report = (l: Lease, outcome: Outcome): Effect.Effect<void> =>
    l instanceof LeaseImpl && l.index < n && states[l.index]!.info.key === l.key
      ? Clock.clockWith((clock) => Effect.sync(() => settle(l, outcome, clock.unsafeCurrentTimeMillis())))
      : Effect.void

  const snapshot = Clock.clockWith((clock) =>
    Effect.sync(() => {
      const now = clock.unsafeCurrentTimeMillis()
      return states.map((s): KeyStatus => ({
        index: s.info.index,
        label: s.info.label,
        baseUrl: s.info.baseUrl,
        weight: s.info.weight,
        inFlight: s.inFlight,
        coolingForMs: Math.max(0, s.coolUntil - now),
        requests: s.requests,
        failures: s.failures,
        cooldowns: s.cooldowns
      }))
    })
  )

  return { [TypeId]: TypeId, strategy, keys: infos, acquire, report, snapshot }
}

/**
 * Build a pool. Invalid options make it die with a message naming the option.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<KeyPool> => Effect.sync(() => unsafeMake(options))

// -----------------------------------------------------------------------------
// using a pool
// -----------------------------------------------------------------------------

const labelled = <E>(error: E, lease: Lease): E =>
  LlmError.isLlmError(error) ? LlmError.annotate(error, { message: `${error.message} [${lease.label}]` }) as E : error

const settleExit = (pool: KeyPool, lease: Lease, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
  if (Exit.isSuccess(exit)) return pool.report(lease, "success")
  const failure = Cause.failureOption(exit.cause)
  return Option.isSome(failure) && LlmError.isLlmError(failure.value)
    ? pool.report(lease, failure.value)
    : lease.release
}

/**
 * Run one request with a key of the pool: acquire a lease, run `f`, report the outcome
 * (success, or the `LlmError`); an interruption or a defect only releases the key. The
 * request's error names the key's label (`… [key#2]`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const withKey = <A, E, R>(
  pool: KeyPool,
  f: (lease: Lease) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | LlmError.RateLimitError, R> =>
  Effect.acquireUseRelease(
    pool.acquire,
    (lease) =>
      Effect.zipRight(
        Effect.annotateCurrentSpan("llm.api_key", lease.label),
        Effect.mapError(f(lease), (e) => labelled(e, lease))
      ),
    (lease, exit) => settleExit(pool, lease, exit)
  )

/**
 * `withKey` for a stream: the outcome is reported when the stream ends or fails; a stream
 * the consumer stops early or interrupts only releases the key.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withKeyStream = <A, E, R>(
  pool: KeyPool,
  f: (lease: Lease) => Stream.Stream<A, E, R>
): Stream.Stream<A, E | LlmError.RateLimitError, R> =>
  Stream.unwrapScoped(
    Effect.map(
      // released when the stream ends in any way; a no-op once the outcome is reported
      Effect.acquireRelease(
        Effect.tap(pool.acquire, (lease) => Effect.annotateCurrentSpan("llm.api_key", lease.label)),
        (lease) => lease.release
      ),
      (lease) =>
        f(lease).pipe(
          Stream.mapError((e) => labelled(e, lease)),
          Stream.tapErrorCause((cause) => settleExit(pool, lease, Exit.failCause(cause))),
          // runs only when the stream has completed (not when the consumer stopped it)
          Stream.concat(Stream.execute(pool.report(lease, "success")))
        )
    )
  )

// -----------------------------------------------------------------------------
// providers
// -----------------------------------------------------------------------------

/**
 * The key-pool options every provider package accepts next to `apiKey`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderOptions {
  /** Several keys (or deployments) instead of `apiKey`; one is picked per request. */
  readonly apiKeys?: ReadonlyArray<KeyEntry> | undefined
  /** How `apiKeys` are picked (default `round-robin`). */
  readonly keyStrategy?: Strategy | undefined
  /**
   * A pool built with `KeyPool.make` (to share it between providers or read its state),
   * instead of `apiKeys`.
   */
  readonly keyPool?: KeyPool | undefined
}

/**
 * What a provider built for one key of a pool overrides in its options.
 *
 * @since 0.1.0
 * @category models
 */
export interface Connection {
  readonly apiKey: Redacted.Redacted
  readonly baseUrl?: string | undefined
}

/**
 * Build a provider from its options: without a pool, `build()` as it is; with `apiKeys` or
 * a `keyPool`, one provider per key (`build({ apiKey, baseUrl })`, once) and a provider in
 * front of them that picks a key per call (`withKey` / `withKeyStream`). Giving `apiKey`
 * together with `apiKeys` or `keyPool` throws.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeProvider = (
  name: string,
  options: ProviderOptions & { readonly apiKey?: unknown },
  build: (connection?: Connection) => Provider.Provider
): Provider.Provider => {
  const configured = options.keyPool ?? (options.apiKeys !== undefined && options.apiKeys.length > 0 ?
    unsafeMake({ keys: options.apiKeys, strategy: options.keyStrategy, name }) :
    undefined)
  if (configured === undefined) return build()
  const pool: KeyPool = configured
  if (options.apiKey !== undefined) {
    throw new Error(`${name}: pass either apiKey or apiKeys/keyPool, not both`)
  }
  const providers = pool.keys.map((k) =>
    build(k.baseUrl !== undefined ? { apiKey: k.key, baseUrl: k.baseUrl } : { apiKey: k.key })
  )
  const first = providers[0]!
  const at = (lease: Lease): Provider.Provider => providers[lease.index]!
  const embeds = providers.every((p) => p.embed !== undefined)
  const context = (call: { readonly model: string }) => <E extends LlmError.LlmError>(e: E): E =>
    LlmError.withContext(e, { provider: first.name, model: call.model })
  return {
    ...first,
    chat: (call) => Effect.mapError(withKey(pool, (lease) => at(lease).chat(call)), context(call)),
    chatStream: (call) => Stream.mapError(withKeyStream(pool, (lease) => at(lease).chatStream(call)), context(call)),
    embed: embeds
      ? (call) => Effect.mapError(withKey(pool, (lease) => at(lease).embed!(call)), context(call))
      : undefined
  }
}

/**
 * Split a comma-separated list of keys (`OPENAI_API_KEYS=sk-a,sk-b`); blanks are skipped.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseKeyList = (list: Redacted.Redacted | string | undefined): ReadonlyArray<Redacted.Redacted> => {
  if (list === undefined) return []
  const text = typeof list === "string" ? list : Redacted.value(list)
  const out: Array<Redacted.Redacted> = []
  for (const part of text.split(",")) {
    const key = part.trim()
    if (key !== "") out.push(Redacted.make(key))
  }
  return out
}

/**
 * A comma-separated list of keys from `Config` (e.g. `KeyPool.configKeys("OPENAI_API_KEYS")`);
 * empty when the variable is missing.
 *
 * @since 0.1.0
 * @category utils
 */
export const configKeys = (name: string): Config.Config<ReadonlyArray<Redacted.Redacted>> =>
  Config.map(ProviderConfig.optional(Config.redacted(name)), parseKeyList)

/**
 * Settle `apiKey` against the pool options read from `Config`: a `keyPool` wins over
 * `apiKeys`, non-empty `apiKeys` win over `apiKey` (so `OPENAI_API_KEYS` may sit next to an
 * old `OPENAI_API_KEY`).
 *
 * @since 0.1.0
 * @category utils
 */
export const preferPool = <K>(
  apiKey: K | undefined,
  apiKeys: ReadonlyArray<KeyEntry> | undefined,
  keyPool: KeyPool | undefined
): { readonly apiKey: K | undefined; readonly apiKeys: ReadonlyArray<KeyEntry> | undefined } =>
  keyPool !== undefined
    ? { apiKey: undefined, apiKeys: undefined }
    : apiKeys !== undefined && apiKeys.length > 0
    ? { apiKey: undefined, apiKeys }
    : { apiKey, apiKeys: undefined }
