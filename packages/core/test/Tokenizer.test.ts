import { describe, expect, it } from "@effect/vitest"
import { ChatRequest, Message, RateLimiter, Tokenizer } from "@llm-fiber/core"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { readFixture } from "../../../test-support/shared.js"

const request = (input: ChatRequest.Input) => Either.getOrThrow(ChatRequest.make(input))

const openai = (model: string): Tokenizer.Target => ({ provider: "openai", model })

describe("Tokenizer: encodings", () => {
  it("maps OpenAI-family models to their encoding, and nothing else", () => {
    expect(Tokenizer.encodingFor("gpt-4o")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("gpt-4o-mini-2024-07-18")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("gpt-4.1-nano")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("gpt-5")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("gpt-5.1-codex")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("o3-mini")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("o1")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("o4-mini-2025-04-16")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("openai/gpt-4o")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("ft:gpt-4o-mini-2024-07-18:acme::abc")).toBe("o200k_base")
    expect(Tokenizer.encodingFor("gpt-4")).toBe("cl100k_base")
    expect(Tokenizer.encodingFor("gpt-4-turbo")).toBe("cl100k_base")
    expect(Tokenizer.encodingFor("gpt-3.5-turbo-0125")).toBe("cl100k_base")
    expect(Tokenizer.encodingFor("claude-sonnet-4-5")).toBeUndefined()
    expect(Tokenizer.encodingFor("gemini-2.5-flash")).toBeUndefined()
    expect(Tokenizer.encodingFor("llama3.2")).toBeUndefined()
    expect(Tokenizer.encodingFor("o1x")).toBeUndefined()
    expect(Tokenizer.encodingFor("gpt-oss-20b")).toBeUndefined()
  })
})

