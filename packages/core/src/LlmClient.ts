/**
 * The client: one typed API for chat and streaming across providers.
 *
 * Each call runs the pipeline, in order:
 * 1. normalize the request (`ChatRequest.make`) and resolve the model to a provider
 *    (`ModelRegistry`);
 * 2. open the span `llm.chat` / `llm.chat_stream`;
 * 3. `ResponseCache` → 4. `Budget` → 5. `RateLimiter`, `CircuitBreaker` (pass-through
 *    until you provide them);
 * 6. the provider call under `Timeouts`, retried by `RetryPolicy`;
 * 7. cost from the `Catalog`, metrics; on failure, the next model of `fallback`, or the
 *    typed error.
 *
 * A stream is retried (or falls back) only while none of its content has reached the
 * caller; after that a failure ends it with an error carrying the partial output.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { LlmClient, ProviderRegistry, UndiciHttpClient } from "@llm-fiber/core"
 * import { OpenAI } from "@llm-fiber/openai"
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(OpenAI.layerConfig()),
 *   Layer.provide([ProviderRegistry.layer, UndiciHttpClient.layer()])
 * )
 *
 * const program = Effect.gen(function*() {
 *   const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "Say hi" })
 *   console.log(result.text, result.usage, result.cost)
 * })
 *
 * Effect.runPromise(Effect.provide(program, Live))
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
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
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS
} from "@opentelemetry/semantic-conventions/incubating"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as Budget from "./Budget.js"
import * as CallContext from "./CallContext.js"
import * as Catalog from "./Catalog.js"
import * as ChatRequest from "./ChatRequest.js"
import * as ChatResult from "./ChatResult.js"
import * as CircuitBreaker from "./CircuitBreaker.js"
import * as StructuredOutput from "./internal/structuredOutput.js"
import * as ToolLoop from "./internal/toolLoop.js"
import * as LlmError from "./LlmError.js"
import * as Metrics from "./Metrics.js"
import type * as Middleware from "./Middleware.js"
import * as ModelRegistry from "./ModelRegistry.js"
import type * as Provider from "./Provider.js"
import * as ProviderRegistry from "./ProviderRegistry.js"
import * as RateLimiter from "./RateLimiter.js"
import * as ResponseCache from "./ResponseCache.js"
import * as RetryPolicy from "./RetryPolicy.js"
import * as StreamEvent from "./StreamEvent.js"
import * as Telemetry from "./Telemetry.js"
import * as Timeouts from "./Timeouts.js"
import * as UndiciHttpClient from "./UndiciHttpClient.js"

/**
 * An embeddings request.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmbedRequest {
  readonly model: string
  readonly provider?: string | undefined
  readonly input: string | ReadonlyArray<string>
  readonly dimensions?: number | undefined
}

/**
 * A model name resolved to a registered provider.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolution extends ModelRegistry.Resolved {
  readonly implementation: Provider.Provider
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Send a chat request and wait for the whole answer. */
  readonly chat: (
    request: ChatRequest.Input | ChatRequest.ChatRequest
  ) => Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  /** Send a chat request and stream the answer as events (ending with `Finish`). */
  readonly chatStream: (
    request: ChatRequest.Input | ChatRequest.ChatRequest
  ) => Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  /**
   * Ask for a value of a `Schema` (the provider's native JSON-schema mode, forced tool use,
   * or a prompt instruction), decoded and repaired (see `StructuredOutput`).
   */
  readonly generateObject: <A, I>(
    options: StructuredOutput.Options<A, I>
  ) => Effect.Effect<StructuredOutput.Result<A>, LlmError.LlmError>
  /** Stream partial values of a `Schema` as the JSON arrives, then the decoded value. */
  readonly streamObject: <A, I>(
    options: StructuredOutput.Options<A, I>
  ) => Stream.Stream<StructuredOutput.StreamPart<A>, LlmError.LlmError>
  /**
   * Run the tool loop: send the request with a toolkit, run the tools the model calls
   * (under the `Approval` policy), send the results back, until the model answers or
   * `maxSteps` (see `ToolLoop`).
   */
  readonly runTools: <R>(options: ToolLoop.Options<R>) => Effect.Effect<ToolLoop.Result, LlmError.LlmError, R>
  /** The tool loop as a stream: each step's events, tool results, then the final `Finish`. */
  readonly streamTools: <R>(options: ToolLoop.Options<R>) => Stream.Stream<ToolLoop.Event, LlmError.LlmError, R>
  /** Embed one or more texts. */
  readonly embed: (request: EmbedRequest) => Effect.Effect<Provider.EmbedResult, LlmError.LlmError>
  /** Which provider would serve a model (without calling it). */
  readonly resolve: (model: string, provider?: string) => Either.Either<Resolution, LlmError.UnknownModelError>
  /** Names of the registered providers. */
  readonly providers: () => ReadonlyArray<string>
  /** Every model name and alias this client's registry knows. */
  readonly knownModels: () => ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class LlmClient extends Context.Tag("@llm-fiber/core/LlmClient")<LlmClient, Service>() {}

