/**
 * `LlmClient.chatStream` as one source: the whole pipeline of a stream (fallback chain,
 * middleware, retries before content, first-event / idle / total deadlines, held-back
 * `Start`, cost, accumulation, TTFB, metrics, spans, the log line) is a state machine
 * behind a single `pull` — no nested `Stream` runs, one step per network read.
 *
 * - Deadlines come from one lazy watchdog per attempt (a timer re-armed only when it fires
 *   early), not a race per pull; time comes from the fiber's `Clock`.
 * - The provider's stream is opened natively when it is one (`ProviderHttp`), else pulled
 *   by a producer fiber; middleware that wraps the stream (`ResponseCache`, …) gets the
 *   attempts as an ordinary stream.
 *
 * @internal
 */
import {
  ATTR_GEN_AI_OPERATION_NAME,
  GEN_AI_OPERATION_NAME_VALUE_CHAT
} from "@opentelemetry/semantic-conventions/incubating"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as CallContext from "../CallContext.js"
import type * as Catalog from "../Catalog.js"
import * as ChatRequest from "../ChatRequest.js"
import type * as ChatResult from "../ChatResult.js"
import * as LlmError from "../LlmError.js"
import type * as Metrics from "../Metrics.js"
import type * as Middleware from "../Middleware.js"
import type * as ModelRegistry from "../ModelRegistry.js"
import type * as Provider from "../Provider.js"
import type * as RetryPolicy from "../RetryPolicy.js"
import * as StreamEvent from "../StreamEvent.js"
import * as Telemetry from "../Telemetry.js"
import * as Timeouts from "../Timeouts.js"
import * as Call from "./call.js"
import * as Deadline from "./deadline.js"
import * as Source from "./source.js"

/** A model name resolved to a registered provider. */
export interface Resolution extends ModelRegistry.Resolved {
  readonly implementation: Provider.Provider
}

/** What the stream pipeline needs from the client. */
export interface Deps {
  readonly resolve: (model: string, provider?: string) => Either.Either<Resolution, LlmError.UnknownModelError>
  readonly callInfo: (
    request: ChatRequest.ChatRequest,
    resolution: Resolution,
    state: Call.CallState
  ) => Middleware.CallInfo
  /** Cache → budget → rate limiter → circuit breaker around a model's provider stream. */
  readonly middleware: (
    info: Middleware.CallInfo,
    next: Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  ) => Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  readonly retry: RetryPolicy.Service
  readonly timeouts: Provider.ResolvedTimeouts
  readonly catalog: Catalog.Service
  readonly logContent: Telemetry.LogContentSettings
}

type Events = Array<StreamEvent.StreamEvent>
type Pull = Effect.Effect<Events | undefined, LlmError.LlmError>

const spanOptions: Tracer.SpanOptions = {
  kind: "client",
  attributes: { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT },
  captureStackTrace: false
}

