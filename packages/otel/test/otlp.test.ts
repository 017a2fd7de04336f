/**
 * `Otel.layer` exporting over OTLP/HTTP to a real loopback receiver (`OtlpReceiver`), behind
 * the real client, providers and HTTP against the mock provider server: the same checks as
 * in memory on what arrived over the wire — which proves the layer flushes when its scope
 * closes (every assertion runs right after it closed, without waiting) — plus the signal and
 * header options, and that no API key is in any exported byte.
 */
import { beforeEach, describe, expect, it } from "@effect/vitest"
import { Anthropic } from "@llm-fiber/anthropic"
import { LlmClient, LlmError, Provider, ProviderRegistry, RetryPolicy } from "@llm-fiber/core"
import { Gemini } from "@llm-fiber/gemini"
import { OpenAI } from "@llm-fiber/openai"
import { Otel } from "@llm-fiber/otel"
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions/incubating"
import { Effect, Either, Layer, Logger, LogLevel, Redacted, Schedule, Stream } from "effect"
import { apiKey, checkMetrics, checkSpans, client, models, runId, sequence, STATUS_ERROR } from "./support/pipeline.js"
import { receiver, server, startServers } from "./support/servers.js"

startServers()
beforeEach(() => server.reset())

const quiet = Logger.withMinimumLogLevel(LogLevel.None)

const paths = () => receiver.requests.map((r) => r.path)

describe("Otel.layer (OTLP/HTTP to a loopback receiver)", () => {
  it.live("the scripted sequence arrives: spans, attributes, events, links, statuses, metrics", () =>
    Effect.gen(function*() {
      const run = runId()
      yield* sequence(run).pipe(
        Effect.provide(client(server)),
        Effect.provide(Otel.layer({ serviceName: "otel-wire-test", serviceVersion: "9.9.9", endpoint: receiver.url }))
      )
      // the layer has closed: everything was flushed before it returned
      expect(paths()).toContain("/v1/traces")
      expect(paths()).toContain("/v1/metrics")
      for (const request of receiver.requests) expect(request.headers["content-type"]).toBe("application/json")
      const spans = receiver.spans()
      checkSpans(spans)
      checkMetrics(receiver.metrics(), run)
      expect(spans[0]!.resource).toMatchObject({ "service.name": "otel-wire-test", "service.version": "9.9.9" })
    }).pipe(quiet))

  it.live("a program that fails is flushed too", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.zipRight(
          LlmClient.chat({ model: models.ok, messages: "then fail" }),
          Effect.fail("boom" as const)
        ).pipe(
          Effect.withSpan("failing.program"),
          Effect.provide(client(server)),
          Effect.provide(Otel.layer({ serviceName: "t", endpoint: receiver.url }))
        )
      )
      expect(exit._tag).toBe("Failure")
      const names = receiver.spans().map((s) => s.name)
      expect(names).toContain("llm.chat")
      expect(receiver.spans().find((s) => s.name === "failing.program")?.status.code).toBe(STATUS_ERROR)
      expect(receiver.metrics().some((p) => p.name === "llm_requests_total")).toBe(true)
    }).pipe(quiet))

  it.live("traces: false / metrics: false export only the other signal", () =>
    Effect.gen(function*() {
      const call = LlmClient.chat({ model: models.ok, messages: "hi" }).pipe(Effect.provide(client(server)))
      yield* call.pipe(Effect.provide(Otel.layer({ serviceName: "t", endpoint: receiver.url, traces: false })))
      expect(paths()).toEqual(["/v1/metrics"])
      receiver.reset()
      yield* call.pipe(Effect.provide(Otel.layer({ serviceName: "t", endpoint: receiver.url, metrics: false })))
      expect(paths()).toEqual(["/v1/traces"])
    }).pipe(quiet))

  it.live("headers (plain or Redacted) go with every export; per-signal URLs win over endpoint", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat({ model: models.ok, messages: "hi" }).pipe(
        Effect.provide(client(server)),
        Effect.provide(Otel.layer({
          serviceName: "t",
          endpoint: "http://127.0.0.1:9", // nothing listens there: both signals have their own URL
          tracesEndpoint: `${receiver.url}/v1/traces`,
          metricsEndpoint: `${receiver.url}/v1/metrics`,
          headers: { "x-tenant": "acme", authorization: Redacted.make("Bearer otlp-token-1") }
        }))
      )
      expect(paths().sort()).toEqual(["/v1/metrics", "/v1/traces"])
      for (const request of receiver.requests) {
        expect(request.headers["x-tenant"]).toBe("acme")
        expect(request.headers.authorization).toBe("Bearer otlp-token-1")
      }
    }).pipe(quiet))
})

// -----------------------------------------------------------------------------
// secrets
// -----------------------------------------------------------------------------

const retryFast = RetryPolicy.layer({ schedule: Schedule.spaced("5 millis") })

