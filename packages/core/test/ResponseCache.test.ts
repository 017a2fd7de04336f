import { afterAll, describe, expect, it } from "@effect/vitest"
import { ChatRequest, LlmClient, LlmError, ResponseCache, RetryPolicy, StreamEvent } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import {
  Chunk,
  Effect,
  Either,
  Exit,
  Fiber,
  FiberStatus,
  HashMap,
  Layer,
  Logger,
  Metric,
  Option,
  Stream,
  TestClock
} from "effect"
import * as fc from "fast-check"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

// -----------------------------------------------------------------------------
// helpers
// -----------------------------------------------------------------------------

/** A client over a FakeProvider (registered as `openai`), with the given cache, no retries. */
const clientWith = (cache: Layer.Layer<ResponseCache.ResponseCache>, options?: FakeProvider.Options) =>
  FakeProvider.layerClient(options).pipe(Layer.provide(cache), Layer.provide(RetryPolicy.layerDisabled))

const requestOf = (input: ChatRequest.Input): ChatRequest.ChatRequest => Either.getOrThrow(ChatRequest.make(input))

/** The key a call of `input` to the fake `openai` provider is cached under. */
const keyOf = (input: ChatRequest.Input, namespace?: string) => {
  const request = requestOf(input)
  const model = request.model.startsWith("openai:") ? request.model.slice("openai:".length) : request.model
  return ResponseCache.key({ provider: "openai", model, request }, namespace)
}

const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 }

const counter = (name: string, tags: Record<string, string>) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const pair = pairs.find((p) =>
      p.metricKey.name === name && p.metricKey.tags.length === Object.keys(tags).length &&
      p.metricKey.tags.every((t) => tags[t.key] === t.value)
    )
    return pair !== undefined && "count" in pair.metricState ? Number(pair.metricState.count) : 0
  })

const cacheCounters = (model: string) =>
  Effect.all({
    hits: counter("llm_cache_hits_total", { provider: "openai", model }),
    misses: counter("llm_cache_misses_total", { provider: "openai", model }),
    writes: counter("llm_cache_writes_total", { provider: "openai", model }),
    errors: counter("llm_cache_errors_total", { provider: "openai", model })
  })

const evictions = (store: string) => counter("llm_cache_evictions_total", { store })

interface LogLine {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

const recordingLogger = () => {
  const lines: Array<LogLine> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push({
      level: logLevel.label,
      message: Array.isArray(message) && message.length === 1 ? message[0] : message,
      annotations: Object.fromEntries(HashMap.toEntries(annotations))
    })
  })
  return { lines, layer: Logger.add(logger) }
}

/** A store that records what it is asked and delegates to another. */
const recordingStore = (inner: ResponseCache.Store) => {
  const gets: Array<string> = []
  const sets: Array<{ readonly key: string; readonly value: string; readonly ttlMs: number | undefined }> = []
  const store: ResponseCache.Store = {
    name: "recording",
    get: (key) => Effect.zipRight(Effect.sync(() => gets.push(key)), inner.get(key)),
    set: (key, value, ttlMs) =>
      Effect.zipRight(Effect.sync(() => sets.push({ key, value, ttlMs })), inner.set(key, value, ttlMs)),
    delete: (key) => inner.delete(key)
  }
  return { store, gets, sets }
}

const storeError = (message: string) => new ResponseCache.CacheStoreError({ store: "broken", message })

const brokenStore: ResponseCache.Store = {
  name: "broken",
  get: () => Effect.fail(storeError("connection refused")),
  set: () => Effect.fail(storeError("connection refused")),
  delete: () => Effect.fail(storeError("connection refused"))
}

const serverError = (message = "upstream down") => new LlmError.ServerError({ message, status: 503 })

const chat = (input: Partial<ChatRequest.Input> = {}) =>
  LlmClient.chat({ model: "gpt-4o-mini", messages: "hello cache", ...input })

const streamEvents = (input: Partial<ChatRequest.Input> = {}) =>
  Effect.map(
    Stream.runCollect(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hello cache", ...input })),
    Chunk.toReadonlyArray
  )

const withoutFromCache = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.map((e) => {
    if (e._tag !== "Finish") return e
    const { fromCache: _, ...rest } = e
    return rest
  })

const tempDirs: Array<string> = []
const tempDir = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "llm-fiber-cache-"))
  tempDirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of tempDirs) Fs.rmSync(dir, { recursive: true, force: true })
})

const filesUnder = (dir: string): Array<string> =>
  (Fs.readdirSync(dir, { recursive: true }) as Array<string>)
    .map((f) => Path.join(dir, f))
    .filter((f) => Fs.statSync(f).isFile())

// -----------------------------------------------------------------------------
// keys
// -----------------------------------------------------------------------------

const safeKey = fc.stringMatching(/^[a-z]{1,6}$/)
const json = fc.jsonValue({ maxDepth: 2 })

