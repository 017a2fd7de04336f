/**
 * Deadlines without fibers: the live clock's JS timers when the fiber runs on it, a daemon
 * fiber sleeping on the fiber's own `Clock` otherwise (so `TestClock` drives every deadline
 * in tests).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type * as Tracer from "effect/Tracer"
import * as LlmError from "../LlmError.js"
import type * as Provider from "../Provider.js"

/** The clock of the default services (real time). */
export const liveClock: Clock.Clock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** The clock a fiber runs on. */
export const clockOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Clock.Clock =>
  Context.get(fiber.currentDefaultServices, Clock.Clock)

/** A scheduled callback. */
export interface Timer {
  readonly cancel: () => void
}

const noTimer: Timer = { cancel: () => {} }

/**
 * Call `f` once `ms` milliseconds have passed on `clock`: a JS timer on the live clock, a
 * daemon fiber sleeping on any other clock.
 */
export const schedule = (clock: Clock.Clock, ms: number, f: () => void): Timer => {
  if (!Number.isFinite(ms)) return noTimer
  if (clock === liveClock) {
    const handle = setTimeout(f, Math.max(0, ms))
    return { cancel: () => clearTimeout(handle) }
  }
  const fiber = Effect.runFork(Effect.zipRight(clock.sleep(Duration.millis(Math.max(0, ms))), Effect.sync(f)))
  return { cancel: () => fiber.unsafeInterruptAsFork(FiberId.none) }
}

/** The `TimeoutError` of an expired deadline. */
export const timeoutError = (
  phase: LlmError.TimeoutPhase,
  timeoutMs: number,
  info: { readonly provider: string; readonly model: string }
): LlmError.TimeoutError =>
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

const attemptSpans = new WeakMap<Provider.Call, Tracer.Span>()

/** Record the attempt span of a call (for the transport: the parent of its request spans). */
export const setAttemptSpan = (call: Provider.Call, span: Tracer.Span): void => {
  attemptSpans.set(call, span)
}

/** The attempt span recorded for a call. */
export const attemptSpanOf = (call: Provider.Call): Tracer.Span | undefined => attemptSpans.get(call)

const enforcing = new WeakSet<Provider.Provider>()

/**
 * Mark a provider whose `chat` enforces `call.timeouts.totalMs` itself (on the live clock)
 * and parents its request spans to the call's attempt span (`ProviderHttp.declareCall`).
 */
export const markEnforcesTotal = (provider: Provider.Provider): void => {
  enforcing.add(provider)
}

/** Whether a provider's `chat` enforces `call.timeouts.totalMs` itself (on the live clock). */
export const enforcesTotal = (provider: Provider.Provider): boolean => enforcing.has(provider)

/**
 * `Effect.timeoutFail` for the live clock at the price of one fiber: the effect runs in a
 * child fiber, a JS timer interrupts it (awaiting its finalizers) and fails with
 * `onTimeout()`. (Unlike `timeoutFail`, the child's fiber-ref changes are not copied back:
 * a provider call has none worth the cost of the join.) Other clocks get
 * `Effect.timeoutFail` itself.
 */
export const timeoutFail = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  clock: Clock.Clock,
  ms: number,
  onTimeout: () => E
): Effect.Effect<A, E, R> => {
  if (!Number.isFinite(ms)) return self
  if (clock !== liveClock) return Effect.timeoutFail(self, { duration: Duration.millis(ms), onTimeout })
  return Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.fork(restore(self)), (fiber) =>
      Effect.flatMap(
        Effect.onInterrupt(
          restore(Effect.async<boolean>((resume) => {
            const handle = setTimeout(() => resume(Effect.succeed(false)), Math.max(0, ms))
            fiber.addObserver(() => {
              clearTimeout(handle)
              resume(Effect.succeed(true))
            })
            return Effect.sync(() => clearTimeout(handle))
          })),
          () => Fiber.interrupt(fiber)
        ),
        (finished): Effect.Effect<A, E> =>
          finished
            ? Effect.flatMap(fiber.await, (exit) => exit)
            : Effect.zipRight(Fiber.interrupt(fiber), Effect.fail(onTimeout()))
      ))
  )
}
