/**
 * The metrics every call records, as Effect `Metric`s (export them with
 * `@effect/opentelemetry`, or read them with `Metric.value`). Tagged with `provider` and
 * `model`; errors also with `error` (the error's tag).
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"

/**
 * Latency buckets (ms): 50 ms to 5 min.
 *
 * @since 0.1.0
 * @category boundaries
 */
export const latencyBoundaries = MetricBoundaries.fromIterable([
  50,
  100,
  250,
  500,
  1_000,
  2_500,
  5_000,
  10_000,
  30_000,
  60_000,
  120_000,
  300_000
])

/**
 * Time-to-first-byte buckets (ms): 25 ms to 1 min.
 *
 * @since 0.1.0
 * @category boundaries
 */
export const ttfbBoundaries = MetricBoundaries.fromIterable([
  25,
  50,
  100,
  250,
  500,
  1_000,
  2_000,
  5_000,
  10_000,
  30_000,
  60_000
])

const keys = {
  requests: MetricKey.counter("llm_requests_total", { description: "LLM calls started", incremental: true }),
  errors: MetricKey.counter("llm_errors_total", { description: "LLM calls failed", incremental: true }),
  retries: MetricKey.counter("llm_retries_total", { description: "Provider calls retried", incremental: true }),
  latency: MetricKey.histogram("llm_latency_ms", latencyBoundaries, "End-to-end call latency (ms)"),
  ttfb: MetricKey.histogram("llm_ttfb_ms", ttfbBoundaries, "Time to first byte / first content event (ms)"),
  inputTokens: MetricKey.counter("llm_tokens_input_total", { description: "Input tokens", incremental: true }),
  outputTokens: MetricKey.counter("llm_tokens_output_total", { description: "Output tokens", incremental: true }),
  cachedTokens: MetricKey.counter("llm_tokens_cached_total", {
    description: "Input tokens read from a prompt cache",
    incremental: true
  }),
  costUsd: MetricKey.counter("llm_cost_usd_total", { description: "Cost in USD", incremental: true }),
  cacheHits: MetricKey.counter("llm_cache_hits_total", {
    description: "Calls answered by the response cache",
    incremental: true
  }),
  cacheMisses: MetricKey.counter("llm_cache_misses_total", {
    description: "Response-cache lookups that found nothing",
    incremental: true
  }),
  cacheWrites: MetricKey.counter("llm_cache_writes_total", {
    description: "Responses written to the response cache",
    incremental: true
  }),
  cacheErrors: MetricKey.counter("llm_cache_errors_total", {
    description: "Response-cache store errors (the call went on to the provider)",
    incremental: true
  }),
  budgetRejections: MetricKey.counter("llm_budget_rejections_total", {
    description: "Calls rejected by a budget or cost ceiling before anything was sent",
    incremental: true
  })
}

/** @since 0.1.0 @category metrics */
export const requests = Metric.fromMetricKey(keys.requests)
/** @since 0.1.0 @category metrics */
export const errors = Metric.fromMetricKey(keys.errors)
/** @since 0.1.0 @category metrics */
export const retries = Metric.fromMetricKey(keys.retries)
/** @since 0.1.0 @category metrics */
export const latency = Metric.fromMetricKey(keys.latency)
/** @since 0.1.0 @category metrics */
export const ttfb = Metric.fromMetricKey(keys.ttfb)
/** @since 0.1.0 @category metrics */
export const inputTokens = Metric.fromMetricKey(keys.inputTokens)
/** @since 0.1.0 @category metrics */
export const outputTokens = Metric.fromMetricKey(keys.outputTokens)
/** @since 0.1.0 @category metrics */
export const cachedTokens = Metric.fromMetricKey(keys.cachedTokens)
/** @since 0.1.0 @category metrics */
export const costUsd = Metric.fromMetricKey(keys.costUsd)
/** @since 0.1.0 @category metrics */
export const cacheHits = Metric.fromMetricKey(keys.cacheHits)
/** @since 0.1.0 @category metrics */
export const cacheMisses = Metric.fromMetricKey(keys.cacheMisses)
/** @since 0.1.0 @category metrics */
export const cacheWrites = Metric.fromMetricKey(keys.cacheWrites)
/** @since 0.1.0 @category metrics */
export const cacheErrors = Metric.fromMetricKey(keys.cacheErrors)
/** @since 0.1.0 @category metrics */
export const budgetRejections = Metric.fromMetricKey(keys.budgetRejections)

