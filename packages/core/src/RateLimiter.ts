/**
 * Client-side rate limits: requests and tokens per minute, per provider, per model or for
 * every call, either waiting for capacity or failing at once with a local `RateLimitError`.
 *
 * **When to use**: your provider account has RPM / TPM limits and you would rather queue
 * (or shed) calls in the client than collect 429s — many concurrent workers, batch jobs,
 * several processes sharing one API key (plug in a shared `RateLimiterStore`).
 *
 * **Details**
 * - Each rule counts calls (`rpm`) and estimated tokens (`tpm`) in a sliding window of one
 *   minute: never more than the limit in any 60 seconds. A rule's `scope` says which calls
 *   share a window: `"model"` (the default: one window per provider and model),
 *   `"provider"` (one per provider) or `"global"` (one for all). A rule with `provider` /
 *   `model` applies only to those calls; per scope and per field, the most specific rule
 *   wins, so a rule for one model overrides the general one; rules of different scopes all
 *   apply.
 * - Tokens are counted before the call: the input with the `Tokenizer` in context when the
 *   limiter is built (exact for OpenAI models; otherwise characters / 4 of messages, tool
 *   definitions and schemas, 1,600 per image, 4 per message), plus `maxTokens` or 1,024 for
 *   the output — and corrected with the real usage when the call ends (a stream at its
 *   `Finish`): lower usage gives capacity back, higher usage takes more. The estimate
 *   options (`charsPerToken`, `tokensPerImage`) replace the tokenizer's estimate for models
 *   it cannot count exactly; `estimateTokens` replaces the whole count.
 * - `mode: "wait"` (the default) delays a call until its slot, through `Clock` (so
 *   `TestClock` drives it), first come first served; `mode: "fail"` fails at once with a
 *   `RateLimitError` (`source: "local"`, `retryAfterMs`) without calling the provider.
 * - Every call it delays or rejects counts in `llm_rate_limited_total` (`provider`, `model`).
 *
 * **Gotchas**
 * - A local `RateLimitError` is not `retryable`: neither retries nor `fallback` act on it.
 * - The limiter sits outside the retry loop: a call is counted once, however many attempts
 *   it takes.
 * - Waiting is not bounded by the request's timeouts (they cover the provider call); use
 *   `maxWaitMs` to fail instead of waiting too long.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { LlmClient, RateLimiter } from "@llm-fiber/core"
 *
 * const Limited = LlmClient.layer.pipe(
 *   Layer.provide(RateLimiter.layerMemory({
 *     rules: [
 *       { scope: "model", rpm: 500, tpm: 200_000 },
 *       { scope: "model", model: "gpt-4o", tpm: 30_000 },
 *       { scope: "provider", provider: "anthropic", rpm: 50 }
 *     ],
 *     mode: "wait",
 *     maxWaitMs: 30_000
 *   }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as ChatRequest from "./ChatRequest.js"
import * as SlidingWindow from "./internal/slidingWindow.js"
import * as TokenEstimate from "./internal/tokenEstimate.js"
import * as LlmError from "./LlmError.js"
import * as Metrics from "./Metrics.js"
import * as Middleware from "./Middleware.js"
import * as Tokenizer from "./Tokenizer.js"
import type * as Usage from "./Usage.js"

// -----------------------------------------------------------------------------
// the pipeline slot
// -----------------------------------------------------------------------------

/**
 * The rate limiter in use (a pass-through unless a layer provides one).
 *
 * @since 0.1.0
 * @category tags
 */
export class RateLimiter extends Context.Reference<RateLimiter>()("@llm-fiber/core/RateLimiter", {
  defaultValue: (): Middleware.Middleware => Middleware.passthrough
}) {}

// -----------------------------------------------------------------------------
// the store
// -----------------------------------------------------------------------------

/**
 * A store failed (e.g. Redis is unreachable). The limiter then lets the call through and
 * logs a warning: a broken limiter must not stop every call.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimiterStoreError extends Data.TaggedError("RateLimiterStoreError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * One window a reservation must fit: at most `limit` cost in any `windowMs`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreLimit {
  /** The window's key (scope, names, account, and `requests` or `tokens`). */
  readonly key: string
  readonly limit: number
  readonly windowMs: number
  /** What this call counts in the window: 1 request, or its estimated tokens. */
  readonly cost: number
}

