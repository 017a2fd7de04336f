import { describe, expect, it } from "@effect/vitest"
import { MockServer } from "@llm-fiber/testing"
import { Effect } from "effect"
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

const user = (content: string) => [{ role: "user", content }]

interface PostOptions {
  readonly headers?: Record<string, string>
  readonly headersTimeout?: number
  readonly bodyTimeout?: number
  readonly signal?: AbortSignal
}

const post = (path: string, body: unknown, options: PostOptions = {}) =>
  request(server.url + path, {
    dispatcher: agent,
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-test", ...options.headers },
    body: JSON.stringify(body),
    ...(options.headersTimeout !== undefined ? { headersTimeout: options.headersTimeout } : {}),
    ...(options.bodyTimeout !== undefined ? { bodyTimeout: options.bodyTimeout } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {})
  })

const chat = (body: Record<string, unknown>, options?: PostOptions) =>
  post("/v1/chat/completions", { messages: user("hello"), ...body }, options)

/** The data payloads of an SSE body. */
const frames = (text: string): Array<string> =>
  text.split("\n\n").filter((f) => f !== "").map((f) => {
    expect(f.startsWith("data: ")).toBe(true)
    return f.slice(6)
  })

const chunks = (text: string): Array<any> => frames(text).filter((d) => d !== "[DONE]").map((d) => JSON.parse(d))

const contentDeltas = (text: string): Array<string> =>
  chunks(text).flatMap((c) => {
    const content = c.choices[0]?.delta?.content
    return typeof content === "string" && content !== "" ? [content] : []
  })

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer" },
        detailed: { type: "boolean" },
        tags: { type: "array", items: { type: "string" } },
        where: { type: "object", properties: { lat: { type: "number" } }, required: ["lat"] },
        optional: { type: "string" }
      },
      required: ["city", "unit", "days", "detailed", "tags", "where"]
    }
  }
}
const search = {
  type: "function",
  function: { name: "search", parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } }
}

