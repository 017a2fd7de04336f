/**
 * A `Budget.Ledger` on Redis: budget counters (micro-USD and tokens per scope and window)
 * shared by every process that uses the same server, so that together they never spend
 * past a limit.
 *
 * **When to use**: several processes (replicas, workers) serve the same users and must share
 * their budget limits: `RedisBudget.layer(options)` is `Budget.layerDefault(options)` over
 * this ledger.
 *
 * **Details**
 * - A counter is a hash under the entry's key with the integer fields `microUsd` and
 *   `tokens`.
 * - `reserve` is one Lua script: it reads every entry's counter, and only when the amount
 *   fits all of them (`held + amount <= limit` for each limit that is set) adds it to each
 *   (`HINCRBY`) and refreshes each key's TTL (`PEXPIRE ttlMs`); otherwise it writes
 *   nothing and names the first entry that could not fit. No other command runs in
 *   between, so concurrent reservations from any number of processes cannot overspend.
 * - `adjust` adds a delta (negative when a call cost less than its reservation) to every
 *   key and refreshes their TTLs, in one script; like the in-memory ledger, a counter never
 *   goes below zero. `read` is one `HMGET`.
 * - A key listed twice in one reservation must fit the amount twice.
 * - Amounts must be integers (micro-USD, tokens); anything else is a `LedgerError`, as is
 *   any Redis failure. What the budget does then is its `onLedgerError` policy.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { LlmClient } from "@llm-fiber/core"
 * import { Redis, RedisBudget } from "@llm-fiber/redis"
 *
 * // every replica shares the limits
 * const Budgeted = LlmClient.layer.pipe(
 *   Layer.provide(RedisBudget.layer({ limits: [{ scope: "user", window: "day", usd: 1 }] })),
 *   Layer.provide(Redis.layerFromUrl("redis://127.0.0.1:6379"))
 * )
 *
 * // or the ledger itself
 * const program = Effect.gen(function*() {
 *   const ledger = yield* RedisBudget.makeLedger
 *   const day = { key: "myapp:budget:day:2026-11-22", limitMicroUsd: 50_000_000, ttlMs: 2 * 86_400_000 }
 *   const result = yield* ledger.reserve([day], { microUsd: 12_000, tokens: 3_000 })
 *   if (result._tag === "Rejected") yield* Effect.log(`over budget: ${result.used.microUsd} µUSD spent`)
 * }).pipe(Effect.provide(Redis.layerFromUrl("redis://127.0.0.1:6379")))
 * ```
 *
 * @since 0.1.0
 */
import * as Budget from "@llm-fiber/core/Budget"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scripts from "./internal/budgetScripts.js"
import * as Script from "./internal/script.js"
import * as Redis from "./Redis.js"

const ledgerError = (message: string, cause?: unknown) =>
  new Budget.LedgerError({ ledger: "redis", message, ...(cause !== undefined ? { cause } : {}) })

const redisFailed = (operation: string) => (error: Redis.RedisError) =>
  ledgerError(`Redis ledger: ${operation} failed: ${error.message}`, error)

const checkAmount = (amount: Budget.Amount): string | undefined =>
  !Number.isSafeInteger(amount.microUsd)
    ? `microUsd must be an integer (got ${amount.microUsd})`
    : !Number.isSafeInteger(amount.tokens)
    ? `tokens must be an integer (got ${amount.tokens})`
    : undefined

/** `""` for no TTL (infinite), the TTL rounded up otherwise; `undefined` when invalid. */
const ttlArg = (ttlMs: number): string | undefined =>
  ttlMs === Number.POSITIVE_INFINITY ? "" : Number.isFinite(ttlMs) && ttlMs > 0 ? String(Math.ceil(ttlMs)) : undefined

const limitArg = (limit: number | undefined): string =>
  limit === undefined || !Number.isFinite(limit) ? "" : String(limit)

const integer = (value: unknown): number => {
  if (value === null || value === undefined || value === false) return 0
  const n = Number(value)
  return Number.isFinite(n) ? n : Number.NaN
}

