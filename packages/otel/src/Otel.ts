/**
 * OpenTelemetry export for llm-fiber: one layer that sends the spans (`llm.chat`,
 * `llm.chat_stream`, `llm.attempt`, `llm.embed`) and the `llm_*` metrics every call already
 * records to an OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger, Tempo, …), built on
 * `@effect/opentelemetry`'s `NodeSdk`.
 *
 * - `layer(options)`: OTLP/HTTP traces (batched) and metrics (exported periodically), to
 *   `{endpoint}/v1/traces` and `{endpoint}/v1/metrics`;
 * - `layerFromEnv()`: the same from the standard `OTEL_*` variables, and nothing at all
 *   when no OTLP endpoint is set;
 * - `layerInMemory()`: the same pipeline into memory (`InMemory`), for tests.
 *
 * Every layer flushes what is pending and shuts the SDK down when its scope closes — provide
 * it around the whole program, so that closing it is the last thing the program does.
 *
 * The exporters are the OpenTelemetry JS OTLP/HTTP exporters, which send JSON
 * (`content-type: application/json`, the `http/json` OTLP protocol) — every OTLP/HTTP
 * receiver accepts it on port 4318.
 *
 * @example
 * ```ts
 * import { LlmClient } from "@llm-fiber/core"
 * import { Otel } from "@llm-fiber/otel"
 * import { Effect } from "effect"
 *
 * const program = LlmClient.chat({ model: "gpt-4o-mini", messages: "Say hi" })
 *
 * program.pipe(
 *   Effect.provide(LlmClient.layerFromEnv()),
 *   Effect.provide(Otel.layer({ serviceName: "my-app", endpoint: "http://127.0.0.1:4318" })),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as OtelApi from "@opentelemetry/api"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import {
  type CollectionResult,
  DataPointType,
  MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics
} from "@opentelemetry/sdk-metrics"
import {
  BatchSpanProcessor,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor
} from "@opentelemetry/sdk-trace-base"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Tracer from "effect/Tracer"

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

/**
 * A resource attribute value.
 *
 * @since 0.1.0
 * @category models
 */
export type AttributeValue = string | number | boolean | ReadonlyArray<string> | ReadonlyArray<number>

/**
 * What every layer of this module shares: the resource that names the service, context
 * propagation, and the strings to blank out of everything exported.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResourceOptions {
  /** `service.name` of the resource. */
  readonly serviceName: string
  /** `service.version` of the resource. */
  readonly serviceVersion?: string | undefined
  /** More resource attributes (`deployment.environment.name`, …); `OTEL_RESOURCE_ATTRIBUTES` adds to them. */
  readonly resourceAttributes?: Readonly<Record<string, AttributeValue>> | undefined
  /**
   * Make the current Effect span the active OpenTelemetry context while a fiber runs, so
   * that OpenTelemetry-instrumented libraries called from Effect code (`undici`/`http`
   * auto-instrumentation, …) nest their spans under it. Only useful when a global context
   * manager is registered (`@opentelemetry/sdk-node`, `@opentelemetry/context-async-hooks`);
   * it costs work at every fiber step (see `docs/observability.md`, "What it costs").
   * Default: on exactly when a working global context manager is registered when the
   * layer is built.
   */
  readonly propagateContext?: boolean | undefined
  /**
   * Values that must never leave the process (API keys you hold, tokens): replaced with
   * `[redacted]` in every exported span name, attribute, event and status message and in
   * every metric attribute. llm-fiber itself never puts a key on a span or metric; this is
   * a second line of defence for text you do not control (a provider's error message that
   * echoes a key). Values shorter than 8 characters are ignored.
   */
  readonly redact?: ReadonlyArray<string | Redacted.Redacted<string>> | undefined
}

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ResourceOptions {
  /**
   * Base URL of the OTLP/HTTP receiver (`http://127.0.0.1:4318`): spans go to
   * `{endpoint}/v1/traces`, metrics to `{endpoint}/v1/metrics`. Default: what the exporters
   * read from `OTEL_EXPORTER_OTLP_ENDPOINT` (or the per-signal variables), else
   * `http://localhost:4318`.
   */
  readonly endpoint?: string | URL | undefined
  /** The full URL for spans (wins over `endpoint`). */
  readonly tracesEndpoint?: string | URL | undefined
  /** The full URL for metrics (wins over `endpoint`). */
  readonly metricsEndpoint?: string | URL | undefined
  /**
   * Headers sent with every export (authentication of a hosted backend). `Redacted` values
   * are unwrapped only on the outgoing request.
   */
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
  /** How often metrics are exported (ms; default 60 000). A last export happens at shutdown. */
  readonly metricExportIntervalMs?: number | undefined
  /**
   * How long one export may take, its retries included (ms; default 10 000). An unreachable
   * receiver is retried with backoff until then — and the pending retry timers keep a
   * process that has nothing else to do alive until then too.
   */
  readonly exportTimeoutMs?: number | undefined
  /**
   * How long closing the layer may wait for the last exports (ms; default `exportTimeoutMs`
   * plus one second, so that an export still retrying is waited for rather than left
   * running behind the program's back).
   */
  readonly shutdownTimeoutMs?: number | undefined
  /** Export spans (default true). */
  readonly traces?: boolean | undefined
  /** Export metrics (default true). */
  readonly metrics?: boolean | undefined
}

