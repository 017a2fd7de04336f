import { describe, expect, it } from "@effect/vitest"
import {
  ChatRequest,
  ChatResult,
  CircuitBreaker,
  LlmClient,
  LlmError,
  Metrics,
  Provider,
  ProviderRegistry,
  RateLimiter,
  StreamEvent,
  Tokenizer
} from "@llm-fiber/core"
import { Clock, Duration, Effect, Either, Exit, Fiber, Layer, Metric, Stream, TestClock } from "effect"

// A provider that records when (simulated time) and for which model it was called. The real
// usage it reports is `metadata.usage` (total tokens) when the request sets it, else 100.
interface Recorded {
  readonly model: string
  readonly at: number
}

const usageOf = (call: Provider.Call) => {
  const total = Number(call.request.metadata?.usage ?? "100")
  return { inputTokens: total, outputTokens: 0, totalTokens: total }
}

const recording = (name = "openai") => {
  const calls: Array<Recorded> = []
  const record = (call: Provider.Call) =>
    Effect.map(Clock.currentTimeMillis, (at) => {
      calls.push({ model: call.model, at })
    })
  const provider: Provider.Provider = {
    name,
    api: "test",
    capabilities: Provider.noCapabilities,
    chat: (call) =>
      Effect.as(
        record(call),
        new ChatResult.ChatResult({
          id: "r",
          model: call.model,
          provider: name,
          text: "ok",
          message: ChatResult.assistantMessage("ok", []),
          toolCalls: [],
          finishReason: "stop",
          usage: usageOf(call),
          timing: { latencyMs: 1 }
        })
      ),
    chatStream: (call) =>
      Stream.unwrap(Effect.as(
        record(call),
        Stream.fromIterable<StreamEvent.StreamEvent>([
          StreamEvent.start("r", call.model, name),
          StreamEvent.textDelta("ok"),
          StreamEvent.finish("stop", { usage: usageOf(call) })
        ])
      ))
  }
  return { provider, calls }
}

const client = (
  provider: Provider.Provider,
  limiter: Layer.Layer<RateLimiter.RateLimiter>,
  extra: Layer.Layer<never> = Layer.empty
) =>
  LlmClient.layer.pipe(
    Layer.provide(ProviderRegistry.register(Effect.succeed(provider))),
    Layer.provide(Layer.mergeAll(ProviderRegistry.layer, limiter, extra))
  )

/** A request whose estimate is `4 + 1` input tokens plus `maxTokens`. */
const ask = (model: string, options: { readonly estimate?: number; readonly usage?: number } = {}) => ({
  model,
  messages: "x",
  ...(options.estimate !== undefined ? { maxTokens: options.estimate - 5 } : {}),
  ...(options.usage !== undefined ? { metadata: { usage: String(options.usage) } } : {})
})

const rateLimitedCount = (provider: string, model: string) =>
  Effect.map(
    Metric.value(Metrics.rateLimited.pipe(Metric.tagged("provider", provider), Metric.tagged("model", model))),
    (state) => state.count
  )

const at = (calls: ReadonlyArray<Recorded>) => calls.map((c) => c.at)

