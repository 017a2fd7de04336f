/**
 * Budgets and cost ceilings: a call that cannot fit is rejected before anything is sent; the
 * real cost settles the reservation.
 *
 * **When to use**: a call must never cost more than X (`costCeilingUsd` on the request, or
 * a default for every call), or spend must stay within limits per user, per tag or for the
 * whole client, per minute, hour, day, month or in total — across concurrent calls and, with
 * a shared ledger (`@llm-fiber/redis`), across processes. Also the place that writes the
 * usage log (`UsageLog`).
 *
 * **Details**
 * - Before a call: its input tokens are counted with the `Tokenizer` (exact for OpenAI
 *   models), its output allowed `maxTokens` (else `defaultOutputTokens`, 4,096, capped at
 *   the model's maximum output), and its worst case priced at `Catalog` prices (uncached
 *   input; cache-write rates when the request carries a prompt-cache hint; long-context
 *   rates above their threshold). A call whose worst case is above its ceiling, or does not
 *   fit a matching limit, fails with `BudgetExceededError` before any byte is sent and
 *   counts in `llm_budget_rejections_total`. An exact fit is allowed.
 * - A fitting call reserves its worst case (micro-USD and tokens) in every matching counter
 *   at once (`Ledger.reserve`, atomic across keys: concurrent calls never overspend
 *   together). When it ends, the reservation is settled to the real usage and cost (the
 *   difference is given back or, rarely, taken); a failed or interrupted call gives its
 *   whole reservation back. A stream settles from its `Finish` usage; a stream that ends
 *   without usage is charged its input plus the output it streamed (counted by the
 *   `Tokenizer`), or nothing when it failed before any content.
 * - Limits: `scope` `"client"` (every call), `"user"` (one counter per user: the request's
 *   `user`, else the bound `CallContext` `userId`; calls without a user are not counted) or
 *   `{ tag }` (calls whose bound context carries the tag); `window` `minute`, `hour`, `day`,
 *   `month` (calendar periods in UTC, from `Clock`) or `total`; `usd` and/or `tokens`. A
 *   limit with neither only tracks usage (`Budget.usage`).
 * - A model without a catalog price (`onUnknownPrice`): with a ceiling or a USD limit in
 *   play the call is rejected (`"reject"`, the default: a bound that cannot be checked is
 *   not a bound) or allowed (`"allow"`: ceilings are skipped, USD limits count it as free,
 *   token limits still apply). Price your own models with `Catalog.layer`.
 * - The ledger fails (Redis down, `onLedgerError`): `"reject"` (the default, fail closed)
 *   rejects the call with a `BudgetExceededError` of scope `ledger`; `"allow"` lets it
 *   through unbudgeted. Both log a warning. A failed settlement is logged and never fails
 *   a call that succeeded.
 * - Response-cache hits never reach the budget (the cache sits before it): they cost
 *   nothing and reserve nothing.
 * - The default slot (no layer) still honours a request's own `costCeilingUsd`, with the
 *   `Catalog` and `Tokenizer` in the calling fiber's context; `Budget.layerDisabled` turns
 *   even that off.
 *
 * **Gotchas**
 * - The settlement charges what the provider reports. A call without `maxTokens` may
 *   produce more than `defaultOutputTokens`, and an estimated (non-OpenAI) input may be
 *   short: the counter can then end above its limit — later calls are rejected until the
 *   window rolls over. Set `maxTokens` for a hard bound.
 * - `remaining` and `usage` include the reservations of calls still in flight.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Budget, CallContext, LlmClient } from "@llm-fiber/core"
 *
 * const Budgeted = LlmClient.layer.pipe(
 *   Layer.provide(Budget.layerMemory({
 *     limits: [
 *       { scope: "user", window: "day", usd: 1 },
 *       { scope: "client", window: "month", usd: 500 }
 *     ],
 *     costCeilingUsd: 0.05
 *   }))
 * )
 *
 * const answer = LlmClient.chat({ model: "gpt-4o-mini", messages: "Hi", maxTokens: 200 }).pipe(
 *   CallContext.bind({ userId: "u-42" }),
 *   Effect.catchTag("BudgetExceededError", (e) => Effect.succeed(`over budget (${e.scope})`))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import * as Catalog from "./Catalog.js"
import type * as ChatRequest from "./ChatRequest.js"
import type * as ChatResult from "./ChatResult.js"
import * as Windows from "./internal/budgetWindows.js"
import * as LlmError from "./LlmError.js"
import * as Middleware from "./Middleware.js"
import * as Tokenizer from "./Tokenizer.js"
import type * as Usage from "./Usage.js"
import * as UsageLog from "./UsageLog.js"

// -----------------------------------------------------------------------------
// ledgers
// -----------------------------------------------------------------------------

/**
 * A ledger failed (e.g. Redis is unreachable).
 *
 * @since 0.1.0
 * @category errors
 */
