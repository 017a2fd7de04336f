/**
 * The cost, cache, tool and structured-output flags end to end: the real `llm-fiber`
 * executable against the real mock provider server (`@llm-fiber/testing`), a real Redis
 * (`LLM_FIBER_REDIS_URL`, else a throwaway `redis-server`), and the real MCP
 * `server-everything` over stdio.
 *
 * Every prompt carries a fresh nonce, so that a cache kept by an earlier run (Redis is
 * shared by the suite) never answers a test's first call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { MockServer } from "@llm-fiber/testing"
import { Ajv2020 } from "ajv/dist/2020.js"
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { findRedisServer, type RedisServer, startRedisServer, urlVariable } from "../../../test-support/redis.js"
import { cli, lines, printed } from "./support/exec.js"

const require = createRequire(import.meta.url)
const everythingBin = require.resolve("@modelcontextprotocol/server-everything/dist/index.js")
/** `--mcp` for server-everything over stdio (quoted: paths may hold spaces). */
const everything = `'${process.execPath}' '${everythingBin}' stdio`

const secret = "sk-test-COSTTOOLS-9876"

let server: MockServer.Handle
let env: Record<string, string>
let dir: string

interface Body {
  readonly model?: string
  readonly messages?: ReadonlyArray<{ readonly role: string; readonly content: unknown }>
  readonly tools?: ReadonlyArray<{ readonly function: { readonly name: string } }>
  readonly response_format?: {
    readonly type: string
    readonly json_schema?: { readonly name: string; readonly schema: unknown; readonly strict?: boolean }
  }
}

const bodies = (): ReadonlyArray<Body> => server.requests.map((r) => r.body as Body)

const nonce = () => randomUUID().slice(0, 8)

beforeAll(async () => {
  server = await MockServer.start()
  env = { OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: secret }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-fiber-cli-"))
})

afterAll(async () => {
  await server?.close()
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => server.reset())

describe("--cache", () => {
  it("file:DIR: the second identical ask is served from the cache, with no request", async () => {
    const cache = path.join(dir, "cache")
    const prompt = `cache me ${nonce()}`
    const first = await cli(["ask", prompt, "--cache", `file:${cache}`, "--json"], { env })
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    expect(server.requests).toHaveLength(1)
    expect(JSON.parse(first.stdout).fromCache).toBeUndefined()
    expect(fs.readdirSync(cache).length).toBeGreaterThan(0)

    const second = await cli(["ask", prompt, "--cache", `file:${cache}`, "--json"], { env })
    expect(second).toMatchObject({ code: 0, stderr: "" })
    expect(server.requests).toHaveLength(1)
    const hit = JSON.parse(second.stdout)
    expect(hit.fromCache).toBe(true)
    expect(hit.text).toBe(JSON.parse(first.stdout).text)

    // a stream of the same request is answered by the same entry; another prompt is not
    const streamed = await cli(["stream", prompt, "--cache", `file:${cache}`], { env })
    expect(streamed).toMatchObject({ code: 0, stdout: `${hit.text}\n` })
    expect(server.requests).toHaveLength(1)
    await cli(["ask", `other ${nonce()}`, "--cache", `file:${cache}`], { env })
    expect(server.requests).toHaveLength(2)
  }, 60_000)

  it("off (and no --cache) sends every call", async () => {
    const prompt = `no cache ${nonce()}`
    await cli(["ask", prompt, "--cache", "off"], { env })
    await cli(["ask", prompt], { env })
    expect(server.requests).toHaveLength(2)
  }, 60_000)

  it("memory: identical turns of one chat are answered once", async () => {
    const line = `remember ${nonce()}`
    const run = await cli(["chat", "--cache", "memory", "--model", "openai:mock"], {
      env,
      input: `${line}\n/reset\n${line}\n`
    })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(lines(run.stdout)).toEqual([`Mock reply to: ${line}`, `Mock reply to: ${line}`])
    expect(server.requests).toHaveLength(1)
  }, 60_000)

  it("a value it does not know: a usage error naming the forms, nothing sent", async () => {
    for (const value of ["disk", "file:", "redis://"]) {
      const run = await cli(["ask", "hi", "--cache", value], { env })
      expect(run.code).toBe(2)
      expect(lines(run.stderr)).toHaveLength(1)
      expect(run.stderr).toMatch(/^UsageError: --cache/)
    }
    expect(server.requests).toHaveLength(0)
  }, 60_000)
})

// -----------------------------------------------------------------------------
// Redis: npm test provides LLM_FIBER_REDIS_URL; else a throwaway redis-server when there is
// one; else the test fails in CI and is skipped (saying why) elsewhere
// -----------------------------------------------------------------------------

const givenUrl = process.env[urlVariable]
const canRedis = (givenUrl !== undefined && givenUrl !== "") || findRedisServer() !== undefined
const inCi = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false"
if (!canRedis && !inCi) {
  console.warn(
    `[cli] skipping the --cache redis:// test: ${urlVariable} is not set and there is no redis-server ` +
      `(npm test provides one)`
  )
}

describe.skipIf(!canRedis && !inCi)("--cache redis://", () => {
  let redis: RedisServer | undefined
  let url: string

  beforeAll(async () => {
    if (givenUrl !== undefined && givenUrl !== "") {
      url = givenUrl
      return
    }
    if (!canRedis) throw new Error(`CI=true but ${urlVariable} is not set and there is no redis-server`)
    redis = await startRedisServer()
    url = redis.url
  })

  afterAll(async () => {
    await redis?.stop()
  })

  it("the second identical ask (another process) is served from Redis, with no request", async () => {
    const prompt = `redis ${nonce()}`
    const first = await cli(["ask", prompt, "--cache", url], { env })
    expect(first).toMatchObject({ code: 0, stderr: "" })
    expect(server.requests).toHaveLength(1)
    const second = await cli(["ask", prompt, "--cache", url, "--json"], { env })
    expect(second).toMatchObject({ code: 0, stderr: "" })
    expect(server.requests).toHaveLength(1)
    expect(JSON.parse(second.stdout)).toMatchObject({ fromCache: true, text: first.stdout.trimEnd() })
  }, 60_000)

  it("an unreachable Redis: one RedisError line, exit 1, nothing sent", async () => {
    const run = await cli(["ask", "hi", "--cache", "redis://127.0.0.1:1"], { env })
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^RedisError: .*127\.0\.0\.1:1/)
    expect(server.requests).toHaveLength(0)
  }, 60_000)
})

