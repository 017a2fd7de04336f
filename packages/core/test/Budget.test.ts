import { describe, expect, it } from "@effect/vitest"
import {
  Budget,
  CallContext,
  Catalog,
  ChatRequest,
  LlmClient,
  LlmError,
  Metrics,
  StreamEvent,
  Tokenizer,
  Usage
} from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Duration, Effect, Either, Exit, Fiber, Layer, Logger, Metric, Stream, TestClock } from "effect"

// -----------------------------------------------------------------------------
// setup
// -----------------------------------------------------------------------------

// Prices that make the arithmetic readable: 1 µUSD per input token, 2 per output token.
const Prices = Catalog.layer({
  models: {
    "test-model": { provider: "openai", inputPerMTok: 1, outputPerMTok: 2 },
    "capped-model": { provider: "openai", inputPerMTok: 1, outputPerMTok: 2, maxOutputTokens: 1_000 },
    "cached-model": { provider: "openai", inputPerMTok: 1, outputPerMTok: 2, cacheWritePerMTok: 3 }
  }
})

/**
 * A request whose worst case is 14 input tokens (4 per message + 40 characters / 4: the
 * estimate, "test-model" has no tokenizer) + 100 output tokens = 14 + 200 = 214 µUSD.
 */
const ask = (extra: Partial<ChatRequest.Input> = {}): ChatRequest.Input => ({
  model: "openai:test-model",
  messages: "x".repeat(40),
  maxTokens: 100,
  ...extra
})
const worstMicro = 214
const worstTokens = 114

/** The provider's answer: 14 in, 50 out = 14 + 100 = 114 µUSD, 64 tokens. */
const reply = FakeProvider.text("ok", { usage: { inputTokens: 14, outputTokens: 50 } })
const actualMicro = 114
const actualTokens = 64

const client = (budget: Layer.Layer<Budget.Budget>, fake: FakeProvider.Options = { default: reply }) =>
  FakeProvider.layerClient(fake).pipe(Layer.provideMerge(budget), Layer.provide(Prices))

const rejections = (model: string) =>
  Effect.map(
    Metric.value(Metrics.budgetRejections.pipe(Metric.tagged("provider", "openai"), Metric.tagged("model", model))),
    (state) => state.count
  )

const micro = (usd: number | undefined) => Math.round((usd ?? 0) * 1e6)

const used = (scope: Budget.Scope) =>
  Effect.map(Budget.usage(scope), (balances) => balances.map((b) => [b.window, micro(b.usedUsd), b.usedTokens]))

const isBudgetError = (u: unknown): u is LlmError.BudgetExceededError => u instanceof LlmError.BudgetExceededError

// -----------------------------------------------------------------------------
// per-call ceilings
// -----------------------------------------------------------------------------