export class LedgerError extends Data.TaggedError("LedgerError")<{
  readonly ledger: string
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * An amount in a ledger, in integers so that sums are exact: micro-USD (1 USD =
 * 1,000,000) and tokens.
 *
 * @since 0.1.0
 * @category models
 */
export interface Amount {
  readonly microUsd: number
  readonly tokens: number
}

/**
 * One counter a reservation must fit: the amount spent and reserved under `key` (a scope
 * and window, e.g. `llm-fiber:budget:user:u-42:day:2026-11-22`) plus the new amount may
 * not pass the limits it has (a missing limit does not bound that unit).
 *
 * @since 0.1.0
 * @category models
 */
export interface LedgerEntry {
  readonly key: string
  readonly limitMicroUsd?: number | undefined
  readonly limitTokens?: number | undefined
  /** How long the counter lives after its last change (its window plus a margin). */
  readonly ttlMs: number
}

/**
 * What `reserve` decided: reserved under every key, or rejected (nothing recorded) with
 * the first key that could not fit and what it already held.
 *
 * @since 0.1.0
 * @category models
 */
export type ReserveResult =
  | { readonly _tag: "Reserved" }
  | { readonly _tag: "Rejected"; readonly key: string; readonly used: Amount }

/**
 * Where budget counters live. Each operation is atomic across all its keys, so a ledger
 * shared by several processes (Redis: one Lua script per operation) never lets them
 * overspend together.
 *
 * @since 0.1.0
 * @category models
 */
export interface Ledger {
  /** `memory`, `redis`… (log lines). */
  readonly name: string
  /** Atomically: when `amount` fits every entry, add it to each; otherwise change nothing. */
  readonly reserve: (
    entries: ReadonlyArray<LedgerEntry>,
    amount: Amount
  ) => Effect.Effect<ReserveResult, LedgerError>
  /** Add `delta` (may be negative: settling below the reservation) to each key. */
  readonly adjust: (
    keys: ReadonlyArray<{ readonly key: string; readonly ttlMs: number }>,
    delta: Amount
  ) => Effect.Effect<void, LedgerError>
  /** What a key holds (spent plus reserved); zero when it does not exist. */
  readonly read: (key: string) => Effect.Effect<Amount, LedgerError>
}

/**
 * The ledger budgets keep their counters in (a fresh in-memory one per budget unless you
 * provide one, e.g. `RedisBudget.layerLedger` from `@llm-fiber/redis`).
 *
 * @since 0.1.0
 * @category tags
 */
export class BudgetLedger extends Context.Tag("@llm-fiber/core/Budget/BudgetLedger")<BudgetLedger, Ledger>() {}

const zero: Amount = { microUsd: 0, tokens: 0 }

/**
 * A ledger in this process's memory: every operation is one synchronous step (atomic
 * within the process), counters expire `ttlMs` after their last change (time from
 * `Clock`), and a counter never goes below zero.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLedgerMemory: Effect.Effect<Ledger> = Effect.sync(() => {
  interface Counter {
    microUsd: number
    tokens: number
    expiresAt: number
  }
  const counters = new Map<string, Counter>()
  let operations = 0
  const live = (key: string, now: number): Counter | undefined => {
    const counter = counters.get(key)
    if (counter !== undefined && counter.expiresAt <= now) {
      counters.delete(key)
      return undefined
    }
    return counter
  }
  const sweep = (now: number) => {
    if (++operations % 1024 !== 0) return
    for (const [key, counter] of counters) if (counter.expiresAt <= now) counters.delete(key)
  }
  const add = (key: string, amount: Amount, ttlMs: number, now: number) => {
    const counter = live(key, now)
    if (counter === undefined) {
      counters.set(key, {
        microUsd: Math.max(0, amount.microUsd),
        tokens: Math.max(0, amount.tokens),
        expiresAt: now + ttlMs
      })
    } else {
      counter.microUsd = Math.max(0, counter.microUsd + amount.microUsd)
      counter.tokens = Math.max(0, counter.tokens + amount.tokens)
      counter.expiresAt = now + ttlMs
    }
  }
  const now = Effect.clockWith((clock) => Effect.sync(() => clock.unsafeCurrentTimeMillis()))
  return {
    name: "memory",
    reserve: (entries, amount) =>
      Effect.map(now, (at): ReserveResult => {
        sweep(at)
        // a key listed n times takes the amount n times (as the Redis ledger's script does)
        const seen = new Map<string, number>()
        for (const entry of entries) {
          const times = (seen.get(entry.key) ?? 0) + 1
          seen.set(entry.key, times)
          const counter = live(entry.key, at)
          const used = counter === undefined ? zero : { microUsd: counter.microUsd, tokens: counter.tokens }
          if (
            (entry.limitMicroUsd !== undefined && used.microUsd + times * amount.microUsd > entry.limitMicroUsd) ||
            (entry.limitTokens !== undefined && used.tokens + times * amount.tokens > entry.limitTokens)
          ) return { _tag: "Rejected", key: entry.key, used }
        }
        for (const entry of entries) add(entry.key, amount, entry.ttlMs, at)
        return { _tag: "Reserved" }
      }),
    adjust: (keys, delta) =>
      Effect.map(now, (at) => {
        sweep(at)
        for (const { key, ttlMs } of keys) add(key, delta, ttlMs, at)
      }),
    read: (key) =>
      Effect.map(now, (at): Amount => {
        const counter = live(key, at)
        return counter === undefined ? zero : { microUsd: counter.microUsd, tokens: counter.tokens }
      })
  }
})

/**
 * The in-memory ledger as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLedgerMemory: Layer.Layer<BudgetLedger> = Layer.effect(BudgetLedger, makeLedgerMemory)

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

/**
 * Which calls a limit counts: all of them (`client`), each user's on its own (`user`), or
 * those whose bound context carries a tag.
 *
 * @since 0.1.0
 * @category models
 */
export type LimitScope = "client" | "user" | { readonly tag: string }

/**
 * A limit's period: a calendar minute, hour, day or month in UTC, or no end (`total`).
 *
 * @since 0.1.0
 * @category models
 */
export type Window = Windows.Window

/**
 * A limit: at most `usd` and/or `tokens` per `window` in its `scope`. With neither, the
 * counter only tracks usage.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limit {
  readonly scope: LimitScope
  readonly window: Window
  readonly usd?: number | undefined
  readonly tokens?: number | undefined
}

/**
 * Options of a budget.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Aggregate limits (default none). Limits of the same scope and window share one counter. */
  readonly limits?: ReadonlyArray<Limit> | undefined
  /** The most one call may cost (USD) when its request sets no `costCeilingUsd`. */
  readonly costCeilingUsd?: number | undefined
  /** Output allowance of a request without `maxTokens` (default 4,096, capped at the model's maximum output). */
  readonly defaultOutputTokens?: number | undefined
  /** Prefix of every ledger key (default `"llm-fiber:budget:"`). */
  readonly keyPrefix?: string | undefined
  /** When the ledger fails: `"reject"` the call (default, fail closed) or `"allow"` it unbudgeted. */
  readonly onLedgerError?: "reject" | "allow" | undefined
  /** A model without a catalog price under a ceiling or a USD limit: `"reject"` (default) or `"allow"`. */
  readonly onUnknownPrice?: "reject" | "allow" | undefined
  /** Where to log every call's usage (default: the `UsageLog` in context, if any). */
  readonly usageLog?: UsageLog.Writer | undefined
}