/**
 * What `reserve` decided: a slot `waitMs` from now (0: at once), or no slot within
 * `maxWaitMs` (nothing recorded; capacity returns in `retryAfterMs`).
 *
 * @since 0.1.0
 * @category models
 */
export type Reservation =
  | { readonly _tag: "Reserved"; readonly waitMs: number }
  | { readonly _tag: "Rejected"; readonly retryAfterMs: number }

/**
 * Where the windows live. Each operation is one atomic step of the algorithm, so a store
 * shared by several processes (Redis: one Lua script per operation, the server's clock)
 * keeps the limits across all of them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  /**
   * Atomically: find the earliest time, no earlier than now and than the last reservation
   * of each window, at which every window has room for its cost; if it is at most
   * `maxWaitMs` away, record the reservation `id` in every window at that time.
   */
  readonly reserve: (request: {
    readonly id: string
    readonly limits: ReadonlyArray<StoreLimit>
    readonly maxWaitMs: number
  }) => Effect.Effect<Reservation, RateLimiterStoreError>
  /** Replace the cost of reservation `id` in the given windows (0 cancels it there). */
  readonly update: (request: {
    readonly id: string
    readonly costs: ReadonlyArray<{ readonly key: string; readonly cost: number }>
  }) => Effect.Effect<void, RateLimiterStoreError>
}

/**
 * The store the rate limiter keeps its windows in (in memory unless you provide one).
 *
 * @since 0.1.0
 * @category tags
 */
export class RateLimiterStore extends Context.Tag("@llm-fiber/core/RateLimiter/RateLimiterStore")<
  RateLimiterStore,
  Store
>() {}

/**
 * A store in this process's memory (the windows of the last minute; time from `Clock`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreMemory: Effect.Effect<Store> = Effect.sync(() => {
  const store = new SlidingWindow.Store()
  return {
    reserve: (request) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => store.reserve(clock.unsafeCurrentTimeMillis(), request.id, request.limits, request.maxWaitMs))
      ),
    update: (request) => Effect.sync(() => store.update(request.id, request.costs))
  }
})

/**
 * The in-memory store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<RateLimiterStore> = Layer.effect(RateLimiterStore, makeStoreMemory)

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

/**
 * Which calls share a window: all of them, those of one provider, or those of one
 * provider and model.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "global" | "provider" | "model"

/**
 * A limit. Without `provider` / `model` it applies to every call (one window per scope
 * key); with them, only to those calls, overriding the less specific rules of its scope.
 *
 * @since 0.1.0
 * @category models
 */
export interface Rule {
  /** Default `"model"`. */
  readonly scope?: Scope | undefined
  /** Only calls to this provider (its registered name, e.g. `openai`). */
  readonly provider?: string | undefined
  /** Only calls to this model (the provider's model name, or `provider:model`). */
  readonly model?: string | undefined
  /** Requests per minute. */
  readonly rpm?: number | undefined
  /** Tokens (input + output) per minute. */
  readonly tpm?: number | undefined
}

/**
 * Options of the rate limiter.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly rules: ReadonlyArray<Rule>
  /** `"wait"` (default): delay the call until its slot; `"fail"`: fail at once. */
  readonly mode?: "wait" | "fail" | undefined
  /** In `"wait"` mode, fail at once instead when the wait would be longer (default: no bound). */
  readonly maxWaitMs?: number | undefined
  /**
   * A name for the API key or account the limits belong to, part of every window key —
   * so processes sharing a store with different keys do not share windows. Never the key
   * itself. Default `"default"`.
   */
  readonly account?: string | undefined
  /** Prefix of every window key (default `"llm-fiber:rate-limit:"`). */
  readonly keyPrefix?: string | undefined
  /**
   * Characters per token of the estimate (default 4), for models the `Tokenizer` cannot
   * count exactly.
   */
  readonly charsPerToken?: number | undefined
  /** Output allowance of a request without `maxTokens` (default 1,024). */
  readonly defaultOutputTokens?: number | undefined
  /** Tokens per image part of the estimate (default 1,600), for models the `Tokenizer` cannot count exactly. */
  readonly tokensPerImage?: number | undefined
  /** Replace the token count (input and output allowance) altogether; the `Tokenizer` is then not used. */
  readonly estimateTokens?: ((info: Middleware.CallInfo) => number) | undefined
}

