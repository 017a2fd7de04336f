/**
 * Recorded Gemini traffic (`fixtures/vercel-ai/google/`) replayed over loopback HTTP
 * through the real provider and undici. Expected values were read from the fixture data
 * with an independent script (concatenated parts, JSON-path arguments rebuilt, hashed)
 * and hard-coded here.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ChatRequest, type ChatResult, StreamEvent, Timeouts, UndiciHttpClient, type Usage } from "@llm-fiber/core"
import { Gemini } from "@llm-fiber/gemini"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"
import { listFixtures, readFixture } from "../../../test-support/shared.js"

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

interface TextExpectation {
  readonly length: number
  readonly sha256: string
  readonly head: string
}

interface ToolCallExpectation {
  readonly id: string
  readonly name: string
  readonly arguments: unknown
  /** Hash of the raw arguments, for long ones. */
  readonly rawSha256?: string
}

interface Case {
  readonly file: string
  readonly id: string
  readonly model: string
  readonly text: TextExpectation
  /** `""` when the model reasoned but sent only a thought signature. */
  readonly reasoning: TextExpectation
  readonly toolCalls: ReadonlyArray<ToolCallExpectation>
  readonly finishReason: ChatResult.FinishReason
  readonly usage: Usage.Usage
}

const none: TextExpectation = {
  length: 0,
  sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  head: ""
}
const sf = { location: "San Francisco" }

