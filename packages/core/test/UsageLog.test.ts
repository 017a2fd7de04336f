import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Budget, Catalog, type ChatRequest, LlmClient, LlmError, StreamEvent, Usage, UsageLog } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Duration, Effect, Exit, Fiber, Layer, Stream, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const Prices = Catalog.layer({ models: { "test-model": { provider: "openai", inputPerMTok: 1, outputPerMTok: 2 } } })

const secret = "the secret plan is to buy 42 llamas"
const ask = (extra: Partial<ChatRequest.Input> = {}): ChatRequest.Input => ({
  model: "openai:test-model",
  messages: secret,
  maxTokens: 100,
  ...extra
})
const reply = FakeProvider.text("the llamas arrive on tuesday", {
  usage: { inputTokens: 20, outputTokens: 10, cachedInputTokens: 5 }
})

/** A client whose budget writes to an in-memory usage log (returned with the layer). */
const withMemoryLog = (options: Budget.Options, fake: FakeProvider.Options = { default: reply }) =>
  Effect.gen(function*() {
    const log = yield* UsageLog.makeMemory
    const layer = FakeProvider.layerClient(fake).pipe(
      Layer.provideMerge(Budget.layerMemory({ ...options, usageLog: log })),
      Layer.provide(Prices)
    )
    return { log, layer }
  })

const parsed = (lines: ReadonlyArray<string>) => lines.map((line) => JSON.parse(line) as Record<string, unknown>)

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "llm-fiber-usage-")), "usage.jsonl")

