/**
 * Wire tests of the `openai-responses` provider against the Responses format of the mock
 * provider server of `@llm-fiber/testing` (`POST /v1/responses`): the real provider and
 * pipeline over undici, every injected fault mapped to its typed error, retries of
 * `times=N` faults through `LlmClient`, and no hang anywhere.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { ChatRequest, LlmClient, RetryPolicy, type StreamEvent, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import { MockServer } from "@llm-fiber/testing"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { faultSuite } from "../../../test-support/faultSuite.js"
import { describeErrors, validateResponsesRequest } from "./helpers/openapi.js"

let server: MockServer.Handle
beforeAll(async () => {
  server = await MockServer.start()
})
afterAll(() => server.close())
beforeEach(() => server.reset())

const apiKey = "sk-mock-SECRET-42"

/** The client over the mock server (only `openai-responses` registered); retries are fast. */
const client = (options: Partial<OpenAI.ResponsesOptions> = {}) =>
  LlmClient.layerWith(OpenAI.responses({ apiKey, baseUrl: server.openaiBaseUrl, ...options })).pipe(
    Layer.provide(RetryPolicy.layer({ schedule: Schedule.spaced("5 millis") }))
  )

type Input = Omit<ChatRequest.Input, "messages"> & { readonly messages?: ChatRequest.Input["messages"] }

const chat = (input: Input) => LlmClient.chat({ messages: "ping", ...input })

const stream = (input: Input) => LlmClient.chatStream({ messages: "ping", ...input })

const collect = <E, R>(s: Stream.Stream<StreamEvent.StreamEvent, E, R>) =>
  Effect.map(Stream.runCollect(s), (chunk) => Array.from(chunk))

const textOf = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.map((e) => (e._tag === "TextDelta" ? e.text : "")).join("")

/** Every request body sent so far is a valid `CreateResponse`, to `/v1/responses`. */
const validBodies = () => {
  for (const request of server.requests) {
    expect(request.path).toBe("/v1/responses")
    const errors = validateResponsesRequest(request.body)
    expect(errors, describeErrors(errors)).toEqual([])
  }
}

const weather = [{
  name: "weather",
  description: "weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
}]