/**
 * The defaults of the options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults = {
  defaultOutputTokens: 4_096,
  keyPrefix: "llm-fiber:budget:",
  onLedgerError: "reject",
  onUnknownPrice: "reject"
} as const

/**
 * Whose counters to read: the client's, one user's, or one tag's.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "client" | { readonly user: string } | { readonly tag: string }

/**
 * A counter of the current period: what it holds (spent plus in-flight reservations), its
 * limits and what remains of them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Balance {
  /** `client`, `user:<id>` or `tag:<name>`. */
  readonly scope: string
  readonly window: Window
  /** The current period: `2026-11-22T10:31`, `2026-11-22T10`, `2026-11-22`, `2026-11` or `total`. */
  readonly period: string
  /** When the period ends (epoch ms); `undefined` for `total`. */
  readonly resetsAt: number | undefined
  readonly usedUsd: number
  readonly usedTokens: number
  readonly limitUsd: number | undefined
  readonly limitTokens: number | undefined
  /** `limitUsd - usedUsd`, never below 0; `undefined` without a USD limit. */
  readonly remainingUsd: number | undefined
  /** `limitTokens - usedTokens`, never below 0; `undefined` without a token limit. */
  readonly remainingTokens: number | undefined
}

/**
 * A call's worst case, as the budget estimates it before sending.
 *
 * @since 0.1.0
 * @category models
 */
export interface Estimate {
  readonly inputTokens: number
  /** `true` when the input count is exact (`Tokenizer`). */
  readonly exactInput: boolean
  /** The output allowance: `maxTokens`, else the default. */
  readonly outputTokens: number
  /** At catalog prices; `undefined` when the model has no price. */
  readonly usd: number | undefined
}

// -----------------------------------------------------------------------------
// the service
// -----------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@llm-fiber/core/Budget")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A budget: the pipeline middleware plus a view of its counters.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends Middleware.Middleware {
  readonly [TypeId]: TypeId
  /** The limits, as configured. */
  readonly limits: ReadonlyArray<Limit>
  /** The counters of a scope that have a limit, with what remains in the current period. */
  readonly remaining: (scope: Scope) => Effect.Effect<ReadonlyArray<Balance>, LedgerError>
  /** Every counter of a scope (tracking-only ones too) in the current period. */
  readonly usage: (scope: Scope) => Effect.Effect<ReadonlyArray<Balance>, LedgerError>
}

/**
 * Is this middleware a `Budget.Service` (one that can report its counters)?
 *
 * @since 0.1.0
 * @category guards
 */
export const isBudget = (u: unknown): u is Service => Predicate.hasProperty(u, TypeId)

/**
 * The budget in use. Without a layer: no limits, but a request's own `costCeilingUsd` is
 * still enforced (with the `Catalog` and `Tokenizer` in the calling fiber's context).
 *
 * @since 0.1.0
 * @category tags
 */
export class Budget extends Context.Reference<Budget>()("@llm-fiber/core/Budget", {
  defaultValue: (): Middleware.Middleware => ceilingsOnly
}) {}

// -----------------------------------------------------------------------------
// internals
// -----------------------------------------------------------------------------

interface Settings {
  readonly limits: ReadonlyArray<Limit>
  readonly counters: ReadonlyArray<CounterSpec>
  readonly costCeilingUsd: number | undefined
  readonly defaultOutputTokens: number
  readonly keyPrefix: string
  readonly onLedgerError: "reject" | "allow"
  readonly onUnknownPrice: "reject" | "allow"
}

/** The limits of one scope and window, merged (the lowest of each unit wins). */
interface CounterSpec {
  readonly kind: "client" | "user" | "tag"
  readonly tag: string | undefined
  readonly window: Window
  readonly usd: number | undefined
  readonly tokens: number | undefined
}

interface Deps {
  readonly catalog: Catalog.Service
  readonly tokenizer: Tokenizer.Service
  readonly ledger: Ledger | undefined
  readonly usageLog: UsageLog.Writer | undefined
}

/** One counter a call reserves in. */
interface Planned {
  readonly spec: CounterSpec
  readonly scope: string
  readonly entry: LedgerEntry
}

interface Plan {
  readonly target: Tokenizer.Target
  readonly estimate: Estimate
  readonly row: Catalog.ModelInfo | undefined
  readonly counters: ReadonlyArray<Planned>
  readonly amount: Amount
}

/** What a settled call used (the ledger's units and the usage log's fields). */
interface Actual {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens: number
  readonly tokens: number
  readonly costUsd: number | null
}

const windowNames: Record<Window, string> = {
  minute: "per-minute",
  hour: "hourly",
  day: "daily",
  month: "monthly",
  total: "total"
}

