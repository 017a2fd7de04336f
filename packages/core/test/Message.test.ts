import { describe, expect, it } from "@effect/vitest"
import { LlmError, Message } from "@llm-fiber/core"
import { Either, Schema } from "effect"

const isMessage = Schema.is(Message.Message)

const ok = (input: unknown): ReadonlyArray<Message.Message> => {
  const result = Message.normalize(input)
  if (Either.isLeft(result)) throw new Error(`expected success, got: ${result.left.message}`)
  for (const m of result.right) expect(isMessage(m), JSON.stringify(m)).toBe(true)
  return result.right
}

const bad = (input: unknown): LlmError.InvalidRequestError => {
  const result = Message.normalize(input)
  if (Either.isRight(result)) throw new Error(`expected failure, got: ${JSON.stringify(result.right)}`)
  expect(result.left).toBeInstanceOf(LlmError.InvalidRequestError)
  expect(result.left._tag).toBe("InvalidRequestError")
  expect(result.left.retryable).toBe(false)
  return result.left
}

describe("Message constructors", () => {
  it("system / user / assistant from text", () => {
    expect(Message.system("be brief")).toEqual({ role: "system", content: [{ type: "text", text: "be brief" }] })
    expect(Message.user("hi")).toEqual({ role: "user", content: [{ type: "text", text: "hi" }] })
    expect(Message.assistant("hello")).toEqual({ role: "assistant", content: [{ type: "text", text: "hello" }] })
  })

  it("user and assistant from parts keep them", () => {
    const parts = [Message.text("look"), Message.imageUrl("https://example.com/cat.png", "low")]
    expect(Message.user(parts)).toEqual({ role: "user", content: parts })
    const call: Message.ToolCallPart = { type: "tool-call", id: "c1", name: "f", arguments: { x: 1 } }
    const thinking: Message.ReasoningPart = { type: "reasoning", text: "hmm", signature: "sig" }
    expect(Message.assistant([thinking, call])).toEqual({ role: "assistant", content: [thinking, call] })
  })

  it("tool", () => {
    expect(Message.tool("call_1", { temp: 21 })).toEqual({
      role: "tool",
      content: [{ type: "tool-result", toolCallId: "call_1", result: { temp: 21 } }]
    })
    expect(Message.tool("call_2", "failed", { name: "weather", isError: true })).toEqual({
      role: "tool",
      content: [{ type: "tool-result", toolCallId: "call_2", result: "failed", name: "weather", isError: true }]
    })
    // undefined options are not written as keys
    expect(Object.keys(Message.tool("c", 1, { name: undefined, isError: undefined }).content[0]!)).toEqual([
      "type",
      "toolCallId",
      "result"
    ])
  })

  it("text / imageUrl / imageBase64", () => {
    expect(Message.text("a")).toEqual({ type: "text", text: "a" })
    expect(Object.keys(Message.text("a"))).toEqual(["type", "text"])
    expect(Message.text("a", { ttl: "1h" })).toEqual({ type: "text", text: "a", cache: { ttl: "1h" } })
    expect(Message.imageUrl("https://x/y.png")).toEqual({ type: "image", url: "https://x/y.png" })
    expect(Object.keys(Message.imageUrl("https://x/y.png"))).toEqual(["type", "url"])
    expect(Message.imageUrl("data:image/png;base64,AAAA", "high")).toEqual({
      type: "image",
      url: "data:image/png;base64,AAAA",
      detail: "high"
    })
    expect(Message.imageBase64("AAAA", "image/jpeg")).toEqual({ type: "image", data: "AAAA", mediaType: "image/jpeg" })
  })

  it("every constructor's output is a valid canonical message", () => {
    const all: ReadonlyArray<unknown> = [
      Message.system("s"),
      Message.user("u"),
      Message.user([Message.text("t"), Message.imageBase64("AA", "image/png")]),
      Message.assistant("a"),
      Message.tool("c", null)
    ]
    for (const m of all) expect(isMessage(m)).toBe(true)
  })

  it("textOf joins the text parts only", () => {
    const m = Message.assistant([
      { type: "reasoning", text: "thinking" },
      Message.text("Hello, "),
      { type: "tool-call", id: "c", name: "f", arguments: {} },
      Message.text("world")
    ])
    expect(Message.textOf(m)).toBe("Hello, world")
    expect(Message.textOf(Message.tool("c", "x"))).toBe("")
  })
})