const streamCases: ReadonlyArray<Case> = [
  {
    file: "google/google-text.chunks.txt",
    id: "bH6LaZW8Fp_3nsEPqtaSwQ4",
    model: "gemini-3-pro-preview",
    text: {
      length: 55,
      sha256: "47f9afd13a797f0892354d520d91688cefd4ef2cc7e4eb9112ae35bb2c999991",
      head: "There are **3** \"r\"s in strawberry.\n\nst"
    },
    reasoning: none,
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 9, outputTokens: 208, totalTokens: 217, reasoningTokens: 185 }
  },
  {
    file: "google/google-reasoning.chunks.txt",
    id: "dX6LadKVC7SZ28oPr9yJoQs",
    model: "gemini-3-pro-preview",
    text: {
      length: 79,
      sha256: "4e40e58c1dd5415fe3168fbbb3c1927cfef1aa8621f64f42e8f0a8ca7dae1045",
      head: "There are **3** \"r\"s in strawberry.\n\nHer"
    },
    reasoning: none,
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 9, outputTokens: 285, totalTokens: 294, reasoningTokens: 256 }
  },
  {
    file: "google/google-reasoning-gemini3.chunks.txt",
    id: "M3iLaY-AI7zTxN8P3Piw4Qg",
    model: "gemini-3-pro-preview",
    text: {
      length: 55,
      sha256: "cf114c23134a67ed97cf19ce702a49afdeaf3565962cdc262373c35ea083dab4",
      head: "There are **3** \"r\"s in strawberry.\n\nSt"
    },
    reasoning: none,
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 9, outputTokens: 325, totalTokens: 334, reasoningTokens: 302 }
  },
  {
    file: "google/google-tool-call.chunks.txt",
    id: "b36LacjwM668nsEP2tbsgQQ",
    model: "gemini-3-pro-preview",
    text: none,
    reasoning: none,
    toolCalls: [{ id: "b36LacjwM668nsEP2tbsgQQ_call_0", name: "weather", arguments: sf }],
    finishReason: "tool_calls",
    usage: { inputTokens: 29, outputTokens: 60, totalTokens: 89, reasoningTokens: 45 }
  },
  {
    file: "google/google-tool-call-gemini3.chunks.txt",
    id: "QHiLaa6LBrb8vdIPoNztsAg",
    model: "gemini-3-pro-preview",
    text: none,
    reasoning: none,
    toolCalls: [{ id: "QHiLaa6LBrb8vdIPoNztsAg_call_0", name: "weather", arguments: sf }],
    finishReason: "tool_calls",
    usage: { inputTokens: 29, outputTokens: 819, totalTokens: 848, reasoningTokens: 804 }
  },
  {
    file: "google/google-stream-no-args-tool-call.chunks.txt",
    id: "_vr4aYiWEJnYodAPkujX0QM",
    model: "gemini-3-flash-preview",
    text: none,
    reasoning: {
      length: 320,
      sha256: "b543f381617bf2df623a1b48abe9e40a7298c520ce985cbe38ad2a1f00bff7de",
      head: "**Processing User Requests**\n\nI've start"
    },
    toolCalls: [
      { id: "_vr4aYiWEJnYodAPkujX0QM_call_0", name: "read_theme", arguments: {} },
      { id: "_vr4aYiWEJnYodAPkujX0QM_call_1", name: "read_screen", arguments: { id: "A" } },
      { id: "_vr4aYiWEJnYodAPkujX0QM_call_2", name: "read_screen", arguments: { id: "B" } },
      { id: "_vr4aYiWEJnYodAPkujX0QM_call_3", name: "read_screen", arguments: { id: "C" } }
    ],
    finishReason: "tool_calls",
    usage: { inputTokens: 249, outputTokens: 241, totalTokens: 490, reasoningTokens: 183 }
  },
  {
    file: "google/google-stream-tool-call-arguments.chunks.txt",
    id: "dqHOab6xGLzWodAPkPuViA4",
    model: "gemini-3.1-pro-preview",
    text: none,
    reasoning: none,
    toolCalls: [
      { id: "dqHOab6xGLzWodAPkPuViA4_call_0", name: "getWeather", arguments: { location: "Boston" } },
      { id: "dqHOab6xGLzWodAPkPuViA4_call_1", name: "getWeather", arguments: sf }
    ],
    finishReason: "tool_calls",
    usage: { inputTokens: 26, outputTokens: 155, totalTokens: 181, reasoningTokens: 132 }
  },
  {
    file: "google/google-stream-tool-call-array-arguments-missing-terminal-function-call.chunks.txt",
    id: "3noMaojQL_2s6tkPiO26qQ4",
    model: "gemini-3-flash-preview",
    text: none,
    reasoning: none,
    toolCalls: [{
      id: "3noMaojQL_2s6tkPiO26qQ4_call_0",
      name: "writeItems",
      arguments: {
        operations: [
          { action: "add", description: "Fresh red apple", itemid: "apple_001", price: 0.5 },
          { action: "add", description: "Ripe yellow banana", itemid: "banana_001", price: 0.3 }
        ]
      }
    }],
    finishReason: "tool_calls",
    usage: { inputTokens: 54, outputTokens: 195, totalTokens: 249, reasoningTokens: 121 }
  },
  {
    file: "google/google-vertex-stream-tool-call-arguments-nested.1.chunks.txt",
    id: "tjXVaYaxFISTq8YP_MWiyAo",
    model: "gemini-3.1-pro-preview",
    text: none,
    reasoning: none,
    toolCalls: [{
      id: "tjXVaYaxFISTq8YP_MWiyAo_call_0",
      name: "cookRecipe",
      arguments: undefined,
      rawSha256: "a266644b896612f4cde173e7000865e0e1a5d623c2ad9434caba703fa8c7c83e"
    }],
    finishReason: "tool_calls",
    usage: { inputTokens: 31, outputTokens: 1710, totalTokens: 1741, reasoningTokens: 1026 }
  }
]

const textAnswer = {
  length: 79,
  sha256: "4e40e58c1dd5415fe3168fbbb3c1927cfef1aa8621f64f42e8f0a8ca7dae1045",
  head: "There are **3** \"r\"s in strawberry."
}