const checkOptions = (options: Options): string | undefined => {
  const positive = (n: unknown) => n === undefined || (typeof n === "number" && Number.isFinite(n) && n > 0)
  for (const [i, limit] of (options.limits ?? []).entries()) {
    const scope: unknown = limit.scope
    if (
      scope !== "client" && scope !== "user" &&
      !(Predicate.isRecord(scope) && typeof scope.tag === "string" && scope.tag !== "")
    ) return `limits[${i}].scope must be "client", "user" or { tag: "name" }`
    if (!Windows.windows.includes(limit.window)) {
      return `limits[${i}].window must be "minute", "hour", "day", "month" or "total"`
    }
    if (!positive(limit.usd)) return `limits[${i}].usd must be a positive number`
    if (!positive(limit.tokens)) return `limits[${i}].tokens must be a positive number`
  }
  if (!positive(options.costCeilingUsd)) return "costCeilingUsd must be a positive number"
  if (
    options.defaultOutputTokens !== undefined &&
    !(Number.isInteger(options.defaultOutputTokens) && options.defaultOutputTokens > 0)
  ) return "defaultOutputTokens must be a positive integer"
  for (const key of ["onLedgerError", "onUnknownPrice"] as const) {
    const value = options[key]
    if (value !== undefined && value !== "reject" && value !== "allow") return `${key} must be "reject" or "allow"`
  }
  return undefined
}

const minDefined = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b)

const resolveSettings = (options: Options): Settings => {
  const limits = options.limits ?? []
  const counters: Array<CounterSpec> = []
  for (const limit of limits) {
    const kind = typeof limit.scope === "string" ? limit.scope : "tag"
    const tag = typeof limit.scope === "string" ? undefined : limit.scope.tag
    const i = counters.findIndex((c) => c.kind === kind && c.tag === tag && c.window === limit.window)
    const same = i >= 0 ? counters[i] : undefined
    const merged: CounterSpec = {
      kind,
      tag,
      window: limit.window,
      usd: minDefined(same?.usd, limit.usd),
      tokens: minDefined(same?.tokens, limit.tokens)
    }
    if (i >= 0) counters[i] = merged
    else counters.push(merged)
  }
  return {
    limits,
    counters,
    costCeilingUsd: options.costCeilingUsd,
    defaultOutputTokens: options.defaultOutputTokens ?? defaults.defaultOutputTokens,
    keyPrefix: options.keyPrefix ?? defaults.keyPrefix,
    onLedgerError: options.onLedgerError ?? defaults.onLedgerError,
    onUnknownPrice: options.onUnknownPrice ?? defaults.onUnknownPrice
  }
}

const userOf = (info: Middleware.CallInfo): string | undefined => info.request.user ?? info.context.userId

const scopeLabel = (spec: CounterSpec, user: string | undefined): string =>
  spec.kind === "client" ? "client" : spec.kind === "user" ? `user:${user}` : `tag:${spec.tag}`

const describeScope = (spec: CounterSpec, user: string | undefined): string =>
  spec.kind === "client" ? "the client" : spec.kind === "user" ? `user "${user}"` : `tag "${spec.tag}"`

const keyOf = (prefix: string, spec: CounterSpec, user: string | undefined, period: Windows.Period): string =>
  prefix +
  (spec.kind === "client"
    ? "client"
    : spec.kind === "user"
    ? "user:" + encodeURIComponent(user ?? "")
    : "tag:" + encodeURIComponent(spec.tag ?? "")) +
  ":" + spec.window + ":" + period.id

/** The counters a call reserves in (a user counter only when the call has a user). */
const matching = (settings: Settings, info: Middleware.CallInfo): ReadonlyArray<CounterSpec> => {
  if (settings.counters.length === 0) return settings.counters
  const user = userOf(info)
  const tags = info.context.tags
  return settings.counters.filter((spec) =>
    spec.kind === "client" ||
    (spec.kind === "user" ? user !== undefined : tags !== undefined && tags.includes(spec.tag!))
  )
}

const hasCacheHint = (request: ChatRequest.ChatRequest): { readonly any: boolean; readonly oneHour: boolean } => {
  let any = false
  let oneHour = false
  const see = (hint: { readonly ttl?: "5m" | "1h" | undefined } | undefined) => {
    if (hint === undefined) return
    any = true
    if (hint.ttl === "1h") oneHour = true
  }
  see(request.cache)
  for (const message of request.messages) {
    see(message.cache)
    for (const part of message.content) if ("cache" in part) see(part.cache)
  }
  for (const tool of request.tools ?? []) see(tool.cache)
  return { any, oneHour }
}

/** The worst-case cost of a call at a model's prices. */
const worstCaseUsd = (
  row: Catalog.ModelInfo,
  request: ChatRequest.ChatRequest,
  inputTokens: number,
  outputTokens: number
): number => {
  const usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }
  const plain = Catalog.costOf(row, usage).totalUsd
  const hint = hasCacheHint(request)
  if (!hint.any) return plain
  // a prompt-cache hint may write the whole input to the cache, at its (higher) rate
  const written = Catalog.costOf(
    row,
    { ...usage, cacheWriteTokens: inputTokens },
    { cacheWrite1hTokens: hint.oneHour ? inputTokens : 0 }
  ).totalUsd
  return Math.max(plain, written)
}

const estimateWith = (
  catalog: Catalog.Service,
  tokenizer: Tokenizer.Service,
  request: ChatRequest.ChatRequest,
  target: Tokenizer.Target,
  defaultOutputTokens: number
): Effect.Effect<{ readonly estimate: Estimate; readonly row: Catalog.ModelInfo | undefined }> =>
  Effect.map(tokenizer.countRequest(request, target), (count) => {
    const row = catalog.get(target.model)
    const outputTokens = request.maxTokens ??
      Math.min(defaultOutputTokens, row?.maxOutputTokens ?? Number.POSITIVE_INFINITY)
    const inputTokens = Math.max(0, Math.ceil(count.inputTokens))
    return {
      row,
      estimate: {
        inputTokens,
        exactInput: count.exact,
        outputTokens,
        usd: row === undefined ? undefined : worstCaseUsd(row, request, inputTokens, outputTokens)
      }
    }
  })

