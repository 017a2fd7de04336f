import { describe, expect, it } from "@effect/vitest"
import { ChatRequest, Message } from "@llm-fiber/core"
import * as Either from "effect/Either"
import { buildChatBody } from "../src/internal/request.js"
import { buildResponsesBody, type ResponsesBuildOptions } from "../src/internal/responsesRequest.js"
import { describeErrors, validateChatRequest, validateResponsesRequest } from "./helpers/openapi.js"

const options: ResponsesBuildOptions = { providerName: "openai-responses", store: false }

const request = (input: ChatRequest.Input) => Either.getOrThrow(ChatRequest.make(input))

const build = (input: ChatRequest.Input, stream = false, opts: ResponsesBuildOptions = options) =>
  Either.getOrThrow(buildResponsesBody(request(input), input.model.replace(/^[a-z-]+:/, ""), stream, opts))

const expectValid = (body: unknown) => {
  const errors = validateResponsesRequest(body)
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

describe("Responses request body", () => {
  it("user → safety_identifier", () => {
    const body = build({ model: "gpt-4.1", messages: "hi", user: "u-42" })
    expect(body.safety_identifier).toBe("u-42")
    expectValid(body)
  })

  it("plain prompt: one user message item, store false", () => {
    const body = build({ model: "gpt-4.1", messages: "Say hi" })
    expect(body).toEqual({
      model: "gpt-4.1",
      input: [{ type: "message", role: "user", content: "Say hi" }],
      store: false
    })
    expectValid(body)
  })

  it("leading system messages → instructions; a later one stays in place", () => {
    const body = build({
      model: "gpt-4.1",
      messages: [
        Message.system("You are terse."),
        { role: "system", content: [Message.text("Rule one."), Message.text("Rule two.")] },
        ["user", "Capital of France?"],
        ["assistant", "Paris."],
        Message.system("From now on answer in French."),
        { role: "user", content: "And of Spain?", name: "alice" }
      ]
    })
    expect(body.instructions).toBe("You are terse.\n\nRule one.\nRule two.")
    expect(body.input).toEqual([
      { type: "message", role: "user", content: "Capital of France?" },
      { type: "message", role: "assistant", content: "Paris." },
      { type: "message", role: "system", content: "From now on answer in French." },
      // the Responses API has no `name` on messages
      { type: "message", role: "user", content: "And of Spain?" }
    ])
    expectValid(body)
  })

  it("images as input_image parts (detail defaults to auto, which the spec requires)", () => {
    const body = build({
      model: "gpt-4.1",
      messages: [
        Message.user([
          Message.text("What is in these images?"),
          Message.imageUrl("https://example.com/cat.png", "low"),
          Message.imageBase64("iVBORw0KGgo=", "image/png")
        ])
      ]
    })
    expect(body.input).toEqual([{
      type: "message",
      role: "user",
      content: [
        { type: "input_text", text: "What is in these images?" },
        { type: "input_image", image_url: "https://example.com/cat.png", detail: "low" },
        { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" }
      ]
    }])
    expectValid(body)
  })

  it("tools (flat), tool calls → function_call items, tool results → function_call_output", () => {
    const body = build({
      model: "gpt-4.1",
      messages: [
        ["user", "Weather in Paris and Rome?"],
        {
          role: "assistant",
          content: [
            Message.text("Checking both."),
            { type: "tool-call", id: "call_1", name: "weather", arguments: { location: "Paris" } },
            { type: "tool-call", id: "call_2", name: "weather", arguments: "{\"location\":\"Rome\"}" }
          ]
        },
        Message.tool("call_1", { temperature: 21 }),
        Message.tool("call_2", "sunny")
      ],
      tools: [weatherTool, { name: "now", parameters: { type: "object", properties: {} }, strict: true }],
      toolChoice: "required"
    })
    expect(body.input).toEqual([
      { type: "message", role: "user", content: "Weather in Paris and Rome?" },
      { type: "message", role: "assistant", content: "Checking both." },
      { type: "function_call", call_id: "call_1", name: "weather", arguments: "{\"location\":\"Paris\"}" },
      { type: "function_call", call_id: "call_2", name: "weather", arguments: "{\"location\":\"Rome\"}" },
      { type: "function_call_output", call_id: "call_1", output: "{\"temperature\":21}" },
      { type: "function_call_output", call_id: "call_2", output: "sunny" }
    ])
    expect(body.tools).toEqual([
      { type: "function", ...weatherTool, strict: false },
      { type: "function", name: "now", parameters: { type: "object", properties: {} }, strict: true }
    ])
    expect(body.tool_choice).toBe("required")
    expectValid(body)
  })

  it("an assistant turn of only tool calls has no message item", () => {
    const body = build({
      model: "gpt-4.1",
      messages: [
        ["user", "hi"],
        { role: "assistant", content: [{ type: "tool-call", id: "c", name: "now", arguments: {} }] },
        Message.tool("c", "12:00")
      ],
      tools: [{ name: "now", parameters: { type: "object", properties: {} } }],
      toolChoice: { type: "tool", name: "now" }
    })
    expect(body.input.map((i) => i.type)).toEqual(["message", "function_call", "function_call_output"])
    expect(body.tool_choice).toEqual({ type: "function", name: "now" })
    expectValid(body)
  })

  it("response formats → text.format", () => {
    const schema = {
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
      additionalProperties: false
    }
    const json = build({ model: "gpt-4.1", messages: "x", responseFormat: { type: "json" } })
    expect(json.text).toEqual({ format: { type: "json_object" } })
    expectValid(json)
    const withSchema = build({
      model: "gpt-4.1",
      messages: "x",
      responseFormat: { type: "json_schema", name: "thing", schema, description: "A thing", strict: true }
    })
    expect(withSchema.text).toEqual({
      format: { type: "json_schema", name: "thing", schema, description: "A thing", strict: true }
    })
    expectValid(withSchema)
    const text = build({ model: "gpt-4.1", messages: "x", responseFormat: { type: "text" } })
    expect(text.text).toEqual({ format: { type: "text" } })
    expectValid(text)
  })

  it("common parameters, stream, and providerOptions merged last (reasoning, include, store)", () => {
    const body = build({
      model: "openai-responses:o4-mini",
      messages: "x",
      temperature: 0.2,
      topP: 0.9,
      maxTokens: 256,
      seed: 7,
      providerOptions: {
        "openai-responses": {
          reasoning: { effort: "low", summary: "auto" },
          include: ["reasoning.encrypted_content"],
          store: true,
          stream: false,
          parallel_tool_calls: false
        },
        openai: { max_completion_tokens: 1 }
      }
    }, true)
    expect(body).toEqual({
      model: "o4-mini",
      input: [{ type: "message", role: "user", content: "x" }],
      temperature: 0.2,
      top_p: 0.9,
      max_output_tokens: 256,
      stream: true,
      store: true,
      reasoning: { effort: "low", summary: "auto" },
      include: ["reasoning.encrypted_content"],
      parallel_tool_calls: false
    })
    expectValid(body)
  })

  it("store follows the provider option, and a providerOptions key set to undefined removes it", () => {
    expect(build({ model: "gpt-4.1", messages: "x" }, false, { ...options, store: true }).store).toBe(true)
    const body = build({
      model: "gpt-4.1",
      messages: "x",
      providerOptions: { "openai-responses": { store: undefined } }
    })
    expect("store" in body).toBe(false)
    expectValid(body)
  })

  it("stop sequences are an InvalidRequestError (the Responses API has none)", () => {
    const result = buildResponsesBody(
      request({ model: "gpt-4.1", messages: "x", stop: ["\n"] }),
      "gpt-4.1",
      false,
      options
    )
    expect(Either.isLeft(result)).toBe(true)
    const error = Either.flip(result).pipe(Either.getOrThrow)
    expect(error._tag).toBe("InvalidRequestError")
    expect(error.param).toBe("stop")
    expect(error.message).toContain("openai")
  })
})

describe("prompt-cache options reach the wire in both OpenAI modes", () => {
  it("Responses: prompt_cache_key and prompt_cache_retention pass the strict check", () => {
    const body = build({
      model: "gpt-4.1",
      messages: "x",
      providerOptions: { "openai-responses": { prompt_cache_key: "tenant-42", prompt_cache_retention: "24h" } }
    })
    expect(body.prompt_cache_key).toBe("tenant-42")
    expect(body.prompt_cache_retention).toBe("24h")
    expectValid(body)
    // the spec knows only "in_memory" and "24h"
    expect(validateResponsesRequest({ ...body, prompt_cache_retention: "1w" })).not.toEqual([])
  })

  it("Chat Completions: the same fields pass CreateChatCompletionRequest", () => {
    const body = buildChatBody(
      request({
        model: "gpt-4.1",
        messages: "x",
        providerOptions: { openai: { prompt_cache_key: "tenant-42", prompt_cache_retention: "in_memory" } }
      }),
      "gpt-4.1",
      true,
      {
        providerName: "openai",
        maxTokensField: "max_completion_tokens",
        includeStreamUsage: true,
        userField: "safety_identifier"
      }
    )
    expect(body.prompt_cache_key).toBe("tenant-42")
    expect(body.prompt_cache_retention).toBe("in_memory")
    const errors = validateChatRequest(body)
    expect(errors, describeErrors(errors)).toEqual([])
  })
})

describe("strict CreateResponse validation (negative)", () => {
  const valid = build({ model: "gpt-4.1", messages: "x", tools: [weatherTool] })

  it("the base body is valid", () => expectValid(valid))

  it("rejects an unknown top-level field", () => {
    const errors = validateResponsesRequest({ ...valid, max_tokens: 5 })
    expect(errors.some((e) => e.keyword === "unevaluatedProperties")).toBe(true)
  })

  it("rejects the Chat Completions tool shape (nested function)", () => {
    expect(validateResponsesRequest({
      ...valid,
      tools: [{ type: "function", function: { name: "weather", parameters: {} } }]
    })).not.toEqual([])
  })

  it("rejects a function tool without the required strict, and an extra field in an item", () => {
    expect(validateResponsesRequest({
      ...valid,
      tools: [{ type: "function", name: "weather", parameters: {} }]
    })).not.toEqual([])
    expect(validateResponsesRequest({
      ...valid,
      input: [{ type: "function_call_output", call_id: "c", output: "x", tool_call_id: "c" }]
    })).not.toEqual([])
  })

  it("rejects an input_image without detail and a chat-style image part", () => {
    expect(validateResponsesRequest({
      ...valid,
      input: [{ type: "message", role: "user", content: [{ type: "input_image", image_url: "https://x.test/a.png" }] }]
    })).not.toEqual([])
    expect(validateResponsesRequest({
      ...valid,
      input: [{ type: "message", role: "user", content: [{ type: "image_url", image_url: { url: "https://x" } }] }]
    })).not.toEqual([])
  })

  it("rejects max_output_tokens below the API minimum (16)", () => {
    expect(validateResponsesRequest({ ...valid, max_output_tokens: 5 })).not.toEqual([])
  })
})