describe("RateLimiter: requests per minute", () => {
  it.effect("wait mode delays the (N+1)th call until the window has room", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      const before = yield* rateLimitedCount("openai", "rpm-wait")
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 4 }, () => LlmClient.chat(ask("openai:rpm-wait"))), { concurrency: 4 })
      )
      yield* TestClock.adjust(Duration.millis(0))
      expect(at(calls)).toEqual([0, 0, 0])
      yield* TestClock.adjust(Duration.millis(59_999))
      expect(calls).toHaveLength(3)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(fiber)
      expect(at(calls)).toEqual([0, 0, 0, 60_000])
      expect((yield* rateLimitedCount("openai", "rpm-wait")) - before).toBe(1)
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 3 }], mode: "wait" }))))
  })

  it.effect("fail mode rejects with a local RateLimitError without calling the provider", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      const before = yield* rateLimitedCount("openai", "rpm-fail")
      yield* LlmClient.chat(ask("openai:rpm-fail"))
      yield* TestClock.adjust(Duration.seconds(10))
      yield* LlmClient.chat(ask("openai:rpm-fail"))
      const error = yield* Effect.flip(LlmClient.chat(ask("openai:rpm-fail")))
      expect(error._tag).toBe("RateLimitError")
      if (error._tag !== "RateLimitError") return
      expect(error.source).toBe("local")
      expect(error.retryable).toBe(false)
      expect(error.retryAfterMs).toBe(50_000) // the first call leaves the window at 60 s
      expect(error.provider).toBe("openai")
      expect(error.model).toBe("rpm-fail")
      expect(calls).toHaveLength(2)
      expect((yield* rateLimitedCount("openai", "rpm-fail")) - before).toBe(1)
      yield* TestClock.adjust(Duration.millis(50_000))
      yield* LlmClient.chat(ask("openai:rpm-fail"))
      expect(at(calls)).toEqual([0, 10_000, 60_000])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 2 }], mode: "fail" }))))
  })

  it.effect("maxWaitMs turns a long wait into a rejection", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:m"))
      const error = yield* Effect.flip(LlmClient.chat(ask("openai:m")))
      expect(error._tag).toBe("RateLimitError")
      expect(calls).toHaveLength(1)
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 1 }], maxWaitMs: 30_000 }))))
  })

  it.effect("100 concurrent calls never exceed the limit in any minute", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 100 }, () => LlmClient.chat(ask("openai:burst"))), {
          concurrency: "unbounded"
        })
      )
      for (let step = 0; step < 10 * 12; step++) yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(fiber)
      expect(calls).toHaveLength(100)
      const times = at(calls)
      for (const start of times) {
        expect(times.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(10)
      }
      for (let minute = 0; minute < 10; minute++) {
        expect(times.filter((t) => t >= minute * 60_000 && t < (minute + 1) * 60_000)).toHaveLength(10)
      }
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 10 }] }))))
  })

  it.effect("100 concurrent calls in fail mode: exactly the limit goes through", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      const results = yield* Effect.all(
        Array.from({ length: 100 }, () => Effect.either(LlmClient.chat(ask("openai:burst-fail")))),
        { concurrency: "unbounded" }
      )
      expect(results.filter(Either.isRight)).toHaveLength(10)
      expect(calls).toHaveLength(10)
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 10 }], mode: "fail" }))))
  })

  it.effect("a call interrupted while waiting gives its slot back", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:interrupted"))
      const waiting = yield* Effect.fork(LlmClient.chat(ask("openai:interrupted")))
      yield* TestClock.adjust(Duration.seconds(30))
      yield* Fiber.interrupt(waiting)
      yield* TestClock.adjust(Duration.seconds(30))
      yield* LlmClient.chat(ask("openai:interrupted"))
      expect(at(calls)).toEqual([0, 60_000])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 1 }] }))))
  })

  it.effect("a request that never left (open circuit) is not counted", () => {
    const { calls, provider } = recording()
    let open = true
    const breaker = CircuitBreaker.layer({
      chat: (info, next) =>
        open ? Effect.fail(new LlmError.CircuitOpenError({ message: "open", provider: info.provider })) : next,
      chatStream: (_info, next) => next
    })
    return Effect.gen(function*() {
      yield* Effect.flip(LlmClient.chat(ask("openai:breaker")))
      open = false
      yield* LlmClient.chat(ask("openai:breaker"))
      expect(at(calls)).toEqual([0])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 1 }] }), breaker)))
  })
})

