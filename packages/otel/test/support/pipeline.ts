/**
 * The scripted sequence both export tests run through the real pipeline (OpenAI provider,
 * undici, the mock provider server of `@llm-fiber/testing`), and the checks of what arrived —
 * shared, so that the in-memory and the OTLP/HTTP paths are held to the same expectations.
 */
import { expect } from "@effect/vitest"
import { ChatResult, LlmClient, type Middleware, ResponseCache, RetryPolicy } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import type { Otel, OtlpReceiver } from "@llm-fiber/otel"
import type { MockServer } from "@llm-fiber/testing"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT
} from "@opentelemetry/semantic-conventions/incubating"
import { Effect, Either, Layer, Metric, Schedule, Stream } from "effect"

/** The fake key: it must appear in no exported byte. */
export const apiKey = "sk-SECRET-otel-123"

/** OTLP `SpanKind.CLIENT` and `StatusCode`s. */
export const SPAN_KIND_CLIENT = 3
export const STATUS_OK = 1
export const STATUS_ERROR = 2

/** An id that makes this run's metric series its own (metrics accumulate per process). */
export const runId = () => `run-${Math.random().toString(36).slice(2, 10)}`

// -----------------------------------------------------------------------------
// a test-only response cache
// -----------------------------------------------------------------------------

/**
 * A response cache in a Map (chat only): the first call of a request is a miss, an
 * identical second one a hit answered from the Map — reported to the client and counted,
 * as the real cache does.
 */
export const mapCache = (): Middleware.Middleware => {
  const store = new Map<string, ChatResult.ChatResult>()
  return {
    chat: (info, next) =>
      Effect.suspend(() => {
        const key = JSON.stringify([info.provider, info.model, info.request.messages])
        const hit = store.get(key)
        if (hit !== undefined) {
          info.reportCache("hit")
          return Effect.as(
            Metric.increment(info.metrics.cacheHits),
            new ChatResult.ChatResult({ ...hit, fromCache: true }, true)
          )
        }
        info.reportCache("miss")
        return Effect.zipLeft(
          Effect.tap(next, (result) => Effect.sync(() => store.set(key, result))),
          Metric.increment(info.metrics.cacheMisses)
        )
      }),
    chatStream: (_info, next) => next
  }
}

/** The client over the mock server: fast retries, the Map cache. */
export const client = (server: MockServer.Handle) =>
  LlmClient.layerWith(OpenAI.layer({ apiKey, baseUrl: server.openaiBaseUrl })).pipe(
    Layer.provide(RetryPolicy.layer({ schedule: Schedule.spaced("5 millis") })),
    Layer.provide(ResponseCache.layer(mapCache()))
  )

// -----------------------------------------------------------------------------
// the sequence
// -----------------------------------------------------------------------------

export const models = {
  ok: "openai:mock?chunks=2",
  retry: "openai:mock?chunks=2&fault=429&times=1",
  error: "openai:mock?fault=401",
  cached: "openai:mock?chunks=1",
  stream: "openai:mock?chunks=3",
  bound: "openai:mock?chunks=4"
} as const

/** The model as the provider (and the metric label) sees it: without `openai:`. */
export const bare = (model: string) => model.slice("openai:".length)

/** The caller's own span, which every call must nest under. */
export const callerSpan = "test.request"

export const bound = {
  userId: "u-42",
  correlationId: "corr-7",
  tags: ["checkout", "beta"],
  metadata: { tenant: "acme" },
  metricLabels: { feature: "checkout" }
} as const

/**
 * Successes, a retry (429 once), an error (401), a cache miss then hit, a stream and a call
 * in a bound context — all under the caller's span `test.request`, every metric labelled
 * `run`.
 */
export const sequence = (run: string) =>
  Effect.gen(function*() {
    const ok = yield* LlmClient.chat({ model: models.ok, messages: "hello", maxTokens: 64 })
    expect(ok.text).toBe("tok1 tok2 ")
    const retried = yield* LlmClient.chat({ model: models.retry, messages: "retry me" })
    expect(retried.finishReason).toBe("stop")
    const failed = yield* Effect.either(LlmClient.chat({ model: models.error, messages: "no key" }))
    expect(Either.isLeft(failed) && failed.left._tag).toBe("AuthenticationError")
    const miss = yield* LlmClient.chat({ model: models.cached, messages: "cache me" })
    const hit = yield* LlmClient.chat({ model: models.cached, messages: "cache me" })
    expect(miss.fromCache).toBeUndefined()
    expect(hit.fromCache).toBe(true)
    const events = yield* Stream.runCollect(LlmClient.chatStream({ model: models.stream, messages: "stream it" }))
    expect(Array.from(events).filter((e) => e._tag === "TextDelta")).toHaveLength(3)
    yield* LlmClient.chat({ model: models.bound, messages: "for a user" }).pipe(LlmClient.withContext(bound))
  }).pipe(
    Effect.withSpan(callerSpan),
    LlmClient.withContext({ metricLabels: { run } })
  )

// -----------------------------------------------------------------------------
// checks
// -----------------------------------------------------------------------------