/** Tokens a usage reports; `undefined` when it reports none (a provider without usage). */
const reportedTokens = (usage: Usage.Usage | undefined): number | undefined => {
  if (usage === undefined) return undefined
  const total = usage.totalTokens > 0 ? usage.totalTokens : usage.inputTokens + usage.outputTokens
  return total > 0 ? total : undefined
}

const statusOf = (exit: Exit.Exit<unknown, LlmError.LlmError>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) return failure.value._tag
  return Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"
}

const failureOf = (exit: Exit.Exit<unknown, LlmError.LlmError>): LlmError.LlmError | undefined =>
  Exit.isSuccess(exit) ? undefined : Option.getOrUndefined(Cause.failureOption(exit.cause))

/** What a stream has shown so far (for its settlement and its usage-log line). */
interface StreamTrack {
  usage: Usage.Usage | undefined
  cost: Usage.Cost | undefined
  requestId: string | undefined
  content: boolean
  output: Array<string>
}

const newTrack = (): StreamTrack => ({
  usage: undefined,
  cost: undefined,
  requestId: undefined,
  content: false,
  output: []
})

const resultOutput = (result: ChatResult.ChatResult): string => {
  let out = result.text + (result.reasoning ?? "")
  for (const call of result.toolCalls) out += call.name + call.rawArguments
  return out
}

