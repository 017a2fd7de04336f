import { describe, expect, it } from "@effect/vitest"
import { LlmClient, LlmError, RateLimiter } from "@llm-fiber/core"
import { Redis, RedisRateLimiter } from "@llm-fiber/redis"
import { FakeProvider } from "@llm-fiber/testing"
import { Effect, Either, Layer, TestClock, TestContext } from "effect"
import * as fc from "fast-check"
import * as Store from "../src/internal/rateLimiterStore.js"
import * as Helpers from "./helpers.js"

// -----------------------------------------------------------------------------
// the Lua script against the in-memory store, driven with the same times
// -----------------------------------------------------------------------------

const windows = {
  a: { limit: 3, windowMs: 1_000 },
  b: { limit: 10, windowMs: 5_000 },
  c: { limit: 4, windowMs: 2_000 }
} as const
type WindowName = keyof typeof windows
const names: ReadonlyArray<WindowName> = ["a", "b", "c"]

type Op =
  | { readonly _tag: "advance"; readonly ms: number }
  | {
    readonly _tag: "reserve"
    readonly costs: ReadonlyArray<readonly [WindowName, number]>
    readonly maxWaitMs: number
  }
  | { readonly _tag: "update"; readonly pick: number; readonly costs: ReadonlyArray<readonly [WindowName, number]> }

const costsArb = fc.uniqueArray(fc.tuple(fc.constantFrom(...names), fc.integer({ min: 0, max: 6 })), {
  minLength: 1,
  maxLength: 3,
  selector: ([name]) => name
})

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("advance" as const),
      ms: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 6_000 }))
    })
  },
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("reserve" as const),
      costs: costsArb,
      maxWaitMs: fc.constantFrom(0, 500, 3_000, Number.POSITIVE_INFINITY)
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("update" as const),
      pick: fc.nat(),
      costs: costsArb
    })
  }
)

let run = 0

/** Run `ops` against both stores; the outcomes of every `reserve`, in order. */
const compare = (connection: Redis.Connection, ops: ReadonlyArray<Op>) =>
  Effect.gen(function*() {
    const base = `run-${run++}:`
    let now = 1_000_000
    const redis = Store.make(connection, () => now)
    const memory = yield* RateLimiter.makeStoreMemory
    const ids: Array<string> = []
    const current = new Map<string, number>()
    const fromRedis: Array<RateLimiter.Reservation> = []
    const fromMemory: Array<RateLimiter.Reservation> = []
    yield* TestClock.setTime(now)
    for (const op of ops) {
      if (op._tag === "advance") {
        now += op.ms
        yield* TestClock.setTime(now)
      } else if (op._tag === "reserve") {
        const id = `id-${ids.length}`
        ids.push(id)
        const limits = op.costs.map(([name, cost]) => ({ key: base + name, ...windows[name], cost }))
        const outcome = yield* redis.reserve({ id, limits, maxWaitMs: op.maxWaitMs })
        fromRedis.push(outcome)
        fromMemory.push(yield* memory.reserve({ id, limits, maxWaitMs: op.maxWaitMs }))
        if (outcome._tag === "Reserved") { for (const [name, cost] of op.costs) current.set(id + name, cost) }
      } else if (ids.length > 0) {
        const id = ids[op.pick % ids.length]!
        // as the limiter does: a booking cancelled (or made) with cost 0 is never given a cost again
        const costs = op.costs
          .filter(([name, cost]) => !(cost > 0 && current.get(id + name) === 0))
          .map(([name, cost]) => ({ key: base + name, cost }))
        for (const [name, cost] of op.costs) {
          if (current.has(id + name) && current.get(id + name) !== 0) current.set(id + name, cost)
        }
        yield* redis.update({ id, costs })
        yield* memory.update({ id, costs })
      }
    }
    return { fromRedis, fromMemory }
  }).pipe(Effect.provide(TestContext.TestContext))

