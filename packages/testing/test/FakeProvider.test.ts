import { describe, expect, it } from "@effect/vitest"
import { LlmClient, LlmError, ProviderRegistry, StreamEvent } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Cause, Chunk, Effect, Exit, Fiber, Layer, Option, pipe, Stream, TestClock } from "effect"

const usage = { inputTokens: 10, outputTokens: 2 }
const serverError = () => new LlmError.ServerError({ message: "boom", status: 500 })

const collect = (request: Parameters<typeof LlmClient.chatStream>[0]) =>
  Effect.map(Stream.runCollect(LlmClient.chatStream(request)), Chunk.toReadonlyArray)

const tags = (events: ReadonlyArray<StreamEvent.StreamEvent>) => events.map((e) => e._tag)

describe("FakeProvider through the real LlmClient", () => {
  it.effect("answers chat with a scripted text, priced as the model it stands in for", () =>
    Effect.gen(function*() {
      const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      expect(result.text).toBe("Hello!")
      expect(result.provider).toBe("openai")
      expect(result.model).toBe("gpt-4o-mini")
      expect(result.finishReason).toBe("stop")
      expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 2, totalTokens: 12 })
      expect(result.cost?.totalUsd).toBeCloseTo((10 * 0.15 + 2 * 0.6) / 1e6)
      const calls = yield* FakeProvider.calls
      expect(calls).toHaveLength(1)
      expect(calls[0]!.operation).toBe("chat")
      expect(calls[0]!.attempt).toBe(1)
      expect(calls[0]!.model).toBe("gpt-4o-mini")
      expect(calls[0]!.request.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }])
      expect(yield* FakeProvider.remaining).toEqual([])
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.text("Hello!", { usage })] }))))

  it.effect("estimates usage when the step gives none", () =>
    Effect.gen(function*() {
      const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "12345678" })
      expect(result.usage).toEqual({ inputTokens: 2, outputTokens: 3, totalTokens: 5 })
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.text("twelve chars")] }))))

  it.effect("streams a stream step, and accumulates it for chat", () =>
    Effect.gen(function*() {
      const events = yield* collect({ model: "gpt-4o-mini", messages: "hi" })
      expect(tags(events)).toEqual(["Start", "TextDelta", "TextDelta", "TextDelta", "Finish"])
      expect(events.filter((e) => e._tag === "TextDelta").map((e) => e.text)).toEqual(["Hel", "lo ", "world"])
      const finish = events.at(-1) as StreamEvent.Finish
      expect(finish.finishReason).toBe("stop")
      expect(finish.cost).toBeDefined()
      const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      expect(result.text).toBe("Hello world")
      const calls = yield* FakeProvider.calls
      expect(calls.map((c) => c.operation)).toEqual(["stream", "chat"])
    }).pipe(Effect.provide(FakeProvider.layerClient({
      default: FakeProvider.stream(["Hel", "lo ", "world"])
    }))))

  it.effect("splits a text given to stream into word deltas", () =>
    Effect.gen(function*() {
      const events = yield* collect({ model: "gpt-4o-mini", messages: "hi" })
      expect(events.filter((e) => e._tag === "TextDelta").map((e) => e.text)).toEqual(["one ", "two ", "three"])
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.stream("one two three")] }))))

  it.effect("replays a text step as events for chatStream", () =>
    Effect.gen(function*() {
      const result = yield* StreamEvent.accumulate(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hi" }))
      expect(result.text).toBe("Hi there")
      expect(result.usage.totalTokens).toBe(12)
      expect(result.finishReason).toBe("stop")
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.text("Hi there", { usage })] }))))

  it.effect("answers with tool calls, for chat and for streams", () =>
    Effect.gen(function*() {
      const tools = [{ name: "get_weather", parameters: { type: "object" } }]
      const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "weather?", tools })
      expect(result.finishReason).toBe("tool_calls")
      expect(result.toolCalls).toEqual([
        { id: "call_fake_1_0", name: "get_weather", arguments: { city: "Paris" }, rawArguments: "{\"city\":\"Paris\"}" }
      ])
      const events = yield* collect({ model: "gpt-4o-mini", messages: "weather?", tools })
      expect(tags(events)).toEqual(["Start", "ToolCallStart", "ToolCallDelta", "ToolCallEnd", "Finish"])
      const end = events.find((e) => e._tag === "ToolCallEnd") as StreamEvent.ToolCallEnd
      expect(end.arguments).toEqual({ city: "Berlin" })
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [
        FakeProvider.toolCalls([{ name: "get_weather", arguments: { city: "Paris" } }]),
        FakeProvider.toolCalls([{ name: "get_weather", arguments: "{\"city\":\"Berlin\"}", id: "call_2" }])
      ]
    }))))

  it.effect("an error then a success: the pipeline retries after its backoff (TestClock)", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
      yield* TestClock.adjust("10 seconds")
      const result = yield* Fiber.join(fiber)
      expect(result.text).toBe("recovered")
      const calls = yield* FakeProvider.calls
      expect(calls.map((c) => c.attempt)).toEqual([1, 2])
      expect(calls.map((c) => c.index)).toEqual([1, 2])
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [FakeProvider.fail(serverError()), FakeProvider.text("recovered")]
    }))))

  it.effect("honours the provider's retryAfterMs", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
      yield* TestClock.adjust("1999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      expect((yield* FakeProvider.calls).length).toBe(1)
      yield* TestClock.adjust("1 millis")
      const result = yield* Fiber.join(fiber)
      expect(result.text).toBe("ok")
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [
        FakeProvider.fail(new LlmError.RateLimitError({ message: "slow down", status: 429, retryAfterMs: 2000 })),
        FakeProvider.text("ok")
      ]
    }))))

  it.effect("gives up after the default 2 retries with the typed error", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.either(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })))
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)
      expect(result._tag === "Left" && result.left._tag).toBe("ServerError")
      expect((yield* FakeProvider.calls).map((c) => c.attempt)).toEqual([1, 2, 3])
      expect(yield* FakeProvider.remaining).toHaveLength(1)
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [
        FakeProvider.fail(serverError()),
        FakeProvider.fail(serverError()),
        FakeProvider.fail(serverError()),
        FakeProvider.text("never reached")
      ]
    }))))

  it.effect("does not retry a non-retryable error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
      expect(error._tag).toBe("AuthenticationError")
      expect(error.provider).toBe("openai")
      expect((yield* FakeProvider.calls).length).toBe(1)
      expect(yield* FakeProvider.remaining).toHaveLength(1)
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [
        FakeProvider.fail(new LlmError.AuthenticationError({ message: "bad key", status: 401 })),
        FakeProvider.text("never reached")
      ]
    }))))

  it.effect("a stall hits the per-call total timeout (TestClock)", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.flip(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi", timeout: { totalMs: 1000 }, maxRetries: 0 }))
      )
      yield* TestClock.adjust("999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("TimeoutError")
      expect(error._tag === "TimeoutError" && error.phase).toBe("total")
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.stall()] }))))

  it.effect("a stall is retried like any timeout", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        LlmClient.chat({ model: "gpt-4o-mini", messages: "hi", timeout: { totalMs: 1000 } })
      )
      yield* TestClock.adjust("5 seconds")
      const result = yield* Fiber.join(fiber)
      expect(result.text).toBe("second try")
      expect((yield* FakeProvider.calls).map((c) => c.attempt)).toEqual([1, 2])
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [FakeProvider.stall(), FakeProvider.text("second try")]
    }))))

  it.effect("a stream that stalls after content ends with an idle TimeoutError carrying the partial text", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.flip(collect({ model: "gpt-4o-mini", messages: "hi", timeout: { idleMs: 500 } }))
      )
      yield* TestClock.adjust("500 millis")
      const error = yield* Fiber.join(fiber)
      expect(error._tag === "TimeoutError" && error.phase).toBe("idle")
      expect(error.partial?.text).toBe("partial ")
      expect((yield* FakeProvider.calls).length).toBe(1)
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.stallAfter(["partial "])] }))))

  it.effect("failAfter: a stream error after content is not retried and carries the partial output", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(collect({ model: "gpt-4o-mini", messages: "hi" }))
      expect(error._tag).toBe("ServerError")
      expect(error.partial?.text).toBe("Hello wor")
      expect((yield* FakeProvider.calls).length).toBe(1)
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [FakeProvider.failAfter(["Hello ", "wor"], serverError()), FakeProvider.text("never reached")]
    }))))

  it.effect("a stream error before any content is retried", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(collect({ model: "gpt-4o-mini", messages: "hi" }))
      yield* TestClock.adjust("10 seconds")
      const events = yield* Fiber.join(fiber)
      expect(events.filter((e) => e._tag === "TextDelta").map((e) => e.text).join("")).toBe("fine now")
      expect((yield* FakeProvider.calls).map((c) => [c.operation, c.attempt])).toEqual([["stream", 1], ["stream", 2]])
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [FakeProvider.failAfter([], serverError()), FakeProvider.stream("fine now")]
    }))))

  it.effect("delays and intervals run on the clock", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
      yield* TestClock.adjust("1 second")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      expect(result.timing.latencyMs).toBe(2000)

      const streamed = yield* Effect.fork(collect({ model: "gpt-4o-mini", messages: "hi" }))
      yield* TestClock.adjust("250 millis")
      expect(Option.isNone(yield* Fiber.poll(streamed))).toBe(true)
      yield* TestClock.adjust("100 millis")
      expect(tags(yield* Fiber.join(streamed))).toEqual(["Start", "TextDelta", "TextDelta", "Finish"])
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [
        FakeProvider.text("slow", { delay: "2 seconds" }),
        pipe(FakeProvider.stream(["a", "b"]), FakeProvider.withDelay(100), FakeProvider.withInterval("100 millis"))
      ]
    }))))

  it.effect("an exhausted script is a defect naming the call", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      const exit = yield* Effect.exit(LlmClient.chat({ model: "gpt-4o-mini", messages: "again" }))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      const defect = Exit.isFailure(exit) ? Cause.dieOption(exit.cause) : Option.none()
      expect(Option.isSome(defect) && defect.value).toBeInstanceOf(FakeProvider.ScriptExhaustedError)
      expect(Option.isSome(defect) && (defect.value as Error).message).toContain("script is exhausted at call 2")
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.text("only one")] }))))

  it.effect("function steps, a default step and push", () =>
    Effect.gen(function*() {
      expect((yield* LlmClient.chat({ model: "gpt-4o", messages: "hi" })).text).toBe("model gpt-4o, attempt 1")
      expect((yield* LlmClient.chat({ model: "gpt-4o", messages: "ping" })).text).toBe("Echo: ping")
      yield* FakeProvider.push(FakeProvider.text("pushed"))
      expect((yield* LlmClient.chat({ model: "gpt-4o", messages: "hi" })).text).toBe("pushed")
      expect((yield* LlmClient.chat({ model: "gpt-4o", messages: "pong" })).text).toBe("Echo: pong")
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [(call) => FakeProvider.text(`model ${call.model}, attempt ${call.attempt}`)],
      default: FakeProvider.echo
    }))))

  it.effect("falls back from one fake to another", () => {
    const Fakes = Layer.merge(
      FakeProvider.layer({ name: "openai", default: FakeProvider.fail(serverError()) }),
      ProviderRegistry.register(Effect.map(
        FakeProvider.make({ name: "anthropic", script: [FakeProvider.text("from claude")] }),
        (fake) => fake.provider
      ))
    )
    const Live = LlmClient.layer.pipe(Layer.provideMerge(Fakes), Layer.provide(ProviderRegistry.layer))
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat({
        model: "gpt-4o-mini",
        messages: "hi",
        maxRetries: 0,
        fallback: ["claude-haiku-4-5"]
      })
      expect(result.text).toBe("from claude")
      expect(result.provider).toBe("anthropic")
      expect((yield* FakeProvider.calls).length).toBe(1)
    }).pipe(Effect.provide(Live))
  })

  it.effect("embeddings are deterministic unit vectors", () =>
    Effect.gen(function*() {
      const result = yield* LlmClient.embed({ model: "text-embedding-3-small", input: ["a", "b", "a"] })
      expect(result.embeddings).toHaveLength(3)
      expect(result.embeddings[0]).toHaveLength(8)
      expect(result.embeddings[0]).toEqual(result.embeddings[2])
      expect(result.embeddings[0]).not.toEqual(result.embeddings[1])
      const norm = Math.hypot(...result.embeddings[0]!)
      expect(norm).toBeCloseTo(1, 4)
      expect((yield* FakeProvider.embedCalls).length).toBe(1)
    }).pipe(Effect.provide(FakeProvider.layerClient())))

  it.effect("an app's Effect<_, _, LlmClient> runs with just the one layer", () => {
    const app: Effect.Effect<string, LlmError.LlmError, LlmClient.LlmClient> = Effect.map(
      LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }),
      (r) => r.text.toUpperCase()
    )
    const runnable: Effect.Effect<string, LlmError.LlmError> = Effect.provide(
      app,
      FakeProvider.layerClient({ script: [FakeProvider.text("swapped in")] })
    )
    return Effect.map(runnable, (text) => expect(text).toBe("SWAPPED IN"))
  })
})
