// Scripted tool calls in every wire format: parallel calls, argument deltas split across
// chunks, turns served per request (a tool loop's script), the reply after tool results,
// and scripts aimed at one model.
import { describe, expect, it } from "@effect/vitest"
import { MockServer } from "@llm-fiber/testing"
import { afterAll, afterEach, beforeAll } from "vitest"

let server: MockServer.Handle

beforeAll(async () => {
  server = await MockServer.start()
})
afterEach(() => server.reset())
afterAll(() => server.close())

const post = async (path: string, body: unknown): Promise<{ status: number; text: string }> => {
  const res = await fetch(server.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  return { status: res.status, text: await res.text() }
}

/** The data of each complete SSE event (LF or CRLF). */
const sseData = (text: string): Array<any> =>
  text.split(/\r\n\r\n|\n\n/).filter((b) => b.includes("data: ")).flatMap((block) => {
    const data = block.split(/\r\n|\n/).filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n")
    return data === "[DONE]" ? [] : [JSON.parse(data)]
  })

const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
const parallel = [
  { id: "call_a", name: "get_weather", arguments: { city: "Paris", note: "a fairly long argument value" } },
  { id: "call_b", name: "get_time", arguments: { city: "Rome", note: "another fairly long value" } }
]
const expected = parallel.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments }))

interface Format {
  readonly name: string
  /** A chat request (stream or not) for `model` whose last message is from the user. */
  readonly request: (model: string, stream: boolean) => { readonly path: string; readonly body: unknown }
  /** The same conversation after the calls, ending with their results (`sunny`, `noon`). */
  readonly followUp: (model: string) => { readonly path: string; readonly body: unknown }
  /** The calls of a JSON answer. */
  readonly calls: (json: any) => Array<{ id: string; name: string; arguments: unknown }>
  /** The calls of a streamed answer, and how many frames carried argument pieces. */
  readonly streamed: (events: Array<any>) => {
    calls: Array<{ id: string; name: string; arguments: unknown }>
    argumentFrames: number
  }
  readonly text: (json: any) => string
  /** Gemini has no streamed arguments and no call ids. */
  readonly streamsArguments: boolean
}

const openai: Format = {
  name: "OpenAI Chat Completions",
  request: (model, stream) => ({
    path: "/v1/chat/completions",
    body: {
      model,
      stream,
      messages: [{ role: "user", content: "weather and time?" }],
      tools: [
        { type: "function", function: { name: "get_weather", parameters: schema } },
        { type: "function", function: { name: "get_time", parameters: schema } }
      ]
    }
  }),
  followUp: (model) => ({
    path: "/v1/chat/completions",
    body: {
      model,
      messages: [
        { role: "user", content: "weather and time?" },
        {
          role: "assistant",
          content: null,
          tool_calls: parallel.map((c) => ({
            id: c.id,
            type: "function",
            function: { name: c.name, arguments: JSON.stringify(c.arguments) }
          }))
        },
        { role: "tool", tool_call_id: "call_a", content: "sunny" },
        { role: "tool", tool_call_id: "call_b", content: "noon" }
      ]
    }
  }),
  calls: (json) =>
    (json.choices[0].message.tool_calls ?? []).map((c: any) => ({
      id: c.id,
      name: c.function.name,
      arguments: JSON.parse(c.function.arguments)
    })),
  streamed: (events) => {
    const calls: Array<{ id: string; name: string; args: string }> = []
    let argumentFrames = 0
    for (const event of events) {
      for (const delta of event.choices?.[0]?.delta?.tool_calls ?? []) {
        if (delta.id !== undefined) calls[delta.index] = { id: delta.id, name: delta.function.name, args: "" }
        if (delta.function?.arguments) {
          argumentFrames++
          calls[delta.index]!.args += delta.function.arguments
        }
      }
    }
    return { calls: calls.map((c) => ({ id: c.id, name: c.name, arguments: JSON.parse(c.args) })), argumentFrames }
  },
  text: (json) => json.choices[0].message.content,
  streamsArguments: true
}

