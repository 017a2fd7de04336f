import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { mapChatCompletion, mapFinishReason, mapUsage } from "../src/internal/response.js"

const context = { provider: "openai", model: "gpt-4o-mini", requestId: "req_1" }
const timing = { latencyMs: 12, ttfbMs: 10 }

const completion = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: "stop" }],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  ...extra
})

const ok = (json: unknown, ctx = context) => Either.getOrThrow(mapChatCompletion(json, ctx, timing))
const err = (json: unknown) => {
  const result = mapChatCompletion(json, context, timing)
  if (Either.isRight(result)) throw new Error("expected an error")
  return result.left
}

describe("usage", () => {
  it("maps OpenAI usage with cached and reasoning tokens", () => {
    expect(mapUsage({
      prompt_tokens: 1200,
      completion_tokens: 300,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 256 }
    })).toEqual({
      inputTokens: 1200,
      outputTokens: 300,
      totalTokens: 1500,
      cachedInputTokens: 1024,
      reasoningTokens: 256
    })
  })

  it("reads DeepSeek's prompt_cache_hit_tokens when there are no details", () => {
    expect(mapUsage({ prompt_tokens: 50, completion_tokens: 5, total_tokens: 55, prompt_cache_hit_tokens: 32 }))
      .toEqual({ inputTokens: 50, outputTokens: 5, totalTokens: 55, cachedInputTokens: 32 })
  })

  it("adds xAI's reasoning tokens, which it leaves out of completion_tokens", () => {
    expect(mapUsage({
      prompt_tokens: 12,
      completion_tokens: 1,
      total_tokens: 303,
      completion_tokens_details: { reasoning_tokens: 290 }
    })).toEqual({ inputTokens: 12, outputTokens: 291, totalTokens: 303, reasoningTokens: 290 })
  })

  it("fills in a missing total", () => {
    expect(mapUsage({ prompt_tokens: 3, completion_tokens: 4 })).toEqual({
      inputTokens: 3,
      outputTokens: 4,
      totalTokens: 7
    })
  })
})

describe("finish reasons", () => {
  it("maps the wire values", () => {
    expect(mapFinishReason("stop")).toBe("stop")
    expect(mapFinishReason("length")).toBe("length")
    expect(mapFinishReason("tool_calls")).toBe("tool_calls")
    expect(mapFinishReason("function_call")).toBe("tool_calls")
    expect(mapFinishReason("content_filter")).toBe("content_filter")
    expect(mapFinishReason("insufficient_system_resource")).toBe("other")
    expect(mapFinishReason(undefined)).toBe("other")
  })
})

