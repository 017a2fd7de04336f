import { describe, expect, it } from "@effect/vitest"
import { ChatRequest, LlmError } from "@llm-fiber/core"
import { Either, Schema } from "effect"

const ok = (input: unknown): ChatRequest.ChatRequest => {
  const result = ChatRequest.make(input as ChatRequest.Input)
  if (Either.isLeft(result)) throw new Error(`expected success, got: ${result.left.message}`)
  expect(result.right).toBeInstanceOf(ChatRequest.ChatRequest)
  // whatever `make` lets through is a valid ChatRequest by its own schema
  expect(() => Schema.validateSync(ChatRequest.ChatRequest)(result.right)).not.toThrow()
  return result.right
}

const bad = (input: unknown): LlmError.InvalidRequestError => {
  const result = ChatRequest.make(input as ChatRequest.Input)
  if (Either.isRight(result)) throw new Error(`expected failure, got: ${JSON.stringify(result.right)}`)
  expect(result.left).toBeInstanceOf(LlmError.InvalidRequestError)
  return result.left
}

const tool = (name: string) => ({ name, parameters: { type: "object", properties: {} } })

describe("ChatRequest.make accepts", () => {
  it("the smallest request, with no optional keys at all", () => {
    const r = ok({ model: "gpt-4o-mini", messages: "hi" })
    expect(r.model).toBe("gpt-4o-mini")
    expect(r.messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }])
    expect(Object.keys(r).sort()).toEqual(["messages", "model"])
  })

  it("keeps every field of a full request", () => {
    const input = {
      model: "ollama:llama3.2:1b",
      provider: "ollama",
      messages: [["system", "be brief"], ["user", "hi"]] as const,
      temperature: 0.7,
      maxTokens: 256,
      topP: 0.9,
      stop: ["\n\n", "END"],
      seed: 42,
      tools: [{
        name: "get_weather",
        description: "Weather by city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        strict: true,
        cache: { ttl: "1h" as const }
      }],
      toolChoice: { type: "tool" as const, name: "get_weather" },
      responseFormat: {
        type: "json_schema" as const,
        name: "weather",
        schema: { type: "object" },
        description: "d",
        strict: true
      },
      providerOptions: { openai: { logprobs: true }, anthropic: { thinking: { type: "enabled" } } },
      cache: { ttl: "5m" as const },
      idempotencyKey: "idem-1",
      metadata: { user: "u1", feature: "chat" },
      timeout: { connectMs: 1000, firstByteMs: 2000, idleMs: 3000, totalMs: 60_000 },
      fallback: ["gpt-4o-mini", "claude-haiku-4-5"],
      maxRetries: 0
    }
    const r = ok(input)
    const { messages: _messages, ...rest } = input
    for (const [key, value] of Object.entries(rest)) {
      expect((r as unknown as Record<string, unknown>)[key], key).toEqual(value)
    }
    expect(r.messages).toEqual([
      { role: "system", content: [{ type: "text", text: "be brief" }] },
      { role: "user", content: [{ type: "text", text: "hi" }] }
    ])
    expect(Object.keys(r).sort()).toEqual(Object.keys(input).sort())
  })

  it("drops optional fields given as undefined", () => {
    const r = ok({
      model: "m",
      messages: "x",
      temperature: undefined,
      maxTokens: undefined,
      stop: undefined,
      tools: undefined,
      toolChoice: undefined,
      timeout: undefined,
      metadata: undefined,
      provider: undefined
    })
    expect(Object.keys(r).sort()).toEqual(["messages", "model"])
    expect("temperature" in r).toBe(false)
    expect("stop" in r).toBe(false)
  })

  it("does not copy keys a ChatRequest does not have", () => {
    const r = ok({ model: "m", messages: "x", max_tokens: 5, signal: "nope" })
    expect("max_tokens" in r).toBe(false)
    expect("signal" in r).toBe(false)
  })

  it("user, costCeilingUsd and a responseCache override", () => {
    const r = ok({
      model: "m",
      messages: "x",
      user: "u-1",
      costCeilingUsd: 0.01,
      responseCache: { policy: "refresh", ttlMs: 60_000 }
    })
    expect([r.user, r.costCeilingUsd, r.responseCache]).toEqual(["u-1", 0.01, { policy: "refresh", ttlMs: 60_000 }])
  })

  it("a single stop string becomes a list", () => {
    expect(ok({ model: "m", messages: "x", stop: "END" }).stop).toEqual(["END"])
    expect(ok({ model: "m", messages: "x", stop: [] }).stop).toEqual([])
  })

  it("boundary values are valid", () => {
    const r = ok({ model: "m", messages: "x", temperature: 0, topP: 1, maxTokens: 1, seed: -3, maxRetries: 0 })
    expect([r.temperature, r.topP, r.maxTokens, r.seed, r.maxRetries]).toEqual([0, 1, 1, -3, 0])
    expect(ok({ model: "m", messages: "x", temperature: 2, topP: 0 }).temperature).toBe(2)
  })

  it("toolChoice modes", () => {
    expect(ok({ model: "m", messages: "x", toolChoice: "auto" }).toolChoice).toBe("auto")
    expect(ok({ model: "m", messages: "x", toolChoice: "none" }).toolChoice).toBe("none")
    expect(ok({ model: "m", messages: "x", tools: [tool("f")], toolChoice: "required" }).toolChoice).toBe("required")
  })

  it("responseFormat text and json", () => {
    expect(ok({ model: "m", messages: "x", responseFormat: { type: "text" } }).responseFormat).toEqual({ type: "text" })
    expect(ok({ model: "m", messages: "x", responseFormat: { type: "json" } }).responseFormat).toEqual({ type: "json" })
  })

  it("an existing ChatRequest is returned as it is", () => {
    const r = ok({ model: "m", messages: "x" })
    const again = ChatRequest.make(r)
    expect(Either.isRight(again) && again.right).toBe(r)
  })

  it("the normalized request encodes with its schema", () => {
    const r = ok({ model: "m", messages: [["user", "hi"]], stop: "x", temperature: 1 })
    const encoded = Schema.encodeSync(ChatRequest.ChatRequest)(r)
    expect(Schema.decodeUnknownSync(ChatRequest.ChatRequest)(JSON.parse(JSON.stringify(encoded)))).toEqual(r)
  })
})