/** The middleware of a budget, over fixed dependencies. */
const makeCore = (settings: Settings, deps: Deps): Service => {
  const { catalog, ledger, tokenizer, usageLog } = deps

  const reject = (
    info: Middleware.CallInfo,
    fields: Omit<ConstructorParameters<typeof LlmError.BudgetExceededError>[0], "provider" | "model">
  ): Effect.Effect<never, LlmError.BudgetExceededError> =>
    Effect.zipRight(
      Metric.increment(info.metrics.budgetRejections),
      Effect.fail(new LlmError.BudgetExceededError({ ...fields, provider: info.provider, model: info.model }, true))
    )

  const describeEstimate = (estimate: Estimate) =>
    `${Windows.formatTokens(estimate.inputTokens)} input tokens${estimate.exactInput ? "" : " (estimated)"} + ${
      Windows.formatTokens(estimate.outputTokens)
    } output tokens`

  /** Count, price and check a call; the counters to reserve in (none: nothing to reserve). */
  const preflight = (
    info: Middleware.CallInfo,
    ceiling: number | undefined,
    specs: ReadonlyArray<CounterSpec>
  ): Effect.Effect<Plan | undefined, LlmError.BudgetExceededError> => {
    const target: Tokenizer.Target = { provider: info.provider, model: info.model }
    const name = `${info.provider}:${info.model}`
    return Effect.flatMap(
      estimateWith(catalog, tokenizer, info.request, target, settings.defaultOutputTokens),
      ({ estimate, row }): Effect.Effect<Plan | undefined, LlmError.BudgetExceededError> => {
        const unpricedReject = settings.onUnknownPrice === "reject"
        if (ceiling !== undefined) {
          if (estimate.usd === undefined) {
            if (unpricedReject) {
              return reject(info, {
                message: `${name}: the model has no price in the Catalog, so its cost ceiling of ${
                  Windows.formatUsd(ceiling)
                } USD cannot be checked; nothing was sent (price it with Catalog.layer, or set the budget's onUnknownPrice: "allow")`,
                scope: "call",
                limitUsd: ceiling,
                estimateTokens: estimate.inputTokens + estimate.outputTokens
              })
            }
          } else if (Windows.microUp(estimate.usd) > Windows.microDown(ceiling)) {
            return reject(info, {
              message: `${name}: the call may cost up to ${Windows.formatUsd(estimate.usd)} USD (${
                describeEstimate(estimate)
              } at catalog prices), above its cost ceiling of ${Windows.formatUsd(ceiling)} USD; nothing was sent`,
              scope: "call",
              estimateUsd: estimate.usd,
              limitUsd: ceiling,
              estimateTokens: estimate.inputTokens + estimate.outputTokens
            })
          }
        }
        if (specs.length === 0) return Effect.succeed(undefined)
        if (estimate.usd === undefined && unpricedReject) {
          const priced = specs.find((spec) => spec.usd !== undefined)
          if (priced !== undefined) {
            const scope = scopeLabel(priced, userOf(info))
            return reject(info, {
              message: `${name}: the model has no price in the Catalog, so the ${
                windowNames[priced.window]
              } USD budget of ${
                describeScope(priced, userOf(info))
              } cannot be checked; nothing was sent (price it with Catalog.layer, or set the budget's onUnknownPrice: "allow")`,
              scope,
              window: priced.window,
              limitUsd: priced.usd,
              estimateTokens: estimate.inputTokens + estimate.outputTokens
            })
          }
        }
        return Effect.map(Clock.currentTimeMillis, (now): Plan => {
          const user = userOf(info)
          const counters = specs.map((spec): Planned => {
            const period = Windows.periodOf(spec.window, now)
            return {
              spec,
              scope: scopeLabel(spec, user),
              entry: {
                key: keyOf(settings.keyPrefix, spec, user, period),
                limitMicroUsd: spec.usd === undefined ? undefined : Windows.microDown(spec.usd),
                limitTokens: spec.tokens === undefined ? undefined : Math.floor(spec.tokens),
                ttlMs: period.ttlMs
              }
            }
          })
          return {
            target,
            estimate,
            row,
            counters,
            amount: {
              microUsd: estimate.usd === undefined ? 0 : Windows.microUp(estimate.usd),
              tokens: estimate.inputTokens + estimate.outputTokens
            }
          }
        })
      }
    )
  }

  /** Reserve the plan's worst case; `false` when the ledger failed and the budget allows that. */
  const reserve = (
    info: Middleware.CallInfo,
    plan: Plan
  ): Effect.Effect<boolean, LlmError.BudgetExceededError> => {
    if (ledger === undefined) return Effect.succeed(false)
    const name = `${info.provider}:${info.model}`
    return ledger.reserve(plan.counters.map((c) => c.entry), plan.amount).pipe(
      Effect.matchEffect({
        onFailure: (error) =>
          settings.onLedgerError === "allow"
            ? Effect.as(
              Effect.logWarning(`Budget: the ${ledger.name} ledger failed; letting the call through unbudgeted`, error),
              false
            )
            : Effect.zipRight(
              Effect.logWarning(`Budget: the ${ledger.name} ledger failed; rejecting the call`, error),
              reject(info, {
                message: `${name}: the budget ledger (${ledger.name}) failed: ${error.message}; ` +
                  `the call is rejected (onLedgerError: "reject"); nothing was sent`,
                scope: "ledger",
                cause: error
              })
            ),
        onSuccess: (result) => {
          if (result._tag === "Reserved") return Effect.succeed(true)
          const counter = plan.counters.find((c) => c.entry.key === result.key) ?? plan.counters[0]!
          const { spec } = counter
          const limitMicro = counter.entry.limitMicroUsd
          const usdFailed = limitMicro !== undefined && result.used.microUsd + plan.amount.microUsd > limitMicro
          const limitTokens = counter.entry.limitTokens
          const remainingUsd = limitMicro === undefined
            ? undefined
            : Math.max(0, limitMicro - result.used.microUsd) / 1e6
          const remainingTokens = limitTokens === undefined ? undefined : Math.max(0, limitTokens - result.used.tokens)
          const what = usdFailed
            ? `${Windows.formatUsd(result.used.microUsd / 1e6)} of ${
              Windows.formatUsd(spec.usd!)
            } USD used or reserved, the call may cost up to ${Windows.formatUsd(plan.estimate.usd ?? 0)} USD`
            : `${Windows.formatTokens(result.used.tokens)} of ${
              Windows.formatTokens(limitTokens ?? 0)
            } tokens used or reserved, the call may use up to ${Windows.formatTokens(plan.amount.tokens)} tokens`
          return reject(info, {
            message: `${name}: the ${windowNames[spec.window]} budget of ${
              describeScope(spec, userOf(info))
            } cannot fit this call: ${what}; nothing was sent`,
            scope: counter.scope,
            window: spec.window,
            ...(plan.estimate.usd !== undefined ? { estimateUsd: plan.estimate.usd } : {}),
            ...(spec.usd !== undefined ? { limitUsd: spec.usd } : {}),
            ...(remainingUsd !== undefined ? { remainingUsd } : {}),
            estimateTokens: plan.amount.tokens,
            ...(limitTokens !== undefined ? { limitTokens } : {}),
            ...(remainingTokens !== undefined ? { remainingTokens } : {})
          })
        }
      })
    )
  }

  const costOfUsage = (plan: Plan, usage: Usage.Usage, reported: Usage.Cost | undefined): number | null =>
    reported !== undefined
      ? reported.totalUsd
      : plan.row === undefined
      ? null
      : Catalog.costOf(plan.row, usage).totalUsd

  /** What the call used: the reported usage, else its input count plus the output it produced. */
  const actualOf = (
    plan: Plan,
    usage: Usage.Usage | undefined,
    cost: Usage.Cost | undefined,
    output: () => string
  ): Effect.Effect<Actual> => {
    const tokens = reportedTokens(usage)
    if (usage !== undefined && tokens !== undefined) {
      return Effect.succeed({
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        cachedInputTokens: usage.cachedInputTokens ?? 0,
        tokens,
        costUsd: costOfUsage(plan, usage, cost)
      })
    }
    return Effect.map(tokenizer.countText(output(), plan.target), (counted) => {
      const outputTokens = Math.min(plan.estimate.outputTokens, counted.tokens)
      const estimated = {
        inputTokens: plan.estimate.inputTokens,
        outputTokens,
        totalTokens: plan.estimate.inputTokens + outputTokens
      }
      return {
        inputTokens: estimated.inputTokens,
        outputTokens,
        cachedInputTokens: 0,
        tokens: estimated.totalTokens,
        costUsd: costOfUsage(plan, estimated, undefined)
      }
    })
  }

  const released: Actual = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, tokens: 0, costUsd: 0 }

  /** Move the reservation to `actual` (a release when `actual` is zero). */
  const settleTo = (plan: Plan, actual: Actual): Effect.Effect<void> => {
    if (ledger === undefined) return Effect.void
    const delta: Amount = {
      microUsd: (actual.costUsd === null ? 0 : Windows.microUp(actual.costUsd)) - plan.amount.microUsd,
      tokens: actual.tokens - plan.amount.tokens
    }
    if (delta.microUsd === 0 && delta.tokens === 0) return Effect.void
    return ledger.adjust(plan.counters.map((c) => ({ key: c.entry.key, ttlMs: c.entry.ttlMs })), delta).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning(`Budget: the ${ledger.name} ledger failed to settle a call; its reservation stays`, error)
      )
    )
  }

  const writeEntry = (
    info: Middleware.CallInfo,
    start: number,
    exit: Exit.Exit<unknown, LlmError.LlmError>,
    actual: Actual,
    requestId: string | undefined
  ): Effect.Effect<void> => {
    if (usageLog === undefined) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (end) => {
      const user = userOf(info)
      const tags = info.context.tags
      const failed = failureOf(exit)
      const id = requestId ?? failed?.requestId
      return usageLog.write({
        timestamp: new Date(end).toISOString(),
        provider: info.provider,
        model: info.model,
        operation: info.operation,
        inputTokens: actual.inputTokens,
        outputTokens: actual.outputTokens,
        cachedInputTokens: actual.cachedInputTokens,
        costUsd: actual.costUsd,
        latencyMs: Math.max(0, end - start),
        status: statusOf(exit),
        ...(user !== undefined ? { userId: user } : {}),
        ...(tags !== undefined && tags.length > 0 ? { tags } : {}),
        ...(id !== undefined ? { requestId: id } : {})
      })
    })
  }

  /** A result's usage as the log reports it (no plan: nothing to estimate from). */
  const reportedActual = (result: ChatResult.ChatResult): Actual => ({
    inputTokens: result.usage.inputTokens,
    outputTokens: result.usage.outputTokens,
    cachedInputTokens: result.usage.cachedInputTokens ?? 0,
    tokens: reportedTokens(result.usage) ?? 0,
    costUsd: result.cost?.totalUsd ?? null
  })

  const ceilingOf = (info: Middleware.CallInfo) => info.request.costCeilingUsd ?? settings.costCeilingUsd

  const chat: Middleware.Middleware["chat"] = (info, next) =>
    Effect.suspend(() => {
      const ceiling = ceilingOf(info)
      const specs = matching(settings, info)
      if (ceiling === undefined && specs.length === 0 && usageLog === undefined) return next
      return Effect.flatMap(Clock.currentTimeMillis, (start) => {
        let actual: Actual | undefined
        const run = Effect.flatMap(preflight(info, ceiling, specs), (plan) =>
          plan === undefined
            ? next
            : Effect.acquireUseRelease(reserve(info, plan), () => next, (reserved, exit) => {
              if (Exit.isSuccess(exit)) {
                const result = exit.value
                return Effect.flatMap(
                  actualOf(plan, result.usage, result.cost, () => resultOutput(result)),
                  (used) => {
                    actual = used
                    return reserved ? settleTo(plan, used) : Effect.void
                  }
                )
              }
              actual = released
              return reserved ? settleTo(plan, released) : Effect.void
            }))
        if (usageLog === undefined) return run
        return Effect.onExit(run, (exit) => {
          const used = actual ?? (Exit.isSuccess(exit) ? reportedActual(exit.value) : released)
          return writeEntry(info, start, exit, used, Exit.isSuccess(exit) ? exit.value.requestId : undefined)
        })
      })
    })

  const chatStream: Middleware.Middleware["chatStream"] = (info, next) =>
    Stream.suspend(() => {
      const ceiling = ceilingOf(info)
      const specs = matching(settings, info)
      if (ceiling === undefined && specs.length === 0 && usageLog === undefined) return next
      return Stream.unwrapScoped(Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const track = newTrack()
        let reserved = false
        let settled: Actual | undefined
        let streamExit: Exit.Exit<unknown, LlmError.LlmError> | undefined

        // runs last: the call's usage-log line
        if (usageLog !== undefined) {
          yield* Effect.addFinalizer((scopeExit) =>
            Effect.suspend(() => {
              const exit = streamExit ?? (scopeExit as Exit.Exit<unknown, LlmError.LlmError>)
              const used: Actual = settled ?? (reportedTokens(track.usage) !== undefined && track.usage !== undefined
                ? {
                  inputTokens: track.usage.inputTokens,
                  outputTokens: track.usage.outputTokens,
                  cachedInputTokens: track.usage.cachedInputTokens ?? 0,
                  tokens: reportedTokens(track.usage) ?? 0,
                  costUsd: track.cost?.totalUsd ?? null
                }
                : released)
              return writeEntry(info, start, exit, used, track.requestId)
            })
          )
        }
        const plan = yield* preflight(info, ceiling, specs)

        /** Settle once (from the stream's end, or from the scope when the stream never ran). */
        const settle = (exit: Exit.Exit<unknown, LlmError.LlmError>): Effect.Effect<void> =>
          Effect.suspend(() => {
            if (settled !== undefined || plan === undefined) return Effect.void
            const p = plan
            const reportedUsage = reportedTokens(track.usage) !== undefined
            const nothingUsed = !reportedUsage && !track.content && !Exit.isSuccess(exit)
            if (nothingUsed) {
              settled = released
              return reserved ? settleTo(p, released) : Effect.void
            }
            return Effect.flatMap(actualOf(p, track.usage, track.cost, () => track.output.join("")), (used) => {
              settled = used
              return reserved ? settleTo(p, used) : Effect.void
            })
          })

        if (plan !== undefined) {
          yield* Effect.acquireRelease(
            Effect.map(reserve(info, plan), (ok) => {
              reserved = ok
            }),
            (_, exit) => settle(exit as Exit.Exit<unknown, LlmError.LlmError>)
          )
        }
        return next.pipe(
          Stream.mapChunks((chunk) => {
            for (const event of chunk) {
              switch (event._tag) {
                case "TextDelta":
                case "ReasoningDelta":
                  track.content = true
                  if (plan !== undefined) track.output.push(event.text)
                  break
                case "ToolCallStart":
                  track.content = true
                  if (plan !== undefined) track.output.push(event.name)
                  break
                case "ToolCallDelta":
                  track.content = true
                  if (plan !== undefined) track.output.push(event.argumentsDelta)
                  break
                case "Usage":
                  track.usage = event.usage
                  break
                case "Finish":
                  if (event.usage !== undefined) track.usage = event.usage
                  if (event.cost !== undefined) track.cost = event.cost
                  if (event.requestId !== undefined) track.requestId = event.requestId
                  break
              }
            }
            return chunk
          }),
          Stream.ensuringWith((exit) => {
            streamExit = exit
            return settle(exit)
          })
        )
      }))
    })

  const balances = (scope: Scope, withLimitsOnly: boolean): Effect.Effect<ReadonlyArray<Balance>, LedgerError> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const user = typeof scope === "object" && "user" in scope ? scope.user : undefined
      const specs = settings.counters.filter((spec) =>
        (!withLimitsOnly || spec.usd !== undefined || spec.tokens !== undefined) &&
        (scope === "client"
          ? spec.kind === "client"
          : "user" in scope
          ? spec.kind === "user"
          : spec.kind === "tag" && spec.tag === scope.tag)
      )
      return Effect.forEach(specs, (spec) => {
        const period = Windows.periodOf(spec.window, now)
        const read = ledger === undefined
          ? Effect.succeed(zero)
          : ledger.read(keyOf(settings.keyPrefix, spec, user, period))
        return Effect.map(read, (used): Balance => ({
          scope: scopeLabel(spec, user),
          window: spec.window,
          period: period.id,
          resetsAt: period.end,
          usedUsd: used.microUsd / 1e6,
          usedTokens: used.tokens,
          limitUsd: spec.usd,
          limitTokens: spec.tokens,
          remainingUsd: spec.usd === undefined
            ? undefined
            : Math.max(0, Windows.microDown(spec.usd) - used.microUsd) / 1e6,
          remainingTokens: spec.tokens === undefined ? undefined : Math.max(0, Math.floor(spec.tokens) - used.tokens)
        }))
      })
    })

  return {
    [TypeId]: TypeId,
    limits: settings.limits,
    chat,
    chatStream,
    remaining: (scope) => balances(scope, true),
    usage: (scope) => balances(scope, false)
  }
}