describe("responses mock: happy paths", () => {
  it.live("chat and stream, usage, ids, headers, valid request bodies", () =>
    Effect.gen(function*() {
      const result = yield* chat({
        model: "openai-responses:mock?chunks=5",
        messages: [["system", "Be brief."], ["user", "ping"]],
        maxTokens: 50,
        idempotencyKey: "idem-1"
      })
      expect(result.text).toBe("tok1 tok2 tok3 tok4 tok5 ")
      expect(result.finishReason).toBe("stop")
      expect(result.provider).toBe("openai-responses")
      expect(result.model).toBe("mock")
      expect(result.id).toBe("resp_mock_1")
      expect(result.requestId).toMatch(/^req_mock_/)
      expect(result.usage).toMatchObject({ outputTokens: 5, cachedInputTokens: 0, reasoningTokens: 0 })
      expect(result.usage.totalTokens).toBe(result.usage.inputTokens + 5)
      expect(result.providerMetadata?.["openai-responses"]).toMatchObject({
        responseId: "resp_mock_1",
        status: "completed",
        serviceTier: "default"
      })
      const events = yield* collect(stream({ model: "openai-responses:mock?chunks=5" }))
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
      const start = events[0] as StreamEvent.Start
      expect(start.id).toBe("resp_mock_2")
      const finish = events[events.length - 1] as StreamEvent.Finish
      expect(finish.finishReason).toBe("stop")
      expect(finish.usage?.outputTokens).toBe(5)
      const [first, second] = server.requests
      expect(first?.headers.authorization).toBe(`Bearer ${apiKey}`)
      expect(first?.headers["idempotency-key"]).toBe("idem-1")
      expect(first?.body).toMatchObject({ instructions: "Be brief.", max_output_tokens: 50, store: false })
      expect(second?.headers.accept).toBe("text/event-stream")
      expect(second?.body).toMatchObject({ stream: true })
      validBodies()
    }).pipe(Effect.provide(client())))

  it.live("the default answer echoes the last user text", () =>
    Effect.gen(function*() {
      const result = yield* chat({ model: "openai-responses:gpt-4.1-mini", messages: "hello there" })
      expect(result.text).toBe("Mock reply to: hello there")
      expect(result.model).toBe("gpt-4.1-mini")
    }).pipe(Effect.provide(client())))

  it.live("max_output_tokens reached → finish reason length (chat and stream)", () =>
    Effect.gen(function*() {
      const result = yield* chat({ model: "openai-responses:mock?chunks=10", maxTokens: 3 })
      expect(result.text).toBe("tok1 tok2 tok3 ")
      expect(result.finishReason).toBe("length")
      expect(result.providerMetadata?.["openai-responses"]).toMatchObject({
        status: "incomplete",
        incompleteReason: "max_output_tokens"
      })
      expect(server.requests[0]?.body).toMatchObject({ max_output_tokens: 3 })
      const events = yield* collect(stream({ model: "openai-responses:mock?chunks=10", maxTokens: 3 }))
      expect(textOf(events)).toBe("tok1 tok2 tok3 ")
      expect((events[events.length - 1] as StreamEvent.Finish).finishReason).toBe("length")
    }).pipe(Effect.provide(client())))

  it.live("a tool loop: function_call (streamed argument deltas), then function_call_output", () =>
    Effect.gen(function*() {
      const events = yield* collect(
        stream({ model: "openai-responses:mock?chunks=3", messages: "Weather?", tools: weather })
      )
      expect(events.map((e) => e._tag)).toEqual([
        "Start",
        "ToolCallStart",
        "ToolCallDelta",
        "ToolCallDelta",
        "ToolCallDelta",
        "ToolCallEnd",
        "Usage",
        "Finish"
      ])
      const start = events.find((e): e is StreamEvent.ToolCallStart => e._tag === "ToolCallStart")
      expect(start?.id).toMatch(/^call_mock_/)
      const end = events.find((e): e is StreamEvent.ToolCallEnd => e._tag === "ToolCallEnd")
      expect(end?.name).toBe("weather")
      expect(end?.arguments).toEqual({ city: "example" })
      const deltas = events.flatMap((e) => (e._tag === "ToolCallDelta" ? [e.argumentsDelta] : []))
      expect(JSON.parse(deltas.join(""))).toEqual({ city: "example" })
      expect((events[events.length - 1] as StreamEvent.Finish).finishReason).toBe("tool_calls")

      const first = yield* chat({ model: "openai-responses:mock", messages: "Weather in Oslo?", tools: weather })
      expect(first.finishReason).toBe("tool_calls")
      expect(first.toolCalls).toHaveLength(1)
      expect(first.toolCalls[0]).toMatchObject({ name: "weather", arguments: { city: "example" } })
      const second = yield* chat({
        model: "openai-responses:mock",
        tools: weather,
        messages: [["user", "Weather in Oslo?"], first.message, {
          role: "tool",
          toolCallId: first.toolCalls[0]!.id,
          content: { temperature: -3 }
        }]
      })
      expect(second.finishReason).toBe("stop")
      expect(second.text).toBe("The tool returned: {\"temperature\":-3}")
      const sent = server.requests[server.requests.length - 1]!.body as { input: Array<Record<string, unknown>> }
      expect(sent.input.slice(1)).toEqual([
        {
          type: "function_call",
          call_id: first.toolCalls[0]!.id,
          name: "weather",
          arguments: "{\"city\":\"example\"}"
        },
        { type: "function_call_output", call_id: first.toolCalls[0]!.id, output: "{\"temperature\":-3}" }
      ])
      // tool choice "none": a text answer
      const none = yield* chat({ model: "openai-responses:mock", messages: "hi", tools: weather, toolChoice: "none" })
      expect(none.toolCalls).toEqual([])
      expect(none.text).toBe("Mock reply to: hi")
      validBodies()
    }).pipe(Effect.provide(client())))

  it.live("scripted text and calls in one answer", () =>
    Effect.gen(function*() {
      server.script([{
        text: "Checking.",
        toolCalls: [{ name: "a", arguments: { x: 1 } }, { name: "b", arguments: {} }]
      }])
      const events = yield* collect(stream({ model: "openai-responses:mock" }))
      expect(textOf(events)).toBe("Checking.")
      const ends = events.filter((e): e is StreamEvent.ToolCallEnd => e._tag === "ToolCallEnd")
      expect(ends.map((e) => [e.name, e.arguments])).toEqual([["a", { x: 1 }], ["b", {}]])
      expect((events[events.length - 1] as StreamEvent.Finish).finishReason).toBe("tool_calls")
    }).pipe(Effect.provide(client())))
})

