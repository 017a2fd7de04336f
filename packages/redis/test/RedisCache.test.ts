import { describe, expect, it } from "@effect/vitest"
import { LlmClient, type ResponseCache } from "@llm-fiber/core"
import { Redis, RedisCache } from "@llm-fiber/redis"
import { FakeProvider } from "@llm-fiber/testing"
import { Effect, Layer, Option } from "effect"
import * as Helpers from "./helpers.js"

const setup = (options?: RedisCache.Options) =>
  Effect.gen(function*() {
    const { connection, prefix } = yield* Helpers.make()
    return { store: RedisCache.makeStoreWith(connection, options), connection, prefix }
  })

describe("RedisCache", () => {
  it.scoped("is a ResponseCache.Store named redis", () =>
    Effect.gen(function*() {
      const { store } = yield* setup()
      const typed: ResponseCache.Store = store
      expect(typed.name).toBe("redis")
    }))

  it.scoped("get of a missing key is none; set then get returns the value; set again replaces it", () =>
    Effect.gen(function*() {
      const { store } = yield* setup()
      expect(yield* store.get("k")).toEqual(Option.none())
      yield* store.set("k", "v1", 60_000)
      expect(yield* store.get("k")).toEqual(Option.some("v1"))
      yield* store.set("k", "v2", 60_000)
      expect(yield* store.get("k")).toEqual(Option.some("v2"))
    }))

  it.scoped("values round-trip byte for byte (unicode, newlines, large)", () =>
    Effect.gen(function*() {
      const { store } = yield* setup()
      const value = JSON.stringify({ text: "héllo 👋 \u0000 \r\n \"quoted\"", big: "x".repeat(1_000_000) })
      yield* store.set("big", value, 60_000)
      expect(Option.getOrThrow(yield* store.get("big"))).toBe(value)
    }))

  it.scopedLive("SET … PX: the server expires the entry after its TTL", () =>
    Effect.gen(function*() {
      const { connection, store } = yield* setup()
      yield* store.set("short", "v", 120)
      const pttl = yield* connection.use((client) => client.pttl("short"))
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(120)
      expect(yield* store.get("short")).toEqual(Option.some("v"))
      yield* Effect.sleep("300 millis")
      expect(yield* store.get("short")).toEqual(Option.none())
    }))

  it.scoped("fractional TTLs round up; no TTL means no expiry; a TTL <= 0 stores nothing and removes the old value", () =>
    Effect.gen(function*() {
      const { connection, store } = yield* setup()
      const pttl = (key: string) => connection.use((client) => client.pttl(key))
      yield* store.set("frac", "v", 0.2)
      expect([1, 0, -2]).toContain(yield* pttl("frac")) // 1 ms left, or already gone (-2); never -1 (no expiry)
      yield* store.set("forever", "v", undefined)
      expect(yield* pttl("forever")).toBe(-1)
      yield* store.set("gone", "old", 60_000)
      yield* store.set("gone", "new", 0)
      expect(yield* store.get("gone")).toEqual(Option.none())
    }))

  it.scoped("delete removes the entry; deleting a missing key is not an error", () =>
    Effect.gen(function*() {
      const { store } = yield* setup()
      yield* store.set("k", "v", 60_000)
      yield* store.delete("k")
      expect(yield* store.get("k")).toEqual(Option.none())
      yield* store.delete("never-there")
    }))

  it.scoped("keys are the cache's keys after the connection's keyPrefix and the store's prefix; prefixes separate stores", () =>
    Effect.gen(function*() {
      const { connection, prefix, store } = yield* setup()
      const other = RedisCache.makeStoreWith(connection, { prefix: "other-app:" })
      yield* store.set("llm-fiber:cache:v1:abc", "mine", 60_000)
      yield* other.set("llm-fiber:cache:v1:abc", "theirs", 60_000)
      expect(yield* store.get("llm-fiber:cache:v1:abc")).toEqual(Option.some("mine"))
      expect(yield* other.get("llm-fiber:cache:v1:abc")).toEqual(Option.some("theirs"))
      const client = yield* Helpers.raw()
      expect(yield* Effect.promise(() => client.get(`${prefix}llm-fiber:cache:v1:abc`))).toBe("mine")
      expect(yield* Effect.promise(() => client.get(`${prefix}other-app:llm-fiber:cache:v1:abc`))).toBe("theirs")
      yield* other.delete("llm-fiber:cache:v1:abc")
      expect(yield* store.get("llm-fiber:cache:v1:abc")).toEqual(Option.some("mine"))
      expect(yield* other.get("llm-fiber:cache:v1:abc")).toEqual(Option.none())
    }))

  it.scoped("makeStore reads the connection from context", () =>
    Effect.gen(function*() {
      const store = yield* RedisCache.makeStore({ prefix: "ctx:" })
      yield* store.set("a", "1", 60_000)
      expect(yield* store.get("a")).toEqual(Option.some("1"))
    }).pipe(Effect.provide(Helpers.layer())))

  it.scoped("under ResponseCache: the second identical call is served from Redis, by any client", () =>
    Effect.gen(function*() {
      const { connection, prefix } = yield* Helpers.make()
      const client = () =>
        FakeProvider.layerClient({ default: FakeProvider.text("fresh answer") }).pipe(
          Layer.provide(RedisCache.layer({ ttlMs: 60_000 })),
          Layer.provide(Layer.succeed(Redis.Redis, connection))
        )
      const ask = LlmClient.chat({ model: "openai:gpt-4o-mini", messages: "cache me", temperature: 0 })
      const first = yield* Effect.provide(ask, client())
      // a second client (as another process would be) with its own provider
      const second = yield* Effect.provide(
        Effect.zip(ask, FakeProvider.calls),
        client()
      )
      expect(first.fromCache).toBeUndefined()
      expect(second[0].fromCache).toBe(true)
      expect(second[0].text).toBe("fresh answer")
      expect(second[1]).toHaveLength(0)
      const raw = yield* Helpers.raw()
      const keys = yield* Effect.promise(() => raw.keys(`${prefix}llm-fiber:cache:v1:*`))
      expect(keys).toHaveLength(1)
      const ttl = yield* Effect.promise(() => raw.pttl(keys[0]!))
      expect(ttl).toBeGreaterThan(50_000)
      expect(ttl).toBeLessThanOrEqual(60_000)
    }))
})