describe("MockServer: the OpenAI Chat Completions format", () => {
  it("binds loopback on a free port", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.openaiBaseUrl).toBe(`${server.url}/v1`)
    expect(server.port).toBeGreaterThan(0)
  })

  it("answers JSON with a deterministic reply, usage and a request id", async () => {
    const res = await chat({
      model: "gpt-4o-mini",
      messages: [{ role: "system", content: "Be brief." }, ...user("hi there")]
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toBe("application/json")
    expect(res.headers["x-request-id"]).toMatch(/^req_mock_/)
    const json: any = await res.body.json()
    expect(json.id).toBe("chatcmpl-mock-1")
    expect(json.object).toBe("chat.completion")
    expect(json.model).toBe("gpt-4o-mini")
    expect(json.choices[0].message).toMatchObject({ role: "assistant", content: "Mock reply to: hi there" })
    expect(json.choices[0].finish_reason).toBe("stop")
    // prompt: ceil(("Be brief." + "hi there").length / 4) = 5; completion: one token per word delta
    expect(json.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 })
  })

  it("streams SSE frames ending with [DONE]; chunks=N gives N content deltas", async () => {
    const res = await chat({ model: "gpt-4o-mini?chunks=5", stream: true })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toContain("text/event-stream")
    const text = await res.body.text()
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true)
    const parsed = chunks(text)
    expect(parsed.every((c) => c.object === "chat.completion.chunk" && c.model === "gpt-4o-mini")).toBe(true)
    expect(parsed[0].choices[0].delta.role).toBe("assistant")
    expect(contentDeltas(text)).toEqual(["tok1 ", "tok2 ", "tok3 ", "tok4 ", "tok5 "])
    expect(parsed.at(-1).choices[0].finish_reason).toBe("stop")
    const json: any = await (await chat({ model: "gpt-4o-mini?chunks=5" })).body.json()
    expect(json.choices[0].message.content).toBe("tok1 tok2 tok3 tok4 tok5 ")
    expect(json.usage.completion_tokens).toBe(5)
  })

  it("stream_options.include_usage adds a final usage chunk with no choices", async () => {
    const text = await (await chat({ model: "mock?chunks=3", stream: true, stream_options: { include_usage: true } }))
      .body.text()
    const parsed = chunks(text)
    const last = parsed.at(-1)
    expect(last.choices).toEqual([])
    expect(last.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 })
    expect(parsed.slice(0, -1).every((c) => c.usage === null)).toBe(true)
  })

  it("max_tokens cuts the answer with finish_reason length", async () => {
    const json: any = await (await chat({ model: "mock?chunks=10", max_tokens: 4 })).body.json()
    expect(json.choices[0].message.content).toBe("tok1 tok2 tok3 tok4 ")
    expect(json.choices[0].finish_reason).toBe("length")
  })

  it("controls from headers", async () => {
    const text = await (await chat({ model: "gpt-4o-mini", stream: true }, { headers: { "x-mock-chunks": "7" } })).body
      .text()
    expect(contentDeltas(text)).toHaveLength(7)
  })

  it("rejects bad controls and bad bodies with OpenAI-shaped 400s", async () => {
    const res = await chat({ model: "mock?fault=nope" })
    expect(res.statusCode).toBe(400)
    const json: any = await res.body.json()
    expect(json.error.message).toContain("unknown fault \"nope\"")
    expect(json.error.type).toBe("invalid_request_error")
    const missing = await post("/v1/chat/completions", { messages: user("x") })
    expect(missing.statusCode).toBe(400)
    expect(((await missing.body.json()) as any).error.message).toContain("model")
    const broken = await request(server.url + "/v1/chat/completions", { dispatcher: agent, method: "POST", body: "{" })
    expect(broken.statusCode).toBe(400)
    await broken.body.dump()
  })

  it("answers tools with a call to tools[0], arguments synthesized from its schema", async () => {
    const json: any = await (await chat({ model: "gpt-4o-mini", tools: [weather, search] })).body.json()
    const choice = json.choices[0]
    expect(choice.finish_reason).toBe("tool_calls")
    expect(choice.message.content).toBeNull()
    expect(choice.message.tool_calls).toHaveLength(1)
    const call = choice.message.tool_calls[0]
    expect(call.id).toMatch(/^call_mock_/)
    expect(call.type).toBe("function")
    expect(call.function.name).toBe("get_weather")
    expect(JSON.parse(call.function.arguments)).toEqual({
      city: "example",
      unit: "celsius",
      days: 1,
      detailed: true,
      tags: [],
      where: { lat: 1 }
    })
  })

  it("answers a forced tool, and streams tool calls as realistic deltas", async () => {
    const text = await (await chat({
      model: "gpt-4o-mini",
      stream: true,
      tools: [weather, search],
      tool_choice: { type: "function", function: { name: "search" } }
    })).body.text()
    const deltas = chunks(text).flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
    expect(deltas.length).toBeGreaterThan(2)
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "search", arguments: "" } })
    expect(deltas[0].id).toMatch(/^call_mock_/)
    expect(deltas.slice(1).every((d: any) => d.index === 0 && d.id === undefined)).toBe(true)
    expect(JSON.parse(deltas.map((d: any) => d.function.arguments).join(""))).toEqual({ q: "example" })
    expect(chunks(text).at(-1).choices[0].finish_reason).toBe("tool_calls")
  })

  it("tool_choice none gives text; a tool result gets a reply that mentions it", async () => {
    const none: any = await (await chat({ model: "mock", tools: [weather], tool_choice: "none" })).body.json()
    expect(none.choices[0].message.content).toBe("Mock reply to: hello")
    const after: any = await (await chat({
      model: "mock",
      tools: [weather],
      messages: [
        ...user("weather in Paris?"),
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }]
        },
        { role: "tool", tool_call_id: "call_1", content: "{\"temperatureC\":21}" }
      ]
    })).body.json()
    expect(after.choices[0].finish_reason).toBe("stop")
    expect(after.choices[0].message.content).toContain("{\"temperatureC\":21}")
  })

  it("serves scripted responses in order before the default answer", async () => {
    const queued = await post("/__mock/script", [
      { text: "first scripted" },
      { toolCalls: [{ name: "lookup", arguments: { id: 7 } }] },
      { fault: "500" },
      { text: "abcdef", chunks: 3, usage: { prompt_tokens: 11, completion_tokens: 22 } }
    ])
    expect(((await queued.body.json()) as any).queued).toBe(4)
    const first: any = await (await chat({ model: "mock" })).body.json()
    expect(first.choices[0].message.content).toBe("first scripted")
    const second: any = await (await chat({ model: "mock" })).body.json()
    expect(second.choices[0].message.tool_calls[0].function).toEqual({ name: "lookup", arguments: "{\"id\":7}" })
    const third = await chat({ model: "mock" })
    expect(third.statusCode).toBe(500)
    await third.body.dump()
    const fourth = await (await chat({ model: "mock", stream: true, stream_options: { include_usage: true } })).body
      .text()
    expect(contentDeltas(fourth)).toEqual(["ab", "cd", "ef"])
    expect(chunks(fourth).at(-1).usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 22 })
    const fifth: any = await (await chat({ model: "mock" })).body.json()
    expect(fifth.choices[0].message.content).toBe("Mock reply to: hello")
    server.script([{ text: "from the handle" }])
    expect(((await (await chat({ model: "mock" })).body.json()) as any).choices[0].message.content).toBe(
      "from the handle"
    )
  })

  it("records requests; /__mock/requests and /__mock/reset", async () => {
    await (await chat({ model: "gpt-4o-mini" })).body.dump()
    expect(server.requests).toHaveLength(1)
    const recorded = server.requests[0]!
    expect(recorded.method).toBe("POST")
    expect(recorded.path).toBe("/v1/chat/completions")
    expect(recorded.headers.authorization).toBe("Bearer sk-test")
    expect(recorded.body).toEqual({ model: "gpt-4o-mini", messages: user("hello") })
    const listed = await request(server.url + "/__mock/requests", { dispatcher: agent })
    expect((await listed.body.json()) as Array<unknown>).toHaveLength(1)
    await (await post("/__mock/reset", {})).body.dump()
    expect(server.requests).toHaveLength(0)
  })

  it("embeddings are deterministic; models are listed", async () => {
    const a: any =
      await (await post("/v1/embeddings", { model: "text-embedding-3-small", input: ["x", "y"], dimensions: 4 }))
        .body.json()
    const b: any = await (await post("/v1/embeddings", { model: "text-embedding-3-small", input: "x", dimensions: 4 }))
      .body.json()
    expect(a.object).toBe("list")
    expect(a.data).toHaveLength(2)
    expect(a.data[0].embedding).toHaveLength(4)
    expect(a.data[0].embedding).toEqual(b.data[0].embedding)
    expect(a.data[0].embedding).not.toEqual(a.data[1].embedding)
    expect(a.usage.prompt_tokens).toBeGreaterThan(0)
    const base64: any =
      await (await post("/v1/embeddings", { model: "m", input: "x", dimensions: 4, encoding_format: "base64" }))
        .body.json()
    const floats = new Float32Array(Uint8Array.from(Buffer.from(base64.data[0].embedding, "base64")).buffer)
    expect([...floats].map((f) => Number(f.toFixed(4)))).toEqual(
      b.data[0].embedding.map((f: number) => Number(f.toFixed(4)))
    )
    const models: any = await (await request(server.url + "/v1/models", { dispatcher: agent })).body.json()
    expect(models.data.map((m: any) => m.id)).toContain("gpt-4o-mini")
    const unknown = await request(server.url + "/v1/nothing", { dispatcher: agent })
    expect(unknown.statusCode).toBe(404)
    await unknown.body.dump()
  })
})