describe("Budget: cost ceilings", () => {
  it.effect("a call above its ceiling is rejected before the provider is called, with the estimate", () =>
    Effect.gen(function*() {
      const before = yield* rejections("test-model")
      const error = yield* Effect.flip(LlmClient.chat(ask({ costCeilingUsd: 0.0002 })))
      expect(error._tag).toBe("BudgetExceededError")
      if (!isBudgetError(error)) return
      expect(error.scope).toBe("call")
      expect(micro(error.estimateUsd)).toBe(worstMicro)
      expect(error.limitUsd).toBe(0.0002)
      expect(error.estimateTokens).toBe(worstTokens)
      expect(error.retryable).toBe(false)
      expect(error.provider).toBe("openai")
      expect(error.model).toBe("test-model")
      expect(error.message).toContain("0.000214 USD")
      expect(error.message).toContain("14 input tokens (estimated) + 100 output tokens")
      expect(error.message).toContain("nothing was sent")
      expect(yield* FakeProvider.calls).toHaveLength(0)
      expect((yield* rejections("test-model")) - before).toBe(1)
    }).pipe(Effect.provide(client(Budget.layerMemory()))))

  it.effect("an exact fit is allowed; one micro-dollar less is not", () =>
    Effect.gen(function*() {
      const fits = yield* LlmClient.chat(ask({ costCeilingUsd: 0.000214 }))
      expect(micro(fits.cost?.totalUsd)).toBe(actualMicro)
      const error = yield* Effect.flip(LlmClient.chat(ask({ costCeilingUsd: 0.000213 })))
      expect(error._tag).toBe("BudgetExceededError")
      expect(yield* FakeProvider.calls).toHaveLength(1)
    }).pipe(Effect.provide(client(Budget.layerMemory()))))

  it.effect("options.costCeilingUsd applies to every call; a request's own ceiling wins", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat(ask()))
      expect(isBudgetError(error) && error.limitUsd).toBe(0.0001)
      yield* LlmClient.chat(ask({ costCeilingUsd: 0.001 }))
      // a smaller output allowance fits the default ceiling: 14 + 2 * 40 = 94 µUSD
      yield* LlmClient.chat(ask({ maxTokens: 40 }))
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(client(Budget.layerMemory({ costCeilingUsd: 0.0001 })))))

  it.effect("an OpenAI model is priced from its exact input count and the catalog", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        LlmClient.chat({ model: "gpt-4o-mini", messages: "Hello!", maxTokens: 1_000, costCeilingUsd: 0.0001 })
      )
      if (!isBudgetError(error)) return expect.unreachable()
      // 9 input tokens (exact) at 0.15 $/MTok + 1,000 output tokens at 0.6 $/MTok
      const expected = (9 * 0.15 + 1_000 * 0.6) / 1e6
      expect(error.estimateUsd).toBeCloseTo(expected, 12)
      expect(error.estimateTokens).toBe(1_009)
      expect(error.message).toContain("9 input tokens + 1,000 output tokens")
      expect(yield* FakeProvider.calls).toHaveLength(0)
    }).pipe(Effect.provide(client(Budget.layerMemory()))))

  it.effect("without maxTokens the output allowance is 4,096, capped at the model's maximum output", () =>
    Effect.gen(function*() {
      const request = (model: string) => Either.getOrThrow(ChatRequest.make({ model, messages: "x".repeat(40) }))
      const plain = yield* Budget.estimate(request("test-model"), { provider: "openai", model: "test-model" })
      expect({ ...plain, usd: micro(plain.usd) }).toEqual({
        inputTokens: 14,
        exactInput: false,
        outputTokens: 4_096,
        usd: 14 + 2 * 4_096
      })
      const capped = yield* Budget.estimate(request("capped-model"), { provider: "openai", model: "capped-model" })
      expect(capped.outputTokens).toBe(1_000)
      const own = yield* Budget.estimate(request("test-model"), { provider: "openai", model: "test-model" }, {
        defaultOutputTokens: 10
      })
      expect(own.outputTokens).toBe(10)
      // the ceiling uses the same allowance: 14 + 2 * 4,096 µUSD
      const error = yield* Effect.flip(LlmClient.chat(ask({ maxTokens: undefined, costCeilingUsd: 0.008 })))
      expect(isBudgetError(error) && micro(error.estimateUsd)).toBe(14 + 2 * 4_096)
    }).pipe(Effect.provide(client(Budget.layerMemory())), Effect.provide(Prices)))

  it.effect("a prompt-cache hint is priced at the cache-write rate (worst case)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        LlmClient.chat(ask({ model: "openai:cached-model", cache: {}, costCeilingUsd: 0.000001 }))
      )
      // 14 input tokens written at 3 µUSD + 100 output at 2
      expect(isBudgetError(error) && micro(error.estimateUsd)).toBe(14 * 3 + 200)
    }).pipe(Effect.provide(client(Budget.layerMemory()))))

  it.effect("a model without a price: rejected under a ceiling by default, with a clear message", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat(ask({ model: "openai:unpriced", costCeilingUsd: 1 })))
      if (!isBudgetError(error)) return expect.unreachable()
      expect(error.scope).toBe("call")
      expect(error.estimateUsd).toBeUndefined()
      expect(error.message).toContain("has no price in the Catalog")
      expect(error.message).toContain("onUnknownPrice")
      expect(yield* FakeProvider.calls).toHaveLength(0)
    }).pipe(Effect.provide(client(Budget.layerMemory()))))

  it.effect("onUnknownPrice: \"allow\" lets an unpriced call through (token limits still count it)", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat(ask({ model: "openai:unpriced", costCeilingUsd: 1 }))
      yield* LlmClient.chat(ask({ model: "openai:unpriced" }))
      expect(yield* FakeProvider.calls).toHaveLength(2)
      expect(yield* used("client")).toEqual([["day", 0, 2 * actualTokens]])
    }).pipe(Effect.provide(client(Budget.layerMemory({
      onUnknownPrice: "allow",
      limits: [{ scope: "client", window: "day", usd: 1, tokens: 1_000 }]
    })))))

  it.effect("a model without a price under a USD limit is rejected by default", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat(ask({ model: "openai:unpriced" })))
      if (!isBudgetError(error)) return expect.unreachable()
      expect(error.scope).toBe("client")
      expect(error.window).toBe("day")
      expect(error.message).toContain("daily USD budget of the client cannot be checked")
      expect(yield* FakeProvider.calls).toHaveLength(0)
    }).pipe(Effect.provide(client(Budget.layerMemory({ limits: [{ scope: "client", window: "day", usd: 1 }] })))))

  it.effect("without a Budget layer a request's ceiling is still enforced; layerDisabled turns it off", () =>
    Effect.gen(function*() {
      const fake = yield* FakeProvider.FakeProvider
      const error = yield* Effect.flip(LlmClient.chat(ask({ costCeilingUsd: 0.0002 })))
      expect(error._tag).toBe("BudgetExceededError")
      expect(yield* fake.calls).toHaveLength(0)
      const events = yield* Effect.either(Stream.runCollect(LlmClient.chatStream(ask({ costCeilingUsd: 0.0002 }))))
      expect(Either.isLeft(events) && events.left._tag).toBe("BudgetExceededError")
      expect(yield* fake.calls).toHaveLength(0)
    }).pipe(
      Effect.provide(FakeProvider.layerClient({ default: reply })),
      // the default slot reads the Catalog of the calling fiber
      Effect.provide(Prices)
    ))

  it.effect("layerDisabled passes every call through", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat(ask({ costCeilingUsd: 0.0002 }))
      expect(yield* FakeProvider.calls).toHaveLength(1)
    }).pipe(Effect.provide(client(Budget.layerDisabled))))

  it.effect("a stream above its ceiling fails before the provider is called", () =>
    Effect.gen(function*() {
      const before = yield* rejections("test-model")
      const exit = yield* Effect.exit(Stream.runCollect(LlmClient.chatStream(ask({ costCeilingUsd: 0.0001 }))))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(yield* FakeProvider.calls).toHaveLength(0)
      expect((yield* rejections("test-model")) - before).toBe(1)
    }).pipe(Effect.provide(client(Budget.layerMemory()))))
})

