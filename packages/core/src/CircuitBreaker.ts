/**
 * A circuit breaker per provider and model: after repeated failures calls fail fast with
 * `CircuitOpenError` — without reaching the provider — until a probe call succeeds.
 *
 * The default slot passes every call straight through; `CircuitBreaker.layerDefault(options)`
 * switches the real breaker on, `CircuitBreaker.layer(middleware)` installs any other one.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { CircuitBreaker, LlmClient } from "@llm-fiber/core"
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(CircuitBreaker.layerDefault({ failureThreshold: 3, cooldownMs: 10_000 }))
 * )
 * ```
 *
 * **When to use**: a provider or model that is down should not cost every caller a full
 * round of retries and timeouts; with a fallback chain (`fallback: ["…"]`) an open circuit
 * moves the call straight to the next model.
 *
 * **Details**
 * - One circuit per provider and model (`openai:gpt-4o` and `openai:gpt-4o-mini` are
 *   independent).
 * - `closed` → `open` after `failureThreshold` consecutive failures (default 5), or when at
 *   least `minimumCalls` calls (default 10) in the last `windowMs` (default 60 s) failed at a
 *   rate of `failureRateThreshold` (default 0.5) or more; either rule may trip it.
 * - `open` fails fast with `CircuitOpenError` (`retryAfterMs` = the rest of the cooldown)
 *   for `cooldownMs` (default 30 s), then the next call finds it `half-open`.
 * - `half-open` lets `halfOpenMaxCalls` probes through at a time (default 1; the others fail
 *   fast); `successThreshold` successful probes (default 1) close it, a failed probe opens it
 *   again for a fresh cooldown.
 * - A failure is an error for which `isFailure` holds (default: `error.retryable` — server
 *   errors, timeouts, network errors, provider 429s). Caller errors (400/401/404/422), a
 *   local rate limit, budget or content-filter errors count as neither success nor failure.
 * - The breaker sits inside the rate limiter and outside the retries: a call that failed
 *   after all its retries is one failure. A stream is a success when it completes, a failure
 *   when it fails (before or after content); a stream the consumer stops or interrupts
 *   counts as neither.
 * - Every transition sets the `llm_circuit_state` gauge (0 closed, 1 half-open, 2 open),
 *   tagged `provider` and `model`.
 *
 * **Gotchas**
 * - `LlmClient` reads the breaker when its layer is built: provide the breaker's layer to
 *   `LlmClient.layer`, not to the program that uses the client.
 * - Time comes from `Clock`, and `open` → `half-open` happens on the next call (or state
 *   read) after the cooldown, not on a timer; the gauge reads `2` until then.
 * - State lives in the process; several processes each keep their own circuits.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import * as LlmError from "./LlmError.js"
import * as Metrics from "./Metrics.js"
import * as Middleware from "./Middleware.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@llm-fiber/core/CircuitBreaker")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The circuit breaker in use (a pass-through unless a layer provides one).
 *
 * @since 0.1.0
 * @category tags
 */
export class CircuitBreaker extends Context.Reference<CircuitBreaker>()("@llm-fiber/core/CircuitBreaker", {
  defaultValue: (): Middleware.Middleware => Middleware.passthrough
}) {}

/**
 * The state of one circuit.
 *
 * @since 0.1.0
 * @category models
 */
export type State = "closed" | "half-open" | "open"

/**
 * A circuit as seen at one moment (for tests, the CLI, health endpoints).
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitSnapshot {
  readonly provider: string
  readonly model: string
  readonly state: State
  /** Failures since the last success (closed state). */
  readonly consecutiveFailures: number
  /** Counted calls and failures in the rolling window (closed state). */
  readonly windowCalls: number
  readonly windowFailures: number
  /** Probe calls in flight (half-open state). */
  readonly probesInFlight: number
  /** Time left in the cooldown (open state). */
  readonly retryAfterMs: number | undefined
  /** Why the circuit last opened. */
  readonly reason: string | undefined
}

