import { describe, expect, it } from "@effect/vitest"
import { Cli } from "@llm-fiber/cli"
import { Effect, Layer } from "effect"
import { makeFake, runCli, usage } from "./support/fake.js"

const secret = "sk-test-SECRET123"

const lines = (text: string) => text.split("\n").filter((line) => line !== "")

describe("ask", () => {
  it.live("prints the answer text and a newline", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["ask", "hi"], fake)
      expect(r).toMatchObject({ code: 0, stdout: "Echo: hi\n", stderr: "" })
      expect(fake.calls[0]?.model).toBe("gpt-4o-mini")
    }))

  it.live("--json prints the whole ChatResult as one JSON object", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "hi", "--json"], makeFake())
      expect(r.code).toBe(0)
      expect(lines(r.stdout)).toHaveLength(1)
      const result = JSON.parse(r.stdout)
      expect(result).toMatchObject({
        text: "Echo: hi",
        provider: "openai",
        model: "gpt-4o-mini",
        finishReason: "stop",
        usage,
        message: { role: "assistant" }
      })
      expect(result.cost.totalUsd).toBeGreaterThan(0)
      expect(result.timing.latencyMs).toBeTypeOf("number")
    }))

  it.live("joins several prompt words", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "hello", "there", "--model", "openai:x"], makeFake())
      expect(r.stdout).toBe("Echo: hello there\n")
    }))

  it.live("- reads the prompt from stdin", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "--model", "openai:x", "-"], { ...makeFake(), stdin: "from a pipe\n" })
      expect(r.stdout).toBe("Echo: from a pipe\n")
    }))

  it.live("maps every option onto the request", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli([
        "ask",
        "hi",
        "-m",
        "openai:first",
        "--system",
        "Be brief",
        "--temperature",
        "0.5",
        "--max-tokens",
        "64",
        "--timeout",
        "5000",
        "--max-retries",
        "0",
        "--fallback",
        "openai:second, openai:third"
      ], fake)
      expect(r.code).toBe(0)
      const request = fake.calls[0]!.request
      expect(fake.calls[0]!.model).toBe("first")
      expect(request.messages.map((m) => m.role)).toEqual(["system", "user"])
      expect(request).toMatchObject({
        model: "openai:first",
        temperature: 0.5,
        maxTokens: 64,
        timeout: { totalMs: 5000 },
        maxRetries: 0,
        fallback: ["openai:second", "openai:third"]
      })
      expect(fake.calls[0]!.timeouts.totalMs).toBe(5000)
    }))

  it.live("the model defaults to LLM_FIBER_MODEL, else gpt-4o-mini", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      yield* runCli(["ask", "hi"], { ...fake, env: { LLM_FIBER_MODEL: "openai:from-env" } })
      yield* runCli(["ask", "hi", "--model", "openai:from-flag"], { ...fake, env: { LLM_FIBER_MODEL: "openai:env" } })
      yield* runCli(["ask", "hi"], fake)
      expect(fake.calls.map((c) => c.model)).toEqual(["from-env", "from-flag", "gpt-4o-mini"])
    }))

  it.live("logs never reach stdout", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "hi", "--model", "openai:log"], makeFake())
      expect(r).toMatchObject({ code: 0, stdout: "Echo: hi\n", stderr: "" })
    }))

  it.live("--verbose adds a usage line on stderr, stdout unchanged", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "hi", "--verbose"], makeFake())
      expect(r.stdout).toBe("Echo: hi\n")
      expect(r.stderr).toContain("openai:gpt-4o-mini")
      expect(r.stderr).toContain("10 in + 4 out tokens")
      expect(r.stderr).toMatch(/\$\d/)
      const local = yield* runCli(["ask", "hi", "--verbose", "--model", "openai:my-finetune"], makeFake())
      expect(local.stderr).toContain("unpriced model (no cost)")
    }))
})

describe("stream", () => {
  it.live("prints the deltas as they arrive, then a newline", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["stream", "hi"], makeFake())
      expect(r).toMatchObject({ code: 0, stdout: "Echo: hi\n", stderr: "" })
      // one write per chunk of events, then the newline
      expect(r.writes.length).toBeGreaterThanOrEqual(2)
    }))

  it.live("--jsonl prints one StreamEvent per line, Start first and Finish last", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["stream", "hi", "--jsonl"], makeFake())
      expect(r.code).toBe(0)
      const events = lines(r.stdout).map((line) => JSON.parse(line))
      expect(events.map((e) => e._tag)).toEqual(["Start", "TextDelta", "TextDelta", "TextDelta", "Finish"])
      expect(events.at(-1)).toMatchObject({ finishReason: "stop", usage })
      expect(events.filter((e) => e._tag === "TextDelta").map((e) => e.text).join("")).toBe("Echo: hi")
    }))

  it.live("a failure midway ends the line, then prints the error", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["stream", "hi", "--model", "openai:midstream"], makeFake())
      expect(r.code).toBe(1)
      expect(r.stdout).toBe("partial\n")
      expect(lines(r.stderr)).toEqual(["NetworkError: openai: connection reset"])
    }))
})