// -----------------------------------------------------------------------------
// aggregate budgets
// -----------------------------------------------------------------------------

describe("Budget: aggregate limits", () => {
  it.effect("a per-user daily budget: each user has their own counter", () =>
    Effect.gen(function*() {
      const asUser = (userId: string) => LlmClient.withContext({ userId })
      // reservations of 214 settle to 114: 0 → 114 → 228 → 342; the 4th needs 342 + 214 > 500
      for (let i = 0; i < 3; i++) yield* LlmClient.chat(ask()).pipe(asUser("u-1"))
      const error = yield* Effect.flip(LlmClient.chat(ask()).pipe(asUser("u-1")))
      if (!isBudgetError(error)) return expect.unreachable()
      expect(error.scope).toBe("user:u-1")
      expect(error.window).toBe("day")
      expect(error.limitUsd).toBe(0.0005)
      expect(micro(error.remainingUsd)).toBe(500 - 3 * actualMicro)
      expect(micro(error.estimateUsd)).toBe(worstMicro)
      expect(error.message).toContain("the daily budget of user \"u-1\" cannot fit this call")
      // another user, and a call without a user, are not held back
      yield* LlmClient.chat(ask()).pipe(asUser("u-2"))
      yield* LlmClient.chat(ask())
      // a request's own `user` counts as the user too
      yield* LlmClient.chat(ask({ user: "u-3" }))
      expect(yield* FakeProvider.calls).toHaveLength(6)
      expect(yield* used({ user: "u-1" })).toEqual([["day", 3 * actualMicro, 3 * actualTokens]])
      expect(yield* used({ user: "u-2" })).toEqual([["day", actualMicro, actualTokens]])
      expect(yield* used({ user: "u-3" })).toEqual([["day", actualMicro, actualTokens]])
    }).pipe(Effect.provide(client(Budget.layerMemory({ limits: [{ scope: "user", window: "day", usd: 0.0005 }] })))))

  it.effect("a per-tag budget counts the calls whose bound context carries the tag", () =>
    Effect.gen(function*() {
      const tagged = CallContext.bind({ tags: ["checkout"] })
      yield* LlmClient.chat(ask()).pipe(tagged)
      yield* LlmClient.chat(ask()).pipe(tagged)
      const error = yield* Effect.flip(LlmClient.chat(ask()).pipe(tagged))
      expect(isBudgetError(error) && [error.scope, error.window]).toEqual(["tag:checkout", "hour"])
      // nested contexts add tags up: still counted
      const nested = yield* Effect.flip(
        LlmClient.chat(ask()).pipe(CallContext.bind({ tags: ["other"] }), tagged)
      )
      expect(nested._tag).toBe("BudgetExceededError")
      // calls without the tag are not
      yield* LlmClient.chat(ask()).pipe(CallContext.bind({ tags: ["search"] }))
      yield* LlmClient.chat(ask())
      expect(yield* FakeProvider.calls).toHaveLength(4)
      expect(yield* used({ tag: "checkout" })).toEqual([["hour", 2 * actualMicro, 2 * actualTokens]])
      expect(yield* used({ tag: "search" })).toEqual([])
    }).pipe(Effect.provide(client(Budget.layerMemory({
      limits: [{ scope: { tag: "checkout" }, window: "hour", usd: 0.0004 }]
    })))))

  it.effect("token limits: a call reserves its input and output allowance", () =>
    Effect.gen(function*() {
      // 114 reserved, 64 used: 64 → 128 → 192; then 192 + 114 > 300
      for (let i = 0; i < 3; i++) yield* LlmClient.chat(ask())
      const error = yield* Effect.flip(LlmClient.chat(ask()))
      if (!isBudgetError(error)) return expect.unreachable()
      expect([error.scope, error.window, error.limitTokens, error.remainingTokens, error.estimateTokens]).toEqual([
        "client",
        "minute",
        300,
        300 - 3 * actualTokens,
        worstTokens
      ])
      expect(error.message).toContain("192 of 300 tokens used or reserved")
    }).pipe(
      Effect.provide(client(Budget.layerMemory({ limits: [{ scope: "client", window: "minute", tokens: 300 }] })))
    ))

  it.effect("every matching limit must fit: client, user and tag at once", () =>
    Effect.gen(function*() {
      const ctx = CallContext.bind({ userId: "u-1", tags: ["t"] })
      yield* LlmClient.chat(ask()).pipe(ctx)
      expect(yield* used("client")).toEqual([["month", actualMicro, actualTokens]])
      expect(yield* used({ user: "u-1" })).toEqual([["day", actualMicro, actualTokens]])
      expect(yield* used({ tag: "t" })).toEqual([["total", actualMicro, actualTokens]])
      // the tag's total budget is the tightest: 114 + 214 > 300
      const error = yield* Effect.flip(LlmClient.chat(ask()).pipe(ctx))
      expect(isBudgetError(error) && [error.scope, error.window]).toEqual(["tag:t", "total"])
      // nothing was recorded in the others by the rejected call
      expect(yield* used("client")).toEqual([["month", actualMicro, actualTokens]])
      expect(yield* used({ user: "u-1" })).toEqual([["day", actualMicro, actualTokens]])
    }).pipe(Effect.provide(client(Budget.layerMemory({
      limits: [
        { scope: "client", window: "month", usd: 1 },
        { scope: "user", window: "day", usd: 0.01 },
        { scope: { tag: "t" }, window: "total", usd: 0.0003 }
      ]
    })))))

  it.effect("limits of the same scope and window share one counter; the lowest of each unit wins", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat(ask())
      const error = yield* Effect.flip(LlmClient.chat(ask()))
      expect(isBudgetError(error) && [error.limitUsd, error.limitTokens]).toEqual([0.0003, 1_000])
      const balances = yield* Budget.remaining("client")
      expect(balances.map((b) => [b.window, b.limitUsd, b.limitTokens, micro(b.usedUsd)])).toEqual([
        ["day", 0.0003, 1_000, actualMicro]
      ])
    }).pipe(Effect.provide(client(Budget.layerMemory({
      limits: [
        { scope: "client", window: "day", usd: 1, tokens: 1_000 },
        { scope: "client", window: "day", usd: 0.0003 }
      ]
    })))))

  it.effect("windows are calendar periods in UTC and roll over (TestClock)", () =>
    Effect.gen(function*() {
      // 23:59:30 on 1970-01-01
      yield* TestClock.setTime(Date.UTC(1970, 0, 1, 23, 59, 30))
      yield* LlmClient.chat(ask())
      yield* LlmClient.chat(ask())
      expect((yield* Effect.flip(LlmClient.chat(ask())))._tag).toBe("BudgetExceededError")
      const [minute, day] = yield* Budget.remaining("client")
      expect([minute!.period, minute!.resetsAt, day!.period, day!.resetsAt]).toEqual([
        "1970-01-01T23:59",
        Date.UTC(1970, 0, 2),
        "1970-01-01",
        Date.UTC(1970, 0, 2)
      ])
      // the next minute is also the next day: both counters start again
      yield* TestClock.adjust(Duration.seconds(30))
      yield* LlmClient.chat(ask())
      const after = yield* Budget.remaining("client")
      expect(after.map((b) => [b.period, micro(b.usedUsd), micro(b.remainingUsd)])).toEqual([
        ["1970-01-02T00:00", actualMicro, 400 - actualMicro],
        ["1970-01-02", actualMicro, 1_000 - actualMicro]
      ])
      expect(yield* FakeProvider.calls).toHaveLength(3)
    }).pipe(Effect.provide(client(Budget.layerMemory({
      limits: [
        { scope: "client", window: "minute", usd: 0.0004 },
        { scope: "client", window: "day", usd: 0.001 }
      ]
    })))))

  it.effect("month and hour periods; total never resets", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 1, 28, 13, 5))
      const balances = yield* Budget.usage("client")
      expect(balances.map((b) => [b.window, b.period, b.resetsAt])).toEqual([
        ["hour", "2026-02-28T13", Date.UTC(2026, 1, 28, 14)],
        ["month", "2026-02", Date.UTC(2026, 2, 1)],
        ["total", "total", undefined]
      ])
    }).pipe(Effect.provide(client(Budget.layerMemory({
      limits: [
        { scope: "client", window: "hour" },
        { scope: "client", window: "month" },
        { scope: "client", window: "total" }
      ]
    })))))
})