const semanticInput = fc.record({
  messages: fc.string({ maxLength: 40 }),
  temperature: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: undefined }),
  maxTokens: fc.option(fc.integer({ min: 1, max: 4096 }), { nil: undefined }),
  topP: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  seed: fc.option(fc.integer(), { nil: undefined }),
  stop: fc.option(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), { nil: undefined }),
  providerOptions: fc.option(fc.dictionary(safeKey, fc.dictionary(safeKey, json)), { nil: undefined })
})

const nonSemantic = fc.record({
  metadata: fc.dictionary(safeKey, fc.string()),
  user: fc.string({ minLength: 1, maxLength: 10 }),
  idempotencyKey: fc.string({ minLength: 1, maxLength: 10 }),
  timeout: fc.record({ totalMs: fc.integer({ min: 1, max: 100_000 }) }),
  maxRetries: fc.integer({ min: 0, max: 5 }),
  costCeilingUsd: fc.double({ min: 0.001, max: 10, noNaN: true }),
  fallback: fc.array(fc.constantFrom("gpt-4o", "claude-sonnet-4-5"), { maxLength: 2 }),
  responseCache: fc.record({
    policy: fc.constantFrom("off", "read_through", "write_through", "refresh"),
    ttlMs: fc.integer({ min: 1, max: 1_000_000 })
  }, { requiredKeys: [] })
}, { requiredKeys: [] })

