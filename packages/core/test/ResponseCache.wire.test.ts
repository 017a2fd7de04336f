// The response cache over real HTTP: the OpenAI provider (with an API key) against the
// bundled mock server, so what the cache stores is what a real provider's answer becomes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { LlmClient, ProviderRegistry, ResponseCache, StreamEvent, UndiciHttpClient } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import { MockServer } from "@llm-fiber/testing"
import { Effect, Layer, Logger, LogLevel } from "effect"

const secret = "sk-live-very-secret-0123456789abcdef"

let server: MockServer.Handle
beforeAll(async () => {
  server = await MockServer.start()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const recordingStore = (inner: ResponseCache.Store) => {
  const sets: Array<{ readonly key: string; readonly value: string }> = []
  const store: ResponseCache.Store = {
    name: "recording",
    get: (key) => inner.get(key),
    set: (key, value, ttlMs) =>
      Effect.zipRight(Effect.sync(() => sets.push({ key, value })), inner.set(key, value, ttlMs)),
    delete: (key) => inner.delete(key)
  }
  return { store, sets }
}

const clientWith = (store: ResponseCache.Store) =>
  LlmClient.layer.pipe(
    Layer.provide(OpenAI.layer({ baseUrl: server.openaiBaseUrl, apiKey: secret })),
    Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer())),
    Layer.provide(ResponseCache.layerStore(store))
  )

describe("ResponseCache over HTTP", () => {
  it.live("chat and stream hits make no request; the API key is in no key or stored value", () =>
    Effect.gen(function*() {
      const recorded = recordingStore(yield* ResponseCache.makeMemoryStore())
      yield* Effect.gen(function*() {
        const first = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hello wire" })
        const second = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hello wire" })
        expect(second.fromCache).toBe(true)
        expect(second.text).toBe(first.text)
        expect(second.usage).toEqual(first.usage)
        expect(second.cost).toEqual(first.cost)
        const streamed = yield* StreamEvent.accumulate(
          LlmClient.chatStream({ model: "gpt-4o-mini?chunks=4", messages: "stream wire" })
        )
        const replayed = yield* StreamEvent.accumulate(
          LlmClient.chatStream({ model: "gpt-4o-mini?chunks=4", messages: "stream wire" })
        )
        expect(replayed.fromCache).toBe(true)
        expect(replayed.text).toBe(streamed.text)
        expect(replayed.usage).toEqual(streamed.usage)
      }).pipe(Effect.provide(clientWith(recorded.store)), Logger.withMinimumLogLevel(LogLevel.Warning))
      expect(server.requests).toHaveLength(2)
      // the provider did get the key…
      expect(JSON.stringify(server.requests)).toContain(secret)
      // …and the cache never saw it
      expect(recorded.sets).toHaveLength(2)
      for (const { key, value } of recorded.sets) {
        expect(key).not.toContain(secret)
        expect(value).not.toContain(secret)
        expect(value).not.toContain("Bearer")
      }
    }))
})
