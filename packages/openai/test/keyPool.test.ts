/**
 * Key pools over real HTTP (undici → a loopback server that answers 429 for one key):
 * keys alternate, a retry after a 429 goes to another key, a cooling key is skipped, and
 * no key text reaches an error.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ChatRequest, KeyPool, LlmClient, ProviderRegistry, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import { OpenAI, plugin } from "@llm-fiber/openai"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { json, type Recorded, sse, startServer, type TestServer } from "../../../test-support/server.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const keyA = "sk-pool-AAAA-0123456789"
const keyB = "sk-pool-BBBB-0123456789"

const okBody = {
  id: "chatcmpl-ok",
  object: "chat.completion",
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "pong" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
}
const okStream = [
  { id: "c", model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: "pong" }, finish_reason: "stop" }] },
  { id: "c", model: "gpt-4o-mini", choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }
].map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n"

const keyOf = (r: Recorded): string => String(r.headers.authorization ?? "").replace("Bearer ", "")

/** 429 for the `limited` key (with these headers), the normal answer otherwise. */
const serve = (limited: string | undefined, headers: Record<string, string> = {}) =>
  server.handle((r) => {
    if (keyOf(r) === limited) {
      return json({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }, 429, {
        "x-request-id": "req_429",
        ...headers
      })
    }
    return r.body?.stream === true ? sse(okStream) : json(okBody)
  })

const keysSince = (start: number) => server.requests.slice(start).map(keyOf)

const call = () => ({
  request: Either.getOrThrow(ChatRequest.make({ model: "gpt-4o-mini", messages: "ping" })),
  model: "gpt-4o-mini",
  timeouts: Timeouts.hosted,
  attempt: 1
})

const Http = UndiciHttpClient.layer()

const noKeyIn = (value: unknown) => {
  const text = JSON.stringify(value) + String(value)
  expect(text).not.toContain(keyA)
  expect(text).not.toContain(keyB)
}

describe("OpenAI with apiKeys", () => {
  it.effect("requests alternate keys (chat and stream)", () =>
    Effect.gen(function*() {
      serve(undefined)
      const start = server.requests.length
      const p = yield* OpenAI.make({ apiKeys: [keyA, keyB], baseUrl: `${server.url}/v1` })
      yield* p.chat(call())
      yield* Stream.runDrain(p.chatStream(call()))
      yield* p.chat(call())
      yield* Stream.runDrain(p.chatStream(call()))
      expect(keysSince(start)).toEqual([keyA, keyB, keyA, keyB])
    }).pipe(Effect.provide(Http)))

  it.live("through LlmClient: a 429 on key A sends the retry to key B", () =>
    Effect.gen(function*() {
      serve(keyA, { "retry-after-ms": "5" })
      const start = server.requests.length
      const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "ping" })
      expect(result.text).toBe("pong")
      expect(keysSince(start)).toEqual([keyA, keyB])
      const streamed = yield* Stream.runCollect(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "ping" }))
      expect(streamed.length).toBeGreaterThan(0)
      // A cooled for 5 ms only: the stream's first attempt went to A again (round-robin), its retry to B
      expect(keysSince(start)).toEqual([keyA, keyB, keyA, keyB])
    }).pipe(
      Effect.provide(
        LlmClient.layerWith(OpenAI.layer({ apiKeys: [keyA, keyB], baseUrl: `${server.url}/v1` }))
      )
    ))

  it.effect("a key that got a 429 is skipped while it cools down; errors name the label, not the key", () =>
    Effect.gen(function*() {
      serve(keyA, { "retry-after": "30" })
      const start = server.requests.length
      const pool = yield* KeyPool.make({ keys: [keyA, { key: keyB, label: "backup" }], name: "openai" })
      const p = yield* OpenAI.make({ keyPool: pool, baseUrl: `${server.url}/v1` })
      const error = yield* Effect.flip(p.chat(call()))
      expect(error._tag).toBe("RateLimitError")
      expect(error.message).toContain("[key#1]")
      expect(error.provider).toBe("openai")
      noKeyIn(error)
      serve(undefined)
      yield* p.chat(call())
      yield* Stream.runDrain(p.chatStream(call()))
      yield* p.chat(call())
      expect(keysSince(start)).toEqual([keyA, keyB, keyB, keyB])
      expect((yield* pool.snapshot)[0]!.coolingForMs).toBe(30_000)
      noKeyIn(yield* pool.snapshot)
      yield* TestClock.adjust("30 seconds")
      yield* p.chat(call())
      yield* p.chat(call())
      expect(keysSince(start).slice(4)).toEqual([keyA, keyB])
    }).pipe(Effect.provide(Http)))

  it.effect("deployments: each key with its own base URL", () =>
    Effect.gen(function*() {
      serve(undefined)
      const start = server.requests.length
      const p = yield* OpenAI.make({
        apiKeys: [{ key: keyA, baseUrl: `${server.url}/east/v1` }, { key: keyB, baseUrl: `${server.url}/west/v1` }]
      })
      yield* p.chat(call())
      yield* p.chat(call())
      const sent = server.requests.slice(start)
      expect(sent.map((r) => [r.path, keyOf(r)])).toEqual([
        ["/east/v1/chat/completions", keyA],
        ["/west/v1/chat/completions", keyB]
      ])
    }).pipe(Effect.provide(Http)))

  it.effect("apiKey and apiKeys together is a defect naming both", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(OpenAI.make({ apiKey: keyA, apiKeys: [keyB] }))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("either apiKey or apiKeys")
    }).pipe(Effect.provide(Http)))
})

describe("OPENAI_API_KEYS", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.effect("layerConfig reads a comma-separated list (it wins over OPENAI_API_KEY)", () =>
    Effect.gen(function*() {
      serve(undefined)
      const start = server.requests.length
      const chat = LlmClient.chat({ model: "gpt-4o-mini", messages: "ping" })
      yield* Effect.zipRight(chat, chat).pipe(
        Effect.provide(LlmClient.layerWith(OpenAI.layerConfig())),
        withEnv({
          OPENAI_API_KEYS: `${keyA}, ${keyB}`,
          OPENAI_API_KEY: "sk-old-single",
          OPENAI_BASE_URL: `${server.url}/v1`
        })
      )
      expect(keysSince(start)).toEqual([keyA, keyB])
    }))

  it.effect("the plugin shares one pool between openai and openai-responses", () =>
    Effect.gen(function*() {
      const registry = ProviderRegistry.make()
      yield* Layer.build(plugin.layer({ ollama: false })).pipe(
        Effect.provide(Layer.succeed(ProviderRegistry.ProviderRegistry, registry)),
        withEnv({ OPENAI_API_KEYS: `${keyA},${keyB}`, OPENAI_BASE_URL: `${server.url}/v1` })
      )
      expect([...registry.names()].sort()).toEqual(["openai", "openai-responses"])
      serve(undefined)
      const start = server.requests.length
      yield* registry.get("openai")!.chat(call())
      yield* Effect.ignore(registry.get("openai-responses")!.chat(call()))
      expect(keysSince(start)).toEqual([keyA, keyB])
    }).pipe(Effect.scoped, Effect.provide(Http)))
})
