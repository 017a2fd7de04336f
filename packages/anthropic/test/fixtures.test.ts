/**
 * Recorded Anthropic traffic (`fixtures/vercel-ai/anthropic/`) replayed over HTTP through
 * the real provider and undici. Expected values are in `fixtureExpectations.ts` (derived
 * from the data by an independent script). Multi-step recordings (several `message_stop`s)
 * are replayed one response per message.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Anthropic } from "@llm-fiber/anthropic"
import { ChatRequest, StreamEvent, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { listFixtures, readFixture } from "../../../test-support/shared.js"
import { type Case, jsonCases, streamCases, type TextExpectation } from "./fixtureExpectations.js"
import { anthropicSse, json, segmentsOf, sse, startServer, type TestServer } from "./helpers/server.js"

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const apiKey = "sk-ant-test-FIXTURE-0123456789"
const request = Either.getOrThrow(ChatRequest.make({ model: "any", messages: "hi", maxTokens: 500 }))
const call = (model: string) => ({ request, model, timeouts: Timeouts.hosted, attempt: 1 })
const provider = () => Anthropic.make({ apiKey, baseUrl: server.url })

/** Uneven write sizes: lines and UTF-8 sequences get split across network reads. */
const pieces = [7, 64, 3, 500, 1, 129]