/**
 * A circuit breaker: the pipeline middleware plus a view of its circuits.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends Middleware.Middleware {
  readonly [TypeId]: TypeId
  /** The state of the circuit of a provider and model (`closed` when it has seen no call). */
  readonly state: (provider: string, model: string) => Effect.Effect<State>
  /** Every circuit that has seen a call. */
  readonly snapshot: Effect.Effect<ReadonlyArray<CircuitSnapshot>>
  /** Close a circuit and forget its history. */
  readonly reset: (provider: string, model: string) => Effect.Effect<void>
}

/**
 * How the breaker decides.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Consecutive failures that open the circuit (default 5; `Infinity` turns the rule off). */
  readonly failureThreshold?: number | undefined
  /** Failure rate in the window that opens the circuit, in (0, 1] (default 0.5). */
  readonly failureRateThreshold?: number | undefined
  /** Counted calls the window needs before the rate rule applies (default 10; `Infinity` turns it off). */
  readonly minimumCalls?: number | undefined
  /** The rolling window of the rate rule (default 60 000 ms). */
  readonly windowMs?: number | undefined
  /** How long an open circuit fails fast before letting a probe through (default 30 000 ms). */
  readonly cooldownMs?: number | undefined
  /** Probe calls allowed at once while half-open (default 1). */
  readonly halfOpenMaxCalls?: number | undefined
  /** Successful probes that close a half-open circuit (default 1). */
  readonly successThreshold?: number | undefined
  /** Which errors count as failures (default: `error.retryable`); the others count as neither. */
  readonly isFailure?: ((error: LlmError.LlmError) => boolean) | undefined
}

/**
 * The defaults of `make` / `layerDefault`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults = {
  failureThreshold: 5,
  failureRateThreshold: 0.5,
  minimumCalls: 10,
  windowMs: 60_000,
  cooldownMs: 30_000,
  halfOpenMaxCalls: 1,
  successThreshold: 1,
  isFailure: (error: LlmError.LlmError): boolean => error.retryable
} as const

/**
 * Is this middleware a `CircuitBreaker.Service` (one that can report its circuits)?
 *
 * @since 0.1.0
 * @category guards
 */
export const isCircuitBreaker = (u: unknown): u is Service => Predicate.hasProperty(u, TypeId)

/**
 * A circuit breaker with fresh (closed) circuits. Dies when an option is out of range.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Service> =>
  Effect.suspend(() => {
    const settings = resolveOptions(options)
    return typeof settings === "string"
      ? Effect.dieMessage(`CircuitBreaker.make: ${settings}`)
      : Effect.sync(() => unsafeMake(settings))
  })

/**
 * Use a middleware as the circuit breaker.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (middleware: Middleware.Middleware): Layer.Layer<CircuitBreaker> =>
  Layer.succeed(CircuitBreaker, middleware)

/**
 * The circuit breaker of this module, with fresh circuits each time the layer is built.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault = (options?: Options): Layer.Layer<CircuitBreaker> =>
  Layer.effect(CircuitBreaker, make(options))

/**
 * Switch the circuit breaker off (pass every call through).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<CircuitBreaker> = Layer.succeed(CircuitBreaker, Middleware.passthrough)

/**
 * The state of a circuit of the breaker in context (`closed` when that breaker is not a
 * `CircuitBreaker.Service`, e.g. the pass-through default).
 *
 * @since 0.1.0
 * @category accessors
 */
export const state = (provider: string, model: string): Effect.Effect<State> =>
  Effect.flatMap(
    CircuitBreaker,
    (breaker) => isCircuitBreaker(breaker) ? breaker.state(provider, model) : Effect.succeed<State>("closed")
  )