// -----------------------------------------------------------------------------
// internals of one call
// -----------------------------------------------------------------------------

interface Concerns {
  readonly registry: ProviderRegistry.Service
  readonly models: ModelRegistry.Service
  readonly catalog: Catalog.Service
  readonly retry: RetryPolicy.Service
  readonly timeouts: Provider.ResolvedTimeouts
  readonly cache: Middleware.Middleware
  readonly budget: Middleware.Middleware
  readonly rateLimiter: Middleware.Middleware
  readonly breaker: Middleware.Middleware
  readonly logContent: Telemetry.LogContentSettings
}

/** What one call (all its models and attempts) learned, for its span and log line. */
interface CallState {
  /** The context bound where the call runs. */
  readonly context: CallContext.CallContext
  provider: string | undefined
  model: string | undefined
  attempts: number
  cache: "hit" | "miss" | "none"
  result: ChatResult.ChatResult | undefined
  /** When the call started and its span (streams: set by the first model of the chain). */
  start: number | undefined
  span: Option.Option<Tracer.Span>
  /** The call's log line, written by `finish` and logged once the span has ended. */
  log:
    | { readonly level: "ok" | "error"; readonly message: string; readonly fields: Record<string, unknown> }
    | undefined
}

const newCallState = (context: CallContext.CallContext): CallState => ({
  context,
  provider: undefined,
  model: undefined,
  attempts: 0,
  cache: "none",
  result: undefined,
  start: undefined,
  span: Option.none(),
  log: undefined
})

/**
 * The call's log line, written after its span has ended — inside the span, Effect's
 * tracer logger would also copy it onto the span as an event.
 */
const logCall = (state: CallState): Effect.Effect<void> =>
  Effect.suspend(() => {
    const log = state.log
    if (log === undefined) return Effect.void
    return Effect.annotateLogs(
      log.level === "ok" ? Effect.logInfo(log.message) : Effect.logWarning(log.message),
      log.fields
    )
  })

/** The current time, and (first time only) the call's start and span in `state`. */
const captureStart = (state: CallState): Effect.Effect<number> =>
  Effect.map(Effect.zip(Clock.currentTimeMillis, Effect.option(Effect.currentSpan)), ([now, span]) => {
    if (state.start === undefined) {
      state.start = now
      state.span = span
    }
    return now
  })

/** The `first_token` event on the current span (once per stream). */
const firstToken = (ttfbMs: number): Effect.Effect<void> =>
  Effect.flatMap(Effect.option(Effect.currentSpan), (span) =>
    Option.isNone(span)
      ? Effect.void
      : Effect.map(Clock.currentTimeNanos, (now) => {
        span.value.event(Telemetry.firstTokenEvent, now, { [Telemetry.attributes.ttfbMs]: ttfbMs })
      }))

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

/**
 * Decide whether to retry after `error` on attempt `attempt`; when yes, wait the delay
 * (through `Clock`, so `TestClock` drives it) and succeed.
 */
const shouldRetry = (
  policy: RetryPolicy.Service,
  maxRetries: number,
  attempt: number,
  error: LlmError.LlmError,
  driver: { current: Schedule.ScheduleDriver<unknown, LlmError.LlmError> | undefined },
  metrics: Metrics.CallMetrics
): Effect.Effect<boolean> => {
  if (attempt > maxRetries || !policy.isRetryable(error)) return Effect.succeed(false)
  const hinted = retryAfterOf(error)
  if (hinted !== undefined && hinted > policy.maxRetryAfterMs) return Effect.succeed(false)
  return Effect.gen(function*() {
    if (driver.current === undefined) driver.current = yield* Schedule.driver(retrySchedule(policy))
    // a span event per retry, recorded when the retry is decided (before the backoff)
    const span = yield* Effect.option(Effect.currentSpan)
    if (Option.isSome(span)) {
      span.value.event("llm.retry", yield* Clock.currentTimeNanos, {
        "llm.attempt": attempt,
        "error.type": error._tag,
        ...(hinted !== undefined ? { "llm.retry_after_ms": hinted } : {})
      })
    }
    const next = yield* Effect.either(driver.current.next(error))
    if (Either.isLeft(next)) return false
    yield* Metric.increment(metrics.retries)
    return true
  })
}

const timeoutError = (
  phase: LlmError.TimeoutPhase,
  timeoutMs: number,
  info: { readonly provider: string; readonly model: string }
) =>
  new LlmError.TimeoutError({
    provider: info.provider,
    model: info.model,
    phase,
    timeoutMs,
    message: `${info.provider}: ${
      phase === "first_byte"
        ? "no first event"
        : phase === "idle"
        ? "the stream went quiet"
        : "the call did not finish"
    } within ${timeoutMs} ms (${phase} timeout)`
  }, true)