// -----------------------------------------------------------------------------
// redaction
// -----------------------------------------------------------------------------

const redactedText = "[redacted]"

const secretsOf = (values: ResourceOptions["redact"]): ReadonlyArray<string> =>
  (values ?? []).flatMap((value) => {
    const text = (Redacted.isRedacted(value) ? Redacted.value(value) : value).trim()
    return text.length >= 8 ? [text] : []
  })

/**
 * Replace every secret in `text` with `[redacted]`.
 *
 * @since 0.1.0
 * @category redaction
 */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(redactedText)
  return out
}

const scrubValue = (value: OtelApi.AttributeValue | undefined, secrets: ReadonlyArray<string>) => {
  if (typeof value === "string") return scrub(value, secrets)
  if (Array.isArray(value)) {
    return (value as ReadonlyArray<unknown>).map((v) => (typeof v === "string" ? scrub(v, secrets) : v)) as
      | Array<string>
      | Array<number>
  }
  return value
}

const scrubAttributes = (attributes: OtelApi.Attributes, secrets: ReadonlyArray<string>): OtelApi.Attributes => {
  const out: OtelApi.Attributes = {}
  for (const key in attributes) out[scrub(key, secrets)] = scrubValue(attributes[key], secrets)
  return out
}

const scrubSpan = (span: ReadableSpan, secrets: ReadonlyArray<string>): ReadableSpan => {
  const status: OtelApi.SpanStatus = span.status.message === undefined
    ? span.status
    : { code: span.status.code, message: scrub(span.status.message, secrets) }
  return {
    name: scrub(span.name, secrets),
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanContext !== undefined ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status,
    attributes: scrubAttributes(span.attributes, secrets),
    links: span.links.map((link) =>
      link.attributes === undefined ? link : { ...link, attributes: scrubAttributes(link.attributes, secrets) }
    ),
    events: span.events.map((event) => ({
      ...event,
      name: scrub(event.name, secrets),
      ...(event.attributes !== undefined ? { attributes: scrubAttributes(event.attributes, secrets) } : {})
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount
  }
}

/** A span exporter that scrubs secrets out of every span before handing it on. */
class RedactingSpanExporter implements SpanExporter {
  constructor(readonly inner: SpanExporter, readonly secrets: ReadonlyArray<string>) {}
  export(spans: Array<ReadableSpan>, resultCallback: Parameters<SpanExporter["export"]>[1]): void {
    this.inner.export(spans.map((span) => scrubSpan(span, this.secrets)), resultCallback)
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown()
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve()
  }
}

const scrubMetrics = (metrics: ResourceMetrics, secrets: ReadonlyArray<string>): ResourceMetrics => ({
  ...metrics,
  scopeMetrics: metrics.scopeMetrics.map((scope) => ({
    ...scope,
    metrics: scope.metrics.map((metric) => ({
      ...metric,
      dataPoints: metric.dataPoints.map((point) => ({
        ...point,
        attributes: scrubAttributes(point.attributes, secrets)
      }))
    } as typeof metric))
  }))
})

/** A metric exporter that scrubs secrets out of every data point's attributes. */
const redactingMetricExporter = (inner: PushMetricExporter, secrets: ReadonlyArray<string>): PushMetricExporter => ({
  export: (metrics, resultCallback) => inner.export(scrubMetrics(metrics, secrets), resultCallback),
  forceFlush: () => inner.forceFlush(),
  shutdown: () => inner.shutdown(),
  ...(inner.selectAggregationTemporality !== undefined
    ? { selectAggregationTemporality: inner.selectAggregationTemporality.bind(inner) }
    : {}),
  ...(inner.selectAggregation !== undefined ? { selectAggregation: inner.selectAggregation.bind(inner) } : {})
})

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

const defaultShutdownTimeoutMs = 5_000
const defaultExportTimeoutMs = 10_000

const isPrimitiveArray = (value: unknown): value is Array<string> | Array<number> | Array<boolean> => {
  if (!Array.isArray(value)) return false
  if (value.length === 0) return true
  const type = typeof value[0]
  if (type !== "string" && type !== "number" && type !== "boolean") return false
  for (const item of value) if (typeof item !== type) return false
  return true
}

const isOtelSpan = (u: unknown): u is OtelApi.Span =>
  typeof u === "object" && u !== null && typeof (u as OtelApi.Span).setAttribute === "function"

/**
 * The tracer of `@effect/opentelemetry`, with two changes:
 *
 * - it (0.64) turns every non-primitive attribute value into a string, arrays included —
 *   `gen_ai.response.finish_reasons` would reach the backend as the text `["stop"]`
 *   instead of a string array: homogeneous arrays of strings, numbers or booleans are set
 *   on the underlying OpenTelemetry span as real arrays;
 * - it makes the current span the active OpenTelemetry context at every fiber step, which
 *   only matters with a global context manager: `propagate` decides.
 */
const wrapTracer = (tracer: Tracer.Tracer, propagate: boolean): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = tracer.span(name, parent, context, links, startTime, kind, options)
      const otel: unknown = (span as { readonly span?: unknown }).span
      if (!isOtelSpan(otel)) return span
      const attribute = span.attribute
      ;(span as { attribute: Tracer.Span["attribute"] }).attribute = (key, value) => {
        attribute.call(span, key, value)
        if (Array.isArray(value) && isPrimitiveArray(value)) otel.setAttribute(key, value)
      }
      return span
    },
    context: propagate ? (f, fiber) => tracer.context(f, fiber) : (f) => f()
  })

