/**
 * Wire tests against the mock provider server of `@llm-fiber/testing` (Anthropic format,
 * `POST /v1/messages`): the real provider and pipeline over undici, every injected fault
 * mapped to its typed error, retries of `times=N` faults through `LlmClient`, and no
 * hang anywhere. Every request body passes the strict validator.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { Anthropic } from "@llm-fiber/anthropic"
import { ChatRequest, LlmClient, RetryPolicy, type StreamEvent, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import { MockServer } from "@llm-fiber/testing"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { faultSuite } from "../../../test-support/faultSuite.js"
import { validateMessagesRequest } from "./helpers/validate.js"

let server: MockServer.Handle
beforeAll(async () => {
  server = await MockServer.start()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const apiKey = "sk-ant-mock-SECRET-42"

/** The client over the mock server; retries are fast (tiny fixed delays). */
const client = (options: Partial<Anthropic.Options> = {}) =>
  LlmClient.layerWith(Anthropic.layer({ apiKey, baseUrl: server.anthropicBaseUrl, ...options })).pipe(
    Layer.provide(RetryPolicy.layer({ schedule: Schedule.spaced("5 millis") }))
  )

type Input = Omit<ChatRequest.Input, "messages"> & { readonly messages?: ChatRequest.Input["messages"] }
const chat = (input: Input) => LlmClient.chat({ messages: "ping", ...input })
const stream = (input: Input) => LlmClient.chatStream({ messages: "ping", ...input })

const collect = <E, R>(s: Stream.Stream<StreamEvent.StreamEvent, E, R>) =>
  Effect.map(Stream.runCollect(s), (chunk) => Array.from(chunk))

const textOf = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.map((e) => (e._tag === "TextDelta" ? e.text : "")).join("")

const allValid = () => {
  for (const request of server.requests) {
    const errors = validateMessagesRequest(request.body)
    expect(errors, errors.join("\n")).toEqual([])
  }
}

describe("mock server: happy paths", () => {
  it.live("chat and stream, usage, headers, valid request bodies", () =>
    Effect.gen(function*() {
      const result = yield* chat({ model: "anthropic:mock?chunks=5", maxTokens: 50 })
      expect(result.text).toBe("tok1 tok2 tok3 tok4 tok5 ")
      expect(result.finishReason).toBe("stop")
      expect(result.provider).toBe("anthropic")
      expect(result.usage.outputTokens).toBe(5)
      expect(result.usage.totalTokens).toBe(result.usage.inputTokens + 5)
      expect(result.id.startsWith("msg_mock_")).toBe(true)
      const events = yield* collect(stream({ model: "anthropic:mock?chunks=5" }))
      expect(events.map((e) => e._tag)).toEqual([
        "Start",
        "TextDelta",
        "TextDelta",
        "TextDelta",
        "TextDelta",
        "TextDelta",
        "Usage",
        "Finish"
      ])
      expect(textOf(events)).toBe("tok1 tok2 tok3 tok4 tok5 ")
      const finish = events[events.length - 1] as StreamEvent.Finish
      expect(finish.finishReason).toBe("stop")
      expect(finish.usage?.outputTokens).toBe(5)
      expect(finish.usage?.inputTokens).toBe(result.usage.inputTokens)
      const [first, second] = server.requests
      expect(first?.path).toBe("/v1/messages")
      expect(first?.headers["x-api-key"]).toBe(apiKey)
      expect(first?.headers["anthropic-version"]).toBe("2023-06-01")
      expect(first?.body).toMatchObject({ model: "mock?chunks=5", max_tokens: 50 })
      expect(second?.headers.accept).toBe("text/event-stream")
      expect(second?.body).toMatchObject({ stream: true, max_tokens: 4096 })
      allValid()
    }).pipe(Effect.provide(client())))

  it.live("maxTokens reached → finish reason length", () =>
    Effect.gen(function*() {
      const result = yield* chat({ model: "anthropic:mock?chunks=10", maxTokens: 3 })
      expect(result.finishReason).toBe("length")
      expect((result.providerMetadata?.anthropic as Record<string, unknown>).stopReason).toBe("max_tokens")
      allValid()
    }).pipe(Effect.provide(client())))

  it.live("a tool loop: tool call, then the tool result", () =>
    Effect.gen(function*() {
      const tools = [{
        name: "weather",
        description: "weather in a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
      }]
      const events = yield* collect(stream({ model: "anthropic:mock", messages: "Weather in Oslo?", tools }))
      const end = events.find((e): e is StreamEvent.ToolCallEnd => e._tag === "ToolCallEnd")
      expect(end?.name).toBe("weather")
      expect(typeof (end?.arguments as { city?: unknown }).city).toBe("string")
      expect((events[events.length - 1] as StreamEvent.Finish).finishReason).toBe("tool_calls")
      const first = yield* chat({ model: "anthropic:mock", messages: "Weather in Oslo?", tools })
      expect(first.toolCalls.length).toBe(1)
      const second = yield* chat({
        model: "anthropic:mock",
        tools,
        messages: [["user", "Weather in Oslo?"], first.message, {
          role: "tool",
          toolCallId: first.toolCalls[0]!.id,
          content: { temperature: -3 }
        }]
      })
      expect(second.finishReason).toBe("stop")
      expect(second.text.length).toBeGreaterThan(0)
      const sent = server.requests[server.requests.length - 1]!.body as { messages: Array<Record<string, unknown>> }
      expect(sent.messages[2]).toEqual({
        role: "user",
        content: [{ type: "tool_result", tool_use_id: first.toolCalls[0]!.id, content: "{\"temperature\":-3}" }]
      })
      allValid()
    }).pipe(Effect.provide(client())))
})

