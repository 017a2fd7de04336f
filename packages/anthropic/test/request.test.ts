/**
 * ChatRequest → Messages API body: every body built here also passes the strict
 * validator of `helpers/validate.ts`.
 */
import { describe, expect, it } from "@effect/vitest"
import { ChatRequest, Message } from "@llm-fiber/core"
import * as Either from "effect/Either"
import { buildMessagesBody, defaultMaxTokens } from "../src/internal/request.js"
import { validateMessagesRequest } from "./helpers/validate.js"

const request = (input: ChatRequest.Input) => Either.getOrThrow(ChatRequest.make(input))

const build = (input: ChatRequest.Input, stream = false) => {
  const built = buildMessagesBody(request(input), input.model, stream, {
    providerName: "anthropic",
    defaultMaxTokens: 4096
  })
  const errors = validateMessagesRequest(built.body)
  expect(errors, errors.join("\n")).toEqual([])
  return built
}

const weatherTool = {
  name: "weather",
  description: "Current weather in a city",
  parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] }
}

const model = "claude-sonnet-4-5"

describe("request body", () => {
  it("user → metadata.user_id", () => {
    const { body } = build({ model, messages: "hi", user: "u-42" })
    expect(body.metadata).toEqual({ user_id: "u-42" })
  })

  it("plain prompt: max_tokens always sent (the default when maxTokens is absent)", () => {
    const { body, droppedCacheBreakpoints } = build({ model, messages: "Say hi" })
    expect(body).toEqual({
      model,
      max_tokens: 4096,
      messages: [{ role: "user", content: [{ type: "text", text: "Say hi" }] }]
    })
    expect(droppedCacheBreakpoints).toEqual([])
    expect(build({ model, messages: "hi", maxTokens: 50 }, true).body).toMatchObject({ max_tokens: 50, stream: true })
  })

  it("common parameters; seed and responseFormat have no Anthropic field", () => {
    const { body } = build({
      model,
      messages: "hi",
      temperature: 0.2,
      topP: 0.9,
      stop: ["END", "STOP"],
      seed: 7,
      responseFormat: { type: "json" },
      metadata: { team: "a" },
      idempotencyKey: "k1"
    })
    expect(body).toEqual({
      model,
      max_tokens: 4096,
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      temperature: 0.2,
      top_p: 0.9,
      stop_sequences: ["END", "STOP"]
    })
  })

  it("system messages → top-level system string (wherever they are)", () => {
    const { body } = build({
      model,
      messages: [
        ["system", "You are terse."],
        ["user", "hi"],
        { role: "system", content: [Message.text("Line A"), Message.text("Line B")] }
      ]
    })
    expect(body.system).toBe("You are terse.\nLine A\nLine B")
    expect(body.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }])
  })

  it("consecutive same-role messages are merged; tool results first in their user message", () => {
    const { body } = build({
      model,
      messages: [
        ["user", "a"],
        ["user", "b"],
        {
          role: "assistant",
          content: [{ type: "tool-call", id: "t1", name: "weather", arguments: { location: "Paris" } }]
        },
        ["user", "and also"],
        { role: "tool", toolCallId: "t1", content: { temp: 21 } },
        ["assistant", "x"],
        ["assistant", "y"]
      ],
      tools: [weatherTool]
    })
    expect(body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "t1", name: "weather", input: { location: "Paris" } }]
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t1", content: "{\"temp\":21}" },
          { type: "text", text: "and also" }
        ]
      },
      { role: "assistant", content: [{ type: "text", text: "x" }, { type: "text", text: "y" }] }
    ])
  })

  it("images: URL, data: URL → base64, base64 data", () => {
    const { body } = build({
      model,
      messages: [{
        role: "user",
        content: [
          Message.text("What is in these?"),
          Message.imageUrl("https://example.com/cat.png", "high"),
          Message.imageUrl("data:image/png;base64,iVBORw0KGgo="),
          Message.imageBase64("R0lGODlh", "image/gif")
        ]
      }]
    })
    expect((body.messages as Array<any>)[0].content).toEqual([
      { type: "text", text: "What is in these?" },
      { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "base64", media_type: "image/gif", data: "R0lGODlh" } }
    ])
  })

  it("tool round trip: tools, tool_use, tool_result (strings as they are, errors flagged)", () => {
    const { body } = build({
      model,
      messages: [
        ["user", "Weather in Paris and Rome?"],
        {
          role: "assistant",
          content: [
            Message.text("Checking."),
            { type: "tool-call", id: "toolu_1", name: "weather", arguments: { location: "Paris" } },
            { type: "tool-call", id: "toolu_2", name: "weather", arguments: "{\"location\":\"Rome\"}" },
            { type: "tool-call", id: "toolu_3", name: "weather", arguments: "{not json" }
          ]
        },
        Message.tool("toolu_1", "sunny"),
        Message.tool("toolu_2", { error: "timeout" }, { isError: true }),
        Message.tool("toolu_3", undefined)
      ],
      tools: [weatherTool],
      toolChoice: "auto"
    })
    expect(body.tools).toEqual([{
      name: "weather",
      description: "Current weather in a city",
      input_schema: weatherTool.parameters
    }])
    expect(body.tool_choice).toEqual({ type: "auto" })
    expect((body.messages as Array<any>)[1].content).toEqual([
      { type: "text", text: "Checking." },
      { type: "tool_use", id: "toolu_1", name: "weather", input: { location: "Paris" } },
      { type: "tool_use", id: "toolu_2", name: "weather", input: { location: "Rome" } },
      { type: "tool_use", id: "toolu_3", name: "weather", input: {} }
    ])
    expect((body.messages as Array<any>)[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "sunny" },
        { type: "tool_result", tool_use_id: "toolu_2", content: "{\"error\":\"timeout\"}", is_error: true },
        { type: "tool_result", tool_use_id: "toolu_3" }
      ]
    })
  })

  it("tool choice: required → any, a named tool, none", () => {
    const tools = [weatherTool]
    expect(build({ model, messages: "x", tools, toolChoice: "required" }).body.tool_choice).toEqual({ type: "any" })
    expect(build({ model, messages: "x", tools, toolChoice: { type: "tool", name: "weather" } }).body.tool_choice)
      .toEqual({ type: "tool", name: "weather" })
    expect(build({ model, messages: "x", tools, toolChoice: "none" }).body.tool_choice).toEqual({ type: "none" })
  })

  it("thinking round trip: signed reasoning → thinking, redacted → redacted_thinking, unsigned dropped", () => {
    const { body } = build({
      model,
      messages: [
        ["user", "Think, then call the tool."],
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "Let me think.", signature: "sig-1" },
            { type: "reasoning", text: "", redacted: true, signature: "opaque-data" },
            { type: "reasoning", text: "from another provider" },
            { type: "tool-call", id: "toolu_1", name: "weather", arguments: { location: "Oslo" } }
          ]
        },
        Message.tool("toolu_1", "cold")
      ],
      tools: [weatherTool]
    })
    expect((body.messages as Array<any>)[1].content).toEqual([
      { type: "thinking", thinking: "Let me think.", signature: "sig-1" },
      { type: "redacted_thinking", data: "opaque-data" },
      { type: "tool_use", id: "toolu_1", name: "weather", input: { location: "Oslo" } }
    ])
  })

  it("providerOptions.anthropic merged last; betas go to the header; stream always follows the call", () => {
    const built = build({
      model,
      messages: "hi",
      temperature: 0.5,
      providerOptions: {
        anthropic: {
          thinking: { type: "enabled", budget_tokens: 1024 },
          metadata: { user_id: "u-1" },
          top_k: 40,
          temperature: undefined,
          stream: false,
          betas: ["interleaved-thinking-2025-05-14"]
        },
        openai: { seed: 1 }
      }
    }, true)
    expect(built.body).toEqual({
      model,
      max_tokens: 4096,
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      stream: true,
      thinking: { type: "enabled", budget_tokens: 1024 },
      metadata: { user_id: "u-1" },
      top_k: 40
    })
    expect(built.betas).toEqual(["interleaved-thinking-2025-05-14"])
  })

  it("default max_tokens: catalog value, else the default, above a thinking budget", () => {
    const plain = request({ model, messages: "hi" })
    expect(defaultMaxTokens(plain, "anthropic", 64_000, 4096)).toBe(64_000)
    expect(defaultMaxTokens(plain, "anthropic", undefined, 4096)).toBe(4096)
    const thinking = request({
      model,
      messages: "hi",
      providerOptions: { anthropic: { thinking: { type: "enabled", budget_tokens: 10_000 } } }
    })
    expect(defaultMaxTokens(thinking, "anthropic", undefined, 4096)).toBe(14_096)
    expect(defaultMaxTokens(thinking, "anthropic", 64_000, 4096)).toBe(64_000)
  })
})