interface BadCase {
  readonly name: string
  readonly input: Record<string, unknown> | unknown
  readonly param: string
  /** Words the message must contain besides the field name. */
  readonly says?: ReadonlyArray<string>
}

const req = (fields: Record<string, unknown>) => ({ model: "gpt-4o-mini", messages: "hi", ...fields })

const badCases: ReadonlyArray<BadCase> = [
  { name: "not an object", input: "gpt-4o-mini", param: "request" },
  { name: "null", input: null, param: "request" },
  { name: "missing model", input: { messages: "hi" }, param: "model" },
  { name: "empty model", input: req({ model: "" }), param: "model" },
  { name: "blank model", input: req({ model: "   " }), param: "model" },
  { name: "numeric model", input: req({ model: 4 }), param: "model" },
  { name: "empty provider", input: req({ provider: "" }), param: "provider" },
  { name: "empty messages", input: req({ messages: [] }), param: "messages", says: ["empty"] },
  { name: "bad message role", input: req({ messages: [{ role: "bot", content: "x" }] }), param: "messages[0].role" },
  { name: "temperature below 0", input: req({ temperature: -0.1 }), param: "temperature", says: ["0 to 2", "-0.1"] },
  { name: "temperature above 2", input: req({ temperature: 2.01 }), param: "temperature", says: ["2.01"] },
  { name: "temperature NaN", input: req({ temperature: Number.NaN }), param: "temperature" },
  { name: "temperature Infinity", input: req({ temperature: Infinity }), param: "temperature" },
  { name: "temperature as a string", input: req({ temperature: "0.5" }), param: "temperature" },
  { name: "non-integer maxTokens", input: req({ maxTokens: 10.5 }), param: "maxTokens", says: ["positive integer"] },
  { name: "zero maxTokens", input: req({ maxTokens: 0 }), param: "maxTokens" },
  { name: "negative maxTokens", input: req({ maxTokens: -5 }), param: "maxTokens" },
  { name: "maxTokens as a string", input: req({ maxTokens: "100" }), param: "maxTokens" },
  { name: "topP above 1", input: req({ topP: 1.5 }), param: "topP", says: ["0 to 1"] },
  { name: "topP below 0", input: req({ topP: -0.5 }), param: "topP" },
  { name: "non-integer seed", input: req({ seed: 1.5 }), param: "seed" },
  { name: "negative maxRetries", input: req({ maxRetries: -1 }), param: "maxRetries" },
  { name: "zero costCeilingUsd", input: req({ costCeilingUsd: 0 }), param: "costCeilingUsd" },
  { name: "string costCeilingUsd", input: req({ costCeilingUsd: "1" }), param: "costCeilingUsd" },
  { name: "responseCache not an object", input: req({ responseCache: "off" }), param: "responseCache" },
  {
    name: "unknown responseCache policy",
    input: req({ responseCache: { policy: "always" } }),
    param: "responseCache.policy"
  },
  { name: "unknown responseCache key", input: req({ responseCache: { ttl: 5 } }), param: "responseCache.ttl" },
  {
    name: "non-integer responseCache.ttlMs",
    input: req({ responseCache: { ttlMs: 1.5 } }),
    param: "responseCache.ttlMs"
  },
  { name: "empty user", input: req({ user: "" }), param: "user" },
  { name: "non-integer maxRetries", input: req({ maxRetries: 0.5 }), param: "maxRetries" },
  { name: "stop as a number", input: req({ stop: 5 }), param: "stop" },
  { name: "stop with a number inside", input: req({ stop: ["a", 1] }), param: "stop" },
  { name: "stop with null inside", input: req({ stop: [null] }), param: "stop" },
  { name: "tools not a list", input: req({ tools: tool("f") }), param: "tools" },
  { name: "tool name with a space", input: req({ tools: [tool("get weather")] }), param: "tools[0].name" },
  { name: "tool name too long", input: req({ tools: [tool("f"), tool("x".repeat(65))] }), param: "tools[1].name" },
  { name: "empty tool name", input: req({ tools: [tool("")] }), param: "tools[0].name" },
  { name: "tool without name", input: req({ tools: [{ parameters: {} }] }), param: "tools[0].name" },
  { name: "tool without parameters", input: req({ tools: [{ name: "f" }] }), param: "tools[0].parameters" },
  {
    name: "tool with a non-string description",
    input: req({ tools: [{ ...tool("f"), description: 5 }] }),
    param: "tools[0].description"
  },
  {
    name: "duplicate tool names",
    input: req({ tools: [tool("f"), tool("g"), tool("f")] }),
    param: "tools[2].name",
    says: ["\"f\"", "tools[0]"]
  },
  {
    name: "toolChoice naming an unknown tool",
    input: req({ tools: [tool("f"), tool("g")], toolChoice: { type: "tool", name: "h" } }),
    param: "toolChoice.name",
    says: ["\"h\"", "f, g"]
  },
  {
    name: "toolChoice naming a tool with no tools given",
    input: req({ toolChoice: { type: "tool", name: "f" } }),
    param: "toolChoice.name"
  },
  { name: "toolChoice with another SDK's vocabulary", input: req({ toolChoice: "any" }), param: "toolChoice" },
  {
    name: "toolChoice object of another SDK",
    input: req({ tools: [tool("f")], toolChoice: { type: "function", function: { name: "f" } } }),
    param: "toolChoice"
  },
  { name: "toolChoice required without tools", input: req({ toolChoice: "required" }), param: "toolChoice" },
  { name: "timeout as a bare number", input: req({ timeout: 5000 }), param: "timeout", says: ["totalMs"] },
  { name: "timeout null", input: req({ timeout: null }), param: "timeout" },
  { name: "zero totalMs", input: req({ timeout: { totalMs: 0 } }), param: "timeout.totalMs", says: ["positive"] },
  { name: "negative connectMs", input: req({ timeout: { connectMs: -1 } }), param: "timeout.connectMs" },
  { name: "NaN idleMs", input: req({ timeout: { idleMs: Number.NaN } }), param: "timeout.idleMs" },
  { name: "string firstByteMs", input: req({ timeout: { firstByteMs: "100" } }), param: "timeout.firstByteMs" },
  {
    name: "misspelled timeout key",
    input: req({ timeout: { total: 5000 } }),
    param: "timeout.total",
    says: ["totalMs"]
  },
  {
    name: "responseFormat of another SDK",
    input: req({ responseFormat: { type: "json_object" } }),
    param: "responseFormat.type",
    says: ["json_object"]
  },
  {
    name: "json_schema without a schema",
    input: req({ responseFormat: { type: "json_schema", name: "x" } }),
    param: "responseFormat.schema"
  },
  {
    name: "json_schema with a bad name",
    input: req({ responseFormat: { type: "json_schema", name: "my schema", schema: {} } }),
    param: "responseFormat.name"
  },
  { name: "providerOptions not an object", input: req({ providerOptions: "x" }), param: "providerOptions" },
  {
    name: "providerOptions entry not an object",
    input: req({ providerOptions: { openai: 5 } }),
    param: "providerOptions.openai"
  },
  { name: "metadata with a number", input: req({ metadata: { a: "x", b: 1 } }), param: "metadata.b" },
  { name: "cache with an unknown ttl", input: req({ cache: { ttl: "10m" } }), param: "cache" },
  { name: "numeric idempotencyKey", input: req({ idempotencyKey: 5 }), param: "idempotencyKey" },
  { name: "fallback as a string", input: req({ fallback: "gpt-4o" }), param: "fallback" },
  { name: "fallback with a number", input: req({ fallback: ["gpt-4o", 5] }), param: "fallback" },
  { name: "fallback with an empty name", input: req({ fallback: [""] }), param: "fallback" }
]

describe("ChatRequest.make rejects, naming the field", () => {
  for (const c of badCases) {
    it(c.name, () => {
      const e = bad(c.input)
      expect(e.param).toBe(c.param)
      expect(e.message).toContain(c.param)
      for (const word of c.says ?? []) expect(e.message).toContain(word)
      expect(e.retryable).toBe(false)
    })
  }

  it("the first problem wins, in field order", () => {
    expect(bad(req({ temperature: 5, maxTokens: 0 })).param).toBe("temperature")
    expect(bad({ model: "", messages: [] }).param).toBe("model")
  })
})