/** The same value with the keys of every object in reverse order. */
const reordered = (u: unknown): unknown => {
  if (Array.isArray(u)) return u.map(reordered)
  if (typeof u !== "object" || u === null) return u
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(u).reverse()) {
    // defineProperty: a generated "__proto__" key stays an own property
    Object.defineProperty(out, key, {
      value: reordered((u as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return out
}

describe("ResponseCache.key", () => {
  it("is namespaced, versioned and a sha256", () => {
    const key = keyOf({ model: "gpt-4o-mini", messages: "hi" })
    expect(key).toMatch(/^llm-fiber:cache:v1:[0-9a-f]{64}$/)
    expect(keyOf({ model: "gpt-4o-mini", messages: "hi" }, "tenant-a:")).toMatch(/^tenant-a:v1:[0-9a-f]{64}$/)
  })

  it("ignores metadata, user, idempotencyKey, timeout, fallback, maxRetries, costCeilingUsd and responseCache", () => {
    fc.assert(fc.property(semanticInput, nonSemantic, (input, extra) => {
      const base = { model: "gpt-4o-mini", ...input }
      expect(keyOf({ ...base, ...extra })).toBe(keyOf(base))
    }))
  })

  it("does not depend on the order of object keys", () => {
    fc.assert(
      fc.property(semanticInput, (input) => {
        const base = { model: "gpt-4o-mini", ...input }
        expect(keyOf(reordered(base) as ChatRequest.Input)).toBe(keyOf(base))
      }),
      { numRuns: Number(process.env.KEY_RUNS ?? 100) }
    )
  })

  it("changes with temperature, model, messages and the other semantic fields", () => {
    fc.assert(fc.property(
      semanticInput,
      fc.double({ min: 0, max: 2, noNaN: true }),
      fc.double({ min: 0, max: 2, noNaN: true }),
      (input, t1, t2) => {
        fc.pre(t1 !== t2 && !(Object.is(t1, 0) && Object.is(t2, -0)) && !(Object.is(t1, -0) && Object.is(t2, 0)))
        const base = { model: "gpt-4o-mini", ...input }
        expect(keyOf({ ...base, temperature: t1 })).not.toBe(keyOf({ ...base, temperature: t2 }))
      }
    ))
    fc.assert(fc.property(semanticInput, fc.string({ maxLength: 10 }), (input, suffix) => {
      fc.pre(suffix !== "")
      const base = { model: "gpt-4o-mini", ...input }
      expect(keyOf({ ...base, messages: input.messages + suffix })).not.toBe(keyOf(base))
      expect(keyOf({ ...base, model: "gpt-4o" })).not.toBe(keyOf(base))
    }))
    const base = { model: "gpt-4o-mini", messages: "hi" }
    const keys = [
      keyOf(base),
      keyOf({ ...base, maxTokens: 10 }),
      keyOf({ ...base, topP: 0.5 }),
      keyOf({ ...base, stop: ["x"] }),
      keyOf({ ...base, seed: 1 }),
      keyOf({ ...base, tools: [{ name: "f", parameters: { type: "object" } }] }),
      keyOf({ ...base, tools: [{ name: "f", parameters: { type: "object" } }], toolChoice: "required" }),
      keyOf({ ...base, responseFormat: { type: "json" } }),
      keyOf({ ...base, providerOptions: { openai: { logprobs: true } } }),
      keyOf({ ...base, cache: { ttl: "1h" } }),
      ResponseCache.key({ provider: "ollama", model: "gpt-4o-mini", request: requestOf(base) })
    ]
    expect(new Set(keys).size).toBe(keys.length)
  })

  it("a string prompt and the same prompt as a message have one key", () => {
    expect(keyOf({ model: "gpt-4o-mini", messages: "hi" })).toBe(
      keyOf({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] })
    )
  })
})

// -----------------------------------------------------------------------------
// chat and streams
// -----------------------------------------------------------------------------

describe("ResponseCache (memory)", () => {
  it.effect("a second identical chat is a hit: no provider call, the original usage, cost, id and text", () =>
    Effect.gen(function*() {
      const first = yield* chat()
      const second = yield* chat({ metadata: { run: "2" }, timeout: { totalMs: 5_000 }, user: "someone-else" })
      expect(yield* FakeProvider.calls).toHaveLength(1)
      expect(first.fromCache).toBeUndefined()
      expect(second.fromCache).toBe(true)
      expect(second.text).toBe("cached answer")
      expect(second.id).toBe(first.id)
      expect(second.usage).toEqual(usage)
      expect(second.cost).toBeDefined()
      expect(second.cost).toEqual(first.cost)
      expect(second.message).toEqual(first.message)
      expect(second.finishReason).toBe("stop")
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      script: [FakeProvider.text("cached answer", { usage })]
    }))))

  it.effect("tool calls are served from the cache as they were", () =>
    Effect.gen(function*() {
      const first = yield* chat()
      const second = yield* chat()
      expect(yield* FakeProvider.calls).toHaveLength(1)
      expect(second.fromCache).toBe(true)
      expect(second.toolCalls).toEqual(first.toolCalls)
      expect(second.toolCalls[0]?.arguments).toEqual({ city: "Paris" })
      expect(second.finishReason).toBe("tool_calls")
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      script: [FakeProvider.toolCalls([{ name: "weather", arguments: { city: "Paris" } }])]
    }))))

  it.effect("a different request is a miss", () =>
    Effect.gen(function*() {
      yield* chat()
      yield* chat({ temperature: 0.5 })
      yield* chat({ messages: "another prompt" })
      yield* chat({ model: "gpt-4o" })
      expect(yield* FakeProvider.calls).toHaveLength(4)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), { default: FakeProvider.text("x") }))))

  it.effect("a second identical stream replays the same events in order, with the original usage", () =>
    Effect.gen(function*() {
      const first = yield* streamEvents()
      const second = yield* streamEvents()
      expect(yield* FakeProvider.calls).toHaveLength(1)
      expect(withoutFromCache(second)).toEqual(first)
      const finish = second[second.length - 1]
      expect(finish?._tag === "Finish" && finish.fromCache).toBe(true)
      expect(finish?._tag === "Finish" && finish.usage).toEqual(usage)
      const firstResult = StreamEvent.accumulateAll(first)
      const replayed = yield* StreamEvent.accumulate(
        LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hello cache" })
      )
      expect(replayed.fromCache).toBe(true)
      expect(replayed.text).toBe("one two three")
      expect(replayed.usage).toEqual(firstResult.usage)
      expect(replayed.cost).toEqual(firstResult.cost)
      expect(first.filter((e) => e._tag === "TextDelta").length).toBe(3)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      script: [FakeProvider.stream([
        "one ",
        "two ",
        "three",
        StreamEvent.finish("stop", { usage })
      ])]
    }))))

  it.effect("a chat entry answers a stream, a stream entry answers a chat", () =>
    Effect.gen(function*() {
      const result = yield* chat()
      const replayed = yield* StreamEvent.accumulate(
        LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hello cache" })
      )
      expect(replayed.fromCache).toBe(true)
      expect(replayed.text).toBe(result.text)
      expect(replayed.usage).toEqual(result.usage)
      yield* streamEvents({ messages: "streamed first" })
      const fromStream = yield* chat({ messages: "streamed first" })
      expect(fromStream.fromCache).toBe(true)
      expect(fromStream.text).toBe("a b c")
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      script: [FakeProvider.text("chat first", { usage }), FakeProvider.stream("a b c")]
    }))))

  it.effect("a failed stream is not written", () =>
    Effect.gen(function*() {
      const failed = yield* Effect.either(streamEvents())
      expect(Either.isLeft(failed)).toBe(true)
      const second = yield* streamEvents()
      expect(StreamEvent.accumulateAll(second).text).toBe("complete")
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      script: [FakeProvider.failAfter("partial answer", serverError()), FakeProvider.text("complete")]
    }))))

  it.effect("a stream cut short by its consumer or interrupted is not written", () => {
    const script = [
      // one event at a time: the consumer stops before the provider's Finish
      FakeProvider.stream("one two three four", { interval: "10 millis" }),
      FakeProvider.stallAfter("one two"),
      FakeProvider.text("complete")
    ]
    return Effect.gen(function*() {
      const taken = yield* Stream.runCollect(
        Stream.take(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hello cache" }), 2)
      )
      expect(taken.length).toBe(2)
      const fiber = yield* Effect.fork(streamEvents({ timeout: { totalMs: 60_000, idleMs: 60_000 } }))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      const third = yield* streamEvents()
      expect(StreamEvent.accumulateAll(third).text).toBe("complete")
      expect(yield* FakeProvider.calls).toHaveLength(3)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), { script })))
  })

  it.effect("an answer whose finish reason is error is not written", () =>
    Effect.gen(function*() {
      yield* chat()
      yield* chat()
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      default: FakeProvider.text("oops", { finishReason: "error" })
    }))))
})