const endSpan = (span: Tracer.Span, clock: Clock.Clock, timing: boolean, exit: Exit.Exit<unknown, unknown>) => {
  if (span.status._tag === "Ended") return
  span.end(timing ? clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
}

const done: Pull = Effect.succeed(undefined)

// -----------------------------------------------------------------------------
// the attempts of one model: retries, deadlines, held-back events, cost
// -----------------------------------------------------------------------------

class Attempts implements Source.Source<StreamEvent.StreamEvent> {
  private readonly timeouts: Provider.ResolvedTimeouts
  private readonly maxRetries: number
  private readonly driver: Call.Driver = { current: undefined }
  /** content reached the consumer: no retry any more */
  private emitted = false
  private attempt = 0
  private current: Source.Source<StreamEvent.StreamEvent> | undefined = undefined
  private span: Tracer.Span | undefined = undefined
  private aborted: Cause.Cause<LlmError.LlmError> | undefined = undefined
  private closed = false
  private ended = false
  // per attempt
  private held: Events | undefined = undefined
  private responseModel = ""
  private first = true
  private opened = false
  // the watchdog
  private attemptStart = 0
  private pending = false
  private pullStart = 0
  private timer: Deadline.Timer | undefined = undefined
  private timerAt = Number.POSITIVE_INFINITY
  private clock: Clock.Clock = Deadline.liveClock
  private timing = true

  constructor(
    private readonly deps: Deps,
    private readonly info: Middleware.CallInfo,
    private readonly state: Call.CallState,
    private readonly callSpan: Option.Option<Tracer.Span>,
    private readonly onEmit: () => void
  ) {
    this.timeouts = Timeouts.forCall(deps.timeouts, info.implementation, info.request.timeout)
    this.maxRetries = info.request.maxRetries ?? deps.retry.maxRetries
  }

  readonly pull: Pull = Effect.suspend(() => {
    if (this.aborted !== undefined) return Effect.failCause(this.aborted)
    if (this.ended) return done
    if (this.current === undefined) return this.start
    return this.next
  })

  /** Open the next attempt (span, provider stream, watchdog), then pull it. */
  private readonly start: Pull = Effect.withFiberRuntime((fiber) => {
    const n = ++this.attempt
    this.state.attempts++
    this.clock = Deadline.clockOf(fiber)
    this.timing = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
    const info = this.info
    return Effect.flatMap(Call.makeAttemptSpan(info, n, Option.getOrUndefined(this.callSpan)), (span) => {
      this.span = span
      this.held = []
      this.responseModel = info.model
      this.first = true
      const call: Provider.Call = { request: info.request, model: info.model, timeouts: this.timeouts, attempt: n }
      // a provider that declares its calls gets the attempt span passed (the parent of its
      // request spans); any other runs under it until it answered
      const declared = Deadline.enforcesTotal(info.implementation)
      if (declared) Deadline.setAttemptSpan(call, span)
      this.opened = declared
      const open = Source.openOf(info.implementation.chatStream(call))
      return Effect.flatMap(
        declared ? open : Effect.withParentSpan(open, span),
        (source) => {
          if (this.closed) return Effect.zipRight(source.close(Exit.interrupt(fiber.id())), Effect.interrupt)
          this.current = source
          this.attemptStart = this.clock.unsafeCurrentTimeMillis()
          this.timerAt = Number.POSITIVE_INFINITY
          this.arm(this.attemptStart + this.timeouts.totalMs)
          return this.next
        }
      )
    })
  })

  // --- the watchdog ------------------------------------------------------------

  private arm(at: number): void {
    if (at >= this.timerAt) return
    this.timer?.cancel()
    this.timerAt = at
    this.timer = Deadline.schedule(this.clock, at - this.clock.unsafeCurrentTimeMillis(), this.check)
  }

  private disarm(): void {
    this.timer?.cancel()
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
  }

  private readonly check = (): void => {
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
    const source = this.current
    if (source === undefined) return
    const now = this.clock.unsafeCurrentTimeMillis()
    const t = this.timeouts
    const total = this.attemptStart + t.totalMs
    const phaseMs = this.first ? t.firstByteMs : t.idleMs
    const phaseAt = this.pending ? this.pullStart + phaseMs : Number.POSITIVE_INFINITY
    if (this.pending && now >= phaseAt && phaseAt <= total) {
      return source.abort(Cause.fail(Deadline.timeoutError(this.first ? "first_byte" : "idle", phaseMs, this.info)))
    }
    if (now >= total) return source.abort(Cause.fail(Deadline.timeoutError("total", t.totalMs, this.info)))
    this.arm(Math.min(total, phaseAt))
  }

  // --- pulling an attempt ------------------------------------------------------

  private readonly next: Pull = Effect.suspend(() => {
    const source = this.current!
    this.pending = true
    this.pullStart = this.clock.unsafeCurrentTimeMillis()
    this.arm(this.pullStart + (this.first ? this.timeouts.firstByteMs : this.timeouts.idleMs))
    // until the provider answered, its effects run under the attempt's span
    const pull = this.opened ? source.pull : Effect.withParentSpan(source.pull, this.span!)
    return Effect.matchCauseEffect(pull, this.handlers)
  })

  private readonly handlers = {
    onSuccess: (items: Events | undefined): Pull => {
      this.pending = false
      this.opened = true
      if (items === undefined) return this.attemptEnded()
      return this.onItems(items)
    },
    onFailure: (cause: Cause.Cause<LlmError.LlmError>): Pull => {
      this.pending = false
      return this.attemptFailed(cause)
    }
  }

  /** Start (and Usage) held back until the first content; cost added to `Finish`. */
  private onItems(items: Events): Pull {
    if (this.held === undefined) {
      // the common case: nothing held back, no Start or Finish to rewrite — the chunk as it is
      let plain = true
      for (let i = 0; i < items.length; i++) {
        const tag = items[i]!._tag
        if (tag === "Start" || tag === "Finish") {
          plain = false
          break
        }
      }
      if (plain) {
        this.first = false
        this.emitted = true
        this.onEmit()
        return Effect.succeed(items)
      }
    }
    let out: Events | undefined
    const info = this.info
    for (let i = 0; i < items.length; i++) {
      let e = items[i]!
      if (e._tag === "Start") {
        this.responseModel = e.model || info.model
      } else {
        // a Start-only chunk does not count as the first content
        this.first = false
        if (e._tag === "Finish" && e.cost === undefined && e.usage !== undefined) {
          const cost = Call.priceOf(
            this.deps.catalog,
            this.responseModel,
            info.model,
            e.usage,
            e.providerMetadata,
            info.provider
          )
          if (cost !== undefined) e = { ...e, cost }
        }
      }
      const held = this.held
      if (held !== undefined) {
        held.push(e)
        if (StreamEvent.isContent(e) || e._tag === "Finish") {
          out = held
          this.held = undefined
        }
      } else if (out === undefined) {
        out = [e]
      } else {
        out.push(e)
      }
    }
    if (out === undefined || out.length === 0) return this.next
    this.emitted = true
    this.onEmit()
    return Effect.succeed(out)
  }

  private finishAttempt(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    this.disarm()
    const source = this.current
    this.current = undefined
    if (this.span !== undefined) endSpan(this.span, this.clock, this.timing, exit)
    return source === undefined ? Effect.void : source.close(exit)
  }

  private attemptEnded(): Pull {
    this.ended = true
    return Effect.as(this.finishAttempt(Exit.void), undefined)
  }

  private attemptFailed(cause: Cause.Cause<LlmError.LlmError>): Pull {
    const close = this.finishAttempt(Exit.failCause(cause))
    const failure = Cause.failureOption(cause)
    if (this.emitted || this.aborted !== undefined || Option.isNone(failure)) {
      return Effect.zipRight(close, Effect.failCause(cause))
    }
    const error = failure.value
    return Effect.zipRight(
      close,
      Effect.flatMap(
        Call.shouldRetry(
          this.deps.retry,
          this.maxRetries,
          this.attempt,
          error,
          this.driver,
          this.info.metrics,
          this.callSpan
        ),
        (again) => (again && !this.closed ? this.start : Effect.failCause(cause))
      )
    )
  }

  readonly abort = (cause: Cause.Cause<LlmError.LlmError>): void => {
    if (this.aborted !== undefined) return
    this.aborted = cause
    this.current?.abort(cause)
  }

  readonly close = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (this.closed) return Effect.void
      this.closed = true
      return this.finishAttempt(exit)
    })
}