faultSuite({
  prefix: "anthropic",
  apiKey,
  server: () => server,
  client,
  statusTitle: "500, 503, 529 → ServerError; 401, 403 → AuthenticationError; 400-context → ContextLengthError",
  statusFaults: [
    ["500", "ServerError"],
    ["503", "ServerError"],
    ["529", "ServerError"],
    ["401", "AuthenticationError"],
    ["403", "AuthenticationError"],
    ["400-context", "ContextLengthError"]
  ],
  onStatusFault: (fault, { chat, stream }) => {
    if (fault === "529") {
      expect([chat.status, chat.retryable, stream.retryable]).toEqual([529, true, true])
    }
  },
  stallMidStreamChat: false,
  protocolNotRetryable: false,
  extra: (both) => {
    it.live("error-event → ServerError 529 (overloaded), the stream's error carries the partial text", () =>
      Effect.gen(function*() {
        const { chat, stream } = yield* both("anthropic:mock?fault=error-event&chunks=10")
        for (const e of [chat, stream]) {
          expect(e._tag).toBe("ServerError")
          expect(e.status).toBe(529)
          expect(e.code).toBe("overloaded_error")
          expect(e.retryable).toBe(true)
        }
        expect(stream.partial?.text.startsWith("tok1 ")).toBe(true)
      }).pipe(Effect.provide(client())))
  }
})

describe("mock server: retries through LlmClient", () => {
  it.live("times=N faults are retried to success (529 included)", () =>
    Effect.gen(function*() {
      const overloaded = yield* chat({ model: "anthropic:mock?fault=529&times=2&chunks=3" })
      expect(overloaded.text).toBe("tok1 tok2 tok3 ")
      expect(server.requests.length).toBe(3)
      for (const fault of ["429", "500", "reset-before-headers"]) {
        server.reset()
        const result = yield* chat({ model: `anthropic:mock?fault=${fault}&times=1&chunks=2` })
        expect([fault, result.text, server.requests.length]).toEqual([fault, "tok1 tok2 ", 2])
      }
    }).pipe(Effect.provide(client())))

  it.live("streams are retried while nothing was emitted", () =>
    Effect.gen(function*() {
      for (const fault of ["429", "529", "reset-before-headers", "stall"]) {
        server.reset()
        const events = yield* collect(stream({
          model: `anthropic:mock?fault=${fault}&times=1&chunks=3`,
          timeout: { firstByteMs: 150 }
        }))
        expect([fault, textOf(events), server.requests.length]).toEqual([fault, "tok1 tok2 tok3 ", 2])
      }
    }).pipe(Effect.provide(client())))

  it.live("a stream that failed after content (an in-stream overloaded_error) is not retried", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Stream.runDrain(stream({ model: "anthropic:mock?fault=error-event&times=1&chunks=20" }))
      )
      expect(error._tag).toBe("ServerError")
      expect(server.requests.length).toBe(1)
    }).pipe(Effect.provide(client())))
})

describe("mock server: the provider directly", () => {
  it.live("interrupting a stream closes the connection", () =>
    Effect.gen(function*() {
      const provider = yield* Anthropic.make({ baseUrl: server.anthropicBaseUrl })
      const model = "mock?chunks=200&chunkDelayMs=20"
      const request = Either.getOrThrow(ChatRequest.make({ model, messages: "x" }))
      const taken = yield* collect(
        provider.chatStream({ request, model, timeouts: Timeouts.hosted, attempt: 1 }).pipe(Stream.take(3))
      )
      expect(taken.map((e) => e._tag)).toEqual(["Start", "TextDelta", "TextDelta"])
      yield* Effect.promise(() => server.waitForClientClose(2000))
      expect(server.closedConnections()).toBeGreaterThanOrEqual(1)
      expect(server.requests[0]?.headers["x-api-key"]).toBeUndefined()
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})