/**
 * The estimate the limiter counts before a call when the `Tokenizer` cannot count the
 * model exactly: input (characters / `charsPerToken` of messages, tool calls and results,
 * tool definitions and a JSON schema; `tokensPerImage` per image; 4 per message) plus the
 * output allowance (`maxTokens`, else `defaultOutputTokens`).
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimateTokens = (
  request: ChatRequest.ChatRequest,
  options?: Pick<Options, "charsPerToken" | "defaultOutputTokens" | "tokensPerImage">
): number => TokenEstimate.totalTokens(request, options)

// -----------------------------------------------------------------------------
// the limiter
// -----------------------------------------------------------------------------

const windowMs = 60_000

interface PlannedLimit {
  readonly key: string
  readonly limit: number
  readonly tokens: boolean
}

interface Plan {
  readonly limits: ReadonlyArray<PlannedLimit>
  readonly hasTokens: boolean
  readonly describe: string
  readonly metric: Metric.Metric.Counter<number>
}

interface Permit {
  readonly id: string
  readonly plan: Plan
  readonly estimate: number
}

const scopes: ReadonlyArray<Scope> = ["global", "provider", "model"]

const checkOptions = (options: Options): string | undefined => {
  const positive = (n: number | undefined) => n === undefined || (Number.isFinite(n) && n > 0)
  if (options.mode !== undefined && options.mode !== "wait" && options.mode !== "fail") {
    return `mode must be "wait" or "fail" (got ${String(options.mode)})`
  }
  if (options.maxWaitMs !== undefined && !(options.maxWaitMs >= 0)) return "maxWaitMs must be >= 0"
  if (!positive(options.charsPerToken)) return "charsPerToken must be a positive number"
  for (const [i, rule] of options.rules.entries()) {
    if (rule.scope !== undefined && !scopes.includes(rule.scope)) {
      return `rules[${i}].scope must be "global", "provider" or "model"`
    }
    if (!positive(rule.rpm)) return `rules[${i}].rpm must be a positive number`
    if (!positive(rule.tpm)) return `rules[${i}].tpm must be a positive number`
  }
  return undefined
}

const specificity = (rule: Rule) => (rule.model !== undefined ? 2 : 0) + (rule.provider !== undefined ? 1 : 0)

const totalOf = (usage: Usage.Usage | undefined): number | undefined => {
  if (usage === undefined) return undefined
  const total = usage.totalTokens > 0 ? usage.totalTokens : usage.inputTokens + usage.outputTokens
  return total > 0 ? total : undefined
}

/** Errors that prove the request never left this process. */
const neverSent = (error: LlmError.LlmError): boolean =>
  error._tag === "CircuitOpenError" || error._tag === "BudgetExceededError" ||
  (error._tag === "RateLimitError" && error.source === "local")