/**
 * A ledger over a given connection.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLedgerWith = (connection: Redis.Connection): Budget.Ledger => ({
  name: "redis",
  reserve: (entries, amount) => {
    const invalid = checkAmount(amount)
    if (invalid !== undefined) return Effect.fail(ledgerError(`Redis ledger: reserve: ${invalid}`))
    if (entries.length === 0) return Effect.succeed({ _tag: "Reserved" } as const)
    const keys: Array<string> = []
    const args: Array<string> = [String(amount.microUsd), String(amount.tokens)]
    for (const entry of entries) {
      const ttl = ttlArg(entry.ttlMs)
      if (ttl === undefined) {
        return Effect.fail(ledgerError(`Redis ledger: reserve: ${entry.key}: ttlMs must be > 0 (got ${entry.ttlMs})`))
      }
      keys.push(entry.key)
      args.push(limitArg(entry.limitMicroUsd), limitArg(entry.limitTokens), ttl)
    }
    return Script.run(connection, Scripts.reserve, keys, args).pipe(
      Effect.mapError(redisFailed("reserve")),
      Effect.flatMap((reply): Effect.Effect<Budget.ReserveResult, Budget.LedgerError> => {
        if (Array.isArray(reply) && reply[0] === 1) return Effect.succeed({ _tag: "Reserved" })
        if (Array.isArray(reply) && reply[0] === 0 && reply.length === 4) {
          const entry = entries[Number(reply[1]) - 1]
          const used = { microUsd: integer(reply[2]), tokens: integer(reply[3]) }
          if (entry !== undefined && !Number.isNaN(used.microUsd) && !Number.isNaN(used.tokens)) {
            return Effect.succeed({ _tag: "Rejected", key: entry.key, used })
          }
        }
        return Effect.fail(ledgerError("Redis ledger: reserve returned an unexpected reply"))
      })
    )
  },
  adjust: (keys, delta) => {
    const invalid = checkAmount(delta)
    if (invalid !== undefined) return Effect.fail(ledgerError(`Redis ledger: adjust: ${invalid}`))
    if (keys.length === 0 || (delta.microUsd === 0 && delta.tokens === 0)) return Effect.void
    const args: Array<string> = [String(delta.microUsd), String(delta.tokens)]
    for (const key of keys) {
      const ttl = ttlArg(key.ttlMs)
      if (ttl === undefined) {
        return Effect.fail(ledgerError(`Redis ledger: adjust: ${key.key}: ttlMs must be > 0 (got ${key.ttlMs})`))
      }
      args.push(ttl)
    }
    return Script.run(connection, Scripts.adjust, keys.map((key) => key.key), args).pipe(
      Effect.mapError(redisFailed("adjust")),
      Effect.asVoid
    )
  },
  read: (key) =>
    connection.use((client) => client.hmget(key, "microUsd", "tokens")).pipe(
      Effect.mapError(redisFailed("read")),
      Effect.flatMap(([microUsd, tokens]) => {
        const amount = { microUsd: integer(microUsd), tokens: integer(tokens) }
        return Number.isNaN(amount.microUsd) || Number.isNaN(amount.tokens)
          ? Effect.fail(ledgerError(`Redis ledger: ${key} does not hold a budget counter`))
          : Effect.succeed(amount)
      })
    )
})

/**
 * A ledger over the `Redis` connection in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLedger: Effect.Effect<Budget.Ledger, never, Redis.Redis> = Effect.map(Redis.Redis, makeLedgerWith)

/**
 * The ledger as the `Budget.BudgetLedger` service (`Budget.layerDefault` picks it up).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLedger: Layer.Layer<Budget.BudgetLedger, never, Redis.Redis> = Layer.effect(
  Budget.BudgetLedger,
  makeLedger
)

/**
 * A budget with `options` whose counters live in Redis (what `onLedgerError` says happens
 * while Redis is unreachable: by default the call is rejected).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Budget.Options = {}): Layer.Layer<Budget.Budget, never, Redis.Redis> =>
  Budget.layerDefault(options).pipe(Layer.provide(layerLedger))