/** First-event, idle and total deadlines on a provider stream. */
const streamWithTimeouts = (
  stream: Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>,
  timeouts: Provider.ResolvedTimeouts,
  info: { readonly provider: string; readonly model: string }
): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
  Stream.unwrapScoped(Effect.map(Stream.toPull(stream), (pull) => {
    let first = true
    const next = Effect.suspend(() => {
      const phase = first ? "first_byte" : "idle"
      const ms = first ? timeouts.firstByteMs : timeouts.idleMs
      return Effect.timeoutFail(pull, {
        duration: Duration.millis(ms),
        onTimeout: () => Option.some<LlmError.LlmError>(timeoutError(phase, ms, info))
      }).pipe(Effect.tap((chunk) => {
        // a Start-only chunk does not count as the first content
        if (first && Chunk.some(chunk, (e) => e._tag !== "Start")) first = false
      }))
    })
    return Stream.repeatEffectChunkOption(next)
  })).pipe(
    Stream.interruptWhen(Effect.zipRight(
      Effect.sleep(Duration.millis(timeouts.totalMs)),
      Effect.fail(timeoutError("total", timeouts.totalMs, info))
    ))
  )

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

const withCost = (
  catalog: Catalog.Service,
  model: string,
  fallbackModel: string,
  usage: ChatResult.ChatResult["usage"],
  detail: Catalog.CostDetail | undefined
) => catalog.cost(model, usage, detail) ?? catalog.cost(fallbackModel, usage, detail)

/** The child span of one provider attempt. */
const attemptSpanOptions = (info: Middleware.CallInfo, attempt: number) => ({
  kind: "client" as const,
  attributes: {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
    [ATTR_GEN_AI_PROVIDER_NAME]: info.provider,
    [ATTR_GEN_AI_REQUEST_MODEL]: info.model,
    [Telemetry.attributes.attempt]: attempt
  },
  captureStackTrace: false
})