describe("MockServer: faults", () => {
  it("429 with retry-after headers and an OpenAI body; times=N then success", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await chat({ model: "mock?fault=429&times=2&retryAfterMs=1500" })
      expect(res.statusCode).toBe(429)
      expect(res.headers["retry-after"]).toBe("2")
      expect(res.headers["retry-after-ms"]).toBe("1500")
      const json: any = await res.body.json()
      expect(json.error.code).toBe("rate_limit_exceeded")
    }
    const ok = await chat({ model: "mock?fault=429&times=2&retryAfterMs=1500" })
    expect(ok.statusCode).toBe(200)
    await ok.body.dump()
    // another model string has its own counter
    const other = await chat({ model: "mock?fault=429&times=1" })
    expect(other.statusCode).toBe(429)
    expect(other.headers["retry-after-ms"]).toBe("10")
    await other.body.dump()
    // reset() clears the counters
    server.reset()
    const again = await chat({ model: "mock?fault=429&times=2&retryAfterMs=1500" })
    expect(again.statusCode).toBe(429)
    await again.body.dump()
  })

  it("x-mock-retry-after is in seconds", async () => {
    const res = await chat({ model: "mock" }, { headers: { "x-mock-fault": "429", "x-mock-retry-after": "3" } })
    expect(res.headers["retry-after"]).toBe("3")
    expect(res.headers["retry-after-ms"]).toBe("3000")
    await res.body.dump()
  })

  it.each([
    ["500", 500, null],
    ["503", 503, null],
    ["401", 401, "invalid_api_key"],
    ["400-context", 400, "context_length_exceeded"]
  ])("fault %s", async (fault, status, code) => {
    const res = await chat({ model: `mock?fault=${fault}`, stream: true })
    expect(res.statusCode).toBe(status)
    const json: any = await res.body.json()
    expect(json.error.code).toBe(code)
    expect(typeof json.error.message).toBe("string")
  })

  it("reset-before-headers: the request fails with a socket error", async () => {
    const error: any = await chat({ model: "mock?fault=reset-before-headers" }).catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(String(error.code ?? error.cause?.code)).toMatch(/UND_ERR_SOCKET|ECONNRESET/)
  })

  it("reset-mid-stream: some frames, then the body fails", async () => {
    const res = await chat({ model: "mock?fault=reset-mid-stream&chunks=6", stream: true })
    expect(res.statusCode).toBe(200)
    const received: Array<string> = []
    const error = await (async () => {
      for await (const data of res.body) received.push(String(data))
    })().catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(contentDeltas(received.join(""))).toEqual(["tok1 ", "tok2 ", "tok3 "])
  })

  it("reset-mid-stream on a JSON request cuts the body", async () => {
    const res = await chat({ model: "mock?fault=reset-mid-stream" })
    expect(await res.body.text().catch((e) => e)).toBeInstanceOf(Error)
  })

  it("stall: no headers ever (the client times out, and its close is counted)", async () => {
    const error: any = await chat({ model: "mock?fault=stall" }, { headersTimeout: 200 }).catch((e) => e)
    expect(error.code).toBe("UND_ERR_HEADERS_TIMEOUT")
    await server.waitForClientClose()
    expect(server.closedConnections()).toBe(1)
  })

  it("stall-mid-stream: a few frames, then silence", async () => {
    const res = await chat({ model: "mock?fault=stall-mid-stream&chunks=4", stream: true }, { bodyTimeout: 200 })
    const received: Array<string> = []
    const error: any = await (async () => {
      for await (const data of res.body) received.push(String(data))
    })().catch((e) => e)
    expect(error.code).toBe("UND_ERR_BODY_TIMEOUT")
    expect(contentDeltas(received.join(""))).toEqual(["tok1 ", "tok2 "])
  })

  it("malformed-json: a data frame that does not parse (JSON: a body that does not parse)", async () => {
    const text = await (await chat({ model: "mock?fault=malformed-json", stream: true })).body.text()
    const data = frames(text)
    expect(data.at(-1)).toBe("[DONE]")
    const bad = data.filter((d) => {
      try {
        JSON.parse(d)
        return false
      } catch {
        return d !== "[DONE]"
      }
    })
    expect(bad).toHaveLength(1)
    const res = await chat({ model: "mock?fault=malformed-json" })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toBe("application/json")
    const body = await res.body.text()
    expect(() => JSON.parse(body)).toThrow()
  })

  it("malformed-sse: garbage, an unterminated frame, no [DONE]", async () => {
    const res = await chat({ model: "mock?fault=malformed-sse", stream: true })
    expect(res.headers["content-type"]).toContain("text/event-stream")
    const text = await res.body.text()
    expect(text).toContain("this is not an SSE frame\n")
    expect(text.endsWith("\n\n")).toBe(false)
    expect(text).not.toContain("[DONE]")
  })

  it("no-done: content, then the end without finish_reason or [DONE]", async () => {
    const text = await (await chat({
      model: "mock?fault=no-done&chunks=3",
      stream: true,
      stream_options: { include_usage: true }
    }))
      .body.text()
    expect(text).not.toContain("[DONE]")
    expect(contentDeltas(text)).toHaveLength(3)
    expect(chunks(text).every((c) => c.choices[0]?.finish_reason === null)).toBe(true)
    const json: any = await (await chat({ model: "mock?fault=no-done" })).body.json()
    expect(json.choices[0].finish_reason).toBeNull()
  })

  it("wrong-content-type: 200 text/html", async () => {
    const res = await chat({ model: "mock?fault=wrong-content-type", stream: true })
    expect(res.statusCode).toBe(200)
    expect(res.headers["content-type"]).toContain("text/html")
    expect(await res.body.text()).toContain("<html>")
  })

  it("huge-body: a 50 MiB stream, fast", async () => {
    const started = Date.now()
    const res = await chat({ model: "mock?fault=huge-body", stream: true })
    let bytes = 0
    let tail = ""
    for await (const data of res.body) {
      bytes += (data as Buffer).length
      tail = (tail + String(data)).slice(-64)
    }
    expect(bytes).toBeGreaterThan(50 * 1024 * 1024)
    expect(tail.endsWith("data: [DONE]\n\n")).toBe(true)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it("huge-body on JSON: a content of hugeBytes, valid JSON with a content-length", async () => {
    const res = await chat({ model: "mock?fault=huge-body&hugeBytes=1048576" })
    const text = await res.body.text()
    expect(Number(res.headers["content-length"])).toBe(Buffer.byteLength(text))
    const json = JSON.parse(text)
    expect(json.choices[0].message.content).toHaveLength(1048576)
    const embeddings = await post("/v1/embeddings", { model: "e?fault=huge-body&hugeBytes=1000", input: "x" })
    expect(((await embeddings.body.json()) as any).data[0].embedding).toHaveLength(1000)
  })

  it("delayMs delays the headers; chunkDelayMs paces the frames", async () => {
    let started = Date.now()
    await (await chat({ model: "mock?delayMs=100" })).body.dump()
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
    started = Date.now()
    const text = await (await chat({ model: "mock?chunks=4&chunkDelayMs=25", stream: true })).body.text()
    expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    expect(contentDeltas(text)).toHaveLength(4)
  })

  it("faults apply to embeddings too", async () => {
    const res = await post("/v1/embeddings", { model: "text-embedding-3-small?fault=503&times=1", input: "x" })
    expect(res.statusCode).toBe(503)
    await res.body.dump()
    const ok = await post("/v1/embeddings", { model: "text-embedding-3-small?fault=503&times=1", input: "x" })
    expect(ok.statusCode).toBe(200)
    await ok.body.dump()
  })
})

