/**
 * What `LlmClient.chat` and `LlmClient.chatStream` share: the state of one call, its span
 * attributes and log line, metrics recorded in one step, retry decisions, cost.
 *
 * @internal
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT
} from "@opentelemetry/semantic-conventions/incubating"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Tracer from "effect/Tracer"
import type * as CallContext from "../CallContext.js"
import type * as Catalog from "../Catalog.js"
import type * as ChatRequest from "../ChatRequest.js"
import type * as ChatResult from "../ChatResult.js"
import * as LlmError from "../LlmError.js"
import type * as Metrics from "../Metrics.js"
import type * as Middleware from "../Middleware.js"
import type * as RetryPolicy from "../RetryPolicy.js"
import * as Telemetry from "../Telemetry.js"
import * as Deadline from "./deadline.js"

/** What one call (all its models and attempts) learned, for its span and log line. */
export interface CallState {
  /** The context bound where the call runs. */
  readonly context: CallContext.CallContext
  provider: string | undefined
  model: string | undefined
  attempts: number
  cache: "hit" | "miss" | "none"
  result: ChatResult.ChatResult | undefined
  /** When the call started and its span. */
  start: number | undefined
  span: Option.Option<Tracer.Span>
  /** The clock of the fiber the call started on (`TestClock` in tests). */
  clock: Clock.Clock
  /** Whether span times are recorded (`FiberRef.currentTracerTimingEnabled`). */
  timing: boolean
  /** The least severe level logged where the call runs (no log fields are built below it). */
  minLogLevel: LogLevel.LogLevel
  /** The normalized request (once it validated). */
  request: ChatRequest.ChatRequest | undefined
  /** The attempt span under way, when made by hand (`LlmClient.chat`). */
  attemptSpan: Tracer.Span | undefined
  /** The call's log line, written by `finish` and logged once the span has ended. */
  log:
    | { readonly level: "ok" | "error"; readonly message: string; readonly fields: Record<string, unknown> }
    | undefined
}

export const newCallState = (context: CallContext.CallContext): CallState => ({
  context,
  provider: undefined,
  model: undefined,
  attempts: 0,
  cache: "none",
  result: undefined,
  start: undefined,
  span: Option.none(),
  clock: Deadline.liveClock,
  timing: true,
  minLogLevel: LogLevel.Info,
  request: undefined,
  attemptSpan: undefined,
  log: undefined
})

/** The fiber's current span (as `Effect.currentSpan`, without failing when there is none). */
export const spanOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Option.Option<Tracer.Span> => {
  const span = fiber.currentSpan
  return span !== undefined && span._tag === "Span" ? Option.some(span) : Option.none()
}

/** Capture what the call needs from the fiber it starts on. */
export const startOn = (state: CallState, fiber: Fiber.RuntimeFiber<unknown, unknown>): void => {
  state.clock = Deadline.clockOf(fiber)
  state.timing = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
  state.minLogLevel = fiber.getFiberRef(FiberRef.currentMinimumLogLevel)
}

/** Whether a log line at `level` would be written by this fiber. */
const logs = (fiber: Fiber.RuntimeFiber<unknown, unknown>, level: LogLevel.LogLevel): boolean =>
  !LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), level)

/**
 * The call's log line, written after its span has ended — inside the span, Effect's
 * tracer logger would also copy it onto the span as an event. Nothing is annotated when
 * the level is off.
 */
export const logCall = (state: CallState): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const log = state.log
    if (log === undefined) return Effect.void
    const ok = log.level === "ok"
    if (!logs(fiber, ok ? LogLevel.Info : LogLevel.Warning)) return Effect.void
    return Effect.annotateLogs(ok ? Effect.logInfo(log.message) : Effect.logWarning(log.message), log.fields)
  })

/**
 * The end of a call, inside its span: the span attributes (GenAI semantic conventions and
 * ours) and the fields of its log line (`logCall` writes it after the span). Runs once per
 * call, synchronously.
 */