/**
 * Build the client from the registered providers and the concern services in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, ProviderRegistry.ProviderRegistry> = Effect.gen(function*() {
  const concerns: Concerns = {
    registry: yield* ProviderRegistry.ProviderRegistry,
    models: yield* ModelRegistry.ModelRegistry,
    catalog: yield* Catalog.Catalog,
    retry: yield* RetryPolicy.RetryPolicy,
    timeouts: yield* Timeouts.Timeouts,
    cache: yield* ResponseCache.ResponseCache,
    budget: yield* Budget.Budget,
    rateLimiter: yield* RateLimiter.RateLimiter,
    breaker: yield* CircuitBreaker.CircuitBreaker,
    logContent: yield* Telemetry.LogContent
  }
  return makeWith(concerns)
})

const makeWith = (c: Concerns): Service => {
  const resolve: Service["resolve"] = (model, provider) => {
    const registered = c.registry.names()
    const resolved = c.models.resolve(model, { provider, registered })
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    const implementation = c.registry.get(resolved.right.provider)
    if (implementation === undefined) {
      return Either.left(
        new LlmError.UnknownModelError({
          message: `provider "${resolved.right.provider}" is not registered`,
          model,
          provider: resolved.right.provider
        }, true)
      )
    }
    return Either.right({ ...resolved.right, implementation })
  }

  const callInfo = (
    operation: "chat" | "stream",
    request: ChatRequest.ChatRequest,
    resolution: Resolution,
    state: CallState
  ): Middleware.CallInfo => ({
    operation,
    request,
    provider: resolution.provider,
    model: resolution.model,
    implementation: resolution.implementation,
    context: state.context,
    metrics: Metrics.forCall(resolution.provider, resolution.model, state.context.metricLabels),
    reportCache: (outcome) => {
      state.cache = outcome
    }
  })

  // ---------------------------------------------------------------------------
  // chat
  // ---------------------------------------------------------------------------

  /** The provider call, timed out and retried, with its cost. */
  const providerChat = (
    info: Middleware.CallInfo,
    state: CallState
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> => {
    const timeouts = Timeouts.forCall(c.timeouts, info.implementation, info.request.timeout)
    const maxRetries = info.request.maxRetries ?? c.retry.maxRetries
    const metrics = info.metrics
    const driver: { current: Schedule.ScheduleDriver<unknown, LlmError.LlmError> | undefined } = { current: undefined }
    const attempt = (n: number): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
      Effect.suspend(() => {
        state.attempts++
        return info.implementation.chat({ request: info.request, model: info.model, timeouts, attempt: n })
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(timeouts.totalMs),
          onTimeout: () => timeoutError("total", timeouts.totalMs, info)
        }),
        Effect.withSpan(Telemetry.attemptSpan, attemptSpanOptions(info, n)),
        Effect.catchAll((error) =>
          Effect.flatMap(
            shouldRetry(c.retry, maxRetries, n, error, driver, metrics),
            (again) => again ? attempt(n + 1) : Effect.fail(error)
          )
        )
      )
    return Effect.map(attempt(1), (result) => {
      if (result.cost !== undefined) return result
      const cost = withCost(
        c.catalog,
        result.model,
        info.model,
        result.usage,
        costDetail(result.providerMetadata, info.provider)
      )
      return cost === undefined
        ? result
        : new (result.constructor as typeof ChatResult.ChatResult)({ ...result, cost }, true)
    })
  }

  const pipelineChat = (info: Middleware.CallInfo, state: CallState) =>
    c.cache.chat(
      info,
      c.budget.chat(info, c.rateLimiter.chat(info, c.breaker.chat(info, providerChat(info, state))))
    )

  const recordSuccess = (m: Metrics.CallMetrics, result: ChatResult.ChatResult, latencyMs: number) =>
    result.fromCache === true ? Metric.update(m.latency, latencyMs) : Effect.all([
      Metric.update(m.latency, latencyMs),
      result.timing.ttfbMs !== undefined ? Metric.update(m.ttfb, result.timing.ttfbMs) : Effect.void,
      Metric.incrementBy(m.inputTokens, result.usage.inputTokens),
      Metric.incrementBy(m.outputTokens, result.usage.outputTokens),
      result.usage.cachedInputTokens
        ? Metric.incrementBy(m.cachedTokens, result.usage.cachedInputTokens)
        : Effect.void,
      result.cost !== undefined ? Metric.incrementBy(m.costUsd, result.cost.totalUsd) : Effect.void
    ], { discard: true })

  const recordError = (m: Metrics.CallMetrics, error: LlmError.LlmError) => Metric.increment(m.errors(error._tag))

  /** One model of the chain: resolve, run the pipeline, record metrics. */
  const chatModel = (
    request: ChatRequest.ChatRequest,
    model: string,
    start: number,
    state: CallState
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> => {
    const resolution = resolve(model, request.provider)
    if (Either.isLeft(resolution)) return Effect.fail(resolution.left)
    const r = resolution.right
    state.provider = r.provider
    state.model = r.model
    const info = callInfo("chat", request, r, state)
    const m = info.metrics
    return Effect.gen(function*() {
      yield* Metric.increment(m.requests)
      const exit = yield* Effect.exit(pipelineChat(info, state))
      const end = yield* Clock.currentTimeMillis
      if (Exit.isSuccess(exit)) {
        const attemptTiming = exit.value.timing
        const result = new (exit.value.constructor as typeof ChatResult.ChatResult)({
          ...exit.value,
          timing: {
            latencyMs: end - start,
            ...(attemptTiming.ttfbMs !== undefined ? { ttfbMs: attemptTiming.ttfbMs } : {})
          }
        }, true)
        yield* recordSuccess(m, result, end - start)
        state.result = result
        return result
      }
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure)) {
        const error = LlmError.withContext(failure.value, { provider: r.provider, model: r.model })
        yield* recordError(m, error)
        return yield* Effect.fail(error)
      }
      return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
    })
  }

  /**
   * Which failures move on to the next model of a fallback chain: retryable ones, an open
   * circuit, and the non-retryable tags the request opted into (`fallbackOn`).
   */
  const fallsBack = (request: ChatRequest.ChatRequest, error: LlmError.LlmError) =>
    error.retryable || error._tag === "CircuitOpenError" ||
    (request.fallbackOn !== undefined && (request.fallbackOn as ReadonlyArray<string>).includes(error._tag))

  const attemptOf = (model: string, error: LlmError.LlmError): ChatResult.FallbackAttempt => ({
    model,
    error: error._tag,
    message: error.message
  })

  /**
   * The end of a call, inside its span: the span attributes (GenAI semantic conventions
   * and ours) and the fields of its log line (`logCall` writes it after the span).
   * Runs once per call.
   */
  const finish = (
    operation: "chat" | "stream",
    request: ChatRequest.ChatRequest,
    state: CallState,
    start: number,
    span: Option.Option<Tracer.Span>,
    exit: Exit.Exit<unknown, unknown>
  ): Effect.Effect<void> =>
    Effect.suspend(() => {
      const provider = state.provider ?? request.provider
      const model = state.model ?? request.model
      const result = state.result
      const attrs: Record<string, unknown> = {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
        [ATTR_GEN_AI_REQUEST_MODEL]: model,
        [Telemetry.attributes.attempts]: state.attempts,
        [Telemetry.attributes.cache]: state.cache
      }
      if (provider !== undefined) {
        attrs[ATTR_GEN_AI_PROVIDER_NAME] = provider
        attrs[ATTR_GEN_AI_SYSTEM] = provider
      }
      if (request.temperature !== undefined) attrs[ATTR_GEN_AI_REQUEST_TEMPERATURE] = request.temperature
      if (request.maxTokens !== undefined) attrs[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = request.maxTokens
      const log: Record<string, unknown> = {
        operation,
        provider,
        model,
        attempts: state.attempts,
        cache: state.cache
      }
      const context = state.context
      if (request.user !== undefined) {
        attrs[Telemetry.attributes.userId] = request.user
        log.userId = request.user
      }
      if (context.correlationId !== undefined) {
        attrs[Telemetry.attributes.correlationId] = context.correlationId
        log.correlationId = context.correlationId
      }
      if (context.tags !== undefined && context.tags.length > 0) {
        attrs[Telemetry.attributes.tags] = context.tags
        log.tags = context.tags
      }
      if (request.metadata !== undefined) {
        for (const key in request.metadata) attrs[Telemetry.attributes.metadataPrefix + key] = request.metadata[key]
        log.metadata = request.metadata
      }
      let failed: LlmError.LlmError | undefined
      let status = "ok"
      if (Exit.isFailure(exit)) {
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure) && LlmError.isLlmError(failure.value)) failed = failure.value
        status = failed !== undefined ? failed._tag : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"
        attrs[ATTR_ERROR_TYPE] = status
      }
      log.status = status
      if (failed === undefined && result !== undefined) {
        attrs[ATTR_GEN_AI_RESPONSE_MODEL] = result.model
        attrs[ATTR_GEN_AI_RESPONSE_ID] = result.id
        attrs[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [result.finishReason]
        attrs[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = result.usage.inputTokens
        attrs[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = result.usage.outputTokens
        log.inputTokens = result.usage.inputTokens
        log.outputTokens = result.usage.outputTokens
        if (result.timing.ttfbMs !== undefined) log.ttfbMs = result.timing.ttfbMs
        if (result.cost !== undefined) {
          attrs[Telemetry.attributes.costUsd] = result.cost.totalUsd
          log.costUsd = result.cost.totalUsd
        }
        if (result.requestId !== undefined) log.requestId = result.requestId
      } else if (failed !== undefined) {
        log.errorMessage = failed.message
        if (failed.requestId !== undefined) log.requestId = failed.requestId
      }
      if (c.logContent.enabled) {
        log.prompt = Telemetry.truncate(Telemetry.renderMessages(request.messages), c.logContent.maxChars)
        if (result !== undefined && failed === undefined) {
          log.completion = Telemetry.truncate(result.text, c.logContent.maxChars)
        }
      }
      return Effect.map(Clock.currentTimeMillis, (end) => {
        log.latencyMs = end - start
        state.log = { level: status === "ok" ? "ok" : "error", message: `llm.${operation}`, fields: log }
        // set on the span captured at the start: a stream's finalizer does not see it as current
        if (Option.isSome(span)) { for (const key in attrs) span.value.attribute(key, attrs[key]) }
      })
    })

  // a fresh state each time the returned effect runs (it may be retried or repeated)
  const chat: Service["chat"] = (input) =>
    Effect.flatMap(CallContext.CurrentCallContext, (context) => {
      const state = newCallState(context)
      return chatWith(CallContext.applyTo(context, input), state).pipe(
        Effect.withSpan("llm.chat", {
          kind: "client",
          attributes: { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT },
          captureStackTrace: false
        }),
        Effect.ensuring(logCall(state))
      )
    })

  const chatWith = (
    input: ChatRequest.Input | ChatRequest.ChatRequest,
    state: CallState
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
    Effect.suspend(() => {
      const normalized = ChatRequest.make(input)
      if (Either.isLeft(normalized)) return Effect.fail(normalized.left)
      const request = normalized.right
      const chain = [request.model, ...(request.fallback ?? [])]
      return Effect.flatMap(Effect.zip(Clock.currentTimeMillis, Effect.option(Effect.currentSpan)), ([start, span]) => {
        const failed: Array<ChatResult.FallbackAttempt> = []
        const loop = (index: number): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
          Effect.matchEffect(chatModel(request, chain[index]!, start, state), {
            onFailure: (error) => {
              if (index + 1 >= chain.length || !fallsBack(request, error)) return Effect.fail(error)
              failed.push(attemptOf(chain[index]!, error))
              return loop(index + 1)
            },
            onSuccess: (result) =>
              Effect.succeed(
                failed.length === 0 ? result : new ChatResult.ChatResult({ ...result, fallbacks: failed }, true)
              )
          })
        return Effect.onExit(loop(0), (exit) => finish("chat", request, state, start, span, exit))
      })
    })

  // ---------------------------------------------------------------------------
  // chatStream
  // ---------------------------------------------------------------------------

  /**
   * One attempt's events, with Start (and Usage) held back until the first content
   * event so that nothing reaches the caller before content — which keeps the stream
   * retryable until then. Adds the cost to `Finish`.
   */
  const attemptEvents = (
    info: Middleware.CallInfo,
    timeouts: Provider.ResolvedTimeouts,
    n: number,
    onEmit: () => void,
    state: CallState
  ): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
    Stream.suspend(() => {
      state.attempts++
      let held: Array<StreamEvent.StreamEvent> | undefined = []
      let responseModel = info.model
      const events = streamWithTimeouts(
        info.implementation.chatStream({ request: info.request, model: info.model, timeouts, attempt: n }),
        timeouts,
        info
      ).pipe(Stream.withSpan(Telemetry.attemptSpan, attemptSpanOptions(info, n)))
      const mapped = Stream.mapChunks(events, (chunk) => {
        let out: Array<StreamEvent.StreamEvent> | undefined
        for (const event of chunk) {
          let e = event
          if (e._tag === "Start") responseModel = e.model || info.model
          else if (e._tag === "Finish" && e.cost === undefined && e.usage !== undefined) {
            const cost = withCost(
              c.catalog,
              responseModel,
              info.model,
              e.usage,
              costDetail(e.providerMetadata, info.provider)
            )
            if (cost !== undefined) e = { ...e, cost }
          }
          if (held !== undefined) {
            held.push(e)
            if (StreamEvent.isContent(e) || e._tag === "Finish") {
              out = held
              held = undefined
            }
          } else {
            if (out === undefined) out = []
            out.push(e)
          }
        }
        if (out === undefined || out.length === 0) return Chunk.empty()
        onEmit()
        return Chunk.unsafeFromArray(out)
      })
      return mapped
    })

  const providerStream = (
    info: Middleware.CallInfo,
    state: CallState
  ): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
    Stream.suspend(() => {
      const timeouts = Timeouts.forCall(c.timeouts, info.implementation, info.request.timeout)
      const maxRetries = info.request.maxRetries ?? c.retry.maxRetries
      const metrics = info.metrics
      const driver: { current: Schedule.ScheduleDriver<unknown, LlmError.LlmError> | undefined } = {
        current: undefined
      }
      let emitted = false
      const markEmitted = () => {
        emitted = true
      }
      const attempt = (n: number): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
        Stream.catchAll(attemptEvents(info, timeouts, n, markEmitted, state), (error) =>
          emitted
            ? Stream.fail(error)
            : Stream.unwrap(Effect.map(
              shouldRetry(c.retry, maxRetries, n, error, driver, metrics),
              (again) => again ? attempt(n + 1) : Stream.fail(error)
            )))
      return attempt(1)
    })

  const pipelineStream = (info: Middleware.CallInfo, state: CallState) =>
    c.cache.chatStream(
      info,
      c.budget.chatStream(
        info,
        c.rateLimiter.chatStream(info, c.breaker.chatStream(info, providerStream(info, state)))
      )
    )

  /** One model of the chain, instrumented; `onEmit` tells the chain content was sent. */
  const streamModel = (
    request: ChatRequest.ChatRequest,
    model: string,
    onEmit: () => void,
    state: CallState
  ): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> => {
    const resolution = resolve(model, request.provider)
    if (Either.isLeft(resolution)) {
      const error = resolution.left
      return Stream.unwrap(Effect.as(captureStart(state), Stream.fail(error)))
    }
    const r = resolution.right
    state.provider = r.provider
    state.model = r.model
    const info = callInfo("stream", request, r, state)
    const m = info.metrics
    return Stream.unwrap(Effect.map(captureStart(state), (start) => {
      const acc = new StreamEvent.Accumulator()
      let ttfb: number | undefined
      let contentSeen = false
      const events = Stream.mapChunksEffect(pipelineStream(info, state), (chunk) => {
        for (const event of chunk) {
          acc.push(event)
          if (!contentSeen && StreamEvent.isContent(event)) contentSeen = true
        }
        if (chunk.length > 0) onEmit()
        if (ttfb === undefined && contentSeen) {
          return Effect.flatMap(Clock.currentTimeMillis, (now) => {
            ttfb = now - start
            return Effect.as(firstToken(ttfb), chunk)
          })
        }
        return Effect.succeed(chunk)
      })
      return events.pipe(
        Stream.mapError((error) => {
          const withInfo = LlmError.withContext(error, { provider: r.provider, model: r.model })
          return acc.events > 0 && withInfo.partial === undefined
            ? LlmError.annotate(withInfo, { partial: acc.partial() })
            : withInfo
        }),
        Stream.ensuringWith((exit) =>
          Effect.flatMap(Clock.currentTimeMillis, (end) => {
            if (Exit.isSuccess(exit)) {
              const result = acc.result({ latencyMs: end - start, ...(ttfb !== undefined ? { ttfbMs: ttfb } : {}) })
              state.result = result
              return recordSuccess(m, result, end - start)
            }
            const failure = Cause.failureOption(exit.cause)
            return Option.isSome(failure) && LlmError.isLlmError(failure.value)
              ? recordError(m, failure.value)
              : Effect.void
          }).pipe(
            Effect.zipLeft(Metric.increment(m.requests))
          )
        )
      )
    }))
  }

  const chatStream: Service["chatStream"] = (input) =>
    Stream.unwrap(Effect.map(CallContext.CurrentCallContext, (context) => {
      const state = newCallState(context)
      return chatStreamWith(CallContext.applyTo(context, input), state).pipe(
        Stream.withSpan("llm.chat_stream", {
          kind: "client",
          attributes: { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT },
          captureStackTrace: false
        }),
        Stream.ensuring(logCall(state))
      )
    }))

  const chatStreamWith = (
    input: ChatRequest.Input | ChatRequest.ChatRequest,
    state: CallState
  ): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
    Stream.suspend(() => {
      const normalized = ChatRequest.make(input)
      if (Either.isLeft(normalized)) return Stream.fail(normalized.left)
      const request = normalized.right
      const chain = [request.model, ...(request.fallback ?? [])]
      let emitted = false
      const onEmit = () => {
        emitted = true
      }
      const failed: Array<ChatResult.FallbackAttempt> = []
      const withFallbacks = (events: Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>) =>
        failed.length === 0
          ? events
          : Stream.map(events, (e) => (e._tag === "Finish" ? { ...e, fallbacks: failed } : e))
      const loop = (index: number): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
        Stream.catchAll(withFallbacks(streamModel(request, chain[index]!, onEmit, state)), (error) => {
          if (emitted || index + 1 >= chain.length || !fallsBack(request, error)) return Stream.fail(error)
          failed.push(attemptOf(chain[index]!, error))
          return loop(index + 1)
        })
      return Stream.ensuringWith(
        loop(0),
        (exit) => finish("stream", request, state, state.start ?? 0, state.span, exit)
      )
    })

  // ---------------------------------------------------------------------------
  // embed
  // ---------------------------------------------------------------------------

  const embed: Service["embed"] = (request) =>
    Effect.suspend(() => {
      const resolution = resolve(request.model, request.provider)
      if (Either.isLeft(resolution)) return Effect.fail(resolution.left)
      const r = resolution.right
      if (r.implementation.embed === undefined) {
        return Effect.fail(
          new LlmError.InvalidRequestError({
            message: `provider "${r.provider}" does not support embeddings`,
            provider: r.provider,
            model: r.model
          }, true)
        )
      }
      const input = typeof request.input === "string" ? [request.input] : request.input
      const timeouts = Timeouts.resolve(c.timeouts, r.implementation.timeouts)
      return Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
        if (Option.isSome(span)) {
          span.value.attribute(ATTR_GEN_AI_PROVIDER_NAME, r.provider)
          span.value.attribute(ATTR_GEN_AI_SYSTEM, r.provider)
          span.value.attribute(ATTR_GEN_AI_REQUEST_MODEL, r.model)
        }
        return r.implementation.embed!({ model: r.model, input, dimensions: request.dimensions, timeouts }).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(timeouts.totalMs),
            onTimeout: () => timeoutError("total", timeouts.totalMs, r)
          }),
          Effect.tapBoth({
            onFailure: (error) =>
              Effect.sync(() => {
                if (Option.isSome(span)) span.value.attribute(ATTR_ERROR_TYPE, error._tag)
              }),
            onSuccess: (result) =>
              Effect.sync(() => {
                if (Option.isSome(span)) {
                  span.value.attribute(ATTR_GEN_AI_RESPONSE_MODEL, result.model)
                  span.value.attribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, result.usage.inputTokens)
                }
              })
          })
        )
      })
    }).pipe(Effect.withSpan("llm.embed", {
      kind: "client",
      attributes: { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS },
      captureStackTrace: false
    }))

  const service: Service = {
    chat,
    chatStream,
    generateObject: (options) => StructuredOutput.generateObject(service, options),
    streamObject: (options) => StructuredOutput.streamObject(service, options),
    runTools: (options) => ToolLoop.run(service, options),
    streamTools: (options) => ToolLoop.stream(service, options),
    embed,
    resolve,
    providers: () => c.registry.names(),
    knownModels: () => c.models.knownNames()
  }
  return service
}