// -----------------------------------------------------------------------------
// reservations and settlement
// -----------------------------------------------------------------------------

describe("Budget: reservation and settlement", () => {
  const limits = { limits: [{ scope: "client" as const, window: "day" as const, usd: 0.001, tokens: 10_000 }] }

  it.effect("a call in flight holds its worst case; it settles to its real cost", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat(ask()))
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* used("client")).toEqual([["day", worstMicro, worstTokens]])
      yield* TestClock.adjust(Duration.seconds(9))
      const result = yield* Fiber.join(fiber)
      expect(micro(result.cost?.totalUsd)).toBe(actualMicro)
      expect(yield* used("client")).toEqual([["day", actualMicro, actualTokens]])
    }).pipe(
      Effect.provide(client(Budget.layerMemory(limits), { default: FakeProvider.withDelay(reply, "10 seconds") }))
    ))

  it.effect("a failed call gives its whole reservation back", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat(ask({ maxRetries: 0 })))
      expect(error._tag).toBe("ServerError")
      expect(yield* used("client")).toEqual([["day", 0, 0]])
      yield* LlmClient.chat(ask())
      expect(yield* used("client")).toEqual([["day", actualMicro, actualTokens]])
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), {
      script: [FakeProvider.fail(new LlmError.ServerError({ message: "boom", status: 500 }))],
      default: reply
    }))))

  it.effect("an interrupted call gives its reservation back", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(LlmClient.chat(ask()))
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* used("client")).toEqual([["day", worstMicro, worstTokens]])
      yield* Fiber.interrupt(fiber)
      expect(yield* used("client")).toEqual([["day", 0, 0]])
      expect(yield* FakeProvider.calls).toHaveLength(1)
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), { default: FakeProvider.stall() }))))

  it.effect("a call whose provider reports no usage is charged its input and counted output", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat(ask())
      // 14 input + "abcdefgh" (8 chars / 4 = 2 tokens) at 2 µUSD
      expect(yield* used("client")).toEqual([["day", 14 + 2 * 2, 16]])
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), {
      default: FakeProvider.text("abcdefgh", { usage: { inputTokens: 0, outputTokens: 0 } })
    }))))

  it.effect("a call that costs more than reserved takes the difference (and later calls see it)", () =>
    Effect.gen(function*() {
      // no maxTokens: 4,096 allowed, 5,000 produced
      yield* LlmClient.chat(ask({ maxTokens: undefined }))
      expect(yield* used("client")).toEqual([["day", 14 + 2 * 5_000, 5_014]])
    }).pipe(Effect.provide(client(Budget.layerMemory({ limits: [{ scope: "client", window: "day", usd: 1 }] }), {
      default: FakeProvider.text("long", { usage: { inputTokens: 14, outputTokens: 5_000 } })
    }))))
})

