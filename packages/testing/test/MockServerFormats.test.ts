import { describe, expect, it } from "@effect/vitest"
import { MockServer } from "@llm-fiber/testing"
import { Agent, request } from "undici"
import { afterAll, afterEach, beforeAll } from "vitest"

let server: MockServer.Handle
let agent: Agent

beforeAll(async () => {
  server = await MockServer.start()
  agent = new Agent({ keepAliveTimeout: 1000 })
})
afterEach(() => server.reset())
afterAll(async () => {
  await server.close()
  await agent.close()
})

interface PostOptions {
  readonly headers?: Record<string, string>
  readonly headersTimeout?: number
  readonly bodyTimeout?: number
}

const post = (path: string, body: unknown, options: PostOptions = {}) =>
  request(server.url + path, {
    dispatcher: agent,
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: JSON.stringify(body),
    ...(options.headersTimeout !== undefined ? { headersTimeout: options.headersTimeout } : {}),
    ...(options.bodyTimeout !== undefined ? { bodyTimeout: options.bodyTimeout } : {})
  })

interface SseEvent {
  readonly event: string | undefined
  readonly data: string
}

/** A spec-compliant SSE parse (LF or CRLF): complete events only; an unterminated one is dropped. */
const sse = (text: string): Array<SseEvent> => {
  const out: Array<SseEvent> = []
  const blocks = text.split(/\r\n\r\n|\n\n/)
  blocks.pop() // after the last blank line: an unterminated event, or ""
  for (const block of blocks) {
    let event: string | undefined
    const data: Array<string> = []
    for (const line of block.split(/\r\n|\n/)) {
      if (line.startsWith("event: ")) event = line.slice(7)
      else if (line.startsWith("data: ")) data.push(line.slice(6))
    }
    if (data.length > 0) out.push({ event, data: data.join("\n") })
  }
  return out
}

const tryJson = (text: string): any => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Read a body until it ends or fails; the text received and the error, if any. */
const drain = async (body: AsyncIterable<unknown>): Promise<{ text: string; error: any }> => {
  const received: Array<string> = []
  try {
    for await (const data of body) received.push(String(data))
    return { text: received.join(""), error: undefined }
  } catch (error) {
    return { text: received.join(""), error }
  }
}

// -----------------------------------------------------------------------------
// the three formats behind one small interface, for the shared fault tests
// -----------------------------------------------------------------------------

interface Format {
  readonly name: string
  readonly requestIdHeader: string
  readonly send: (model: string, stream: boolean, options?: PostOptions) => ReturnType<typeof post>
  /** The text deltas of a streamed body. */
  readonly deltas: (text: string) => Array<string>
  /** A complete stream: its finish reason and terminator were sent. */
  readonly complete: (text: string) => boolean
  /** The text of a JSON answer. */
  readonly text: (json: any) => string
  /** A rate-limit error body. */
  readonly isRateLimit: (json: any) => boolean
  /** The in-stream error of `error-event`. */
  readonly isStreamError: (event: SseEvent) => boolean
  /** The line ending of the SSE frames. */
  readonly eol: string
}

const openai: Format = {
  name: "openai",
  requestIdHeader: "x-request-id",
  send: (model, stream, options) =>
    post("/v1/chat/completions", { model, stream, messages: [{ role: "user", content: "hello" }] }, options),
  deltas: (text) =>
    sse(text).flatMap((e) => {
      const content = tryJson(e.data)?.choices?.[0]?.delta?.content
      return typeof content === "string" && content !== "" ? [content] : []
    }),
  complete: (text) =>
    text.endsWith("data: [DONE]\n\n") && sse(text).some((e) => tryJson(e.data)?.choices?.[0]?.finish_reason),
  text: (json) => json.choices[0].message.content,
  isRateLimit: (json) => json.error.code === "rate_limit_exceeded",
  isStreamError: (e) => tryJson(e.data)?.error?.type === "server_error",
  eol: "\n"
}

const anthropic: Format = {
  name: "anthropic",
  requestIdHeader: "request-id",
  send: (model, stream, options) =>
    post("/v1/messages", { model, stream, max_tokens: 1024, messages: [{ role: "user", content: "hello" }] }, {
      ...options,
      headers: { "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01", ...options?.headers }
    }),
  deltas: (text) =>
    sse(text).flatMap((e) => {
      const data = tryJson(e.data)
      return e.event === "content_block_delta" && data?.delta?.type === "text_delta" ? [data.delta.text] : []
    }),
  complete: (text) => {
    const events = sse(text)
    return events.at(-1)?.event === "message_stop" &&
      events.some((e) => e.event === "message_delta" && tryJson(e.data)?.delta?.stop_reason)
  },
  text: (json) => json.content[0].text,
  isRateLimit: (json) => json.type === "error" && json.error.type === "rate_limit_error",
  isStreamError: (e) => e.event === "error" && tryJson(e.data)?.error?.type === "overloaded_error",
  eol: "\n"
}

const geminiPath = (model: string, stream: boolean, version = "v1beta") =>
  `/${version}/models/${encodeURIComponent(model)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`

const gemini: Format = {
  name: "gemini",
  requestIdHeader: "x-request-id",
  send: (model, stream, options) =>
    post(geminiPath(model, stream), { contents: [{ role: "user", parts: [{ text: "hello" }] }] }, {
      ...options,
      headers: { "x-goog-api-key": "AIza-test", ...options?.headers }
    }),
  deltas: (text) =>
    sse(text).flatMap((e) => {
      const part = tryJson(e.data)?.candidates?.[0]?.content?.parts?.[0]
      return typeof part?.text === "string" && part.text !== "" ? [part.text] : []
    }),
  complete: (text) => sse(text).some((e) => tryJson(e.data)?.candidates?.[0]?.finishReason),
  text: (json) => json.candidates[0].content.parts[0].text,
  isRateLimit: (json) => json.error.code === 429 && json.error.status === "RESOURCE_EXHAUSTED",
  isStreamError: (e) => tryJson(e.data)?.error?.status === "UNAVAILABLE",
  eol: "\r\n"
}

const responsesFormat: Format = {
  name: "openai-responses",
  requestIdHeader: "x-request-id",
  send: (model, stream, options) => post("/v1/responses", { model, stream, input: "hello" }, options),
  deltas: (text) =>
    sse(text).flatMap((e) => {
      const data = tryJson(e.data)
      return e.event === "response.output_text.delta" && typeof data?.delta === "string" ? [data.delta] : []
    }),
  complete: (text) => {
    const last = sse(text).at(-1)
    return last?.event === "response.completed" && tryJson(last.data)?.response?.status === "completed"
  },
  text: (json) => json.output[0].content[0].text,
  isRateLimit: (json) => json.error.code === "rate_limit_exceeded",
  // the stream's terminal `response.failed` (it follows an `error` event); as JSON, the failed response
  isStreamError: (e) => {
    const data = tryJson(e.data)
    return (data?.type === "response.failed" ? data.response : data)?.status === "failed"
  },
  eol: "\n"
}