describe("Tokenizer: exact counts match OpenAI's recorded prompt_tokens", () => {
  // The Vercel AI SDK recorded these responses from its examples, which all send the one
  // user message below (the fixtures keep only the responses; the request is the examples'
  // `prompt`, sent by @ai-sdk/openai as `messages: [{ role: "user", content: prompt }]`).
  const prompt = "Invent a new holiday and describe its traditions."

  const recorded = (): ReadonlyArray<
    { readonly file: string; readonly model: string; readonly promptTokens: number }
  > => {
    const json = JSON.parse(readFixture("openai/chat/openai-text.json"))
    const lines = readFixture("openai/chat/openai-text.chunks.txt").trim().split("\n").map((l) => JSON.parse(l))
    const last = lines[lines.length - 1]
    return [
      { file: "openai-text.json", model: json.model, promptTokens: json.usage.prompt_tokens },
      { file: "openai-text.chunks.txt", model: last.model, promptTokens: last.usage.prompt_tokens }
    ]
  }

  it.effect("openai/chat/openai-text (gpt-4.1-nano): JSON and stream", () =>
    Effect.gen(function*() {
      const cases = recorded()
      expect(cases.map((c) => c.model)).toEqual(["gpt-4.1-nano-2025-04-14", "gpt-4.1-nano-2025-04-14"])
      for (const c of cases) {
        const count = yield* Tokenizer.countRequest(request({ model: c.model, messages: prompt }), openai(c.model))
        expect({ file: c.file, ...count }).toEqual({ file: c.file, inputTokens: c.promptTokens, exact: true })
      }
      // and the recorded value is what a wrong count would miss: it is not the estimate
      const estimate = yield* Tokenizer.makeEstimate().countRequest(
        request({ model: "gpt-4.1-nano", messages: prompt }),
        openai("gpt-4.1-nano")
      )
      expect(estimate.inputTokens).not.toBe(cases[0]!.promptTokens)
    }))

  it.effect("the framing agrees with gpt-tokenizer's own chat counter on text conversations", () =>
    Effect.gen(function*() {
      const gpt4o = yield* Effect.promise(() => import("gpt-tokenizer/model/gpt-4o"))
      const gpt4 = yield* Effect.promise(() => import("gpt-tokenizer/model/gpt-4-turbo"))
      const conversations: ReadonlyArray<ChatRequest.Input["messages"]> = [
        "Hello!",
        [["system", "You are terse."], ["user", "What is the capital of France?"]],
        [
          ["system", "You answer in French.\nAlways."],
          ["user", "Say hi"],
          ["assistant", "Salut !"],
          ["user", "Now in 日本語, please — and add an emoji 🎉"]
        ],
        [{ role: "user", content: "From a named user", name: "alice" }]
      ]
      for (const messages of conversations) {
        const r = request({ model: "gpt-4o", messages })
        const wire = r.messages.map((m) => ({
          role: m.role,
          content: m.content.map((p) => (p.type === "text" ? p.text : "")).join(m.role === "system" ? "\n" : ""),
          ...("name" in m && m.name !== undefined ? { name: m.name } : {})
        }))
        const ours = yield* Tokenizer.countRequest(r, openai("gpt-4o"))
        expect(ours).toEqual({ inputTokens: gpt4o.countChatCompletionTokens!({ messages: wire }), exact: true })
        const ours4 = yield* Tokenizer.countRequest(request({ model: "gpt-4-turbo", messages }), openai("gpt-4-turbo"))
        expect(ours4).toEqual({ inputTokens: gpt4.countChatCompletionTokens!({ messages: wire }), exact: true })
      }
    }))

  it.effect("countText is the encoding's count; special-token text is counted as text", () =>
    Effect.gen(function*() {
      const gpt4o = yield* Effect.promise(() => import("gpt-tokenizer/model/gpt-4o"))
      const text = "Invent a new holiday and describe its traditions."
      expect(yield* Tokenizer.countText(text, openai("gpt-4o"))).toEqual({
        tokens: gpt4o.encode(text).length,
        exact: true
      })
      const special = yield* Tokenizer.countText("before <|endoftext|> after", openai("gpt-4o"))
      expect(special.exact).toBe(true)
      expect(special.tokens).toBeGreaterThan(3)
      const inRequest = yield* Tokenizer.countRequest(
        request({ model: "gpt-4o", messages: "<|endoftext|><|im_start|>" }),
        openai("gpt-4o")
      )
      expect(inRequest.exact).toBe(true)
    }))
})