/**
 * The client, reading its concern services (`RetryPolicy`, `Timeouts`, `ResponseCache`,
 * `Budget`, `RateLimiter`, `CircuitBreaker`, `ModelRegistry`, `Catalog`) from context —
 * each falls back to its default when not provided.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<LlmClient, never, ProviderRegistry.ProviderRegistry> = Layer.effect(LlmClient, make)

/**
 * Register the given provider layers, then build the client with its own registry and
 * an undici `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = <E, R>(
  providers: Layer.Layer<never, E, R>
): Layer.Layer<
  LlmClient,
  E,
  Exclude<R, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient>
> =>
  layer.pipe(
    Layer.provide(providers),
    Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer()))
  ) as Layer.Layer<LlmClient, E, Exclude<R, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient>>

// -----------------------------------------------------------------------------
// from the environment
// -----------------------------------------------------------------------------

/**
 * What a provider package exports as `plugin` so that `layerFromEnv` and the Promise
 * facade can load it by name: a layer that registers its providers from environment
 * variables (through `Config`) or from explicit settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plugin {
  readonly name: string
  readonly layer: (
    settings?: Readonly<Record<string, unknown>> | undefined
  ) => Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient>
}

/**
 * The provider packages `layerFromEnv` looks for.
 *
 * @since 0.1.0
 * @category models
 */