describe("RedisRateLimiter: the same decisions as the in-memory store", () => {
  it.scoped("random sequences of reserve / update / time (fast-check)", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
            const { fromMemory, fromRedis } = await Effect.runPromise(compare(connection, ops))
            expect(fromRedis).toEqual(fromMemory)
          }),
          { numRuns: 200 }
        )
      )
    }))

  it.scoped("a scripted sequence: FIFO bookings, waits, a rejection, a cancellation and a correction", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const ops: ReadonlyArray<Op> = [
        ...Array.from({ length: 5 }, (): Op => ({ _tag: "reserve", costs: [["a", 1]], maxWaitMs: Infinity })),
        { _tag: "reserve", costs: [["a", 1]], maxWaitMs: 500 },
        { _tag: "advance", ms: 200 },
        { _tag: "update", pick: 4, costs: [["a", 0]] },
        { _tag: "reserve", costs: [["a", 1], ["c", 4]], maxWaitMs: Infinity },
        { _tag: "update", pick: 6, costs: [["c", 1]] },
        { _tag: "reserve", costs: [["c", 3]], maxWaitMs: Infinity },
        { _tag: "reserve", costs: [["b", 50]], maxWaitMs: 0 },
        { _tag: "reserve", costs: [["b", 1]], maxWaitMs: 0 }
      ]
      const { fromMemory, fromRedis } = yield* compare(connection, ops)
      expect(fromRedis).toEqual(fromMemory)
      expect(fromRedis).toEqual([
        { _tag: "Reserved", waitMs: 0 },
        { _tag: "Reserved", waitMs: 0 },
        { _tag: "Reserved", waitMs: 0 },
        { _tag: "Reserved", waitMs: 1_000 }, // the first booking leaves the window
        { _tag: "Reserved", waitMs: 1_000 },
        { _tag: "Rejected", retryAfterMs: 1_000 }, // would wait 1,000 ms > maxWaitMs 500
        // #4 was cancelled: this one takes its slot (at 1,000, 800 ms from now)
        { _tag: "Reserved", waitMs: 800 },
        // c (limit 4) holds 1 after the correction: 3 more fit at that same time
        { _tag: "Reserved", waitMs: 800 },
        { _tag: "Reserved", waitMs: 0 }, // above the limit, but the window is empty
        { _tag: "Rejected", retryAfterMs: 5_000 }
      ])
    }))
})

// -----------------------------------------------------------------------------
// the server's clock
// -----------------------------------------------------------------------------

/** The booked times of a window, by reservation id. */
const bookings = (connection: Redis.Connection, key: string) =>
  Effect.map(connection.use((client) => client.zrange(key, 0, -1, "WITHSCORES")), (flat) => {
    const out = new Map<string, number>()
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!, Number(flat[i + 1]))
    return out
  })