describe("RateLimiter: tokens per minute", () => {
  it.effect("lower real usage gives capacity back: the next call goes through sooner", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      // 1000 estimated, 200 used: 200 + 1000 fit 1500
      yield* LlmClient.chat(ask("openai:refund", { estimate: 1000, usage: 200 }))
      yield* LlmClient.chat(ask("openai:refund", { estimate: 1000, usage: 1000 }))
      // 200 + 1000 in the window: the next 1000 waits for the first call to leave it
      const third = yield* Effect.fork(LlmClient.chat(ask("openai:refund", { estimate: 1000, usage: 1000 })))
      yield* TestClock.adjust(Duration.millis(59_999))
      expect(calls).toHaveLength(2)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(third)
      expect(at(calls)).toEqual([0, 0, 60_000])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ tpm: 1500 }] }))))
  })

  it.effect("higher real usage takes more: the next call waits", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      // 400 estimated, 1400 used: the next 400 no longer fits 1500
      yield* LlmClient.chat(ask("openai:charge", { estimate: 400, usage: 1400 }))
      const second = yield* Effect.fork(LlmClient.chat(ask("openai:charge", { estimate: 400 })))
      yield* TestClock.adjust(Duration.millis(0))
      expect(calls).toHaveLength(1)
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(second)
      expect(at(calls)).toEqual([0, 60_000])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ tpm: 1500 }] }))))
  })

  it.effect("fail mode: retryAfterMs is when the tokens come back", () => {
    const { provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:tpm-fail", { estimate: 600, usage: 600 }))
      yield* TestClock.adjust(Duration.seconds(15))
      const error = yield* Effect.flip(LlmClient.chat(ask("openai:tpm-fail", { estimate: 600 })))
      expect(error._tag === "RateLimitError" && error.retryAfterMs).toBe(45_000)
      expect(error.message).toContain("1000 tokens/min per model")
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ tpm: 1000 }], mode: "fail" }))))
  })

  it.effect("a call estimated above the limit waits for an empty window instead of forever", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:huge", { estimate: 100, usage: 100 }))
      const big = yield* Effect.fork(LlmClient.chat(ask("openai:huge", { estimate: 5000, usage: 5000 })))
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(big)
      expect(at(calls)).toEqual([0, 60_000])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ tpm: 1000 }] }))))
  })

  it.effect("streams are corrected with the usage of their Finish", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      const events = yield* Stream.runCollect(
        LlmClient.chatStream(ask("openai:stream", { estimate: 1000, usage: 200 }))
      )
      expect([...events].at(-1)?._tag).toBe("Finish")
      // without the correction 1000 + 1000 would not fit 1500
      yield* LlmClient.chat(ask("openai:stream", { estimate: 1000 }))
      expect(at(calls)).toEqual([0, 0])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ tpm: 1500 }] }))))
  })

  it.effect("a stream waits for its slot before the provider is called", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* Stream.runDrain(LlmClient.chatStream(ask("openai:stream-rpm")))
      const second = yield* Effect.fork(Stream.runCollect(LlmClient.chatStream(ask("openai:stream-rpm"))))
      yield* TestClock.adjust(Duration.seconds(30))
      expect(calls).toHaveLength(1)
      yield* TestClock.adjust(Duration.seconds(30))
      const events = yield* Fiber.join(second)
      expect(events.pipe((c) => [...c].map((e) => e._tag))).toEqual(["Start", "TextDelta", "Finish"])
      expect(at(calls)).toEqual([0, 60_000])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ rpm: 1 }] }))))
  })
})

