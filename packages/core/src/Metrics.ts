/**
 * The metrics every call records, as Effect `Metric`s (export them with
 * `@effect/opentelemetry`, or read them with `Metric.value`). Tagged with `provider` and
 * `model`; errors also with `error` (the error's tag).
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

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

/** @since 0.1.0 @category metrics */
export const requests = Metric.counter("llm_requests_total", { description: "LLM calls started", incremental: true })
/** @since 0.1.0 @category metrics */
export const errors = Metric.counter("llm_errors_total", { description: "LLM calls failed", incremental: true })
/** @since 0.1.0 @category metrics */
export const retries = Metric.counter("llm_retries_total", { description: "Provider calls retried", incremental: true })
/** @since 0.1.0 @category metrics */
export const latency = Metric.histogram("llm_latency_ms", latencyBoundaries, "End-to-end call latency (ms)")
/** @since 0.1.0 @category metrics */
export const ttfb = Metric.histogram("llm_ttfb_ms", ttfbBoundaries, "Time to first byte / first content event (ms)")
/** @since 0.1.0 @category metrics */
export const inputTokens = Metric.counter("llm_tokens_input_total", { description: "Input tokens", incremental: true })
/** @since 0.1.0 @category metrics */
export const outputTokens = Metric.counter("llm_tokens_output_total", {
  description: "Output tokens",
  incremental: true
})
/** @since 0.1.0 @category metrics */
export const cachedTokens = Metric.counter("llm_tokens_cached_total", {
  description: "Input tokens read from a prompt cache",
  incremental: true
})
/** @since 0.1.0 @category metrics */
export const costUsd = Metric.counter("llm_cost_usd_total", { description: "Cost in USD", incremental: true })
