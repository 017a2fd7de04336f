/**
 * The cost, cache, tool and structured-output flags in process, on the scripted provider
 * of `support/fake.ts`: how each flag reaches the client, and how its bad values fail.
 * (`costTools.e2e.test.ts` runs them end to end, with real servers.)
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Cli } from "@llm-fiber/cli"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Concerns from "../src/internal/concerns.js"
import * as OutputSchema from "../src/internal/schema.js"
import { makeFake, runCli } from "./support/fake.js"

const lines = (text: string) => text.split("\n").filter((line) => line !== "")

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "llm-fiber-cli-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

describe("--cache", () => {
  it("parses off, memory, file:DIR and redis:// URLs; anything else is a message", () => {
    expect(Concerns.parseCache("off")).toEqual(Either.right({ _tag: "Off" }))
    expect(Concerns.parseCache("MEMORY")).toEqual(Either.right({ _tag: "Memory" }))
    expect(Concerns.parseCache("file:/tmp/x")).toEqual(Either.right({ _tag: "File", directory: "/tmp/x" }))
    expect(Concerns.parseCache("file:rel")).toEqual(Either.right({ _tag: "File", directory: path.resolve("rel") }))
    expect(Concerns.parseCache("file:~/c")).toEqual(
      Either.right({ _tag: "File", directory: path.join(os.homedir(), "c") })
    )
    expect(Concerns.parseCache("redis://127.0.0.1:6379")).toEqual(
      Either.right({ _tag: "Redis", url: "redis://127.0.0.1:6379" })
    )
    expect(Concerns.parseCache("rediss://u:p@h:1/2")).toEqual(
      Either.right({ _tag: "Redis", url: "rediss://u:p@h:1/2" })
    )
    expect(Concerns.parseCache("disk")).toEqual(
      Either.left("--cache expects off, memory, file:DIR or redis://HOST:PORT, got 'disk'")
    )
    expect(Either.getLeft(Concerns.parseCache("file:"))._tag).toBe("Some")
    expect(Either.getLeft(Concerns.parseCache("redis://h:1/db"))._tag).toBe("Some")
    // a bad value with credentials in it is not echoed
    const secretish = Concerns.parseCache("redis:/user:hunter22@h")
    expect(Either.isLeft(secretish) && secretish.left).not.toContain("hunter22")
    const url = Concerns.parseCache("redis://user:hunter22@")
    expect(Either.isLeft(url) && url.left).not.toContain("hunter22")
  })

  it.live("memory: an identical turn of the same chat is answered from the cache", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["chat", "--cache", "memory"], { ...fake, lines: ["hello", "/reset", "hello"] })
      expect(r).toMatchObject({ code: 0, stdout: "Echo: hello\nEcho: hello\n", stderr: "" })
      expect(fake.calls).toHaveLength(1)
    }))

  it.scopedLive("file:DIR: kept across runs; --verbose says the answer came from the cache", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const fake = makeFake()
      const args = ["ask", "hi", "--cache", `file:${dir}`]
      const first = yield* runCli(args, fake)
      const second = yield* runCli([...args, "--verbose"], fake)
      expect(first).toMatchObject({ code: 0, stdout: "Echo: hi\n" })
      expect(second).toMatchObject({ code: 0, stdout: "Echo: hi\n" })
      expect(second.stderr).toContain("from the response cache (nothing spent)")
      expect(fake.calls).toHaveLength(1)
      const third = yield* runCli(["ask", "hi", "--cache", "off"], fake)
      expect(third.code).toBe(0)
      expect(fake.calls).toHaveLength(2)
    }))
})

describe("--max-cost-usd", () => {
  it.live("is the request's cost ceiling: a call that cannot fit is never sent", () =>
    Effect.gen(function*() {
      const fake = makeFake()
      const r = yield* runCli(["ask", "hi", "--max-cost-usd", "0.001"], fake)
      expect(r.code).toBe(1)
      expect(lines(r.stderr)).toHaveLength(1)
      expect(r.stderr).toMatch(/^BudgetExceededError: openai:gpt-4o-mini: .*cost ceiling/)
      expect(fake.calls).toHaveLength(0)
      const fits = yield* runCli(["ask", "hi", "--max-cost-usd", "0.001", "--max-tokens", "10"], fake)
      expect(fits).toMatchObject({ code: 0, stdout: "Echo: hi\n" })
      expect(fake.calls[0]?.request.costCeilingUsd).toBe(0.001)
    }))
})

describe("--usage-log and costs", () => {
  it.scopedLive("each call appends a line; costs prints its totals", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const log = path.join(dir, "usage.jsonl")
      const fake = makeFake()
      yield* runCli(["ask", "hi", "--usage-log", log], fake)
      yield* runCli(["stream", "hi", "--usage-log", log], fake)
      yield* runCli(["chat", "--usage-log", log], { ...fake, lines: ["a", "b"] })
      const entries = lines(fs.readFileSync(log, "utf8")).map((line) => JSON.parse(line))
      expect(entries.map((e) => e.operation)).toEqual(["chat", "stream", "stream", "stream"])
      expect(entries.every((e) => e.inputTokens === 10 && e.outputTokens === 4 && e.status === "ok")).toBe(true)

      const json = yield* runCli(["costs", log, "--json"], fake)
      expect(json.code).toBe(0)
      const summary = JSON.parse(json.stdout)
      expect(summary.total).toMatchObject({ calls: 4, errors: 0, inputTokens: 40, outputTokens: 16 })
      expect(summary.total.costUsd).toBeCloseTo(entries.reduce((n, e) => n + e.costUsd, 0), 6)
      const text = yield* runCli(["costs", log], fake)
      expect(text.stdout).toMatch(
        /^.*usage\.jsonl: 4 calls \(0 errors\), 40 input \+ 16 output tokens, \$0\.0000\d\d\n/
      )
      expect(text.stdout).toMatch(/\nopenai:gpt-4o-mini\s+4\s+0\s+40\s+16\s+0\s+\$0\.0000\d\d\s+0\n/)
    }))

  it.scopedLive("an empty log: zero calls and no tables", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const log = path.join(dir, "empty.jsonl")
      fs.writeFileSync(log, "")
      const r = yield* runCli(["costs", log], makeFake())
      expect(r).toMatchObject({ code: 0, stdout: `${log}: 0 calls (0 errors), 0 input + 0 output tokens, $0.000000\n` })
    }))
})

describe("--schema", () => {
  const write = (dir: string, name: string, content: unknown) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content))
    return file
  }

  it.scopedLive("loads the file: name from its title, validation by ajv, the schema sent with definitions", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(dir, "thing.schema.json", {
        $schema: "http://json-schema.org/draft-07/schema#",
        title: "My Thing!",
        description: "A thing",
        type: "object",
        properties: { id: { $ref: "#/$defs/id" } },
        required: ["id"],
        $defs: { id: { type: "string", pattern: "^t-" } }
      })
      const loaded = yield* OutputSchema.load(file)
      expect(loaded).toMatchObject({ name: "My_Thing", description: "A thing" })
      const { Schema } = yield* Effect.promise(() => import("effect"))
      const decode = Schema.decodeUnknownEither(loaded.schema)
      expect(Either.isRight(decode({ id: "t-1" }))).toBe(true)
      const bad = decode({ id: "x-1" })
      expect(Either.isLeft(bad) && bad.left.message).toBe("at /id: must match pattern \"^t-\"")
      const { StructuredOutput } = yield* Effect.promise(() => import("@llm-fiber/core"))
      expect(StructuredOutput.jsonSchema(loaded.schema)).toEqual({
        title: "My Thing!",
        description: "A thing",
        type: "object",
        properties: { id: { $ref: "#/definitions/id" } },
        required: ["id"],
        definitions: { id: { type: "string", pattern: "^t-" } }
      })
      // without a title: the file's name
      const untitled = yield* OutputSchema.load(write(dir, "order-line.json", { type: "object" }))
      expect(untitled.name).toBe("order-line")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("an answer that never validates: StructuredOutputError after one repair", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(dir, "s.json", { type: "object", properties: { n: { type: "number" } }, required: ["n"] })
      const fake = makeFake()
      const r = yield* runCli(["ask", "hi", "--schema", file], fake)
      expect(r.code).toBe(1)
      expect(r.stdout).toBe("")
      expect(lines(r.stderr)).toHaveLength(1)
      expect(r.stderr).toMatch(/^StructuredOutputError: /)
      expect(fake.calls).toHaveLength(2)
    }))
})

describe("usage errors of the new flags", () => {
  it.scopedLive("bad values: exit 2, one line, nothing sent", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const schema = path.join(dir, "ok.json")
      fs.writeFileSync(schema, JSON.stringify({ type: "object" }))
      const cases: ReadonlyArray<[ReadonlyArray<string>, RegExp]> = [
        [["ask", "hi", "--cache", "disk"], /^UsageError: --cache expects off, memory, file:DIR or redis:/],
        [["chat", "--cache", "file:"], /^UsageError: --cache file: needs a directory/],
        [["ask", "hi", "--max-cost-usd", "cheap"], /^UsageError: --max-cost-usd expects a number, got 'cheap'/],
        [["ask", "hi", "--max-cost-usd", "-1"], /^UsageError: --max-cost-usd expects a positive number of USD/],
        [["stream", "hi", "--max-steps", "0"], /^UsageError: --max-steps expects an integer >= 1, got 0/],
        [["ask", "hi", "--mcp", "  "], /^UsageError: --mcp: the command line is empty/],
        [["ask", "hi", "--mcp", "\"npx -y"], /^UsageError: --mcp: .*unterminated/],
        [["ask", "hi", "--schema", path.join(dir, "none.json")], /^UsageError: --schema: cannot read .*no such file/],
        [["ask", "hi", "--schema", schema, "--mcp", "true"], /^UsageError: --schema and --mcp cannot be used together/]
      ]
      for (const [args, pattern] of cases) {
        const fake = makeFake()
        const r = yield* runCli(args, fake)
        expect(r.code, args.join(" ")).toBe(Cli.ExitCode.usage)
        expect(r.stdout).toBe("")
        expect(lines(r.stderr), args.join(" ")).toHaveLength(1)
        expect(r.stderr).toMatch(pattern)
        expect(fake.calls).toHaveLength(0)
      }
    }))
})
