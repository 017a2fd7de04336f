/**
 * `ProviderHttp.mapEvents` with one difference: when the mapping function throws an
 * `LlmError` part-way through a chunk of events, the events it produced before the
 * failure are emitted first, then the stream fails. (The core version drops them, so
 * the last deltas before an in-stream error — often in the same network read — would
 * be missing from the output and from the error's partial output.)
 *
 * @internal
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Sse from "@llm-fiber/core/Sse"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"

type Step<A> = Channel.Channel<
  Chunk.Chunk<A>,
  Chunk.Chunk<Sse.SseEvent>,
  LlmError.LlmError,
  LlmError.LlmError,
  unknown,
  unknown
>

const emitThen = <A>(out: Array<A>, next: Step<A>): Step<A> =>
  out.length === 0 ? next : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), next)

/** Map chunks of SSE events with a stateful, synchronous function (one step per chunk). */
export const mapEvents = <A>(
  events: Stream.Stream<Sse.SseEvent, LlmError.LlmError>,
  f: (event: Sse.SseEvent, out: Array<A>) => void,
  onEnd: (out: Array<A>) => void
): Stream.Stream<A, LlmError.LlmError> => {
  const fail = (e: unknown): Step<A> => LlmError.isLlmError(e) ? Channel.fail(e) : Channel.failCause(Cause.die(e))
  const loop: Step<A> = Channel.readWithCause({
    onInput: (input: Chunk.Chunk<Sse.SseEvent>) => {
      const out: Array<A> = []
      try {
        for (const event of input) f(event, out)
      } catch (e) {
        return emitThen(out, fail(e))
      }
      return emitThen(out, loop)
    },
    onFailure: (cause) => Channel.failCause(cause),
    onDone: () => {
      const out: Array<A> = []
      try {
        onEnd(out)
      } catch (e) {
        return emitThen(out, fail(e))
      }
      return emitThen(out, Channel.void)
    }
  })
  return Stream.pipeThroughChannelOrFail(events, Channel.suspend(() => loop))
}