// -----------------------------------------------------------------------------
// one call: the fallback chain, accumulation, metrics, span and log line
// -----------------------------------------------------------------------------

interface ModelRun {
  readonly resolution: Resolution
  readonly metrics: Metrics.CallMetrics
  readonly source: Source.Source<StreamEvent.StreamEvent>
  readonly acc: StreamEvent.Accumulator
  readonly start: number
  ttfb: number | undefined
  contentSeen: boolean
  /** metrics recorded (success, failure or close) */
  settled: boolean
}

class CallRun implements Source.Source<StreamEvent.StreamEvent> {
  private request: ChatRequest.ChatRequest | undefined = undefined
  private chain: ReadonlyArray<string> = []
  private index = 0
  private readonly failed: Array<ChatResult.FallbackAttempt> = []
  /** content reached the caller: no fallback any more */
  private emitted = false
  private model: ModelRun | undefined = undefined
  /** how the call ended, once it did */
  private outcome: Exit.Exit<unknown, unknown> | undefined = undefined
  private closed = false

  constructor(
    private readonly deps: Deps,
    private readonly input: ChatRequest.Input | ChatRequest.ChatRequest,
    private readonly state: Call.CallState,
    private readonly span: Tracer.Span,
    private readonly timing: boolean,
    private readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  ) {}