const probeKey = OtelApi.createContextKey("@llm-fiber/otel/probe")

/**
 * Whether a global context manager is registered and works: without one,
 * `context.with(…)` runs its function in the root context, and setting the active context
 * at every fiber step (what `@effect/opentelemetry`'s tracer does) has no effect at all.
 */
const contextManagerRegistered = (): boolean =>
  OtelApi.context.with(
    OtelApi.ROOT_CONTEXT.setValue(probeKey, true),
    () => OtelApi.context.active().getValue(probeKey) === true
  )

/** The tracer of `@effect/opentelemetry` (set by `NodeSdk.layer`), wrapped. */
const layerTracerWrapper = (propagateContext: boolean | undefined): Layer.Layer<never> =>
  Layer.unwrapEffect(
    Effect.map(Effect.tracer, (tracer) =>
      Layer.setTracer(wrapTracer(tracer, propagateContext ?? contextManagerRegistered())))
  )

/** `NodeSdk.layer` on given processors and readers, with the resource of `options`. */
const sdkLayer = (
  options: ResourceOptions & { readonly shutdownTimeoutMs?: number | undefined },
  spanProcessors: ReadonlyArray<SpanProcessor>,
  metricReaders: ReadonlyArray<MetricReader>
): Layer.Layer<never> => {
  if (spanProcessors.length === 0 && metricReaders.length === 0) return Layer.empty
  const sdk = NodeSdk.layer(() => ({
    resource: {
      serviceName: options.serviceName,
      ...(options.serviceVersion !== undefined ? { serviceVersion: options.serviceVersion } : {}),
      ...(options.resourceAttributes !== undefined
        ? { attributes: options.resourceAttributes as OtelApi.Attributes }
        : {})
    },
    ...(spanProcessors.length > 0 ? { spanProcessor: spanProcessors } : {}),
    ...(metricReaders.length > 0 ? { metricReader: metricReaders } : {}),
    shutdownTimeout: Duration.millis(options.shutdownTimeoutMs ?? defaultShutdownTimeoutMs)
  }))
  return Layer.provide(spanProcessors.length > 0 ? layerTracerWrapper(options.propagateContext) : Layer.empty, sdk)
}