// -----------------------------------------------------------------------------
// Anthropic Messages
// -----------------------------------------------------------------------------

const weatherSchema = {
  type: "object",
  properties: { city: { type: "string" }, days: { type: "integer" }, unit: { type: "string", enum: ["c", "f"] } },
  required: ["city", "days", "unit"]
}
const weatherInput = { city: "example", days: 1, unit: "c" }

const messages = (body: Record<string, unknown>, options?: PostOptions) =>
  post("/v1/messages", {
    max_tokens: 1024,
    messages: [{ role: "user", content: "hello" }],
    ...body
  }, { ...options, headers: { "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01", ...options?.headers } })

describe("MockServer: the Anthropic Messages format", () => {
  it("answers JSON in the Messages shape, with a request-id header", async () => {
    const res = await messages({
      model: "claude-haiku-4-5",
      system: [{ type: "text", text: "Be brief." }],
      messages: [{ role: "user", content: [{ type: "text", text: "hi there" }] }]
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toBe("application/json")
    expect(res.headers["request-id"]).toMatch(/^req_mock_/)
    const json: any = await res.body.json()
    expect(json).toEqual({
      id: "msg_mock_1",
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [{ type: "text", text: "Mock reply to: hi there" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: 5, // ceil(("Be brief." + "hi there").length / 4)
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        service_tier: "standard"
      }
    })
  })

  it("streams the real event sequence; chunks=N gives N text deltas", async () => {
    const res = await messages({ model: "claude-haiku-4-5?chunks=5", stream: true })
    expect(res.headers["content-type"]).toContain("text/event-stream")
    expect(res.headers["request-id"]).toMatch(/^req_mock_/)
    const text = await res.body.text()
    const events = sse(text)
    // every event line names the type of its data
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event)
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      ...Array(5).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop"
    ])
    const data = events.map((e) => JSON.parse(e.data))
    expect(data[0].message).toMatchObject({
      id: "msg_mock_1",
      type: "message",
      role: "assistant",
      model: "claude-haiku-4-5",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }
    })
    expect(data[1]).toEqual({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })
    expect(anthropic.deltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 ", "tok4 ", "tok5 "])
    expect(data[8]).toEqual({ type: "content_block_stop", index: 0 })
    expect(data[9].delta).toEqual({ stop_reason: "end_turn", stop_sequence: null })
    expect(data[9].usage.output_tokens).toBe(5)
    expect(text.endsWith("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")).toBe(true)
  })

  it("answers tools with tool_use, input synthesized from input_schema; streams input_json_delta pieces", async () => {
    const tools = [
      { name: "get_weather", description: "weather", input_schema: weatherSchema },
      { name: "search", input_schema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } }
    ]
    const json: any = await (await messages({ model: "claude", tools })).body.json()
    expect(json.stop_reason).toBe("tool_use")
    expect(json.content).toHaveLength(1)
    expect(json.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: weatherInput })
    expect(json.content[0].id).toMatch(/^toolu_mock_/)

    const text = await (await messages({ model: "claude?chunks=3", tools, stream: true })).body.text()
    const events = sse(text)
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop"
    ])
    const data = events.map((e) => JSON.parse(e.data))
    expect(data[1].content_block).toMatchObject({ type: "tool_use", name: "get_weather", input: {} })
    expect(data[1].content_block.id).toMatch(/^toolu_mock_/)
    const pieces = data.filter((d) => d.type === "content_block_delta").map((d) => {
      expect(d.delta.type).toBe("input_json_delta")
      return d.delta.partial_json as string
    })
    expect(pieces).toHaveLength(3)
    expect(JSON.parse(pieces.join(""))).toEqual(weatherInput)
    expect(data.at(-2).delta.stop_reason).toBe("tool_use")

    // tool_choice { type: "tool" } forces a tool; "none" gives text
    const forced: any =
      await (await messages({ model: "claude", tools, tool_choice: { type: "tool", name: "search" } }))
        .body.json()
    expect(forced.content[0]).toMatchObject({ type: "tool_use", name: "search", input: { q: "example" } })
    const none: any = await (await messages({ model: "claude", tools, tool_choice: { type: "none" } })).body.json()
    expect(none.content).toEqual([{ type: "text", text: "Mock reply to: hello" }])
  })

  it("a tool_result gets a reply that mentions it", async () => {
    const json: any = await (await messages({
      model: "claude",
      tools: [{ name: "get_weather", input_schema: weatherSchema }],
      messages: [
        { role: "user", content: "weather in Paris?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }]
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "21 degrees" }] }]
        }
      ]
    })).body.json()
    expect(json.stop_reason).toBe("end_turn")
    expect(json.content[0].text).toBe("The tool returned: 21 degrees")
  })

  it("text and tool calls in one answer are two blocks (scripted)", async () => {
    server.script([{ text: "Let me check.", toolCalls: [{ name: "lookup", arguments: { id: 7 } }] }])
    const text = await (await messages({ model: "claude", stream: true })).body.text()
    const data = sse(text).map((e) => JSON.parse(e.data))
    const blocks = data.filter((d) => d.type === "content_block_start" || d.type === "content_block_stop")
    expect(blocks.map((d) => [d.type, d.index])).toEqual([
      ["content_block_start", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_stop", 1]
    ])
    expect(anthropic.deltas(text).join("")).toBe("Let me check.")
    const partial = data.filter((d) => d.delta?.type === "input_json_delta")
    expect(partial.every((d) => d.index === 1)).toBe(true)
    expect(JSON.parse(partial.map((d) => d.delta.partial_json).join(""))).toEqual({ id: 7 })
    server.script([{ text: "Let me check.", toolCalls: [{ name: "lookup", arguments: { id: 7 } }] }])
    const json: any = await (await messages({ model: "claude" })).body.json()
    expect(json.content.map((b: any) => b.type)).toEqual(["text", "tool_use"])
    expect(json.content[1].input).toEqual({ id: 7 })
  })

  it("max_tokens cuts the answer with stop_reason max_tokens", async () => {
    const json: any = await (await messages({ model: "claude?chunks=10", max_tokens: 3 })).body.json()
    expect(json.content[0].text).toBe("tok1 tok2 tok3 ")
    expect(json.stop_reason).toBe("max_tokens")
  })

  it("rejects bad bodies and controls with Anthropic-shaped 400s", async () => {
    for (
      const body of [
        { model: "claude", messages: [{ role: "user", content: "x" }] }, // no max_tokens
        { model: "claude", max_tokens: 10, messages: [{ role: "system", content: "x" }] },
        { max_tokens: 10, messages: [{ role: "user", content: "x" }] }
      ]
    ) {
      const res = await post("/v1/messages", body)
      expect(res.statusCode).toBe(400)
      const json: any = await res.body.json()
      expect(json.type).toBe("error")
      expect(json.error.type).toBe("invalid_request_error")
    }
    const res = await messages({ model: "claude?fault=nope" })
    expect(res.statusCode).toBe(400)
    expect(((await res.body.json()) as any).error.message).toContain("unknown fault \"nope\"")
  })

  it("records x-api-key and anthropic-version (not checked)", async () => {
    await (await messages({ model: "claude" })).body.dump()
    await (await post("/v1/messages", { model: "claude", max_tokens: 5, messages: [{ role: "user", content: "x" }] }))
      .body.dump()
    const [first, second] = server.requests
    expect(first!.path).toBe("/v1/messages")
    expect(first!.headers["x-api-key"]).toBe("sk-ant-test")
    expect(first!.headers["anthropic-version"]).toBe("2023-06-01")
    expect(second!.headers["x-api-key"]).toBeUndefined()
    expect(server.anthropicBaseUrl).toBe(server.url)
  })
})