describe("RateLimiter: scopes and overrides", () => {
  it.effect("per-model rule: two models do not share a window", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:a"))
      yield* LlmClient.chat(ask("openai:b"))
      const third = yield* Effect.fork(LlmClient.chat(ask("openai:a")))
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(third)
      expect(calls).toEqual([{ model: "a", at: 0 }, { model: "b", at: 0 }, { model: "a", at: 60_000 }])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ scope: "model", rpm: 1 }] }))))
  })

  it.effect("per-provider rule: two models share a window", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:a"))
      const second = yield* Effect.fork(LlmClient.chat(ask("openai:b")))
      yield* TestClock.adjust(Duration.seconds(60))
      yield* Fiber.join(second)
      expect(calls).toEqual([{ model: "a", at: 0 }, { model: "b", at: 60_000 }])
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ scope: "provider", rpm: 1 }] }))))
  })

  it.effect("a rule for one model overrides the general one; other providers are not limited", () => {
    const { calls, provider } = recording()
    const limiter = RateLimiter.layerMemory({
      rules: [
        { rpm: 1 },
        { model: "openai:big", rpm: 3 },
        { provider: "anthropic", rpm: 1 }
      ],
      mode: "fail"
    })
    return Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* LlmClient.chat(ask("openai:big"))
      expect((yield* Effect.flip(LlmClient.chat(ask("openai:big"))))._tag).toBe("RateLimitError")
      yield* LlmClient.chat(ask("openai:small"))
      expect((yield* Effect.flip(LlmClient.chat(ask("openai:small"))))._tag).toBe("RateLimitError")
      expect(calls).toHaveLength(4)
    }).pipe(Effect.provide(client(provider, limiter)))
  })

  it.effect("rules of different scopes all apply", () => {
    const { calls, provider } = recording()
    const limiter = RateLimiter.layerMemory({
      rules: [{ scope: "model", rpm: 2 }, { scope: "global", rpm: 3 }],
      mode: "fail"
    })
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:a"))
      yield* LlmClient.chat(ask("openai:a"))
      expect((yield* Effect.flip(LlmClient.chat(ask("openai:a"))))._tag).toBe("RateLimitError")
      yield* LlmClient.chat(ask("openai:b"))
      expect((yield* Effect.flip(LlmClient.chat(ask("openai:b"))))._tag).toBe("RateLimitError")
      expect(calls).toHaveLength(3)
    }).pipe(Effect.provide(client(provider, limiter)))
  })
})

describe("RateLimiter: store and options", () => {
  it.effect("layerDefault uses the RateLimiterStore in context", () => {
    const { calls, provider } = recording()
    const seen: Array<ReadonlyArray<RateLimiter.StoreLimit>> = []
    const store = Layer.succeed(RateLimiter.RateLimiterStore, {
      reserve: (request) => {
        seen.push(request.limits)
        return Effect.succeed({ _tag: "Reserved", waitMs: 0 } as const)
      },
      update: () => Effect.void
    })
    const limiter = RateLimiter.layerDefault({ rules: [{ rpm: 5, tpm: 1000 }], account: "team a" }).pipe(
      Layer.provide(store)
    )
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:custom", { estimate: 50 }))
      expect(calls).toHaveLength(1)
      expect(seen).toEqual([[
        { key: "llm-fiber:rate-limit:team%20a:model:openai:custom:requests", limit: 5, windowMs: 60_000, cost: 1 },
        { key: "llm-fiber:rate-limit:team%20a:model:openai:custom:tokens", limit: 1000, windowMs: 60_000, cost: 50 }
      ]])
    }).pipe(Effect.provide(client(provider, limiter)))
  })

  it.effect("a failing store lets calls through (fail open)", () => {
    const { calls, provider } = recording()
    const store = Layer.succeed(RateLimiter.RateLimiterStore, {
      reserve: () => Effect.fail(new RateLimiter.RateLimiterStoreError({ message: "down" })),
      update: () => Effect.fail(new RateLimiter.RateLimiterStoreError({ message: "down" }))
    })
    const limiter = RateLimiter.layerDefault({ rules: [{ rpm: 1 }] }).pipe(Layer.provide(store))
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask("openai:x"))
      yield* LlmClient.chat(ask("openai:x"))
      expect(calls).toHaveLength(2)
    }).pipe(Effect.provide(client(provider, limiter)))
  })

  it.effect("invalid options are a defect when the layer is built", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(RateLimiter.layerMemory({ rules: [{ rpm: 0 }] })).pipe(Effect.scoped))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("rules[0].rpm must be a positive number")
    }))

  it("estimateTokens: characters / 4 of messages, tools and schema, plus the output allowance", () => {
    const request = ChatRequest.make({
      model: "m",
      messages: [["system", "a".repeat(40)], ["user", "b".repeat(40)]],
      tools: [{ name: "t", parameters: { type: "object" } }]
    })
    if (Either.isLeft(request)) throw request.left
    const tools = 1 + JSON.stringify({ type: "object" }).length
    expect(RateLimiter.estimateTokens(request.right)).toBe(2 * 4 + Math.ceil((80 + tools) / 4) + 1024)
    expect(RateLimiter.estimateTokens(request.right, { charsPerToken: 2, defaultOutputTokens: 10 })).toBe(
      2 * 4 + Math.ceil((80 + tools) / 2) + 10
    )
  })
})

