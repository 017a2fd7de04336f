/**
 * The provider over loopback HTTP: URLs and API versions, the key header, errors, stream
 * edge cases, embeddings, the plugin, and a tool round trip through `LlmClient`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import {
  ChatRequest,
  LlmClient,
  Message,
  ProviderRegistry,
  RetryPolicy,
  StreamEvent,
  Timeouts,
  UndiciHttpClient
} from "@llm-fiber/core"
import { Gemini, plugin } from "@llm-fiber/gemini"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"
import { describeErrors, validateGenerateContent } from "./helpers/openapi.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const Http = UndiciHttpClient.layer()
const key = "AIzaSyTestKey_abcdefghijklmnopqrstuvw"
const last = () => server.requests[server.requests.length - 1]!
const env = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))

const okBody = {
  candidates: [{ content: { role: "model", parts: [{ text: "pong" }] }, finishReason: "STOP", index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4, cachedContentTokenCount: 2 },
  modelVersion: "gemini-2.5-flash",
  responseId: "resp-1"
}
const frame = (payload: unknown) => `data: ${JSON.stringify(payload)}\r\n\r\n`
const okStream = frame({
  candidates: [{ content: { role: "model", parts: [{ text: "po" }] }, index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
  responseId: "resp-s"
}) + frame({
  candidates: [{ content: { role: "model", parts: [{ text: "ng" }] }, finishReason: "STOP", index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
  responseId: "resp-s"
})

const request = (input: Partial<ChatRequest.Input> = {}) =>
  Either.getOrThrow(ChatRequest.make({ model: "gemini-2.5-flash", messages: "ping", ...input }))
const call = (model = "gemini-2.5-flash", input: Partial<ChatRequest.Input> = {}) => ({
  request: request(input),
  model,
  timeouts: Timeouts.hosted,
  attempt: 1
})

describe("URLs, versions and the key", () => {
  it.effect("default v1beta paths; key only in x-goog-api-key", () =>
    Effect.gen(function*() {
      const p = yield* Gemini.make({ apiKey: key, baseUrl: `${server.url}/` })
      expect(p.name).toBe("gemini")
      expect(p.api).toBe("gemini")
      expect(p.capabilities).toEqual({ ...Gemini.capabilities })
      server.handle(() => json(okBody))
      const result = yield* p.chat(call())
      expect(result.text).toBe("pong")
      expect(result.usage).toEqual({ inputTokens: 3, outputTokens: 1, totalTokens: 4, cachedInputTokens: 2 })
      expect(last().path).toBe("/v1beta/models/gemini-2.5-flash:generateContent")
      expect(last().headers["x-goog-api-key"]).toBe(key)
      expect(last().headers.authorization).toBeUndefined()
      expect(last().path).not.toContain(key)
      const errors = validateGenerateContent(last().body)
      expect(errors, describeErrors(errors)).toEqual([])
      server.handle(() => sse(okStream))
      const streamed = yield* StreamEvent.accumulate(p.chatStream(call()))
      expect(streamed.text).toBe("pong")
      expect(streamed.usage).toEqual({ inputTokens: 3, outputTokens: 2, totalTokens: 5 })
      expect(last().path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
      expect(last().path).not.toContain("key=")
    }).pipe(Effect.provide(Http)))

  it.effect("v1 through the option; model ids are URL-encoded; resource names kept", () =>
    Effect.gen(function*() {
      const p = yield* Gemini.make({ apiKey: key, baseUrl: server.url, apiVersion: "v1" })
      server.handle(() => json(okBody))
      yield* p.chat(call("gemini-2.5-pro"))
      expect(last().path).toBe("/v1/models/gemini-2.5-pro:generateContent")
      yield* p.chat(call("mock?chunks=5&fault=x"))
      expect(last().path).toBe("/v1/models/mock%3Fchunks%3D5%26fault%3Dx:generateContent")
      yield* p.chat(call("tunedModels/my-model"))
      expect(last().path).toBe("/v1/tunedModels/my-model:generateContent")
    }).pipe(Effect.provide(Http)))

  it.effect("v1 through GEMINI_API_VERSION; the key from GOOGLE_API_KEY", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const result = yield* LlmClient.chat({ model: "gemini-2.5-flash", messages: "ping" }).pipe(
        Effect.provide(LlmClient.layerWith(Gemini.layerConfig())),
        Effect.withConfigProvider(env({
          GOOGLE_API_KEY: key,
          GEMINI_BASE_URL: server.url,
          GEMINI_API_VERSION: "v1"
        }))
      )
      expect(result.provider).toBe("gemini")
      expect(last().path).toBe("/v1/models/gemini-2.5-flash:generateContent")
      expect(last().headers["x-goog-api-key"]).toBe(key)
      // GEMINI_API_KEY wins over GOOGLE_API_KEY
      yield* LlmClient.chat({ model: "gemini-2.5-flash", messages: "ping" }).pipe(
        Effect.provide(LlmClient.layerWith(Gemini.layerConfig())),
        Effect.withConfigProvider(
          env({ GOOGLE_API_KEY: "google", GEMINI_API_KEY: "gemini", GEMINI_BASE_URL: server.url })
        )
      )
      expect(last().headers["x-goog-api-key"]).toBe("gemini")
      expect(last().path).toBe("/v1beta/models/gemini-2.5-flash:generateContent")
    }))

  it.effect("an unknown API version is a ConfigError", () =>
    Effect.gen(function*() {
      const fromEnv = yield* Effect.flip(
        Layer.build(LlmClient.layerWith(Gemini.layerConfig())).pipe(
          Effect.withConfigProvider(env({ GEMINI_API_KEY: key, GEMINI_API_VERSION: "v2" })),
          Effect.scoped
        )
      )
      expect(fromEnv._op).toBe("InvalidData")
      expect(String(fromEnv)).toContain("v1beta")
      const fromOption = yield* Effect.flip(Gemini.make({ apiVersion: "v3" as "v1" }).pipe(Effect.provide(Http)))
      expect(fromOption._op).toBe("InvalidData")
      // case and spaces are forgiven
      expect(Gemini.parseApiVersion(" V1 ")).toBe("v1")
    }))

  it.effect("errors never contain the key", () =>
    Effect.gen(function*() {
      const p = yield* Gemini.make({ apiKey: key, baseUrl: server.url })
      server.handle(() =>
        json({
          error: {
            code: 400,
            message: `API key not valid: ${key}. Please pass a valid API key.`,
            status: "INVALID_ARGUMENT",
            details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }]
          }
        }, 400)
      )
      const error = yield* Effect.flip(p.chat(call()))
      expect(error._tag).toBe("AuthenticationError")
      expect(JSON.stringify(error)).not.toContain(key)
      expect(error.message).not.toContain(key)
      expect(error.message).toContain("GEMINI_API_KEY")
      // a network failure: the URL has no key either
      const dead = yield* Gemini.make({ apiKey: key, baseUrl: "http://127.0.0.1:1" })
      const network = yield* Effect.flip(dead.chat(call()))
      expect(network._tag).toBe("NetworkError")
      expect(JSON.stringify(network)).not.toContain(key)
      expect(network.message).not.toContain(key)
    }).pipe(Effect.provide(Http)))
})

describe("responses and streams", () => {
  const p = () => Gemini.make({ apiKey: key, baseUrl: server.url })

  it.effect("finish reasons", () =>
    Effect.gen(function*() {
      const g = yield* p()
      const cases = {
        MAX_TOKENS: "length",
        SAFETY: "content_filter",
        RECITATION: "content_filter",
        PROHIBITED_CONTENT: "content_filter",
        MALFORMED_FUNCTION_CALL: "other",
        OTHER: "other"
      } as const
      for (const [raw, expected] of Object.entries(cases)) {
        server.handle(() => json({ ...okBody, candidates: [{ ...okBody.candidates[0], finishReason: raw }] }))
        const result = yield* g.chat(call())
        expect(result.finishReason, raw).toBe(expected)
        expect(result.providerMetadata?.gemini).toMatchObject({ finishReason: raw })
      }
    }).pipe(Effect.provide(Http)))

  it.effect("thought parts are reasoning", () =>
    Effect.gen(function*() {
      const g = yield* p()
      const parts = [
        { text: "Let me think. ", thought: true },
        { text: "Done.", thought: true, thoughtSignature: "c2ln" },
        { text: "Answer" }
      ]
      server.handle(() =>
        json({ ...okBody, candidates: [{ content: { role: "model", parts }, finishReason: "STOP" }] })
      )
      const result = yield* g.chat(call())
      expect(result.reasoning).toBe("Let me think. Done.")
      expect(result.text).toBe("Answer")
      expect(result.message.content[0]).toEqual({ type: "reasoning", text: "Let me think. Done.", signature: "c2ln" })
      server.handle(() =>
        sse(
          frame({ candidates: [{ content: { parts: parts.slice(0, 2) } }], responseId: "r" }) +
            frame({ candidates: [{ content: { parts: parts.slice(2) }, finishReason: "STOP" }], responseId: "r" })
        )
      )
      const streamed = yield* StreamEvent.accumulate(g.chatStream(call()))
      expect(streamed.reasoning).toBe(result.reasoning)
      expect(streamed.text).toBe("Answer")
      expect(streamed.message).toEqual(result.message)
    }).pipe(Effect.provide(Http)))

  it.effect("a blocked prompt is a ContentFilterError (JSON and stream)", () =>
    Effect.gen(function*() {
      const g = yield* p()
      const blocked = { promptFeedback: { blockReason: "SAFETY", safetyRatings: [] }, responseId: "b" }
      server.handle(() => json(blocked))
      const error = yield* Effect.flip(g.chat(call()))
      expect(error._tag).toBe("ContentFilterError")
      expect(error.message).toContain("SAFETY")
      server.handle(() => sse(frame(blocked)))
      const streamError = yield* Effect.flip(Stream.runDrain(g.chatStream(call())))
      expect(streamError._tag).toBe("ContentFilterError")
    }).pipe(Effect.provide(Http)))

  it.effect("an error object inside a frame ends the stream with the mapped error, after the output before it", () =>
    Effect.gen(function*() {
      const g = yield* p()
      server.handle(() =>
        sse(
          frame({ candidates: [{ content: { parts: [{ text: "Hel" }] } }], responseId: "e" }) +
            frame({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } })
        )
      )
      const events: Array<StreamEvent.StreamEvent> = []
      const error = yield* Effect.flip(
        Stream.runForEach(g.chatStream(call()), (e) => Effect.sync(() => events.push(e)))
      )
      expect(error._tag).toBe("ServerError")
      expect(error.status).toBe(503)
      expect(events.map((e) => e._tag)).toEqual(["Start", "TextDelta"])
    }).pipe(Effect.provide(Http)))

  it.effect("a malformed frame is a ProtocolError; an empty stream too", () =>
    Effect.gen(function*() {
      const g = yield* p()
      server.handle(() => sse("data: {\"candidates\": [\r\n\r\n"))
      const malformed = yield* Effect.flip(Stream.runDrain(g.chatStream(call())))
      expect(malformed._tag).toBe("ProtocolError")
      server.handle(() => sse(""))
      const empty = yield* Effect.flip(Stream.runDrain(g.chatStream(call())))
      expect(empty._tag).toBe("ProtocolError")
      expect(empty.message).toContain("without any chunk")
    }).pipe(Effect.provide(Http)))

  it.effect("usage is cumulative: the last counts win, never summed; a usage-only chunk after the finish counts", () =>
    Effect.gen(function*() {
      const g = yield* p()
      const usage = (n: number) => ({ promptTokenCount: 10, candidatesTokenCount: n, totalTokenCount: 10 + n })
      server.handle(() =>
        sse(
          frame({ candidates: [{ content: { parts: [{ text: "a" }] } }], usageMetadata: usage(1) }) +
            frame({ candidates: [{ content: { parts: [{ text: "b" }] } }], usageMetadata: usage(2) }) +
            frame({ candidates: [{ content: { parts: [] }, finishReason: "STOP" }], usageMetadata: usage(3) }) +
            frame({ usageMetadata: { ...usage(3), thoughtsTokenCount: 4, totalTokenCount: 17 } })
        )
      )
      const result = yield* StreamEvent.accumulate(g.chatStream(call()))
      expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 7, totalTokens: 17, reasoningTokens: 4 })
      expect(result.id).toBe("")
    }).pipe(Effect.provide(Http)))

  it.effect("a function call in a JSON response with MAX_TOKENS stays length", () =>
    Effect.gen(function*() {
      const g = yield* p()
      server.handle(() =>
        json({
          candidates: [{
            content: { parts: [{ functionCall: { name: "f", args: { a: 1 } } }, { functionCall: { name: "g" } }] },
            finishReason: "MAX_TOKENS"
          }],
          responseId: "mt"
        })
      )
      const result = yield* g.chat(call())
      expect(result.finishReason).toBe("length")
      expect(result.toolCalls).toEqual([
        { id: "mt_call_0", name: "f", arguments: { a: 1 }, rawArguments: "{\"a\":1}" },
        { id: "mt_call_1", name: "g", arguments: {}, rawArguments: "{}" }
      ])
      expect(result.usage).toEqual({ inputTokens: 0, outputTokens: 0, totalTokens: 0 })
    }).pipe(Effect.provide(Http)))

  it.effect("an InvalidRequestError for an unmappable request is raised before anything is sent", () =>
    Effect.gen(function*() {
      const g = yield* p()
      const before = server.requests.length
      const bad = call("gemini-2.5-flash", { messages: [Message.user("hi"), Message.tool("nope", "x")] })
      const error = yield* Effect.flip(g.chat(bad))
      expect(error._tag).toBe("InvalidRequestError")
      expect(error.provider).toBe("gemini")
      const streamError = yield* Effect.flip(Stream.runDrain(g.chatStream(bad)))
      expect(streamError._tag).toBe("InvalidRequestError")
      expect(server.requests.length).toBe(before)
    }).pipe(Effect.provide(Http)))
})

describe("embeddings", () => {
  it.effect("batchEmbedContents, in input order", () =>
    Effect.gen(function*() {
      server.handle(() => json({ embeddings: [{ values: [0.1, 0.2] }, { values: [0.3, 0.4] }] }))
      const result = yield* LlmClient.embed({ model: "gemini:text-embedding-004", input: ["a", "b"], dimensions: 2 })
      expect(result.embeddings).toEqual([[0.1, 0.2], [0.3, 0.4]])
      expect(result.provider).toBe("gemini")
      expect(last().path).toBe("/v1beta/models/text-embedding-004:batchEmbedContents")
      expect(last().body).toEqual({
        requests: [
          { model: "models/text-embedding-004", content: { parts: [{ text: "a" }] }, outputDimensionality: 2 },
          { model: "models/text-embedding-004", content: { parts: [{ text: "b" }] }, outputDimensionality: 2 }
        ]
      })
      server.handle(() => json({ embeddings: [{ values: [1] }] }))
      const mismatch = yield* Effect.flip(LlmClient.embed({ model: "gemini:text-embedding-004", input: ["a", "b"] }))
      expect(mismatch._tag).toBe("ProtocolError")
    }).pipe(Effect.provide(LlmClient.layerWith(Gemini.layer({ apiKey: key, baseUrl: server.url })))))
})

describe("through LlmClient", () => {
  const weather = {
    name: "weather",
    description: "Weather in a city",
    parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] }
  }

  it.effect("a tool round trip: the functionResponse carries the function's name", () =>
    Effect.gen(function*() {
      server.handle(() =>
        json({
          candidates: [{
            content: {
              role: "model",
              parts: [{ functionCall: { name: "weather", args: { location: "Paris" } }, thoughtSignature: "c2lnLTE=" }]
            },
            finishReason: "STOP"
          }],
          usageMetadata: { promptTokenCount: 20, candidatesTokenCount: 5, totalTokenCount: 25 },
          responseId: "rt-1",
          modelVersion: "gemini-2.5-flash"
        })
      )
      const first = yield* LlmClient.chat({
        model: "gemini-2.5-flash",
        messages: "Weather in Paris?",
        tools: [weather]
      })
      expect(first.provider).toBe("gemini")
      expect(first.finishReason).toBe("tool_calls")
      expect(first.toolCalls).toEqual([
        {
          id: "rt-1_call_0",
          name: "weather",
          arguments: { location: "Paris" },
          rawArguments: "{\"location\":\"Paris\"}"
        }
      ])
      server.handle(() => json(okBody))
      const second = yield* LlmClient.chat({
        model: "gemini-2.5-flash",
        messages: [
          Message.user("Weather in Paris?"),
          first.message,
          Message.tool(first.toolCalls[0]!.id, { tempC: 21, sky: "clear" })
        ],
        tools: [weather]
      })
      expect(second.text).toBe("pong")
      const body = last().body
      expect(body.contents).toEqual([
        { role: "user", parts: [{ text: "Weather in Paris?" }] },
        {
          role: "model",
          parts: [{ functionCall: { name: "weather", args: { location: "Paris" } }, thoughtSignature: "c2lnLTE=" }]
        },
        { role: "user", parts: [{ functionResponse: { name: "weather", response: { tempC: 21, sky: "clear" } } }] }
      ])
      const errors = validateGenerateContent(body)
      expect(errors, describeErrors(errors)).toEqual([])
    }).pipe(
      Effect.provide(LlmClient.layerWith(Gemini.layer({ apiKey: key, baseUrl: server.url }))),
      Effect.provide(RetryPolicy.layerDisabled)
    ))

  it.effect("the same round trip streamed", () =>
    Effect.gen(function*() {
      server.handle(() =>
        sse(
          frame({
            candidates: [{
              content: {
                parts: [{ functionCall: { name: "weather", args: { location: "Oslo" } }, thoughtSignature: "czI=" }]
              }
            }],
            responseId: "rt-2"
          }) + frame({ candidates: [{ content: { parts: [{ text: "" }] }, finishReason: "STOP" }], responseId: "rt-2" })
        )
      )
      const first = yield* StreamEvent.accumulate(
        LlmClient.chatStream({ model: "gemini-2.5-flash", messages: "Weather in Oslo?", tools: [weather] })
      )
      expect(first.toolCalls.map((t) => t.id)).toEqual(["rt-2_call_0"])
      server.handle(() => sse(okStream))
      yield* Stream.runDrain(LlmClient.chatStream({
        model: "gemini-2.5-flash",
        messages: [Message.user("Weather in Oslo?"), first.message, Message.tool("rt-2_call_0", "-3C")],
        tools: [weather]
      }))
      expect(last().body.contents[1]).toEqual({
        role: "model",
        parts: [{ functionCall: { name: "weather", args: { location: "Oslo" } }, thoughtSignature: "czI=" }]
      })
      expect(last().body.contents[2]).toEqual({
        role: "user",
        parts: [{ functionResponse: { name: "weather", response: { result: "-3C" } } }]
      })
    }).pipe(
      Effect.provide(LlmClient.layerWith(Gemini.layer({ apiKey: key, baseUrl: server.url }))),
      Effect.provide(RetryPolicy.layerDisabled)
    ))
})

describe("plugin", () => {
  const names = (settings: Record<string, unknown> | undefined, entries: Record<string, string>) =>
    Effect.gen(function*() {
      const registry = ProviderRegistry.make()
      yield* Layer.build(plugin.layer(settings)).pipe(
        Effect.provide(Layer.succeed(ProviderRegistry.ProviderRegistry, registry)),
        Effect.provide(Http),
        Effect.withConfigProvider(env(entries))
      )
      return registry.names()
    }).pipe(Effect.scoped)

  it.effect("registers gemini only with a key or a base URL", () =>
    Effect.gen(function*() {
      expect(plugin.name).toBe("gemini")
      expect(yield* names(undefined, {})).toEqual([])
      expect(yield* names(undefined, { GEMINI_API_KEY: "k" })).toEqual(["gemini"])
      expect(yield* names(undefined, { GOOGLE_API_KEY: "k" })).toEqual(["gemini"])
      expect(yield* names(undefined, { GEMINI_BASE_URL: "http://x" })).toEqual(["gemini"])
      expect(yield* names({ apiKey: "k" }, {})).toEqual(["gemini"])
      expect(yield* names({ baseUrl: "http://x" }, {})).toEqual(["gemini"])
      expect(yield* names({ apiKey: false }, { GEMINI_API_KEY: "k" })).toEqual([])
      expect(yield* names(undefined, { GEMINI_API_KEY: " " })).toEqual([])
    }))

  it.effect("bad settings and versions are ConfigErrors", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(names({ baseUrl: 42 }, {})))._op).toBe("InvalidData")
      expect((yield* Effect.flip(names({ apiKey: "k", apiVersion: "v9" }, {})))._op).toBe("InvalidData")
      expect((yield* Effect.flip(names(undefined, { GEMINI_API_KEY: "k", GEMINI_API_VERSION: "beta" })))._op)
        .toBe("InvalidData")
    }))

  it.effect("LlmClient.layerFromEnv loads the plugin by package name; gemini- models route to it", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const client = yield* LlmClient.LlmClient
      expect(client.providers()).toContain("gemini")
      const result = yield* client.chat({ model: "gemini-2.5-flash", messages: "ping" })
      expect(result.provider).toBe("gemini")
      expect(last().path).toBe("/v1/models/gemini-2.5-flash:generateContent")
      expect(last().headers["x-goog-api-key"]).toBe("env-key")
      const prefixed = yield* client.chat({ model: "gemini:gemma-3-27b-it", messages: "ping" })
      expect(prefixed.provider).toBe("gemini")
      expect(last().path).toBe("/v1/models/gemma-3-27b-it:generateContent")
    }).pipe(
      Effect.provide(LlmClient.layerFromEnv({ providers: { openai: false } })),
      Effect.provide(RetryPolicy.layerDisabled),
      Effect.withConfigProvider(env({
        GEMINI_API_KEY: "env-key",
        GEMINI_BASE_URL: server.url,
        GEMINI_API_VERSION: "v1"
      }))
    ))
})