const jsonCases: ReadonlyArray<Case> = [
  {
    file: "google/google-text.json",
    id: "Un6LacrVMcjUxs0PmJfWoQc",
    model: "gemini-3-pro-preview",
    text: {
      length: 78,
      sha256: "f48ac46d59dba173d11efe2b787a5dcbbaae20c94b3e49d34129542982e910c4",
      head: "There are **3** r's in strawberry."
    },
    reasoning: none,
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 9, outputTokens: 272, totalTokens: 281, reasoningTokens: 244 }
  },
  {
    file: "google/google-reasoning.json",
    id: "YH6LaZT7ENmPxN8P-r2J8Aw",
    model: "gemini-3-pro-preview",
    text: textAnswer,
    reasoning: none,
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 9, outputTokens: 311, totalTokens: 320, reasoningTokens: 282 }
  },
  {
    file: "google/google-reasoning-gemini3.json",
    id: "DniLab2dFPeSxN8PpqXY4Ag",
    model: "gemini-3-pro-preview",
    text: textAnswer,
    reasoning: none,
    toolCalls: [],
    finishReason: "stop",
    usage: { inputTokens: 9, outputTokens: 287, totalTokens: 296, reasoningTokens: 258 }
  },
  {
    file: "google/google-tool-call.json",
    id: "m36LaZGyCLz1xs0PtNSB-QU",
    model: "gemini-3-pro-preview",
    text: none,
    reasoning: none,
    toolCalls: [{ id: "m36LaZGyCLz1xs0PtNSB-QU_call_0", name: "weather", arguments: sf }],
    finishReason: "tool_calls",
    usage: { inputTokens: 29, outputTokens: 908, totalTokens: 937, reasoningTokens: 893 }
  },
  {
    file: "google/google-tool-call-gemini3.json",
    id: "JniLacKqGqH0xs0P0O776As",
    model: "gemini-3-pro-preview",
    text: none,
    reasoning: none,
    toolCalls: [{ id: "JniLacKqGqH0xs0P0O776As_call_0", name: "weather", arguments: sf }],
    finishReason: "tool_calls",
    usage: { inputTokens: 29, outputTokens: 1816, totalTokens: 1845, reasoningTokens: 1801 }
  }
]

const liveFixture = "google/speech-translation/google-live-speech-translation.chunks.txt"
const rateLimitFixture = "google/google-429-retry-info.json"
const missingTerminal = "google/google-stream-tool-call-array-arguments-missing-terminal-function-call.chunks.txt"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const key = "AIzaSyFixtureKey0123456789abcdefghijk"
const request = Either.getOrThrow(ChatRequest.make({ model: "any", messages: "hi", maxTokens: 500 }))
const provider = () => Gemini.make({ apiKey: key, baseUrl: server.url })
const call = (model: string) => ({ request, model, timeouts: Timeouts.hosted, attempt: 1 })

/** Uneven write sizes: lines and UTF-8 sequences get split across network reads. */
const pieces = [7, 64, 3, 500, 1, 129]

/** The SSE wire of a `*.chunks.txt` fixture, with Gemini's CRLF line endings and no terminator. */
const wireOf = (file: string): string =>
  readFixture(file).split("\n").filter((line) => line.trim() !== "").map((line) => `data: ${line}\r\n\r\n`).join("")

/** The first thought signature of a fixture, read straight from its text. */
const firstSignature = (file: string): string => /"thoughtSignature":\s*"([^"]+)"/.exec(readFixture(file))![1]!

const expectText = (actual: string | undefined, expected: TextExpectation) => {
  expect(actual).toBeDefined()
  expect(actual!.length).toBe(expected.length)
  expect(actual!.slice(0, expected.head.length)).toBe(expected.head)
  expect(sha(actual!)).toBe(expected.sha256)
}

const expectToolCalls = (actual: ReadonlyArray<ChatResult.ToolCall>, expected: ReadonlyArray<ToolCallExpectation>) => {
  expect(actual.map((t) => ({ id: t.id, name: t.name }))).toEqual(expected.map((t) => ({ id: t.id, name: t.name })))
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!
    const a = actual[i]!
    expect(a.arguments).toEqual(JSON.parse(a.rawArguments))
    if (e.rawSha256 !== undefined) expect(sha(a.rawArguments)).toBe(e.rawSha256)
    else expect(a.arguments).toEqual(e.arguments)
  }
}