describe("RedisRateLimiter: on the server's clock", () => {
  it.scoped("books first come first served and never holds more than the limit in any window", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const store = RedisRateLimiter.makeStoreWith(connection)
      const limit = { key: "w", limit: 3, windowMs: 2_000, cost: 1 }
      const waits: Array<number> = []
      for (let i = 0; i < 10; i++) {
        const result = yield* store.reserve({ id: `r${i}`, limits: [limit], maxWaitMs: Infinity })
        expect(result._tag).toBe("Reserved")
        if (result._tag === "Reserved") waits.push(result.waitMs)
      }
      const booked = yield* bookings(connection, "w")
      const times = Array.from({ length: 10 }, (_, i) => booked.get(`r${i}`)!)
      // FIFO: each booking is no earlier than the one before
      for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!)
      // any window (t - 2000, t] holds at most 3 bookings
      for (const t of times) expect(times.filter((s) => s > t - 2_000 && s <= t).length).toBeLessThanOrEqual(3)
      // the 4th books when the 1st leaves, and so on
      expect(times[3]! - times[0]!).toBe(2_000)
      expect(times[9]! - times[6]!).toBe(2_000)
      expect(waits.slice(0, 3).every((w) => w < 2_000)).toBe(true)
      expect(waits[9]!).toBeGreaterThan(4_000)
    }))

  it.scoped("fail mode across connections: of 40 concurrent calls from two clients, exactly the limit pass", () =>
    Effect.gen(function*() {
      const one = yield* Helpers.make()
      const two = yield* Redis.make({ url: Helpers.redisUrl, keyPrefix: one.prefix })
      const stores = [RedisRateLimiter.makeStoreWith(one.connection), RedisRateLimiter.makeStoreWith(two)]
      const results = yield* Effect.all(
        Array.from({ length: 40 }, (_, i) =>
          stores[i % 2]!.reserve({
            id: `c${i}`,
            limits: [{ key: "shared", limit: 5, windowMs: 60_000, cost: 1 }],
            maxWaitMs: 0
          })),
        { concurrency: "unbounded" }
      )
      expect(results.filter((r) => r._tag === "Reserved")).toHaveLength(5)
      for (const r of results) {
        if (r._tag === "Rejected") {
          expect(r.retryAfterMs).toBeGreaterThan(0)
          expect(r.retryAfterMs).toBeLessThanOrEqual(60_000)
        }
      }
      expect((yield* bookings(one.connection, "shared")).size).toBe(5)
    }))

  it.scoped("a rejection records nothing in any window", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const store = RedisRateLimiter.makeStoreWith(connection)
      const requests = { key: "requests", limit: 100, windowMs: 60_000, cost: 1 }
      const tokens = { key: "tokens", limit: 1_000, windowMs: 60_000 }
      yield* store.reserve({ id: "big", limits: [requests, { ...tokens, cost: 900 }], maxWaitMs: 0 })
      const rejected = yield* store.reserve({ id: "next", limits: [requests, { ...tokens, cost: 200 }], maxWaitMs: 0 })
      expect(rejected._tag).toBe("Rejected")
      expect((yield* bookings(connection, "requests")).has("next")).toBe(false)
      expect((yield* bookings(connection, "tokens")).has("next")).toBe(false)
      expect(yield* connection.use((client) => client.hget("tokens:cost", "next"))).toBeNull()
    }))

  it.scoped("update: a lower cost gives capacity back, 0 cancels the booking, unknown ids change nothing", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const store = RedisRateLimiter.makeStoreWith(connection)
      const tokens = (cost: number) => [{ key: "t", limit: 1_000, windowMs: 60_000, cost }]
      expect(yield* store.reserve({ id: "x", limits: tokens(1_000), maxWaitMs: 0 })).toEqual({
        _tag: "Reserved",
        waitMs: 0
      })
      expect((yield* store.reserve({ id: "y", limits: tokens(300), maxWaitMs: 0 }))._tag).toBe("Rejected")
      yield* store.update({ id: "x", costs: [{ key: "t", cost: 600 }] })
      expect(yield* connection.use((client) => client.hget("t:cost", "x"))).toBe("600")
      expect(yield* store.reserve({ id: "y", limits: tokens(300), maxWaitMs: 0 })).toEqual({
        _tag: "Reserved",
        waitMs: 0
      })
      yield* store.update({ id: "x", costs: [{ key: "t", cost: 0 }] })
      expect(yield* connection.use((client) => client.hget("t:cost", "x"))).toBe("0")
      yield* store.update({ id: "nobody", costs: [{ key: "t", cost: 5 }, { key: "missing", cost: 5 }] })
      expect(yield* connection.use((client) => client.hexists("t:cost", "nobody"))).toBe(0)
      expect(yield* connection.use((client) => client.exists("missing", "missing:cost"))).toBe(0)
      expect(yield* store.reserve({ id: "z", limits: tokens(700), maxWaitMs: 0 })).toEqual({
        _tag: "Reserved",
        waitMs: 0
      })
    }))

  it.scoped("both keys of a window expire once its last booking has left the window", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const store = RedisRateLimiter.makeStoreWith(connection)
      const limit = { key: "e", limit: 1, windowMs: 10_000, cost: 1 }
      yield* store.reserve({ id: "1", limits: [limit], maxWaitMs: Infinity })
      const first = yield* connection.use((client) => Promise.all([client.pttl("e"), client.pttl("e:cost")]))
      for (const ttl of first) {
        expect(ttl).toBeGreaterThan(9_000)
        expect(ttl).toBeLessThanOrEqual(10_001)
      }
      // booked 10 s ahead: the keys live until that booking has left its window
      yield* store.reserve({ id: "2", limits: [limit], maxWaitMs: Infinity })
      const second = yield* connection.use((client) => client.pttl("e"))
      expect(second).toBeGreaterThan(19_000)
      expect(second).toBeLessThanOrEqual(20_001)
    }))

  it.scopedLive("an idle window's keys are gone once its last booking has left it", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const store = RedisRateLimiter.makeStoreWith(connection)
      yield* store.reserve({ id: "1", limits: [{ key: "brief", limit: 5, windowMs: 100, cost: 1 }], maxWaitMs: 0 })
      expect(yield* connection.use((client) => client.exists("brief", "brief:cost"))).toBe(2)
      yield* Effect.sleep("300 millis")
      expect(yield* connection.use((client) => client.exists("brief", "brief:cost"))).toBe(0)
    }))

  it.scoped("invalid input is a RateLimiterStoreError, not a script error", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const store = RedisRateLimiter.makeStoreWith(connection)
      const error = yield* Effect.flip(
        store.reserve({ id: "i", limits: [{ key: "k", limit: 1, windowMs: 1_000, cost: Number.NaN }], maxWaitMs: 0 })
      )
      expect(error).toBeInstanceOf(RateLimiter.RateLimiterStoreError)
    }))
})

