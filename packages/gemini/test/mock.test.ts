/**
 * Wire tests against the mock provider server of `@llm-fiber/testing` (Gemini format): the real provider
 * and pipeline over undici, every injected fault mapped to its typed error, retries of
 * `times=N` faults through `LlmClient`, and no hang anywhere.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { ChatRequest, LlmClient, RetryPolicy, type StreamEvent, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import { Gemini } from "@llm-fiber/gemini"
import { MockServer } from "@llm-fiber/testing"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { faultSuite, retryTests } from "../../../test-support/faultSuite.js"
import { describeErrors, validateGenerateContent } from "./helpers/openapi.js"

let server: MockServer.Handle
beforeAll(async () => {
  server = await MockServer.start()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const apiKey = "AIzaSyMockSECRET42_abcdefghijklmnop"

/** The client over the mock server; retries are fast (tiny fixed delays). */
const client = (options: Partial<Gemini.Options> = {}) =>
  LlmClient.layerWith(Gemini.layer({ apiKey, baseUrl: server.geminiBaseUrl, ...options })).pipe(
    Layer.provide(RetryPolicy.layer({ schedule: Schedule.spaced("5 millis") }))
  )

const chat = (input: Omit<ChatRequest.Input, "messages"> & { readonly messages?: ChatRequest.Input["messages"] }) =>
  LlmClient.chat({ messages: "ping", ...input })

const stream = (input: Omit<ChatRequest.Input, "messages"> & { readonly messages?: ChatRequest.Input["messages"] }) =>
  LlmClient.chatStream({ messages: "ping", ...input })

const collect = <E, R>(s: Stream.Stream<StreamEvent.StreamEvent, E, R>) =>
  Effect.map(Stream.runCollect(s), (chunk) => Array.from(chunk))

const textOf = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.map((e) => (e._tag === "TextDelta" ? e.text : "")).join("")

describe("mock server: happy paths", () => {
  it.live("chat and stream, usage, headers, valid request bodies", () =>
    Effect.gen(function*() {
      const result = yield* chat({ model: "gemini:mock?chunks=5", maxTokens: 50 })
      expect(result.text).toBe("tok1 tok2 tok3 tok4 tok5 ")
      expect(result.finishReason).toBe("stop")
      expect(result.provider).toBe("gemini")
      expect(result.usage.outputTokens).toBe(5)
      expect(result.usage.totalTokens).toBe(result.usage.inputTokens + 5)
      const events = yield* collect(stream({ model: "gemini:mock?chunks=5" }))
      expect(events.map((e) => e._tag)).toEqual([
        "Start",
        "TextDelta",
        "TextDelta",
        "TextDelta",
        "TextDelta",
        "TextDelta",
        "Finish"
      ])
      expect(textOf(events)).toBe("tok1 tok2 tok3 tok4 tok5 ")
      const finish = events[events.length - 1] as StreamEvent.Finish
      expect(finish.finishReason).toBe("stop")
      expect(finish.usage?.outputTokens).toBe(5)
      const [first, second] = server.requests
      expect(first?.headers["x-goog-api-key"]).toBe(apiKey)
      expect(first?.headers.authorization).toBeUndefined()
      expect(first?.path).toBe("/v1beta/models/mock%3Fchunks%3D5:generateContent")
      expect(second?.headers.accept).toBe("text/event-stream")
      expect(second?.path).toBe("/v1beta/models/mock%3Fchunks%3D5:streamGenerateContent?alt=sse")
      for (const request of server.requests) expect(request.path).not.toContain(apiKey)
      for (const request of server.requests) {
        const errors = validateGenerateContent(request.body)
        expect(errors, describeErrors(errors)).toEqual([])
      }
    }).pipe(Effect.provide(client())))

  it.live("maxTokens reached → finish reason length", () =>
    Effect.gen(function*() {
      const result = yield* chat({ model: "gemini:mock?chunks=10", maxTokens: 3 })
      expect(result.finishReason).toBe("length")
      expect(server.requests[0]?.body).toMatchObject({ generationConfig: { maxOutputTokens: 3 } })
    }).pipe(Effect.provide(client())))

  it.live("a tool loop: tool call, then the tool result", () =>
    Effect.gen(function*() {
      const tools = [{
        name: "weather",
        description: "weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
      }]
      const events = yield* collect(stream({ model: "gemini:mock", messages: "Weather in Oslo?", tools }))
      const end = events.find((e): e is StreamEvent.ToolCallEnd => e._tag === "ToolCallEnd")
      expect(end?.name).toBe("weather")
      expect(typeof (end?.arguments as { city?: unknown }).city).toBe("string")
      expect((events[events.length - 1] as StreamEvent.Finish).finishReason).toBe("tool_calls")
      const first = yield* chat({ model: "gemini:mock", messages: "Weather in Oslo?", tools })
      expect(first.toolCalls.length).toBe(1)
      const second = yield* chat({
        model: "gemini:mock",
        tools,
        messages: [["user", "Weather in Oslo?"], first.message, {
          role: "tool",
          toolCallId: first.toolCalls[0]!.id,
          content: { temperature: -3 }
        }]
      })
      expect(second.finishReason).toBe("stop")
      expect(second.text.length).toBeGreaterThan(0)
      const sent = server.requests[server.requests.length - 1]!.body as { contents: Array<Record<string, unknown>> }
      expect(sent.contents[2]).toEqual({
        role: "user",
        parts: [{ functionResponse: { name: "weather", response: { temperature: -3 } } }]
      })
      for (const request of server.requests) {
        const errors = validateGenerateContent(request.body)
        expect(errors, describeErrors(errors)).toEqual([])
      }
    }).pipe(Effect.provide(client())))

  it.live("embeddings", () =>
    Effect.gen(function*() {
      const result = yield* LlmClient.embed({
        model: "gemini:text-embedding-004",
        input: ["a", "b", "c"],
        dimensions: 16
      })
      expect(result.embeddings.length).toBe(3)
      expect(result.embeddings[0]!.length).toBe(16)
      expect(result.embeddings[0]).not.toEqual(result.embeddings[1])
      expect(server.requests[0]?.path).toBe("/v1beta/models/text-embedding-004:batchEmbedContents")
    }).pipe(Effect.provide(client())))
})