// -----------------------------------------------------------------------------
// policies and TTL
// -----------------------------------------------------------------------------

describe("policies", () => {
  it.effect("off: neither reads nor writes", () =>
    Effect.gen(function*() {
      yield* chat()
      yield* chat()
      expect(yield* FakeProvider.calls).toHaveLength(2)
      const on = yield* chat({ responseCache: { policy: "read_through" } })
      expect(on.fromCache).toBeUndefined()
      expect(yield* FakeProvider.calls).toHaveLength(3)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ policy: "off" }), {
      default: FakeProvider.text("x")
    }))))

  it.effect("a per-call policy overrides the layer's", () =>
    Effect.gen(function*() {
      yield* chat()
      const bypass = yield* chat({ responseCache: { policy: "off" } })
      expect(bypass.fromCache).toBeUndefined()
      const hit = yield* chat()
      expect(hit.fromCache).toBe(true)
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), { default: FakeProvider.text("x") }))))

  it.effect("write_through: always calls the provider, and writes", () =>
    Effect.gen(function*() {
      const a = yield* chat({ responseCache: { policy: "write_through" } })
      const b = yield* chat({ responseCache: { policy: "write_through" } })
      expect(a.fromCache).toBeUndefined()
      expect(b.fromCache).toBeUndefined()
      expect(yield* FakeProvider.calls).toHaveLength(2)
      const hit = yield* chat()
      expect(hit.fromCache).toBe(true)
      expect(hit.text).toBe("second")
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      script: [FakeProvider.text("first"), FakeProvider.text("second")]
    }))))

  it.effect("refresh: calls the provider and overwrites a stale entry (chat and stream)", () =>
    Effect.gen(function*() {
      expect((yield* chat()).text).toBe("old")
      const refreshed = yield* chat({ responseCache: { policy: "refresh" } })
      expect(refreshed.text).toBe("new")
      expect((yield* chat()).text).toBe("new")
      yield* streamEvents({ responseCache: { policy: "refresh" } })
      const replayed = StreamEvent.accumulateAll(yield* streamEvents())
      expect(replayed.text).toBe("newest")
      expect(replayed.fromCache).toBe(true)
      expect(yield* FakeProvider.calls).toHaveLength(3)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      script: [FakeProvider.text("old"), FakeProvider.text("new"), FakeProvider.text("newest")]
    }))))

  it.effect("entries expire after ttlMs (Clock)", () =>
    Effect.gen(function*() {
      yield* chat()
      yield* TestClock.adjust("999 millis")
      expect((yield* chat()).fromCache).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect((yield* chat()).fromCache).toBeUndefined()
      expect(yield* FakeProvider.calls).toHaveLength(2)
      // a per-call TTL wins
      yield* chat({ messages: "long lived", responseCache: { ttlMs: 10_000 } })
      yield* TestClock.adjust("5 seconds")
      expect((yield* chat({ messages: "long lived" })).fromCache).toBe(true)
      yield* TestClock.adjust("5 seconds")
      expect((yield* chat({ messages: "long lived" })).fromCache).toBeUndefined()
      expect(yield* FakeProvider.calls).toHaveLength(4)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ ttlMs: 1_000 }), {
      default: FakeProvider.text("x")
    }))))

  it.effect("invalid options die", () =>
    Effect.gen(function*() {
      const store = yield* ResponseCache.makeMemoryStore()
      const exit = yield* Effect.exit(ResponseCache.make({ store, ttlMs: -1 }))
      expect(Exit.isFailure(exit) && !Exit.isInterrupted(exit)).toBe(true)
      const badStore = yield* Effect.exit(ResponseCache.makeMemoryStore({ maxEntries: 0 }))
      expect(Exit.isFailure(badStore)).toBe(true)
    }))
})

// -----------------------------------------------------------------------------
// the memory store
// -----------------------------------------------------------------------------

