import { describe, expect, it } from "@effect/vitest"
import { ChatResult, LlmClient, Provider, ProviderRegistry, StreamEvent } from "@llm-fiber/core"
import { Effect, Layer, Stream } from "effect"

const fake: Provider.Provider = {
  name: "openai",
  api: "openai-chat",
  capabilities: Provider.noCapabilities,
  chat: (call) =>
    Effect.succeed(
      new ChatResult.ChatResult({
        id: "x",
        model: call.model,
        provider: "openai",
        text: "hello",
        message: ChatResult.assistantMessage("hello", []),
        toolCalls: [],
        finishReason: "stop",
        usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 },
        timing: { latencyMs: 1, ttfbMs: 1 }
      })
    ),
  chatStream: (call) =>
    Stream.fromIterable([
      StreamEvent.start("x", call.model, "openai"),
      StreamEvent.textDelta("hel"),
      StreamEvent.textDelta("lo"),
      StreamEvent.finish("stop", { usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 } })
    ])
}

const Live = LlmClient.layer.pipe(
  Layer.provide(ProviderRegistry.register(Effect.succeed(fake))),
  Layer.provide(ProviderRegistry.layer)
)

describe("smoke", () => {
  it.effect("chat and stream", () =>
    Effect.gen(function*() {
      const r = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      expect(r.text).toBe("hello")
      expect(r.cost?.totalUsd).toBeCloseTo((10 * 0.15 + 2 * 0.6) / 1e6)
      const s = yield* StreamEvent.accumulate(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hi" }))
      expect(s.text).toBe("hello")
      expect(s.cost?.totalUsd).toBeCloseTo(r.cost!.totalUsd)
    }).pipe(Effect.provide(Live)))
})

describe("ChatResult.promptCacheHit", () => {
  const make = (cachedInputTokens?: number) =>
    new ChatResult.ChatResult({
      id: "x",
      model: "m",
      provider: "p",
      text: "",
      message: ChatResult.assistantMessage("", []),
      toolCalls: [],
      finishReason: "stop",
      usage: {
        inputTokens: 10,
        outputTokens: 1,
        totalTokens: 11,
        ...(cachedInputTokens !== undefined ? { cachedInputTokens } : {})
      },
      timing: { latencyMs: 0 }
    })
  it("is true only when some input was read from the cache", () => {
    expect(make().promptCacheHit).toBe(false)
    expect(make(0).promptCacheHit).toBe(false)
    expect(make(8).promptCacheHit).toBe(true)
  })
})