describe("Message.normalize accepts", () => {
  it("a bare string: one user message", () => {
    expect(ok("What is 2+2?")).toEqual([{ role: "user", content: [{ type: "text", text: "What is 2+2?" }] }])
  })

  it("[role, text] tuples", () => {
    expect(ok([["system", "s"], ["user", "u"], ["assistant", "a"]])).toEqual([
      { role: "system", content: [{ type: "text", text: "s" }] },
      { role: "user", content: [{ type: "text", text: "u" }] },
      { role: "assistant", content: [{ type: "text", text: "a" }] }
    ])
  })

  it("objects with string content, keeping name and cache", () => {
    expect(ok([
      { role: "system", content: "s", cache: { ttl: "5m" } },
      { role: "user", content: "u", name: "ann" },
      { role: "assistant", content: "a" }
    ])).toEqual([
      { role: "system", content: [{ type: "text", text: "s" }], cache: { ttl: "5m" } },
      { role: "user", content: [{ type: "text", text: "u" }], name: "ann" },
      { role: "assistant", content: [{ type: "text", text: "a" }] }
    ])
  })

  it("objects with parts, unchanged", () => {
    const messages = [
      { role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image", url: "https://x/y.png" }] },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "r", signature: "s" },
          { type: "tool-call", id: "c1", name: "lookup", arguments: { q: "y" } }
        ]
      },
      { role: "tool", content: [{ type: "tool-result", toolCallId: "c1", result: { found: true } }] },
      { role: "user", content: [{ type: "image", data: "AAAA", mediaType: "image/png" }] }
    ]
    const copy = structuredClone(messages)
    expect(ok(messages)).toEqual(copy)
  })

  it("tool messages written with toolCallId", () => {
    expect(ok([
      { role: "tool", toolCallId: "c1", content: { temp: 20 } },
      { role: "tool", toolCallId: "c2", content: "sunny", name: "weather", isError: false },
      { role: "tool", toolCallId: "c3", content: "boom", isError: true, cache: { ttl: "1h" } }
    ])).toEqual([
      { role: "tool", content: [{ type: "tool-result", toolCallId: "c1", result: { temp: 20 } }] },
      {
        role: "tool",
        content: [{ type: "tool-result", toolCallId: "c2", result: "sunny", name: "weather", isError: false }]
      },
      {
        role: "tool",
        content: [{ type: "tool-result", toolCallId: "c3", result: "boom", isError: true }],
        cache: { ttl: "1h" }
      }
    ])
  })

  it("a mix of all forms, in order", () => {
    const out = ok([["system", "s"], Message.user("u"), { role: "assistant", content: "a" }])
    expect(out.map((m) => m.role)).toEqual(["system", "user", "assistant"])
    expect(out.map(Message.textOf)).toEqual(["s", "u", "a"])
  })
})

interface BadCase {
  readonly name: string
  readonly input: unknown
  readonly param: string
  /** Words the message must contain (besides naming the field). */
  readonly says: ReadonlyArray<string>
}