const responses: Format = {
  name: "OpenAI Responses",
  request: (model, stream) => ({
    path: "/v1/responses",
    body: {
      model,
      stream,
      input: "weather and time?",
      tools: [
        { type: "function", name: "get_weather", parameters: schema, strict: false },
        { type: "function", name: "get_time", parameters: schema, strict: false }
      ]
    }
  }),
  followUp: (model) => ({
    path: "/v1/responses",
    body: {
      model,
      input: [
        { type: "message", role: "user", content: "weather and time?" },
        ...parallel.map((c) => ({
          type: "function_call",
          call_id: c.id,
          name: c.name,
          arguments: JSON.stringify(c.arguments)
        })),
        { type: "function_call_output", call_id: "call_a", output: "sunny" },
        { type: "function_call_output", call_id: "call_b", output: "noon" }
      ]
    }
  }),
  calls: (json) =>
    json.output.filter((i: any) => i.type === "function_call").map((i: any) => ({
      id: i.call_id,
      name: i.name,
      arguments: JSON.parse(i.arguments)
    })),
  streamed: (events) => {
    const calls = new Map<number, { id: string; name: string; args: string }>()
    let argumentFrames = 0
    for (const event of events) {
      if (event.type === "response.output_item.added" && event.item.type === "function_call") {
        calls.set(event.output_index, { id: event.item.call_id, name: event.item.name, args: "" })
      } else if (event.type === "response.function_call_arguments.delta") {
        argumentFrames++
        calls.get(event.output_index)!.args += event.delta
      }
    }
    return {
      calls: [...calls.values()].map((c) => ({ id: c.id, name: c.name, arguments: JSON.parse(c.args) })),
      argumentFrames
    }
  },
  text: (json) => json.output[0].content[0].text,
  streamsArguments: true
}

const anthropic: Format = {
  name: "Anthropic Messages",
  request: (model, stream) => ({
    path: "/v1/messages",
    body: {
      model,
      stream,
      max_tokens: 100,
      messages: [{ role: "user", content: "weather and time?" }],
      tools: [{ name: "get_weather", input_schema: schema }, { name: "get_time", input_schema: schema }]
    }
  }),
  followUp: (model) => ({
    path: "/v1/messages",
    body: {
      model,
      max_tokens: 100,
      messages: [
        { role: "user", content: "weather and time?" },
        {
          role: "assistant",
          content: parallel.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.arguments }))
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "call_a", content: "sunny" },
            { type: "tool_result", tool_use_id: "call_b", content: "noon", is_error: true }
          ]
        }
      ]
    }
  }),
  calls: (json) =>
    json.content.filter((b: any) => b.type === "tool_use").map((b: any) => ({
      id: b.id,
      name: b.name,
      arguments: b.input
    })),
  streamed: (events) => {
    const calls = new Map<number, { id: string; name: string; args: string }>()
    let argumentFrames = 0
    for (const event of events) {
      if (event.type === "content_block_start" && event.content_block.type === "tool_use") {
        calls.set(event.index, { id: event.content_block.id, name: event.content_block.name, args: "" })
      } else if (event.type === "content_block_delta" && event.delta.type === "input_json_delta") {
        argumentFrames++
        calls.get(event.index)!.args += event.delta.partial_json
      }
    }
    return {
      calls: [...calls.values()].map((c) => ({ id: c.id, name: c.name, arguments: JSON.parse(c.args) })),
      argumentFrames
    }
  },
  text: (json) => json.content[0].text,
  streamsArguments: true
}

const geminiPath = (model: string, stream: boolean) =>
  `/v1beta/models/${encodeURIComponent(model)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`