describe("Tokenizer: inexact counts", () => {
  it.effect("images, tools, tool results and schemas are counted but not exact", () =>
    Effect.gen(function*() {
      const target = openai("gpt-4o-mini")
      const plain = yield* Tokenizer.countRequest(request({ model: "gpt-4o-mini", messages: "What is this?" }), target)
      expect(plain.exact).toBe(true)

      const image = yield* Tokenizer.countRequest(
        request({
          model: "gpt-4o-mini",
          messages: [Message.user([{ type: "text", text: "What is this?" }, {
            type: "image",
            url: "https://example.com/cat.png"
          }])]
        }),
        target
      )
      expect(image).toEqual({ inputTokens: plain.inputTokens + 1_600, exact: false })

      const tools = yield* Tokenizer.countRequest(
        request({
          model: "gpt-4o-mini",
          messages: "What is this?",
          tools: [{ name: "lookup", description: "Look it up", parameters: { type: "object", properties: {} } }]
        }),
        target
      )
      expect(tools.exact).toBe(false)
      expect(tools.inputTokens).toBeGreaterThan(plain.inputTokens)

      const toolTurn = yield* Tokenizer.countRequest(
        request({
          model: "gpt-4o-mini",
          messages: [
            Message.user("weather?"),
            Message.assistant([{ type: "tool-call", id: "call_1", name: "weather", arguments: { city: "Oslo" } }]),
            Message.tool("call_1", { tempC: 4 })
          ]
        }),
        target
      )
      expect(toolTurn.exact).toBe(false)

      const schema = yield* Tokenizer.countRequest(
        request({
          model: "gpt-4o-mini",
          messages: "What is this?",
          responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" } }
        }),
        target
      )
      expect(schema.exact).toBe(false)
      expect(schema.inputTokens).toBeGreaterThan(plain.inputTokens)
    }))

  it.effect("another provider serving an OpenAI model: tokenizer count, not exact", () =>
    Effect.gen(function*() {
      const r = request({ model: "openai/gpt-4o", messages: "Hello!" })
      const direct = yield* Tokenizer.countRequest(r, openai("gpt-4o"))
      const viaGateway = yield* Tokenizer.countRequest(r, { provider: "openrouter", model: "openai/gpt-4o" })
      expect(viaGateway).toEqual({ inputTokens: direct.inputTokens, exact: false })
    }))

  it.effect("other models get the rate limiter's estimate", () =>
    Effect.gen(function*() {
      const r = request({ model: "claude-sonnet-4-5", messages: "x".repeat(40), maxTokens: 10 })
      const count = yield* Tokenizer.countRequest(r, { provider: "anthropic", model: "claude-sonnet-4-5" })
      // 4 per message + 40 chars / 4
      expect(count).toEqual({ inputTokens: 14, exact: false })
      expect(count.inputTokens + 10).toBe(RateLimiter.estimateTokens(r))
      expect(yield* Tokenizer.countText("x".repeat(41), { provider: "anthropic", model: "claude-sonnet-4-5" }))
        .toEqual({ tokens: 11, exact: false })
    }))

  it.effect("layerEstimate never counts exactly", () =>
    Effect.gen(function*() {
      const count = yield* Tokenizer.countRequest(request({ model: "gpt-4o", messages: "Hello!" }), openai("gpt-4o"))
      expect(count).toEqual({ inputTokens: 4 + 2, exact: false })
      const tokenizer = yield* Tokenizer.Tokenizer
      expect(tokenizer.name).toBe("estimate")
    }).pipe(Effect.provide(Tokenizer.layerEstimate)))

  it.effect("a custom tokenizer replaces the default", () =>
    Effect.gen(function*() {
      const count = yield* Tokenizer.countRequest(request({ model: "gpt-4o", messages: "Hello!" }), openai("gpt-4o"))
      expect(count).toEqual({ inputTokens: 42, exact: true })
    }).pipe(Effect.provide(Tokenizer.layer({
      name: "fixed",
      countRequest: () => Effect.succeed({ inputTokens: 42, exact: true }),
      countText: () => Effect.succeed({ tokens: 1, exact: true })
    }))))

  it.effect("preload loads the encodings (and a second load is shared)", () =>
    Effect.gen(function*() {
      yield* Effect.all([Tokenizer.preload(), Tokenizer.preload(["o200k_base"])], { concurrency: "unbounded" })
      const count = yield* Tokenizer.countText("hello world", openai("gpt-4o"))
      expect(count).toEqual({ tokens: 2, exact: true })
    }))
})

describe("Tokenizer: lazy loading", () => {
  it("no module of @llm-fiber/core imports gpt-tokenizer statically", () => {
    const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src")
    const files: Array<string> = []
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name)
        if (entry.isDirectory()) walk(file)
        else if (entry.name.endsWith(".ts")) files.push(file)
      }
    }
    walk(src)
    expect(files.length).toBeGreaterThan(10)
    const offenders = files.filter((file) => {
      const text = fs.readFileSync(file, "utf8")
      // `import type` is erased; a value import (static `from "gpt-tokenizer…"`) is not
      return /^\s*import(?!\s+type\b)[^;]*from\s+["']gpt-tokenizer/m.test(text) ||
        /^\s*export[^;]*from\s+["']gpt-tokenizer/m.test(text)
    })
    expect(offenders).toEqual([])
    // and the dynamic import is there
    expect(fs.readFileSync(path.join(src, "Tokenizer.ts"), "utf8")).toContain("import(\"gpt-tokenizer/encoding/")
  })
})