/** An SDK span in the shape the receiver flattens OTLP JSON into. */
export const fromReadable = (span: ReadableSpan): OtlpReceiver.SpanRecord => ({
  name: span.name,
  traceId: span.spanContext().traceId,
  spanId: span.spanContext().spanId,
  parentSpanId: span.parentSpanContext?.spanId,
  kind: span.kind + 1, // the API's SpanKind starts at INTERNAL = 0, OTLP's at 1
  attributes: { ...span.attributes },
  events: span.events.map((e) => ({ name: e.name, attributes: { ...e.attributes } })),
  status: { code: span.status.code, message: span.status.message },
  resource: { ...span.resource.attributes }
})

const one = (spans: ReadonlyArray<OtlpReceiver.SpanRecord>, predicate: (s: OtlpReceiver.SpanRecord) => boolean) => {
  const found = spans.filter(predicate)
  expect(found, "exactly one matching span").toHaveLength(1)
  return found[0]!
}

const callSpan = (spans: ReadonlyArray<OtlpReceiver.SpanRecord>, name: string, model: string, index = 0) => {
  const found = spans.filter((s) => s.name === name && s.attributes[ATTR_GEN_AI_REQUEST_MODEL] === bare(model))
  expect(found.length, `${name} spans of ${model}`).toBeGreaterThan(index)
  return found[index]!
}

const childrenOf = (spans: ReadonlyArray<OtlpReceiver.SpanRecord>, parent: OtlpReceiver.SpanRecord, name: string) =>
  spans.filter((s) => s.parentSpanId === parent.spanId && s.name === name)