describe("--max-cost-usd", () => {
  it("a call whose worst case is above the ceiling is rejected before sending", async () => {
    // gpt-4o-mini's worst case: a few input tokens + 4,096 output tokens ≈ $0.0025
    const run = await cli(["ask", "hi", "--model", "gpt-4o-mini", "--max-cost-usd", "0.001"], { env })
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^BudgetExceededError: .*cost ceiling.*nothing was sent/)
    const streamed = await cli(["stream", "hi", "--max-cost-usd", "0.001"], { env })
    expect(streamed.code).toBe(1)
    expect(streamed.stderr).toMatch(/^BudgetExceededError: /)
    expect(server.requests).toHaveLength(0)
  }, 60_000)

  it("a call that fits is sent", async () => {
    const run = await cli(["ask", "hi", "--max-cost-usd", "0.001", "--max-tokens", "100"], { env })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(server.requests).toHaveLength(1)
  }, 60_000)
})

describe("--usage-log and costs", () => {
  it("one JSON line per call; costs totals them by model, provider and day", async () => {
    const log = path.join(dir, `usage-${nonce()}.jsonl`)
    // 1,000 input + 1,000 output tokens of gpt-4o-mini: $0.00015 + $0.0006 per call
    const usage = { prompt_tokens: 1000, completion_tokens: 1000 }
    server.script([{ usage }, { usage }, { usage }])
    expect((await cli(["ask", "one", "--usage-log", log], { env })).code).toBe(0)
    expect((await cli(["stream", "two", "--usage-log", log], { env })).code).toBe(0)
    expect((await cli(["ask", "three", "--usage-log", log, "--model", "openai:mock"], { env })).code).toBe(0)
    // rejected by its ceiling: logged with its error as status
    const rejected = await cli(["ask", "four", "--usage-log", log, "--max-cost-usd", "0.0001"], { env })
    expect(rejected.code).toBe(1)
    expect(server.requests).toHaveLength(3)

    const entries = lines(fs.readFileSync(log, "utf8")).map((line) => JSON.parse(line))
    expect(entries).toHaveLength(4)
    expect(entries.map((e) => [e.provider, e.model, e.operation, e.status])).toEqual([
      ["openai", "gpt-4o-mini", "chat", "ok"],
      ["openai", "gpt-4o-mini", "stream", "ok"],
      ["openai", "mock", "chat", "ok"],
      ["openai", "gpt-4o-mini", "chat", "BudgetExceededError"]
    ])
    expect(entries[0]).toMatchObject({ inputTokens: 1000, outputTokens: 1000, costUsd: 0.00075 })
    expect(entries[2].costUsd).toBeNull()
    // never content or keys
    expect(fs.readFileSync(log, "utf8")).not.toMatch(/one|two|three|four|sk-test/)

    const sum = (key: string) => entries.reduce((n, e) => n + (e[key] ?? 0), 0)
    const json = await cli(["costs", log, "--json"], { env })
    expect(json).toMatchObject({ code: 0, stderr: "" })
    const summary = JSON.parse(json.stdout)
    expect(summary.total).toMatchObject({
      calls: 4,
      errors: 1,
      inputTokens: sum("inputTokens"),
      outputTokens: sum("outputTokens"),
      unpricedCalls: 1
    })
    expect(summary.total.costUsd).toBeCloseTo(sum("costUsd"), 9)
    expect(summary.byModel.map((g: { key: string }) => g.key)).toEqual(["openai:gpt-4o-mini", "openai:mock"])
    expect(summary.byModel[0]).toMatchObject({ calls: 3, errors: 1, inputTokens: 2000, outputTokens: 2000 })
    expect(summary.byProvider).toEqual([expect.objectContaining({ key: "openai", calls: 4 })])
    const day = new Date(entries[0].timestamp).toISOString().slice(0, 10)
    expect(summary.byDay).toEqual([expect.objectContaining({ key: day, calls: 4 })])

    const text = await cli(["costs", log], { env })
    expect(text).toMatchObject({ code: 0, stderr: "" })
    expect(text.stdout).toContain(`4 calls (1 error), 3,000 input + 3,000 output tokens, $0.001500`)
    expect(text.stdout).toMatch(/\nMODEL\s+CALLS\s+ERRORS\s+INPUT\s+OUTPUT\s+CACHED\s+COST\s+UNPRICED\n/)
    expect(text.stdout).toMatch(/\nopenai:gpt-4o-mini\s+3\s+1\s+2,000\s+2,000\s+0\s+\$0\.001500\s+0\n/)
    expect(text.stdout).toMatch(/\nopenai:mock\s+1\s+0\s+1,000\s+1,000\s+0\s+\$0\.000000\s+1\n/)
    expect(text.stdout).toMatch(new RegExp(`\\n${day}\\s+4\\s+1\\s+3,000\\s+3,000\\s+0\\s+\\$0\\.001500\\s+1\\n`))
  }, 120_000)

  it("costs: a line that is not an entry is skipped and counted; a missing file is a usage error", async () => {
    const log = path.join(dir, `partial-${nonce()}.jsonl`)
    fs.writeFileSync(
      log,
      JSON.stringify({
        timestamp: "2026-01-02T03:04:05.000Z",
        provider: "anthropic",
        model: "claude-haiku-4-5",
        operation: "chat",
        inputTokens: 10,
        outputTokens: 20,
        cachedInputTokens: 0,
        costUsd: 0.00011,
        latencyMs: 5,
        status: "ok"
      }) + "\n{\"timestamp\":\"2026-01-02T03:0"
    )
    const run = await cli(["costs", log, "--json"])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      total: { calls: 1, costUsd: 0.00011 },
      byDay: [{ key: "2026-01-02" }],
      skippedLines: 1
    })
    expect(run.stderr).toBe("llm-fiber: skipped 1 line that is not a usage entry\n")

    const missing = await cli(["costs", path.join(dir, "nope.jsonl")])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^UsageError: .*nope\.jsonl/)
  }, 60_000)
})

