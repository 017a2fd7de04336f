/**
 * Recorded Responses API traffic (`fixtures/vercel-ai/openai/responses`, `xai/responses`)
 * replayed over loopback HTTP through the real `openai-responses` provider and undici.
 * Expected values: `helpers/responsesExpected.ts` (derived from the data independently).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ChatRequest, StreamEvent, Timeouts, UndiciHttpClient } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"
import { listFixtures, readFixture } from "../../../test-support/shared.js"
import type { TextExpectation } from "./helpers/responsesCase.js"
import { responsesCases } from "./helpers/responsesExpected.js"

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const request = Either.getOrThrow(ChatRequest.make({ model: "any", messages: "hi", maxTokens: 500 }))
const call = (model: string) => ({ request, model, timeouts: Timeouts.hosted, attempt: 1 })

const provider = () => OpenAI.makeResponses({ apiKey: "sk-test-fixture", baseUrl: `${server.url}/v1` })

/** Uneven write sizes: lines and UTF-8 sequences get split across network reads. */
const pieces = [7, 64, 3, 500, 1, 129]

const terminal = new Set(["response.completed", "response.incomplete", "response.failed"])

/** The `*.chunks.txt` lines split into the streams they hold (one per terminal event). */
const stepsOf = (file: string): Array<Array<string>> => {
  const steps: Array<Array<string>> = []
  let current: Array<string> = []
  for (const line of readFixture(file).split("\n")) {
    if (line.trim() === "") continue
    current.push(line)
    if (terminal.has((JSON.parse(line) as { type: string }).type)) {
      steps.push(current)
      current = []
    }
  }
  if (current.length > 0) steps.push(current)
  return steps
}

/** The wire as OpenAI writes it: `event: <type>` then `data: <json>`, no `[DONE]`. */
const wire = (lines: ReadonlyArray<string>): string =>
  lines.map((line) => {
    const type = /"type":"([^"]+)"/.exec(line)?.[1]
    return `${type !== undefined ? `event: ${type}\n` : ""}data: ${line}\n\n`
  }).join("")