const signalUrl = (
  explicit: string | URL | undefined,
  base: string | URL | undefined,
  path: string
): string | undefined => {
  if (explicit !== undefined) return new URL(explicit).href
  if (base === undefined) return undefined
  const text = String(base)
  return `${text.endsWith("/") ? text : text + "/"}${path}`
}

const plainHeaders = (
  headers: Options["headers"]
): (() => Promise<Record<string, string>>) | undefined =>
  headers === undefined ? undefined : () => {
    const out: Record<string, string> = {}
    for (const key in headers) {
      const value = headers[key]!
      out[key] = Redacted.isRedacted(value) ? Redacted.value(value) : value
    }
    return Promise.resolve(out)
  }

/**
 * Export spans and metrics over OTLP/HTTP (JSON): spans through a `BatchSpanProcessor`,
 * metrics through a `PeriodicExportingMetricReader`, both flushed and shut down when the
 * layer's scope closes (waiting at most `shutdownTimeoutMs`). Provide it around the whole
 * program.
 *
 * The metrics are every metric of Effect's global registry (the `llm_*` metrics of
 * llm-fiber and your own), as cumulative sums, gauges and histograms.
 *
 * A malformed URL is a defect (`layerFromEnv` reports it as a `ConfigError` instead).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<never> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const secrets = secretsOf(options.redact)
    const headers = plainHeaders(options.headers)
    const common = {
      ...(headers !== undefined ? { headers } : {}),
      ...(options.exportTimeoutMs !== undefined ? { timeoutMillis: options.exportTimeoutMs } : {})
    }
    const processors: Array<SpanProcessor> = []
    if (options.traces !== false) {
      const url = signalUrl(options.tracesEndpoint, options.endpoint, "v1/traces")
      const exporter: SpanExporter = new OTLPTraceExporter({ ...common, ...(url !== undefined ? { url } : {}) })
      processors.push(
        new BatchSpanProcessor(secrets.length > 0 ? new RedactingSpanExporter(exporter, secrets) : exporter)
      )
    }
    const readers: Array<MetricReader> = []
    if (options.metrics !== false) {
      const url = signalUrl(options.metricsEndpoint, options.endpoint, "v1/metrics")
      const exporter: PushMetricExporter = new OTLPMetricExporter({
        ...common,
        ...(url !== undefined ? { url } : {})
      })
      const interval = options.metricExportIntervalMs ?? 60_000
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: secrets.length > 0 ? redactingMetricExporter(exporter, secrets) : exporter,
          exportIntervalMillis: interval,
          exportTimeoutMillis: Math.min(interval, options.exportTimeoutMs ?? 30_000)
        })
      )
    }
    return sdkLayer(
      {
        ...options,
        shutdownTimeoutMs: options.shutdownTimeoutMs ?? (options.exportTimeoutMs ?? defaultExportTimeoutMs) + 1_000
      },
      processors,
      readers
    )
  }))

// -----------------------------------------------------------------------------
// from the environment
// -----------------------------------------------------------------------------

/**
 * Defaults of `layerFromEnv` (the environment wins over them).
 *
 * @since 0.1.0
 * @category models
 */