const ceilingSettings = resolveSettings({})

/** The default slot: a request's own ceiling, with the Catalog and Tokenizer of the calling fiber. */
const ceilingsOnly: Service = {
  [TypeId]: TypeId,
  limits: [],
  chat: (info, next) =>
    info.request.costCeilingUsd === undefined ? next : Effect.flatMap(
      Effect.zip(Catalog.Catalog, Tokenizer.Tokenizer),
      ([catalog, tokenizer]) =>
        makeCore(ceilingSettings, { catalog, tokenizer, ledger: undefined, usageLog: undefined }).chat(info, next)
    ),
  chatStream: (info, next) =>
    info.request.costCeilingUsd === undefined ? next : Stream.unwrap(Effect.map(
      Effect.zip(Catalog.Catalog, Tokenizer.Tokenizer),
      ([catalog, tokenizer]) =>
        makeCore(ceilingSettings, { catalog, tokenizer, ledger: undefined, usageLog: undefined }).chatStream(info, next)
    )),
  remaining: () => Effect.succeed([]),
  usage: () => Effect.succeed([])
}

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * Build a budget. It reads, where it is built: the `Catalog` (prices), the `Tokenizer`
 * (input counts), the `BudgetLedger` (a fresh in-memory ledger when there is none) and the
 * `UsageLog` (when `options.usageLog` names none). Dies when an option is out of range.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const invalid = checkOptions(options)
    if (invalid !== undefined) return yield* Effect.dieMessage(`Budget: ${invalid}`)
    const settings = resolveSettings(options)
    const catalog = yield* Catalog.Catalog
    const tokenizer = yield* Tokenizer.Tokenizer
    const ledger = settings.counters.length === 0 ? undefined : yield* Effect.flatMap(
      Effect.serviceOption(BudgetLedger),
      Option.match({ onNone: () => makeLedgerMemory, onSome: Effect.succeed })
    )
    const usageLog = options.usageLog ?? Option.getOrUndefined(yield* Effect.serviceOption(UsageLog.UsageLog))
    return makeCore(settings, { catalog, tokenizer, ledger, usageLog })
  })