const expectText = (actual: string | undefined, expected: TextExpectation | undefined) => {
  if (expected === undefined) {
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

const handled = new Set([
  "openai/responses/openai-error.1.chunks.txt",
  "openai/responses/openai-error.1.json",
  "openai/responses/reasoning-model-temperature-error.json",
  "openai/responses/parallel-tool-call-wrapper.1.chunks.txt"
])

describe("recorded Responses traffic over HTTP", () => {
  it("every fixture is covered", () => {
    const covered = new Set([...responsesCases.map((c) => c.file), ...handled])
    for (const file of [...listFixtures("openai/responses"), ...listFixtures("xai/responses")]) {
      expect(covered.has(file), file).toBe(true)
    }
  })

  for (const c of responsesCases) {
    if (c.kind === "stream") {
      it.effect(`${c.file} (step ${c.step! + 1} of ${c.steps})`, () =>
        Effect.gen(function*() {
          const step = stepsOf(c.file)[c.step!]!
          server.handle(() => sse(wire(step), pieces))
          const p = yield* provider()
          const events = yield* Stream.runCollect(p.chatStream(call("requested-model"))).pipe(
            Effect.map((chunk) => Array.from(chunk))
          )
          checkOrder(events)
          expect(events[0]).toEqual(StreamEvent.start(c.id, c.model, "openai-responses"))
          const result = StreamEvent.accumulateAll(events)
          expectText(result.text, c.text)
          expectText(result.reasoning, c.reasoning)
          expect(result.toolCalls.map((t) => ({ id: t.id, name: t.name, rawArguments: t.rawArguments })))
            .toEqual(c.toolCalls)
          for (const t of result.toolCalls) expect(t.arguments).toEqual(JSON.parse(t.rawArguments))
          expect(result.finishReason).toBe(c.finishReason)
          const finish = events[events.length - 1] as StreamEvent.Finish
          expect(finish.usage).toEqual(c.usage ?? undefined)
          expect(events.filter((e) => e._tag === "Usage").length).toBe(c.usage === null ? 0 : 1)
          const metadata = finish.providerMetadata?.["openai-responses"] as Record<string, unknown>
          expect(metadata.skippedOutputItems ?? []).toEqual(c.skipped)
          const sent = server.requests[server.requests.length - 1]!
          expect(sent.path).toBe("/v1/responses")
          expect(sent.body.stream).toBe(true)
          expect(sent.body.store).toBe(false)
          expect(sent.body.max_output_tokens).toBe(500)
          expect(sent.headers.authorization).toBe("Bearer sk-test-fixture")
          expect(sent.headers.accept).toBe("text/event-stream")
        }).pipe(Effect.provide(UndiciHttpClient.layer())))
    } else {
      it.effect(c.file, () =>
        Effect.gen(function*() {
          server.handle(() => json(JSON.parse(readFixture(c.file)), 200, { "x-request-id": "req_fixture" }))
          const p = yield* provider()
          const result = yield* p.chat(call("requested-model"))
          expect(result.id).toBe(c.id)
          expect(result.model).toBe(c.model)
          expect(result.provider).toBe("openai-responses")
          expect(result.requestId).toBe("req_fixture")
          expectText(result.text, c.text)
          expectText(result.reasoning, c.reasoning)
          expect(result.toolCalls.map((t) => ({ id: t.id, name: t.name, rawArguments: t.rawArguments })))
            .toEqual(c.toolCalls)
          expect(result.finishReason).toBe(c.finishReason)
          expect(result.usage).toEqual(c.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 })
          const metadata = result.providerMetadata?.["openai-responses"] as Record<string, unknown>
          expect(metadata.skippedOutputItems ?? []).toEqual(c.skipped)
          const sent = server.requests[server.requests.length - 1]!
          expect(sent.body.stream).toBeUndefined()
          expect(sent.headers.accept).toBe("application/json")
        }).pipe(Effect.provide(UndiciHttpClient.layer())))
    }
  }

  it.effect("openai-error.1.chunks.txt: the in-stream `error` event → RateLimitError (quota, not retryable)", () =>
    Effect.gen(function*() {
      const lines = readFixture("openai/responses/openai-error.1.chunks.txt").split("\n").filter((l) => l !== "")
      server.handle(() => ({
        ...sse(wire(lines), pieces),
        headers: { "content-type": "text/event-stream", "x-request-id": "req_err" }
      }))
      const p = yield* provider()
      const events: Array<StreamEvent.StreamEvent> = []
      const error = yield* Effect.flip(
        Stream.runForEach(p.chatStream(call("gpt-5-nano")), (e) => Effect.sync(() => events.push(e)))
      )
      expect(events.map((e) => e._tag)).toEqual(["Start"])
      expect(error._tag).toBe("RateLimitError")
      expect(error.code).toBe("insufficient_quota")
      expect(error.message).toContain("You exceeded your current quota")
      expect(error.retryable).toBe(false)
      expect(error.requestId).toBe("req_err")
      expect(error.provider).toBe("openai-responses")
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("openai-error.1.chunks.txt without its `error` event: response.failed → the same error", () =>
    Effect.gen(function*() {
      const lines = readFixture("openai/responses/openai-error.1.chunks.txt").split("\n")
        .filter((l) => l !== "" && !l.startsWith("{\"type\":\"error\""))
      expect(lines.length).toBe(3)
      server.handle(() => sse(wire(lines)))
      const p = yield* provider()
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call("gpt-5-nano"))))
      expect(error._tag).toBe("RateLimitError")
      expect(error.code).toBe("insufficient_quota")
      expect(error.retryable).toBe(false)
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("openai-error.1.json as the 429 body → RateLimitError, not retryable", () =>
    Effect.gen(function*() {
      server.handle(() => json(JSON.parse(readFixture("openai/responses/openai-error.1.json")), 429))
      const p = yield* provider()
      const error = yield* Effect.flip(p.chat(call("gpt-5-nano")))
      expect(error._tag).toBe("RateLimitError")
      expect(error.status).toBe(429)
      expect(error.code).toBe("insufficient_quota")
      expect(error.retryable).toBe(false)
      expect(JSON.stringify(error)).not.toContain("sk-test-fixture")
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("reasoning-model-temperature-error.json as a 400 → InvalidRequestError naming the param", () =>
    Effect.gen(function*() {
      server.handle(() => json(JSON.parse(readFixture("openai/responses/reasoning-model-temperature-error.json")), 400))
      const p = yield* provider()
      const error = yield* Effect.flip(p.chat(call("o3-mini")))
      expect(error._tag).toBe("InvalidRequestError")
      expect(error._tag === "InvalidRequestError" && error.param).toBe("temperature")
      expect(error.message).toContain("Unsupported parameter: 'temperature'")
      expect(error.retryable).toBe(false)
    }).pipe(Effect.provide(UndiciHttpClient.layer())))

  it.effect("parallel-tool-call-wrapper.1.chunks.txt: its truncated JSON frames are a ProtocolError", () =>
    Effect.gen(function*() {
      // the recorded response.created / response.completed lines lack their closing brace
      const lines = readFixture("openai/responses/parallel-tool-call-wrapper.1.chunks.txt").split("\n")
        .filter((l) => l !== "")
      expect(() => JSON.parse(lines[0]!)).toThrow()
      server.handle(() => sse(wire(lines), pieces))
      const p = yield* provider()
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call("gpt-5.4"))))
      expect(error._tag).toBe("ProtocolError")
      expect(error.message).toContain("malformed JSON")
      // …while the same call as a whole JSON body is well formed (covered above)
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})