/** What the sequence must have produced, span by span. */
export const checkSpans = (spans: ReadonlyArray<OtlpReceiver.SpanRecord>) => {
  const caller = one(spans, (s) => s.name === callerSpan)
  const chats = spans.filter((s) => s.name === "llm.chat" || s.name === "llm.chat_stream")
  expect(chats).toHaveLength(7)
  for (const span of chats) {
    // every call nests under the caller's span, in its trace
    expect(span.parentSpanId).toBe(caller.spanId)
    expect(span.traceId).toBe(caller.traceId)
    expect(span.kind).toBe(SPAN_KIND_CLIENT)
    expect(span.attributes[ATTR_GEN_AI_OPERATION_NAME]).toBe(GEN_AI_OPERATION_NAME_VALUE_CHAT)
    expect(span.attributes[ATTR_GEN_AI_PROVIDER_NAME]).toBe("openai")
  }

  // a success: GenAI attributes, one attempt span under it, the HTTP span under that
  const ok = callSpan(spans, "llm.chat", models.ok)
  expect(ok.status.code).toBe(STATUS_OK)
  expect(ok.attributes).toMatchObject({
    [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 64,
    [ATTR_GEN_AI_RESPONSE_MODEL]: "mock",
    [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ["stop"],
    [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 2,
    "llm.attempts": 1,
    "llm.cache": "miss"
  })
  expect(ok.attributes[ATTR_GEN_AI_RESPONSE_ID]).toEqual(expect.any(String))
  expect(ok.attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS]).toEqual(expect.any(Number))
  expect(ok.attributes["llm.cost_usd"]).toBeUndefined() // "mock" is not priced
  const [okAttempt, ...moreOk] = childrenOf(spans, ok, "llm.attempt")
  expect(moreOk).toHaveLength(0)
  expect(okAttempt!.attributes).toMatchObject({ "llm.attempt": 1, [ATTR_GEN_AI_REQUEST_MODEL]: bare(models.ok) })
  expect(okAttempt!.kind).toBe(SPAN_KIND_CLIENT)
  expect(childrenOf(spans, okAttempt!, "http.client POST")).toHaveLength(1)

  // a retry: two attempts, the first failed, and the llm.retry event on the call's span
  const retried = callSpan(spans, "llm.chat", models.retry)
  expect(retried.status.code).toBe(STATUS_OK)
  expect(retried.attributes["llm.attempts"]).toBe(2)
  const attempts = childrenOf(spans, retried, "llm.attempt")
  expect(attempts.map((a) => a.attributes["llm.attempt"]).sort()).toEqual([1, 2])
  expect(attempts.find((a) => a.attributes["llm.attempt"] === 1)?.status.code).toBe(STATUS_ERROR)
  expect(attempts.find((a) => a.attributes["llm.attempt"] === 2)?.status.code).toBe(STATUS_OK)
  const retryEvents = retried.events.filter((e) => e.name === "llm.retry")
  expect(retryEvents).toHaveLength(1)
  expect(retryEvents[0]!.attributes).toMatchObject({ "llm.attempt": 1, [ATTR_ERROR_TYPE]: "RateLimitError" })
  expect(retryEvents[0]!.attributes["llm.retry_after_ms"]).toEqual(expect.any(Number))

  // an error: error status, error.type, the message of the typed error
  const failed = callSpan(spans, "llm.chat", models.error)
  expect(failed.status.code).toBe(STATUS_ERROR)
  expect(failed.status.message).toContain("401")
  expect(failed.attributes[ATTR_ERROR_TYPE]).toBe("AuthenticationError")
  expect(failed.attributes[ATTR_GEN_AI_RESPONSE_MODEL]).toBeUndefined()
  expect(childrenOf(spans, failed, "llm.attempt")).toHaveLength(1) // 401 is not retried

  // the cache: a miss that called the provider, then a hit that did not
  const miss = callSpan(spans, "llm.chat", models.cached, 0)
  const hit = callSpan(spans, "llm.chat", models.cached, 1)
  expect(miss.attributes).toMatchObject({ "llm.cache": "miss", "llm.attempts": 1 })
  expect(hit.attributes).toMatchObject({ "llm.cache": "hit", "llm.attempts": 0 })
  expect(childrenOf(spans, hit, "llm.attempt")).toHaveLength(0)

  // a stream: its own span, an attempt under it, the first_token event
  const stream = callSpan(spans, "llm.chat_stream", models.stream)
  expect(stream.status.code).toBe(STATUS_OK)
  expect(stream.attributes).toMatchObject({
    [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 3,
    [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ["stop"],
    "llm.cache": "none" // the Map cache passes streams through without reporting
  })
  expect(childrenOf(spans, stream, "llm.attempt")).toHaveLength(1)
  const firstToken = stream.events.filter((e) => e.name === "first_token")
  expect(firstToken).toHaveLength(1)
  expect(firstToken[0]!.attributes["llm.ttfb_ms"]).toEqual(expect.any(Number))

  // the bound context: user, correlation id, tags (an array), metadata
  const forUser = callSpan(spans, "llm.chat", models.bound)
  expect(forUser.attributes).toMatchObject({
    "llm.user_id": bound.userId,
    "llm.correlation_id": bound.correlationId,
    "llm.tags": [...bound.tags],
    "llm.metadata.tenant": "acme"
  })
  // the metric labels are labels, not span attributes
  expect(forUser.attributes["feature"]).toBeUndefined()
  for (const span of chats) if (span !== forUser) expect(span.attributes["llm.user_id"]).toBeUndefined()
}

/** The single value of a counter (or histogram count) with these attributes. */
export const valueOf = (
  points: ReadonlyArray<Otel.MetricPoint>,
  name: string,
  attributes: Readonly<Record<string, string>>
): number | undefined => {
  const found = points.filter(
    (p) => p.name === name && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v)
  )
  if (found.length === 0) return undefined
  expect(found, `one ${name} series for ${JSON.stringify(attributes)}`).toHaveLength(1)
  const point = found[0]!
  return point.type === "histogram" ? point.count : point.value
}

/** What the sequence must have recorded, exported through OpenTelemetry. */
export const checkMetrics = (points: ReadonlyArray<Otel.MetricPoint>, run: string) => {
  const of = (model: string, extra: Record<string, string> = {}) => ({
    provider: "openai",
    model: bare(model),
    run,
    ...extra
  })
  expect(valueOf(points, "llm_requests_total", of(models.ok))).toBe(1)
  expect(valueOf(points, "llm_requests_total", of(models.retry))).toBe(1) // one call, retried
  expect(valueOf(points, "llm_retries_total", of(models.retry))).toBe(1)
  expect(valueOf(points, "llm_retries_total", of(models.ok))).toBeUndefined()
  expect(valueOf(points, "llm_requests_total", of(models.error))).toBe(1)
  expect(valueOf(points, "llm_errors_total", of(models.error, { error: "AuthenticationError" }))).toBe(1)
  expect(valueOf(points, "llm_errors_total", of(models.ok, { error: "AuthenticationError" }))).toBeUndefined()
  expect(valueOf(points, "llm_requests_total", of(models.cached))).toBe(2)
  expect(valueOf(points, "llm_cache_hits_total", of(models.cached))).toBe(1)
  expect(valueOf(points, "llm_cache_misses_total", of(models.cached))).toBe(1)
  expect(valueOf(points, "llm_requests_total", of(models.stream))).toBe(1)
  // latency: one observation per successful call (cache hits included), none for the failure
  expect(valueOf(points, "llm_latency_ms", of(models.ok))).toBe(1)
  expect(valueOf(points, "llm_latency_ms", of(models.cached))).toBe(2)
  expect(valueOf(points, "llm_latency_ms", of(models.stream))).toBe(1)
  expect(valueOf(points, "llm_latency_ms", of(models.error))).toBeUndefined()
  expect(valueOf(points, "llm_ttfb_ms", of(models.stream))).toBe(1)
  expect(valueOf(points, "llm_tokens_output_total", of(models.stream))).toBe(3)
  // the bound context's metric label is on its call's series, and only there
  expect(valueOf(points, "llm_requests_total", of(models.bound, { feature: "checkout" }))).toBe(1)
  expect(valueOf(points, "llm_requests_total", of(models.ok, { feature: "checkout" }))).toBeUndefined()
  const latency = points.find((p) => p.name === "llm_latency_ms" && p.attributes.run === run)
  expect(latency?.type).toBe("histogram")
}