describe("memory store", () => {
  it.effect("evicts the least recently used entry beyond maxEntries, and counts it", () =>
    Effect.gen(function*() {
      const before = yield* evictions("memory")
      const store = yield* ResponseCache.makeMemoryStore({ maxEntries: 2 })
      yield* store.set("a", "1", undefined)
      yield* store.set("b", "2", undefined)
      expect(yield* store.get("a")).toEqual(Option.some("1")) // a is now the most recent
      yield* store.set("c", "3", undefined)
      expect(yield* store.get("b")).toEqual(Option.none())
      expect(yield* store.get("a")).toEqual(Option.some("1"))
      expect(yield* store.get("c")).toEqual(Option.some("3"))
      expect((yield* evictions("memory")) - before).toBe(1)
    }))

  it.effect("evicts by total bytes, and never stores a value larger than maxBytes", () =>
    Effect.gen(function*() {
      const before = yield* evictions("memory")
      const store = yield* ResponseCache.makeMemoryStore({ maxBytes: 100 })
      yield* store.set("k1", "x".repeat(40), undefined) // 42 bytes
      yield* store.set("k2", "y".repeat(40), undefined) // 84
      yield* store.set("k3", "z".repeat(40), undefined) // 126 > 100: k1 goes
      expect(yield* store.get("k1")).toEqual(Option.none())
      expect(Option.isSome(yield* store.get("k2"))).toBe(true)
      expect(Option.isSome(yield* store.get("k3"))).toBe(true)
      // multi-byte characters count in UTF-8 bytes: 3 × 30 = 90 (+2) evicts both others
      yield* store.set("k4", "€".repeat(30), undefined)
      expect(yield* store.get("k2")).toEqual(Option.none())
      expect(yield* store.get("k3")).toEqual(Option.none())
      expect(yield* store.get("k4")).toEqual(Option.some("€".repeat(30)))
      expect((yield* evictions("memory")) - before).toBe(3)
      yield* store.set("huge", "h".repeat(200), undefined)
      expect(yield* store.get("huge")).toEqual(Option.none())
      expect(Option.isSome(yield* store.get("k4"))).toBe(true)
    }))

  it.effect("expires entries through Clock; expired entries are not evictions", () =>
    Effect.gen(function*() {
      const before = yield* evictions("memory")
      const store = yield* ResponseCache.makeMemoryStore({ maxEntries: 1 })
      yield* store.set("a", "1", 100)
      yield* TestClock.adjust("100 millis")
      yield* store.set("b", "2", 100) // drops the expired a: no eviction
      expect((yield* evictions("memory")) - before).toBe(0)
      expect(yield* store.get("b")).toEqual(Option.some("2"))
      yield* TestClock.adjust("100 millis")
      expect(yield* store.get("b")).toEqual(Option.none())
    }))

  it.effect("a client cache evicts by count (LRU) end to end", () =>
    Effect.gen(function*() {
      yield* chat({ messages: "a" })
      yield* chat({ messages: "b" })
      yield* chat({ messages: "a" }) // hit, a is the most recent
      yield* chat({ messages: "c" }) // evicts b
      expect((yield* chat({ messages: "a" })).fromCache).toBe(true)
      expect((yield* chat({ messages: "b" })).fromCache).toBeUndefined()
      expect(yield* FakeProvider.calls).toHaveLength(4)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ maxEntries: 2 }), {
      default: FakeProvider.text("x")
    }))))
})

// -----------------------------------------------------------------------------
// fail-open, metrics, secrets
// -----------------------------------------------------------------------------

