/**
 * Pull-based sources of chunks: the streaming hot path under `ProviderHttp` and
 * `LlmClient`, without `Stream` machinery.
 *
 * A `Stream` costs a channel executor per run (and `Stream.run*` forks a fiber, two
 * deferreds and a scope); every combinator adds steps per element. The streams of the
 * built-in providers and of `LlmClient.chatStream` are therefore *native*: a `Stream` value
 * (so that anyone may run it as usual) that also carries, in a side table, how to open it as
 * a `Source` — one `pull` effect per network read, settled by undici's callbacks. Consumers
 * that know about sources (`LlmClient`, the Promise facade) open them directly; any other
 * stream is adapted by a producer fiber (`fromStream`).
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as LlmError from "../LlmError.js"

/**
 * A source of chunks.
 *
 * - `pull` gives the next chunk (never empty), or `undefined` at the end; it is not
 *   called again after the end or a failure, nor while a pull is under way.
 * - `abort` fails the pull under way (and every later one) with `cause` and releases what
 *   the source holds (an HTTP request is aborted). Synchronous: deadlines use it.
 * - `close` releases the source, awaiting the release of what it wraps; `exit` is how its
 *   consumer ended (as a stream finalizer sees it). Idempotent.
 */
export interface Source<A> {
  readonly pull: Effect.Effect<Array<A> | undefined, LlmError.LlmError>
  readonly abort: (cause: Cause.Cause<LlmError.LlmError>) => void
  readonly close: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void>
}

/** How a native stream is opened: runs in the consumer's fiber, never fails (pulls do). */
export type Open<A> = Effect.Effect<Source<A>>

/** Where a native stream keeps its opener (a property, not a side table: it is made per call). */
const OpenKey: unique symbol = Symbol.for("@llm-fiber/core/internal/source/Open")

interface Native<A> {
  readonly [OpenKey]?: Open<A> | undefined
}

/**
 * A `Stream` that is opened natively by consumers that know about sources, and runs as an
 * ordinary stream anywhere else (built lazily: most are never run as streams).
 */
export const native = <A>(open: Open<A>): Stream.Stream<A, LlmError.LlmError> => {
  const stream = Stream.suspend(() => toStream(open))
  ;(stream as { [OpenKey]?: Open<A> })[OpenKey] = open
  return stream
}

/** The native opener of a stream, if it has one. */
export const nativeOf = <A, E, R>(stream: Stream.Stream<A, E, R>): Open<A> | undefined => (stream as Native<A>)[OpenKey]

/** How to open any stream as a source: natively, else through a producer fiber. */
export const openOf = <A>(stream: Stream.Stream<A, LlmError.LlmError>): Open<A> =>
  (stream as Native<A>)[OpenKey] ?? fromStream(stream)

// -----------------------------------------------------------------------------
// sources as streams
// -----------------------------------------------------------------------------

type Loop<A> = Channel.Channel<Chunk.Chunk<A>, unknown, LlmError.LlmError, unknown, void, unknown>

const pullLoop = <A>(source: Source<A>): Loop<A> => {
  const loop: Loop<A> = Channel.flatMap(
    Channel.fromEffect(source.pull),
    (items): Loop<A> =>
      items === undefined ? Channel.void : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(items)), loop)
  )
  return loop
}

/** The source of `open` as a `Stream` (closed when the stream ends in any way). */
export const toStream = <A>(open: Open<A>): Stream.Stream<A, LlmError.LlmError> =>
  Stream.fromChannel(
    Channel.acquireUseRelease(
      open,
      pullLoop,
      (source, exit) => source.close(exit)
    )
  )

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

const noClose = (): Effect.Effect<void> => Effect.void

/** A source that fails on its first pull. */
export const failed = <A>(cause: Cause.Cause<LlmError.LlmError>): Source<A> => ({
  pull: Effect.failCause(cause),
  abort: () => {},
  close: noClose
})

