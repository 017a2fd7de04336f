// llm-fiber through its Effect API: one `ManagedRuntime` over `LlmClient.layer` with the
// provider of the wire format over the undici `HttpClient`; `client.chat` /
// `client.chatStream` run with `runtime.runPromise`. The per-call log line is silenced
// (`Logger.minimumLogLevel(LogLevel.None)`, as the Promise facade does by default).
//
// Variants (the concerns of the default pipeline, to see what each costs):
//   bare   retries off (`maxRetries: 0`); timeouts on (they always are: the `hosted` defaults)
//   retry  the default retry policy (`RetryPolicy.defaultPolicy`: 2 retries, backoff)
//   otel   + OpenTelemetry spans and metrics (`@llm-fiber/otel` `Otel.layerInMemory`: the SDK
//          with in-memory exporters), retries off
//   cache  + a memory response cache (`ResponseCache.layerMemory()`), every call a miss
//          (each request's message is unique), retries off
//   full   the default retry policy + timeouts + OpenTelemetry + the memory cache (misses)
import { Anthropic } from "@llm-fiber/anthropic"
import { LlmClient, ProviderRegistry, ResponseCache, RetryPolicy, UndiciHttpClient } from "@llm-fiber/core"
import { Gemini } from "@llm-fiber/gemini"
import { OpenAI } from "@llm-fiber/openai"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime, Stream } from "effect"
import { deltaCounter, keys, prefixes, prompt } from "./common.mjs"

export const name = "fiber-effect"
export const variants = ["bare", "retry", "otel", "cache", "full"]

export const providerLayer = (format, baseUrl) =>
  format === "openai-chat"
    ? OpenAI.layer({ apiKey: keys.openai, baseUrl: baseUrl + "/v1" })
    : format === "openai-responses"
    ? OpenAI.responses({ apiKey: keys.openai, baseUrl: baseUrl + "/v1" })
    : format === "anthropic"
    ? Anthropic.layer({ apiKey: keys.anthropic, baseUrl })
    : Gemini.layer({ apiKey: keys.gemini, baseUrl })

/**
 * OpenTelemetry with in-memory exporters: `@llm-fiber/otel` when it is there (and
 * `BENCH_OTEL` is not `effect`), else `@effect/opentelemetry`'s NodeSdk directly. Resolves
 * with `{ via, layer, reset }`.
 */
const otelLayer = async () => {
  const fiberOtel = process.env.BENCH_OTEL === "effect"
    ? undefined
    : await import("@llm-fiber/otel").then((m) => m.Otel, () => undefined)
  if (fiberOtel !== undefined) {
    return {
      via: "@llm-fiber/otel Otel.layerInMemory",
      layer: fiberOtel.layerInMemory({ serviceName: "bench" }),
      reset: Effect.flatMap(fiberOtel.InMemoryTelemetry, (t) => t.reset)
    }
  }
  const { NodeSdk } = await import("@effect/opentelemetry")
  const { InMemorySpanExporter, SimpleSpanProcessor } = await import("@opentelemetry/sdk-trace-base")
  const { InMemoryMetricExporter, AggregationTemporality, PeriodicExportingMetricReader } = await import(
    "@opentelemetry/sdk-metrics"
  )
  const spans = new InMemorySpanExporter()
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  return {
    via: "@effect/opentelemetry NodeSdk (in-memory exporters)",
    layer: NodeSdk.layer(() => ({
      resource: { serviceName: "bench" },
      spanProcessor: new SimpleSpanProcessor(spans),
      metricReader: new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 1000 })
    })),
    reset: Effect.sync(() => {
      spans.reset()
      metrics.reset()
    })
  }
}

export const create = async ({ baseUrl, format, variant = "bare" }) => {
  if (!variants.includes(variant)) throw new Error(`unknown variant ${variant}`)
  const retry = variant === "retry" || variant === "full"
  const otel = variant === "otel" || variant === "full" ? await otelLayer() : undefined
  const cache = variant === "cache" || variant === "full"
  const concerns = Layer.mergeAll(
    ProviderRegistry.layer,
    UndiciHttpClient.layer(),
    retry ? RetryPolicy.layer({}) : RetryPolicy.layerDisabled,
    cache ? ResponseCache.layerMemory() : ResponseCache.layerDisabled
  )
  const client = LlmClient.layer.pipe(Layer.provide(providerLayer(format, baseUrl)), Layer.provide(concerns))
  const quiet = Logger.minimumLogLevel(LogLevel.None)
  const runtime = ManagedRuntime.make(
    otel === undefined ? Layer.merge(client, quiet) : Layer.mergeAll(client, quiet, otel.layer)
  )
  const llm = await runtime.runPromise(LlmClient.LlmClient)
  const prefix = prefixes[format]
  let calls = 0
  // a unique message per call makes every call a cache miss
  const messages = cache ? () => `${prompt} #${calls}` : () => prompt
  // spans are kept in memory: forget them now and then (off the measured path mostly)
  const tick = otel === undefined ? () => {} : () => {
    if (calls % 1000 === 0) runtime.runFork(otel.reset)
  }
  return {
    via: otel?.via,
    async chat(model) {
      calls++
      tick()
      const r = await runtime.runPromise(llm.chat({ model: prefix + model, messages: messages() }))
      return r.text.length
    },
    async stream(model, onFirst) {
      calls++
      tick()
      const counter = deltaCounter(onFirst)
      await runtime.runPromise(
        Stream.runForEachChunk(
          llm.chatStream({ model: prefix + model, messages: messages() }),
          (events) =>
            Effect.sync(() => {
              for (const e of events) if (e._tag === "TextDelta") counter.hit()
            })
        )
      )
      return counter.count
    },
    close: () => runtime.dispose()
  }
}