/**
 * Every circuit of the breaker in context (empty when it is not a `CircuitBreaker.Service`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const snapshot: Effect.Effect<ReadonlyArray<CircuitSnapshot>> = Effect.flatMap(
  CircuitBreaker,
  (breaker) => isCircuitBreaker(breaker) ? breaker.snapshot : Effect.succeed([])
)

// -----------------------------------------------------------------------------
// internal
// -----------------------------------------------------------------------------

interface Settings {
  readonly failureThreshold: number
  readonly failureRateThreshold: number
  readonly minimumCalls: number
  readonly windowMs: number
  readonly cooldownMs: number
  readonly halfOpenMaxCalls: number
  readonly successThreshold: number
  readonly isFailure: (error: LlmError.LlmError) => boolean
}

const resolveOptions = (options: Options | undefined): Settings | string => {
  const s: Settings = {
    failureThreshold: options?.failureThreshold ?? defaults.failureThreshold,
    failureRateThreshold: options?.failureRateThreshold ?? defaults.failureRateThreshold,
    minimumCalls: options?.minimumCalls ?? defaults.minimumCalls,
    windowMs: options?.windowMs ?? defaults.windowMs,
    cooldownMs: options?.cooldownMs ?? defaults.cooldownMs,
    halfOpenMaxCalls: options?.halfOpenMaxCalls ?? defaults.halfOpenMaxCalls,
    successThreshold: options?.successThreshold ?? defaults.successThreshold,
    isFailure: options?.isFailure ?? defaults.isFailure
  }
  const atLeastOne = ["failureThreshold", "minimumCalls", "halfOpenMaxCalls", "successThreshold"] as const
  for (const key of atLeastOne) {
    if (!(s[key] >= 1)) return `${key} must be at least 1 (got ${s[key]})`
  }
  if (!(s.failureRateThreshold > 0 && s.failureRateThreshold <= 1)) {
    return `failureRateThreshold must be in (0, 1] (got ${s.failureRateThreshold})`
  }
  if (!(s.windowMs > 0 && Number.isFinite(s.windowMs))) return `windowMs must be a positive number (got ${s.windowMs})`
  if (!(s.cooldownMs >= 0 && Number.isFinite(s.cooldownMs))) {
    return `cooldownMs must be a non-negative number (got ${s.cooldownMs})`
  }
  return s
}

/** The rolling window is kept in this many buckets of `windowMs / buckets` each. */
const bucketCount = 10

interface Bucket {
  index: number
  calls: number
  failures: number
}

interface Circuit {
  readonly provider: string
  readonly model: string
  readonly gauge: Metric.Metric.Gauge<number>
  state: State
  /** Bumped on every transition: outcomes of calls let in before it are ignored. */
  generation: number
  consecutiveFailures: number
  readonly buckets: Array<Bucket>
  openedAt: number
  reason: string | undefined
  probesInFlight: number
  probeSuccesses: number
}

interface Permit {
  readonly circuit: Circuit
  readonly generation: number
  readonly probe: boolean
  settled: boolean
}

type Outcome =
  | { readonly _tag: "success" }
  | { readonly _tag: "ignored" }
  | { readonly _tag: "failure"; readonly error: LlmError.LlmError }

const success: Outcome = { _tag: "success" }
const ignored: Outcome = { _tag: "ignored" }

const noTags: ReadonlyArray<MetricLabel.MetricLabel> = []

const stateCode: Record<State, number> = { closed: 0, "half-open": 1, open: 2 }

/**
 * State is a plain object per circuit, read and changed only inside `Effect.sync` blocks:
 * JavaScript runs one fiber at a time and a sync block never yields, so every decision
 * (admit, settle, transition, gauge update) is atomic without a `Ref` — and the hot path
 * costs a map lookup and a few field writes, no allocation beyond the permit.
 */
