import { describe, expect, it } from "@effect/vitest"
import { ChatRequest, KeyPool, LlmError, Provider, StreamEvent, Timeouts } from "@llm-fiber/core"
import { ConfigProvider, Deferred, Effect, Either, Exit, Fiber, Option, Redacted, Stream, TestClock } from "effect"

const keys = ["sk-test-AAAAAAAAAAAA", "sk-test-BBBBBBBBBBBB", "sk-test-CCCCCCCCCCCC"]

const rateLimited = (retryAfterMs?: number) =>
  new LlmError.RateLimitError({
    message: "openai HTTP 429: slow down",
    provider: "openai",
    status: 429,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {})
  })

/** Acquire and report success at once, `n` times; the labels picked. */
const picks = (pool: KeyPool.KeyPool, n: number) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    for (let i = 0; i < n; i++) {
      const lease = yield* pool.acquire
      out.push(lease.label)
      yield* pool.report(lease, "success")
    }
    return out
  })

describe("KeyPool strategies", () => {
  it.effect("round-robin goes key after key", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys })
      expect(pool.strategy).toBe("round-robin")
      expect(yield* picks(pool, 7)).toEqual(["key#1", "key#2", "key#3", "key#1", "key#2", "key#3", "key#1"])
    }))

  it.effect("least-in-flight picks the key with the fewest open leases (ties round-robin)", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys, strategy: "least-in-flight" })
      const a = yield* pool.acquire
      const b = yield* pool.acquire
      const c = yield* pool.acquire
      expect([a.label, b.label, c.label]).toEqual(["key#1", "key#2", "key#3"])
      yield* pool.report(b, "success")
      // key#2 has 0 in flight, the others 1
      const d = yield* pool.acquire
      expect(d.label).toBe("key#2")
      const e = yield* pool.acquire // all at 1 now: round-robin from after key#2
      expect(e.label).toBe("key#3")
      yield* a.release
      yield* c.release
      const f = yield* pool.acquire
      expect(f.label).toBe("key#1")
      const status = yield* pool.snapshot
      expect(status.map((s) => s.inFlight)).toEqual([1, 1, 1])
    }))

  it.effect("least-in-flight under concurrency: leases spread evenly", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys, strategy: "least-in-flight" })
      const gate = yield* Deferred.make<void>()
      const used: Record<string, number> = {}
      const fibers = yield* Effect.forEach(
        Array.from({ length: 9 }),
        () =>
          Effect.fork(KeyPool.withKey(pool, (lease) =>
            Effect.sync(() => {
              used[lease.label] = (used[lease.label] ?? 0) + 1
            }).pipe(Effect.zipRight(Deferred.await(gate)))))
      )
      yield* Effect.yieldNow()
      expect((yield* pool.snapshot).map((s) => s.inFlight)).toEqual([3, 3, 3])
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.joinAll(fibers)
      expect(used).toEqual({ "key#1": 3, "key#2": 3, "key#3": 3 })
      expect((yield* pool.snapshot).map((s) => [s.inFlight, s.requests])).toEqual([[0, 3], [0, 3], [0, 3]])
    }))

  it.effect("weighted: exact shares over every cycle, spread out, deterministic", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({
        keys: [{ key: keys[0]!, weight: 5 }, { key: keys[1]!, weight: 2 }, { key: keys[2]!, weight: 1 }],
        strategy: "weighted"
      })
      const all = yield* picks(pool, 800)
      const count = (label: string, list: ReadonlyArray<string>) => list.filter((l) => l === label).length
      expect([count("key#1", all), count("key#2", all), count("key#3", all)]).toEqual([500, 200, 100])
      // every window of one cycle (8 picks) holds the exact shares
      for (let start = 0; start + 8 <= all.length; start += 8) {
        const cycle = all.slice(start, start + 8)
        expect([count("key#1", cycle), count("key#2", cycle), count("key#3", cycle)]).toEqual([5, 2, 1])
      }
      // smooth: the heavy key never runs more than twice in a row here
      expect(all.slice(0, 8).join(",")).not.toContain("key#1,key#1,key#1")
      const again = yield* KeyPool.make({
        keys: [{ key: keys[0]!, weight: 5 }, { key: keys[1]!, weight: 2 }, { key: keys[2]!, weight: 1 }],
        strategy: "weighted"
      })
      expect(yield* picks(again, 800)).toEqual(all)
    }))
})

