/**
 * Redis going away mid-run, on a server of this test's own: every adapter fails fast with
 * its own error type (never hangs), the core concerns react as documented (the cache and
 * the rate limiter fail open, the budget follows `onLedgerError`), a frozen server is cut
 * off by the command timeout, and everything works again once the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type Budget, LlmClient } from "@llm-fiber/core"
import { Redis, RedisBudget, RedisCache, RedisRateLimiter } from "@llm-fiber/redis"
import { FakeProvider } from "@llm-fiber/testing"
import { Effect, Either, Layer, Schedule } from "effect"
import { type RedisServer, startRedisServer } from "../../../test-support/redis.js"
import * as Helpers from "./helpers.js"

const commandTimeoutMs = 500
/** Far above the command timeout: the bound says "does not hang", not "is fast". */
const noHang = 5_000

let server: RedisServer
beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(async () => {
  await server?.stop()
})

/** A connection to the test's server and the three adapters on it. */
const connectAdapters = Effect.gen(function*() {
  const connection = yield* Redis.make({ url: server.url, commandTimeoutMs, connectTimeoutMs: 1_000 })
  return {
    connection,
    cache: RedisCache.makeStoreWith(connection),
    limiter: RedisRateLimiter.makeStoreWith(connection),
    ledger: RedisBudget.makeLedgerWith(connection)
  }
})

/** Run `effect`, expecting a failure, and how long it took. */
const timedFailure = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const started = Date.now()
    const result = yield* Effect.either(effect)
    return { result, ms: Helpers.elapsedSince(started) }
  })

const expectFailure = <A, E extends { readonly _tag: string; readonly message: string }>(
  effect: Effect.Effect<A, E>,
  tag: string
) =>
  Effect.gen(function*() {
    const { ms, result } = yield* timedFailure(effect)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      expect(result.left._tag).toBe(tag)
      expect(result.left.message).toContain(`redis://127.0.0.1:${server.port}/0`)
    }
    expect(ms).toBeLessThan(noHang)
  })