describe("Budget: streams", () => {
  const limits = { limits: [{ scope: "client" as const, window: "day" as const, usd: 0.001, tokens: 10_000 }] }
  const finish = StreamEvent.finish("stop", { usage: Usage.make({ inputTokens: 14, outputTokens: 50 }) })

  it.effect("a stream reserves before it starts and settles from its Finish usage", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Stream.runCollect(LlmClient.chatStream(ask())))
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* used("client")).toEqual([["day", worstMicro, worstTokens]])
      yield* TestClock.adjust(Duration.seconds(10))
      const events = yield* Fiber.join(fiber)
      const last = [...events].at(-1)
      expect(last?._tag === "Finish" && micro(last.cost?.totalUsd)).toBe(actualMicro)
      expect(yield* used("client")).toEqual([["day", actualMicro, actualTokens]])
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), {
      default: FakeProvider.stream(["Hel", "lo", finish], { delay: "5 seconds", interval: "1 second" })
    }))))

  it.effect("a stream that fails before any content gives its reservation back", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Stream.runCollect(LlmClient.chatStream(ask({ maxRetries: 0 }))))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(yield* used("client")).toEqual([["day", 0, 0]])
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), {
      default: FakeProvider.fail(new LlmError.ServerError({ message: "down", status: 503 }))
    }))))

  it.effect("a stream that fails after content, without usage, is charged its input and streamed output", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Stream.runCollect(LlmClient.chatStream(ask({ maxRetries: 0 }))))
      expect(Exit.isFailure(exit)).toBe(true)
      // 14 input + "abcdefgh" (2 tokens) at 2 µUSD
      expect(yield* used("client")).toEqual([["day", 14 + 4, 16]])
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), {
      default: FakeProvider.failAfter(["abcd", "efgh"], new LlmError.NetworkError({ message: "reset" }))
    }))))

  it.effect("a stream the consumer stops early is charged what it streamed", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        LlmClient.chatStream(ask()).pipe(Stream.takeUntil((e) => e._tag === "TextDelta"), Stream.runDrain)
      )
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Fiber.join(fiber)
      // 14 input + "abcd" (1 token) at 2 µUSD: the rest was never produced
      expect(yield* used("client")).toEqual([["day", 14 + 2, 15]])
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), {
      default: FakeProvider.stream(["abcd", "efgh", "ijkl", finish], { interval: "1 second" })
    }))))

  it.effect("an interrupted stream gives back what it did not use", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Stream.runCollect(LlmClient.chatStream(ask())))
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* used("client")).toEqual([["day", worstMicro, worstTokens]])
      yield* Fiber.interrupt(fiber)
      expect(yield* used("client")).toEqual([["day", 0, 0]])
    }).pipe(Effect.provide(client(Budget.layerMemory(limits), { default: FakeProvider.stall() }))))
})