faultSuite({ prefix: "gemini", apiKey, server: () => server, client })

describe("mock server: retries through LlmClient", () => {
  it.live("times=N faults are retried to success", () =>
    Effect.gen(function*() {
      const rateLimited = yield* chat({ model: "gemini:mock?fault=429&times=2&chunks=3" })
      expect(rateLimited.text).toBe("tok1 tok2 tok3 ")
      expect(server.requests.length).toBe(3)
      expect(server.requests.map((r) => r.headers["x-goog-api-key"])).toEqual([apiKey, apiKey, apiKey])
      for (const fault of ["500", "503", "reset-before-headers"]) {
        server.reset()
        const result = yield* chat({ model: `gemini:mock?fault=${fault}&times=1&chunks=2` })
        expect([fault, result.text, server.requests.length]).toEqual([fault, "tok1 tok2 ", 2])
      }
      server.reset()
      const timedOut = yield* chat({ model: "gemini:mock?fault=stall&times=1&chunks=2", timeout: { totalMs: 150 } })
      expect(timedOut.text).toBe("tok1 tok2 ")
    }).pipe(Effect.provide(client())))

  retryTests({ prefix: "gemini", server: () => server, client: () => client() })
})

describe("mock server: the provider directly", () => {
  it.live("interrupting a stream closes the connection", () =>
    Effect.gen(function*() {
      const provider = yield* Gemini.make({ baseUrl: server.geminiBaseUrl })
      const request = Either.getOrThrow(ChatRequest.make({ model: "mock?chunks=200&chunkDelayMs=20", messages: "x" }))
      const taken = yield* collect(
        provider.chatStream({
          request,
          model: "mock?chunks=200&chunkDelayMs=20",
          timeouts: Timeouts.hosted,
          attempt: 1
        })
          .pipe(Stream.take(3))
      )
      expect(taken.map((e) => e._tag)).toEqual(["Start", "TextDelta", "TextDelta"])
      yield* Effect.promise(() => server.waitForClientClose(2000))
      expect(server.closedConnections()).toBeGreaterThanOrEqual(1)
      expect(server.requests[0]?.headers["x-goog-api-key"]).toBeUndefined()
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.live("controls in x-mock-* headers", () =>
    Effect.gen(function*() {
      const provider = yield* Gemini.make({ baseUrl: server.geminiBaseUrl, headers: { "x-mock-fault": "429" } })
      const request = Either.getOrThrow(ChatRequest.make({ model: "mock", messages: "x" }))
      const error = yield* Effect.flip(provider.chat({ request, model: "mock", timeouts: Timeouts.hosted, attempt: 1 }))
      expect(error._tag).toBe("RateLimitError")
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})