// -----------------------------------------------------------------------------
// Gemini
// -----------------------------------------------------------------------------

const contents = (text: string) => [{ role: "user", parts: [{ text }] }]

const generate = (model: string, body: Record<string, unknown>, stream = false, options?: PostOptions) =>
  post(geminiPath(model, stream), { contents: contents("hello"), ...body }, {
    ...options,
    headers: { "x-goog-api-key": "AIza-test", ...options?.headers }
  })

const geminiTool = {
  functionDeclarations: [
    {
      name: "get_weather",
      description: "weather",
      parameters: {
        type: "OBJECT",
        properties: {
          city: { type: "STRING" },
          days: { type: "INTEGER" },
          unit: { type: "STRING", enum: ["c", "f"] }
        },
        required: ["city", "days", "unit"]
      }
    },
    { name: "search", parametersJsonSchema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } }
  ]
}

describe("MockServer: the Gemini format", () => {
  it("generateContent answers JSON in the GenerateContentResponse shape", async () => {
    const res = await generate("gemini-2.0-flash", {
      systemInstruction: { parts: [{ text: "Be brief." }] },
      contents: contents("hi there"),
      generationConfig: { temperature: 0 }
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toBe("application/json")
    const json: any = await res.body.json()
    expect(json).toEqual({
      candidates: [{
        content: { role: "model", parts: [{ text: "Mock reply to: hi there" }] },
        finishReason: "STOP",
        index: 0
      }],
      usageMetadata: {
        promptTokenCount: 5,
        candidatesTokenCount: 5,
        totalTokenCount: 10,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 5 }]
      },
      modelVersion: "gemini-2.0-flash",
      responseId: "mock-response-1"
    })
  })

  it("streamGenerateContent?alt=sse: CRLF data frames, one text part each, cumulative usage, no [DONE]", async () => {
    const res = await generate("gemini-2.0-flash?chunks=5", {}, true)
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toContain("text/event-stream")
    const text = await res.body.text()
    expect(text.startsWith("data: {")).toBe(true)
    expect(text.endsWith("}\r\n\r\n")).toBe(true)
    expect(text.split("\r\n\r\n").slice(0, -1).every((f) => f.startsWith("data: {") && !f.includes("\n"))).toBe(true)
    expect(text).not.toContain("[DONE]")
    const chunks = sse(text).map((e) => JSON.parse(e.data))
    expect(chunks).toHaveLength(5)
    expect(gemini.deltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 ", "tok4 ", "tok5 "])
    for (const chunk of chunks) {
      expect(chunk.candidates[0].content.role).toBe("model")
      expect(chunk.candidates[0].content.parts).toHaveLength(1)
      expect(chunk.modelVersion).toBe("gemini-2.0-flash")
      expect(chunk.responseId).toBe(chunks[0].responseId)
      expect(chunk.usageMetadata.promptTokenCount).toBe(2)
    }
    expect(chunks.map((c) => c.usageMetadata.candidatesTokenCount)).toEqual([1, 2, 3, 4, 5])
    expect(chunks.map((c) => c.candidates[0].finishReason)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      "STOP"
    ])
    expect(chunks.at(-1).usageMetadata.totalTokenCount).toBe(7)
  })

  it("decodes the model from the path: controls in the URL-encoded model, v1 and v1beta", async () => {
    const res = await post(geminiPath("gemini-2.0-flash?chunks=2&fault=429&times=1", false, "v1"), {
      contents: contents("x")
    })
    expect(res.statusCode).toBe(429)
    await res.body.dump()
    const ok: any = await (await post(geminiPath("gemini-2.0-flash?chunks=2&fault=429&times=1", false, "v1"), {
      contents: contents("x")
    })).body.json()
    expect(ok.candidates[0].content.parts[0].text).toBe("tok1 tok2 ")
    expect(ok.modelVersion).toBe("gemini-2.0-flash")
    expect(server.requests[0]!.path).toBe(
      "/v1/models/gemini-2.0-flash%3Fchunks%3D2%26fault%3D429%26times%3D1:generateContent"
    )
    // a raw "?" in the path (a client that does not encode the model) is read too
    const raw: any = await (await post("/v1beta/models/mock?chunks=3:generateContent", { contents: contents("x") }))
      .body.json()
    expect(raw.candidates[0].content.parts[0].text).toBe("tok1 tok2 tok3 ")
    expect(raw.modelVersion).toBe("mock")
  })

  it("answers tools with a functionCall, args from the (upper-case) schema; toolConfig forces or disables", async () => {
    const json: any = await (await generate("gemini", { tools: [geminiTool] })).body.json()
    expect(json.candidates[0].content.parts).toEqual([{ functionCall: { name: "get_weather", args: weatherInput } }])
    expect(json.candidates[0].finishReason).toBe("STOP")
    const forced: any = await (await generate("gemini", {
      tools: [geminiTool],
      toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["search"] } }
    })).body.json()
    expect(forced.candidates[0].content.parts[0].functionCall).toEqual({ name: "search", args: { q: "example" } })
    const none: any = await (await generate("gemini", {
      tools: [geminiTool],
      toolConfig: { functionCallingConfig: { mode: "NONE" } }
    })).body.json()
    expect(none.candidates[0].content.parts[0].text).toBe("Mock reply to: hello")
    // streamed: the whole call in one chunk, which carries the finish reason
    const text = await (await generate("gemini", { tools: [geminiTool] }, true)).body.text()
    const chunks = sse(text).map((e) => JSON.parse(e.data))
    expect(chunks).toHaveLength(1)
    expect(chunks[0].candidates[0].content.parts[0].functionCall).toEqual({ name: "get_weather", args: weatherInput })
    expect(chunks[0].candidates[0].finishReason).toBe("STOP")
  })

  it("a functionResponse gets a reply that mentions it", async () => {
    const json: any = await (await generate("gemini", {
      tools: [geminiTool],
      contents: [
        ...contents("weather in Paris?"),
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temperatureC: 21 } } }] }
      ]
    })).body.json()
    expect(json.candidates[0].content.parts[0].text).toBe("The tool returned: {\"temperatureC\":21}")
  })

  it("maxOutputTokens cuts with MAX_TOKENS; without alt=sse a stream is one JSON array", async () => {
    const json: any = await (await generate("gemini?chunks=10", { generationConfig: { maxOutputTokens: 2 } })).body
      .json()
    expect(json.candidates[0].content.parts[0].text).toBe("tok1 tok2 ")
    expect(json.candidates[0].finishReason).toBe("MAX_TOKENS")
    const array: any = await (await post(
      `/v1beta/models/${encodeURIComponent("gemini?chunks=3")}:streamGenerateContent`,
      { contents: contents("x") }
    )).body.json()
    expect(array).toHaveLength(3)
    expect(array.map((c: any) => c.candidates[0].content.parts[0].text)).toEqual(["tok1 ", "tok2 ", "tok3 "])
    expect(array[2].candidates[0].finishReason).toBe("STOP")
  })

  it("rejects bad bodies with Google-shaped 400s; unknown methods are Google-shaped 404s", async () => {
    const res = await generate("gemini", { contents: [] })
    expect(res.statusCode).toBe(400)
    const json: any = await res.body.json()
    expect(json.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" })
    expect(json.error.message).toContain("contents")
    const bad = await generate("gemini?fault=nope", {})
    expect(((await bad.body.json()) as any).error.message).toContain("unknown fault \"nope\"")
    const unknown = await post("/v1beta/models/gemini:countTokens", { contents: contents("x") })
    expect(unknown.statusCode).toBe(404)
    expect(((await unknown.body.json()) as any).error.status).toBe("NOT_FOUND")
  })

  it("records x-goog-api-key (not checked)", async () => {
    await (await generate("gemini", {})).body.dump()
    expect(server.requests[0]!.headers["x-goog-api-key"]).toBe("AIza-test")
    expect(server.geminiBaseUrl).toBe(server.url)
  })

  it("embedContent and batchEmbedContents give deterministic unit vectors", async () => {
    const one: any = await (await post("/v1beta/models/text-embedding-004:embedContent", {
      content: { parts: [{ text: "x" }] },
      outputDimensionality: 4
    })).body.json()
    expect(one.embedding.values).toHaveLength(4)
    const batch: any = await (await post("/v1beta/models/text-embedding-004:batchEmbedContents", {
      requests: [
        { model: "models/text-embedding-004", content: { parts: [{ text: "x" }] }, outputDimensionality: 4 },
        { model: "models/text-embedding-004", content: { parts: [{ text: "y" }] } }
      ]
    })).body.json()
    expect(batch.embeddings[0].values).toEqual(one.embedding.values)
    expect(batch.embeddings[1].values).toHaveLength(768)
    const failed = await post(`/v1beta/models/${encodeURIComponent("e?fault=503")}:embedContent`, {
      content: { parts: [{ text: "x" }] }
    })
    expect(failed.statusCode).toBe(503)
    expect(((await failed.body.json()) as any).error.status).toBe("UNAVAILABLE")
  })
})

