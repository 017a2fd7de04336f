import { describe, expect, it } from "@effect/vitest"
import {
  Catalog,
  ChatResult,
  LlmClient,
  LlmError,
  type Middleware,
  Provider,
  ProviderRegistry,
  ResponseCache,
  RetryPolicy,
  StreamEvent,
  Timeouts
} from "@llm-fiber/core"
import {
  Cause,
  Chunk,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Metric,
  Option,
  Schedule,
  Stream,
  TestClock,
  Tracer
} from "effect"

// A provider scripted per attempt, recording what it was asked. Kept local so the core's
// pipeline tests do not depend on @llm-fiber/testing.
type Step =
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "fail"; readonly error: LlmError.LlmError }
  | { readonly _tag: "events"; readonly events: ReadonlyArray<StreamEvent.StreamEvent> }
  | {
    readonly _tag: "eventsThenFail"
    readonly events: ReadonlyArray<StreamEvent.StreamEvent>
    readonly error: LlmError.LlmError
  }
  | { readonly _tag: "stall" }
  | { readonly _tag: "slowEvents"; readonly gapMs: number; readonly events: ReadonlyArray<StreamEvent.StreamEvent> }

const usage = { inputTokens: 100, outputTokens: 20, totalTokens: 120 }

const resultOf = (text: string, model: string, provider: string) =>
  new ChatResult.ChatResult({
    id: "r1",
    model,
    provider,
    text,
    message: ChatResult.assistantMessage(text, []),
    toolCalls: [],
    finishReason: "stop",
    usage,
    timing: { latencyMs: 5, ttfbMs: 3 }
  })

const eventsOf = (text: string, model: string, provider: string): Array<StreamEvent.StreamEvent> => [
  StreamEvent.start("r1", model, provider),
  ...text.split(" ").map((w, i) => StreamEvent.textDelta(i === 0 ? w : " " + w)),
  StreamEvent.finish("stop", { usage })
]

const scripted = (name: string, steps: Array<Step>) => {
  const calls: Array<Provider.Call> = []
  const next = (call: Provider.Call): Step => {
    calls.push(call)
    const step = steps.shift()
    if (step === undefined) throw new Error(`script of ${name} exhausted`)
    return step
  }
  const provider: Provider.Provider = {
    name,
    api: "test",
    capabilities: Provider.noCapabilities,
    chat: (call) =>
      Effect.suspend(() => {
        const step = next(call)
        switch (step._tag) {
          case "text":
            return Effect.succeed(resultOf(step.text, call.model, name))
          case "fail":
            return Effect.fail(step.error)
          case "stall":
          case "slowEvents":
            return Effect.never
          case "events":
          case "eventsThenFail":
            return Effect.succeed(StreamEvent.accumulateAll(step.events))
        }
      }),
    chatStream: (call) =>
      Stream.suspend(() => {
        const step = next(call)
        switch (step._tag) {
          case "text":
            return Stream.fromIterable(eventsOf(step.text, call.model, name))
          case "fail":
            return Stream.fail(step.error)
          case "stall":
            return Stream.never
          case "events":
            return Stream.fromIterable(step.events)
          case "eventsThenFail":
            return Stream.concat(Stream.fromIterable(step.events), Stream.fail(step.error))
          case "slowEvents":
            return Stream.fromIterable(step.events).pipe(
              Stream.rechunk(1),
              Stream.tap((e) => e._tag === "Start" ? Effect.void : Effect.sleep(Duration.millis(step.gapMs)))
            )
        }
      })
  }
  return { provider, calls }
}

const clientWith = (...providers: Array<Provider.Provider>) =>
  LlmClient.layer.pipe(
    Layer.provide(
      providers.reduce(
        (acc, p) => Layer.merge(acc, ProviderRegistry.register(Effect.succeed(p))),
        Layer.empty as Layer.Layer<never, never, ProviderRegistry.ProviderRegistry>
      )
    ),
    Layer.provide(ProviderRegistry.layer)
  )

const serverError = (message = "boom") => new LlmError.ServerError({ message, status: 503 })
const rateLimited = (retryAfterMs: number) =>
  new LlmError.RateLimitError({ message: "slow down", status: 429, retryAfterMs })