describe("fail-open", () => {
  it.effect("a failing store: the call still succeeds, errors are counted and logged without content", () => {
    const log = recordingLogger()
    const model = "openai:failing-store"
    return Effect.gen(function*() {
      const before = yield* cacheCounters("failing-store")
      const a = yield* chat({ model, messages: "a secret prompt" })
      const b = yield* StreamEvent.accumulate(LlmClient.chatStream({ model, messages: "a secret prompt" }))
      expect(a.text).toBe("fine")
      expect(b.text).toBe("fine")
      expect(yield* FakeProvider.calls).toHaveLength(2)
      const after = yield* cacheCounters("failing-store")
      // a get and a set per call
      expect(after.errors - before.errors).toBe(4)
      expect(after.writes - before.writes).toBe(0)
      const warnings = log.lines.filter((l) => l.level === "WARN")
      expect(warnings).toHaveLength(4)
      for (const line of warnings) {
        expect(String(line.message)).toContain("broken")
        expect(String(line.message)).toContain("connection refused")
        expect(JSON.stringify(line)).not.toContain("secret prompt")
        expect(line.annotations.store).toBe("broken")
      }
    }).pipe(Effect.provide(
      Layer.merge(
        clientWith(ResponseCache.layerStore(brokenStore), { default: FakeProvider.text("fine") }),
        log.layer
      )
    ))
  })

  it.effect("a store that dies or never answers: the call still succeeds", () => {
    const dying: ResponseCache.Store = {
      name: "dying",
      get: () => Effect.die(new Error("bug in the store")),
      set: () => Effect.die(new Error("bug in the store")),
      delete: () => Effect.void
    }
    const hanging: ResponseCache.Store = {
      name: "hanging",
      get: () => Effect.never,
      set: () => Effect.never,
      delete: () => Effect.never
    }
    return Effect.gen(function*() {
      const dyingClient = clientWith(ResponseCache.layerStore(dying), { default: FakeProvider.text("fine") })
      expect((yield* Effect.provide(chat(), dyingClient)).text).toBe("fine")
      const hangingClient = clientWith(ResponseCache.layerStore(hanging, { storeTimeoutMs: 500 }), {
        default: FakeProvider.text("fine")
      })
      const fiber = yield* Effect.fork(Effect.provide(chat({ model: "openai:hanging-store" }), hangingClient))
      yield* TestClock.adjust("500 millis") // the get gives up
      yield* TestClock.adjust("500 millis") // the set gives up
      const result = yield* Fiber.join(fiber)
      expect(result.text).toBe("fine")
      expect((yield* cacheCounters("hanging-store")).errors).toBe(2)
    })
  })

  it.effect("a stored value that is no entry is a miss, and is deleted", () =>
    Effect.gen(function*() {
      const inner = yield* ResponseCache.makeMemoryStore()
      const key = keyOf({ model: "gpt-4o-mini", messages: "hello cache" })
      yield* inner.set(key, "{\"v\":1,\"kind\":\"chat\",\"result\":{\"truncated", undefined)
      const result = yield* Effect.provide(
        chat(),
        clientWith(ResponseCache.layerStore(inner), { default: FakeProvider.text("fresh") })
      )
      expect(result.fromCache).toBeUndefined()
      expect(result.text).toBe("fresh")
      const stored = yield* inner.get(key)
      expect(Option.isSome(stored) && Option.isSome(ResponseCache.decodeEntry(stored.value))).toBe(true)
      // an entry of another version is a miss too
      expect(ResponseCache.decodeEntry("{\"v\":2,\"kind\":\"chat\",\"result\":{}}")).toEqual(Option.none())
      expect(ResponseCache.decodeEntry("garbage")).toEqual(Option.none())
    }))
})

describe("metrics and the call's cache outcome", () => {
  it.effect("hits, misses and writes are counted; the log line says hit, miss or none", () => {
    const log = recordingLogger()
    const model = "openai:metrics-model"
    return Effect.gen(function*() {
      const before = yield* cacheCounters("metrics-model")
      yield* chat({ model })
      yield* chat({ model })
      yield* chat({ model, responseCache: { policy: "off" } })
      yield* streamEvents({ model, messages: "stream me" })
      yield* streamEvents({ model, messages: "stream me" })
      yield* chat({ model, responseCache: { policy: "refresh" } })
      const after = yield* cacheCounters("metrics-model")
      expect({
        hits: after.hits - before.hits,
        misses: after.misses - before.misses,
        writes: after.writes - before.writes,
        errors: after.errors - before.errors
      }).toEqual({ hits: 2, misses: 2, writes: 3, errors: 0 })
      const outcomes = log.lines.filter((l) => l.message === "llm.chat" || l.message === "llm.stream").map((l) =>
        l.annotations.cache
      )
      expect(outcomes).toEqual(["miss", "hit", "none", "miss", "hit", "miss"])
      // a hit's tokens are not counted again: 4 provider calls (2 misses, off, refresh)
      expect(yield* counter("llm_tokens_input_total", { provider: "openai", model: "metrics-model" })).toBe(
        4 * usage.inputTokens
      )
    }).pipe(Effect.provide(
      Layer.merge(
        clientWith(ResponseCache.layerMemory(), { default: FakeProvider.text("x", { usage }) }),
        log.layer
      )
    ))
  })
})

// -----------------------------------------------------------------------------
// coalescing
// -----------------------------------------------------------------------------