// -----------------------------------------------------------------------------
// OpenAI Responses
// -----------------------------------------------------------------------------

const respond = (body: Record<string, unknown>, options?: PostOptions) =>
  post("/v1/responses", { input: "hello", ...body }, {
    ...options,
    headers: { authorization: "Bearer sk-test", ...options?.headers }
  })

const responsesTools = [
  { type: "function", name: "get_weather", description: "weather", parameters: weatherSchema, strict: false },
  {
    type: "function",
    name: "search",
    parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
    strict: false
  },
  { type: "web_search" } // a built-in tool: never called by the mock
]

/** The events of a Responses stream, checked: `event:` names the payload's type, sequence numbers count from 0. */
const responsesEvents = (text: string): Array<any> => {
  const events = sse(text)
  const data = events.map((e) => JSON.parse(e.data))
  data.forEach((d, i) => {
    expect(d.type).toBe(events[i]!.event)
    expect(d.sequence_number).toBe(i)
  })
  return data
}

describe("MockServer: the OpenAI Responses format", () => {
  it("answers JSON in the Response shape, echoing the request, with an x-request-id header", async () => {
    const res = await respond({
      model: "gpt-4.1-mini",
      instructions: "Be brief.",
      input: [{ role: "user", content: [{ type: "input_text", text: "hi there" }] }],
      max_output_tokens: 100,
      store: false
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toBe("application/json")
    expect(res.headers["x-request-id"]).toMatch(/^req_mock_/)
    const json: any = await res.body.json()
    expect(json).toEqual({
      id: "resp_mock_1",
      object: "response",
      created_at: expect.any(Number),
      status: "completed",
      background: false,
      error: null,
      incomplete_details: null,
      instructions: "Be brief.",
      max_output_tokens: 100,
      max_tool_calls: null,
      model: "gpt-4.1-mini",
      output: [{
        id: "msg_mock_1_0",
        type: "message",
        status: "completed",
        content: [{ type: "output_text", annotations: [], logprobs: [], text: "Mock reply to: hi there" }],
        role: "assistant"
      }],
      parallel_tool_calls: true,
      previous_response_id: null,
      prompt_cache_key: null,
      reasoning: { effort: null, summary: null },
      safety_identifier: null,
      service_tier: "default",
      store: false,
      temperature: 1,
      text: { format: { type: "text" }, verbosity: "medium" },
      tool_choice: "auto",
      tools: [],
      top_logprobs: 0,
      top_p: 1,
      truncation: "disabled",
      usage: {
        input_tokens: 5, // ceil(("Be brief." + "hi there").length / 4)
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 10
      },
      user: null,
      metadata: {}
    })
    expect(server.requests[0]!.path).toBe("/v1/responses")
    expect(server.requests[0]!.headers.authorization).toBe("Bearer sk-test")
    expect(server.openaiBaseUrl + "/responses").toBe(server.url + "/v1/responses")
  })

  it("streams the real event sequence with sequence numbers; chunks=N gives N output_text deltas", async () => {
    const res = await respond({ model: "gpt-4.1-mini?chunks=5", stream: true })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toContain("text/event-stream")
    expect(res.headers["x-request-id"]).toMatch(/^req_mock_/)
    const text = await res.body.text()
    expect(text.startsWith("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,"))
      .toBe(true)
    const data = responsesEvents(text)
    expect(data.map((d) => d.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...Array(5).fill("response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed"
    ])
    for (const d of data.slice(0, 2)) {
      expect(d.response).toMatchObject({
        id: "resp_mock_1",
        object: "response",
        status: "in_progress",
        model: "gpt-4.1-mini",
        output: [],
        usage: null
      })
    }
    expect(data[2]).toEqual({
      type: "response.output_item.added",
      sequence_number: 2,
      output_index: 0,
      item: { id: "msg_mock_1_0", type: "message", status: "in_progress", content: [], role: "assistant" }
    })
    const part = { type: "output_text", annotations: [], logprobs: [], text: "" }
    const at = { item_id: "msg_mock_1_0", output_index: 0, content_index: 0 }
    expect(data[3]).toEqual({ type: "response.content_part.added", sequence_number: 3, ...at, part })
    expect(data[4]).toEqual({
      type: "response.output_text.delta",
      sequence_number: 4,
      ...at,
      delta: "tok1 ",
      logprobs: []
    })
    expect(responsesFormat.deltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 ", "tok4 ", "tok5 "])
    const full = "tok1 tok2 tok3 tok4 tok5 "
    expect(data[9]).toEqual({ type: "response.output_text.done", sequence_number: 9, ...at, text: full, logprobs: [] })
    expect(data[10]).toEqual({
      type: "response.content_part.done",
      sequence_number: 10,
      ...at,
      part: { ...part, text: full }
    })
    const item = {
      id: "msg_mock_1_0",
      type: "message",
      status: "completed",
      content: [{ ...part, text: full }],
      role: "assistant"
    }
    expect(data[11]).toEqual({ type: "response.output_item.done", sequence_number: 11, output_index: 0, item })
    expect(data[12].response).toMatchObject({
      id: "resp_mock_1",
      status: "completed",
      incomplete_details: null,
      output: [item],
      usage: {
        input_tokens: 2,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 7
      }
    })
    // the streamed final response is the JSON answer
    server.reset()
    const json: any = await (await respond({ model: "gpt-4.1-mini?chunks=5" })).body.json()
    expect({ ...json, created_at: 0 }).toEqual({ ...data[12].response, created_at: 0 })
  })

  it("answers tools with a function_call item, arguments from the schema; streams argument deltas", async () => {
    const json: any = await (await respond({ model: "gpt-4.1", tools: responsesTools })).body.json()
    expect(json.status).toBe("completed")
    expect(json.output).toHaveLength(1)
    expect(json.output[0]).toMatchObject({
      id: "fc_mock_1_0",
      type: "function_call",
      status: "completed",
      name: "get_weather"
    })
    expect(json.output[0].call_id).toMatch(/^call_mock_/)
    expect(JSON.parse(json.output[0].arguments)).toEqual(weatherInput)
    expect(json.usage.output_tokens).toBeGreaterThan(0)

    const text = await (await respond({ model: "gpt-4.1?chunks=3", tools: responsesTools, stream: true })).body.text()
    const data = responsesEvents(text)
    expect(data.map((d) => d.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed"
    ])
    expect(data[2].item).toEqual({
      id: "fc_mock_2_0",
      type: "function_call",
      status: "in_progress",
      arguments: "",
      call_id: expect.stringMatching(/^call_mock_/),
      name: "get_weather"
    })
    const pieces = data.filter((d) => d.type === "response.function_call_arguments.delta")
    for (const d of pieces) expect(d).toMatchObject({ item_id: "fc_mock_2_0", output_index: 0 })
    const args = pieces.map((d) => d.delta as string).join("")
    expect(JSON.parse(args)).toEqual(weatherInput)
    expect(data[6]).toEqual({
      type: "response.function_call_arguments.done",
      sequence_number: 6,
      item_id: "fc_mock_2_0",
      name: "get_weather",
      output_index: 0,
      arguments: args
    })
    expect(data[7].item).toEqual({ ...data[2].item, status: "completed", arguments: args })
    expect(data[8].response.output).toEqual([data[7].item])
    expect(data[8].response.status).toBe("completed")
    expect(data[8].response.usage.output_tokens).toBe(3)

    // tool_choice { type: "function", name } forces a tool; "none" gives text
    const forced: any = await (await respond({
      model: "gpt-4.1",
      tools: responsesTools,
      tool_choice: { type: "function", name: "search" }
    })).body.json()
    expect(forced.output[0]).toMatchObject({ type: "function_call", name: "search", arguments: "{\"q\":\"example\"}" })
    expect(forced.tool_choice).toEqual({ type: "function", name: "search" })
    const none: any = await (await respond({ model: "gpt-4.1", tools: responsesTools, tool_choice: "none" })).body
      .json()
    expect(none.output[0].content[0].text).toBe("Mock reply to: hello")
  })

  it("a function_call_output gets a reply that mentions it; input items of every kind are read", async () => {
    const res = await respond({
      model: "gpt-4.1",
      tools: responsesTools,
      input: [
        { type: "message", role: "developer", content: "Use tools." },
        { role: "user", content: "weather in Paris and Oslo?" }, // an EasyInputMessage without type
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: "{\"city\":\"Paris\"}" },
        { type: "function_call", call_id: "call_2", name: "get_weather", arguments: "{\"city\":\"Oslo\"}" },
        { type: "function_call_output", call_id: "call_1", output: "21 degrees" },
        { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "-3 degrees" }] }
      ]
    })
    const json: any = await res.body.json()
    expect(json.status).toBe("completed")
    expect(json.output[0].content[0].text).toBe("The tool returned: 21 degrees; -3 degrees")
    // a user message last: a tool call again; with a string input too
    const again: any = await (await respond({ model: "gpt-4.1", tools: responsesTools, input: "and Rome?" })).body
      .json()
    expect(again.output[0].type).toBe("function_call")
    const plain: any = await (await respond({
      model: "gpt-4.1",
      input: [{
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: "a" }, { type: "input_text", text: "b" }]
      }]
    })).body.json()
    expect(plain.output[0].content[0].text).toBe("Mock reply to: ab")
  })

  it("text and function calls in one answer: one item each, output_index in order (scripted)", async () => {
    const script = { text: "Let me check.", toolCalls: [{ name: "lookup", arguments: { id: 7 } }, { name: "ping" }] }
    server.script([script])
    const text = await (await respond({ model: "gpt-4.1", stream: true })).body.text()
    const data = responsesEvents(text)
    const items = data.filter((d) => d.type === "response.output_item.added" || d.type === "response.output_item.done")
    expect(items.map((d) => [d.type, d.output_index, d.item.type])).toEqual([
      ["response.output_item.added", 0, "message"],
      ["response.output_item.done", 0, "message"],
      ["response.output_item.added", 1, "function_call"],
      ["response.output_item.done", 1, "function_call"],
      ["response.output_item.added", 2, "function_call"],
      ["response.output_item.done", 2, "function_call"]
    ])
    expect(responsesFormat.deltas(text).join("")).toBe("Let me check.")
    const args = (index: number) =>
      data.filter((d) => d.type === "response.function_call_arguments.delta" && d.output_index === index)
        .map((d) => d.delta).join("")
    expect(JSON.parse(args(1))).toEqual({ id: 7 })
    expect(JSON.parse(args(2))).toEqual({})
    const completed = data.at(-1)
    expect(completed.type).toBe("response.completed")
    expect(completed.response.output.map((o: any) => o.type)).toEqual(["message", "function_call", "function_call"])
    server.script([script])
    const json: any = await (await respond({ model: "gpt-4.1" })).body.json()
    expect(json.output.map((o: any) => [o.type, o.name])).toEqual([
      ["message", undefined],
      ["function_call", "lookup"],
      ["function_call", "ping"]
    ])
  })

  it("max_output_tokens cuts the answer: status incomplete, response.incomplete when streaming", async () => {
    const json: any = await (await respond({ model: "gpt-4.1?chunks=10", max_output_tokens: 3 })).body.json()
    expect(json.status).toBe("incomplete")
    expect(json.incomplete_details).toEqual({ reason: "max_output_tokens" })
    expect(json.output[0].status).toBe("incomplete")
    expect(json.output[0].content[0].text).toBe("tok1 tok2 tok3 ")
    expect(json.usage.output_tokens).toBe(3)
    const text = await (await respond({ model: "gpt-4.1?chunks=10", max_output_tokens: 3, stream: true })).body.text()
    const data = responsesEvents(text)
    expect(responsesFormat.deltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 "])
    expect(data.some((d) => d.type === "response.completed")).toBe(false)
    const last = data.at(-1)
    expect(last.type).toBe("response.incomplete")
    expect(last.response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      max_output_tokens: 3
    })
    expect(last.response.output[0].status).toBe("incomplete")
  })

  it("error-event: deltas, an error event, then response.failed — sequence numbers unbroken", async () => {
    const text = await (await respond({ model: "gpt-4.1?chunks=6&fault=error-event", stream: true })).body.text()
    const data = responsesEvents(text)
    expect(data.map((d) => d.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "error",
      "response.failed"
    ])
    expect(data[7]).toEqual({
      type: "error",
      sequence_number: 7,
      code: "server_error",
      message: expect.any(String),
      param: null
    })
    expect(data[8].response).toMatchObject({
      id: "resp_mock_1",
      status: "failed",
      error: { code: "server_error", message: data[7].message },
      usage: null
    })
    // a cut in the middle of a function call's arguments
    const call = await (await respond({
      model: "gpt-4.1?chunks=4&fault=error-event",
      tools: responsesTools,
      stream: true
    })).body.text()
    expect(responsesEvents(call).map((d) => d.type).slice(-4)).toEqual([
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "error",
      "response.failed"
    ])
    const json: any = await (await respond({ model: "gpt-4.1?fault=error-event" })).body.json()
    expect(json).toMatchObject({
      object: "response",
      status: "failed",
      error: { code: "server_error" },
      output: [],
      usage: null
    })
  })

  it("no-done: every delta, no response.completed; JSON: status in_progress", async () => {
    const text = await (await respond({ model: "gpt-4.1?chunks=3&fault=no-done", stream: true })).body.text()
    const data = responsesEvents(text)
    expect(data.map((d) => d.type).slice(-3)).toEqual(Array(3).fill("response.output_text.delta"))
    expect(text).not.toContain("response.completed")
    expect(text).not.toContain("response.incomplete")
    expect(text).not.toContain(".done")
    const json: any = await (await respond({ model: "gpt-4.1?fault=no-done" })).body.json()
    expect(json.status).toBe("in_progress")
    expect(json.usage).toBeNull()
  })

  it("cut streams keep their sequence numbers; malformed-json breaks exactly one frame", async () => {
    for (const fault of ["reset-mid-stream", "stall-mid-stream", "malformed-json"]) {
      const res = await respond({ model: `gpt-4.1?chunks=6&fault=${fault}`, stream: true }, { bodyTimeout: 150 })
      const { text } = await drain(res.body)
      const events = sse(text)
      const parsed = events.map((e) => tryJson(e.data))
      const good = parsed.filter((d) => d !== undefined)
      good.forEach((d, i) => expect([fault, d.sequence_number]).toEqual([fault, i]))
      expect([fault, parsed.length - good.length]).toEqual([fault, fault === "malformed-json" ? 1 : 0])
      expect(text).not.toContain("response.completed")
    }
    await server.waitForClientClose()
  })

  it("huge-body: the text travels once, in its delta", async () => {
    const text = await (await respond({ model: "gpt-4.1?fault=huge-body&hugeBytes=100000", stream: true })).body.text()
    const data = responsesEvents(text)
    expect(responsesFormat.deltas(text).map((d) => d.length)).toEqual([100000])
    expect(data.find((d) => d.type === "response.output_text.done").text).toBe("")
    expect(data.at(-1).type).toBe("response.completed")
  })

  it("error faults: OpenAI-shaped bodies with the HTTP status", async () => {
    for (
      const [fault, status, type, code] of [
        ["429", 429, "requests", "rate_limit_exceeded"],
        ["500", 500, "server_error", null],
        ["503", 503, "server_error", null],
        ["529", 529, "server_error", null],
        ["401", 401, "invalid_request_error", "invalid_api_key"],
        ["403", 403, "request_forbidden", "unsupported_country_region_territory"],
        ["400-context", 400, "invalid_request_error", "context_length_exceeded"]
      ] as const
    ) {
      const res = await respond({ model: `gpt-4.1?fault=${fault}&retryAfterMs=1500`, stream: true })
      expect([fault, res.statusCode]).toEqual([fault, status])
      expect(res.headers["x-request-id"]).toMatch(/^req_mock_/)
      if (fault !== "401" && fault !== "403" && fault !== "400-context" && fault !== "500") {
        expect([fault, res.headers["retry-after"], res.headers["retry-after-ms"]]).toEqual([fault, "2", "1500"])
      }
      const json: any = await res.body.json()
      expect(json).toEqual({
        error: { message: expect.any(String), type, param: fault === "400-context" ? "input" : null, code }
      })
    }
  })

  it("rejects bad bodies and controls with OpenAI-shaped 400s", async () => {
    for (
      const [body, words] of [
        [{ input: "x" }, "model"],
        [{ model: "gpt-4.1", input: undefined }, "input"],
        [{ model: "gpt-4.1", input: [] }, "input"],
        [{ model: "gpt-4.1", input: 42 }, "input"],
        [{ model: "gpt-4.1", input: [{ type: "message", role: "tool", content: "x" }] }, "input[0].role"],
        [{ model: "gpt-4.1", input: [{ type: "message", role: "user" }] }, "input[0].content"],
        [{ model: "gpt-4.1?chunks=0" }, "chunks"]
      ] as const
    ) {
      const res = await post("/v1/responses", { input: "x", ...(body as Record<string, unknown>) })
      expect(res.statusCode).toBe(400)
      const json: any = await res.body.json()
      expect(json.error.type).toBe("invalid_request_error")
      expect(json.error.message).toContain(words)
    }
    const invalid = await request(server.url + "/v1/responses", { dispatcher: agent, method: "POST", body: "{" })
    expect(invalid.statusCode).toBe(400)
    expect(((await invalid.body.json()) as any).error.type).toBe("invalid_request_error")
  })
})

