import { describe, expect, it } from "@effect/vitest"
import { ChatRequest, Message } from "@llm-fiber/core"
import * as Either from "effect/Either"
import { buildChatBody, type BuildOptions } from "../src/internal/request.js"
import { describeErrors, validateChatRequest } from "./helpers/openapi.js"

const openai: BuildOptions = {
  providerName: "openai",
  maxTokensField: "max_completion_tokens",
  includeStreamUsage: true,
  userField: "safety_identifier"
}
const ollama: BuildOptions = {
  providerName: "ollama",
  maxTokensField: "max_tokens",
  includeStreamUsage: true,
  userField: "user"
}

const request = (input: ChatRequest.Input) => Either.getOrThrow(ChatRequest.make(input))

const build = (input: ChatRequest.Input, options: BuildOptions = openai, stream = false) =>
  buildChatBody(request(input), input.model.replace(/^[a-z-]+:/, ""), stream, options)

const expectValid = (body: unknown) => {
  const errors = validateChatRequest(body)
  expect(errors, describeErrors(errors)).toEqual([])
}

const weatherTool = {
  name: "weather",
  description: "Current weather in a city",
  parameters: {
    type: "object",
    properties: { location: { type: "string" } },
    required: ["location"],
    additionalProperties: false
  }
}

describe("request body", () => {
  it("user → safety_identifier for OpenAI, the legacy user field for compatible servers", () => {
    const body = build({ model: "gpt-4o-mini", messages: "hi", user: "u-42" })
    expect(body.safety_identifier).toBe("u-42")
    expect(body.user).toBeUndefined()
    expectValid(body)
    const compat = build({ model: "ollama:llama3.2", messages: "hi", user: "u-42" }, ollama)
    expect(compat.user).toBe("u-42")
    expect(compat.safety_identifier).toBeUndefined()
    const off = build({ model: "gpt-4o-mini", messages: "hi", user: "u-42" }, { ...openai, userField: false })
    expect(off.user ?? off.safety_identifier).toBeUndefined()
  })

  it("plain prompt", () => {
    const body = build({ model: "gpt-4o-mini", messages: "Say hi" })
    expect(body).toEqual({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hi" }] })
    expectValid(body)
  })

  it("system prompt and a multi-turn conversation", () => {
    const body = build({
      model: "gpt-4o-mini",
      messages: [
        Message.system("You are terse."),
        ["user", "Capital of France?"],
        ["assistant", "Paris."],
        { role: "user", content: "And of Spain?", name: "alice" }
      ]
    })
    expect(body.messages).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "Capital of France?" },
      { role: "assistant", content: "Paris." },
      { role: "user", content: "And of Spain?", name: "alice" }
    ])
    expectValid(body)
  })

  it("a system message of several parts is one string joined with newlines", () => {
    const body = build({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: [Message.text("Rule one."), Message.text("Rule two.", { ttl: "5m" })] },
        ["user", "hi"]
      ]
    })
    expect(body.messages[0]).toEqual({ role: "system", content: "Rule one.\nRule two." })
    expectValid(body)
  })

  it("images by URL and as base64 data", () => {
    const body = build({
      model: "gpt-4o",
      messages: [
        Message.user([
          Message.text("What is in these images?"),
          Message.imageUrl("https://example.com/cat.png", "low"),
          Message.imageBase64("iVBORw0KGgo=", "image/png")
        ])
      ]
    })
    expect(body.messages).toEqual([{
      role: "user",
      content: [
        { type: "text", text: "What is in these images?" },
        { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }
      ]
    }])
    expectValid(body)
  })

  it("tools, tool calls and tool results", () => {
    const body = build({
      model: "gpt-4o-mini",
      messages: [
        ["user", "Weather in Paris and Rome?"],
        Message.assistant([
          { type: "reasoning", text: "two calls needed", signature: "sig" },
          { type: "tool-call", id: "call_1", name: "weather", arguments: { location: "Paris" } },
          { type: "tool-call", id: "call_2", name: "weather", arguments: "{\"location\":\"Rome\"}" }
        ]),
        Message.tool("call_1", { temperature: 21, unit: "C" }),
        { role: "tool", toolCallId: "call_2", content: "sunny, 25 C", isError: false },
        {
          role: "tool",
          content: [{ type: "tool-result", toolCallId: "call_3", result: [1, 2] }, {
            type: "tool-result",
            toolCallId: "call_4",
            result: null
          }]
        }
      ],
      tools: [weatherTool, { name: "noop", parameters: { type: "object", properties: {} }, strict: true }],
      toolChoice: "required"
    })
    expect(body.messages).toEqual([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "weather", arguments: "{\"location\":\"Paris\"}" } },
          { id: "call_2", type: "function", function: { name: "weather", arguments: "{\"location\":\"Rome\"}" } }
        ]
      },
      { role: "tool", tool_call_id: "call_1", content: "{\"temperature\":21,\"unit\":\"C\"}" },
      { role: "tool", tool_call_id: "call_2", content: "sunny, 25 C" },
      { role: "tool", tool_call_id: "call_3", content: "[1,2]" },
      { role: "tool", tool_call_id: "call_4", content: "null" }
    ])
    expect(body.tools).toEqual([
      { type: "function", function: weatherTool },
      { type: "function", function: { name: "noop", parameters: { type: "object", properties: {} }, strict: true } }
    ])
    expect(body.tool_choice).toBe("required")
    expectValid(body)
  })

  it("an assistant turn with text and a tool call keeps both", () => {
    const body = build({
      model: "gpt-4o-mini",
      messages: [
        ["user", "hi"],
        Message.assistant([Message.text("Let me check."), {
          type: "tool-call",
          id: "c",
          name: "weather",
          arguments: {}
        }]),
        Message.tool("c", "ok")
      ],
      tools: [weatherTool]
    })
    expect(body.messages[1]).toEqual({
      role: "assistant",
      content: "Let me check.",
      tool_calls: [{ id: "c", type: "function", function: { name: "weather", arguments: "{}" } }]
    })
    expectValid(body)
  })

  it("tool choice variants", () => {
    for (const choice of ["auto", "none", "required"] as const) {
      const body = build({ model: "gpt-4o-mini", messages: "x", tools: [weatherTool], toolChoice: choice })
      expect(body.tool_choice).toBe(choice)
      expectValid(body)
    }
    const named = build({
      model: "gpt-4o-mini",
      messages: "x",
      tools: [weatherTool],
      toolChoice: { type: "tool", name: "weather" }
    })
    expect(named.tool_choice).toEqual({ type: "function", function: { name: "weather" } })
    expectValid(named)
  })

  it("response formats", () => {
    const json = build({ model: "gpt-4o-mini", messages: "x", responseFormat: { type: "json" } })
    expect(json.response_format).toEqual({ type: "json_object" })
    expectValid(json)
    const text = build({ model: "gpt-4o-mini", messages: "x", responseFormat: { type: "text" } })
    expect(text.response_format).toEqual({ type: "text" })
    expectValid(text)
    const schema = {
      type: "object",
      properties: { city: { type: "string" }, population: { type: "integer" } },
      required: ["city", "population"],
      additionalProperties: false
    }
    const structured = build({
      model: "gpt-4o-mini",
      messages: "x",
      responseFormat: { type: "json_schema", name: "city", schema, description: "A city", strict: true }
    })
    expect(structured.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "city", schema, description: "A city", strict: true }
    })
    expectValid(structured)
  })

  it("streaming asks for the usage chunk", () => {
    const body = build({ model: "gpt-4o-mini", messages: "x" }, openai, true)
    expect(body).toEqual({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      stream: true,
      stream_options: { include_usage: true }
    })
    expectValid(body)
    const noUsage = build({ model: "gpt-4o-mini", messages: "x" }, { ...openai, includeStreamUsage: false }, true)
    expect(noUsage.stream_options).toBeUndefined()
    expectValid(noUsage)
  })

  it("every common parameter, and providerOptions merged last", () => {
    const body = build(
      {
        model: "o4-mini",
        messages: "x",
        temperature: 0.2,
        topP: 0.9,
        stop: ["\n\n", "END"],
        seed: 42,
        maxTokens: 256,
        tools: [weatherTool],
        toolChoice: "auto",
        responseFormat: { type: "json" },
        idempotencyKey: "k-1",
        metadata: { team: "search" },
        timeout: { totalMs: 1000 },
        providerOptions: {
          openai: {
            reasoning_effort: "low",
            service_tier: "flex",
            parallel_tool_calls: false,
            user: "u-1",
            logprobs: true,
            top_logprobs: 2,
            temperature: 1,
            stream: true
          },
          anthropic: { thinking: { type: "enabled" } }
        }
      },
      openai,
      false
    )
    expect(body).toEqual({
      model: "o4-mini",
      messages: [{ role: "user", content: "x" }],
      temperature: 1,
      top_p: 0.9,
      stop: ["\n\n", "END"],
      seed: 42,
      max_completion_tokens: 256,
      tools: [{ type: "function", function: weatherTool }],
      tool_choice: "auto",
      response_format: { type: "json_object" },
      reasoning_effort: "low",
      service_tier: "flex",
      parallel_tool_calls: false,
      user: "u-1",
      logprobs: true,
      top_logprobs: 2
    })
    expectValid(body)
  })

  it("a providerOptions key set to undefined removes the field", () => {
    const body = build(
      {
        model: "ollama:llama3.2",
        messages: "x",
        providerOptions: { ollama: { stream_options: undefined, keep_alive: "5m" } }
      },
      ollama,
      true
    )
    expect(body).toEqual({
      model: "llama3.2",
      messages: [{ role: "user", content: "x" }],
      stream: true,
      keep_alive: "5m"
    })
  })

  it("compatible servers get max_tokens and only their own providerOptions", () => {
    const body = build({
      model: "ollama:llama3.2",
      messages: "x",
      maxTokens: 100,
      providerOptions: { openai: { service_tier: "flex" }, ollama: { top_k: 40 } }
    }, ollama)
    expect(body).toEqual({
      model: "llama3.2",
      messages: [{ role: "user", content: "x" }],
      max_tokens: 100,
      top_k: 40
    })
    const { top_k: _topK, ...standard } = body
    expectValid(standard)
  })
})