describe("coalescing", () => {
  const hundred = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.all(Array.from({ length: 100 }, () => effect), { concurrency: "unbounded" })

  it.effect("100 identical concurrent chats make one provider call", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(hundred(chat()))
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      expect(yield* FakeProvider.calls).toHaveLength(1)
      expect(new Set(results.map((r) => r.text))).toEqual(new Set(["shared"]))
      expect(results.filter((r) => r.fromCache === true)).toHaveLength(99)
      expect(results.every((r) => r.usage.inputTokens === usage.inputTokens)).toBe(true)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ coalesce: true }), {
      script: [FakeProvider.text("shared", { usage, delay: "1 second" })]
    }))))

  it.effect("without coalescing, each concurrent miss calls the provider", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(hundred(chat()))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(yield* FakeProvider.calls).toHaveLength(100)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory(), {
      default: FakeProvider.text("own", { delay: "1 second" })
    }))))

  it.effect("an error is shared by every waiting caller", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(hundred(Effect.either(chat())))
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      expect(yield* FakeProvider.calls).toHaveLength(1)
      for (const r of results) {
        expect(Either.isLeft(r) && r.left._tag).toBe("ServerError")
        expect(Either.isLeft(r) && r.left.message).toBe("upstream down")
      }
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ coalesce: true }), {
      script: [FakeProvider.fail(serverError(), { delay: "1 second" }), FakeProvider.text("later")]
    }))))

  it.effect("an interrupted leader: its followers elect a new one and complete", () =>
    Effect.gen(function*() {
      const leader = yield* Effect.fork(chat())
      yield* TestClock.adjust("100 millis")
      expect(yield* FakeProvider.calls).toHaveLength(1)
      const followers = yield* Effect.forEach(Array.from({ length: 10 }), () => Effect.fork(chat()))
      yield* TestClock.adjust("100 millis")
      // every follower waits for the leader (the provider was called once)
      for (const f of followers) expect(FiberStatus.isSuspended(yield* f.status)).toBe(true)
      expect(yield* FakeProvider.calls).toHaveLength(1)
      yield* Fiber.interrupt(leader)
      yield* TestClock.adjust("1 second")
      const results = yield* Effect.forEach(followers, Fiber.join)
      expect(results.map((r) => r.text)).toEqual(Array.from({ length: 10 }, () => "second"))
      expect(results.filter((r) => r.fromCache !== true)).toHaveLength(1) // the new leader
      expect(yield* FakeProvider.calls).toHaveLength(2)
      // and the next call is a plain hit
      expect((yield* chat()).fromCache).toBe(true)
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ coalesce: true }), {
      script: [
        FakeProvider.text("first", { delay: "1 second" }),
        FakeProvider.text("second", { delay: "1 second" })
      ]
    }))))

  it.effect("an interrupted leader without followers leaves nothing in flight", () =>
    Effect.gen(function*() {
      const leader = yield* Effect.fork(chat())
      yield* TestClock.adjust("100 millis")
      yield* Fiber.interrupt(leader)
      const fiber = yield* Effect.fork(chat())
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber)).text).toBe("second")
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ coalesce: true }), {
      script: [
        FakeProvider.text("first", { delay: "1 second" }),
        FakeProvider.text("second", { delay: "1 second" })
      ]
    }))))

  it.effect("an interrupted follower does not disturb the others", () =>
    Effect.gen(function*() {
      const leader = yield* Effect.fork(chat())
      yield* TestClock.adjust("100 millis")
      const quitter = yield* Effect.fork(chat())
      const stayer = yield* Effect.fork(chat())
      yield* TestClock.adjust("100 millis")
      yield* Fiber.interrupt(quitter)
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(leader)).text).toBe("only")
      expect((yield* Fiber.join(stayer)).fromCache).toBe(true)
      expect(yield* FakeProvider.calls).toHaveLength(1)
    }).pipe(Effect.provide(clientWith(ResponseCache.layerMemory({ coalesce: true }), {
      script: [FakeProvider.text("only", { delay: "1 second" })]
    }))))
})

// -----------------------------------------------------------------------------
// the filesystem store
// -----------------------------------------------------------------------------