  private readonly onEmit = (): void => {
    this.emitted = true
  }

  readonly pull: Pull = Effect.suspend(() => {
    if (this.outcome !== undefined) {
      return Exit.isFailure(this.outcome)
        ? Effect.failCause(this.outcome.cause as Cause.Cause<LlmError.LlmError>)
        : done
    }
    const model = this.model
    if (model !== undefined) return Effect.matchCauseEffect(model.source.pull, this.handlers)
    if (this.request === undefined) {
      const normalized = ChatRequest.make(this.input)
      if (Either.isLeft(normalized)) return this.fail(Cause.fail(normalized.left))
      this.request = normalized.right
      this.chain = [normalized.right.model, ...(normalized.right.fallback ?? [])]
    }
    return this.startModel()
  })

  /** Resolve the next model of the chain and open its pipeline. */
  private startModel(): Pull {
    const request = this.request!
    const resolution = this.deps.resolve(this.chain[this.index]!, request.provider)
    if (Either.isLeft(resolution)) return this.modelFailed(Cause.fail(resolution.left), undefined)
    const r = resolution.right
    const state = this.state
    state.provider = r.provider
    state.model = r.model
    const info = this.deps.callInfo(request, r, state)
    const attempts = Source.native(
      Effect.sync((): Source.Source<StreamEvent.StreamEvent> =>
        new Attempts(this.deps, info, state, state.span, this.onEmit)
      )
    )
    const piped = this.deps.middleware(info, attempts)
    // no middleware in the way: the attempts are pulled directly (no fiber, no Stream)
    const open = piped === attempts ? Source.openOf(piped) : Effect.withParentSpan(Source.openOf(piped), this.span)
    return Effect.flatMap(open, (source: Source.Source<StreamEvent.StreamEvent>) => {
      this.model = {
        resolution: r,
        metrics: info.metrics,
        source,
        acc: new StreamEvent.Accumulator(),
        start: state.clock.unsafeCurrentTimeMillis(),
        ttfb: undefined,
        contentSeen: false,
        settled: false
      }
      if (this.closed) return Effect.zipRight(source.close(Exit.void), Effect.interrupt)
      return Effect.matchCauseEffect(source.pull, this.handlers)
    })
  }

  private readonly handlers = {
    onSuccess: (items: Events | undefined): Pull => {
      const model = this.model!
      if (items === undefined) return this.modelEnded(model)
      const acc = model.acc
      let content = model.contentSeen
      for (let i = 0; i < items.length; i++) {
        const e = items[i]!
        acc.push(e)
        if (!content && StreamEvent.isContent(e)) content = true
      }
      model.contentSeen = content
      this.emitted = true
      if (model.ttfb === undefined && content) {
        const ttfb = this.state.clock.unsafeCurrentTimeMillis() - model.start
        model.ttfb = ttfb
        this.span.event(Telemetry.firstTokenEvent, this.state.clock.unsafeCurrentTimeNanos(), {
          [Telemetry.attributes.ttfbMs]: ttfb
        })
      }
      if (this.failed.length > 0) {
        const last = items[items.length - 1]!
        if (last._tag === "Finish") items[items.length - 1] = { ...last, fallbacks: this.failed }
        else {
          for (let i = 0; i < items.length; i++) {
            const e = items[i]!
            if (e._tag === "Finish") items[i] = { ...e, fallbacks: this.failed }
          }
        }
      }
      return Effect.succeed(items)
    },
    onFailure: (cause: Cause.Cause<LlmError.LlmError>): Pull => this.modelFailed(cause, this.model)
  }