// Fast, deterministic retries for most tests: 10 ms apart.
const fastRetries = RetryPolicy.layer({ schedule: Schedule.spaced(Duration.millis(10)) })

describe("LlmClient.chat", () => {
  it.effect("routes by model name, prices the result and times it", () => {
    const { calls, provider } = scripted("openai", [{ _tag: "text", text: "hello there" }])
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      expect(result.text).toBe("hello there")
      expect(result.provider).toBe("openai")
      // 100 input tokens at $0.15/M + 20 output tokens at $0.60/M
      expect(result.cost?.totalUsd).toBeCloseTo(100 * 0.15e-6 + 20 * 0.6e-6, 12)
      expect(result.timing.ttfbMs).toBe(3)
      expect(calls).toHaveLength(1)
      expect(calls[0]!.model).toBe("gpt-4o-mini")
      expect(calls[0]!.attempt).toBe(1)
      expect(calls[0]!.request.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }])
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("an unpriced model has no cost (never a silent 0)", () => {
    const { provider } = scripted("ollama", [{ _tag: "text", text: "local" }])
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat({ model: "ollama:llama3.2:1b", messages: "hi" })
      expect(result.cost).toBeUndefined()
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("invalid input fails with InvalidRequestError before any provider call", () => {
    const { calls, provider } = scripted("openai", [])
    return Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o", messages: [], temperature: 9 }))
      expect(error._tag).toBe("InvalidRequestError")
      expect(calls).toHaveLength(0)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("an unconfigured provider names the variable to set", () => {
    const { provider } = scripted("ollama", [])
    return Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
      expect(error._tag).toBe("UnknownModelError")
      expect(error.message).toContain("OPENAI_API_KEY")
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("retries retryable errors with backoff driven by the Clock", () => {
    const { calls, provider } = scripted("openai", [
      { _tag: "fail", error: serverError() },
      { _tag: "fail", error: serverError() },
      { _tag: "text", text: "third time lucky" }
    ])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat({ model: "gpt-4o", messages: "hi" }))
      // default policy: full jitter under 500 ms, then under 1 s — nothing happens until time moves
      yield* TestClock.adjust(Duration.millis(0))
      expect(calls).toHaveLength(1)
      yield* TestClock.adjust(Duration.seconds(2))
      const result = yield* Fiber.join(fiber)
      expect(result.text).toBe("third time lucky")
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3])
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("each retry is an event on the call's span", () => {
    const { provider } = scripted("openai", [
      { _tag: "fail", error: rateLimited(100) },
      { _tag: "text", text: "ok" }
    ])
    const events: Array<{ span: string; name: string; attributes: Record<string, unknown> | undefined }> = []
    const recording = Tracer.make({
      span: (name, parent, context, links, startTime, kind) => {
        const span = native.span(name, parent, context, links, startTime, kind)
        const event = span.event.bind(span)
        span.event = (eventName, time, attributes) => {
          events.push({ span: name, name: eventName, attributes })
          event(eventName, time, attributes)
        }
        return span
      },
      context: (f) => f()
    })
    const native = Effect.runSync(Effect.tracer)
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat({ model: "gpt-4o", messages: "hi" }))
      yield* TestClock.adjust(Duration.millis(100))
      yield* Fiber.join(fiber)
      expect(events).toEqual([{
        span: "llm.chat",
        name: "llm.retry",
        attributes: { "llm.attempt": 1, "error.type": "RateLimitError", "llm.retry_after_ms": 100 }
      }])
    }).pipe(Effect.provide(clientWith(provider)), Effect.withTracer(recording))
  })

  it.effect("gives up after maxRetries (default 2) with the last error", () => {
    const { calls, provider } = scripted("openai", [
      { _tag: "fail", error: serverError("1") },
      { _tag: "fail", error: serverError("2") },
      { _tag: "fail", error: serverError("3") }
    ])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(LlmClient.chat({ model: "gpt-4o", messages: "hi" })))
      yield* TestClock.adjust(Duration.seconds(10))
      const error = yield* Fiber.join(fiber)
      expect(error.message).toBe("3")
      expect(error.provider).toBe("openai")
      expect(calls).toHaveLength(3)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("a request's maxRetries overrides the policy", () => {
    const { calls, provider } = scripted("openai", [{ _tag: "fail", error: serverError() }])
    return Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o", messages: "hi", maxRetries: 0 }))
      expect(error._tag).toBe("ServerError")
      expect(calls).toHaveLength(1)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("never retries non-retryable errors", () => {
    const { calls, provider } = scripted("openai", [
      { _tag: "fail", error: new LlmError.AuthenticationError({ message: "bad key", status: 401 }) }
    ])
    return Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o", messages: "hi" }))
      expect(error._tag).toBe("AuthenticationError")
      expect(calls).toHaveLength(1)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("waits exactly Retry-After before retrying", () => {
    const { calls, provider } = scripted("openai", [
      { _tag: "fail", error: rateLimited(5_000) },
      { _tag: "text", text: "ok" }
    ])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat({ model: "gpt-4o", messages: "hi" }))
      yield* TestClock.adjust(Duration.millis(4_999))
      expect(calls).toHaveLength(1)
      yield* TestClock.adjust(Duration.millis(1))
      const result = yield* Fiber.join(fiber)
      expect(result.text).toBe("ok")
      expect(calls).toHaveLength(2)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("a Retry-After longer than the cap fails at once, carrying the hint", () => {
    const { calls, provider } = scripted("openai", [{ _tag: "fail", error: rateLimited(120_000) }])
    return Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o", messages: "hi" }))
      expect(error._tag).toBe("RateLimitError")
      expect(error._tag === "RateLimitError" && error.retryAfterMs).toBe(120_000)
      expect(calls).toHaveLength(1)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("total timeout interrupts a stalled call with TimeoutError(total)", () => {
    const { calls, provider } = scripted("openai", [{ _tag: "stall" }])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.flip(LlmClient.chat({ model: "gpt-4o", messages: "hi", timeout: { totalMs: 1_000 }, maxRetries: 0 }))
      )
      yield* TestClock.adjust(Duration.millis(1_000))
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("TimeoutError")
      expect(error._tag === "TimeoutError" && error.phase).toBe("total")
      expect(calls).toHaveLength(1)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("falls back to the next model on a retryable failure", () => {
    const primary = scripted("openai", [{ _tag: "fail", error: serverError() }])
    const secondary = scripted("ollama", [{ _tag: "text", text: "from fallback" }])
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat({
        model: "gpt-4o",
        messages: "hi",
        maxRetries: 0,
        fallback: ["ollama:llama3.2"]
      })
      expect(result.text).toBe("from fallback")
      expect(result.provider).toBe("ollama")
      expect(result.fallbacks).toEqual([{ model: "gpt-4o", error: "ServerError", message: "boom" }])
      expect(primary.calls).toHaveLength(1)
      expect(secondary.calls[0]!.model).toBe("llama3.2")
    }).pipe(Effect.provide(clientWith(primary.provider, secondary.provider)))
  })

  it.effect("does not fall back on a non-retryable failure", () => {
    const primary = scripted("openai", [
      { _tag: "fail", error: new LlmError.InvalidRequestError({ message: "bad", status: 400 }) }
    ])
    const secondary = scripted("ollama", [{ _tag: "text", text: "never" }])
    return Effect.gen(function*() {
      const error = yield* Effect.flip(
        LlmClient.chat({ model: "gpt-4o", messages: "hi", fallback: ["ollama:llama3.2"] })
      )
      expect(error._tag).toBe("InvalidRequestError")
      expect(secondary.calls).toHaveLength(0)
    }).pipe(Effect.provide(clientWith(primary.provider, secondary.provider)))
  })

  it.effect("falls back on a context-length error only when the request opts in", () => {
    const tooLong = () => new LlmError.ContextLengthError({ message: "prompt is too long", status: 400 })
    const primary = scripted("openai", [{ _tag: "fail", error: tooLong() }, { _tag: "fail", error: tooLong() }])
    const secondary = scripted("ollama", [{ _tag: "text", text: "bigger window" }])
    return Effect.gen(function*() {
      const plain = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o", messages: "hi", fallback: ["ollama:big"] }))
      expect(plain._tag).toBe("ContextLengthError")
      expect(secondary.calls).toHaveLength(0)
      const opted = yield* LlmClient.chat({
        model: "gpt-4o",
        messages: "hi",
        fallback: ["ollama:big"],
        fallbackOn: ["ContextLengthError"]
      })
      expect(opted.text).toBe("bigger window")
      expect(opted.fallbacks?.map((f) => f.error)).toEqual(["ContextLengthError"])
    }).pipe(Effect.provide(clientWith(primary.provider, secondary.provider)))
  })

  it.effect("a stream that falls back before content says so on Finish", () => {
    const primary = scripted("openai", [{ _tag: "fail", error: serverError("down") }])
    const secondary = scripted("ollama", [{ _tag: "text", text: "streamed fallback" }])
    return Effect.gen(function*() {
      const result = yield* StreamEvent.accumulate(
        LlmClient.chatStream({ model: "gpt-4o", messages: "hi", maxRetries: 0, fallback: ["ollama:x"] })
      )
      expect(result.text).toBe("streamed fallback")
      expect(result.fallbacks).toEqual([{ model: "gpt-4o", error: "ServerError", message: "down" }])
    }).pipe(Effect.provide(clientWith(primary.provider, secondary.provider)))
  })

  it.effect("records metrics tagged by provider and model", () => {
    const { provider } = scripted("openai", [{ _tag: "text", text: "a" }, {
      _tag: "fail",
      error: new LlmError.NotFoundError({ message: "nope", status: 404 })
    }])
    return Effect.gen(function*() {
      yield* LlmClient.chat({ model: "gpt-4.1", messages: "hi" })
      yield* Effect.flip(LlmClient.chat({ model: "gpt-4.1", messages: "hi" }))
      // read the registry, whatever the order of the tags
      const counter = (name: string, tags: Record<string, string>) =>
        Effect.map(Metric.snapshot, (pairs) => {
          const pair = pairs.find((p) =>
            p.metricKey.name === name && p.metricKey.tags.length === Object.keys(tags).length &&
            p.metricKey.tags.every((t) => tags[t.key] === t.value)
          )
          return pair !== undefined && "count" in pair.metricState ? pair.metricState.count : undefined
        })
      expect(yield* counter("llm_requests_total", { provider: "openai", model: "gpt-4.1" })).toBe(2)
      expect(yield* counter("llm_errors_total", { provider: "openai", model: "gpt-4.1", error: "NotFoundError" })).toBe(
        1
      )
      expect(yield* counter("llm_tokens_input_total", { provider: "openai", model: "gpt-4.1" })).toBe(100)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("1-hour prompt-cache writes a provider reports are charged at their own rate", () => {
    const anthropic: Provider.Provider = {
      ...scripted("anthropic", []).provider,
      chat: (call) =>
        Effect.succeed(
          new ChatResult.ChatResult({
            ...resultOf("cached", call.model, "anthropic"),
            usage: { inputTokens: 1_000, outputTokens: 0, totalTokens: 1_000, cacheWriteTokens: 1_000 },
            providerMetadata: { anthropic: { cacheWrite1hTokens: 400 } }
          })
        )
    }
    const prices = Catalog.layer({
      models: {
        "claude-test": {
          provider: "anthropic",
          inputPerMTok: 3,
          outputPerMTok: 15,
          cachedInputPerMTok: 0.3,
          cacheWritePerMTok: 3.75,
          cacheWrite1hPerMTok: 6
        }
      }
    })
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat({ model: "anthropic:claude-test", messages: "hi" })
      // 600 tokens written for 5 minutes at $3.75/M + 400 for 1 hour at $6/M
      expect(result.cost?.totalUsd).toBeCloseTo((600 * 3.75 + 400 * 6) / 1e6, 12)
    }).pipe(Effect.provide(Layer.provide(clientWith(anthropic), prices)))
  })

  it.effect("middleware slots are used in the pipeline", () => {
    const { calls, provider } = scripted("openai", [])
    const cached = resultOf("from cache", "gpt-4o", "openai")
    const cache: Middleware.Middleware = {
      chat: () => Effect.succeed(cached),
      chatStream: () => Stream.fromIterable(StreamEvent.fromResult(cached))
    }
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat({ model: "gpt-4o", messages: "hi" })
      expect(result.text).toBe("from cache")
      const streamed = yield* StreamEvent.accumulate(LlmClient.chatStream({ model: "gpt-4o", messages: "hi" }))
      expect(streamed.text).toBe("from cache")
      expect(calls).toHaveLength(0)
    }).pipe(Effect.provide(clientWith(provider).pipe(Layer.provide(ResponseCache.layer(cache)))))
  })
})

describe("LlmClient.chatStream", () => {
  it.effect("streams events and ends with a priced Finish", () => {
    const { provider } = scripted("openai", [{ _tag: "text", text: "one two three" }])
    return Effect.gen(function*() {
      const events = Chunk.toArray(
        yield* Stream.runCollect(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hi" }))
      )
      expect(events.map((e) => e._tag)).toEqual(["Start", "TextDelta", "TextDelta", "TextDelta", "Finish"])
      const finish = events.at(-1)
      expect(finish?._tag === "Finish" && finish.cost?.totalUsd).toBeCloseTo(100 * 0.15e-6 + 20 * 0.6e-6, 12)
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("accumulate gives the same result chat gives", () => {
    const { provider } = scripted("openai", [{ _tag: "text", text: "same answer" }, {
      _tag: "text",
      text: "same answer"
    }])
    return Effect.gen(function*() {
      const viaChat = yield* LlmClient.chat({ model: "gpt-4o", messages: "hi" })
      const viaStream = yield* StreamEvent.accumulate(LlmClient.chatStream({ model: "gpt-4o", messages: "hi" }))
      expect({ ...viaStream, timing: undefined }).toEqual({ ...viaChat, timing: undefined })
    }).pipe(Effect.provide(clientWith(provider)))
  })

  it.effect("retries a stream that fails before any content", () => {
    const { calls, provider } = scripted("openai", [
      { _tag: "eventsThenFail", events: [StreamEvent.start("a", "gpt-4o", "openai")], error: serverError() },
      { _tag: "text", text: "recovered" }
    ])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Stream.runCollect(LlmClient.chatStream({ model: "gpt-4o", messages: "hi" })))
      yield* TestClock.adjust(Duration.millis(10))
      const events = Chunk.toArray(yield* Fiber.join(fiber))
      // the failed attempt's Start never reached the caller
      expect(events.filter((e) => e._tag === "Start")).toHaveLength(1)
      expect(StreamEvent.accumulateAll(events).text).toBe("recovered")
      expect(calls).toHaveLength(2)
    }).pipe(Effect.provide(Layer.provide(clientWith(provider), fastRetries)))
  })

  it.live("after content, a failure ends the stream with the partial output (no retry, no fallback)", () => {
    const primary = scripted("openai", [{
      _tag: "eventsThenFail",
      events: [StreamEvent.start("a", "gpt-4o", "openai"), StreamEvent.textDelta("Hello, wor")],
      error: new LlmError.ServerError({ message: "overloaded_error", status: 200 })
    }])
    const secondary = scripted("ollama", [{ _tag: "text", text: "never" }])
    return Effect.gen(function*() {
      const seen: Array<StreamEvent.StreamEvent> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(
          LlmClient.chatStream({ model: "gpt-4o", messages: "hi", fallback: ["ollama:x"] }),
          (e) => Effect.sync(() => void seen.push(e))
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const error = failureOf(exit)
      expect(error?._tag).toBe("ServerError")
      expect(error?.partial?.text).toBe("Hello, wor")
      expect(seen.map((e) => e._tag)).toEqual(["Start", "TextDelta"])
      expect(primary.calls).toHaveLength(1)
      expect(secondary.calls).toHaveLength(0)
    }).pipe(Effect.provide(Layer.provide(clientWith(primary.provider, secondary.provider), fastRetries)))
  })

  it.effect("first-event timeout, then idle timeout, with their phases", () => {
    const stall = scripted("openai", [{ _tag: "stall" }])
    const slow = scripted("ollama", [{
      _tag: "slowEvents",
      gapMs: 5_000,
      events: eventsOf("a b c", "m", "ollama")
    }])
    return Effect.gen(function*() {
      const first = yield* Effect.fork(Effect.flip(Stream.runDrain(LlmClient.chatStream({
        model: "gpt-4o",
        messages: "hi",
        maxRetries: 0,
        timeout: { firstByteMs: 2_000 }
      }))))
      yield* TestClock.adjust(Duration.millis(2_000))
      const e1 = yield* Fiber.join(first)
      expect(e1._tag === "TimeoutError" && e1.phase).toBe("first_byte")

      const idle = yield* Effect.fork(Effect.flip(Stream.runDrain(LlmClient.chatStream({
        model: "ollama:m",
        messages: "hi",
        maxRetries: 0,
        timeout: { firstByteMs: 10_000, idleMs: 1_000 }
      }))))
      yield* TestClock.adjust(Duration.millis(10_000))
      const e2 = yield* Fiber.join(idle)
      expect(e2._tag === "TimeoutError" && e2.phase).toBe("idle")
    }).pipe(Effect.provide(clientWith(stall.provider, slow.provider)))
  })

  it.effect("Timeouts layer sets client-wide defaults", () => {
    const { provider } = scripted("openai", [{ _tag: "stall" }])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.flip(Stream.runDrain(LlmClient.chatStream({ model: "gpt-4o", messages: "hi", maxRetries: 0 })))
      )
      yield* TestClock.adjust(Duration.millis(300))
      const error = yield* Fiber.join(fiber)
      expect(error._tag === "TimeoutError" && error.timeoutMs).toBe(300)
    }).pipe(Effect.provide(Layer.provide(clientWith(provider), Timeouts.layer({ firstByteMs: 300 }))))
  })

  it.effect("a provider's own timeouts override the client's; the request's override both", () => {
    const slow = {
      ...scripted("ollama", [{ _tag: "stall" }, { _tag: "stall" }]).provider,
      timeouts: { firstByteMs: 5_000 }
    }
    return Effect.gen(function*() {
      const byProvider = yield* Effect.fork(
        Effect.flip(Stream.runDrain(LlmClient.chatStream({ model: "ollama:m", messages: "hi", maxRetries: 0 })))
      )
      yield* TestClock.adjust(Duration.millis(300))
      // the client-wide 300 ms does not apply to this provider
      expect(yield* Fiber.poll(byProvider)).toEqual(Option.none())
      yield* TestClock.adjust(Duration.millis(4_700))
      const e1 = yield* Fiber.join(byProvider)
      expect(e1._tag === "TimeoutError" && e1.timeoutMs).toBe(5_000)

      const byRequest = yield* Effect.fork(Effect.flip(Stream.runDrain(
        LlmClient.chatStream({ model: "ollama:m", messages: "hi", maxRetries: 0, timeout: { firstByteMs: 100 } })
      )))
      yield* TestClock.adjust(Duration.millis(100))
      const e2 = yield* Fiber.join(byRequest)
      expect(e2._tag === "TimeoutError" && e2.timeoutMs).toBe(100)
    }).pipe(Effect.provide(Layer.provide(clientWith(slow), Timeouts.layer({ firstByteMs: 300 }))))
  })

  it.effect("interrupting a stream interrupts the provider stream", () => {
    let finalized = false
    const provider: Provider.Provider = {
      ...scripted("openai", []).provider,
      chatStream: () =>
        Stream.concat(
          Stream.make(StreamEvent.start("a", "m", "openai"), StreamEvent.textDelta("x")),
          Stream.never
        ).pipe(Stream.ensuring(Effect.sync(() => {
          finalized = true
        })))
    }
    return Effect.gen(function*() {
      const taken = yield* Stream.runCollect(
        Stream.take(LlmClient.chatStream({ model: "gpt-4o", messages: "hi" }), 2)
      )
      expect(Chunk.size(taken)).toBe(2)
      expect(finalized).toBe(true)
    }).pipe(Effect.provide(clientWith(provider)))
  })
})

const failureOf = (exit: Exit.Exit<unknown, LlmError.LlmError>): LlmError.LlmError | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
