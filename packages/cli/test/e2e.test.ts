/**
 * End to end: the real `llm-fiber` executable as a child process, against the real mock
 * provider server of `@llm-fiber/testing`, through `LlmClient.layerFromEnv()` and the
 * `@llm-fiber/openai` plugin.
 *
 * The CLI runs from its TypeScript sources (`node --import tsx --import
 * test/support/register.mjs src/bin.ts`): the register hook resolves `@llm-fiber/*` to
 * `packages/<name>/src`, as the shared vitest config does for in-process tests — so no
 * build is needed and the test always runs the current sources.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { MockServer } from "@llm-fiber/testing"
import { cli, lines, printed } from "./support/exec.js"

const secret = "sk-test-SECRET123"

let server: MockServer.Handle

/** A recorded request, as far as these tests read it. */
interface Recorded {
  readonly headers: Readonly<Record<string, unknown>>
  readonly body: unknown
}

const recorded = (): ReadonlyArray<Recorded> => server.requests as ReadonlyArray<unknown> as ReadonlyArray<Recorded>
let env: Record<string, string>

beforeAll(async () => {
  server = await MockServer.start()
  env = { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: secret }
})

afterAll(async () => {
  await server?.close()
})

beforeEach(() => server.reset())

describe("llm-fiber (e2e against the mock server)", () => {
  it("ask --json prints the ChatResult as one JSON object; plain ask prints the text", async () => {
    const json = await cli(["ask", "hi", "--json"], { env })
    expect(json.code).toBe(0)
    expect(json.stderr).toBe("")
    expect(lines(json.stdout)).toHaveLength(1)
    const result = JSON.parse(json.stdout)
    expect(result).toMatchObject({ provider: "openai", model: "gpt-4o-mini", finishReason: "stop" })
    expect(result.text).toContain("hi")
    expect(result.usage).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number) })
    expect(result.cost.totalUsd).toBeGreaterThan(0)
    // the key was really used on the wire
    expect(recorded()[0]?.headers.authorization).toBe(`Bearer ${secret}`)

    const plain = await cli(["ask", "hi"], { env })
    expect(plain).toMatchObject({ code: 0, stdout: `${result.text}\n`, stderr: "" })
  })

  it("ask and stream reach Anthropic and Gemini through ANTHROPIC_BASE_URL / GEMINI_BASE_URL", async () => {
    const all = {
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: secret,
      GEMINI_BASE_URL: server.url,
      GEMINI_API_KEY: secret
    }
    for (const [model, provider] of [["claude-haiku-4-5", "anthropic"], ["gemini-2.5-flash", "gemini"]] as const) {
      server.reset()
      const run = await cli(["ask", "hello there", "--model", model, "--json"], { env: all })
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      const result = JSON.parse(run.stdout)
      expect(result).toMatchObject({ provider, finishReason: "stop", text: "Mock reply to: hello there" })
      const sent = recorded()[0]
      expect(sent?.headers[provider === "anthropic" ? "x-api-key" : "x-goog-api-key"]).toBe(secret)

      const streamed = await cli(["stream", "hi", "--model", `${model}?chunks=3`, "--jsonl"], { env: all })
      expect(streamed.code).toBe(0)
      const tags = lines(streamed.stdout).map((line) => JSON.parse(line)._tag)
      expect(tags[0]).toBe("Start")
      expect(tags.filter((t) => t === "TextDelta")).toHaveLength(3)
      expect(tags.at(-1)).toBe("Finish")
    }
  })

  it("ask sends the options as request fields", async () => {
    const run = await cli([
      "ask",
      "hi",
      "--model",
      "openai:mock",
      "--system",
      "Be brief",
      "--temperature",
      "0.25",
      "--max-tokens",
      "32"
    ], { env })
    expect(run.code).toBe(0)
    const body = recorded()[0]?.body as Record<string, unknown>
    expect(body).toMatchObject({ model: "mock", temperature: 0.25, messages: [{ role: "system" }, { role: "user" }] })
  })

  it("stream --jsonl prints Start, exactly N TextDelta and Finish, one JSON object per line", async () => {
    const run = await cli(["stream", "hi", "--jsonl", "--model", "openai:mock?chunks=5"], { env })
    expect(run.code).toBe(0)
    expect(run.stderr).toBe("")
    const events = lines(run.stdout).map((line) => JSON.parse(line))
    expect(events[0]?._tag).toBe("Start")
    expect(events.filter((e) => e._tag === "TextDelta")).toHaveLength(5)
    expect(events.at(-1)?._tag).toBe("Finish")
    expect(events.every((e) => typeof e._tag === "string")).toBe(true)
  })

  it("stream prints the text deltas and a newline", async () => {
    const run = await cli(["stream", "hi", "--model", "openai:mock?chunks=3"], { env })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(run.stdout.endsWith("\n")).toBe(true)
    expect(lines(run.stdout)).toHaveLength(1)
    expect(run.stdout.trim().length).toBeGreaterThan(0)
  })

  it("a 429: exit 1 and one stderr line starting RateLimitError (after the default 2 retries)", async () => {
    const run = await cli(["ask", "hi", "--model", "openai:mock?fault=429"], { env })
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^RateLimitError: openai HTTP 429: .*\(retry after \d+ ms\)\n$/)
    expect(server.requests).toHaveLength(3)
  })

  it("--verbose prints the details after the error line", async () => {
    const run = await cli(["ask", "hi", "--model", "openai:mock?fault=429", "--max-retries", "0", "--verbose"], { env })
    expect(run.code).toBe(1)
    expect(lines(run.stderr).length).toBeGreaterThan(3)
    expect(run.stderr).toMatch(/^RateLimitError: openai HTTP 429/m)
    expect(run.stderr).toContain("\"status\": 429")
    expect(server.requests).toHaveLength(1)
  })

  it("a 500 that happens once succeeds thanks to --max-retries", async () => {
    const run = await cli(["ask", "hi", "--model", "openai:mock?fault=500&times=1", "--max-retries", "2"], { env })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(run.stdout).toContain("hi")
    expect(server.requests).toHaveLength(2)
  })

  it("--max-retries 0 fails on the first 500", async () => {
    const run = await cli(["ask", "hi", "--model", "openai:mock?fault=500&times=1", "--max-retries", "0"], { env })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^ServerError: /)
    expect(server.requests).toHaveLength(1)
  })

  it("--timeout ends a stalled call with a TimeoutError", async () => {
    const run = await cli(
      ["stream", "hi", "--model", "openai:mock?fault=stall", "--timeout", "300", "--max-retries", "0"],
      { env }
    )
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^TimeoutError: /)
  })

  it("--fallback serves the answer from the next model", async () => {
    const run = await cli(
      ["ask", "hi", "--model", "openai:mock?fault=503", "--max-retries", "0", "--fallback", "openai:backup"],
      { env }
    )
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(recorded().map((r) => (r.body as { model: string }).model)).toEqual(["mock?fault=503", "backup"])
  })

  it("no OpenAI configuration: UnknownModelError naming OPENAI_API_KEY", async () => {
    const run = await cli(["ask", "hi", "--model", "gpt-4o-mini"])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^UnknownModelError: .*OPENAI_API_KEY/)
  })

  it("chat with piped stdin: each line is a turn, the second request carries the first answer", async () => {
    const run = await cli(["chat", "--model", "openai:mock"], { env, input: "first question\nsecond question\n" })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(lines(run.stdout)).toHaveLength(2)
    expect(server.requests).toHaveLength(2)
    const first = lines(run.stdout)[0]!
    const messages = (recorded()[1]?.body as { messages: Array<{ role: string; content: unknown }> }).messages
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"])
    expect(JSON.stringify(messages[1]?.content)).toContain(first.trim())
  })

  it("models --json parses and lists the configured providers", async () => {
    const run = await cli(["models", "--json"], { env })
    expect(run.code).toBe(0)
    const view = JSON.parse(run.stdout)
    expect(view.providers.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["openai", "ollama"]))
    expect(view.models.find((m: { model: string }) => m.model === "gpt-4o-mini")).toMatchObject({
      provider: "openai",
      configured: true
    })
  })

  it("bad arguments: a non-zero exit and one clear line", async () => {
    const unknown = await cli(["ask", "hi", "--bogus"], { env })
    expect(unknown.code).toBe(2)
    expect(lines(unknown.stderr)).toHaveLength(1)
    expect(unknown.stderr).toMatch(/^UsageError: .*--bogus/)

    const notANumber = await cli(["ask", "hi", "--temperature", "warm"], { env })
    expect(notANumber.code).toBe(2)
    expect(notANumber.stderr).toMatch(/^UsageError: --temperature expects a number, got 'warm'/)

    const outOfRange = await cli(["ask", "hi", "--temperature", "5"], { env })
    expect(outOfRange.code).toBe(1)
    expect(outOfRange.stderr).toBe("InvalidRequestError: temperature must be a number from 0 to 2 (got 5)\n")
    expect(server.requests).toHaveLength(0)
  })

  it("the API key is never printed, not even with --verbose", async () => {
    const runs = await Promise.all([
      cli(["ask", "hi", "--model", "openai:mock?fault=401", "--verbose"], { env }),
      cli(["stream", "hi", "--model", "openai:mock?fault=reset-mid-stream&chunks=6", "--verbose"], { env }),
      cli(["ask", "hi", "--verbose"], { env: { ...env, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" } }),
      cli(["chat", "--verbose", "--model", "openai:mock"], { env, input: "hello\n" })
    ])
    expect(runs.map((r) => r.code)).toEqual([1, 1, 1, 0])
    expect(runs[0]!.stderr).toMatch(/^AuthenticationError: /m)
    expect(runs[2]!.stderr).toMatch(/^NetworkError: /m)
    for (const run of runs) expect(run.stdout + run.stderr).not.toContain(secret)
  })

  it("no run of this file printed the key", () => {
    expect(printed.length).toBeGreaterThan(0)
    for (const text of printed) expect(text).not.toContain(secret)
  })
})