/** A source of the given chunks. */
export const fromChunks = <A>(chunks: ReadonlyArray<Array<A>>): Source<A> => {
  let index = 0
  let aborted: Cause.Cause<LlmError.LlmError> | undefined
  return {
    pull: Effect.suspend(() => {
      if (aborted !== undefined) return Effect.failCause(aborted)
      while (index < chunks.length) {
        const chunk = chunks[index++]!
        if (chunk.length > 0) return Effect.succeed(chunk)
      }
      return Effect.succeed(undefined)
    }),
    abort: (cause) => {
      aborted = cause
    },
    close: noClose
  }
}

// -----------------------------------------------------------------------------
// combinators
// -----------------------------------------------------------------------------

/**
 * Map each chunk with a stateful, synchronous function. Output pushed before `f` (or
 * `onEnd`) throws an `LlmError` is delivered first, then the error; anything else thrown is
 * a defect.
 */
export const mapChunks = <A, B>(
  source: Source<A>,
  f: (items: Array<A>, out: Array<B>) => void,
  onEnd: (out: Array<B>) => void
): Source<B> => {
  let pending: Cause.Cause<LlmError.LlmError> | undefined
  let done = false
  const step = (items: Array<A> | undefined): Effect.Effect<Array<B> | undefined, LlmError.LlmError> => {
    const out: Array<B> = []
    try {
      if (items === undefined) {
        done = true
        onEnd(out)
      } else {
        f(items, out)
      }
    } catch (e) {
      const cause = LlmError.isLlmError(e) ? Cause.fail(e) : Cause.die(e)
      if (out.length === 0) return Effect.failCause(cause)
      pending = cause
      return Effect.succeed(out)
    }
    if (out.length > 0) return Effect.succeed(out)
    return done ? Effect.succeed(undefined) : pull
  }
  const pull: Effect.Effect<Array<B> | undefined, LlmError.LlmError> = Effect.suspend(() => {
    if (pending !== undefined) return Effect.failCause(pending)
    if (done) return Effect.succeed(undefined)
    return Effect.flatMap(source.pull, step)
  })
  return { pull, abort: source.abort, close: source.close }
}

/** Map the failures of a source. */
export const mapError = <A>(
  source: Source<A>,
  f: (error: LlmError.LlmError) => LlmError.LlmError
): Source<A> => ({
  pull: Effect.mapError(source.pull, f),
  abort: source.abort,
  close: source.close
})

/**
 * A source opened by an effect on its first pull (the effect runs in the consumer's
 * fiber). An `abort` before that makes the first pull fail without running it.
 */
export const deferred = <A>(open: Effect.Effect<Source<A>, LlmError.LlmError>): Source<A> => {
  let inner: Source<A> | undefined
  let aborted: Cause.Cause<LlmError.LlmError> | undefined
  let closed: Exit.Exit<unknown, unknown> | undefined
  const self: { pull: Source<A>["pull"]; readonly abort: Source<A>["abort"]; readonly close: Source<A>["close"] } = {
    pull: Effect.suspend(() => {
      if (aborted !== undefined) return Effect.failCause(aborted)
      if (inner !== undefined) return inner.pull
      return Effect.flatMap(
        Effect.uninterruptibleMask((restore) =>
          Effect.tap(restore(open), (source) =>
            Effect.suspend(() => {
              if (closed !== undefined) return source.close(closed)
              inner = source
              if (aborted !== undefined) source.abort(aborted)
              // later pulls go straight to the source (it fails them itself once aborted)
              else self.pull = source.pull
              return Effect.void
            }))
        ),
        (source) => source.pull
      )
    }),
    abort: (cause) => {
      if (aborted !== undefined) return
      aborted = cause
      inner?.abort(cause)
    },
    close: (exit) =>
      Effect.suspend(() => {
        closed ??= exit
        return inner === undefined ? Effect.void : inner.close(exit)
      })
  }
  return self
}

// -----------------------------------------------------------------------------
// any stream as a source: a producer fiber
// -----------------------------------------------------------------------------