  /** Record a model's metrics once: success with its result, or its error. */
  private settle(model: ModelRun, exit: Exit.Exit<unknown, unknown>): void {
    if (model.settled) return
    model.settled = true
    const m = model.metrics
    const end = this.state.clock.unsafeCurrentTimeMillis()
    if (Exit.isSuccess(exit)) {
      const result = model.acc.result({
        latencyMs: end - model.start,
        ...(model.ttfb !== undefined ? { ttfbMs: model.ttfb } : {})
      })
      this.state.result = result
      Call.recordSuccess(m, result, end - model.start, this.labels)
    } else {
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure) && LlmError.isLlmError(failure.value)) Call.recordError(m, failure.value, this.labels)
    }
    m.requests.unsafeUpdate(1, this.labels)
  }

  private modelEnded(model: ModelRun): Pull {
    this.settle(model, Exit.void)
    this.outcome = Exit.void
    return Effect.as(model.source.close(Exit.void), undefined)
  }

  private modelFailed(cause: Cause.Cause<LlmError.LlmError>, model: ModelRun | undefined): Pull {
    const failure = Cause.failureOption(cause)
    let annotated = cause
    if (model !== undefined && Option.isSome(failure)) {
      const r = model.resolution
      const withInfo = LlmError.withContext(failure.value, { provider: r.provider, model: r.model })
      annotated = Cause.fail(
        model.acc.events > 0 && withInfo.partial === undefined
          ? LlmError.annotate(withInfo, { partial: model.acc.partial() })
          : withInfo
      )
    }
    const close = model === undefined ? Effect.void : model.source.close(Exit.failCause(annotated))
    if (model !== undefined) this.settle(model, Exit.failCause(annotated))
    this.model = undefined
    const error = Cause.failureOption(annotated)
    const request = this.request!
    if (
      Option.isNone(error) || this.emitted || this.index + 1 >= this.chain.length ||
      !Call.fallsBack(request, error.value) || this.closed
    ) {
      return Effect.zipRight(close, this.fail(annotated))
    }
    this.failed.push(Call.attemptOf(this.chain[this.index]!, error.value))
    this.index++
    return Effect.zipRight(close, this.pull)
  }

  private fail(cause: Cause.Cause<LlmError.LlmError>): Pull {
    this.outcome = Exit.failCause(cause)
    return Effect.failCause(cause)
  }

  readonly abort = (cause: Cause.Cause<LlmError.LlmError>): void => {
    this.model?.source.abort(cause)
  }

  /** The end of the call: metrics, span attributes and end, then the log line. */
  readonly close = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (this.closed) return Effect.void
      this.closed = true
      const outcome = this.outcome ?? exit
      const model = this.model
      this.model = undefined
      const release = model === undefined ? Effect.void : model.source.close(outcome)
      return Effect.zipRight(
        release,
        Effect.suspend(() => {
          if (model !== undefined) this.settle(model, outcome)
          const state = this.state
          // a request that did not validate has no attributes and no log line (as `chat`)
          if (this.request !== undefined) {
            Call.finish("stream", this.request, state, state.start ?? 0, state.span, outcome, this.deps.logContent)
          }
          endSpan(this.span, state.clock, this.timing, outcome)
          return Call.logCall(state)
        })
      )
    })
}

/** `LlmClient.chatStream`: a native stream of the call's source. */
export const make = (deps: Deps) =>
(
  input: ChatRequest.Input | ChatRequest.ChatRequest
): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
  Source.native(
    Effect.flatMap(Effect.makeSpan("llm.chat_stream", spanOptions), (span) =>
      Effect.withFiberRuntime((fiber) => {
        const context = Context.get(fiber.currentContext, CallContext.CurrentCallContext)
        const state = Call.newCallState(context)
        Call.startOn(state, fiber)
        state.start = state.clock.unsafeCurrentTimeMillis()
        state.span = Option.some(span)
        return Effect.succeed<Source.Source<StreamEvent.StreamEvent>>(
          new CallRun(
            deps,
            CallContext.applyTo(context, input),
            state,
            span,
            fiber.getFiberRef(FiberRef.currentTracerTimingEnabled),
            Call.labelsOf(fiber)
          )
        )
      }))
  )
