// The same conversation — a system prompt, a tool call round trip, then a streamed answer —
// sent unchanged to OpenAI, Anthropic, Gemini and an OpenAI-compatible server (all spoken
// by the mock server in their own wire formats), through providers loaded exactly as
// `LlmClient.layerFromEnv` loads them. The normalized results must be identical.
import { describe, expect, it } from "@effect/vitest"
import { type ChatResult, LlmClient, Message, StreamEvent } from "@llm-fiber/core"
import { MockServer } from "@llm-fiber/testing"
import { ConfigProvider, Effect, Layer } from "effect"

const weather = {
  name: "get_weather",
  description: "The current weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string", enum: ["Paris", "Rome"] } },
    required: ["city"]
  }
}

const conversation = [Message.system("You are a concise weather assistant."), Message.user("Weather in Paris?")]

const models = [
  ["openai", "gpt-4o-mini"],
  ["anthropic", "claude-haiku-4-5"],
  ["gemini", "gemini-2.5-flash"],
  ["ollama", "ollama:llama3.2"]
] as const

const normalized = (r: ChatResult.ChatResult) => ({
  text: r.text,
  finishReason: r.finishReason,
  toolCalls: r.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })),
  hasUsage: r.usage.inputTokens > 0 && r.usage.outputTokens > 0
})

describe("one request, every provider", () => {
  it.live("gives identical normalized results for a tool round trip and a stream", () =>
    Effect.gen(function*() {
      const server = yield* MockServer.MockServer
      const env = new Map([
        ["OPENAI_BASE_URL", server.openaiBaseUrl],
        ["OPENAI_API_KEY", "sk-test"],
        ["ANTHROPIC_BASE_URL", server.url],
        ["ANTHROPIC_API_KEY", "sk-ant-test"],
        ["GEMINI_BASE_URL", server.url],
        ["GEMINI_API_KEY", "gemini-test"],
        ["OLLAMA_BASE_URL", server.openaiBaseUrl]
      ])
      const results = yield* Effect.forEach(models, ([provider, model]) =>
        Effect.gen(function*() {
          const llm = yield* LlmClient.LlmClient
          const first = yield* llm.chat({ model, messages: conversation, tools: [weather], maxTokens: 200 })
          const toolResults = first.toolCalls.map((c) => Message.tool(c.id, { city: "Paris", sky: "clear" }))
          const followUp = { model, messages: [...conversation, first.message, ...toolResults], tools: [weather] }
          const answer = yield* llm.chat(followUp)
          const streamed = yield* StreamEvent.accumulate(llm.chatStream(followUp))
          expect(first.provider).toBe(provider)
          expect(answer.cost === undefined).toBe(provider === "ollama")
          return { first: normalized(first), answer: normalized(answer), streamed: normalized(streamed) }
        }).pipe(
          Effect.provide(
            LlmClient.layerFromEnv().pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(env)))
            )
          )
        ))
      const [reference, ...others] = results
      expect(reference?.first).toEqual({
        text: "",
        finishReason: "tool_calls",
        toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }],
        hasUsage: true
      })
      expect(reference?.answer.finishReason).toBe("stop")
      expect(reference?.answer.text).toContain("Paris")
      expect(reference?.streamed).toEqual(reference?.answer)
      for (const other of others) expect(other).toEqual(reference)
    }).pipe(Effect.provide(MockServer.layer())))
})