describe("RateLimiter: token counts from the Tokenizer", () => {
  // "Hello!" to gpt-4o: 9 input tokens exactly (3 + "user" + 2 + 3), 6 by the estimate (4 + 6 / 4)
  const hello = { model: "openai:gpt-4o", messages: "Hello!", maxTokens: 10, metadata: { usage: "19" } }

  it.effect("an OpenAI model is counted exactly: 19 + 19 does not fit 35", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(hello)
      const error = yield* Effect.flip(LlmClient.chat(hello))
      expect(error._tag).toBe("RateLimitError")
      expect(calls).toHaveLength(1)
    }).pipe(Effect.provide(client(provider, RateLimiter.layerMemory({ rules: [{ tpm: 35 }], mode: "fail" }))))
  })

  it.effect("with Tokenizer.layerEstimate the same calls are estimated (16): 19 + 16 fits 35", () => {
    const { calls, provider } = recording()
    return Effect.gen(function*() {
      yield* LlmClient.chat(hello)
      yield* LlmClient.chat(hello)
      expect(calls).toHaveLength(2)
    }).pipe(Effect.provide(client(
      provider,
      RateLimiter.layerMemory({ rules: [{ tpm: 35 }], mode: "fail" }).pipe(Layer.provide(Tokenizer.layerEstimate))
    )))
  })

  it.effect("an exact count wins over the estimate options; they still apply to other models", () => {
    const { calls, provider } = recording()
    const limiter = RateLimiter.layerMemory({ rules: [{ tpm: 38 }], mode: "fail", charsPerToken: 1 })
    return Effect.gen(function*() {
      // exact: 19 + 19 = 38 fits (the estimate with 1 char per token would be 4 + 6 + 10 = 20)
      yield* LlmClient.chat(hello)
      yield* LlmClient.chat(hello)
      expect(calls).toHaveLength(2)
      // another model: 4 + 30 chars / 1 + 4 = 38 fits an empty window of its own, not twice
      const other = { model: "openai:m", messages: "x".repeat(30), maxTokens: 4, metadata: { usage: "38" } }
      yield* LlmClient.chat(other)
      const error = yield* Effect.flip(LlmClient.chat(other))
      expect(error._tag).toBe("RateLimitError")
      expect(calls).toHaveLength(3)
    }).pipe(Effect.provide(client(provider, limiter)))
  })

  it.effect("estimateTokens replaces the count: the Tokenizer is not asked", () => {
    const { calls, provider } = recording()
    let asked = 0
    const counting = Tokenizer.layer({
      name: "counting",
      countRequest: () => Effect.sync(() => ({ inputTokens: ++asked, exact: true })),
      countText: () => Effect.succeed({ tokens: 0, exact: true })
    })
    return Effect.gen(function*() {
      yield* LlmClient.chat(hello)
      expect(calls).toHaveLength(1)
      expect(asked).toBe(0)
    }).pipe(Effect.provide(client(
      provider,
      RateLimiter.layerMemory({ rules: [{ tpm: 35 }], estimateTokens: () => 5 }).pipe(Layer.provide(counting))
    )))
  })
})