faultSuite({
  title: "responses mock: faults → typed errors",
  prefix: "openai-responses",
  apiKey,
  server: () => server,
  client,
  provider: "openai-responses",
  statusTitle: "500/503/529 → ServerError; 401/403 → AuthenticationError; 400-context → ContextLengthError",
  statusFaults: [
    ["500", "ServerError"],
    ["503", "ServerError"],
    ["529", "ServerError"],
    ["401", "AuthenticationError"],
    ["403", "AuthenticationError"],
    ["400-context", "ContextLengthError"]
  ],
  resetPartial: "tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 tok10 ",
  idlePartial: "tok1 tok2 tok3 tok4 tok5 ",
  protocolExtra: (both) =>
    Effect.gen(function*() {
      // no-done: every delta arrived, the stream lacks response.completed; JSON: an in_progress response
      const { chat: json, stream: sse } = yield* both("openai-responses:mock?fault=no-done&chunks=3")
      expect(sse.message).toContain("response.completed")
      expect(sse.partial?.text).toBe("tok1 tok2 tok3 ")
      expect(json.message).toContain("in_progress")
    }),
  extra: (both) => {
    it.live("error-event → ServerError after HTTP 200, carrying the partial text; JSON: a failed response", () =>
      Effect.gen(function*() {
        const { chat, stream } = yield* both("openai-responses:mock?fault=error-event&chunks=4")
        expect([chat._tag, stream._tag]).toEqual(["ServerError", "ServerError"])
        expect(stream.partial?.text).toBe("tok1 tok2 ")
        expect(stream.requestId).toMatch(/^req_mock_/)
        expect(chat.message).toContain("The server had an error")
      }).pipe(Effect.provide(client())))

    it.live("huge-body under the limits arrives whole", () =>
      Effect.gen(function*() {
        const result = yield* chat({ model: "openai-responses:mock?fault=huge-body&hugeBytes=200000" })
        expect(result.text.length).toBe(200_000)
        const events = yield* collect(stream({ model: "openai-responses:mock?fault=huge-body&hugeBytes=200000" }))
        expect(textOf(events).length).toBe(200_000)
        expect((events[events.length - 1] as StreamEvent.Finish).finishReason).toBe("stop")
      }).pipe(Effect.provide(client())))
  }
})