describe("UsageLog: written by the Budget", () => {
  it.effect("a budget with no limits and only a usage log writes one line per call", () =>
    Effect.gen(function*() {
      const { layer, log } = yield* withMemoryLog({}, { default: FakeProvider.withDelay(reply, "250 millis") })
      yield* TestClock.setTime(Date.UTC(2026, 10, 22, 9, 30))
      yield* Effect.gen(function*() {
        const fiber = yield* Effect.fork(
          LlmClient.chat(ask()).pipe(LlmClient.withContext({ userId: "u-42", tags: ["checkout"] }))
        )
        yield* TestClock.adjust(Duration.millis(250))
        yield* Fiber.join(fiber)
      }).pipe(Effect.provide(layer))
      const lines = yield* log.lines
      expect(parsed(lines)).toEqual([{
        timestamp: "2026-11-22T09:30:00.250Z",
        provider: "openai",
        model: "test-model",
        operation: "chat",
        inputTokens: 20,
        outputTokens: 10,
        cachedInputTokens: 5,
        costUsd: (20 - 5 + 5 + 2 * 10) / 1e6,
        latencyMs: 250,
        status: "ok",
        userId: "u-42",
        tags: ["checkout"]
      }])
      // never the prompt or the completion
      expect(lines[0]).not.toContain("llamas")
    }))

  it.effect("failed, rejected and streamed calls are logged too", () =>
    Effect.gen(function*() {
      const { layer, log } = yield* withMemoryLog({ costCeilingUsd: 0.01 }, {
        script: [FakeProvider.fail(new LlmError.ServerError({ message: "boom", status: 500, requestId: "req_1" }))],
        default: FakeProvider.stream([
          "a",
          "b",
          StreamEvent.finish("stop", {
            usage: Usage.make({ inputTokens: 7, outputTokens: 3 }),
            requestId: "req_2"
          })
        ])
      })
      yield* Effect.gen(function*() {
        yield* Effect.flip(LlmClient.chat(ask({ maxRetries: 0 })))
        yield* Effect.flip(LlmClient.chat(ask({ costCeilingUsd: 0.000001 })))
        yield* Stream.runDrain(LlmClient.chatStream(ask()))
      }).pipe(Effect.provide(layer))
      const entries = parsed(yield* log.lines)
      const micro = (u: unknown) => Math.round(Number(u) * 1e6)
      expect(entries.map((e) => [e.operation, e.status, e.inputTokens, e.outputTokens, micro(e.costUsd), e.requestId]))
        .toEqual([
          ["chat", "ServerError", 0, 0, 0, "req_1"],
          ["chat", "BudgetExceededError", 0, 0, 0, undefined],
          ["stream", "ok", 7, 3, 7 + 6, "req_2"]
        ])
    }))

  it.effect("an unpriced model is logged with costUsd null", () =>
    Effect.gen(function*() {
      const { layer, log } = yield* withMemoryLog({})
      yield* LlmClient.chat(ask({ model: "openai:unpriced" })).pipe(Effect.provide(layer))
      const [entry] = parsed(yield* log.lines)
      expect(entry?.costUsd).toBeNull()
      expect(entry?.model).toBe("unpriced")
    }))

  it.effect("Budget.layerMemory picks up UsageLog.layerFile from its context; lines land in the file", () =>
    Effect.gen(function*() {
      const file = tempFile()
      const layer = FakeProvider.layerClient({ default: reply }).pipe(
        Layer.provide(Budget.layerMemory({ limits: [{ scope: "client", window: "day", usd: 1 }] })),
        Layer.provide(UsageLog.layerFile(file)),
        Layer.provide(Layer.merge(Prices, NodeFileSystem.layer))
      )
      yield* Effect.all(Array.from({ length: 200 }, (_, i) => LlmClient.chat(ask({ user: `u-${i % 3}` }))), {
        concurrency: "unbounded"
      }).pipe(Effect.provide(layer))
      // the layer's scope has ended: the file is closed and complete
      const lines = fs.readFileSync(file, "utf8").split("\n")
      expect(lines.at(-1)).toBe("")
      const entries = lines.slice(0, -1).map((line) => UsageLog.decode(line))
      expect(entries).toHaveLength(200)
      expect(entries.every((e) => e !== undefined && e.status === "ok" && e.inputTokens === 20)).toBe(true)
      expect(new Set(entries.map((e) => e?.userId))).toEqual(new Set(["u-0", "u-1", "u-2"]))
      // appending: a second run adds to the same file
      yield* LlmClient.chat(ask()).pipe(Effect.provide(layer))
      expect(fs.readFileSync(file, "utf8").split("\n")).toHaveLength(202)
      const summary = yield* UsageLog.summarizeFile(file).pipe(Effect.provide(NodeFileSystem.layer))
      expect(summary.total.calls).toBe(201)
      expect(summary.total.costUsd).toBe(201 * 40 / 1e6)
    }))

  it.effect("a usage log that cannot be opened fails the layer", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(UsageLog.layerFile("/nonexistent-dir/usage.jsonl")).pipe(
          Effect.scoped,
          Effect.provide(NodeFileSystem.layer)
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})

describe("UsageLog: encode and decode", () => {
  const entry: UsageLog.Entry = {
    timestamp: "2026-11-22T09:30:00.000Z",
    provider: "openai",
    model: "gpt-4o-mini",
    operation: "chat",
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
    costUsd: 0.0001,
    latencyMs: 12,
    status: "ok"
  }

  it("encodes only the entry's fields, in order", () => {
    const withExtra = { ...entry, prompt: "secret", apiKey: "sk-123", userId: "u-1" } as UsageLog.Entry
    const line = UsageLog.encode(withExtra)
    expect(line).toBe(
      "{\"timestamp\":\"2026-11-22T09:30:00.000Z\",\"provider\":\"openai\",\"model\":\"gpt-4o-mini\",\"operation\":\"chat\"," +
        "\"inputTokens\":10,\"outputTokens\":5,\"cachedInputTokens\":0,\"costUsd\":0.0001,\"latencyMs\":12," +
        "\"status\":\"ok\",\"userId\":\"u-1\"}"
    )
    expect(UsageLog.decode(line)).toEqual({ ...entry, userId: "u-1" })
  })

  it("decode rejects what is not an entry", () => {
    expect(UsageLog.decode("")).toBeUndefined()
    expect(UsageLog.decode("{\"timestamp\":\"2026-11-22T09:30:00.000Z\",\"provider\":\"op")).toBeUndefined()
    expect(UsageLog.decode("[1,2]")).toBeUndefined()
    expect(UsageLog.decode(JSON.stringify({ ...entry, inputTokens: -1 }))).toBeUndefined()
    expect(UsageLog.decode(JSON.stringify({ ...entry, timestamp: "yesterday" }))).toBeUndefined()
  })
})

describe("UsageLog: summarize", () => {
  const line = (fields: Partial<UsageLog.Entry>) =>
    UsageLog.encode({
      timestamp: "2026-11-22T09:30:00.000Z",
      provider: "openai",
      model: "gpt-4o-mini",
      operation: "chat",
      inputTokens: 100,
      outputTokens: 10,
      cachedInputTokens: 0,
      costUsd: 0.1,
      latencyMs: 5,
      status: "ok",
      ...fields
    })

  it("sums sub-micro-dollar costs without rounding each line away", () => {
    const summary = UsageLog.summarize([line({ costUsd: 0.00000255 }), line({ costUsd: 0.00000195 })].join("\n"))
    expect(summary.total.costUsd).toBeCloseTo(0.0000045, 12)
  })

  const log = [
    line({}),
    line({ costUsd: 0.2, cachedInputTokens: 40 }),
    line({ timestamp: "2026-11-23T00:00:00.000Z", model: "gpt-4o", costUsd: 0.7 }),
    line({ provider: "anthropic", model: "claude-haiku-4-5", costUsd: 0.3, operation: "stream" }),
    line({ provider: "ollama", model: "llama3.2", costUsd: null }),
    line({ status: "RateLimitError", inputTokens: 0, outputTokens: 0, costUsd: 0 }),
    "",
    // a crash cut the last line short
    line({ costUsd: 5 }).slice(0, 40)
  ].join("\n")

  it("totals by model, provider and day; a truncated last line is skipped", () => {
    const summary = UsageLog.summarize(log)
    expect(summary.skippedLines).toBe(1)
    expect(summary.total).toEqual({
      calls: 6,
      errors: 1,
      inputTokens: 500,
      outputTokens: 50,
      cachedInputTokens: 40,
      costUsd: 1.3,
      unpricedCalls: 1
    })
    expect(summary.byModel.map((g) => [g.key, g.calls, g.costUsd])).toEqual([
      ["openai:gpt-4o", 1, 0.7],
      // equal costs: by key
      ["anthropic:claude-haiku-4-5", 1, 0.3],
      ["openai:gpt-4o-mini", 3, 0.3],
      ["ollama:llama3.2", 1, 0]
    ])
    expect(summary.byProvider.map((g) => [g.key, g.calls, g.costUsd, g.unpricedCalls])).toEqual([
      ["openai", 4, 1, 0],
      ["anthropic", 1, 0.3, 0],
      ["ollama", 1, 0, 1]
    ])
    expect(summary.byDay.map((g) => [g.key, g.calls, g.costUsd])).toEqual([
      ["2026-11-22", 5, 0.6],
      ["2026-11-23", 1, 0.7]
    ])
  })

  it("takes lines as well as text; an empty log is all zeros", () => {
    expect(UsageLog.summarize(log.split("\n"))).toEqual(UsageLog.summarize(log))
    expect(UsageLog.summarize("")).toEqual({
      total: {
        calls: 0,
        errors: 0,
        inputTokens: 0,
        outputTokens: 0,
        cachedInputTokens: 0,
        costUsd: 0,
        unpricedCalls: 0
      },
      byModel: [],
      byProvider: [],
      byDay: [],
      skippedLines: 0
    })
  })

  it("sums costs without floating-point drift", () => {
    const summary = UsageLog.summarize(Array.from({ length: 10 }, () => line({ costUsd: 0.1 })))
    expect(summary.total.costUsd).toBe(1)
  })

  it.effect("works on what the Budget wrote", () =>
    Effect.gen(function*() {
      const { layer, log } = yield* withMemoryLog({}, {
        script: [reply, reply, FakeProvider.fail(new LlmError.ServerError({ message: "boom", status: 500 }))]
      })
      yield* Effect.all([
        LlmClient.chat(ask()),
        LlmClient.chat(ask()),
        Effect.either(LlmClient.chat(ask({ maxRetries: 0 })))
      ]).pipe(Effect.provide(layer))
      const summary = UsageLog.summarize(yield* log.lines)
      expect([summary.total.calls, summary.total.errors, summary.total.inputTokens]).toEqual([3, 1, 40])
      expect(summary.byModel.map((g) => g.key)).toEqual(["openai:test-model"])
    }))
})