export const knownPlugins: ReadonlyArray<string> = ["@llm-fiber/openai", "@llm-fiber/anthropic", "@llm-fiber/gemini"]

const isPlugin = (u: unknown): u is Plugin =>
  typeof u === "object" && u !== null && typeof (u as Plugin).name === "string" &&
  typeof (u as Plugin).layer === "function"

/**
 * Import the installed provider packages (those not installed are skipped).
 *
 * @since 0.1.0
 * @category constructors
 */
export const loadPlugins = (
  packages: ReadonlyArray<string> = knownPlugins
): Effect.Effect<ReadonlyArray<Plugin>> =>
  Effect.map(
    Effect.forEach(packages, (name) =>
      Effect.promise(() =>
        import(/* @vite-ignore */ name).then(
          (module: Record<string, unknown>) => (isPlugin(module.plugin) ? module.plugin : undefined),
          () => undefined
        )
      ), { concurrency: "unbounded" }),
    (plugins) => plugins.filter((p): p is Plugin => p !== undefined)
  )

/**
 * Options of `layerFromEnv`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FromEnvOptions {
  /** Settings per provider package name (`openai`, `anthropic`, …); `false` turns one off. */
  readonly providers?: Readonly<Record<string, Readonly<Record<string, unknown>> | false>> | undefined
  /** Extra plugins (e.g. a provider package of your own). */
  readonly plugins?: ReadonlyArray<Plugin> | undefined
  /** Transport options of the undici client. */
  readonly http?: UndiciHttpClient.Options | undefined
}