describe("responses mock: retries through LlmClient", () => {
  it.live("times=N faults are retried to success", () =>
    Effect.gen(function*() {
      const rateLimited = yield* chat({
        model: "openai-responses:mock?fault=429&times=2&chunks=3",
        idempotencyKey: "same"
      })
      expect(rateLimited.text).toBe("tok1 tok2 tok3 ")
      expect(server.requests.length).toBe(3)
      expect(server.requests.map((r) => r.headers["idempotency-key"])).toEqual(["same", "same", "same"])
      for (const fault of ["500", "503", "529", "reset-before-headers"]) {
        server.reset()
        const result = yield* chat({ model: `openai-responses:mock?fault=${fault}&times=1&chunks=2` })
        expect([fault, result.text, server.requests.length]).toEqual([fault, "tok1 tok2 ", 2])
      }
      server.reset()
      const timedOut = yield* chat({
        model: "openai-responses:mock?fault=stall&times=1&chunks=2",
        timeout: { totalMs: 150 }
      })
      expect(timedOut.text).toBe("tok1 tok2 ")
    }).pipe(Effect.provide(client())))

  it.live("streams are retried while nothing was emitted", () =>
    Effect.gen(function*() {
      for (const fault of ["429", "500", "reset-before-headers", "stall"]) {
        server.reset()
        const events = yield* collect(stream({
          model: `openai-responses:mock?fault=${fault}&times=1&chunks=3`,
          timeout: { firstByteMs: 150 }
        }))
        expect([fault, textOf(events), server.requests.length]).toEqual([fault, "tok1 tok2 tok3 ", 2])
        expect(events[0]?._tag).toBe("Start")
        expect(events[events.length - 1]?._tag).toBe("Finish")
      }
    }).pipe(Effect.provide(client())))

  it.live("a stream that failed after content is not retried", () =>
    Effect.gen(function*() {
      for (const fault of ["reset-mid-stream", "error-event"]) {
        server.reset()
        const error = yield* Effect.flip(
          Stream.runDrain(stream({ model: `openai-responses:mock?fault=${fault}&times=1&chunks=20` }))
        )
        expect([fault, error._tag, server.requests.length]).toEqual([
          fault,
          fault === "error-event" ? "ServerError" : "NetworkError",
          1
        ])
      }
    }).pipe(Effect.provide(client())))

  it.live("an error-event before any content is retried (stream); a failed JSON response too", () =>
    Effect.gen(function*() {
      // chunks=1: the cut keeps one delta, so force the first attempt's error before content with a script
      server.script([{ fault: "error-event", text: "" }, { text: "ok" }])
      const events = yield* collect(stream({ model: "openai-responses:mock" }))
      expect(textOf(events)).toBe("ok")
      expect(server.requests.length).toBe(2)
      server.reset()
      const result = yield* chat({ model: "openai-responses:mock?fault=error-event&times=1&chunks=2" })
      expect(result.text).toBe("tok1 tok2 ")
      expect(server.requests.length).toBe(2)
    }).pipe(Effect.provide(client())))

  it.live("retries stop at maxRetries", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(chat({ model: "openai-responses:mock?fault=500&times=5", maxRetries: 2 }))
      expect(error._tag).toBe("ServerError")
      expect(server.requests.length).toBe(3)
    }).pipe(Effect.provide(client())))
})

describe("responses mock: the provider directly", () => {
  it.live("interrupting a stream closes the connection", () =>
    Effect.gen(function*() {
      const provider = yield* OpenAI.makeResponses({ baseUrl: server.openaiBaseUrl })
      const model = "mock?chunks=200&chunkDelayMs=20"
      const request = Either.getOrThrow(ChatRequest.make({ model, messages: "x" }))
      const taken = yield* collect(
        provider.chatStream({ request, model, timeouts: Timeouts.hosted, attempt: 1 }).pipe(Stream.take(3))
      )
      expect(taken.map((e) => e._tag)).toEqual(["Start", "TextDelta", "TextDelta"])
      yield* Effect.promise(() => server.waitForClientClose(2000))
      expect(server.closedConnections()).toBeGreaterThanOrEqual(1)
      expect(server.requests[0]?.path).toBe("/v1/responses")
      expect(server.requests[0]?.headers.authorization).toBeUndefined()
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.live("controls in x-mock-* headers", () =>
    Effect.gen(function*() {
      const provider = yield* OpenAI.makeResponses({
        baseUrl: server.openaiBaseUrl,
        headers: { "x-mock-fault": "429" }
      })
      const request = Either.getOrThrow(ChatRequest.make({ model: "mock", messages: "x" }))
      const error = yield* Effect.flip(provider.chat({ request, model: "mock", timeouts: Timeouts.hosted, attempt: 1 }))
      expect(error._tag).toBe("RateLimitError")
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})