describe("Redis stopped mid-run", () => {
  it.live(
    "every adapter fails fast with its own error; the core concerns fail open or closed as documented",
    () =>
      Effect.gen(function*() {
        const { cache, connection, ledger, limiter } = yield* connectAdapters
        const limits = [{ key: "rl", limit: 10, windowMs: 60_000, cost: 1 }]
        const entries = [{ key: "budget", limitMicroUsd: 1_000_000, ttlMs: 60_000 }]
        // all good while the server runs
        yield* cache.set("k", "v", 60_000)
        expect((yield* limiter.reserve({ id: "a", limits, maxWaitMs: 0 }))._tag).toBe("Reserved")
        expect((yield* ledger.reserve(entries, { microUsd: 1, tokens: 1 }))._tag).toBe("Reserved")

        yield* Effect.promise(() => server.stop())

        yield* expectFailure(cache.get("k"), "CacheStoreError")
        yield* expectFailure(cache.set("k", "v", 1_000), "CacheStoreError")
        yield* expectFailure(cache.delete("k"), "CacheStoreError")
        yield* expectFailure(limiter.reserve({ id: "b", limits, maxWaitMs: 0 }), "RateLimiterStoreError")
        yield* expectFailure(limiter.update({ id: "a", costs: [{ key: "rl", cost: 0 }] }), "RateLimiterStoreError")
        yield* expectFailure(ledger.reserve(entries, { microUsd: 1, tokens: 1 }), "LedgerError")
        yield* expectFailure(
          ledger.adjust([{ key: "budget", ttlMs: 60_000 }], { microUsd: -1, tokens: 0 }),
          "LedgerError"
        )
        yield* expectFailure(ledger.read("budget"), "LedgerError")
        const { result } = yield* timedFailure(ledger.read("budget"))
        if (Either.isLeft(result)) {
          expect(result.left.ledger).toBe("redis")
          expect(result.left.message).toContain("unavailable")
        }

        // the concerns over the dead connection
        const dead = Layer.succeed(Redis.Redis, connection)
        const ask = (model: string) =>
          LlmClient.chat({ model: `openai:${model}`, messages: "hi", maxTokens: 10, temperature: 0 })
        const run = <A, E, ROut>(
          effect: Effect.Effect<A, E, LlmClient.LlmClient | FakeProvider.FakeProvider>,
          concern: Layer.Layer<ROut, never, Redis.Redis>
        ) =>
          effect.pipe(
            Effect.provide(
              FakeProvider.layerClient({ default: FakeProvider.text("served") }).pipe(
                Layer.provide(Layer.provide(concern, dead))
              )
            ),
            Effect.either
          )

        // the cache fails open: both calls reach the provider
        const cached = yield* run(
          Effect.zipRight(Effect.zipRight(ask("gpt-4o-mini"), ask("gpt-4o-mini")), FakeProvider.calls),
          RedisCache.layer({ ttlMs: 60_000 })
        )
        expect(Either.isRight(cached) && cached.right.length).toBe(2)

        // the rate limiter lets the call through (and logs a warning)
        const limited = yield* run(ask("gpt-4o-mini"), RedisRateLimiter.layer({ rules: [{ rpm: 1 }], mode: "fail" }))
        expect(Either.isRight(limited)).toBe(true)

        // the budget: onLedgerError "reject" (default) fails closed, "allow" lets the call through
        const limitsUsd: ReadonlyArray<Budget.Limit> = [{ scope: "client", window: "day", usd: 10 }]
        const closed = yield* run(ask("gpt-4o-mini"), RedisBudget.layer({ limits: limitsUsd }))
        expect(Either.isLeft(closed)).toBe(true)
        if (Either.isLeft(closed)) {
          expect(closed.left._tag).toBe("BudgetExceededError")
          expect(closed.left._tag === "BudgetExceededError" && closed.left.scope).toBe("ledger")
        }
        const open = yield* run(ask("gpt-4o-mini"), RedisBudget.layer({ limits: limitsUsd, onLedgerError: "allow" }))
        expect(Either.isRight(open)).toBe(true)

        // back on the same port: the client reconnects by itself, the scripts are loaded again (NOSCRIPT → EVAL)
        server = yield* Effect.promise(() => startRedisServer({ port: server.port }))
        yield* cache.set("k", "again", 60_000).pipe(
          Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("10 seconds")))
        )
        expect(yield* cache.get("k")).toEqual(expect.objectContaining({ value: "again" }))
        expect((yield* limiter.reserve({ id: "c", limits, maxWaitMs: 0 }))._tag).toBe("Reserved")
        expect((yield* ledger.reserve(entries, { microUsd: 5, tokens: 0 }))._tag).toBe("Reserved")
        expect(yield* ledger.read("budget")).toEqual({ microUsd: 5, tokens: 0 })
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )

  it.live(
    "a frozen server (SIGSTOP) is cut off by the command timeout; it answers again once resumed",
    () =>
      Effect.gen(function*() {
        const { cache, ledger, limiter } = yield* connectAdapters
        yield* cache.set("f", "v", 60_000)
        server.pause()
        try {
          yield* expectFailure(cache.get("f"), "CacheStoreError")
          yield* expectFailure(
            limiter.reserve({ id: "x", limits: [{ key: "f-rl", limit: 1, windowMs: 1_000, cost: 1 }], maxWaitMs: 0 }),
            "RateLimiterStoreError"
          )
          const { ms, result } = yield* timedFailure(ledger.read("f-budget"))
          expect(Either.isLeft(result) && result.left.message).toContain("timed out")
          expect(ms).toBeGreaterThanOrEqual(commandTimeoutMs - 50) // it was the timeout, not a refusal
          expect(ms).toBeLessThan(noHang)
        } finally {
          server.resume()
        }
        const value = yield* cache.get("f").pipe(
          Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("10 seconds")))
        )
        expect(value).toEqual(expect.objectContaining({ value: "v" }))
      }).pipe(Effect.scoped),
    { timeout: 60_000 }
  )
})