// -----------------------------------------------------------------------------
// concurrency
// -----------------------------------------------------------------------------

describe("Budget: no overspend under concurrency", () => {
  const limitMicro = 100_000 // 0.1 USD
  const burst = (n: number) =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: n }, () => Effect.either(LlmClient.chat(ask()))), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(Duration.seconds(1))
      const results = yield* Fiber.join(fiber)
      const ok = results.filter(Either.isRight).map((r) => r.right)
      const rejected = results.filter(Either.isLeft).map((r) => r.left)
      return { ok, rejected, spentMicro: ok.reduce((sum, r) => sum + micro(r.cost?.totalUsd), 0) }
    })

  it.effect("1,000 concurrent calls: all in flight at once, the sum of real costs stays within the limit", () =>
    Effect.gen(function*() {
      const { ok, rejected, spentMicro } = yield* burst(1_000)
      // every call reserved 214 before any settled: exactly ⌊100,000 / 214⌋ fit
      expect(ok).toHaveLength(Math.floor(limitMicro / worstMicro))
      expect(rejected.length).toBe(1_000 - ok.length)
      expect(rejected.every((e) => e._tag === "BudgetExceededError")).toBe(true)
      expect(spentMicro).toBeLessThanOrEqual(limitMicro)
      expect(yield* FakeProvider.calls).toHaveLength(ok.length)
      expect(yield* used("client")).toEqual([["total", spentMicro, ok.length * actualTokens]])
    }).pipe(Effect.provide(client(Budget.layerMemory({ limits: [{ scope: "client", window: "total", usd: 0.1 }] }), {
      default: FakeProvider.withDelay(reply, "1 second")
    }))))

  it.effect("1,000 concurrent calls costing their worst case: never a micro-dollar past the limit", () =>
    Effect.gen(function*() {
      const { ok, rejected, spentMicro } = yield* burst(1_000)
      expect(rejected.length).toBeGreaterThan(0)
      expect(spentMicro).toBe(ok.length * worstMicro)
      expect(spentMicro).toBeLessThanOrEqual(limitMicro)
      expect(limitMicro - spentMicro).toBeLessThan(worstMicro)
    }).pipe(Effect.provide(client(Budget.layerMemory({ limits: [{ scope: "client", window: "total", usd: 0.1 }] }), {
      default: FakeProvider.withDelay(
        FakeProvider.text("ok", { usage: { inputTokens: 14, outputTokens: 100 } }),
        "1 second"
      )
    }))))

  it.effect("1,000 concurrent calls of varying real cost, settling while others reserve", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 1_000 }, () => Effect.either(LlmClient.chat(ask()))), { concurrency: 50 })
      )
      yield* TestClock.adjust(Duration.seconds(100))
      const results = yield* Fiber.join(fiber)
      const ok = results.filter(Either.isRight).map((r) => r.right)
      const spentMicro = ok.reduce((sum, r) => sum + micro(r.cost?.totalUsd), 0)
      expect(results.length - ok.length).toBeGreaterThan(0)
      expect(spentMicro).toBeLessThanOrEqual(limitMicro)
      expect(yield* used("client")).toEqual([["total", spentMicro, expect.any(Number)]])
    }).pipe(Effect.provide(client(Budget.layerMemory({ limits: [{ scope: "client", window: "total", usd: 0.1 }] }), {
      default: (call) =>
        FakeProvider.withDelay(
          FakeProvider.text("ok", { usage: { inputTokens: 14, outputTokens: (call.index * 37) % 101 } }),
          `${call.index % 7} millis`
        )
    }))))
})

// -----------------------------------------------------------------------------
// remaining, ledgers, options
// -----------------------------------------------------------------------------