describe("KeyPool cooldowns", () => {
  it.effect("a provider 429 cools its key for Retry-After; it is skipped meanwhile (TestClock)", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys: keys.slice(0, 2) })
      const a = yield* pool.acquire
      expect(a.label).toBe("key#1")
      yield* pool.report(a, rateLimited(3_000))
      expect(yield* picks(pool, 4)).toEqual(["key#2", "key#2", "key#2", "key#2"])
      const cooling = yield* pool.snapshot
      expect(cooling[0]).toMatchObject({ label: "key#1", coolingForMs: 3_000, failures: 1, cooldowns: 1 })
      yield* TestClock.adjust("2999 millis")
      expect(yield* picks(pool, 1)).toEqual(["key#2"])
      yield* TestClock.adjust("1 millis")
      expect(yield* picks(pool, 3)).toEqual(["key#1", "key#2", "key#1"])
    }))

  it.effect("a 429 without Retry-After cools for defaultCooldownMs (10 s unless set)", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys: keys.slice(0, 2) })
      yield* pool.report(yield* pool.acquire, rateLimited())
      expect((yield* pool.snapshot)[0]!.coolingForMs).toBe(KeyPool.defaultCooldownMs)
      const custom = yield* KeyPool.make({ keys: keys.slice(0, 2), defaultCooldownMs: 500 })
      yield* custom.report(yield* custom.acquire, rateLimited())
      expect((yield* custom.snapshot)[0]!.coolingForMs).toBe(500)
    }))

  it.effect("other errors, local 429s and interruptions do not cool a key", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys: keys.slice(0, 2) })
      yield* pool.report(yield* pool.acquire, new LlmError.ServerError({ message: "boom", status: 500 }))
      yield* pool.report(
        yield* pool.acquire,
        new LlmError.RateLimitError({ message: "local", source: "local", retryAfterMs: 5_000 })
      )
      yield* (yield* pool.acquire).release
      const status = yield* pool.snapshot
      expect(status.map((s) => s.coolingForMs)).toEqual([0, 0])
      expect(status.map((s) => s.failures)).toEqual([1, 1])
      expect(status.map((s) => s.requests)).toEqual([1, 1])
    }))

  it.effect("cooldownFor decides which errors cool a key (e.g. a revoked key)", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({
        keys: keys.slice(0, 2),
        cooldownFor: (error, fallback) => error._tag === "AuthenticationError" ? 600_000 : fallback
      })
      yield* pool.report(yield* pool.acquire, new LlmError.AuthenticationError({ message: "bad key", status: 401 }))
      expect((yield* pool.snapshot)[0]!.coolingForMs).toBe(600_000)
    }))

  it.effect("all cooling (default): the key whose cooldown ends first is used", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys })
      const [a, b, c] = [yield* pool.acquire, yield* pool.acquire, yield* pool.acquire]
      yield* pool.report(a, rateLimited(5_000))
      yield* pool.report(b, rateLimited(1_000))
      yield* pool.report(c, rateLimited(3_000))
      expect(yield* picks(pool, 3)).toEqual(["key#2", "key#2", "key#2"])
      yield* TestClock.adjust("1 seconds")
      expect(yield* picks(pool, 2)).toEqual(["key#2", "key#2"])
      yield* TestClock.adjust("2 seconds")
      expect(yield* picks(pool, 2)).toEqual(["key#3", "key#2"])
    }))

  it.effect("all cooling with whenAllCooling: fail → a local, non-retryable RateLimitError naming labels only", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys: keys.slice(0, 2), whenAllCooling: "fail", name: "openai" })
      yield* pool.report(yield* pool.acquire, rateLimited(4_000))
      yield* pool.report(yield* pool.acquire, rateLimited(2_000))
      const error = yield* Effect.flip(pool.acquire)
      expect(error._tag).toBe("RateLimitError")
      expect(error.source).toBe("local")
      expect(error.retryable).toBe(false)
      expect(error.retryAfterMs).toBe(2_000)
      expect(error.provider).toBe("openai")
      expect(error.message).toContain("key#1")
      expect(error.message).toContain("key#2")
      for (const key of keys) expect(JSON.stringify(error) + error.message).not.toContain(key)
      yield* TestClock.adjust("2 seconds")
      expect((yield* pool.acquire).label).toBe("key#2")
    }))

  it.effect("a report is counted once per lease; a lease of another pool is ignored", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys: keys.slice(0, 2) })
      const other = yield* KeyPool.make({ keys: keys.slice(0, 2) })
      const lease = yield* pool.acquire
      yield* pool.report(lease, "success")
      yield* pool.report(lease, rateLimited(1_000))
      yield* lease.release
      yield* pool.report(yield* other.acquire, rateLimited(1_000))
      const status = yield* pool.snapshot
      expect(status[0]).toMatchObject({ inFlight: 0, requests: 1, failures: 0, coolingForMs: 0 })
      expect(status[1]).toMatchObject({ inFlight: 0, requests: 0 })
    }))
})