describe("--mcp (server-everything over stdio)", () => {
  it("ask: the model calls echo, the loop runs it, the answer mentions the result", async () => {
    const message = `hello ${nonce()}`
    server.script([{ toolCalls: [{ name: "echo", arguments: { message } }] }])
    const run = await cli(["ask", "Echo something", "--mcp", everything, "--model", "openai:mock", "--verbose"], {
      env
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(`The tool returned: Echo: ${message}\n`)
    // the tool call and its result on stderr (--verbose)
    expect(run.stderr).toContain(`llm-fiber: tool echo {"message":"${message}"}`)
    expect(run.stderr).toContain(`llm-fiber: tool echo → Echo: ${message}`)
    expect(run.stderr).toMatch(/tool loop of 2 steps/)
    // the provider was offered the server's tools, then got the real result back
    expect(server.requests).toHaveLength(2)
    const [first, second] = bodies()
    expect(first?.tools?.map((t) => t.function.name)).toContain("echo")
    expect(second?.messages?.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
    expect(JSON.stringify(second?.messages?.[2])).toContain(`Echo: ${message}`)
  }, 90_000)

  it("stream --jsonl: the loop's events, step by step, with the tool result", async () => {
    const message = `streamed ${nonce()}`
    server.script([{ toolCalls: [{ name: "echo", arguments: { message } }] }])
    const run = await cli(["stream", "Echo something", "--mcp", everything, "--model", "openai:mock", "--jsonl"], {
      env
    })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    const events = lines(run.stdout).map((line) => JSON.parse(line))
    const tags = events.map((e) => e._tag)
    expect(tags[0]).toBe("StepStart")
    expect(tags.filter((t) => t === "StepStart")).toHaveLength(2)
    expect(events.find((e) => e._tag === "ToolResult")).toEqual({
      _tag: "ToolResult",
      step: 1,
      id: expect.any(String),
      name: "echo",
      arguments: { message },
      outcome: "success",
      result: `Echo: ${message}`,
      isError: false
    })
    expect(tags.at(-1)).toBe("Finish")
    const text = events.filter((e) => e._tag === "TextDelta").map((e) => e.text).join("")
    expect(text).toBe(`The tool returned: Echo: ${message}`)
  }, 90_000)

  it("stream: the text as it arrives; chat keeps the tool turns in the conversation", async () => {
    server.script([{ toolCalls: [{ name: "echo", arguments: { message: "first" } }] }])
    const streamed = await cli(["stream", "go", "--mcp", everything, "--model", "openai:mock"], { env })
    expect(streamed).toMatchObject({ code: 0, stdout: "The tool returned: Echo: first\n", stderr: "" })

    server.reset()
    server.script([{ toolCalls: [{ name: "echo", arguments: { message: "second" } }] }, {}, {
      text: "No tool needed."
    }])
    const chat = await cli(["chat", "--mcp", everything, "--model", "openai:mock"], {
      env,
      input: "use the tool\nand now?\n"
    })
    expect(chat).toMatchObject({ code: 0, stderr: "" })
    expect(lines(chat.stdout)).toEqual(["The tool returned: Echo: second", "No tool needed."])
    const last = bodies().at(-1)
    expect(last?.messages?.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant", "user"])
  }, 120_000)

  it("--max-steps: a model that keeps calling tools fails the loop with ToolError", async () => {
    const call = { toolCalls: [{ name: "echo", arguments: { message: "again" } }] }
    server.script([call, call, call])
    const run = await cli(["ask", "loop", "--mcp", everything, "--model", "openai:mock", "--max-steps", "2"], { env })
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^ToolError: .*maxSteps \(2\)/)
    expect(server.requests).toHaveLength(2)
  }, 90_000)

  it("a server that cannot start: one McpError line naming it, exit 1, nothing sent", async () => {
    const script = path.join(dir, "fail-server.mjs")
    fs.writeFileSync(script, "console.error('no luck today'); process.exit(3)\n")
    const run = await cli(["ask", "hi", "--mcp", `'${process.execPath}' '${script}'`], { env })
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^McpError: MCP server "fail-server": .*exited.*no luck today/)
    expect(server.requests).toHaveLength(0)
  }, 60_000)
})

describe("--schema", () => {
  const person = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "Person",
    type: "object",
    properties: {
      name: { type: "string", minLength: 1 },
      age: { type: "integer", minimum: 0 },
      tags: { type: "array", items: { $ref: "#/$defs/tag" } }
    },
    required: ["name", "age"],
    additionalProperties: false,
    $defs: { tag: { type: "string", enum: ["friend", "colleague"] } }
  }
  const schemaFile = () => {
    const file = path.join(dir, "person.schema.json")
    fs.writeFileSync(file, JSON.stringify(person))
    return file
  }

  it("prints the decoded object as JSON; the provider got the file's schema", async () => {
    const run = await cli(["ask", "A person", "--schema", schemaFile(), "--model", "openai:mock"], { env })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(lines(run.stdout)).toHaveLength(1)
    const value = JSON.parse(run.stdout)
    const validate = new Ajv2020({ strict: false }).compile(person)
    expect(validate(value)).toBe(true)
    expect(value).toMatchObject({ name: expect.any(String), age: expect.any(Number) })
    const format = bodies()[0]?.response_format
    expect(format).toMatchObject({ type: "json_schema", json_schema: { name: "Person", strict: true } })
    expect(format?.json_schema?.schema).toMatchObject({
      type: "object",
      properties: { name: { type: "string" }, tags: { items: { $ref: "#/definitions/tag" } } },
      definitions: { tag: { enum: ["friend", "colleague"] } }
    })
  }, 60_000)

  it("the model's answer does not validate, even after a repair: StructuredOutputError, exit 1", async () => {
    server.script([{ text: "{\"name\": \"Ada\"}" }, { text: "{\"name\": \"Ada\", \"age\": -1}" }])
    const run = await cli(["ask", "A person", "--schema", schemaFile(), "--model", "openai:mock"], { env })
    expect(run.code).toBe(1)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toHaveLength(1)
    expect(run.stderr).toMatch(/^StructuredOutputError: .*2 attempts.*\/age: must be >= 0/)
    // the repair request showed the model ajv's complaint about the first answer
    expect(server.requests).toHaveLength(2)
    expect(JSON.stringify(bodies()[1]?.messages)).toContain("must have required property 'age'")
  }, 60_000)

  it("a repaired answer is printed; stream --jsonl prints Partial values and Done", async () => {
    server.script([{ text: "{\"name\": \"Ada\"}" }, { text: "{\"name\": \"Ada\", \"age\": 36}" }])
    const run = await cli(["ask", "A person", "--schema", schemaFile(), "--model", "openai:mock", "--json"], { env })
    expect(run).toMatchObject({ code: 0, stderr: "" })
    expect(JSON.parse(run.stdout)).toMatchObject({ value: { name: "Ada", age: 36 }, attempts: 2, mode: "native" })

    const streamed = await cli(
      ["stream", "A person", "--schema", schemaFile(), "--model", "openai:mock?chunks=4", "--jsonl"],
      { env }
    )
    expect(streamed).toMatchObject({ code: 0, stderr: "" })
    const parts = lines(streamed.stdout).map((line) => JSON.parse(line))
    expect(parts.filter((p) => p._tag === "Partial").length).toBeGreaterThan(0)
    expect(parts.at(-1)).toMatchObject({ _tag: "Done", attempts: 1, value: { name: expect.any(String) } })
  }, 60_000)

  it("a file that is missing, not JSON or not a schema: a usage error, nothing sent", async () => {
    const notJson = path.join(dir, "not.json")
    fs.writeFileSync(notJson, "{ nope")
    const notSchema = path.join(dir, "bad.json")
    fs.writeFileSync(notSchema, JSON.stringify({ type: 5 }))
    for (
      const [file, pattern] of [
        [path.join(dir, "missing.json"), /cannot read .*no such file/],
        [notJson, /is not JSON/],
        [notSchema, /is not a valid JSON Schema/]
      ] as const
    ) {
      const run = await cli(["ask", "x", "--schema", file], { env })
      expect(run.code).toBe(2)
      expect(lines(run.stderr)).toHaveLength(1)
      expect(run.stderr).toMatch(/^UsageError: --schema: /)
      expect(run.stderr).toMatch(pattern)
    }
    expect(server.requests).toHaveLength(0)
  }, 60_000)
})

it("no run of this file printed the key", () => {
  expect(printed.length).toBeGreaterThan(0)
  for (const text of printed) expect(text).not.toContain(secret)
})