export interface FromEnvOptions extends Omit<Options, "serviceName" | "endpoint" | "headers"> {
  /** `service.name` when `OTEL_SERVICE_NAME` is not set (default `unknown_service:node`). */
  readonly serviceName?: string | undefined
  /** Headers added to those of `OTEL_EXPORTER_OTLP_HEADERS` (the variable wins). */
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
}

const optionalText = (name: string): Config.Config<Option.Option<string>> =>
  Config.map(
    Config.option(Config.string(name)),
    (value) => Option.filter(Option.map(value, (s) => s.trim()), (s) => s !== "")
  )

const optionalUrl = (name: string): Config.Config<Option.Option<string>> =>
  Config.mapOrFail(optionalText(name), (value) => {
    if (Option.isNone(value)) return Either.right(value)
    try {
      return Either.right(Option.some(new URL(value.value).href))
    } catch {
      return Either.left(invalid(name, `not a URL: "${value.value}"`))
    }
  })

const invalid = (name: string, message: string): ConfigError.ConfigError => ConfigError.InvalidData([name], message)

/** `OTEL_*_EXPORTER` lists; `none` turns the signal off. */
const signalOn = (name: string): Config.Config<boolean> =>
  Config.map(optionalText(name), (value) =>
    Option.match(value, {
      onNone: () => true,
      onSome: (list) => !list.split(",").map((s) => s.trim().toLowerCase()).includes("none")
    }))

/** `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs separated by commas, URL-encoded. */
const headersFromEnv: Config.Config<Record<string, Redacted.Redacted<string>>> = Config.map(
  Config.option(Config.redacted("OTEL_EXPORTER_OTLP_HEADERS")),
  (value) => {
    const out: Record<string, Redacted.Redacted<string>> = {}
    if (Option.isNone(value)) return out
    for (const pair of Redacted.value(value.value).split(",")) {
      const at = pair.indexOf("=")
      if (at <= 0) continue
      const decode = (s: string) => {
        try {
          return decodeURIComponent(s.trim())
        } catch {
          return s.trim()
        }
      }
      out[decode(pair.slice(0, at))] = Redacted.make(decode(pair.slice(at + 1)))
    }
    return out
  }
)

const positiveInteger = (name: string): Config.Config<Option.Option<number>> =>
  Config.option(Config.validate(Config.integer(name), {
    message: "expected a positive number of milliseconds",
    validation: (n) => n > 0
  }))

/**
 * The settings `layerFromEnv` reads, or `None` when export is off (no endpoint, or
 * `OTEL_SDK_DISABLED=true`).
 *
 * @since 0.1.0
 * @category config
 */