describe("KeyPool keys and labels", () => {
  it.effect("keys stay Redacted; labels default to key#N, never the key text", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({
        keys: [keys[0]!, Redacted.make(keys[1]!), { key: keys[2]!, label: "backup", baseUrl: "http://b/v1/" }]
      })
      expect(pool.keys.map((k) => k.label)).toEqual(["key#1", "key#2", "backup"])
      expect(pool.keys[2]!.baseUrl).toBe("http://b/v1")
      for (const k of pool.keys) expect(Redacted.isRedacted(k.key)).toBe(true)
      const text = JSON.stringify(pool.keys) + String(pool.keys[0]!.key) + JSON.stringify(yield* pool.snapshot)
      for (const key of keys) expect(text).not.toContain(key)
      const lease = yield* pool.acquire
      expect(Redacted.value(lease.key)).toBe(keys[0])
      expect(JSON.stringify(lease)).not.toContain(keys[0])
    }))

  it("invalid options throw (make dies) naming the option", () => {
    expect(() => KeyPool.unsafeMake({ keys: [] })).toThrow(/keys.*empty/)
    expect(() => KeyPool.unsafeMake({ keys: ["  "] })).toThrow(/keys\[0\] is empty/)
    expect(() => KeyPool.unsafeMake({ keys: [{ key: "k1", weight: 0 }] })).toThrow(/weight/)
    expect(() => KeyPool.unsafeMake({ keys: [{ key: "secret-1", label: "my secret-1" }] })).toThrow(/label/)
    expect(() => KeyPool.unsafeMake({ keys: [{ key: "a1", label: "x" }, { key: "b1", label: "x" }] })).toThrow(/twice/)
    expect(() => KeyPool.unsafeMake({ keys: ["k"], strategy: "random" as KeyPool.Strategy })).toThrow(/strategy/)
    const exit = Effect.runSyncExit(KeyPool.make({ keys: [] }))
    expect(Exit.isFailure(exit) && exit.cause._tag === "Die").toBe(true)
  })

  it.effect("parseKeyList / configKeys split a comma-separated list", () =>
    Effect.gen(function*() {
      expect(KeyPool.parseKeyList(" a1 , ,b2,").map(Redacted.value)).toEqual(["a1", "b2"])
      expect(KeyPool.parseKeyList(undefined)).toEqual([])
      const listed = yield* KeyPool.configKeys("OPENAI_API_KEYS").pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["OPENAI_API_KEYS", "sk-1,sk-2"]])))
      )
      expect(listed.map(Redacted.value)).toEqual(["sk-1", "sk-2"])
      const none = yield* KeyPool.configKeys("OPENAI_API_KEYS").pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
      )
      expect(none).toEqual([])
      expect(KeyPool.preferPool("k", listed, undefined)).toEqual({ apiKey: undefined, apiKeys: listed })
      expect(KeyPool.preferPool("k", [], undefined)).toEqual({ apiKey: "k", apiKeys: undefined })
    }))
})