describe("strict OpenAPI validation", () => {
  const valid = build({ model: "gpt-4o-mini", messages: "x", maxTokens: 5 })

  it("accepts fields of both allOf branches", () => {
    expectValid({ ...valid, temperature: 1, top_p: 1, metadata: { a: "b" }, prompt_cache_key: "k", stream: false })
  })

  it("rejects an unknown top-level field", () => {
    const errors = validateChatRequest({ ...valid, max_token: 5 })
    expect(errors.some((e) => e.keyword === "unevaluatedProperties")).toBe(true)
    expect(describeErrors(errors)).toContain("max_token")
  })

  const rejects = (body: unknown, property: string) => {
    const errors = validateChatRequest(body)
    const hit = errors.some((e) =>
      (e.keyword === "additionalProperties" && e.params.additionalProperty === property) ||
      (e.keyword === "unevaluatedProperties" && e.params.unevaluatedProperty === property)
    )
    expect(hit, describeErrors(errors)).toBe(true)
  }

  it("rejects an extra field inside a message, a tool, a response format and stream options", () => {
    rejects({ ...valid, messages: [{ role: "tool", tool_call_id: "x", content: "y", is_error: true }] }, "is_error")
    rejects({ ...valid, messages: [{ role: "user", content: "y", nmae: "bob" }] }, "nmae")
    rejects({
      ...valid,
      messages: [{
        role: "user",
        content: [{ type: "image_url", image_url: { url: "https://x.y/z.png", detal: "low" } }]
      }]
    }, "detal")
    rejects(
      { ...valid, tools: [{ type: "function", function: { name: "f", parameters: {}, paramters: {} } }] },
      "paramters"
    )
    rejects({
      ...valid,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: {}, strictt: true } }
    }, "strictt")
    rejects({ ...valid, stream: true, stream_options: { include_usage: true, include_usagee: true } }, "include_usagee")
  })

  it("rejects wrong types and missing required fields", () => {
    expect(validateChatRequest({ ...valid, max_completion_tokens: "5" })).not.toEqual([])
    expect(validateChatRequest({ model: "gpt-4o-mini" })).not.toEqual([])
    expect(validateChatRequest({ ...valid, messages: [{ role: "user" }] })).not.toEqual([])
  })

  it("accepts null where the spec says nullable", () => {
    expectValid({ ...valid, max_completion_tokens: null, stop: null, temperature: null })
  })
})