export const finish = (
  operation: "chat" | "stream",
  request: ChatRequest.ChatRequest,
  state: CallState,
  start: number,
  span: Option.Option<Tracer.Span>,
  exit: Exit.Exit<unknown, unknown>,
  logContent: Telemetry.LogContentSettings
): void => {
  const provider = state.provider ?? request.provider
  const model = state.model ?? request.model
  const result = state.result
  const context = state.context
  let failed: LlmError.LlmError | undefined
  let status = "ok"
  if (Exit.isFailure(exit)) {
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure) && LlmError.isLlmError(failure.value)) failed = failure.value
    status = failed !== undefined ? failed._tag : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"
  }
  const ok = failed === undefined && result !== undefined
  if (Option.isSome(span)) {
    // set on the span captured at the start: a stream's finalizer does not see it as current
    const s = span.value
    s.attribute(ATTR_GEN_AI_OPERATION_NAME, GEN_AI_OPERATION_NAME_VALUE_CHAT)
    s.attribute(ATTR_GEN_AI_REQUEST_MODEL, model)
    s.attribute(Telemetry.attributes.attempts, state.attempts)
    s.attribute(Telemetry.attributes.cache, state.cache)
    if (provider !== undefined) {
      s.attribute(ATTR_GEN_AI_PROVIDER_NAME, provider)
      s.attribute(ATTR_GEN_AI_SYSTEM, provider)
    }
    if (request.temperature !== undefined) s.attribute(ATTR_GEN_AI_REQUEST_TEMPERATURE, request.temperature)
    if (request.maxTokens !== undefined) s.attribute(ATTR_GEN_AI_REQUEST_MAX_TOKENS, request.maxTokens)
    if (request.user !== undefined) s.attribute(Telemetry.attributes.userId, request.user)
    if (context.correlationId !== undefined) s.attribute(Telemetry.attributes.correlationId, context.correlationId)
    if (context.tags !== undefined && context.tags.length > 0) s.attribute(Telemetry.attributes.tags, context.tags)
    if (request.metadata !== undefined) {
      for (const key in request.metadata) s.attribute(Telemetry.attributes.metadataPrefix + key, request.metadata[key])
    }
    if (status !== "ok") s.attribute(ATTR_ERROR_TYPE, status)
    if (ok) {
      s.attribute(ATTR_GEN_AI_RESPONSE_MODEL, result.model)
      s.attribute(ATTR_GEN_AI_RESPONSE_ID, result.id)
      s.attribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, [result.finishReason])
      s.attribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, result.usage.inputTokens)
      s.attribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, result.usage.outputTokens)
      if (result.cost !== undefined) s.attribute(Telemetry.attributes.costUsd, result.cost.totalUsd)
    }
  }
  // the log line's fields, only when it is written
  if (LogLevel.greaterThan(state.minLogLevel, status === "ok" ? LogLevel.Info : LogLevel.Warning)) {
    state.log = undefined
    return
  }
  const log: Record<string, unknown> = {
    operation,
    provider,
    model,
    attempts: state.attempts,
    cache: state.cache
  }
  if (request.user !== undefined) log.userId = request.user
  if (context.correlationId !== undefined) log.correlationId = context.correlationId
  if (context.tags !== undefined && context.tags.length > 0) log.tags = context.tags
  if (request.metadata !== undefined) log.metadata = request.metadata
  log.status = status
  if (ok) {
    log.inputTokens = result.usage.inputTokens
    log.outputTokens = result.usage.outputTokens
    if (result.timing.ttfbMs !== undefined) log.ttfbMs = result.timing.ttfbMs
    if (result.cost !== undefined) log.costUsd = result.cost.totalUsd
    if (result.requestId !== undefined) log.requestId = result.requestId
  } else if (failed !== undefined) {
    log.errorMessage = failed.message
    if (failed.requestId !== undefined) log.requestId = failed.requestId
  }
  if (logContent.enabled) {
    log.prompt = Telemetry.truncate(Telemetry.renderMessages(request.messages), logContent.maxChars)
    if (ok) log.completion = Telemetry.truncate(result.text, logContent.maxChars)
  }
  log.latencyMs = state.clock.unsafeCurrentTimeMillis() - start
  state.log = { level: status === "ok" ? "ok" : "error", message: `llm.${operation}`, fields: log }
}

