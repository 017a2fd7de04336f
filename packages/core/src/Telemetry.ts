/**
 * Observability of every call, through Effect's own `Tracer`, `Metric` and `Logger`:
 *
 * - each `chat` / `chatStream` opens the span `llm.chat` / `llm.chat_stream` with the
 *   OpenTelemetry GenAI semantic-convention attributes (`gen_ai.*`) and our own
 *   (`llm.cost_usd`, `llm.attempts`, `llm.cache`);
 * - every call records the `llm_*` metrics of `Metrics`; `snapshot` reads them back;
 * - every call ends with one structured log line (`Info` on success, `Warning` on
 *   failure) — without prompt or completion content unless `layerLogContent` opts in.
 *
 * Core never imports an OpenTelemetry SDK: wire one at the application edge with
 * `@effect/opentelemetry` (see `docs/observability.md`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import type * as Message from "./Message.js"

// -----------------------------------------------------------------------------
// attribute names of our own
// -----------------------------------------------------------------------------

/**
 * The names of the span attributes llm-fiber adds beside the `gen_ai.*` semantic
 * conventions.
 *
 * @since 0.1.0
 * @category attributes
 */
export const attributes = {
  /** The call's cost in USD (when the model is priced). */
  costUsd: "llm.cost_usd",
  /** Provider attempts made for the call (retries included; 0 on a cache hit). */
  attempts: "llm.attempts",
  /** Response-cache outcome: `hit`, `miss` or `none` (no cache consulted). */
  cache: "llm.cache",
  /** Time to the first content event (ms), on the `first_token` event. */
  ttfbMs: "llm.ttfb_ms",
  /** The attempt number (1 for the first), on `llm.attempt` spans and `llm.retry` events. */
  attempt: "llm.attempt",
  /** The end user's id (`request.user` or the bound context's `userId`). */
  userId: "llm.user_id",
  /** The bound context's correlation id. */
  correlationId: "llm.correlation_id",
  /** The bound context's tags (an array). */
  tags: "llm.tags",
  /** Prefix of the request's `metadata` entries (`llm.metadata.<key>`). */
  metadataPrefix: "llm.metadata."
} as const

/**
 * The name of the child span of each provider attempt (under `llm.chat` /
 * `llm.chat_stream`).
 *
 * @since 0.1.0
 * @category attributes
 */
export const attemptSpan = "llm.attempt"

/**
 * The name of the span event recorded when a stream's first content event arrives.
 *
 * @since 0.1.0
 * @category attributes
 */
export const firstTokenEvent = "first_token"

// -----------------------------------------------------------------------------
// content logging
// -----------------------------------------------------------------------------

/**
 * Whether the per-call log line carries the prompt and completion, and how many
 * characters of each.
 *
 * @since 0.1.0
 * @category models
 */
export interface LogContentSettings {
  readonly enabled: boolean
  readonly maxChars: number
}

/**
 * Content logging, off by default. `LlmClient` reads it once, when it is built.
 *
 * @since 0.1.0
 * @category references
 */
export class LogContent extends Context.Reference<LogContent>()("@llm-fiber/core/Telemetry/LogContent", {
  defaultValue: (): LogContentSettings => ({ enabled: false, maxChars: 0 })
}) {}

/**
 * Opt in to logging prompt and completion content (each truncated to `maxChars`,
 * default 1000) on the per-call log line. Provide it to `LlmClient.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLogContent = (options?: { readonly maxChars?: number | undefined }): Layer.Layer<LogContent> =>
  Layer.succeed(LogContent, { enabled: true, maxChars: Math.max(0, options?.maxChars ?? 1000) })

/**
 * Cut `text` to `maxChars`, marking how much was left out.
 *
 * @since 0.1.0
 * @category utils
 */
export const truncate = (text: string, maxChars: number): string =>
  text.length <= maxChars ? text : `${text.slice(0, maxChars)}…[+${text.length - maxChars} chars]`

/**
 * The text of a conversation, one `role: text` line per message (images and tool parts
 * are named, not dumped).
 *
 * @since 0.1.0
 * @category utils
 */
export const renderMessages = (messages: ReadonlyArray<Message.Message>): string =>
  messages.map((m) => {
    const parts = (m.content as ReadonlyArray<Message.Part>).map((p) => p.type === "text" ? p.text : `[${p.type}]`)
    return `${m.role}: ${parts.join("")}`
  }).join("\n")

// -----------------------------------------------------------------------------
// snapshot
// -----------------------------------------------------------------------------

/**
 * The value of one metric for one set of tags.
 *
 * @since 0.1.0
 * @category models
 */
export type MetricValue =
  | { readonly type: "counter"; readonly tags: Readonly<Record<string, string>>; readonly count: number }
  | { readonly type: "gauge"; readonly tags: Readonly<Record<string, string>>; readonly value: number }
  | {
    readonly type: "histogram"
    readonly tags: Readonly<Record<string, string>>
    readonly count: number
    readonly sum: number
    readonly min: number
    readonly max: number
    /** `[upper bound, cumulative count]` per bucket, the last bound being `Infinity`. */
    readonly buckets: ReadonlyArray<readonly [number, number]>
  }

/**
 * Every `llm_*` metric by name, one value per tag set.
 *
 * @since 0.1.0
 * @category models
 */
export type Snapshot = Readonly<Record<string, ReadonlyArray<MetricValue>>>

const toNumber = (n: number | bigint): number => typeof n === "bigint" ? Number(n) : n

/**
 * The current values of every llm-fiber metric (`llm_*`), grouped by name with their
 * tags as plain objects — for tests, the CLI and users without OpenTelemetry.
 *
 * @since 0.1.0
 * @category getters
 */
export const snapshot: Effect.Effect<Snapshot> = Effect.map(Metric.snapshot, (pairs) => {
  const out: Record<string, Array<MetricValue>> = {}
  for (const pair of pairs) {
    const name = pair.metricKey.name
    if (!name.startsWith("llm_")) continue
    const tags: Record<string, string> = {}
    for (const label of pair.metricKey.tags) tags[label.key] = label.value
    const state = pair.metricState
    let value: MetricValue | undefined
    if (MetricState.isCounterState(state)) value = { type: "counter", tags, count: toNumber(state.count) }
    else if (MetricState.isGaugeState(state)) value = { type: "gauge", tags, value: toNumber(state.value) }
    else if (MetricState.isHistogramState(state)) {
      value = {
        type: "histogram",
        tags,
        count: state.count,
        sum: state.sum,
        min: state.min,
        max: state.max,
        buckets: state.buckets.map(([bound, count]) => [bound, count] as const)
      }
    }
    if (value === undefined) continue
    ;(out[name] ??= []).push(value)
  }
  return out
})

/**
 * The values of one metric whose tags include `tags` (all of them, by value).
 *
 * @since 0.1.0
 * @category utils
 */
export const find = (
  snap: Snapshot,
  name: string,
  tags: Readonly<Record<string, string>> = {}
): ReadonlyArray<MetricValue> =>
  (snap[name] ?? []).filter((v) => Object.entries(tags).every(([k, value]) => v.tags[k] === value))