const gemini: Format = {
  name: "Gemini",
  request: (model, stream) => ({
    path: geminiPath(model, stream),
    body: {
      contents: [{ role: "user", parts: [{ text: "weather and time?" }] }],
      tools: [{
        functionDeclarations: [
          {
            name: "get_weather",
            description: "",
            parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } }
          },
          {
            name: "get_time",
            description: "",
            parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } }
          }
        ]
      }]
    }
  }),
  followUp: (model) => ({
    path: geminiPath(model, false),
    body: {
      contents: [
        { role: "user", parts: [{ text: "weather and time?" }] },
        { role: "model", parts: parallel.map((c) => ({ functionCall: { name: c.name, args: c.arguments } })) },
        {
          role: "user",
          parts: [
            { functionResponse: { name: "get_weather", response: { result: "sunny" } } },
            { functionResponse: { name: "get_time", response: { error: "noon" } } }
          ]
        }
      ]
    }
  }),
  calls: (json) =>
    json.candidates[0].content.parts.filter((p: any) => p.functionCall).map((p: any) => ({
      id: "",
      name: p.functionCall.name,
      arguments: p.functionCall.args
    })),
  streamed: (events) => ({
    calls: events.flatMap((e) =>
      e.candidates[0].content.parts.filter((p: any) => p.functionCall).map((p: any) => ({
        id: "",
        name: p.functionCall.name,
        arguments: p.functionCall.args
      }))
    ),
    argumentFrames: 0
  }),
  text: (json) => json.candidates[0].content.parts[0].text,
  streamsArguments: false
}

const idsOf = (format: Format) => format.streamsArguments ? expected : expected.map((c) => ({ ...c, id: "" }))

describe.each([openai, responses, anthropic, gemini])("mock server tool calls: $name", (format) => {
  it("parallel scripted calls, in a JSON answer and streamed (arguments in pieces across chunks)", async () => {
    server.script([{ toolCalls: parallel }, { toolCalls: parallel, chunks: 3 }])
    const send = (stream: boolean) => {
      const request = format.request("model-x", stream)
      return post(request.path, request.body)
    }
    const json = await send(false)
    expect(json.status).toBe(200)
    expect(format.calls(JSON.parse(json.text))).toEqual(idsOf(format))
    const streamed = await send(true)
    expect(streamed.status).toBe(200)
    const { argumentFrames, calls } = format.streamed(sseData(streamed.text))
    expect(calls).toEqual(idsOf(format))
    // two calls, three pieces each
    if (format.streamsArguments) expect(argumentFrames).toBe(6)
  })

  it("a script of turns: calls for the first requests, then the reply that mentions the tool results", async () => {
    server.script([{ toolCalls: [parallel[0]!] }, { toolCalls: [parallel[1]!] }])
    const ask = async () => {
      const request = format.request("m", false)
      return JSON.parse((await post(request.path, request.body)).text)
    }
    const first = await ask()
    expect(format.calls(first).map((c) => c.name)).toEqual(["get_weather"])
    const second = await ask()
    expect(format.calls(second).map((c) => c.name)).toEqual(["get_time"])
    // the script is used up; the last message is a tool result: a text mentioning it
    const after = JSON.parse((await post(format.followUp("m").path, format.followUp("m").body)).text)
    const text = format.text(after)
    expect(text).toContain("The tool returned:")
    expect(text).toContain("sunny")
    expect(text).toContain("noon")
    expect(format.calls(after)).toEqual([])
  })
})

describe("mock server: scripts aimed at a model", () => {
  it("an item with `model` is served only to requests for that model (controls aside); others pass it by", async () => {
    server.script([{ model: "claude-x", text: "for claude" }, { text: "for anyone" }])
    const openaiReply = JSON.parse(
      (await post("/v1/chat/completions", { model: "gpt-x?chunks=2", messages: [{ role: "user", content: "hi" }] }))
        .text
    )
    expect(openaiReply.choices[0].message.content).toBe("for anyone")
    const claude = JSON.parse(
      (await post("/v1/messages", {
        model: "claude-x?chunks=1",
        max_tokens: 10,
        messages: [{ role: "user", content: "hi" }]
      })).text
    )
    expect(claude.content[0].text).toBe("for claude")
    const invalid = await post("/__mock/script", [{ model: 7 }])
    expect(invalid.status).toBe(400)
    expect(invalid.text).toContain("script[0].model must be a non-empty string")
  })
})