describe("errors", () => {
  it.live("a provider error: exit 1 and one line that starts with its tag", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "hi", "--model", "openai:fail-429", "--max-retries", "0"], makeFake())
      expect(r.code).toBe(1)
      expect(r.stdout).toBe("")
      expect(r.stderr).toBe("RateLimitError: openai HTTP 429: Rate limit reached (retry after 1500 ms)\n")
    }))

  it.live("--verbose prints the fields and the cause after the line", () =>
    Effect.gen(function*() {
      const r = yield* runCli(
        ["ask", "hi", "--model", "openai:fail-429", "--max-retries", "0", "--verbose"],
        makeFake()
      )
      expect(r.code).toBe(1)
      const errLines = lines(r.stderr)
      expect(errLines.length).toBeGreaterThan(2)
      expect(errLines.find((l) => l.startsWith("RateLimitError:"))).toBeDefined()
      expect(r.stderr).toContain("\"status\": 429")
      expect(r.stderr).toContain("\"retryable\": true")
    }))

  it.live("a retryable failure is retried (--max-retries)", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["ask", "hi", "--model", "openai:fail-500-once", "--max-retries", "2"], fake)
      expect(r).toMatchObject({ code: 0, stdout: "Echo: hi\n", stderr: "" })
      expect(fake.calls.map((c) => c.attempt)).toEqual([1, 2])
    }))

  it.live("--fallback moves on to the next model", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(
        ["ask", "hi", "--model", "openai:fail-429", "--max-retries", "0", "--fallback", "openai:backup"],
        fake
      )
      expect(r).toMatchObject({ code: 0, stdout: "Echo: hi\n" })
      expect(fake.calls.map((c) => c.model)).toEqual(["fail-429", "backup"])
    }))

  it.live("invalid request values fail in core validation", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["ask", "hi", "--temperature", "5"], fake)
      expect(r.code).toBe(1)
      expect(r.stderr).toBe("InvalidRequestError: temperature must be a number from 0 to 2 (got 5)\n")
      expect(fake.calls).toHaveLength(0)
    }))

  it.live("a provider that is not configured: UnknownModelError naming the variable", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["ask", "hi", "--model", "claude-sonnet-4-5"], makeFake())
      expect(r.code).toBe(1)
      expect(lines(r.stderr)).toHaveLength(1)
      expect(r.stderr).toMatch(/^UnknownModelError: .*ANTHROPIC_API_KEY/)
    }))

  it.live("a failing client layer is reported like any other error", () =>
    Effect.gen(function*() {
      const broken = Layer.fail(new Error("no registry"))
      const r = yield* runCli(["ask", "hi"], { layer: broken })
      expect(r.code).toBe(1)
      expect(r.stderr).toBe("Error: no registry\n")
    }))

  it.live("API keys are scrubbed from errors, also with --verbose", () =>
    Effect.gen(function*() {
      const env = { OPENAI_API_KEY: secret }
      for (const args of [["ask", "hi"], ["ask", "hi", "--verbose"], ["stream", "hi", "--jsonl", "--verbose"]]) {
        const r = yield* runCli([...args, "--model", "openai:leak"], { ...makeFake(), env })
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/^ServerError: /m)
        expect(r.stderr).toContain("[redacted]")
        expect(r.stdout + r.stderr).not.toContain(secret)
      }
    }))
})

describe("usage errors", () => {
  const cases: ReadonlyArray<[string, ReadonlyArray<string>, RegExp]> = [
    ["an unknown flag", ["ask", "hi", "--bogus"], /^UsageError: .*'--bogus'.*llm-fiber ask --help/],
    ["an unknown flag of models", ["models", "--bogus"], /^UsageError: .*'--bogus'/],
    ["a non-numeric temperature", ["ask", "hi", "--temperature", "abc"], /^UsageError: --temperature expects a number/],
    ["a fractional --max-tokens", ["stream", "hi", "--max-tokens", "1.5"], /^UsageError: --max-tokens expects an int/],
    ["a missing prompt", ["ask"], /^UsageError: Missing argument <prompt>/],
    ["an option without its value", ["ask", "hi", "--model"], /^UsageError: Expected a value following/],
    ["an unknown command", ["bogus"], /^UsageError: Invalid subcommand.*llm-fiber --help/]
  ]
  for (const [name, args, pattern] of cases) {
    it.live(name, () =>
      Effect.gen(function*() {
        const fake = makeFake()
        const r = yield* runCli(args, fake)
        expect(r.code).toBe(Cli.ExitCode.usage)
        expect(r.stdout).toBe("")
        expect(lines(r.stderr)).toHaveLength(1)
        expect(r.stderr).toMatch(pattern)
        expect(fake.calls).toHaveLength(0)
      }))
  }
})

