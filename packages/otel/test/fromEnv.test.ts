/**
 * `Otel.layerFromEnv`: the standard `OTEL_*` variables, read through Effect `Config` (here
 * from a map), turn OTLP/HTTP export on, shape it, or leave it off.
 */
import { describe, expect, it } from "@effect/vitest"
import { LlmClient } from "@llm-fiber/core"
import { Otel } from "@llm-fiber/otel"
import { ConfigError, ConfigProvider, Effect, Either, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { client, models } from "./support/pipeline.js"
import { receiver, server, startServers } from "./support/servers.js"

startServers()

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** One chat under `layerFromEnv` with exactly this environment. */
const callWith = (env: Record<string, string>, defaults?: Otel.FromEnvOptions) =>
  LlmClient.chat({ model: models.ok, messages: "hi" }).pipe(
    Effect.provide(client(server)),
    Effect.provide(Otel.layerFromEnv(defaults)),
    withEnv(env),
    Logger.withMinimumLogLevel(LogLevel.None)
  )

const paths = () => receiver.requests.map((r) => r.path).sort()

describe("Otel.layerFromEnv", () => {
  it.live("no endpoint: nothing is exported (the layer is empty)", () =>
    Effect.gen(function*() {
      yield* callWith({ OTEL_SERVICE_NAME: "svc" })
      expect(receiver.requests).toEqual([])
      const settings = yield* Otel.config().pipe(withEnv({ OTEL_SERVICE_NAME: "svc" }))
      expect(Option.isNone(settings)).toBe(true)
    }))

  it.live("OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_HEADERS", () =>
    Effect.gen(function*() {
      yield* callWith({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "from-env",
        OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=acme,authorization=Bearer%20env-token"
      }, { serviceName: "default-name", serviceVersion: "1.0.0" })
      expect(paths()).toEqual(["/v1/metrics", "/v1/traces"])
      for (const request of receiver.requests) {
        expect(request.headers["x-tenant"]).toBe("acme")
        expect(request.headers.authorization).toBe("Bearer env-token")
      }
      const chat = receiver.spans().find((s) => s.name === "llm.chat")
      expect(chat?.resource).toMatchObject({ "service.name": "from-env", "service.version": "1.0.0" })
    }))

  it.live("the defaults' service name when OTEL_SERVICE_NAME is not set", () =>
    Effect.gen(function*() {
      yield* callWith({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, { serviceName: "default-name" })
      expect(receiver.spans()[0]?.resource["service.name"]).toBe("default-name")
    }))

  it.live("OTEL_TRACES_EXPORTER=none / OTEL_METRICS_EXPORTER=none turn one signal off", () =>
    Effect.gen(function*() {
      yield* callWith({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_EXPORTER: "none" })
      expect(paths()).toEqual(["/v1/metrics"])
      receiver.reset()
      yield* callWith({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRICS_EXPORTER: "none" })
      expect(paths()).toEqual(["/v1/traces"])
    }))

  it.live("a per-signal endpoint alone exports that signal, to that exact URL", () =>
    Effect.gen(function*() {
      yield* callWith({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/custom/traces` })
      expect(paths()).toEqual(["/custom/traces"])
    }))

  it.live("OTEL_SDK_DISABLED=true wins over an endpoint", () =>
    Effect.gen(function*() {
      yield* callWith({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: "true" })
      expect(receiver.requests).toEqual([])
    }))

  it.effect("Otel.config: the settings it reads (timeouts, interval, headers as secrets)", () =>
    Effect.gen(function*() {
      const settings = yield* Otel.config({ serviceName: "fallback", exportTimeoutMs: 3000, traces: false }).pipe(
        withEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/",
          OTEL_EXPORTER_OTLP_TIMEOUT: "1234",
          OTEL_METRIC_EXPORT_INTERVAL: "5000",
          OTEL_EXPORTER_OTLP_HEADERS: "api-key=abc%3D%3D , x-b = 2"
        })
      )
      expect(Option.isSome(settings)).toBe(true)
      const options = Option.getOrThrow(settings)
      expect(options).toMatchObject({
        serviceName: "fallback",
        endpoint: "http://collector:4318/",
        exportTimeoutMs: 1234,
        metricExportIntervalMs: 5000,
        traces: false, // the defaults can turn a signal off
        metrics: true
      })
      expect(Object.keys(options.headers ?? {}).sort()).toEqual(["api-key", "x-b"])
      const key = options.headers?.["api-key"]
      expect(Redacted.isRedacted(key) && Redacted.value(key)).toBe("abc==")
      expect(String(key)).not.toContain("abc")
    }))

  it.effect("a malformed endpoint is a ConfigError", () =>
    Effect.gen(function*() {
      const built = yield* Effect.either(
        Layer.build(Otel.layerFromEnv()).pipe(Effect.scoped, withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }))
      )
      expect(Either.isLeft(built) && ConfigError.isInvalidData(built.left)).toBe(true)
      expect(Either.isLeft(built) && String(built.left)).toContain("OTEL_EXPORTER_OTLP_ENDPOINT")
    }))
})