// -----------------------------------------------------------------------------
// with the core rate limiter
// -----------------------------------------------------------------------------

const clientWith = (limiter: Layer.Layer<RateLimiter.RateLimiter, never, Redis.Redis>, connection: Redis.Connection) =>
  FakeProvider.layerClient({ default: FakeProvider.text("ok") }).pipe(
    Layer.provide(limiter),
    Layer.provide(Layer.succeed(Redis.Redis, connection))
  )

describe("RedisRateLimiter: under RateLimiter", () => {
  it.scoped("two clients (two connections, one account) share the limit: the third call fails locally", () =>
    Effect.gen(function*() {
      const one = yield* Helpers.make()
      const two = yield* Redis.make({ url: Helpers.redisUrl, keyPrefix: one.prefix })
      const options: RateLimiter.Options = { rules: [{ scope: "model", rpm: 2 }], mode: "fail", account: "acct" }
      const chat = (connection: Redis.Connection) =>
        LlmClient.chat({ model: "openai:gpt-4o-mini", messages: "hi" }).pipe(
          Effect.provide(clientWith(RedisRateLimiter.layer(options), connection)),
          Effect.either
        )
      expect(Either.isRight(yield* chat(one.connection))).toBe(true)
      expect(Either.isRight(yield* chat(two))).toBe(true)
      const third = yield* chat(two)
      expect(Either.isLeft(third)).toBe(true)
      if (Either.isLeft(third)) {
        const error = third.left
        expect(LlmError.isLlmError(error) && error._tag).toBe("RateLimitError")
        if (error._tag === "RateLimitError") {
          expect(error.source).toBe("local")
          expect(error.retryAfterMs).toBeGreaterThan(50_000)
        }
      }
      const keys = yield* one.connection.use((client) =>
        client.keys(`${one.prefix}llm-fiber:rate-limit:acct:model:openai:gpt-4o-mini:requests*`)
      )
      expect(keys.map((key) => key.slice(one.prefix.length)).sort()).toEqual([
        "llm-fiber:rate-limit:acct:model:openai:gpt-4o-mini:requests",
        "llm-fiber:rate-limit:acct:model:openai:gpt-4o-mini:requests:cost"
      ])
    }))

  it.scoped("layerStore provides RateLimiterStore to RateLimiter.layerDefault", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const store = yield* RateLimiter.RateLimiterStore.pipe(
        Effect.provide(RedisRateLimiter.layerStore.pipe(Layer.provide(Layer.succeed(Redis.Redis, connection))))
      )
      const limits = [{ key: "via-tag", limit: 1, windowMs: 60_000, cost: 1 }]
      expect((yield* store.reserve({ id: "1", limits, maxWaitMs: 0 }))._tag).toBe("Reserved")
      expect((yield* store.reserve({ id: "2", limits, maxWaitMs: 0 }))._tag).toBe("Rejected")
    }))
})