describe("chat", () => {
  it.live("each line is a turn; the history carries the earlier answers", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["chat", "--system", "Be brief"], { ...fake, lines: ["hello", "", "again"] })
      expect(r).toMatchObject({ code: 0, stdout: "Echo: hello\nEcho: again\n", stderr: "" })
      expect(fake.calls).toHaveLength(2)
      const second = fake.calls[1]!.request.messages
      expect(second.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"])
      expect(second[2]!.content).toEqual([{ type: "text", text: "Echo: hello" }])
    }))

  it.live("/exit ends the conversation, /reset forgets it", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["chat"], { ...fake, lines: ["one", "/reset", "two", "/exit", "three"] })
      expect(r.stdout).toBe("Echo: one\nEcho: two\n")
      expect(fake.calls[1]!.request.messages).toHaveLength(1)
    }))

  it.live("piped: a failed turn ends the chat with exit 1", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["chat", "--model", "openai:fail-429", "--max-retries", "0"], {
        ...fake,
        lines: ["one", "two"]
      })
      expect(r.code).toBe(1)
      expect(lines(r.stderr)).toEqual(["RateLimitError: openai HTTP 429: Rate limit reached (retry after 1500 ms)"])
      expect(fake.calls).toHaveLength(1)
    }))

  it.live("interactive: a failed turn is reported and the chat goes on", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["chat", "--model", "openai:fail-429", "--max-retries", "0"], {
        ...fake,
        lines: ["one", "two"],
        interactive: true
      })
      expect(r.code).toBe(0)
      expect(r.stderr.match(/^RateLimitError:/gm)).toHaveLength(2)
      expect(fake.calls).toHaveLength(2)
    }))
})

describe("models", () => {
  it.live("--json: the catalog version, the configured providers and the catalog rows", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["models", "--json"], makeFake())
      expect(r.code).toBe(0)
      const view = JSON.parse(r.stdout)
      expect(view.catalog).toEqual({ version: "2026.11.22", updated: "2026-11-22" })
      expect(view.providers).toEqual([expect.objectContaining({ name: "openai", api: "openai-chat" })])
      const mini = view.models.find((m: { model: string }) => m.model === "gpt-4o-mini")
      expect(mini).toEqual({
        model: "gpt-4o-mini",
        provider: "openai",
        configured: true,
        capabilities: { tools: true, vision: true, jsonSchema: true, promptCaching: true, reasoning: false },
        contextWindow: 128_000,
        maxOutputTokens: 16_384,
        inputPerMTok: 0.15,
        outputPerMTok: 0.6,
        cachedInputPerMTok: 0.075,
        cacheWritePerMTok: 0.15,
        source: "https://platform.openai.com/docs/pricing",
        checked: "2026-11-22"
      })
      expect(view.models.find((m: { model: string }) => m.model === "claude-sonnet-4-5")).toMatchObject({
        provider: "anthropic",
        configured: false,
        inputPerMTok: 3,
        cacheWritePerMTok: 3.75,
        cacheWrite1hPerMTok: 6,
        longContext: { thresholdTokens: 200_000, inputPerMTok: 6 }
      })
      expect(view.models.find((m: { model: string }) => m.model === "claude-sonnet-4")).toMatchObject({
        aliases: ["claude-sonnet-4-0"]
      })
      // aliases are listed with their row, not as rows of their own
      expect(view.models.find((m: { model: string }) => m.model === "claude-sonnet-4-0")).toBeUndefined()
      // a name the registry knows but the catalog does not price
      expect(view.models.find((m: { model: string }) => m.model === "text-embedding-004")).toEqual({
        model: "text-embedding-004",
        provider: "gemini",
        configured: false
      })
    }))

  it.live("text: providers, then a table, then the legend", () =>
    Effect.gen(function*() {
      const r = yield* runCli(["models"], makeFake())
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^Providers: openai \(openai-chat\)\n/)
      expect(r.stdout).toMatch(
        /\nMODEL\s+PROVIDER\s+CONTEXT\s+INPUT\/1M\s+OUTPUT\/1M\s+CACHED\/1M\s+WRITE\/1M\s+CONFIGURED\s+CAPABILITIES\n/
      )
      expect(r.stdout).toMatch(
        /\ngpt-4o-mini\s+openai\s+128,000\s+\$0\.15\s+\$0\.60\s+\$0\.075\s+\$0\.15\s+yes\s+tools,vision,json,cache\n/
      )
      expect(r.stdout).toMatch(
        /\nclaude-haiku-4-5\s+anthropic\s+200,000\s+\$1\.00\s+\$5\.00\s+\$0\.10\s+\$1\.25\s+no\s+tools,vision,json,cache,reason\n/
      )
      expect(r.stdout).toMatch(/\ntext-embedding-3-small\s+openai\s+8,191\s+\$0\.02\s+\$0\.00\s+.*\s+yes\s+embedding\n/)
      expect(r.stdout).toContain("Catalog 2026.11.22 (updated 2026-11-22).")
    }))
})
