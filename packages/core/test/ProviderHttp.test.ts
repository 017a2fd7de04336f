import { HttpClientError, HttpClientRequest } from "@effect/platform"
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

describe("ProviderHttp.fromTransportError", () => {
  const request = HttpClientRequest.post("http://127.0.0.1:1/v1/chat/completions")
  const transport = (cause: unknown) => new HttpClientError.RequestError({ request, reason: "Transport", cause })
  const spec = { provider: "openai", model: "gpt-4o" }

  it("an undici connect timeout is a TimeoutError in the connect phase", () => {
    const error = ProviderHttp.fromTransportError(
      transport(Object.assign(new Error("Connect Timeout Error"), { code: "UND_ERR_CONNECT_TIMEOUT" })),
      spec,
      "request"
    )
    expect(error._tag).toBe("TimeoutError")
    expect(error._tag === "TimeoutError" && error.phase).toBe("connect")
    expect(error.retryable).toBe(true)
  })

  it("a refused or reset connection is a retryable NetworkError that says when it happened", () => {
    const refused = ProviderHttp.fromTransportError(
      transport(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })),
      spec,
      "request"
    )
    expect(refused).toMatchObject({ _tag: "NetworkError", code: "ECONNREFUSED", provider: "openai", model: "gpt-4o" })
    expect(refused.message).toContain("before a response arrived")
    const reset = ProviderHttp.fromTransportError(
      transport(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })),
      spec,
      "response"
    )
    expect(reset.message).toContain("while reading the response")
    expect(reset.retryable).toBe(true)
  })
})