/**
 * `llm_cache_evictions_total`: entries a response-cache store dropped to stay within its
 * bounds, tagged `store` (`memory`, `file`, `redis`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const cacheEvictions = Metric.counter("llm_cache_evictions_total", {
  description: "Entries evicted from a response-cache store",
  incremental: true
})

/**
 * The metrics of one provider and model, tagged `provider` and `model`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallMetrics {
  readonly requests: Metric.Metric.Counter<number>
  readonly retries: Metric.Metric.Counter<number>
  readonly latency: Metric.Metric.Histogram<number>
  readonly ttfb: Metric.Metric.Histogram<number>
  readonly inputTokens: Metric.Metric.Counter<number>
  readonly outputTokens: Metric.Metric.Counter<number>
  readonly cachedTokens: Metric.Metric.Counter<number>
  readonly costUsd: Metric.Metric.Counter<number>
  readonly cacheHits: Metric.Metric.Counter<number>
  readonly cacheMisses: Metric.Metric.Counter<number>
  readonly cacheWrites: Metric.Metric.Counter<number>
  readonly cacheErrors: Metric.Metric.Counter<number>
  readonly budgetRejections: Metric.Metric.Counter<number>
  /** `llm_errors_total` also tagged with the error's tag. */
  readonly errors: (tag: string) => Metric.Metric.Counter<number>
}

const cache = new Map<string, CallMetrics>()
const cacheLimit = 4096

/**
 * The metrics of a provider and model, built once and reused: a metric whose key already
 * carries its tags costs one cached lookup per update, where `Metric.tagged` or
 * `Effect.tagMetrics` build and hash a new key on every update.
 *
 * @since 0.1.0
 * @category constructors
 */
export const forCall = (
  provider: string,
  model: string,
  extraLabels?: Readonly<Record<string, string>> | undefined
): CallMetrics => {
  let id = provider + "\u0000" + model
  const extra = extraLabels === undefined ? undefined : Object.keys(extraLabels).sort()
  if (extra !== undefined) { for (const key of extra) id += "\u0000" + key + "\u0001" + extraLabels![key] }
  const hit = cache.get(id)
  if (hit !== undefined) return hit
  const labels = [MetricLabel.make("provider", provider), MetricLabel.make("model", model)]
  if (extra !== undefined) {
    for (const key of extra) {
      if (key !== "provider" && key !== "model" && key !== "error") {
        labels.push(MetricLabel.make(key, extraLabels![key]!))
      }
    }
  }
  const tag = <K extends MetricKey.MetricKey.Untyped>(key: K): K => MetricKey.taggedWithLabels(key, labels) as K
  const errorsByTag = new Map<string, Metric.Metric.Counter<number>>()
  const bundle: CallMetrics = {
    requests: Metric.fromMetricKey(tag(keys.requests)),
    retries: Metric.fromMetricKey(tag(keys.retries)),
    latency: Metric.fromMetricKey(tag(keys.latency)),
    ttfb: Metric.fromMetricKey(tag(keys.ttfb)),
    inputTokens: Metric.fromMetricKey(tag(keys.inputTokens)),
    outputTokens: Metric.fromMetricKey(tag(keys.outputTokens)),
    cachedTokens: Metric.fromMetricKey(tag(keys.cachedTokens)),
    costUsd: Metric.fromMetricKey(tag(keys.costUsd)),
    cacheHits: Metric.fromMetricKey(tag(keys.cacheHits)),
    cacheMisses: Metric.fromMetricKey(tag(keys.cacheMisses)),
    cacheWrites: Metric.fromMetricKey(tag(keys.cacheWrites)),
    cacheErrors: Metric.fromMetricKey(tag(keys.cacheErrors)),
    budgetRejections: Metric.fromMetricKey(tag(keys.budgetRejections)),
    errors: (errorTag) => {
      let metric = errorsByTag.get(errorTag)
      if (metric === undefined) {
        metric = Metric.fromMetricKey(
          MetricKey.taggedWithLabels(keys.errors, [...labels, MetricLabel.make("error", errorTag)])
        )
        errorsByTag.set(errorTag, metric)
      }
      return metric
    }
  }
  if (cache.size >= cacheLimit) cache.clear()
  cache.set(id, bundle)
  return bundle
}

const circuitStateKey = MetricKey.gauge("llm_circuit_state", {
  description: "Circuit breaker state per provider and model: 0 closed, 1 half-open, 2 open"
})

/**
 * `llm_circuit_state`: the circuit breaker's state (0 closed, 1 half-open, 2 open), untagged.
 *
 * @since 0.1.0
 * @category metrics
 */
export const circuitState = Metric.fromMetricKey(circuitStateKey)

/**
 * `llm_circuit_state` tagged `provider` and `model`; the `CircuitBreaker` sets it on every
 * transition of that circuit.
 *
 * @since 0.1.0
 * @category constructors
 */
export const circuitStateFor = (provider: string, model: string): Metric.Metric.Gauge<number> =>
  Metric.fromMetricKey(
    MetricKey.taggedWithLabels(circuitStateKey, [
      MetricLabel.make("provider", provider),
      MetricLabel.make("model", model)
    ])
  )

/**
 * `llm_rate_limited_total`: calls the client-side `RateLimiter` delayed or rejected
 * (tag it with `provider` and `model`, as `RateLimiter` does).
 *
 * @since 0.1.0
 * @category metrics
 */
export const rateLimited = Metric.counter("llm_rate_limited_total", {
  description: "Calls delayed or rejected by the client-side rate limiter",
  incremental: true
})