/**
 * A call's worst case as a budget would estimate it (input tokens from the `Tokenizer`,
 * output `maxTokens` or `defaultOutputTokens`, priced with the `Catalog` in context) —
 * e.g. to show a price before asking.
 *
 * @since 0.1.0
 * @category estimation
 */
export const estimate = (
  request: ChatRequest.ChatRequest,
  target: Tokenizer.Target,
  options?: { readonly defaultOutputTokens?: number | undefined }
): Effect.Effect<Estimate> =>
  Effect.flatMap(
    Effect.zip(Catalog.Catalog, Tokenizer.Tokenizer),
    ([catalog, tokenizer]) =>
      Effect.map(
        estimateWith(
          catalog,
          tokenizer,
          request,
          target,
          options?.defaultOutputTokens ?? defaults.defaultOutputTokens
        ),
        (e) => e.estimate
      )
  )

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * A budget with `options`, over the `BudgetLedger` in context (e.g. Redis) or, when there
 * is none, a fresh in-memory ledger.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault = (options: Options = {}): Layer.Layer<Budget> => Layer.effect(Budget, make(options))

/**
 * A budget with `options` over its own in-memory ledger (limits hold within this process).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options: Options = {}): Layer.Layer<Budget> =>
  Layer.effect(Budget, Effect.provide(make(options), layerLedgerMemory))

/**
 * Use a middleware as the budget.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (middleware: Middleware.Middleware): Layer.Layer<Budget> => Layer.succeed(Budget, middleware)

/**
 * Switch the budget off (pass every call through, request ceilings included).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<Budget> = Layer.succeed(Budget, Middleware.passthrough)

// -----------------------------------------------------------------------------
// accessors
// -----------------------------------------------------------------------------

/**
 * What remains of each limit of a scope in the current period, from the budget in
 * context (empty when it is not a `Budget.Service`, or has no limit for that scope).
 *
 * @since 0.1.0
 * @category accessors
 */
export const remaining = (scope: Scope): Effect.Effect<ReadonlyArray<Balance>, LedgerError> =>
  Effect.flatMap(Budget, (budget) => isBudget(budget) ? budget.remaining(scope) : Effect.succeed([]))

/**
 * What each counter of a scope holds in the current period (spent plus in-flight
 * reservations), from the budget in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const usage = (scope: Scope): Effect.Effect<ReadonlyArray<Balance>, LedgerError> =>
  Effect.flatMap(Budget, (budget) => isBudget(budget) ? budget.usage(scope) : Effect.succeed([]))