describe("Budget: remaining and usage", () => {
  it.effect("remaining: each limit of a scope with what is left; usage also shows tracking-only counters", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat(ask()).pipe(LlmClient.withContext({ userId: "u-42" }))
      const remaining = yield* Budget.remaining({ user: "u-42" })
      expect(remaining).toEqual([{
        scope: "user:u-42",
        window: "day",
        period: "1970-01-01",
        resetsAt: Date.UTC(1970, 0, 2),
        usedUsd: actualMicro / 1e6,
        usedTokens: actualTokens,
        limitUsd: 0.01,
        limitTokens: undefined,
        remainingUsd: (10_000 - actualMicro) / 1e6,
        remainingTokens: undefined
      }])
      const usage = yield* Budget.usage({ user: "u-42" })
      expect(usage.map((b) => [b.window, micro(b.usedUsd), b.remainingUsd])).toEqual([
        ["day", actualMicro, (10_000 - actualMicro) / 1e6],
        ["month", actualMicro, undefined]
      ])
      expect(yield* Budget.remaining({ user: "nobody" })).toEqual([
        expect.objectContaining({ scope: "user:nobody", usedUsd: 0, remainingUsd: 0.01 })
      ])
      expect(yield* Budget.remaining("client")).toEqual([])
      const budget = yield* Budget.Budget
      expect(Budget.isBudget(budget) && budget.limits).toHaveLength(2)
    }).pipe(Effect.provide(client(Budget.layerMemory({
      limits: [{ scope: "user", window: "day", usd: 0.01 }, { scope: "user", window: "month" }]
    })))))

  it.effect("the pass-through budget has no counters", () =>
    Effect.gen(function*() {
      expect(yield* Budget.remaining("client")).toEqual([])
      expect(yield* Budget.usage({ user: "u" })).toEqual([])
    }).pipe(Effect.provide(Budget.layerDisabled)))
})

describe("Budget: ledgers", () => {
  const brokenLedger = (): Budget.Ledger => ({
    name: "broken",
    reserve: () => Effect.fail(new Budget.LedgerError({ ledger: "broken", message: "connection refused" })),
    adjust: () => Effect.fail(new Budget.LedgerError({ ledger: "broken", message: "connection refused" })),
    read: () => Effect.fail(new Budget.LedgerError({ ledger: "broken", message: "connection refused" }))
  })
  const limits = [{ scope: "client" as const, window: "day" as const, usd: 1 }]
  const captureWarnings = (warnings: Array<string>) =>
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(String(Array.isArray(message) ? message[0] : message))
      })
    )

  it.effect("the ledger fails: the call is rejected by default (fail closed), with a warning", () => {
    const warnings: Array<string> = []
    return Effect.gen(function*() {
      const before = yield* rejections("test-model")
      const error = yield* Effect.flip(LlmClient.chat(ask()))
      if (!isBudgetError(error)) return expect.unreachable()
      expect(error.scope).toBe("ledger")
      expect(error.message).toContain("connection refused")
      expect(yield* FakeProvider.calls).toHaveLength(0)
      expect((yield* rejections("test-model")) - before).toBe(1)
      expect(warnings.some((w) => w.includes("broken ledger failed"))).toBe(true)
    }).pipe(
      Effect.provide(client(
        Budget.layerDefault({ limits }).pipe(Layer.provide(Layer.succeed(Budget.BudgetLedger, brokenLedger())))
      )),
      Effect.provide(captureWarnings(warnings))
    )
  })

  it.effect("onLedgerError: \"allow\" lets calls through unbudgeted, with a warning", () => {
    const warnings: Array<string> = []
    return Effect.gen(function*() {
      yield* LlmClient.chat(ask())
      expect(yield* FakeProvider.calls).toHaveLength(1)
      expect(warnings.some((w) => w.includes("letting the call through"))).toBe(true)
      const error = yield* Effect.flip(Budget.remaining("client"))
      expect(error._tag).toBe("LedgerError")
    }).pipe(
      Effect.provide(client(
        Budget.layerDefault({ limits, onLedgerError: "allow" }).pipe(
          Layer.provide(Layer.succeed(Budget.BudgetLedger, brokenLedger()))
        )
      )),
      Effect.provide(captureWarnings(warnings))
    )
  })

  it.effect("a failed settlement never fails a call that succeeded", () => {
    const warnings: Array<string> = []
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat(ask())
      expect(result.text).toBe("ok")
      expect(warnings.some((w) => w.includes("failed to settle"))).toBe(true)
    }).pipe(
      Effect.provide(client(
        Budget.layerDefault({ limits }).pipe(
          Layer.provide(Layer.effect(
            Budget.BudgetLedger,
            Effect.map(Budget.makeLedgerMemory, (memory) => ({ ...memory, adjust: brokenLedger().adjust }))
          ))
        )
      )),
      Effect.provide(captureWarnings(warnings))
    )
  })

  it.effect("layerDefault uses the BudgetLedger in context, with documented keys and TTLs", () => {
    const seen: Array<Budget.LedgerEntry> = []
    return Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 10, 22, 10, 31, 15))
      yield* LlmClient.chat(ask()).pipe(LlmClient.withContext({ userId: "u:42", tags: ["a b"] }))
      expect(seen.map((e) => [e.key, e.limitMicroUsd, e.limitTokens, e.ttlMs])).toEqual([
        ["app:client:minute:2026-11-22T10:31", undefined, 5_000, 45_000 + 60_000],
        ["app:user:u%3A42:day:2026-11-22", 1_000_000, undefined, 13 * 3_600_000 + 28 * 60_000 + 45_000 + 3_600_000],
        ["app:tag:a%20b:total:total", 2_500_000, undefined, 10 * 365 * 24 * 3_600_000]
      ])
    }).pipe(Effect.provide(client(
      Budget.layerDefault({
        keyPrefix: "app:",
        limits: [
          { scope: "client", window: "minute", tokens: 5_000 },
          { scope: "user", window: "day", usd: 1 },
          { scope: { tag: "a b" }, window: "total", usd: 2.5 }
        ]
      }).pipe(Layer.provide(Layer.effect(
        Budget.BudgetLedger,
        Effect.map(Budget.makeLedgerMemory, (memory) => ({
          ...memory,
          reserve: (entries, amount) => {
            seen.push(...entries)
            return memory.reserve(entries, amount)
          }
        }))
      )))
    )))
  })

  it.effect("the memory ledger: atomic across keys, never below zero, expires after its TTL", () =>
    Effect.gen(function*() {
      const ledger = yield* Budget.makeLedgerMemory
      const a = { key: "a", limitMicroUsd: 100, ttlMs: 1_000 }
      const b = { key: "b", limitTokens: 10, ttlMs: 5_000 }
      expect(yield* ledger.reserve([a, b], { microUsd: 60, tokens: 6 })).toEqual({ _tag: "Reserved" })
      // b cannot take 6 more tokens: nothing is recorded in a either
      expect(yield* ledger.reserve([a, b], { microUsd: 10, tokens: 6 })).toEqual({
        _tag: "Rejected",
        key: "b",
        used: { microUsd: 60, tokens: 6 }
      })
      expect(yield* ledger.read("a")).toEqual({ microUsd: 60, tokens: 6 })
      // an exact fit
      expect(yield* ledger.reserve([a], { microUsd: 40, tokens: 0 })).toEqual({ _tag: "Reserved" })
      yield* ledger.adjust([{ key: "a", ttlMs: 1_000 }], { microUsd: -500, tokens: -1 })
      expect(yield* ledger.read("a")).toEqual({ microUsd: 0, tokens: 5 })
      yield* TestClock.adjust(Duration.millis(999))
      expect(yield* ledger.read("a")).toEqual({ microUsd: 0, tokens: 5 })
      yield* TestClock.adjust(Duration.millis(1))
      expect(yield* ledger.read("a")).toEqual({ microUsd: 0, tokens: 0 })
      expect(yield* ledger.read("b")).toEqual({ microUsd: 60, tokens: 6 })
      expect(yield* ledger.read("missing")).toEqual({ microUsd: 0, tokens: 0 })
    }))

  it.effect("the memory ledger: a key listed twice must fit the amount twice", () =>
    Effect.gen(function*() {
      const ledger = yield* Budget.makeLedgerMemory
      const a = { key: "twice", limitMicroUsd: 100, ttlMs: 1_000 }
      expect(yield* ledger.reserve([a, a], { microUsd: 60, tokens: 0 })).toMatchObject({ _tag: "Rejected" })
      expect(yield* ledger.read("twice")).toEqual({ microUsd: 0, tokens: 0 })
      expect(yield* ledger.reserve([a, a], { microUsd: 50, tokens: 0 })).toEqual({ _tag: "Reserved" })
      expect(yield* ledger.read("twice")).toEqual({ microUsd: 100, tokens: 0 })
    }))
})