const badCases: ReadonlyArray<BadCase> = [
  { name: "no messages", input: [], param: "messages", says: ["messages", "empty"] },
  { name: "undefined", input: undefined, param: "messages", says: ["messages"] },
  { name: "a number", input: 42, param: "messages", says: ["messages"] },
  { name: "a single object, not a list", input: { role: "user", content: "x" }, param: "messages", says: ["list"] },
  { name: "a number in the list", input: [42], param: "messages[0]", says: ["messages[0]"] },
  { name: "null in the list", input: [Message.user("a"), null], param: "messages[1]", says: ["messages[1]"] },
  { name: "tuple with a tool role", input: [["tool", "x"]], param: "messages[0]", says: ["messages[0]", "\"tool\""] },
  { name: "tuple with a bad role", input: [["admin", "x"]], param: "messages[0]", says: ["messages[0]", "admin"] },
  { name: "tuple too short", input: [["user"]], param: "messages[0]", says: ["messages[0]", "[role, text]"] },
  { name: "tuple too long", input: [["user", "a", "b"]], param: "messages[0]", says: ["[role, text]"] },
  { name: "tuple with non-text", input: [["user", 5]], param: "messages[0]", says: ["[role, text]"] },
  {
    name: "bad role",
    input: [{ role: "admin", content: "x" }],
    param: "messages[0].role",
    says: ["messages[0].role", "admin", "system, user, assistant, tool"]
  },
  { name: "missing role", input: [{ content: "x" }], param: "messages[0].role", says: ["messages[0].role"] },
  {
    name: "bad content type, at the right index",
    input: [Message.user("a"), Message.assistant("b"), { role: "user", content: 5 }],
    param: "messages[2].content",
    says: ["messages[2].content"]
  },
  { name: "missing content", input: [{ role: "user" }], param: "messages[0].content", says: ["messages[0].content"] },
  {
    name: "content object instead of a list",
    input: [{ role: "user", content: { type: "text", text: "x" } }],
    param: "messages[0].content",
    says: ["messages[0].content"]
  },
  {
    name: "image in a system message",
    input: [{ role: "system", content: [{ type: "image", url: "https://x" }] }],
    param: "messages[0].content[0].type",
    says: ["messages[0].content[0]", "\"image\"", "system", "allowed: text"]
  },
  {
    name: "tool call in a user message",
    input: [{ role: "user", content: [{ type: "tool-call", id: "c", name: "f", arguments: {} }] }],
    param: "messages[0].content[0].type",
    says: ["\"tool-call\"", "user"]
  },
  {
    name: "image in an assistant message",
    input: [{ role: "assistant", content: [Message.text("ok"), { type: "image", url: "https://x" }] }],
    param: "messages[0].content[1].type",
    says: ["messages[0].content[1]", "\"image\"", "assistant"]
  },
  {
    name: "text in a tool message",
    input: [{ role: "tool", content: [{ type: "text", text: "x" }] }],
    param: "messages[0].content[0].type",
    says: ["\"text\"", "tool", "allowed: tool-result"]
  },
  {
    name: "unknown part type",
    input: [{ role: "user", content: [{ type: "video", url: "https://x" }] }],
    param: "messages[0].content[0].type",
    says: ["\"video\""]
  },
  {
    name: "image without url or data",
    input: [{ role: "user", content: [{ type: "image" }] }],
    param: "messages[0].content[0]",
    says: ["messages[0].content[0]", "url", "data"]
  },
  {
    name: "base64 image without its media type",
    input: [{ role: "user", content: [{ type: "image", data: "AAAA" }] }],
    param: "messages[0].content[0]",
    says: ["mediaType"]
  },
  {
    name: "text part with non-string text",
    input: [{ role: "user", content: [{ type: "text", text: 5 }] }],
    param: "messages[0].content[0].text",
    says: ["messages[0].content[0].text"]
  },
  {
    name: "reasoning part without text",
    input: [{ role: "assistant", content: [{ type: "reasoning" }] }],
    param: "messages[0].content[0].text",
    says: ["messages[0].content[0].text"]
  },
  {
    name: "part without a type",
    input: [{ role: "user", content: [{ text: "x" }] }],
    param: "messages[0].content[0]",
    says: ["messages[0].content[0]", "\"type\""]
  },
  {
    name: "a string as a part",
    input: [{ role: "user", content: ["x"] }],
    param: "messages[0].content[0]",
    says: ["messages[0].content[0]"]
  },
  {
    name: "tool call without id",
    input: [{ role: "assistant", content: [{ type: "tool-call", name: "f", arguments: {} }] }],
    param: "messages[0].content[0].id",
    says: ["messages[0].content[0].id"]
  },
  {
    name: "tool call without name",
    input: [{ role: "assistant", content: [{ type: "tool-call", id: "c", arguments: {} }] }],
    param: "messages[0].content[0].name",
    says: ["messages[0].content[0].name"]
  },
  {
    name: "tool result without toolCallId",
    input: [{ role: "tool", content: [{ type: "tool-result", result: 1 }] }],
    param: "messages[0].content[0].toolCallId",
    says: ["messages[0].content[0]", "toolCallId"]
  },
  {
    name: "tool message with neither toolCallId nor parts",
    input: [{ role: "tool", content: "42" }],
    param: "messages[0].toolCallId",
    says: ["messages[0]", "toolCallId"]
  },
  {
    name: "tool message with a numeric toolCallId",
    input: [{ role: "tool", toolCallId: 7, content: "42" }],
    param: "messages[0].toolCallId",
    says: ["toolCallId"]
  }
]

describe("Message.normalize rejects, naming the field", () => {
  for (const c of badCases) {
    it(c.name, () => {
      const e = bad(c.input)
      expect(e.param).toBe(c.param)
      for (const word of c.says) expect(e.message).toContain(word)
    })
  }
})