describe("filesystem store", () => {
  it.effect("two cache instances on one directory share entries", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const first = yield* Effect.provide(
        chat(),
        clientWith(ResponseCache.layerFile({ directory }), { script: [FakeProvider.text("on disk", { usage })] })
      )
      const other = clientWith(ResponseCache.layerFile({ directory }), { script: [] })
      const [second, calls] = yield* Effect.provide(Effect.zip(chat(), FakeProvider.calls), other)
      expect(calls).toHaveLength(0)
      expect(second.fromCache).toBe(true)
      expect(second.text).toBe(first.text)
      expect(second.usage).toEqual(first.usage)
      const files = filesUnder(directory)
      expect(files).toHaveLength(1)
      // hash-named, sharded, and the key (let alone the prompt) is not in the name
      expect(Path.relative(directory, files[0]!)).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{64}\.entry$/)
    }))

  it.effect("gzip: entries are compressed, and read by either setting", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const zipped = yield* ResponseCache.makeFileStore({ directory, gzip: true, shard: false })
      yield* zipped.set("k", "value ".repeat(100), undefined)
      const files = filesUnder(directory)
      expect(files).toHaveLength(1)
      const bytes = Fs.readFileSync(files[0]!)
      expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b])
      expect(bytes.length).toBeLessThan(600)
      const plain = yield* ResponseCache.makeFileStore({ directory, shard: false })
      expect(yield* plain.get("k")).toEqual(Option.some("value ".repeat(100)))
    }))

  it.effect("a corrupted, truncated or garbage file is a miss, and is deleted", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const store = yield* ResponseCache.makeFileStore({ directory, gzip: true })
      const damage: ReadonlyArray<(bytes: Buffer) => Buffer> = [
        (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)), // truncated gzip
        () => Buffer.from("not json at all"),
        () => Buffer.from([0x1f, 0x8b, 0x00, 0x01, 0x02]), // gzip magic, garbage after
        () => Buffer.from(JSON.stringify({ v: 1, key: "k", expiresAt: null })), // no value
        () => Buffer.alloc(0)
      ]
      for (const corrupt of damage) {
        yield* store.set("k", "the value", undefined)
        const [file] = filesUnder(directory)
        Fs.writeFileSync(file!, corrupt(Fs.readFileSync(file!)))
        expect(yield* store.get("k")).toEqual(Option.none())
        expect(Fs.existsSync(file!)).toBe(false)
      }
    }))

  it.effect("a corrupted file under a client is a miss without a crash", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const client = clientWith(ResponseCache.layerFile({ directory }), { default: FakeProvider.text("fresh") })
      yield* Effect.provide(chat(), client)
      const [file] = filesUnder(directory)
      Fs.writeFileSync(file!, "{\"v\":1,\"key\":")
      const again = yield* Effect.provide(Effect.zip(chat(), FakeProvider.calls), client)
      expect(again[0].fromCache).toBeUndefined()
      expect(again[1]).toHaveLength(1)
      // rewritten whole
      const hit = yield* Effect.provide(chat(), client)
      expect(hit.fromCache).toBe(true)
    }))

  it.effect("the expiry is stored in the entry and read through Clock", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const store = yield* ResponseCache.makeFileStore({ directory })
      yield* store.set("k", "v", 1_000)
      const [file] = filesUnder(directory)
      expect(JSON.parse(Fs.readFileSync(file!, "utf8"))).toMatchObject({ v: 1, key: "k", expiresAt: 1_000 })
      expect(yield* store.get("k")).toEqual(Option.some("v"))
      yield* TestClock.adjust("1 second")
      expect(yield* store.get("k")).toEqual(Option.none())
      expect(Fs.existsSync(file!)).toBe(false)
      yield* store.delete("k") // missing: no error
    }))

  it.effect("writes are atomic: concurrent writers and readers never see a partial entry, no temp file stays", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const store = yield* ResponseCache.makeFileStore({ directory, gzip: true })
      const values = Array.from({ length: 40 }, (_, i) => `${i}:`.padEnd(50_000, String.fromCharCode(97 + (i % 26))))
      const seen: Array<Option.Option<string>> = []
      yield* Effect.all([
        Effect.forEach(values, (v) => store.set("k", v, undefined), { concurrency: "unbounded", discard: true }),
        Effect.forEach(
          Array.from({ length: 40 }),
          () => Effect.map(store.get("k"), (v) => seen.push(v)),
          { concurrency: 8, discard: true }
        )
      ], { concurrency: "unbounded" })
      for (const v of seen) if (Option.isSome(v)) expect(values).toContain(v.value)
      const final = yield* store.get("k")
      expect(Option.isSome(final) && values.includes(final.value)).toBe(true)
      const files = filesUnder(directory)
      expect(files).toHaveLength(1)
      expect(files.some((f) => f.endsWith(".tmp"))).toBe(false)
    }))

  it.effect("an unusable directory: the call still succeeds and the error is counted", () =>
    Effect.gen(function*() {
      const parent = tempDir()
      const directory = Path.join(parent, "a-file")
      Fs.writeFileSync(directory, "not a directory")
      const result = yield* Effect.provide(
        chat({ model: "openai:unusable-dir" }),
        clientWith(ResponseCache.layerFile({ directory }), { default: FakeProvider.text("fine") })
      )
      expect(result.text).toBe("fine")
      expect((yield* cacheCounters("unusable-dir")).errors).toBeGreaterThanOrEqual(1)
      expect(filesUnder(parent)).toEqual([directory])
    }))
})

// -----------------------------------------------------------------------------
// secrets
// -----------------------------------------------------------------------------

describe("secrets", () => {
  it.effect("no provider key in keys or stored values (chat and stream)", () => {
    const secret = "sk-very-secret-key-0123456789"
    return Effect.gen(function*() {
      const inner = yield* ResponseCache.makeMemoryStore()
      const recorded = recordingStore(inner)
      const client = FakeProvider.layerClient({
        default: (call) =>
          FakeProvider.text(`reply to ${call.request.messages.length} messages`, {
            usage: { inputTokens: 3, outputTokens: 4 }
          })
      }).pipe(
        Layer.provide(ResponseCache.layerStore(recorded.store)),
        Layer.provide(RetryPolicy.layerDisabled)
      )
      yield* Effect.provide(
        Effect.zip(
          chat({ providerOptions: { openai: { logprobs: true } }, metadata: { apiKey: secret }, user: secret }),
          streamEvents({ messages: "stream", idempotencyKey: secret })
        ),
        client
      )
      expect(recorded.sets).toHaveLength(2)
      for (const { key, value } of recorded.sets) {
        expect(key).not.toContain(secret)
        expect(value).not.toContain(secret)
      }
    })
  })
})