export const config = (defaults?: FromEnvOptions): Config.Config<Option.Option<Options>> =>
  Config.map(
    Config.all({
      disabled: Config.withDefault(Config.boolean("OTEL_SDK_DISABLED"), false),
      endpoint: optionalUrl("OTEL_EXPORTER_OTLP_ENDPOINT"),
      tracesEndpoint: optionalUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
      metricsEndpoint: optionalUrl("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
      serviceName: optionalText("OTEL_SERVICE_NAME"),
      headers: headersFromEnv,
      traces: signalOn("OTEL_TRACES_EXPORTER"),
      metrics: signalOn("OTEL_METRICS_EXPORTER"),
      interval: positiveInteger("OTEL_METRIC_EXPORT_INTERVAL"),
      timeout: positiveInteger("OTEL_EXPORTER_OTLP_TIMEOUT")
    }),
    (env): Option.Option<Options> => {
      const anyEndpoint = Option.isSome(env.endpoint) || Option.isSome(env.tracesEndpoint) ||
        Option.isSome(env.metricsEndpoint)
      if (env.disabled || !anyEndpoint) return Option.none()
      const traces = env.traces && defaults?.traces !== false &&
        (Option.isSome(env.endpoint) || Option.isSome(env.tracesEndpoint))
      const metrics = env.metrics && defaults?.metrics !== false &&
        (Option.isSome(env.endpoint) || Option.isSome(env.metricsEndpoint))
      if (!traces && !metrics) return Option.none()
      const headers = { ...defaults?.headers, ...env.headers }
      const interval = Option.getOrUndefined(env.interval) ?? defaults?.metricExportIntervalMs
      const timeout = Option.getOrUndefined(env.timeout) ?? defaults?.exportTimeoutMs
      return Option.some({
        ...defaults,
        serviceName: Option.getOrElse(env.serviceName, () => defaults?.serviceName ?? "unknown_service:node"),
        ...(Option.isSome(env.endpoint) ? { endpoint: env.endpoint.value } : {}),
        ...(Option.isSome(env.tracesEndpoint) ? { tracesEndpoint: env.tracesEndpoint.value } : {}),
        ...(Option.isSome(env.metricsEndpoint) ? { metricsEndpoint: env.metricsEndpoint.value } : {}),
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        ...(interval !== undefined ? { metricExportIntervalMs: interval } : {}),
        ...(timeout !== undefined ? { exportTimeoutMs: timeout } : {}),
        traces,
        metrics
      })
    }
  )

/**
 * `layer` configured from the standard OpenTelemetry variables, read through Effect
 * `Config`:
 *
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` — the receiver's base URL (`http://127.0.0.1:4318`); or
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, full
 *   URLs per signal. **None set: the layer is `Layer.empty`, nothing is exported.**
 * - `OTEL_SERVICE_NAME` — `service.name` (else `defaults.serviceName`);
 * - `OTEL_EXPORTER_OTLP_HEADERS` — `key=value,key2=value2` (read as a secret);
 * - `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` — `none` turns that signal off;
 * - `OTEL_METRIC_EXPORT_INTERVAL` — ms between metric exports;
 * - `OTEL_EXPORTER_OTLP_TIMEOUT` — ms an export may take, retries included;
 * - `OTEL_SDK_DISABLED=true` — export off;
 * - `OTEL_RESOURCE_ATTRIBUTES` — more resource attributes (read by `@effect/opentelemetry`).
 *
 * The exporters themselves also honour `OTEL_EXPORTER_OTLP_COMPRESSION` and the per-signal
 * `…_HEADERS` / `…_TIMEOUT` variables. `OTEL_EXPORTER_OTLP_PROTOCOL` is not read: the payloads
 * are always OTLP/HTTP JSON.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (defaults?: FromEnvOptions): Layer.Layer<never, ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(config(defaults), Option.match({ onNone: () => Layer.empty, onSome: layer })))

// -----------------------------------------------------------------------------
// in memory
// -----------------------------------------------------------------------------

/**
 * Spans and metrics kept in memory by `layerInMemory`.
 *
 * @since 0.1.0
 * @category models
 */
export interface InMemory {
  /** The spans ended so far, oldest first (still readable after the layer has closed). */
  readonly spans: Effect.Effect<ReadonlyArray<ReadableSpan>>
  /**
   * The metrics now, as the OpenTelemetry SDK sees them (collected on each call; after
   * the layer has closed, the last collection, taken at shutdown).
   */
  readonly metrics: Effect.Effect<ResourceMetrics>
  /** Forget the spans ended so far. */
  readonly reset: Effect.Effect<void>
}

/**
 * The in-memory telemetry of `layerInMemory`.
 *
 * @since 0.1.0
 * @category tags
 */
export class InMemoryTelemetry extends Context.Tag("@llm-fiber/otel/InMemoryTelemetry")<
  InMemoryTelemetry,
  InMemory
>() {}

/** Keeps every exported span; unlike the SDK's `InMemorySpanExporter`, shutdown keeps them. */
class KeepingSpanExporter implements SpanExporter {
  readonly finished: Array<ReadableSpan> = []
  export(spans: Array<ReadableSpan>, resultCallback: Parameters<SpanExporter["export"]>[1]): void {
    for (const span of spans) this.finished.push(span)
    resultCallback({ code: 0 }) // ExportResultCode.SUCCESS
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
  forceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

/** A reader that collects on demand, and once more at shutdown. */
class CollectingMetricReader extends MetricReader {
  last: CollectionResult | undefined
  protected override async onShutdown(): Promise<void> {
    this.last = await this.collect()
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  read(): Promise<ResourceMetrics> {
    return this.last !== undefined
      ? Promise.resolve(this.last.resourceMetrics)
      : this.collect().then((result) => result.resourceMetrics)
  }
}

/**
 * The same SDK pipeline as `layer`, into memory: every span is kept when it ends (a
 * `SimpleSpanProcessor`, so it is readable at once), and metrics are collected when you
 * read them — through the `InMemoryTelemetry` service. For tests of your own
 * instrumentation and dashboards.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerInMemory = (options?: Partial<ResourceOptions>): Layer.Layer<InMemoryTelemetry> =>
  Layer.unwrapEffect(Effect.sync(() => {
    const secrets = secretsOf(options?.redact)
    const exporter = new KeepingSpanExporter()
    const reader = new CollectingMetricReader()
    const service: InMemory = {
      spans: Effect.sync(() => exporter.finished.slice()),
      metrics: Effect.map(
        Effect.promise(() => reader.read()),
        (metrics) => secrets.length > 0 ? scrubMetrics(metrics, secrets) : metrics
      ),
      reset: Effect.sync(() => {
        exporter.finished.length = 0
      })
    }
    const sdk = sdkLayer(
      { serviceName: "test", ...options },
      [new SimpleSpanProcessor(secrets.length > 0 ? new RedactingSpanExporter(exporter, secrets) : exporter)],
      [reader]
    )
    return Layer.merge(Layer.succeed(InMemoryTelemetry, service), sdk)
  }))

// -----------------------------------------------------------------------------
// reading metrics
// -----------------------------------------------------------------------------

/**
 * One data point of a metric, flattened: counters and gauges have a `value`, histograms a
 * `count`, `sum` and `buckets`.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricPoint =
  | {
    readonly name: string
    readonly type: "sum" | "gauge"
    readonly attributes: Readonly<Record<string, unknown>>
    readonly value: number
  }
  | {
    readonly name: string
    readonly type: "histogram"
    readonly attributes: Readonly<Record<string, unknown>>
    readonly count: number
    readonly sum: number
    /** `[upper bound, count in that bucket]`; the last bound is `Infinity`. */
    readonly buckets: ReadonlyArray<readonly [number, number]>
  }

/**
 * The data points of what `InMemory.metrics` returned, flattened: every metric's, or those
 * of the metric `name` whose attributes include `attributes` (by value).
 *
 * @since 0.1.0
 * @category utils
 */
export const metricPoints = (
  metrics: ResourceMetrics,
  name?: string | undefined,
  attributes: Readonly<Record<string, unknown>> = {}
): ReadonlyArray<MetricPoint> => {
  const out: Array<MetricPoint> = []
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (name !== undefined && metric.descriptor.name !== name) continue
      const metricName = metric.descriptor.name
      for (const point of metric.dataPoints) {
        const attrs = point.attributes as Readonly<Record<string, unknown>>
        if (!Object.entries(attributes).every(([k, v]) => attrs[k] === v)) continue
        const value: unknown = point.value
        if (typeof value === "number") {
          out.push({
            name: metricName,
            type: metric.dataPointType === DataPointType.GAUGE ? "gauge" : "sum",
            attributes: attrs,
            value
          })
        } else if (typeof value === "object" && value !== null && "buckets" in value) {
          const h = value as {
            count: number
            sum?: number
            buckets: { boundaries: Array<number>; counts: Array<number> }
          }
          out.push({
            name: metricName,
            type: "histogram",
            attributes: attrs,
            count: h.count,
            sum: h.sum ?? 0,
            buckets: h.buckets.counts.map((count, i) => [h.buckets.boundaries[i] ?? Infinity, count] as const)
          })
        }
      }
    }
  }
  return out
}