/**
 * Build a rate limiter. It keeps its windows in the `RateLimiterStore` in context, or in
 * a fresh in-memory store when there is none, and counts input tokens with the
 * `Tokenizer` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Middleware.Middleware> =>
  Effect.gen(function*() {
    const invalid = checkOptions(options)
    if (invalid !== undefined) return yield* Effect.dieMessage(`RateLimiter: ${invalid}`)
    if (options.rules.every((rule) => rule.rpm === undefined && rule.tpm === undefined)) {
      return Middleware.passthrough
    }
    const store = yield* Effect.flatMap(
      Effect.serviceOption(RateLimiterStore),
      Option.match({ onNone: () => makeStoreMemory, onSome: Effect.succeed })
    )
    const tokenizer = yield* Tokenizer.Tokenizer
    return makeWith(store, tokenizer, options)
  })

const makeWith = (store: Store, tokenizer: Tokenizer.Service, options: Options): Middleware.Middleware => {
  const maxWaitMs = options.mode === "fail" ? 0 : options.maxWaitMs ?? Number.POSITIVE_INFINITY
  const prefix = (options.keyPrefix ?? "llm-fiber:rate-limit:") + encodeURIComponent(options.account ?? "default")
  const instance = globalThis.crypto.randomUUID()
  let counter = 0

  const plans = new Map<string, Plan | undefined>()
  const planFor = (info: Middleware.CallInfo): Plan | undefined => {
    const id = info.provider + "\u0000" + info.model
    if (plans.has(id)) return plans.get(id)
    const plan = buildPlan(info.provider, info.model)
    if (plans.size >= 4096) plans.clear()
    plans.set(id, plan)
    return plan
  }

  const buildPlan = (provider: string, model: string): Plan | undefined => {
    const qualified = provider + ":" + model
    const limits: Array<PlannedLimit> = []
    const described: Array<string> = []
    for (const scope of scopes) {
      const matching = options.rules
        .filter((rule) =>
          (rule.scope ?? "model") === scope &&
          (rule.provider === undefined || rule.provider === provider) &&
          (rule.model === undefined || rule.model === model || rule.model === qualified)
        )
        .map((rule, index) => ({ rule, index }))
        .sort((a, b) => specificity(a.rule) - specificity(b.rule) || a.index - b.index)
      let rpm: number | undefined
      let tpm: number | undefined
      for (const { rule } of matching) {
        if (rule.rpm !== undefined) rpm = rule.rpm
        if (rule.tpm !== undefined) tpm = rule.tpm
      }
      const base = prefix + ":" + scope +
        (scope === "global"
          ? ""
          : ":" + encodeURIComponent(provider) + (scope === "model" ? ":" + encodeURIComponent(model) : ""))
      if (rpm !== undefined) {
        limits.push({ key: base + ":requests", limit: rpm, tokens: false })
        described.push(`${rpm} requests/min per ${scope}`)
      }
      if (tpm !== undefined) {
        limits.push({ key: base + ":tokens", limit: tpm, tokens: true })
        described.push(`${tpm} tokens/min per ${scope}`)
      }
    }
    if (limits.length === 0) return undefined
    return {
      limits,
      hasTokens: limits.some((l) => l.tokens),
      describe: described.join(", "),
      metric: Metrics.rateLimited.pipe(Metric.tagged("provider", provider), Metric.tagged("model", model))
    }
  }

  const ownEstimate = options.charsPerToken !== undefined || options.tokensPerImage !== undefined
  const sanitize = (estimate: number) => Number.isFinite(estimate) && estimate > 0 ? Math.ceil(estimate) : 0

  /** Input (the tokenizer's count) plus the output allowance; conservative, corrected after the call. */
  const estimateOf = (info: Middleware.CallInfo): Effect.Effect<number> => {
    if (options.estimateTokens !== undefined) {
      const custom = options.estimateTokens
      return Effect.sync(() => sanitize(custom(info)))
    }
    return Effect.map(
      tokenizer.countRequest(info.request, { provider: info.provider, model: info.model }),
      (count) => {
        const input = count.exact || !ownEstimate ? count.inputTokens : TokenEstimate.inputTokens(info.request, options)
        return sanitize(input + TokenEstimate.outputTokens(info.request, options))
      }
    )
  }

  const storeFailed = (error: RateLimiterStoreError) =>
    Effect.logWarning("RateLimiter: the store failed; letting the call through", error)

  /** Reserve a slot and wait for it; `undefined` when the store failed (fail open). */
  const acquire = (info: Middleware.CallInfo, plan: Plan): Effect.Effect<Permit | undefined, LlmError.LlmError> =>
    Effect.flatMap(plan.hasTokens ? estimateOf(info) : Effect.succeed(0), (estimate) => reserve(info, plan, estimate))

  const reserve = (
    info: Middleware.CallInfo,
    plan: Plan,
    estimate: number
  ): Effect.Effect<Permit | undefined, LlmError.LlmError> =>
    Effect.uninterruptibleMask((restore) => {
      const id = instance + "-" + (counter++).toString(36)
      const limits = plan.limits.map((l) => ({ key: l.key, limit: l.limit, windowMs, cost: l.tokens ? estimate : 1 }))
      const permit: Permit = { id, plan, estimate }
      return store.reserve({ id, limits, maxWaitMs }).pipe(
        Effect.matchEffect({
          onFailure: (error) => Effect.as(storeFailed(error), undefined),
          onSuccess: (reservation): Effect.Effect<Permit | undefined, LlmError.LlmError> => {
            if (reservation._tag === "Rejected") {
              const retryAfterMs = Math.max(1, Math.ceil(reservation.retryAfterMs))
              return Effect.zipRight(
                Metric.increment(plan.metric),
                Effect.fail(
                  new LlmError.RateLimitError({
                    message: `${info.provider}:${info.model}: client-side rate limit reached (${plan.describe}); ` +
                      `capacity returns in ${retryAfterMs} ms`,
                    provider: info.provider,
                    model: info.model,
                    retryAfterMs,
                    source: "local"
                  }, true)
                )
              )
            }
            if (reservation.waitMs <= 0) return Effect.succeed(permit)
            return Metric.increment(plan.metric).pipe(
              Effect.zipRight(Effect.annotateCurrentSpan("llm.rate_limit.wait_ms", reservation.waitMs)),
              Effect.zipRight(restore(Effect.sleep(Duration.millis(reservation.waitMs)))),
              Effect.onInterrupt(() => release(permit)),
              Effect.as(permit)
            )
          }
        })
      )
    })

  /** Give the whole reservation back (the request was never sent). */
  const release = (permit: Permit) =>
    store.update({ id: permit.id, costs: permit.plan.limits.map((l) => ({ key: l.key, cost: 0 })) }).pipe(
      Effect.catchAll(storeFailed)
    )

  /** Replace the estimate with the real usage. */
  const correct = (permit: Permit, total: number) =>
    total === permit.estimate
      ? Effect.void
      : store.update({
        id: permit.id,
        costs: permit.plan.limits.filter((l) => l.tokens).map((l) => ({ key: l.key, cost: total }))
      }).pipe(Effect.catchAll(storeFailed))

  const settle = <A>(permit: Permit, exit: Exit.Exit<A, LlmError.LlmError>, usage: Usage.Usage | undefined) => {
    const total = totalOf(usage)
    if (total !== undefined) return permit.plan.hasTokens ? correct(permit, total) : Effect.void
    if (Exit.isFailure(exit)) {
      const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
      if (error !== undefined && neverSent(error)) return release(permit)
    }
    // no usage reported: keep the estimate (the provider may have counted the call)
    return Effect.void
  }

  return {
    chat: (info, next) => {
      const plan = planFor(info)
      if (plan === undefined) return next
      return Effect.flatMap(acquire(info, plan), (permit) =>
        permit === undefined
          ? next
          : Effect.onExit(next, (exit) => settle(permit, exit, Exit.isSuccess(exit) ? exit.value.usage : undefined)))
    },
    chatStream: (info, next) => {
      const plan = planFor(info)
      if (plan === undefined) return next
      return Stream.unwrap(Effect.map(acquire(info, plan), (permit) => {
        if (permit === undefined) return next
        let usage: Usage.Usage | undefined
        return next.pipe(
          Stream.mapChunks((chunk) => {
            for (const event of chunk) {
              if (event._tag === "Usage") usage = event.usage
              else if (event._tag === "Finish" && event.usage !== undefined) usage = event.usage
            }
            return chunk
          }),
          Stream.ensuringWith((exit) => settle(permit, exit, usage))
        )
      }))
    }
  }
}

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * A rate limiter with `options`, over the `RateLimiterStore` in context (e.g. a Redis
 * store) or, when there is none, a fresh in-memory store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault = (options: Options): Layer.Layer<RateLimiter> => Layer.effect(RateLimiter, make(options))

/**
 * A rate limiter with `options` over its own in-memory store (limits hold within this
 * process).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options: Options): Layer.Layer<RateLimiter> =>
  Layer.effect(RateLimiter, Effect.provide(make(options), layerStoreMemory))

/**
 * Use a middleware as the rate limiter.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (middleware: Middleware.Middleware): Layer.Layer<RateLimiter> =>
  Layer.succeed(RateLimiter, middleware)

/**
 * Switch the rate limiter off (pass every call through).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<RateLimiter> = Layer.succeed(RateLimiter, Middleware.passthrough)
