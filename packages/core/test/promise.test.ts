// The Promise facade over real HTTP: the bundled mock server and the OpenAI provider
// (loaded by `createLlmClient` as a plugin, exactly as for users).
import { LlmError } from "@llm-fiber/core"
import { createLlmClient, type PromiseLlmClient } from "@llm-fiber/core/promise"
import { MockServer } from "@llm-fiber/testing"
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from "vitest"

let server: MockServer.Handle
let llm: PromiseLlmClient

const waitFor = async (predicate: () => boolean, timeoutMs = 2_000) => {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

beforeAll(async () => {
  server = await MockServer.start()
  llm = createLlmClient({
    env: { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: "sk-test-facade" },
    timeouts: { totalMs: 5_000, firstByteMs: 2_000, idleMs: 2_000 }
  })
})
afterAll(async () => {
  await llm.dispose()
  await server.close()
})
beforeEach(() => server.reset())

describe("createLlmClient", () => {
  it("configures providers from the given environment", async () => {
    expect(await llm.providers()).toEqual(expect.arrayContaining(["openai", "ollama"]))
  })

  it("chat resolves with a ChatResult", async () => {
    const result = await llm.chat({ model: "gpt-4o-mini", messages: "hello facade" })
    expect(result.text).toBe("Mock reply to: hello facade")
    expect(result.provider).toBe("openai")
    expect(result.finishReason).toBe("stop")
    expect(result.usage.outputTokens).toBeGreaterThan(0)
    expect(server.requests[0]?.headers.authorization).toBe("Bearer sk-test-facade")
  })

  it("chatStream yields every event, ending with Finish", async () => {
    const tags: Array<string> = []
    let text = ""
    for await (const event of llm.chatStream({ model: "openai:mock?chunks=4", messages: "hi" })) {
      tags.push(event._tag)
      if (event._tag === "TextDelta") text += event.text
    }
    expect(tags[0]).toBe("Start")
    expect(tags.filter((t) => t === "TextDelta")).toHaveLength(4)
    expect(tags.at(-1)).toBe("Finish")
    expect(text).toBe("tok1 tok2 tok3 tok4 ")
  })

  it("a call's context reaches the request: user id as safety_identifier, defaults", async () => {
    await llm.chat({ model: "gpt-4o-mini", messages: "ctx" }, {
      context: { userId: "u-p", defaults: { maxTokens: 21 } }
    })
    const body = server.requests[0]?.body as Record<string, unknown>
    expect(body.safety_identifier).toBe("u-p")
    expect(body.max_completion_tokens).toBe(21)
    const events = []
    for await (const e of llm.chatStream({ model: "gpt-4o-mini", messages: "ctx" }, { context: { userId: "u-s" } })) {
      events.push(e)
    }
    expect((server.requests[1]?.body as Record<string, unknown>).safety_identifier).toBe("u-s")
  })

  it("rejects with the typed error instance itself", async () => {
    const error = await llm.chat({ model: "openai:mock?fault=401", messages: "hi" }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LlmError.AuthenticationError)
    expect(LlmError.isLlmError(error)).toBe(true)
    expect(String((error as Error).message)).not.toContain("sk-test-facade")
  })

  it("rejects invalid input with InvalidRequestError before sending", async () => {
    const error = await llm.chat({ model: "gpt-4o-mini", messages: "hi", temperature: 9 }).catch((e: unknown) => e)
    expect((error as LlmError.LlmError)._tag).toBe("InvalidRequestError")
    expect(server.requests).toHaveLength(0)
  })

  it("a stream error is thrown from the loop as the typed error", async () => {
    const run = async () => {
      for await (const _ of llm.chatStream({ model: "openai:mock?fault=500", messages: "hi", maxRetries: 0 })) {
        // nothing arrives
      }
    }
    await expect(run()).rejects.toBeInstanceOf(LlmError.ServerError)
  })

  it("breaking out of a for-await loop aborts the HTTP request (the server sees the close)", async () => {
    let deltas = 0
    for await (const event of llm.chatStream({ model: "openai:mock?chunks=200&chunkDelayMs=20", messages: "hi" })) {
      if (event._tag === "TextDelta" && ++deltas === 2) break
    }
    expect(deltas).toBe(2)
    await waitFor(() => server.closedConnections() === 1)
  })

  it("an AbortSignal aborts a stalled chat promptly", async () => {
    const controller = new AbortController()
    const started = Date.now()
    const pending = llm.chat({ model: "openai:mock?fault=stall", messages: "hi" }, { signal: controller.signal })
    await waitFor(() => server.requests.length === 1)
    controller.abort(new Error("user cancelled"))
    await expect(pending).rejects.toThrow("user cancelled")
    expect(Date.now() - started).toBeLessThan(1_500)
    await waitFor(() => server.closedConnections() === 1)
  })

  it("an AbortSignal aborts a stream mid-way", async () => {
    const controller = new AbortController()
    const seen: Array<string> = []
    const run = async () => {
      for await (
        const event of llm.chatStream({ model: "openai:mock?chunks=500&chunkDelayMs=10", messages: "hi" }, {
          signal: controller.signal
        })
      ) {
        seen.push(event._tag)
        if (seen.length === 3) controller.abort()
      }
    }
    await expect(run()).rejects.toMatchObject({ name: "AbortError" })
    expect(seen.length).toBeLessThan(10)
    await waitFor(() => server.closedConnections() === 1)
  })

  it("is quiet by default; logLevel turns the per-call log line on", async () => {
    const lines: Array<string> = []
    const original = console.log
    console.log = (...args: Array<unknown>) => void lines.push(args.map(String).join(" "))
    try {
      await llm.chat({ model: "gpt-4o-mini", messages: "quiet please" })
      expect(lines.filter((l) => l.includes("llm.chat"))).toEqual([])
      const chatty = createLlmClient({
        env: { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: "sk-test-facade" },
        logLevel: "info"
      })
      await chatty.chat({ model: "gpt-4o-mini", messages: "speak up" })
      await chatty.dispose()
      expect(lines.filter((l) => l.includes("llm.chat"))).toHaveLength(1)
      expect(lines.join("\n")).not.toContain("sk-test-facade")
    } finally {
      console.log = original
    }
  })

  it("its types mention no Effect type", () => {
    type Result = Awaited<ReturnType<PromiseLlmClient["chat"]>>
    expectTypeOf<Result["text"]>().toEqualTypeOf<string>()
    expectTypeOf<Result["cost"]>().toEqualTypeOf<
      { readonly inputUsd: number; readonly outputUsd: number; readonly totalUsd: number } | undefined
    >()
    expectTypeOf<ReturnType<PromiseLlmClient["chatStream"]>>().toMatchTypeOf<AsyncIterable<{ readonly _tag: string }>>()
    expectTypeOf<Parameters<PromiseLlmClient["chat"]>[0]["messages"]>().toMatchTypeOf<string | ReadonlyArray<unknown>>()
  })
})