describe("KeyPool.withKey / withKeyStream / makeProvider", () => {
  it.effect("withKey reports the outcome and labels the error; interruption only releases", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys: keys.slice(0, 2) })
      const error = yield* Effect.flip(KeyPool.withKey(pool, () => Effect.fail(rateLimited(1_000))))
      expect(error.message).toBe("openai HTTP 429: slow down [key#1]")
      const gate = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(KeyPool.withKey(pool, () => Deferred.await(gate)))
      yield* Effect.yieldNow()
      expect((yield* pool.snapshot)[1]!.inFlight).toBe(1)
      yield* Fiber.interrupt(fiber)
      const status = yield* pool.snapshot
      expect(status[0]).toMatchObject({ inFlight: 0, failures: 1, coolingForMs: 1_000 })
      expect(status[1]).toMatchObject({ inFlight: 0, requests: 0 })
    }))

  it.effect("withKeyStream reports at the end, on failure, and releases when the consumer stops", () =>
    Effect.gen(function*() {
      const pool = yield* KeyPool.make({ keys: keys.slice(0, 2) })
      const ok = yield* Stream.runCollect(KeyPool.withKeyStream(pool, (lease) => Stream.make(lease.label, "x")))
      expect([...ok]).toEqual(["key#1", "x"])
      const failed = yield* Effect.flip(Stream.runDrain(
        KeyPool.withKeyStream(pool, () => Stream.concat(Stream.make(1), Stream.fail(rateLimited(2_000))))
      ))
      expect(failed.message).toContain("[key#2]")
      const taken = yield* Stream.runCollect(
        Stream.take(KeyPool.withKeyStream(pool, () => Stream.iterate(0, (n) => n + 1)), 2)
      )
      expect([...taken]).toEqual([0, 1])
      const status = yield* pool.snapshot
      expect(status[0]).toMatchObject({ inFlight: 0, requests: 1, failures: 0 })
      expect(status[1]).toMatchObject({ inFlight: 0, requests: 1, failures: 1, coolingForMs: 2_000 })
    }))

  const stubProvider = (label: string, log: Array<string>, fail?: LlmError.LlmError): Provider.Provider => ({
    name: "stub",
    api: "stub",
    capabilities: Provider.allCapabilities,
    chat: (call) => {
      log.push(label)
      return fail !== undefined ? Effect.fail(fail) : Effect.succeed(
        StreamEvent.accumulateAll([StreamEvent.start("r", call.model, "stub"), StreamEvent.textDelta(label)])
      )
    },
    chatStream: () => {
      log.push(label)
      return fail !== undefined ? Stream.fail(fail) : Stream.make(StreamEvent.textDelta(label))
    }
  })

  const call: Provider.Call = {
    request: Either.getOrThrow(ChatRequest.make({ model: "m", messages: "hi" })),
    model: "m",
    timeouts: Timeouts.hosted,
    attempt: 1
  }

  it.effect("makeProvider builds one provider per key and dispatches per call", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const built: Array<string> = []
      const provider = KeyPool.makeProvider(
        "stub",
        { apiKeys: [keys[0]!, { key: keys[1]!, baseUrl: "http://b" }] },
        (c) => {
          const at = c === undefined ? "none" : `${Redacted.value(c.apiKey)}@${c.baseUrl ?? "-"}`
          built.push(at)
          return stubProvider(at === "none" ? "none" : at.startsWith(keys[0]!) ? "A" : "B", log)
        }
      )
      expect(built).toEqual([`${keys[0]}@-`, `${keys[1]}@http://b`])
      yield* provider.chat(call)
      yield* Stream.runDrain(provider.chatStream(call))
      yield* provider.chat(call)
      expect(log).toEqual(["A", "B", "A"])
      const single = KeyPool.makeProvider("stub", {}, (c) => stubProvider(c === undefined ? "plain" : "pooled", log))
      yield* single.chat(call)
      expect(log.at(-1)).toBe("plain")
      expect(() => KeyPool.makeProvider("stub", { apiKey: "x", apiKeys: ["y"] }, () => stubProvider("", log))).toThrow(
        /either apiKey or apiKeys/
      )
    }))

  it.effect("makeProvider errors carry the provider, model and key label", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const provider = KeyPool.makeProvider(
        "stub",
        { apiKeys: keys.slice(0, 2) },
        () => stubProvider("x", log, new LlmError.ServerError({ message: "boom" }))
      )
      const error = yield* Effect.flip(provider.chat(call))
      expect(error).toMatchObject({ provider: "stub", model: "m", message: "boom [key#1]" })
      expect(Option.isNone(Option.fromNullable(provider.embed))).toBe(true)
    }))
})
