/**
 * The Redis rate-limit store behind `RedisRateLimiter`, with a hook for tests to pass the
 * time instead of reading the server's clock.
 *
 * Private to the package (`exports` hides `internal/*`).
 */
import * as RateLimiter from "@llm-fiber/core/RateLimiter"
import * as Effect from "effect/Effect"
import type * as Redis from "../Redis.js"
import * as Scripts from "./rateLimiterScripts.js"
import * as Script from "./script.js"

/** The cost hash of a window. */
export const costKey = (key: string): string => key + ":cost"

const number = (n: number): string => String(n)

const invalid = (message: string) => Effect.fail(new RateLimiter.RateLimiterStoreError({ message }))

const storeError = (operation: string) => (error: Redis.RedisError) =>
  new RateLimiter.RateLimiterStoreError({
    message: `Redis rate-limit store: ${operation} failed: ${error.message}`,
    cause: error
  })

const parse = (reply: unknown): RateLimiter.Reservation | undefined => {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined
  const [tag, raw] = reply as [unknown, unknown]
  const value = typeof raw === "string" ? Number(raw) : Number.NaN
  if (!Number.isFinite(value)) return undefined
  if (tag === "Reserved") return { _tag: "Reserved", waitMs: value }
  if (tag === "Rejected") return { _tag: "Rejected", retryAfterMs: value }
  return undefined
}

/**
 * A store over `connection`; `now` replaces the server's clock (tests only).
 */
export const make = (connection: Redis.Connection, now?: () => number): RateLimiter.Store => ({
  reserve: (request) => {
    if (!(request.maxWaitMs >= 0)) return invalid(`maxWaitMs must be >= 0 (got ${request.maxWaitMs})`)
    const keys: Array<string> = []
    const args: Array<string> = [
      now === undefined ? "" : number(now()),
      request.maxWaitMs === Number.POSITIVE_INFINITY ? "-1" : number(request.maxWaitMs),
      request.id
    ]
    for (const limit of request.limits) {
      if (!(Number.isFinite(limit.limit) && limit.limit > 0)) {
        return invalid(`${limit.key}: limit must be a positive number (got ${limit.limit})`)
      }
      if (!(Number.isFinite(limit.windowMs) && limit.windowMs > 0)) {
        return invalid(`${limit.key}: windowMs must be a positive number (got ${limit.windowMs})`)
      }
      if (!(Number.isFinite(limit.cost) && limit.cost >= 0)) {
        return invalid(`${limit.key}: cost must be a number >= 0 (got ${limit.cost})`)
      }
      keys.push(limit.key, costKey(limit.key))
      args.push(number(limit.limit), number(limit.windowMs), number(limit.cost))
    }
    if (keys.length === 0) return Effect.succeed({ _tag: "Reserved", waitMs: 0 })
    return Script.run(connection, Scripts.reserve, keys, args).pipe(
      Effect.mapError(storeError("reserve")),
      Effect.flatMap((reply) => {
        const reservation = parse(reply)
        return reservation === undefined
          ? invalid("Redis rate-limit store: reserve returned an unexpected reply")
          : Effect.succeed(reservation)
      })
    )
  },
  update: (request) => {
    const keys: Array<string> = []
    const args: Array<string> = [request.id]
    for (const change of request.costs) {
      if (!(Number.isFinite(change.cost) && change.cost >= 0)) {
        return invalid(`${change.key}: cost must be a number >= 0 (got ${change.cost})`)
      }
      keys.push(change.key, costKey(change.key))
      args.push(number(change.cost))
    }
    if (keys.length === 0) return Effect.void
    return Script.run(connection, Scripts.update, keys, args).pipe(
      Effect.mapError(storeError("update")),
      Effect.asVoid
    )
  }
})