/** One client with the three providers of the mock server, all on the same fake key. */
const allProviders = () =>
  LlmClient.layerWith(Layer.mergeAll(
    OpenAI.layer({ apiKey, baseUrl: server.openaiBaseUrl }),
    Anthropic.layer({ apiKey, baseUrl: server.anthropicBaseUrl }),
    Gemini.layer({ apiKey, baseUrl: server.geminiBaseUrl })
  )).pipe(Layer.provide(retryFast))

describe("no API key in any exported byte", () => {
  it.live("chat, stream and failing calls of OpenAI, Anthropic and Gemini", () =>
    Effect.gen(function*() {
      const calls = Effect.forEach(["openai", "anthropic", "gemini"], (provider) =>
        Effect.gen(function*() {
          const model = (query: string) => `${provider}:mock?${query}`
          yield* LlmClient.chat({ model: model("chunks=2"), messages: "hi" })
          yield* Stream.runDrain(LlmClient.chatStream({ model: model("chunks=3"), messages: "hi" }))
          const failedChat = yield* Effect.either(LlmClient.chat({ model: model("fault=401"), messages: "hi" }))
          expect(Either.isLeft(failedChat)).toBe(true)
          const failedStream = yield* Effect.either(
            Stream.runDrain(LlmClient.chatStream({ model: model("chunks=4&fault=error-event"), messages: "hi" }))
          )
          expect(Either.isLeft(failedStream)).toBe(true)
        }), { discard: true })
      yield* calls.pipe(
        Effect.withSpan("secrets"),
        Effect.provide(allProviders()),
        Effect.provide(Otel.layer({ serviceName: "secrets", endpoint: receiver.url }))
      )
      // the key really went out to the providers …
      const sentKeys = server.requests.map((r) =>
        r.headers.authorization ?? r.headers["x-api-key"] ?? r.headers["x-goog-api-key"]
      )
      expect(sentKeys.length).toBeGreaterThanOrEqual(12)
      for (const sent of sentKeys) expect(String(sent)).toContain(apiKey)
      // … and the telemetry of all of it arrived, failures included …
      const spans = receiver.spans()
      expect(spans.filter((s) => s.name === "llm.chat")).toHaveLength(6)
      expect(spans.filter((s) => s.name === "llm.chat_stream")).toHaveLength(6)
      expect(spans.filter((s) => s.attributes[ATTR_ERROR_TYPE] !== undefined).length).toBeGreaterThanOrEqual(6)
      expect(spans.some((s) => s.name === "http.client POST")).toBe(true)
      // … without the key anywhere in the raw payloads (attributes, events, statuses, metrics)
      expect(receiver.requests.length).toBeGreaterThanOrEqual(2)
      for (const request of receiver.requests) {
        expect(request.text.length).toBeGreaterThan(0)
        expect(request.text).not.toContain(apiKey)
        expect(request.text).not.toContain("SECRET-otel")
      }
    }).pipe(quiet))

  /** A provider whose error message echoes a token — text llm-fiber does not control. */
  const leaky = (token: string): Provider.Provider => ({
    name: "leaky",
    api: "test",
    capabilities: Provider.noCapabilities,
    chat: () =>
      Effect.fail(
        new LlmError.ServerError({ message: `leaky HTTP 500: bad header ${token}`, status: 500, shouldRetry: false })
      ),
    chatStream: () => Stream.die("unused")
  })

  const leakyClient = (token: string) =>
    LlmClient.layer.pipe(
      Layer.provide(ProviderRegistry.register(Effect.succeed(leaky(token)))),
      Layer.provide(ProviderRegistry.layer)
    )

  it.live("redact blanks out values you name, even in a provider's error message", () =>
    Effect.gen(function*() {
      const token = "tok-LEAKY-4242-abcd"
      const leak = Effect.either(LlmClient.chat({ model: "leaky:model", messages: "hi" })).pipe(
        Effect.provide(leakyClient(token))
      )
      // without redact the message goes out as it is (so this test can see a leak) …
      yield* leak.pipe(Effect.provide(Otel.layer({ serviceName: "t", endpoint: receiver.url, metrics: false })))
      expect(receiver.requests.some((r) => r.text.includes(token))).toBe(true)
      receiver.reset()
      // … with it, every span, event and status is scrubbed
      yield* leak.pipe(
        Effect.provide(Otel.layer({ serviceName: "t", endpoint: receiver.url, redact: [Redacted.make(token)] }))
      )
      expect(receiver.requests.length).toBeGreaterThan(0)
      for (const request of receiver.requests) expect(request.text).not.toContain(token)
      const chat = receiver.spans().find((s) => s.name === "llm.chat")
      expect(chat?.status.code).toBe(STATUS_ERROR)
      expect(chat?.status.message).toContain("[redacted]")
    }).pipe(quiet))
})