describe("MockServer: connections", () => {
  it("counts a client abort mid-stream", async () => {
    const controller = new AbortController()
    const res = await chat({ model: "mock?chunks=100&chunkDelayMs=20", stream: true }, { signal: controller.signal })
    const iterator = res.body[Symbol.asyncIterator]()
    await iterator.next()
    expect(server.closedConnections()).toBe(0)
    controller.abort()
    await iterator.next().catch(() => undefined)
    await server.waitForClientClose(2000)
    expect(server.closedConnections()).toBe(1)
  })

  it("waitForClientClose rejects after its timeout", async () => {
    await expect(server.waitForClientClose(50)).rejects.toThrow(/no client closed/)
  })

  it("completed responses are not client closes", async () => {
    await (await chat({ model: "mock", stream: true })).body.text()
    await (await chat({ model: "mock" })).body.text()
    expect(server.closedConnections()).toBe(0)
  })

  it("close() finishes while a stalled request is open", async () => {
    const own = await MockServer.start()
    const pending = request(`${own.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "mock?fault=stall", messages: user("x") })
    }).catch((e) => e)
    while (own.requests.length === 0) await new Promise((r) => setTimeout(r, 5))
    const started = Date.now()
    await own.close()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await pending).toBeInstanceOf(Error)
    expect(own.closedConnections()).toBe(0)
  })

  it("refuses a non-loopback host unless allowed", async () => {
    await expect(MockServer.start({ host: "0.0.0.0" })).rejects.toThrow(/not loopback/)
  })

  it.scoped("MockServer.layer: a server for the scope", () =>
    Effect.gen(function*() {
      const handle = yield* Effect.scoped(
        Effect.gen(function*() {
          const handle = yield* MockServer.MockServer
          const res = yield* Effect.promise(() => fetch(`${handle.openaiBaseUrl}/models`))
          expect(res.status).toBe(200)
          yield* Effect.promise(() => res.text())
          return handle
        }).pipe(Effect.provide(MockServer.layer()))
      )
      const after = yield* Effect.promise(() =>
        fetch(`${handle.openaiBaseUrl}/models`).then(() => "open", () => "closed")
      )
      expect(after).toBe("closed")
    }))
})
