/**
 * Key pools over real HTTP (undici → a loopback server that answers 429 for one key):
 * keys alternate, a retry after a 429 goes to another key, a cooling key is skipped, and
 * no key text reaches an error.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Anthropic } from "@llm-fiber/anthropic"
import { ChatRequest, KeyPool, LlmClient, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { eventsToSse, json, type Recorded, sse, startServer, type TestServer } from "./helpers/server.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const keyA = "sk-ant-api03-POOL-AAAA-0123456789"
const keyB = "sk-ant-api03-POOL-BBBB-0123456789"
const model = "claude-sonnet-4-5"

const okBody = {
  id: "msg_ok",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5-20250929",
  content: [{ type: "text", text: "pong" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 5 }
}
const okStream = eventsToSse([
  {
    type: "message_start",
    message: {
      id: "msg_s",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [],
      usage: { input_tokens: 10, output_tokens: 1 }
    }
  },
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "pong" } },
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } },
  { type: "message_stop" }
])

const keyOf = (r: Recorded): string => String(r.headers["x-api-key"] ?? "")

/** 429 for the `limited` key (with these headers), the normal answer otherwise. */
const serve = (limited: string | undefined, headers: Record<string, string> = {}) =>
  server.handle((r) => {
    if (keyOf(r) === limited) {
      return json(
        {
          type: "error",
          error: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit" }
        },
        429,
        { "request-id": "req_429", ...headers }
      )
    }
    return r.body?.stream === true ? sse(okStream) : json(okBody)
  })

const keysSince = (start: number) => server.requests.slice(start).map(keyOf)

const call = () => ({
  request: Either.getOrThrow(ChatRequest.make({ model, messages: "ping", maxTokens: 10 })),
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

describe("Anthropic with apiKeys", () => {
  it.effect("requests alternate keys (chat and stream)", () =>
    Effect.gen(function*() {
      serve(undefined)
      const start = server.requests.length
      const p = yield* Anthropic.make({ apiKeys: [keyA, keyB], baseUrl: server.url })
      yield* p.chat(call())
      yield* Stream.runDrain(p.chatStream(call()))
      yield* p.chat(call())
      yield* Stream.runDrain(p.chatStream(call()))
      expect(keysSince(start)).toEqual([keyA, keyB, keyA, keyB])
      // every request still carries the static headers
      expect(server.requests.slice(start).every((r) => r.headers["anthropic-version"] === "2023-06-01")).toBe(true)
    }).pipe(Effect.provide(Http)))

  it.live("through LlmClient: a 429 on key A sends the retry to key B", () =>
    Effect.gen(function*() {
      serve(keyA, { "retry-after-ms": "5" })
      const start = server.requests.length
      const result = yield* LlmClient.chat({ model, messages: "ping", maxTokens: 10 })
      expect(result.text).toBe("pong")
      expect(keysSince(start)).toEqual([keyA, keyB])
      const streamed = yield* Stream.runCollect(LlmClient.chatStream({ model, messages: "ping", maxTokens: 10 }))
      expect(streamed.length).toBeGreaterThan(0)
      expect(keysSince(start)).toEqual([keyA, keyB, keyA, keyB])
    }).pipe(Effect.provide(LlmClient.layerWith(Anthropic.layer({ apiKeys: [keyA, keyB], baseUrl: server.url })))))

  it.effect("a key that got a 429 is skipped while it cools down; errors name the label, not the key", () =>
    Effect.gen(function*() {
      serve(keyA, { "retry-after": "30" })
      const start = server.requests.length
      const pool = yield* KeyPool.make({ keys: [keyA, keyB], name: "anthropic" })
      const p = yield* Anthropic.make({ keyPool: pool, baseUrl: server.url })
      const error = yield* Effect.flip(p.chat(call()))
      expect(error._tag).toBe("RateLimitError")
      expect(error.message).toContain("[key#1]")
      expect(error.provider).toBe("anthropic")
      noKeyIn(error)
      yield* Stream.runDrain(p.chatStream(call()))
      serve(undefined)
      yield* p.chat(call())
      yield* p.chat(call())
      expect(keysSince(start)).toEqual([keyA, keyB, keyB, keyB])
      expect((yield* pool.snapshot).map((s) => s.coolingForMs)).toEqual([30_000, 0])
      yield* TestClock.adjust("30 seconds")
      yield* p.chat(call())
      yield* p.chat(call())
      expect(keysSince(start).slice(4)).toEqual([keyA, keyB])
    }).pipe(Effect.provide(Http)))

  it.effect("layerConfig reads ANTHROPIC_API_KEYS (it wins over ANTHROPIC_API_KEY)", () =>
    Effect.gen(function*() {
      serve(undefined)
      const start = server.requests.length
      const chat = LlmClient.chat({ model, messages: "ping", maxTokens: 10 })
      yield* Effect.zipRight(chat, chat).pipe(
        Effect.provide(LlmClient.layerWith(Anthropic.layerConfig())),
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([
            ["ANTHROPIC_API_KEYS", `${keyA},${keyB}`],
            ["ANTHROPIC_API_KEY", "sk-ant-old"],
            ["ANTHROPIC_BASE_URL", server.url]
          ])
        ))
      )
      expect(keysSince(start)).toEqual([keyA, keyB])
    }))
})
