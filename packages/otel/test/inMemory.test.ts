/**
 * The OpenTelemetry SDK pipeline in memory (`Otel.layerInMemory`: a span exporter kept in
 * memory, a metric reader collected on demand) behind the real client, provider and HTTP
 * against the mock provider server: the scripted sequence's spans, attributes, events,
 * parent/child links, error statuses and metrics as the SDK sees them.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { LlmClient } from "@llm-fiber/core"
import { Otel } from "@llm-fiber/otel"
import { MockServer } from "@llm-fiber/testing"
import { Effect, Logger, LogLevel } from "effect"
import { checkMetrics, checkSpans, client, fromReadable, models, runId, sequence } from "./support/pipeline.js"

let server: MockServer.Handle
beforeAll(async () => {
  server = await MockServer.start()
})
afterAll(() => server.close())

describe("Otel.layerInMemory", () => {
  it.live("spans and metrics of chat, retry, error, cache hit, stream and a bound context", () =>
    Effect.gen(function*() {
      const run = runId()
      const telemetry = yield* Otel.InMemoryTelemetry
      yield* sequence(run)
      // read before the layer closes: the spans are there as soon as they end
      const spans = (yield* telemetry.spans).map(fromReadable)
      checkSpans(spans)
      checkMetrics(Otel.metricPoints(yield* telemetry.metrics), run)
    }).pipe(
      Effect.provide(client(server)),
      Effect.provide(Otel.layerInMemory({ serviceName: "otel-test" })),
      Logger.withMinimumLogLevel(LogLevel.None)
    ))

  it.live("the resource names the service; spans stay readable after the layer closed", () =>
    Effect.gen(function*() {
      const kept = yield* Effect.scoped(
        Effect.gen(function*() {
          const telemetry = yield* Otel.InMemoryTelemetry
          yield* LlmClient.chat({ model: models.ok, messages: "hi" }).pipe(Effect.provide(client(server)))
          return telemetry
        }).pipe(Effect.provide(Otel.layerInMemory({ serviceName: "svc", serviceVersion: "1.2.3" })))
      )
      const spans = yield* kept.spans
      expect(spans.map((s) => s.name)).toEqual(["http.client POST", "llm.attempt", "llm.chat"])
      expect(spans[0]!.resource.attributes).toMatchObject({ "service.name": "svc", "service.version": "1.2.3" })
      // the last collection, taken at shutdown
      expect(Otel.metricPoints(yield* kept.metrics, "llm_requests_total").length).toBeGreaterThan(0)
      yield* kept.reset
      expect(yield* kept.spans).toEqual([])
    }).pipe(Logger.withMinimumLogLevel(LogLevel.None)))
})