const unsafeMake = (settings: Settings): Service => {
  const circuits = new Map<string, Circuit>()
  const bucketMs = settings.windowMs / bucketCount

  const circuitFor = (provider: string, model: string): Circuit => {
    const id = provider + "\u0000" + model
    let circuit = circuits.get(id)
    if (circuit === undefined) {
      const buckets: Array<Bucket> = []
      for (let i = 0; i < bucketCount; i++) buckets.push({ index: -1, calls: 0, failures: 0 })
      circuit = {
        provider,
        model,
        gauge: Metrics.circuitStateFor(provider, model),
        state: "closed",
        generation: 0,
        consecutiveFailures: 0,
        buckets,
        openedAt: 0,
        reason: undefined,
        probesInFlight: 0,
        probeSuccesses: 0
      }
      circuits.set(id, circuit)
      setGauge(circuit)
    }
    return circuit
  }

  const transition = (c: Circuit, to: State, now: number, reason?: string): void => {
    c.state = to
    c.generation++
    c.probesInFlight = 0
    c.probeSuccesses = 0
    if (to === "open") {
      c.openedAt = now
      c.reason = reason
    }
    if (to === "closed") {
      c.consecutiveFailures = 0
      for (const b of c.buckets) {
        b.index = -1
        b.calls = 0
        b.failures = 0
      }
    }
    setGauge(c)
  }

  /** Apply the time-driven transition: open → half-open once the cooldown is over. */
  const refresh = (c: Circuit, now: number): void => {
    if (c.state === "open" && now - c.openedAt >= settings.cooldownMs) transition(c, "half-open", now)
  }

  const record = (c: Circuit, now: number, failed: boolean): void => {
    const index = Math.floor(now / bucketMs)
    const bucket = c.buckets[index % bucketCount]!
    if (bucket.index !== index) {
      bucket.index = index
      bucket.calls = 0
      bucket.failures = 0
    }
    bucket.calls++
    if (failed) bucket.failures++
  }

  const windowTotals = (c: Circuit, now: number): { calls: number; failures: number } => {
    const current = Math.floor(now / bucketMs)
    let calls = 0
    let failures = 0
    for (const b of c.buckets) {
      if (b.index > current - bucketCount && b.index <= current) {
        calls += b.calls
        failures += b.failures
      }
    }
    return { calls, failures }
  }

  /**
   * The gauge is set inside the same synchronous block as the transition, so it can never
   * lag or reorder against the state (and it takes no tags from whichever fiber passes by).
   */
  const setGauge = (c: Circuit): void => c.gauge.unsafeUpdate(stateCode[c.state], noTags)

  const retryAfterMs = (c: Circuit, now: number): number => Math.max(0, c.openedAt + settings.cooldownMs - now)

  const openError = (c: Circuit, now: number): LlmError.CircuitOpenError => {
    const name = `${c.provider}:${c.model}`
    if (c.state === "half-open") {
      return new LlmError.CircuitOpenError({
        message: `circuit half-open for ${name}: a probe call is testing the provider, other calls fail fast ` +
          `until it succeeds (opened after ${c.reason ?? "failures"}); add a fallback model or retry shortly`,
        provider: c.provider,
        model: c.model
      }, true)
    }
    const left = retryAfterMs(c, now)
    return new LlmError.CircuitOpenError({
      message: `circuit open for ${name} after ${c.reason ?? "failures"}; calls fail fast for ` +
        `${(left / 1000).toFixed(1)} s more (cooldown ${settings.cooldownMs / 1000} s); add a fallback model or ` +
        `retry after the cooldown`,
      provider: c.provider,
      model: c.model,
      retryAfterMs: left
    }, true)
  }

  /** Let a call in (a permit) or refuse it (the error). */
  const admit = (c: Circuit, now: number): Permit | LlmError.CircuitOpenError => {
    refresh(c, now)
    switch (c.state) {
      case "closed":
        return { circuit: c, generation: c.generation, probe: false, settled: false }
      case "half-open":
        if (c.probesInFlight < settings.halfOpenMaxCalls) {
          c.probesInFlight++
          return { circuit: c, generation: c.generation, probe: true, settled: false }
        }
        return openError(c, now)
      case "open":
        return openError(c, now)
    }
  }

  const settle = (permit: Permit, outcome: Outcome, now: number): void => {
    if (permit.settled) return
    permit.settled = true
    const c = permit.circuit
    // the circuit moved on since this call was let in: its outcome no longer says anything
    if (permit.generation !== c.generation) return
    if (permit.probe) {
      c.probesInFlight--
      if (outcome._tag === "success") {
        c.probeSuccesses++
        if (c.probeSuccesses >= settings.successThreshold) transition(c, "closed", now)
      } else if (outcome._tag === "failure") {
        transition(c, "open", now, `a failed probe (${outcome.error._tag})`)
      }
      return
    }
    if (outcome._tag === "success") {
      c.consecutiveFailures = 0
      record(c, now, false)
    } else if (outcome._tag === "failure") {
      c.consecutiveFailures++
      record(c, now, true)
      const last = outcome.error._tag
      if (c.consecutiveFailures >= settings.failureThreshold) {
        transition(c, "open", now, `${c.consecutiveFailures} consecutive failures (last: ${last})`)
        return
      }
      const { calls, failures } = windowTotals(c, now)
      if (calls >= settings.minimumCalls && failures / calls >= settings.failureRateThreshold) {
        transition(
          c,
          "open",
          now,
          `${failures} failures in the last ${calls} calls within ${settings.windowMs / 1000} s (last: ${last})`
        )
      }
    }
  }

  const admitEffect = (info: Middleware.CallInfo): Effect.Effect<Permit | LlmError.CircuitOpenError> =>
    Effect.clockWith((clock) =>
      Effect.sync(() => admit(circuitFor(info.provider, info.model), clock.unsafeCurrentTimeMillis()))
    )

  const settleEffect = (permit: Permit, outcome: Outcome): Effect.Effect<void> =>
    Effect.clockWith((clock) => Effect.sync(() => settle(permit, outcome, clock.unsafeCurrentTimeMillis())))

  const outcomeOf = (cause: Cause.Cause<LlmError.LlmError>): Outcome => {
    const failure = Cause.failureOption(cause)
    // interruption and defects say nothing about the provider's health
    if (Option.isNone(failure)) return ignored
    return settings.isFailure(failure.value) ? { _tag: "failure", error: failure.value } : ignored
  }

  const isPermit = (u: Permit | LlmError.CircuitOpenError): u is Permit => !(u instanceof LlmError.CircuitOpenError)

  const chat: Middleware.Middleware["chat"] = (info, next) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(admitEffect(info), (admitted) =>
        isPermit(admitted)
          ? Effect.onExit(
            restore(next),
            (exit) => settleEffect(admitted, Exit.isSuccess(exit) ? success : outcomeOf(exit.cause))
          )
          : Effect.fail(admitted))
    )

  const chatStream: Middleware.Middleware["chatStream"] = (info, next) =>
    Stream.unwrapScoped(
      Effect.map(
        // released when the stream ends in any way; a no-op when the outcome is already settled
        Effect.acquireRelease(
          admitEffect(info),
          (admitted) => isPermit(admitted) ? settleEffect(admitted, ignored) : Effect.void
        ),
        (admitted) =>
          isPermit(admitted)
            ? next.pipe(
              Stream.tapErrorCause((cause) => settleEffect(admitted, outcomeOf(cause))),
              // runs only when the provider's stream has completed
              Stream.concat(Stream.execute(settleEffect(admitted, success)))
            )
            : Stream.fail(admitted)
      )
    )

  const snapshotOf = (c: Circuit, now: number): CircuitSnapshot => {
    const totals = windowTotals(c, now)
    return {
      provider: c.provider,
      model: c.model,
      state: c.state,
      consecutiveFailures: c.consecutiveFailures,
      windowCalls: totals.calls,
      windowFailures: totals.failures,
      probesInFlight: c.probesInFlight,
      retryAfterMs: c.state === "open" ? retryAfterMs(c, now) : undefined,
      reason: c.reason
    }
  }

  return {
    [TypeId]: TypeId,
    chat,
    chatStream,
    state: (provider, model) =>
      Effect.clockWith((clock) =>
        Effect.sync((): State => {
          const c = circuits.get(provider + "\u0000" + model)
          if (c === undefined) return "closed"
          refresh(c, clock.unsafeCurrentTimeMillis())
          return c.state
        })
      ),
    snapshot: Effect.clockWith((clock) =>
      Effect.sync(() => {
        const now = clock.unsafeCurrentTimeMillis()
        return Array.from(circuits.values(), (c) => {
          refresh(c, now)
          return snapshotOf(c, now)
        })
      })
    ),
    reset: (provider, model) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const c = circuits.get(provider + "\u0000" + model)
          if (c === undefined) return
          transition(c, "closed", clock.unsafeCurrentTimeMillis())
          c.reason = undefined
        })
      )
  }
}