describe("Budget: options", () => {
  it.effect("invalid options are a defect when the layer is built", () =>
    Effect.gen(function*() {
      const build = (options: Budget.Options) =>
        Effect.exit(Layer.build(Budget.layerMemory(options)).pipe(Effect.scoped)).pipe(
          Effect.map((exit) => (Exit.isFailure(exit) ? String(exit.cause) : "ok"))
        )
      expect(yield* build({ limits: [{ scope: "client", window: "week" as Budget.Window, usd: 1 }] })).toContain(
        "limits[0].window"
      )
      expect(yield* build({ limits: [{ scope: "client", window: "day", usd: 0 }] })).toContain(
        "limits[0].usd must be a positive number"
      )
      expect(yield* build({ limits: [{ scope: { tag: "" }, window: "day" }] })).toContain("limits[0].scope")
      expect(yield* build({ costCeilingUsd: -1 })).toContain("costCeilingUsd")
      expect(yield* build({ defaultOutputTokens: 1.5 })).toContain("defaultOutputTokens")
      expect(yield* build({ onLedgerError: "maybe" as "allow" })).toContain("onLedgerError")
      expect(yield* build({ limits: [{ scope: "user", window: "day", tokens: 10 }] })).toBe("ok")
    }))

  it.effect("the budget counts with the Tokenizer where it is built", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        LlmClient.chat({ model: "gpt-4o-mini", messages: "Hello!", maxTokens: 1_000, costCeilingUsd: 0.0001 })
      )
      expect(isBudgetError(error) && error.estimateTokens).toBe(4 + 2 + 1_000)
    }).pipe(Effect.provide(client(Budget.layerMemory().pipe(Layer.provide(Tokenizer.layerEstimate))))))
})