/**
 * The client with every installed provider package configured from environment variables
 * (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OLLAMA_BASE_URL`, `ANTHROPIC_API_KEY`, …), an
 * undici `HttpClient` and the default concerns.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (options?: FromEnvOptions): Layer.Layer<LlmClient, ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(loadPlugins(), (loaded) => {
    const plugins = [...loaded, ...(options?.plugins ?? [])]
    const layers = plugins.flatMap((plugin) => {
      const settings = options?.providers?.[plugin.name]
      return settings === false ? [] : [plugin.layer(settings)]
    })
    const providers = layers.length === 0 ? Layer.empty : Layer.mergeAll(...(layers as [typeof layers[number]]))
    return layer.pipe(
      Layer.provide(providers),
      Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer(options?.http)))
    )
  }))

// -----------------------------------------------------------------------------
// accessors
// -----------------------------------------------------------------------------

/**
 * Bind a context (user id, tags, metadata, metric labels, request defaults) to every call
 * an effect makes — `CallContext.bind` under the client's name.
 *
 * @since 0.1.0
 * @category context
 */
export const withContext: (
  context: CallContext.CallContext
) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = CallContext.bind

/**
 * Bind a context to every call a stream makes (`CallContext.bindStream`).
 *
 * @since 0.1.0
 * @category context
 */
