/**
 * The provider over real HTTP (undici → a loopback server): error mapping, in-stream
 * errors, headers and secrets, cache-breakpoint reporting, configuration layers, the
 * plugin, and the whole `LlmClient` pipeline (routing, cost).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Anthropic, plugin } from "@llm-fiber/anthropic"
import {
  Catalog,
  ChatRequest,
  LlmClient,
  ProviderRegistry,
  StreamEvent,
  Timeouts,
  UndiciHttpClient
} from "@llm-fiber/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { eventsToSse, json, type Reply, sse, startServer, type TestServer } from "./helpers/server.js"
import { validateMessagesRequest } from "./helpers/validate.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const secret = "sk-ant-api03-SECRET-0123456789abcdef"
const model = "claude-sonnet-4-5"

const okBody = {
  id: "msg_ok",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5-20250929",
  content: [{ type: "text", text: "pong" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: {
    input_tokens: 10,
    cache_creation_input_tokens: 200,
    cache_read_input_tokens: 1000,
    cache_creation: { ephemeral_5m_input_tokens: 150, ephemeral_1h_input_tokens: 50 },
    output_tokens: 5
  }
}

const start = (usage: Record<string, unknown> = { input_tokens: 10, output_tokens: 1 }) => ({
  type: "message_start",
  message: { id: "msg_s", type: "message", role: "assistant", model: "claude-sonnet-4-5-20250929", content: [], usage }
})
const textBlock = (text: string) => [
  { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }
]
const okStream = eventsToSse([
  start(),
  ...textBlock("pong"),
  { type: "content_block_stop", index: 0 },
  { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } },
  { type: "message_stop" }
])

const call = (input: Partial<ChatRequest.Input> = {}, m = model) => ({
  request: Either.getOrThrow(ChatRequest.make({ model: m, messages: "ping", ...input })),
  model: m,
  timeouts: Timeouts.hosted,
  attempt: 1
})

const anthropic = (options: Anthropic.Options = {}) =>
  Anthropic.make({ apiKey: secret, baseUrl: server.url, ...options })

const Http = UndiciHttpClient.layer()

const lastRequest = () => server.requests[server.requests.length - 1]!

const errorBody = (type: string, message: string) => ({
  type: "error",
  error: { type, message },
  request_id: "req_body_1"
})

const failWith = (reply: Reply) =>
  Effect.gen(function*() {
    server.handle(() => reply)
    const p = yield* anthropic()
    const chat = yield* Effect.flip(p.chat(call()))
    const stream = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
    expect(stream._tag).toBe(chat._tag)
    for (const error of [chat, stream]) {
      expect(JSON.stringify(error)).not.toContain(secret)
      expect(String(error)).not.toContain(secret)
      expect(error.provider).toBe("anthropic")
      expect(error.model).toBe(model)
    }
    return chat
  })

describe("HTTP errors", () => {
  it.effect("401 → AuthenticationError, never retryable, no key in it", () =>
    Effect.gen(function*() {
      const error = yield* failWith(
        json(errorBody("authentication_error", `invalid x-api-key ${secret}`), 401, { "request-id": "req_401" })
      )
      expect(error._tag).toBe("AuthenticationError")
      expect(error.status).toBe(401)
      expect(error.requestId).toBe("req_401")
      expect(error.code).toBe("authentication_error")
      expect(error.retryable).toBe(false)
      expect(error.message).toContain("ANTHROPIC_API_KEY")
    }).pipe(Effect.provide(Http)))

  it.effect("400 invalid_request_error → InvalidRequestError (request id from the body)", () =>
    Effect.gen(function*() {
      const error = yield* failWith(json(errorBody("invalid_request_error", "max_tokens: Field required"), 400))
      expect(error._tag).toBe("InvalidRequestError")
      expect(error.code).toBe("invalid_request_error")
      expect(error.requestId).toBe("req_body_1")
      expect(error.message).toContain("max_tokens: Field required")
      expect(error.retryable).toBe(false)
    }).pipe(Effect.provide(Http)))

  it.effect("400 prompt is too long → ContextLengthError", () =>
    Effect.gen(function*() {
      const error = yield* failWith(
        json(errorBody("invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum"), 400)
      )
      expect(error._tag).toBe("ContextLengthError")
      expect(error.retryable).toBe(false)
    }).pipe(Effect.provide(Http)))

  it.effect("429 with retry-after → RateLimitError with retryAfterMs", () =>
    Effect.gen(function*() {
      const error = yield* failWith(
        json(errorBody("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"), 429, {
          "retry-after": "3"
        })
      )
      expect(error._tag).toBe("RateLimitError")
      expect(error._tag === "RateLimitError" && error.retryAfterMs).toBe(3000)
      expect(error.retryable).toBe(true)
    }).pipe(Effect.provide(Http)))

  it.effect("529 overloaded → ServerError, retryable", () =>
    Effect.gen(function*() {
      const error = yield* failWith(json(errorBody("overloaded_error", "Overloaded"), 529))
      expect(error._tag).toBe("ServerError")
      expect(error.status).toBe(529)
      expect(error.code).toBe("overloaded_error")
      expect(error.retryable).toBe(true)
      const noRetry = yield* failWith(json(errorBody("api_error", "Internal"), 500, { "x-should-retry": "false" }))
      expect(noRetry._tag).toBe("ServerError")
      expect(noRetry.retryable).toBe(false)
    }).pipe(Effect.provide(Http)))

  it.effect("an error body with HTTP 200 → the error its type stands for", () =>
    Effect.gen(function*() {
      server.handle(() => json(errorBody("overloaded_error", "Overloaded")))
      const p = yield* anthropic()
      const error = yield* Effect.flip(p.chat(call()))
      expect(error._tag).toBe("ServerError")
      expect(error.status).toBe(529)
      expect(error.retryable).toBe(true)
    }).pipe(Effect.provide(Http)))

  it.effect("in-stream error events map by type: overloaded → ServerError 529, rate limit → RateLimitError", () =>
    Effect.gen(function*() {
      const p = yield* anthropic()
      const cases: ReadonlyArray<readonly [string, string, number]> = [
        ["overloaded_error", "ServerError", 529],
        ["api_error", "ServerError", 500],
        ["rate_limit_error", "RateLimitError", 429],
        ["invalid_request_error", "InvalidRequestError", 400],
        ["something_new_error", "ServerError", 500]
      ]
      for (const [type, tag, status] of cases) {
        server.handle(() => sse(eventsToSse([start(), ...textBlock("Hel"), errorBody(type, "boom")])))
        const seen: Array<StreamEvent.StreamEvent> = []
        const error = yield* Effect.flip(
          Stream.runForEach(p.chatStream(call()), (e) => Effect.sync(() => seen.push(e)))
        )
        expect(error._tag, type).toBe(tag)
        expect(error.status).toBe(status)
        expect(error.message).toContain(`error event in the stream (${type}): boom`)
        expect(seen.map((e) => e._tag)).toEqual(["Start", "TextDelta"])
      }
    }).pipe(Effect.provide(Http)))

  it.effect("an error frame with plain-text data → ServerError with that text", () =>
    Effect.gen(function*() {
      server.handle(() =>
        sse(eventsToSse([start(), ...textBlock("Hel")]) + "event: error\ndata: upstream went away\n\n")
      )
      const p = yield* anthropic()
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
      expect(error._tag).toBe("ServerError")
      expect(error.message).toContain("upstream went away")
    }).pipe(Effect.provide(Http)))

  it.effect("through LlmClient: an overloaded_error after some text fails the stream with the partial text", () =>
    Effect.gen(function*() {
      server.handle(() =>
        sse(eventsToSse([start(), ...textBlock("Hello, wor"), {
          type: "error",
          error: { type: "overloaded_error", message: "Overloaded" }
        }]))
      )
      const error = yield* Effect.flip(Stream.runDrain(LlmClient.chatStream({ model, messages: "hi", maxRetries: 0 })))
      expect(error._tag).toBe("ServerError")
      expect(error.retryable).toBe(true)
      expect(error.status).toBe(529)
      expect(error.partial?.text).toBe("Hello, wor")
      // content had been emitted: the pipeline does not retry
      expect(server.requests.filter((r) => r.path === "/v1/messages").length).toBeGreaterThan(0)
    }).pipe(Effect.provide(LlmClient.layerWith(Anthropic.layer({ apiKey: secret, baseUrl: server.url })))))

  it.effect("a non-JSON body, or the wrong content type → ProtocolError", () =>
    Effect.gen(function*() {
      const p = yield* anthropic()
      server.handle(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{\"id\":" }))
      expect((yield* Effect.flip(p.chat(call())))._tag).toBe("ProtocolError")
      server.handle(() => ({ status: 200, headers: { "content-type": "text/html" }, body: "<html>" }))
      expect((yield* Effect.flip(Stream.runDrain(p.chatStream(call()))))._tag).toBe("ProtocolError")
      server.handle(() => sse("event: message_start\ndata: {\"type\":\"message_start\",\n\n"))
      const malformed = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
      expect(malformed._tag).toBe("ProtocolError")
      expect(malformed.message).toContain("malformed JSON")
    }).pipe(Effect.provide(Http)))

  it.effect("stream structure errors → ProtocolError", () =>
    Effect.gen(function*() {
      const p = yield* anthropic()
      const fails = (events: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>) =>
        Effect.gen(function*() {
          server.handle(() => sse(eventsToSse(events)))
          const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
          expect(error._tag).toBe("ProtocolError")
          return error.message
        })
      expect(yield* fails([])).toContain("no message_start")
      expect(yield* fails(textBlock("x"))).toContain("before message_start")
      expect(
        yield* fails([start(), { type: "content_block_delta", index: 3, delta: { type: "text_delta", text: "x" } }])
      )
        .toContain("never started")
      expect(yield* fails([start(), ...textBlock("a"), ...textBlock("b")])).toContain("started twice")
      expect(
        yield* fails([start(), ...textBlock("a"), {
          type: "content_block_delta",
          index: 0,
          delta: { type: "input_json_delta", partial_json: "{" }
        }])
      ).toContain("text block")
      expect(yield* fails([start(), ...textBlock("a"), { type: "message_stop" }])).toContain("without a stop_reason")
      expect(
        yield* fails([start(), ...textBlock("a"), { type: "message_delta", delta: { stop_reason: "end_turn" } }])
      ).toContain("message_stop")
    }).pipe(Effect.provide(Http)))

  it.effect("lenientStreamEnd accepts a stream cut after message_delta", () =>
    Effect.gen(function*() {
      server.handle(() =>
        sse(eventsToSse([start(), ...textBlock("ok"), {
          type: "message_delta",
          delta: { stop_reason: "max_tokens" },
          usage: { output_tokens: 1 }
        }]))
      )
      const p = yield* anthropic({ lenientStreamEnd: true })
      const result = yield* StreamEvent.accumulate(p.chatStream(call()))
      expect(result.text).toBe("ok")
      expect(result.finishReason).toBe("length")
    }).pipe(Effect.provide(Http)))

  it.effect("a connection reset mid-stream → NetworkError", () =>
    Effect.gen(function*() {
      server.handle(() => ({ ...sse(okStream), resetAfter: 150 }))
      const p = yield* anthropic()
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
      expect(["NetworkError", "ProtocolError"]).toContain(error._tag)
    }).pipe(Effect.provide(Http)))
})

describe("responses", () => {
  it.effect("usage: all input counted, cache reads and writes split out, cacheHit, 5m/1h in metadata", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const p = yield* anthropic()
      const result = yield* p.chat(call())
      expect(result.usage).toEqual({
        inputTokens: 1210,
        outputTokens: 5,
        totalTokens: 1215,
        cachedInputTokens: 1000,
        cacheWriteTokens: 200
      })
      expect(result.providerMetadata?.anthropic).toMatchObject({
        stopReason: "end_turn",
        cacheHit: true,
        cacheWrite5mTokens: 150,
        cacheWrite1hTokens: 50
      })
    }).pipe(Effect.provide(Http)))

  it.effect("stop reasons", () =>
    Effect.gen(function*() {
      const p = yield* anthropic()
      const expected: Record<string, string> = {
        end_turn: "stop",
        stop_sequence: "stop",
        max_tokens: "length",
        tool_use: "tool_calls",
        refusal: "content_filter",
        pause_turn: "other",
        model_context_window_exceeded: "length",
        brand_new_reason: "other"
      }
      for (const [raw, mapped] of Object.entries(expected)) {
        server.handle(() =>
          json({ ...okBody, stop_reason: raw, stop_sequence: raw === "stop_sequence" ? "END" : null })
        )
        const result = yield* p.chat(call())
        expect(result.finishReason, raw).toBe(mapped)
        expect((result.providerMetadata?.anthropic as any).stopReason).toBe(raw)
        if (raw === "stop_sequence") expect((result.providerMetadata?.anthropic as any).stopSequence).toBe("END")
      }
    }).pipe(Effect.provide(Http)))

  it.effect("thinking and redacted thinking: reasoning text, signatures in the message, round trip", () =>
    Effect.gen(function*() {
      server.handle(() =>
        json({
          ...okBody,
          content: [
            { type: "thinking", thinking: "First, ", signature: "sig-a" },
            { type: "redacted_thinking", data: "ENCRYPTED" },
            { type: "text", text: "Calling." },
            { type: "tool_use", id: "toolu_9", name: "weather", input: { location: "Oslo" } },
            { type: "thinking", thinking: "then.", signature: "sig-b" }
          ],
          stop_reason: "tool_use"
        })
      )
      const p = yield* anthropic()
      const result = yield* p.chat(call())
      expect(result.reasoning).toBe("First, then.")
      expect(result.text).toBe("Calling.")
      expect(result.toolCalls).toEqual([{
        id: "toolu_9",
        name: "weather",
        arguments: { location: "Oslo" },
        rawArguments: "{\"location\":\"Oslo\"}"
      }])
      expect(result.message.content).toEqual([
        { type: "reasoning", text: "First, ", signature: "sig-a" },
        { type: "reasoning", text: "", redacted: true, signature: "ENCRYPTED" },
        { type: "text", text: "Calling." },
        { type: "tool-call", id: "toolu_9", name: "weather", arguments: { location: "Oslo" } },
        { type: "reasoning", text: "then.", signature: "sig-b" }
      ])
      expect(result.providerMetadata?.anthropic).toMatchObject({ signature: "sig-b", redactedThinking: ["ENCRYPTED"] })
      // send the turn back: the blocks return unchanged
      server.handle(() => json(okBody))
      yield* p.chat(call({
        messages: [["user", "weather?"], result.message, { role: "tool", toolCallId: "toolu_9", content: "cold" }],
        tools: [{ name: "weather", parameters: { type: "object" } }]
      }))
      const body = lastRequest().body
      expect(validateMessagesRequest(body)).toEqual([])
      expect(body.messages[1].content).toEqual([
        { type: "thinking", thinking: "First, ", signature: "sig-a" },
        { type: "redacted_thinking", data: "ENCRYPTED" },
        { type: "text", text: "Calling." },
        { type: "tool_use", id: "toolu_9", name: "weather", input: { location: "Oslo" } },
        { type: "thinking", thinking: "then.", signature: "sig-b" }
      ])
    }).pipe(Effect.provide(Http)))

  it.effect("streamed thinking: ReasoningDelta text, then the signature as metadata; redacted blocks in Finish", () =>
    Effect.gen(function*() {
      server.handle(() =>
        sse(eventsToSse([
          start(),
          { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
          { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Hmm." } },
          { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig-z" } },
          { type: "content_block_stop", index: 0 },
          { type: "content_block_start", index: 1, content_block: { type: "redacted_thinking", data: "ENC" } },
          { type: "content_block_stop", index: 1 },
          { type: "content_block_start", index: 2, content_block: { type: "text", text: "", citations: [] } },
          {
            type: "content_block_delta",
            index: 2,
            delta: { type: "citations_delta", citation: { type: "char_location", cited_text: "x" } }
          },
          { type: "content_block_delta", index: 2, delta: { type: "text_delta", text: "Done" } },
          { type: "content_block_stop", index: 2 },
          { type: "brand_new_event", payload: 1 },
          { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 9 } },
          { type: "message_stop" }
        ]))
      )
      const p = yield* anthropic()
      const events = Array.from(yield* Stream.runCollect(p.chatStream(call())))
      expect(events.filter((e) => e._tag === "ReasoningDelta")).toEqual([
        { _tag: "ReasoningDelta", text: "Hmm." },
        { _tag: "ReasoningDelta", text: "", providerMetadata: { signature: "sig-z" } }
      ])
      const result = StreamEvent.accumulateAll(events)
      expect(result.reasoning).toBe("Hmm.")
      expect(result.text).toBe("Done")
      expect(result.message.content[0]).toEqual({ type: "reasoning", text: "Hmm.", signature: "sig-z" })
      expect(result.providerMetadata?.anthropic).toMatchObject({ signature: "sig-z", redactedThinking: ["ENC"] })
    }).pipe(Effect.provide(Http)))

  it.effect("streamed usage: message_delta is cumulative (the last value wins, never summed)", () =>
    Effect.gen(function*() {
      server.handle(() =>
        sse(eventsToSse([
          start({ input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 0, output_tokens: 1 }),
          ...textBlock("a"),
          { type: "content_block_stop", index: 0 },
          { type: "message_delta", delta: { stop_reason: null }, usage: { output_tokens: 3 } },
          { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 7 } },
          { type: "message_stop" }
        ]))
      )
      const p = yield* anthropic()
      const events = Array.from(yield* Stream.runCollect(p.chatStream(call())))
      const finish = events[events.length - 1] as StreamEvent.Finish
      expect(finish.usage).toEqual({
        inputTokens: 105,
        outputTokens: 7,
        totalTokens: 112,
        cachedInputTokens: 100,
        cacheWriteTokens: 0
      })
      expect(finish.providerMetadata?.anthropic).toMatchObject({ cacheHit: true })
      expect(events.filter((e) => e._tag === "Usage").length).toBe(2)
    }).pipe(Effect.provide(Http)))
})

const env = (values: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(values)))

describe("headers and secrets", () => {
  it.effect("x-api-key, anthropic-version, anthropic-beta (option + providerOptions), extra headers", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const p = yield* anthropic({ betas: ["token-efficient-tools-2025-02-19"], headers: { "X-Team": "core" } })
      yield* p.chat(call({
        providerOptions: {
          anthropic: { betas: ["interleaved-thinking-2025-05-14", "token-efficient-tools-2025-02-19"] }
        }
      }))
      const sent = lastRequest()
      expect(sent.path).toBe("/v1/messages")
      expect(sent.headers["x-api-key"]).toBe(secret)
      expect(sent.headers.authorization).toBeUndefined()
      expect(sent.headers["anthropic-version"]).toBe("2023-06-01")
      expect(sent.headers["anthropic-beta"]).toBe("token-efficient-tools-2025-02-19,interleaved-thinking-2025-05-14")
      expect(sent.headers["x-team"]).toBe("core")
      expect(sent.headers["content-type"]).toContain("application/json")
      expect(sent.body.betas).toBeUndefined()
      yield* p.chat(call())
      expect(lastRequest().headers["anthropic-beta"]).toBe("token-efficient-tools-2025-02-19")
    }).pipe(Effect.provide(Http)))

  it.effect("a Redacted key; no key → no x-api-key header; a trailing slash on the base URL is ignored", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const redacted = yield* Anthropic.make({ apiKey: Redacted.make(secret), baseUrl: `${server.url}/` })
      yield* redacted.chat(call())
      expect(lastRequest().path).toBe("/v1/messages")
      expect(lastRequest().headers["x-api-key"]).toBe(secret)
      const none = yield* Anthropic.make({ apiKey: " ", baseUrl: server.url })
      yield* none.chat(call())
      expect(lastRequest().headers["x-api-key"]).toBeUndefined()
    }).pipe(Effect.provide(Http)))

  it.effect("provider description", () =>
    Effect.gen(function*() {
      const p = yield* anthropic()
      expect(p.name).toBe("anthropic")
      expect(p.api).toBe("anthropic")
      expect(p.capabilities).toEqual({
        streaming: true,
        tools: true,
        vision: true,
        jsonSchema: false,
        embeddings: false,
        promptCaching: true,
        reasoning: true,
        idempotency: false
      })
      expect(p.embed).toBeUndefined()
    }).pipe(Effect.provide(Http)))
})

describe("cache breakpoints over HTTP", () => {
  const six = {
    messages: [{
      role: "user" as const,
      content: ["a", "b", "c", "d", "e", "f"].map((t) => ({ type: "text" as const, text: t, cache: {} }))
    }]
  }

  it.effect("more than 4: the first 4 are sent, the rest reported in metadata and logged at warning level", () =>
    Effect.gen(function*() {
      const logs: Array<{ level: string; message: string }> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) =>
          logs.push({ level: logLevel.label, message: Array.isArray(message) ? message.join(" ") : String(message) })
        )
      )
      const p = yield* anthropic()
      server.handle(() => json(okBody))
      const result = yield* p.chat(call(six)).pipe(Effect.provide(capture))
      const sent = lastRequest().body
      expect(validateMessagesRequest(sent)).toEqual([])
      expect(sent.messages[0].content.map((b: any) => b.cache_control !== undefined)).toEqual([
        true,
        true,
        true,
        true,
        false,
        false
      ])
      const dropped = ["messages[0].content[4]", "messages[0].content[5]"]
      expect((result.providerMetadata?.anthropic as any).droppedCacheBreakpoints).toEqual(dropped)
      expect(logs.filter((l) => l.level === LogLevel.Warning.label)).toHaveLength(1)
      expect(logs[0]!.message).toContain("messages[0].content[4], messages[0].content[5]")

      server.handle(() => sse(okStream))
      const events = Array.from(
        yield* Stream.runCollect(p.chatStream(call(six))).pipe(Effect.provide(capture))
      )
      const finish = events[events.length - 1] as StreamEvent.Finish
      expect((finish.providerMetadata?.anthropic as any).droppedCacheBreakpoints).toEqual(dropped)
      expect(logs.filter((l) => l.level === LogLevel.Warning.label)).toHaveLength(2)

      // 4 or fewer: no warning, nothing reported
      server.handle(() => json(okBody))
      const fine = yield* p.chat(call({ messages: [{ role: "user", content: "doc", cache: {} }] })).pipe(
        Effect.provide(capture)
      )
      expect((fine.providerMetadata?.anthropic as any).droppedCacheBreakpoints).toBeUndefined()
      expect(logs.filter((l) => l.level === LogLevel.Warning.label)).toHaveLength(2)
    }).pipe(Effect.provide(Http)))
})

describe("layers, configuration, LlmClient", () => {
  it.effect("claude-… models route to anthropic through LlmClient; max_tokens from the catalog; cost priced", () =>
    Effect.gen(function*() {
      // the response names the model asked for (the pipeline prices the model that answered)
      server.handle((r) => json({ ...okBody, model: r.body.model }))
      const result = yield* LlmClient.chat({ model: "claude-fiber-test-1", messages: "ping" })
      expect(result.provider).toBe("anthropic")
      expect(result.text).toBe("pong")
      expect(lastRequest().body.model).toBe("claude-fiber-test-1")
      expect(lastRequest().body.max_tokens).toBe(12_345)
      // 10 plain input at $3, 1000 cached at $0.3, 200 written at $3.75, 5 output at $15 (per MTok)
      const inputUsd = (10 * 3 + 1000 * 0.3 + 200 * 3.75) / 1e6
      expect(result.cost?.inputUsd).toBeCloseTo(inputUsd, 12)
      expect(result.cost?.outputUsd).toBeCloseTo((5 * 15) / 1e6, 12)
      // a model the catalog does not know: the provider default, and no cost
      const unknown = yield* LlmClient.chat({ model: "claude-unknown-model-x", messages: "ping" })
      expect(lastRequest().body.max_tokens).toBe(4096)
      expect(unknown.cost).toBeUndefined()
      // explicit provider prefix
      yield* LlmClient.chat({ model: "anthropic:some-model", messages: "ping", maxTokens: 9 })
      expect(lastRequest().body).toMatchObject({ model: "some-model", max_tokens: 9 })
    }).pipe(
      Effect.provide(
        LlmClient.layerWith(Anthropic.layer({ apiKey: secret, baseUrl: server.url })).pipe(
          Layer.provide(Catalog.layer({
            models: {
              "claude-fiber-test-1": {
                provider: "anthropic",
                inputPerMTok: 3,
                outputPerMTok: 15,
                cachedInputPerMTok: 0.3,
                cacheWritePerMTok: 3.75,
                maxOutputTokens: 12_345
              }
            }
          }))
        )
      )
    ))

  it.effect("a stream through LlmClient", () =>
    Effect.gen(function*() {
      server.handle(() => sse(okStream))
      const result = yield* StreamEvent.accumulate(LlmClient.chatStream({ model, messages: "ping" }))
      expect(result.text).toBe("pong")
      expect(result.provider).toBe("anthropic")
      expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 2, totalTokens: 12 })
    }).pipe(Effect.provide(LlmClient.layerWith(Anthropic.layer({ apiKey: secret, baseUrl: server.url })))))

  it.effect("layerConfig reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      yield* LlmClient.chat({ model, messages: "ping" })
      expect(lastRequest().headers["x-api-key"]).toBe("sk-ant-from-env")
    }).pipe(
      Effect.provide(LlmClient.layerWith(Anthropic.layerConfig())),
      Effect.withConfigProvider(env({ ANTHROPIC_API_KEY: "sk-ant-from-env", ANTHROPIC_BASE_URL: server.url }))
    ))

  it.effect("the built layers: LlmClient.layer + ProviderRegistry.layer + Anthropic.layer + UndiciHttpClient", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const result = yield* LlmClient.chat({ model: "claude-haiku-4-5", messages: "ping" })
      expect(result.provider).toBe("anthropic")
    }).pipe(
      Effect.provide(
        LlmClient.layer.pipe(
          Layer.provide(Anthropic.layer({ apiKey: secret, baseUrl: server.url })),
          Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer()))
        )
      )
    ))
})

describe("plugin", () => {
  const registered = (settings: Record<string, unknown>, env: Record<string, string>) =>
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry.ProviderRegistry
      return registry.names()
    }).pipe(
      Effect.provide(plugin.layer(settings).pipe(Layer.provideMerge(ProviderRegistry.layer))),
      Effect.provide(UndiciHttpClient.layer()),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )

  it.effect("registers anthropic only with a key or a base URL; apiKey: false turns it off", () =>
    Effect.gen(function*() {
      expect(plugin.name).toBe("anthropic")
      expect(yield* registered({}, {})).toEqual([])
      expect(yield* registered({}, { ANTHROPIC_API_KEY: "sk-ant-x" })).toEqual(["anthropic"])
      expect(yield* registered({}, { ANTHROPIC_BASE_URL: "http://127.0.0.1:1" })).toEqual(["anthropic"])
      expect(yield* registered({ apiKey: "sk-ant-y" }, {})).toEqual(["anthropic"])
      expect(yield* registered({ apiKey: false }, { ANTHROPIC_API_KEY: "sk-ant-x" })).toEqual([])
    }))

  it.effect("bad settings are a ConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(registered({ baseUrl: 42 }, {}))
      expect(String(error)).toContain("baseUrl")
      const betas = yield* Effect.flip(registered({ apiKey: "k", betas: "nope" }, {}))
      expect(String(betas)).toContain("betas")
    }))

  it.effect("LlmClient.layerFromEnv loads the plugin by package name", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const result = yield* LlmClient.chat({ model, messages: "ping" })
      expect(result.provider).toBe("anthropic")
      expect(lastRequest().headers["x-api-key"]).toBe("sk-ant-plugin")
    }).pipe(
      Effect.provide(LlmClient.layerFromEnv()),
      Effect.withConfigProvider(env({ ANTHROPIC_API_KEY: "sk-ant-plugin", ANTHROPIC_BASE_URL: server.url }))
    ))
})