/** Start first, Finish last, tool-call events well formed. */
const checkOrder = (events: ReadonlyArray<StreamEvent.StreamEvent>) => {
  expect(events[0]?._tag).toBe("Start")
  expect(events[events.length - 1]?._tag).toBe("Finish")
  expect(events.filter((e) => e._tag === "Start" || e._tag === "Finish").length).toBe(2)
  const open = new Map<string, Array<string>>()
  for (const event of events) {
    if (event._tag === "ToolCallStart") {
      expect(open.has(event.id)).toBe(false)
      open.set(event.id, [])
    } else if (event._tag === "ToolCallDelta") {
      expect(open.has(event.id)).toBe(true)
      open.get(event.id)!.push(event.argumentsDelta)
    } else if (event._tag === "ToolCallEnd") {
      expect(open.get(event.id)?.join("")).toBe(event.rawArguments)
      open.delete(event.id)
    }
  }
  expect(open.size).toBe(0)
}

describe("recorded streams over HTTP", () => {
  it("every Gemini fixture is covered", () => {
    const covered = new Set([
      ...streamCases.map((c) => c.file),
      ...jsonCases.map((c) => c.file),
      rateLimitFixture,
      "google/speech-translation"
    ])
    for (const file of listFixtures("google")) expect(covered.has(file), file).toBe(true)
    expect(listFixtures("google/speech-translation")).toEqual([liveFixture])
  })

  for (const c of streamCases) {
    it.effect(c.file, () =>
      Effect.gen(function*() {
        server.handle(() => sse(wireOf(c.file), pieces))
        const p = yield* provider()
        const events = yield* Stream.runCollect(p.chatStream(call("gemini-3-pro-preview"))).pipe(
          Effect.map((chunk) => Array.from(chunk))
        )
        checkOrder(events)
        expect(events[0]).toEqual(StreamEvent.start(c.id, c.model, "gemini"))
        const result = StreamEvent.accumulateAll(events)
        expectText(result.text, c.text)
        expectText(result.reasoning, c.reasoning)
        expectToolCalls(result.toolCalls, c.toolCalls)
        expect(result.finishReason).toBe(c.finishReason)
        const finish = events[events.length - 1] as StreamEvent.Finish
        expect(finish.usage).toEqual(c.usage)
        const metadata = finish.providerMetadata?.gemini as Record<string, unknown>
        expect(metadata.finishReason).toBe("STOP")
        // the thought signature rides on the message, ready for the next turn
        const signature = firstSignature(c.file)
        expect(metadata.thoughtSignatures).toEqual([signature])
        expect(result.message.content.find((p) => p.type === "reasoning")).toMatchObject({ signature })
        // no Usage events: cumulative usage is reported once, on Finish
        expect(events.some((e) => e._tag === "Usage")).toBe(false)
        const sent = server.requests[server.requests.length - 1]!
        expect(sent.method).toBe("POST")
        expect(sent.path).toBe("/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse")
        expect(sent.headers["x-goog-api-key"]).toBe(key)
        expect(sent.headers.accept).toBe("text/event-stream")
        expect(sent.body.generationConfig).toEqual({ maxOutputTokens: 500 })
      }).pipe(Effect.provide(UndiciHttpClient.layer())))
  }

  it.effect("a streamed call still open when the finishReason arrives is closed then", () =>
    Effect.gen(function*() {
      // keep the last argument update open (`willContinue`): only the finish chunk closes the call
      const original = readFixture(missingTerminal)
      const last = "\"partialArgs\":[{\"jsonPath\":\"$.operations[1].price\",\"numberValue\":0.3}]}"
      expect(original).toContain(last)
      const wire = original.replace(last, last.slice(0, -1) + ",\"willContinue\":true}").split("\n")
        .filter((l) => l.trim() !== "").map((l) => `data: ${l}\n\n`).join("")
      server.handle(() => sse(wire))
      const p = yield* provider()
      const events = Array.from(yield* Stream.runCollect(p.chatStream(call("m"))))
      checkOrder(events)
      const ends = events.filter((e): e is StreamEvent.ToolCallEnd => e._tag === "ToolCallEnd")
      expect(ends.map((e) => e.name)).toEqual(["writeItems"])
      expect((ends[0]!.arguments as any).operations[1]).toEqual({
        action: "add",
        description: "Ripe yellow banana",
        itemid: "banana_001",
        price: 0.3
      })
      expect(StreamEvent.accumulateAll(events).finishReason).toBe("tool_calls")
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("a recorded stream cut before its finishReason is a ProtocolError carrying nothing silently", () =>
    Effect.gen(function*() {
      const lines = readFixture("google/google-text.chunks.txt").split("\n").filter((l) => l.trim() !== "")
      server.handle(() => sse(lines.slice(0, 2).map((l) => `data: ${l}\r\n\r\n`).join("")))
      const p = yield* provider()
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call("m"))))
      expect(error._tag).toBe("ProtocolError")
      expect(error.message).toContain("finishReason")
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect(`${liveFixture}: a Live API (WebSocket) session is not a generateContent stream → ProtocolError`, () =>
    Effect.gen(function*() {
      server.handle(() => sse(wireOf(liveFixture)))
      const p = yield* provider()
      const events: Array<StreamEvent.StreamEvent> = []
      const error = yield* Effect.flip(
        Stream.runForEach(p.chatStream(call("m")), (e) => Effect.sync(() => events.push(e)))
      )
      expect(error._tag).toBe("ProtocolError")
      expect(events.filter((e) => StreamEvent.isContent(e))).toEqual([])
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})

describe("recorded JSON responses over HTTP", () => {
  for (const c of jsonCases) {
    it.effect(c.file, () =>
      Effect.gen(function*() {
        server.handle(() => json(JSON.parse(readFixture(c.file)), 200, { "x-request-id": "req_fixture" }))
        const p = yield* provider()
        const result = yield* p.chat(call("gemini-3-pro-preview"))
        expect(result.id).toBe(c.id)
        expect(result.model).toBe(c.model)
        expect(result.provider).toBe("gemini")
        expect(result.requestId).toBe("req_fixture")
        expectText(result.text, c.text)
        expectText(result.reasoning, c.reasoning)
        expectToolCalls(result.toolCalls, c.toolCalls)
        expect(result.finishReason).toBe(c.finishReason)
        expect(result.usage).toEqual(c.usage)
        const signature = firstSignature(c.file)
        expect(result.message.content.find((p) => p.type === "reasoning")).toMatchObject({ signature })
        expect(result.providerMetadata?.gemini).toMatchObject({ finishReason: "STOP", thoughtSignatures: [signature] })
        const sent = server.requests[server.requests.length - 1]!
        expect(sent.path).toBe("/v1beta/models/gemini-3-pro-preview:generateContent")
        expect(sent.headers.accept).toBe("application/json")
        expect(sent.headers["x-goog-api-key"]).toBe(key)
      }).pipe(Effect.provide(UndiciHttpClient.layer())))
  }

  it.effect(`${rateLimitFixture} as an HTTP 429 → RateLimitError after 34.4 s`, () =>
    Effect.gen(function*() {
      server.handle(() => json(JSON.parse(readFixture(rateLimitFixture)), 429))
      const p = yield* provider()
      for (const run of [p.chat(call("gemini-2.5-pro")), Stream.runDrain(p.chatStream(call("gemini-2.5-pro")))]) {
        const error = yield* Effect.flip(run)
        expect(error._tag).toBe("RateLimitError")
        expect(error._tag === "RateLimitError" && error.retryAfterMs).toBe(34400)
        expect(error.status).toBe(429)
        expect(error.code).toBe("RESOURCE_EXHAUSTED")
        expect(error.retryable).toBe(true)
        expect(error.message).toContain("You exceeded your current quota")
        expect(JSON.stringify(error)).not.toContain(key)
      }
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect(`${rateLimitFixture} wrapped in an array (the streaming endpoint's error shape) maps the same`, () =>
    Effect.gen(function*() {
      server.handle(() => json([JSON.parse(readFixture(rateLimitFixture))], 429))
      const p = yield* provider()
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call("gemini-2.5-pro"))))
      expect(error._tag === "RateLimitError" && error.retryAfterMs).toBe(34400)
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})