export const withContextStream: (
  context: CallContext.CallContext
) => <A, E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<A, E, R> = CallContext.bindStream

/**
 * `chat` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chat = (
  request: ChatRequest.Input | ChatRequest.ChatRequest
): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError, LlmClient> =>
  Effect.flatMap(LlmClient, (client) => client.chat(request))

/**
 * `chatStream` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chatStream = (
  request: ChatRequest.Input | ChatRequest.ChatRequest
): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError, LlmClient> =>
  Stream.unwrap(Effect.map(LlmClient, (client) => client.chatStream(request)))

/**
 * `generateObject` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const generateObject = <A, I>(
  options: StructuredOutput.Options<A, I>
): Effect.Effect<StructuredOutput.Result<A>, LlmError.LlmError, LlmClient> =>
  Effect.flatMap(LlmClient, (client) => client.generateObject(options))

/**
 * `streamObject` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const streamObject = <A, I>(
  options: StructuredOutput.Options<A, I>
): Stream.Stream<StructuredOutput.StreamPart<A>, LlmError.LlmError, LlmClient> =>
  Stream.unwrap(Effect.map(LlmClient, (client) => client.streamObject(options)))

/**
 * `runTools` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const runTools = <R>(
  options: ToolLoop.Options<R>
): Effect.Effect<ToolLoop.Result, LlmError.LlmError, LlmClient | R> =>
  Effect.flatMap(LlmClient, (client) => client.runTools(options))

/**
 * `streamTools` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const streamTools = <R>(
  options: ToolLoop.Options<R>
): Stream.Stream<ToolLoop.Event, LlmError.LlmError, LlmClient | R> =>
  Stream.unwrap(Effect.map(LlmClient, (client) => client.streamTools(options)))

/**
 * `embed` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const embed = (request: EmbedRequest): Effect.Effect<Provider.EmbedResult, LlmError.LlmError, LlmClient> =>
  Effect.flatMap(LlmClient, (client) => client.embed(request))
