import { describe, expect, it } from "@effect/vitest"
import { LlmError, ProviderHttp, type Sse } from "@llm-fiber/core"
import { Chunk, Effect, Either, Stream } from "effect"

const event = (data: string): Sse.SseEvent => ({ event: "message", data, id: "" })

describe("ProviderHttp.mapEvents", () => {
  // Regression: output produced before a throw in the same chunk used to be dropped, losing
  // the last deltas before an in-stream error.
  it.effect("emits what a chunk produced before the mapper threw, then fails", () =>
    Effect.gen(function*() {
      const events = Stream.fromChunk(Chunk.make(event("a"), event("b"), event("boom"), event("c")))
      const seen: Array<string> = []
      const result = yield* ProviderHttp.mapEvents<string>(events, (e, out) => {
        if (e.data === "boom") throw new LlmError.ServerError({ message: "in-stream error" })
        out.push(e.data)
      }, () => {}).pipe(
        Stream.runForEach((s) => Effect.sync(() => void seen.push(s))),
        Effect.either
      )
      expect(seen).toEqual(["a", "b"])
      expect(Either.isLeft(result) && result.left._tag).toBe("ServerError")
    }))

  it.effect("onEnd output is emitted, and an error thrown there fails after it", () =>
    Effect.gen(function*() {
      const ok = yield* Stream.runCollect(
        ProviderHttp.mapEvents<string>(Stream.make(event("x")), (e, out) => out.push(e.data), (out) => out.push("end"))
      )
      expect(Chunk.toArray(ok)).toEqual(["x", "end"])
      const seen: Array<string> = []
      const failed = yield* ProviderHttp.mapEvents<string>(Stream.make(event("x")), (e, out) =>
        out.push(e.data), (out) => {
        out.push("last")
        throw new LlmError.ProtocolError({ message: "no terminator" })
      }).pipe(
        Stream.runForEach((s) =>
          Effect.sync(() =>
            void seen.push(s)
          )
        ),
        Effect.either
      )
      expect(seen).toEqual(["x", "last"])
      expect(Either.isLeft(failed) && failed.left._tag).toBe("ProtocolError")
    }))

  it.effect("a non-LlmError thrown by the mapper is a defect", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Stream.runDrain(ProviderHttp.mapEvents(Stream.make(event("x")), () => {
        throw new TypeError("bug")
      }, () => {})))
      expect(exit._tag === "Failure" && exit.cause._tag).toBe("Die")
    }))
})