/** End a span made by hand (as `Effect.withSpan` ends its span). */
export const endSpan = (span: Tracer.Span, state: CallState, exit: Exit.Exit<unknown, unknown>): void => {
  if (span.status._tag === "Ended") return
  span.end(state.timing ? state.clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
}

// -----------------------------------------------------------------------------
// metrics, in one step (the fiber's metric labels applied, as `Metric.update` does)
// -----------------------------------------------------------------------------

type Labels = ReadonlyArray<MetricLabel.MetricLabel>

/** The metric labels of a fiber (`Effect.tagMetrics`). */
export const labelsOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Labels =>
  fiber.getFiberRef(FiberRef.currentMetricLabels)

export const recordSuccess = (
  m: Metrics.CallMetrics,
  result: ChatResult.ChatResult,
  latencyMs: number,
  labels: Labels
): void => {
  m.latency.unsafeUpdate(latencyMs, labels)
  if (result.fromCache === true) return
  if (result.timing.ttfbMs !== undefined) m.ttfb.unsafeUpdate(result.timing.ttfbMs, labels)
  m.inputTokens.unsafeUpdate(result.usage.inputTokens, labels)
  m.outputTokens.unsafeUpdate(result.usage.outputTokens, labels)
  if (result.usage.cachedInputTokens) m.cachedTokens.unsafeUpdate(result.usage.cachedInputTokens, labels)
  if (result.cost !== undefined) m.costUsd.unsafeUpdate(result.cost.totalUsd, labels)
}

export const recordError = (m: Metrics.CallMetrics, error: LlmError.LlmError, labels: Labels): void => {
  m.errors(error._tag).unsafeUpdate(1, labels)
}

// -----------------------------------------------------------------------------
// retries
// -----------------------------------------------------------------------------

const retryAfterOf = (error: LlmError.LlmError): number | undefined =>
  "retryAfterMs" in error ? error.retryAfterMs : undefined

/** The schedule of a policy, with the provider's `Retry-After` replacing its delay. */
const retrySchedule = (policy: RetryPolicy.Service): Schedule.Schedule<unknown, LlmError.LlmError> =>
  Schedule.intersect(policy.schedule, Schedule.identity<LlmError.LlmError>()).pipe(
    Schedule.modifyDelay(([, error], delay) => {
      const hinted = retryAfterOf(error)
      return hinted !== undefined ? Duration.millis(hinted) : delay
    })
  )

export type Driver = { current: Schedule.ScheduleDriver<unknown, LlmError.LlmError> | undefined }

/**
 * Decide whether to retry after `error` on attempt `attempt`; when yes, wait the delay
 * (through `Clock`, so `TestClock` drives it) and succeed. The `llm.retry` event goes on
 * `span` (the call's span), else on the current span.
 */
export const shouldRetry = (
  policy: RetryPolicy.Service,
  maxRetries: number,
  attempt: number,
  error: LlmError.LlmError,
  driver: Driver,
  metrics: Metrics.CallMetrics,
  span?: Option.Option<Tracer.Span>
): Effect.Effect<boolean> => {
  if (attempt > maxRetries || !policy.isRetryable(error)) return Effect.succeed(false)
  const hinted = retryAfterOf(error)
  if (hinted !== undefined && hinted > policy.maxRetryAfterMs) return Effect.succeed(false)
  return Effect.flatMap(
    driver.current === undefined
      ? Effect.map(Schedule.driver(retrySchedule(policy)), (made) => (driver.current = made))
      : Effect.succeed(driver.current),
    (current) =>
      Effect.withFiberRuntime<boolean>((fiber) => {
        // a span event per retry, recorded when the retry is decided (before the backoff)
        const target = span ?? spanOf(fiber)
        if (Option.isSome(target)) {
          target.value.event("llm.retry", Deadline.clockOf(fiber).unsafeCurrentTimeNanos(), {
            "llm.attempt": attempt,
            "error.type": error._tag,
            ...(hinted !== undefined ? { "llm.retry_after_ms": hinted } : {})
          })
        }
        return Effect.map(Effect.either(current.next(error)), (next) => {
          if (Either.isLeft(next)) return false
          metrics.retries.unsafeUpdate(1, labelsOf(fiber))
          return true
        })
      })
  )
}

// -----------------------------------------------------------------------------
// fallbacks, cost, attempts
// -----------------------------------------------------------------------------

/**
 * Which failures move on to the next model of a fallback chain: retryable ones, an open
 * circuit, and the non-retryable tags the request opted into (`fallbackOn`).
 */
export const fallsBack = (request: ChatRequest.ChatRequest, error: LlmError.LlmError): boolean =>
  error.retryable || error._tag === "CircuitOpenError" ||
  (request.fallbackOn !== undefined && (request.fallbackOn as ReadonlyArray<string>).includes(error._tag))

export const attemptOf = (model: string, error: LlmError.LlmError): ChatResult.FallbackAttempt => ({
  model,
  error: error._tag,
  message: error.message
})

/**
 * Pricing detail a provider reports in its metadata: the tokens written to a 1-hour prompt
 * cache (Anthropic), charged at their own rate.
 */
const costDetail = (
  metadata: ChatResult.ProviderMetadata | undefined,
  provider: string
): Catalog.CostDetail | undefined => {
  const own = metadata?.[provider]
  if (typeof own !== "object" || own === null) return undefined
  const tokens = (own as Record<string, unknown>).cacheWrite1hTokens
  return typeof tokens === "number" && tokens > 0 ? { cacheWrite1hTokens: tokens } : undefined
}

/**
 * A copy of a result with some fields replaced: what `new ChatResult({ ...result, ...fields },
 * true)` makes — same class, same own fields (the defaults are already merged) — without the
 * constructor's copies and walk over the schema's fields (the hot path makes one per call).
 */
export const withFields = (
  result: ChatResult.ChatResult,
  fields: Partial<Pick<ChatResult.ChatResult, "cost" | "timing" | "fallbacks">>
): ChatResult.ChatResult => {
  const copy: ChatResult.ChatResult = Object.create(Object.getPrototypeOf(result))
  return Object.assign(copy, result, fields)
}

/** The cost of a response (the response's model, else the requested one), if priced. */
export const priceOf = (
  catalog: Catalog.Service,
  model: string,
  requestedModel: string,
  usage: ChatResult.ChatResult["usage"],
  metadata: ChatResult.ProviderMetadata | undefined,
  provider: string
): ChatResult.ChatResult["cost"] => {
  const detail = costDetail(metadata, provider)
  return catalog.cost(model, usage, detail) ?? catalog.cost(requestedModel, usage, detail)
}

const attemptKind = { kind: "client", captureStackTrace: false } as const

/**
 * The child span of one provider attempt, made by hand (attributes set one by one: no
 * `Object.entries` per span).
 */
export const makeAttemptSpan = (
  info: Middleware.CallInfo,
  attempt: number,
  parent: Tracer.AnySpan | undefined
): Effect.Effect<Tracer.Span> =>
  Effect.map(
    Effect.makeSpan(Telemetry.attemptSpan, parent === undefined ? attemptKind : { ...attemptKind, parent }),
    (span) => {
      span.attribute(ATTR_GEN_AI_OPERATION_NAME, GEN_AI_OPERATION_NAME_VALUE_CHAT)
      span.attribute(ATTR_GEN_AI_PROVIDER_NAME, info.provider)
      span.attribute(ATTR_GEN_AI_REQUEST_MODEL, info.model)
      span.attribute(Telemetry.attributes.attempt, attempt)
      return span
    }
  )

/** The child span of one provider attempt (options of `Effect.withSpan`). */
export const attemptSpanOptions = (
  info: Middleware.CallInfo,
  attempt: number,
  parent?: Tracer.AnySpan | undefined
): Tracer.SpanOptions => ({
  kind: "client",
  attributes: {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
    [ATTR_GEN_AI_PROVIDER_NAME]: info.provider,
    [ATTR_GEN_AI_REQUEST_MODEL]: info.model,
    [Telemetry.attributes.attempt]: attempt
  },
  ...(parent !== undefined ? { parent } : {}),
  captureStackTrace: false
})