describe("chat completion", () => {
  it("maps text, usage and metadata", () => {
    const result = ok(completion({ content: "Hello!", refusal: null }, {
      system_fingerprint: "fp_1",
      service_tier: "default"
    }))
    expect(result.id).toBe("chatcmpl-1")
    expect(result.model).toBe("gpt-4o-mini-2024-07-18")
    expect(result.provider).toBe("openai")
    expect(result.text).toBe("Hello!")
    expect(result.reasoning).toBeUndefined()
    expect(result.finishReason).toBe("stop")
    expect(result.usage).toEqual({ inputTokens: 10, outputTokens: 5, totalTokens: 15 })
    expect(result.timing).toEqual(timing)
    expect(result.requestId).toBe("req_1")
    expect(result.message).toEqual({ role: "assistant", content: [{ type: "text", text: "Hello!" }] })
    expect(result.providerMetadata).toEqual({
      openai: {
        finishReason: "stop",
        systemFingerprint: "fp_1",
        serviceTier: "default",
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
      }
    })
  })

  it("maps tool calls, keeping the raw arguments", () => {
    const result = ok({
      ...completion({
        content: null,
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "weather", arguments: "{\"location\":\"Paris\"}" } },
          { id: "call_b", type: "function", function: { name: "noop", arguments: "" } },
          { type: "function", function: { name: "broken", arguments: "{\"a\":" } }
        ]
      }),
      choices: [{
        index: 0,
        finish_reason: "tool_calls",
        message: {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_a", type: "function", function: { name: "weather", arguments: "{\"location\":\"Paris\"}" } },
            { id: "call_b", type: "function", function: { name: "noop", arguments: "" } },
            { type: "function", function: { name: "broken", arguments: "{\"a\":" } }
          ]
        }
      }]
    })
    expect(result.finishReason).toBe("tool_calls")
    expect(result.text).toBe("")
    expect(result.toolCalls).toEqual([
      { id: "call_a", name: "weather", arguments: { location: "Paris" }, rawArguments: "{\"location\":\"Paris\"}" },
      { id: "call_b", name: "noop", arguments: {}, rawArguments: "" },
      { id: "chatcmpl-1_tool_2", name: "broken", arguments: "{\"a\":", rawArguments: "{\"a\":" }
    ])
    expect(result.message.content).toEqual([
      { type: "tool-call", id: "call_a", name: "weather", arguments: { location: "Paris" } },
      { type: "tool-call", id: "call_b", name: "noop", arguments: {} },
      { type: "tool-call", id: "chatcmpl-1_tool_2", name: "broken", arguments: "{\"a\":" }
    ])
  })

  it("a refusal finishes with content_filter and is kept in providerMetadata, not in the text", () => {
    const result = ok(completion({ content: null, refusal: "I can't help with that." }))
    expect(result.finishReason).toBe("content_filter")
    expect(result.text).toBe("")
    expect((result.providerMetadata?.openai as Record<string, unknown>).refusal).toBe("I can't help with that.")
    expect((result.providerMetadata?.openai as Record<string, unknown>).finishReason).toBe("stop")
  })

  it("reads reasoning_content and reasoning", () => {
    expect(ok(completion({ content: "4", reasoning_content: "2+2" })).reasoning).toBe("2+2")
    const groq = ok(completion({ content: "4", reasoning: "two plus two" }), { ...context, provider: "groq" })
    expect(groq.reasoning).toBe("two plus two")
    expect(groq.message.content).toEqual([{ type: "reasoning", text: "two plus two" }, { type: "text", text: "4" }])
    expect(Object.keys(groq.providerMetadata ?? {})).toEqual(["groq"])
  })

  it("reads Mistral's content parts (text and thinking)", () => {
    const result = ok(completion({
      content: [
        { type: "thinking", thinking: [{ type: "text", text: "Basic " }, { type: "text", text: "arithmetic." }] },
        { type: "text", text: "2 + 2 = 4" }
      ]
    }))
    expect(result.text).toBe("2 + 2 = 4")
    expect(result.reasoning).toBe("Basic arithmetic.")
  })

  it("maps finish reasons and a missing usage", () => {
    const length = completion({ content: "abc" })
    const body = { ...length, choices: [{ ...length.choices[0], finish_reason: "length" }], usage: undefined }
    const result = ok(body)
    expect(result.finishReason).toBe("length")
    expect(result.usage).toEqual({ inputTokens: 0, outputTokens: 0, totalTokens: 0 })
  })

  it("an error body (HTTP 200) is the mapped error", () => {
    const e = err({ error: { message: "The server had an error", type: "server_error", code: null } })
    expect(e._tag).toBe("ServerError")
    expect(e.message).toContain("The server had an error")
    const bad = err({ error: { object: "error", message: "bad temperature", type: "BadRequestError", code: 400 } })
    expect(bad._tag).toBe("InvalidRequestError")
    expect(bad.status).toBe(400)
  })

  it("a choice without finish_reason is a ProtocolError", () => {
    const body = completion({ content: "half an ans" })
    const error = err({ ...body, choices: [{ ...body.choices[0], finish_reason: null }] })
    expect(error._tag).toBe("ProtocolError")
    expect(error.message).toContain("finish_reason")
  })

  it("a body without choices is a ProtocolError", () => {
    expect(err({ id: "x" })._tag).toBe("ProtocolError")
    expect(err({ id: "x", choices: [] })._tag).toBe("ProtocolError")
    expect(err("nope")._tag).toBe("ProtocolError")
    expect(err([1])._tag).toBe("ProtocolError")
  })
})
