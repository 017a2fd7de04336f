/**
 * Key pools over real HTTP (undici → a loopback server that answers 429 for one key):
 * keys alternate, a retry after a 429 goes to another key, a cooling key is skipped, and
 * no key text reaches an error.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ChatRequest, KeyPool, LlmClient, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import { Gemini } from "@llm-fiber/gemini"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { json, type Recorded, sse, startServer, type TestServer } from "../../../test-support/server.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const keyA = "AIzaSyPoolKeyAAAA_abcdefghijklmnopq"
const keyB = "AIzaSyPoolKeyBBBB_abcdefghijklmnopq"
const model = "gemini-2.5-flash"

const okBody = {
  candidates: [{ content: { role: "model", parts: [{ text: "pong" }] }, finishReason: "STOP", index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
  modelVersion: model,
  responseId: "resp-1"
}
const okStream = `data: ${JSON.stringify(okBody)}\r\n\r\n`

const keyOf = (r: Recorded): string => String(r.headers["x-goog-api-key"] ?? "")

/** 429 for the `limited` key (with these headers), the normal answer otherwise. */
const serve = (limited: string | undefined, headers: Record<string, string> = {}) =>
  server.handle((r) => {
    if (keyOf(r) === limited) {
      return json(
        {
          error: { code: 429, message: "Resource has been exhausted (e.g. check quota).", status: "RESOURCE_EXHAUSTED" }
        },
        429,
        headers
      )
    }
    if (r.path.includes(":batchEmbedContents")) return json({ embeddings: [{ values: [1, 2] }] })
    return r.path.includes(":streamGenerateContent") ? sse(okStream) : json(okBody)
  })

const keysSince = (start: number) => server.requests.slice(start).map(keyOf)

const call = () => ({
  request: Either.getOrThrow(ChatRequest.make({ model, messages: "ping" })),
  model,
  timeouts: Timeouts.hosted,
  attempt: 1
})

const Http = UndiciHttpClient.layer()

const noKeyIn = (value: unknown) => {
  const text = JSON.stringify(value) + String(value)
  expect(text).not.toContain(keyA)
  expect(text).not.toContain(keyB)
}

describe("Gemini with apiKeys", () => {
  it.effect("requests alternate keys (chat, stream and embeddings)", () =>
    Effect.gen(function*() {
      serve(undefined)
      const start = server.requests.length
      const p = yield* Gemini.make({ apiKeys: [keyA, keyB], baseUrl: server.url })
      yield* p.chat(call())
      yield* Stream.runDrain(p.chatStream(call()))
      yield* p.embed!({ model: "text-embedding-004", input: ["a"], timeouts: Timeouts.hosted })
      yield* p.chat(call())
      expect(keysSince(start)).toEqual([keyA, keyB, keyA, keyB])
      // the key travels only in its header
      expect(server.requests.slice(start).some((r) => r.path.includes("key="))).toBe(false)
    }).pipe(Effect.provide(Http)))

  it.live("through LlmClient: a 429 on key A sends the retry to key B", () =>
    Effect.gen(function*() {
      serve(keyA, { "retry-after-ms": "5" })
      const start = server.requests.length
      const result = yield* LlmClient.chat({ model, messages: "ping" })
      expect(result.text).toBe("pong")
      expect(keysSince(start)).toEqual([keyA, keyB])
      const streamed = yield* Stream.runCollect(LlmClient.chatStream({ model, messages: "ping" }))
      expect(streamed.length).toBeGreaterThan(0)
      expect(keysSince(start)).toEqual([keyA, keyB, keyA, keyB])
    }).pipe(Effect.provide(LlmClient.layerWith(Gemini.layer({ apiKeys: [keyA, keyB], baseUrl: server.url })))))

  it.effect("a key that got a 429 is skipped while it cools down; errors name the label, not the key", () =>
    Effect.gen(function*() {
      serve(keyA) // no Retry-After: the pool's default cooldown
      const start = server.requests.length
      const pool = yield* KeyPool.make({ keys: [keyA, keyB], name: "gemini", defaultCooldownMs: 20_000 })
      const p = yield* Gemini.make({ keyPool: pool, baseUrl: server.url })
      const error = yield* Effect.flip(p.chat(call()))
      expect(error._tag).toBe("RateLimitError")
      expect(error.message).toContain("[key#1]")
      expect(error.provider).toBe("gemini")
      noKeyIn(error)
      yield* Stream.runDrain(p.chatStream(call()))
      serve(undefined)
      yield* p.chat(call())
      yield* p.chat(call())
      expect(keysSince(start)).toEqual([keyA, keyB, keyB, keyB])
      expect((yield* pool.snapshot).map((s) => s.coolingForMs)).toEqual([20_000, 0])
      yield* TestClock.adjust("20 seconds")
      yield* p.chat(call())
      yield* p.chat(call())
      expect(keysSince(start).slice(4)).toEqual([keyA, keyB])
    }).pipe(Effect.provide(Http)))

  it.effect("layerConfig reads GEMINI_API_KEYS (it wins over GEMINI_API_KEY)", () =>
    Effect.gen(function*() {
      serve(undefined)
      const start = server.requests.length
      const chat = LlmClient.chat({ model, messages: "ping" })
      yield* Effect.zipRight(chat, chat).pipe(
        Effect.provide(LlmClient.layerWith(Gemini.layerConfig())),
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([
            ["GEMINI_API_KEYS", `${keyA},${keyB}`],
            ["GEMINI_API_KEY", "AIza-old"],
            ["GEMINI_BASE_URL", server.url]
          ])
        ))
      )
      expect(keysSince(start)).toEqual([keyA, keyB])
    }))
})