class Handoff<A> implements Source<A> {
  fiber: Fiber.RuntimeFiber<void> | undefined = undefined
  private consumer: ((effect: Effect.Effect<Array<A> | undefined, LlmError.LlmError>) => void) | undefined = undefined
  private producer: ((effect: Effect.Effect<void>) => void) | undefined = undefined
  private demand = false
  private settled: Effect.Effect<Array<A> | undefined, LlmError.LlmError> | undefined = undefined

  /** The producer waits until a pull asks for a chunk. */
  readonly awaitDemand: Effect.Effect<void> = Effect.async((resume) => {
    if (this.demand) {
      this.demand = false
      resume(Effect.void)
    } else {
      this.producer = resume
    }
  })

  /** The producer hands over what it pulled. */
  deliver(result: Effect.Effect<Array<A> | undefined, LlmError.LlmError>): void {
    if (this.settled !== undefined) return
    const consumer = this.consumer
    if (consumer !== undefined) {
      this.consumer = undefined
      consumer(result)
    }
  }

  /** The producer is done (end or failure): later pulls get the same result. */
  settle(result: Effect.Effect<Array<A> | undefined, LlmError.LlmError>): void {
    if (this.settled !== undefined) return
    this.deliver(result)
    this.settled = result
  }

  readonly pull: Effect.Effect<Array<A> | undefined, LlmError.LlmError> = Effect.suspend(() =>
    this.settled !== undefined ? this.settled : this.wait
  )

  private readonly wait: Effect.Effect<Array<A> | undefined, LlmError.LlmError> = Effect.async((resume) => {
    this.consumer = resume
    const producer = this.producer
    if (producer !== undefined) {
      this.producer = undefined
      producer(Effect.void)
    } else {
      this.demand = true
    }
    return Effect.sync(() => {
      if (this.consumer === resume) this.consumer = undefined
    })
  })

  readonly abort = (cause: Cause.Cause<LlmError.LlmError>): void => {
    if (this.settled !== undefined) return
    this.settle(Effect.failCause(cause))
    this.fiber?.unsafeInterruptAsFork(FiberId.none)
  }

  readonly close = (): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (this.settled === undefined) this.settled = Effect.interrupt
      return this.fiber === undefined ? Effect.void : Effect.asVoid(Fiber.interrupt(this.fiber))
    })
}

/**
 * Any stream as a source: a daemon fiber pulls it (one chunk per pull asked for) and hands
 * the chunks over. It runs with the context of the fiber that opens it.
 */
export const fromStream = <A>(stream: Stream.Stream<A, LlmError.LlmError>): Open<A> =>
  Effect.suspend(() => {
    const handoff = new Handoff<A>()
    const producer = Effect.scoped(Effect.flatMap(Stream.toPull(stream), (pull) => {
      const next: Effect.Effect<void> = Effect.matchCauseEffect(pull, {
        onFailure: (cause) => {
          const failure = Cause.failureOption(cause)
          if (Option.isSome(failure) && Option.isNone(failure.value)) {
            handoff.settle(Effect.succeed(undefined))
          } else {
            handoff.settle(Effect.failCause(Cause.flatMap(
              cause,
              Option.match({
                onNone: () => Cause.empty,
                onSome: (e: LlmError.LlmError) => Cause.fail(e)
              })
            )))
          }
          return Effect.void
        },
        onSuccess: (chunk) => {
          // an empty chunk answers nothing: pull again for the same demand
          if (Chunk.isEmpty(chunk)) return next
          handoff.deliver(Effect.succeed(Chunk.toArray(chunk) as Array<A>))
          return loop
        }
      })
      const loop: Effect.Effect<void> = Effect.zipRight(handoff.awaitDemand, next)
      return loop
    }))
    return Effect.map(
      Effect.forkDaemon(Effect.onExit(producer, (exit) =>
        Effect.sync(() => {
          if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
            handoff.settle(Effect.failCause(exit.cause as Cause.Cause<LlmError.LlmError>))
          }
        }))),
      (fiber) => {
        handoff.fiber = fiber
        return handoff as Source<A>
      }
    )
  })