const expectText = (actual: string | undefined, expected: TextExpectation | undefined) => {
  if (expected === undefined || expected.length === 0) {
    expect(actual ?? "").toBe("")
    return
  }
  expect(actual).toBeDefined()
  expect(actual!.length).toBe(expected.length)
  expect(actual!.slice(0, expected.head.length)).toBe(expected.head)
  expect(sha(actual!)).toBe(expected.sha256)
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

const checkCommon = (
  c: Case,
  result: {
    readonly text: string
    readonly reasoning?: string | undefined
    readonly toolCalls: ReadonlyArray<{ id: string; name: string; rawArguments: string; arguments: unknown }>
    readonly finishReason: string
    readonly usage: unknown
    readonly providerMetadata?: Readonly<Record<string, unknown>> | undefined
  }
) => {
  expectText(result.text, c.text)
  expectText(result.reasoning, c.reasoning)
  expect(result.toolCalls.map((t) => ({ id: t.id, name: t.name, rawArguments: t.rawArguments }))).toEqual(c.toolCalls)
  for (const t of result.toolCalls) expect(t.arguments).toEqual(JSON.parse(t.rawArguments))
  expect(result.finishReason).toBe(c.finishReason)
  expect(result.usage).toEqual(c.usage)
  const meta = result.providerMetadata?.anthropic as Record<string, unknown>
  expect(meta.stopReason).toBe(c.rawStopReason)
  expect(meta.signature).toBe(c.signature)
  expect(meta.cacheHit).toBe((c.usage.cachedInputTokens ?? 0) > 0)
  expect(((meta.otherContent ?? []) as ReadonlyArray<unknown>).length).toBe(c.otherBlocks)
}

describe("recorded streams over HTTP", () => {
  it("every fixture is covered", () => {
    const covered = new Set([...streamCases.map((c) => c.file), ...jsonCases.map((c) => c.file)])
    covered.add("anthropic/duplicate-message-start.chunks.txt")
    covered.add("anthropic/spliced-message-start.chunks.txt")
    covered.add("anthropic/skills")
    for (const file of listFixtures("anthropic")) expect(covered.has(file), file).toBe(true)
    for (const c of streamCases) {
      expect(segmentsOf(readFixture(c.file)).length, c.file).toBe(c.segments)
    }
  })

  for (const c of streamCases) {
    const label = c.segments > 1 ? `${c.file} (response ${c.segment + 1} of ${c.segments})` : c.file
    it.effect(label, () =>
      Effect.gen(function*() {
        const segment = segmentsOf(readFixture(c.file))[c.segment]!
        server.handle(() => sse(anthropicSse(segment), pieces))
        const p = yield* provider()
        const events = yield* Stream.runCollect(p.chatStream(call("requested-model"))).pipe(
          Effect.map((chunk) => Array.from(chunk))
        )
        checkOrder(events)
        expect(events[0]).toEqual(StreamEvent.start(c.id, c.model, "anthropic"))
        const result = StreamEvent.accumulateAll(events)
        const finish = events[events.length - 1] as StreamEvent.Finish
        checkCommon(c, { ...result, usage: finish.usage, providerMetadata: finish.providerMetadata })
        if (c.signature !== undefined) {
          const reasoning = result.message.content.find((p) => p.type === "reasoning")
          expect(reasoning?.type === "reasoning" && reasoning.signature).toBe(c.signature)
        }
        const sent = server.requests[server.requests.length - 1]!
        expect(sent.method).toBe("POST")
        expect(sent.path).toBe("/v1/messages")
        expect(sent.headers["x-api-key"]).toBe(apiKey)
        expect(sent.headers["anthropic-version"]).toBe("2023-06-01")
        expect(sent.headers.accept).toBe("text/event-stream")
        expect(sent.body).toEqual({
          model: "requested-model",
          max_tokens: 500,
          messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
          stream: true
        })
      }).pipe(Effect.provide(UndiciHttpClient.layer())))
  }
})

describe("recorded JSON responses over HTTP", () => {
  for (const c of jsonCases) {
    it.effect(c.file, () =>
      Effect.gen(function*() {
        server.handle(() => json(JSON.parse(readFixture(c.file)), 200, { "request-id": "req_fixture" }))
        const p = yield* provider()
        const result = yield* p.chat(call("requested-model"))
        expect(result.id).toBe(c.id)
        expect(result.model).toBe(c.model)
        expect(result.provider).toBe("anthropic")
        expect(result.requestId).toBe("req_fixture")
        expect(result.timing.ttfbMs).toBeGreaterThanOrEqual(0)
        checkCommon(c, result)
        // the message holds the reasoning (with its signature), the text and the tool calls, in block order
        const reasoningParts = result.message.content.filter((p) => p.type === "reasoning")
        if (c.signature !== undefined) {
          expect(reasoningParts.at(-1)?.type === "reasoning" && reasoningParts.at(-1)?.signature).toBe(c.signature)
        } else {
          expect(reasoningParts).toEqual([])
        }
        expect(result.message.content.filter((p) => p.type === "tool-call").map((p) => p.id)).toEqual(
          c.toolCalls.map((t) => t.id)
        )
        const sent = server.requests[server.requests.length - 1]!
        expect(sent.body.stream).toBeUndefined()
        expect(sent.headers.accept).toBe("application/json")
      }).pipe(Effect.provide(UndiciHttpClient.layer())))
  }

  it.effect("skills/*.json are Skills API objects, not messages: as a chat response → ProtocolError", () =>
    Effect.gen(function*() {
      const files = listFixtures("anthropic/skills")
      expect(files.length).toBeGreaterThan(0)
      for (const file of files) {
        expect(file.endsWith(".json")).toBe(true)
        server.handle(() => json(JSON.parse(readFixture(file))))
        const p = yield* provider()
        const error = yield* Effect.flip(p.chat(call("claude-sonnet-4-5")))
        expect(error._tag, file).toBe("ProtocolError")
        expect(error.message).toContain("not a message")
      }
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})

describe("synthetic malformed streams", () => {
  it.effect("duplicate-message-start: the same message id twice is ignored (a gateway artefact)", () =>
    Effect.gen(function*() {
      server.handle(() => sse(anthropicSse(readFixture("anthropic/duplicate-message-start.chunks.txt").split("\n"))))
      const p = yield* provider()
      const events = Array.from(yield* Stream.runCollect(p.chatStream(call("m"))))
      checkOrder(events)
      const result = StreamEvent.accumulateAll(events)
      expect(result.id).toBe("msg_dup")
      expect(result.text).toBe("Hello, World!")
      expect(result.finishReason).toBe("stop")
      // usage counted once: input 17 from message_start, output 227 from message_delta
      expect(result.usage).toEqual({ inputTokens: 17, outputTokens: 227, totalTokens: 244 })
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("spliced-message-start: a second message inside the first → ProtocolError after the first's output", () =>
    Effect.gen(function*() {
      server.handle(() => sse(anthropicSse(readFixture("anthropic/spliced-message-start.chunks.txt").split("\n"))))
      const p = yield* provider()
      const seen: Array<StreamEvent.StreamEvent> = []
      const error = yield* Effect.flip(
        Stream.runForEach(p.chatStream(call("m")), (e) => Effect.sync(() => seen.push(e)))
      )
      expect(error._tag).toBe("ProtocolError")
      expect(error.message).toContain("msg_second")
      expect(error.message).toContain("msg_first")
      // nothing of the second generation reached the caller; the first's signature did
      expect(seen.some((e) => e._tag === "ReasoningDelta" && e.text.includes("Let me"))).toBe(false)
      expect(seen.some((e) => e._tag === "ReasoningDelta" && e.providerMetadata?.signature === "sig-first")).toBe(true)
      expect(seen.filter((e) => e._tag === "ToolCallStart").map((e) => e._tag === "ToolCallStart" && e.id)).toEqual([
        "toolu_first"
      ])
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("a whole multi-step recording sent as one response: only the first message is read", () =>
    Effect.gen(function*() {
      const text = readFixture("anthropic/anthropic-tool-search-bm25.1.chunks.txt")
      server.handle(() => sse(anthropicSse(text.split("\n"))))
      const p = yield* provider()
      const result = yield* StreamEvent.accumulate(p.chatStream(call("m")))
      const first = streamCases.find((c) => c.file === "anthropic/anthropic-tool-search-bm25.1.chunks.txt")!
      expect(result.id).toBe(first.id)
      expect(result.toolCalls.map((t) => t.id)).toEqual(first.toolCalls.map((t) => t.id))
      expect(result.usage).toEqual(first.usage)
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("every recorded stream cut before message_stop → ProtocolError", () =>
    Effect.gen(function*() {
      const p = yield* provider()
      for (const c of streamCases.filter((c) => c.segments === 1)) {
        const lines = segmentsOf(readFixture(c.file))[0]!
        server.handle(() => sse(anthropicSse(lines.slice(0, -1))))
        const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call("m"))))
        expect(error._tag, c.file).toBe("ProtocolError")
        expect(error.message).toContain("message_stop")
      }
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})