describe("prompt caching", () => {
  it("hints on a system part, a message, a tool and a tool result become cache_control", () => {
    const { body, droppedCacheBreakpoints } = build({
      model,
      messages: [
        { role: "system", content: [Message.text("Long instructions", { ttl: "1h" }), Message.text("Short")] },
        { role: "user", content: "A long document", cache: {} },
        { role: "assistant", content: [{ type: "tool-call", id: "t1", name: "weather", arguments: {} }] },
        { role: "tool", content: [{ type: "tool-result", toolCallId: "t1", result: "ok", cache: { ttl: "5m" } }] }
      ],
      tools: [{ ...weatherTool, cache: { ttl: "1h" } }]
    })
    expect(droppedCacheBreakpoints).toEqual([])
    // a cache hint in the system prompt turns it into text blocks
    expect(body.system).toEqual([
      { type: "text", text: "Long instructions", cache_control: { type: "ephemeral", ttl: "1h" } },
      { type: "text", text: "Short" }
    ])
    expect((body.tools as Array<any>)[0].cache_control).toEqual({ type: "ephemeral", ttl: "1h" })
    const messages = body.messages as Array<any>
    expect(messages[0].content).toEqual([
      { type: "text", text: "A long document", cache_control: { type: "ephemeral" } }
    ])
    expect(messages[2].content[0].cache_control).toEqual({ type: "ephemeral", ttl: "5m" })
    expect(body.cache_control).toBeUndefined()
  })

  it("a message-level hint marks the message's last block; thinking blocks are skipped", () => {
    const { body } = build({
      model,
      messages: [
        ["user", "q"],
        {
          role: "assistant",
          content: [Message.text("answer"), { type: "reasoning", text: "t", signature: "s" }],
          cache: {}
        } as Message.MessageInput,
        ["user", "next"]
      ]
    })
    expect((body.messages as Array<any>)[1].content).toEqual([
      { type: "text", text: "answer", cache_control: { type: "ephemeral" } },
      { type: "thinking", thinking: "t", signature: "s" }
    ])
  })

  it("a part hint and its message's hint on the same block count once", () => {
    const { body, droppedCacheBreakpoints } = build({
      model,
      messages: [{ role: "user", content: [Message.text("doc", { ttl: "1h" })], cache: {} }]
    })
    expect((body.messages as Array<any>)[0].content[0].cache_control).toEqual({ type: "ephemeral", ttl: "1h" })
    expect(droppedCacheBreakpoints).toEqual([])
  })

  it("a request-level hint → top-level cache_control (automatic caching)", () => {
    const { body } = build({ model, messages: "hi", cache: { ttl: "1h" } })
    expect(body.cache_control).toEqual({ type: "ephemeral", ttl: "1h" })
  })

  it("more than 4 breakpoints: the first 4 in prompt order (tools, system, messages, request) are kept", () => {
    const { body, droppedCacheBreakpoints } = build({
      model,
      messages: [
        ["user", "first question"],
        { role: "system", content: [Message.text("system", {})] },
        { role: "user", content: [Message.text("doc 1", {}), Message.text("doc 2", {}), Message.text("doc 3", {})] }
      ],
      tools: [{ ...weatherTool, cache: {} }],
      cache: {}
    })
    // tools[0], the system part, doc 1 and doc 2 are kept
    expect((body.tools as Array<any>)[0].cache_control).toEqual({ type: "ephemeral" })
    expect((body.system as Array<any>)[0].cache_control).toEqual({ type: "ephemeral" })
    const content = (body.messages as Array<any>)[0].content
    expect(content.map((b: any) => b.cache_control !== undefined)).toEqual([false, true, true, false])
    expect(body.cache_control).toBeUndefined()
    expect(droppedCacheBreakpoints).toEqual(["messages[2].content[2]", "request"])
  })
})