// -----------------------------------------------------------------------------
// error shapes per format
// -----------------------------------------------------------------------------

describe("MockServer: error responses per format", () => {
  it("429: Anthropic retry headers and rate_limit_error; times=N then success", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await anthropic.send("claude?fault=429&times=2&retryAfterMs=1500", true)
      expect(res.statusCode).toBe(429)
      expect(res.headers["retry-after"]).toBe("2")
      expect(res.headers["retry-after-ms"]).toBe("1500")
      expect(res.headers["request-id"]).toMatch(/^req_mock_/)
      expect(res.headers["anthropic-ratelimit-requests-remaining"]).toBe("0")
      expect(await res.body.json()).toEqual({
        type: "error",
        error: { type: "rate_limit_error", message: expect.any(String) }
      })
    }
    const ok = await anthropic.send("claude?fault=429&times=2&retryAfterMs=1500", true)
    expect(ok.statusCode).toBe(200)
    expect(anthropic.complete(await ok.body.text())).toBe(true)
  })

  it("429: Gemini RetryInfo from retryAfterMs, no retry headers; times=N then success", async () => {
    const res = await gemini.send("gemini?fault=429&times=1&retryAfterMs=50", true)
    expect(res.statusCode).toBe(429)
    expect(res.headers["retry-after"]).toBeUndefined()
    const json: any = await res.body.json()
    expect(json.error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED", message: expect.any(String) })
    expect(json.error.details).toContainEqual({
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: "0.05s"
    })
    const ok = await gemini.send("gemini?fault=429&times=1&retryAfterMs=50", true)
    expect(ok.statusCode).toBe(200)
    expect(gemini.complete(await ok.body.text())).toBe(true)
    const byDefault: any = await (await gemini.send("gemini?fault=429", false)).body.json()
    expect(byDefault.error.details.find((d: any) => d["@type"].endsWith("RetryInfo")).retryDelay).toBe("0.01s")
  })

  it.each([
    ["500", 500, "api_error"],
    ["503", 503, "api_error"],
    ["529", 529, "overloaded_error"],
    ["401", 401, "authentication_error"],
    ["403", 403, "permission_error"],
    ["400-context", 400, "invalid_request_error"]
  ])("Anthropic fault %s", async (fault, status, type) => {
    const res = await anthropic.send(`claude?fault=${fault}`, true)
    expect(res.statusCode).toBe(status)
    expect(res.headers["request-id"]).toMatch(/^req_mock_/)
    expect(await res.body.json()).toEqual({ type: "error", error: { type, message: expect.any(String) } })
  })

  it.each([
    ["500", 500, "INTERNAL"],
    ["503", 503, "UNAVAILABLE"],
    ["529", 529, "UNAVAILABLE"],
    ["401", 401, "UNAUTHENTICATED"],
    ["403", 403, "PERMISSION_DENIED"],
    ["400-context", 400, "INVALID_ARGUMENT"]
  ])("Gemini fault %s", async (fault, status, code) => {
    const res = await gemini.send(`gemini?fault=${fault}`, true)
    expect(res.statusCode).toBe(status)
    const json: any = await res.body.json()
    expect(json.error).toMatchObject({ code: status, status: code, message: expect.any(String) })
  })

  it.each([["503", 503], ["529", 529], ["403", 403]])("OpenAI fault %s", async (fault, status) => {
    const res = await openai.send(`mock?fault=${fault}&retryAfterMs=2000`, true)
    expect(res.statusCode).toBe(status)
    if (status !== 403) expect(res.headers["retry-after-ms"]).toBe("2000")
    expect(typeof ((await res.body.json()) as any).error.message).toBe("string")
  })

  it("503/529 carry a retry hint when retryAfterMs is set", async () => {
    const a = await anthropic.send("claude?fault=529&retryAfterMs=3000", false)
    expect(a.headers["retry-after"]).toBe("3")
    await a.body.dump()
    const g: any = await (await gemini.send("gemini?fault=503&retryAfterMs=1500", false)).body.json()
    expect(g.error.details).toEqual([{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1.5s" }])
  })
})

// -----------------------------------------------------------------------------
// stream faults, for every format
// -----------------------------------------------------------------------------

describe.each([openai, responsesFormat, anthropic, gemini])("MockServer: faults, $name format", (format) => {
  it("429 body in the format's shape", async () => {
    const res = await format.send("m?fault=429", true)
    expect(res.statusCode).toBe(429)
    expect(format.isRateLimit(await res.body.json())).toBe(true)
  })

  it("a normal stream is complete; chunkDelayMs paces it", async () => {
    const started = Date.now()
    const text = await (await format.send("m?chunks=4&chunkDelayMs=25", true)).body.text()
    expect(Date.now() - started).toBeGreaterThanOrEqual(75)
    expect(format.deltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 ", "tok4 "])
    expect(format.complete(text)).toBe(true)
  })

  it("reset-before-headers: a socket error", async () => {
    const error: any = await format.send("m?fault=reset-before-headers", true).catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(String(error.code ?? error.cause?.code)).toMatch(/UND_ERR_SOCKET|ECONNRESET/)
  })

  it("reset-mid-stream: half of the deltas, then the body fails", async () => {
    const res = await format.send("m?fault=reset-mid-stream&chunks=6", true)
    expect(res.statusCode).toBe(200)
    const { error, text } = await drain(res.body)
    expect(error).toBeInstanceOf(Error)
    expect(format.deltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 "])
    expect(format.complete(text)).toBe(false)
    const json = await format.send("m?fault=reset-mid-stream", false)
    expect(await json.body.text().catch((e) => e)).toBeInstanceOf(Error)
  })

  it("stall: no headers ever", async () => {
    const error: any = await format.send("m?fault=stall", true, { headersTimeout: 150 }).catch((e) => e)
    expect(error.code).toBe("UND_ERR_HEADERS_TIMEOUT")
    await server.waitForClientClose()
  })

  it("stall-mid-stream: half of the deltas, then silence", async () => {
    const res = await format.send("m?fault=stall-mid-stream&chunks=4", true, { bodyTimeout: 150 })
    const { error, text } = await drain(res.body)
    expect(error.code).toBe("UND_ERR_BODY_TIMEOUT")
    expect(format.deltas(text)).toEqual(["tok1 ", "tok2 "])
    expect(format.complete(text)).toBe(false)
  })

  it("malformed-json: exactly one data frame does not parse", async () => {
    const text = await (await format.send("m?fault=malformed-json&chunks=4", true)).body.text()
    const bad = sse(text).filter((e) => e.data !== "[DONE]" && tryJson(e.data) === undefined)
    expect(bad).toHaveLength(1)
    expect(format.deltas(text)).toEqual(["tok1 "])
    expect(format.complete(text)).toBe(false)
    const res = await format.send("m?fault=malformed-json", false)
    expect(res.statusCode).toBe(200)
    expect(tryJson(await res.body.text())).toBeUndefined()
  })

  it("malformed-sse: garbage, then an unterminated event, no terminator", async () => {
    const res = await format.send("m?fault=malformed-sse&chunks=4", true)
    expect(res.headers["content-type"]).toContain("text/event-stream")
    const text = await res.body.text()
    expect(text).toContain(`this is not an SSE frame${format.eol}`)
    expect(text.endsWith(format.eol + format.eol)).toBe(false)
    expect(text.endsWith(format.eol)).toBe(true)
    expect(format.complete(text)).toBe(false)
  })

  it("no-done: all the content, then the end without finish reason or terminator", async () => {
    const text = await (await format.send("m?fault=no-done&chunks=3", true)).body.text()
    expect(format.deltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 "])
    expect(format.complete(text)).toBe(false)
    expect(text).not.toContain("[DONE]")
    expect(text).not.toContain("finishReason")
    expect(text).not.toContain("message_stop")
    expect(text).not.toContain("message_delta")
    expect(text).not.toContain("\"finish_reason\":\"")
    const json: any = await (await format.send("m?fault=no-done", false)).body.json()
    expect(JSON.stringify(json)).not.toMatch(/"finishReason"|"(stop_reason|finish_reason)":"/)
  })

  it("wrong-content-type: 200 text/html", async () => {
    const res = await format.send("m?fault=wrong-content-type", true)
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toContain("text/html")
    expect(await res.body.text()).toContain("<html>")
  })

  it("huge-body: one delta of hugeBytes, then the normal end; JSON with an exact content-length", async () => {
    const text = await (await format.send("m?fault=huge-body&hugeBytes=1048576", true)).body.text()
    expect(format.deltas(text).map((d) => d.length)).toEqual([1048576])
    expect(format.complete(text)).toBe(true)
    const res = await format.send("m?fault=huge-body&hugeBytes=1048576", false)
    const body = await res.body.text()
    expect(Number(res.headers["content-length"])).toBe(Buffer.byteLength(body))
    expect(format.text(JSON.parse(body))).toHaveLength(1048576)
  })

  it("huge-body streams 50 MiB by default, fast", async () => {
    const started = Date.now()
    const res = await format.send("m?fault=huge-body", true)
    let bytes = 0
    for await (const data of res.body) bytes += (data as Buffer).length
    expect(bytes).toBeGreaterThan(50 * 1024 * 1024)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it("error-event: some deltas, then an in-stream error, then the end", async () => {
    const res = await format.send("m?fault=error-event&chunks=4", true)
    expect(res.statusCode).toBe(200)
    expect(res.headers[format.requestIdHeader]).toMatch(/^req_mock_/)
    const text = await res.body.text()
    expect(format.deltas(text)).toEqual(["tok1 ", "tok2 "])
    const events = sse(text)
    expect(format.isStreamError(events.at(-1)!)).toBe(true)
    expect(events.filter(format.isStreamError)).toHaveLength(1)
    expect(format.complete(text)).toBe(false)
    expect(text.endsWith(format.eol + format.eol)).toBe(true)
    const json = await format.send("m?fault=error-event", false)
    expect(json.statusCode).toBe(200)
    expect(format.isStreamError({ event: "error", data: await json.body.text() })).toBe(true)
  })

  it("times=N: the fault, N times, then success", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await format.send("m?fault=500&times=2", true)
      expect(res.statusCode).toBe(500)
      await res.body.dump()
    }
    const ok = await format.send("m?fault=500&times=2", true)
    expect(format.complete(await ok.body.text())).toBe(true)
  })

  it("delayMs and x-mock-* headers", async () => {
    const started = Date.now()
    const res = await format.send("m", true, { headers: { "x-mock-delay-ms": "60", "x-mock-chunks": "2" } })
    expect(format.deltas(await res.body.text())).toEqual(["tok1 ", "tok2 "])
    expect(Date.now() - started).toBeGreaterThanOrEqual(50)
  })

  it("scripted responses win over the request's fault", async () => {
    server.script([{ text: "abcdef", chunks: 3 }, { fault: "503" }])
    const text = await (await format.send("m?fault=500", true)).body.text()
    expect(format.deltas(text)).toEqual(["ab", "cd", "ef"])
    const failed = await format.send("m", true)
    expect(failed.statusCode).toBe(503)
    await failed.body.dump()
  })
})
