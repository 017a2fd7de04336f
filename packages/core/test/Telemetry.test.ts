// Telemetry of a call: span attributes and events, the metric snapshot, the per-call log
// line, and that a provider's API key reaches none of them.
import { describe, expect, it } from "@effect/vitest"
import {
  ChatResult,
  LlmClient,
  LlmError,
  Provider,
  ProviderRegistry,
  RetryPolicy,
  StreamEvent,
  Telemetry,
  UndiciHttpClient
} from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS
} from "@opentelemetry/semantic-conventions/incubating"
import {
  Duration,
  Effect,
  Exit,
  Fiber,
  HashMap,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Schedule,
  Stream,
  TestClock,
  Tracer
} from "effect"
import { afterAll, beforeAll } from "vitest"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"

// -----------------------------------------------------------------------------
// a scripted provider (as in LlmClient.test.ts)
// -----------------------------------------------------------------------------

type Step =
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "fail"; readonly error: LlmError.LlmError }

const usage = { inputTokens: 100, outputTokens: 20, totalTokens: 120 }

const scripted = (name: string, steps: Array<Step>): Provider.Provider => {
  const next = (): Step => {
    const step = steps.shift()
    if (step === undefined) throw new Error(`script of ${name} exhausted`)
    return step
  }
  return {
    name,
    api: "test",
    capabilities: Provider.noCapabilities,
    chat: (call) =>
      Effect.suspend(() => {
        const step = next()
        return step._tag === "fail" ? Effect.fail(step.error) : Effect.succeed(
          new ChatResult.ChatResult({
            id: "resp-1",
            model: `${call.model}-2024`,
            provider: name,
            text: step.text,
            message: ChatResult.assistantMessage(step.text, []),
            toolCalls: [],
            finishReason: "stop",
            usage,
            timing: { latencyMs: 5, ttfbMs: 3 },
            requestId: "req-1"
          })
        )
      }),
    chatStream: (call) =>
      Stream.suspend(() => {
        const step = next()
        if (step._tag === "fail") return Stream.fail(step.error)
        return Stream.fromIterable([
          StreamEvent.start("resp-s", `${call.model}-2024`, name),
          ...step.text.split(" ").map((w, i) => StreamEvent.textDelta(i === 0 ? w : " " + w)),
          StreamEvent.finish("stop", { usage })
        ])
      })
  }
}

const clientWith = (provider: Provider.Provider) =>
  LlmClient.layer.pipe(
    Layer.provide(ProviderRegistry.register(Effect.succeed(provider))),
    Layer.provide(ProviderRegistry.layer),
    Layer.provide(RetryPolicy.layer({ schedule: Schedule.spaced(Duration.millis(10)) }))
  )

const serverError = () => new LlmError.ServerError({ message: "boom", status: 503 })
const authError = () => new LlmError.AuthenticationError({ message: "bad key", status: 401 })

// -----------------------------------------------------------------------------
// recording tracer and logger
// -----------------------------------------------------------------------------

interface Recorded {
  readonly name: string
  readonly span: Tracer.Span
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
}

const recordingTracer = () => {
  const native = Effect.runSync(Effect.tracer)
  const spans: Array<Recorded> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      const recorded: Recorded = { name: args[0], span, events: [] }
      spans.push(recorded)
      const event = span.event.bind(span)
      span.event = (name, time, attributes) => {
        recorded.events.push({ name, attributes })
        event(name, time, attributes)
      }
      return span
    },
    context: (f) => f()
  })
  const attributes = (name: string): Record<string, unknown> => {
    const found = spans.find((s) => s.name === name)
    if (found === undefined) throw new Error(`no span ${name}`)
    return Object.fromEntries(found.span.attributes)
  }
  const exitOf = (name: string): Exit.Exit<unknown, unknown> | undefined => {
    const status = spans.find((s) => s.name === name)?.span.status
    return status?._tag === "Ended" ? status.exit : undefined
  }
  return { tracer, spans, attributes, exitOf }
}

interface LogLine {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

const recordingLogger = () => {
  const lines: Array<LogLine> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push({
      level: logLevel.label,
      message: Array.isArray(message) && message.length === 1 ? message[0] : message,
      annotations: Object.fromEntries(HashMap.toEntries(annotations))
    })
  })
  // `add` keeps the default logger (tests run without it); `replace` swaps it out (live tests)
  return { lines, layer: Logger.add(logger), replace: Logger.replace(Logger.defaultLogger, logger) }
}

// -----------------------------------------------------------------------------
// spans
// -----------------------------------------------------------------------------

describe("spans", () => {
  it.effect("llm.chat carries the GenAI request and response attributes", () => {
    const rec = recordingTracer()
    const provider = scripted("openai", [{ _tag: "fail", error: serverError() }, { _tag: "text", text: "hi there" }])
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        LlmClient.chat({ model: "gpt-4o-mini", messages: "hi", temperature: 0.2, maxTokens: 64 })
      )
      yield* TestClock.adjust(Duration.millis(10))
      yield* Fiber.join(fiber)
      const attrs = rec.attributes("llm.chat")
      expect(attrs).toMatchObject({
        [ATTR_GEN_AI_OPERATION_NAME]: "chat",
        [ATTR_GEN_AI_PROVIDER_NAME]: "openai",
        [ATTR_GEN_AI_SYSTEM]: "openai",
        [ATTR_GEN_AI_REQUEST_MODEL]: "gpt-4o-mini",
        [ATTR_GEN_AI_REQUEST_TEMPERATURE]: 0.2,
        [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: 64,
        [ATTR_GEN_AI_RESPONSE_MODEL]: "gpt-4o-mini-2024",
        [ATTR_GEN_AI_RESPONSE_ID]: "resp-1",
        [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ["stop"],
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 100,
        [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 20,
        "llm.attempts": 2,
        "llm.cache": "none"
      })
      // gpt-4o-mini-2024 is unpriced; the cost falls back to the requested gpt-4o-mini
      expect(attrs["llm.cost_usd"]).toBeCloseTo(100 * 0.15e-6 + 20 * 0.6e-6, 12)
      expect(attrs[ATTR_ERROR_TYPE]).toBeUndefined()
      expect(Exit.isSuccess(rec.exitOf("llm.chat")!)).toBe(true)
      // the log line is not copied onto the span as an event
      expect(rec.spans.find((s) => s.name === "llm.chat")!.events.map((e) => e.name)).toEqual(["llm.retry"])
    }).pipe(Effect.provide(clientWith(provider)), Effect.withTracer(rec.tracer))
  })

  it.effect("a failed llm.chat has an error status and error.type", () => {
    const rec = recordingTracer()
    const provider = scripted("openai", [{ _tag: "fail", error: authError() }])
    return Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
      expect(error._tag).toBe("AuthenticationError")
      const attrs = rec.attributes("llm.chat")
      expect(attrs).toMatchObject({
        [ATTR_ERROR_TYPE]: "AuthenticationError",
        [ATTR_GEN_AI_PROVIDER_NAME]: "openai",
        "llm.attempts": 1
      })
      expect(attrs[ATTR_GEN_AI_RESPONSE_ID]).toBeUndefined()
      const exit = rec.exitOf("llm.chat")!
      expect(Exit.isFailure(exit)).toBe(true)
    }).pipe(Effect.provide(clientWith(provider)), Effect.withTracer(rec.tracer))
  })

  it.effect("llm.chat_stream has the attributes and a first_token event", () => {
    const rec = recordingTracer()
    const provider = scripted("openai", [{ _tag: "text", text: "one two three" }])
    return Effect.gen(function*() {
      const events = yield* Stream.runCollect(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hi" }))
      expect(events.length).toBeGreaterThan(0)
      expect(rec.attributes("llm.chat_stream")).toMatchObject({
        [ATTR_GEN_AI_OPERATION_NAME]: "chat",
        [ATTR_GEN_AI_PROVIDER_NAME]: "openai",
        [ATTR_GEN_AI_RESPONSE_ID]: "resp-s",
        [ATTR_GEN_AI_RESPONSE_MODEL]: "gpt-4o-mini-2024",
        [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: ["stop"],
        [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 100,
        [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 20,
        "llm.attempts": 1,
        "llm.cache": "none"
      })
      const span = rec.spans.find((s) => s.name === "llm.chat_stream")!
      expect(span.events).toEqual([{ name: "first_token", attributes: { "llm.ttfb_ms": 0 } }])
      expect(Exit.isSuccess(rec.exitOf("llm.chat_stream")!)).toBe(true)
    }).pipe(Effect.provide(clientWith(provider)), Effect.withTracer(rec.tracer))
  })
})

it.effect("a stream that fails before any provider call still annotates its span and logs", () => {
  const rec = recordingTracer()
  const log = recordingLogger()
  // only "ollama" is registered: gpt-4o-mini does not resolve
  const provider = scripted("ollama", [])
  return Effect.gen(function*() {
    const error = yield* Effect.flip(Stream.runDrain(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hi" })))
    expect(error._tag).toBe("UnknownModelError")
    expect(rec.attributes("llm.chat_stream")).toMatchObject({
      [ATTR_ERROR_TYPE]: "UnknownModelError",
      [ATTR_GEN_AI_REQUEST_MODEL]: "gpt-4o-mini",
      "llm.attempts": 0
    })
    expect(Exit.isFailure(rec.exitOf("llm.chat_stream")!)).toBe(true)
    expect(log.lines.map((l) => [l.level, l.annotations.status])).toEqual([["WARN", "UnknownModelError"]])
  }).pipe(Effect.provide(clientWith(provider)), Effect.provide(log.layer), Effect.withTracer(rec.tracer))
})

// -----------------------------------------------------------------------------
// snapshot
// -----------------------------------------------------------------------------

describe("Telemetry.snapshot", () => {
  it.effect("reads every llm_* metric after a scripted run", () => {
    // a model name of its own, so that other tests' metrics do not mix in
    const model = "openai:telemetry-snapshot"
    const tags = { provider: "openai", model: "telemetry-snapshot" }
    const provider = scripted("openai", [
      { _tag: "text", text: "one" },
      { _tag: "text", text: "two" },
      { _tag: "fail", error: serverError() },
      { _tag: "text", text: "three" },
      { _tag: "fail", error: authError() },
      { _tag: "text", text: "streamed text" }
    ])
    return Effect.gen(function*() {
      yield* LlmClient.chat({ model, messages: "a" })
      yield* LlmClient.chat({ model, messages: "b" })
      const retried = yield* Effect.fork(LlmClient.chat({ model, messages: "c" }))
      yield* TestClock.adjust(Duration.millis(10))
      yield* Fiber.join(retried)
      yield* Effect.flip(LlmClient.chat({ model, messages: "d" }))
      yield* Stream.runDrain(LlmClient.chatStream({ model, messages: "e" }))

      const snap = yield* Telemetry.snapshot
      expect(Object.keys(snap).every((name) => name.startsWith("llm_"))).toBe(true)
      expect(Telemetry.find(snap, "llm_requests_total", tags)).toEqual([{ type: "counter", tags, count: 5 }])
      expect(Telemetry.find(snap, "llm_retries_total", tags)).toEqual([{ type: "counter", tags, count: 1 }])
      expect(Telemetry.find(snap, "llm_errors_total", tags)).toEqual([
        { type: "counter", tags: { ...tags, error: "AuthenticationError" }, count: 1 }
      ])
      expect(Telemetry.find(snap, "llm_tokens_input_total", tags)).toEqual([{ type: "counter", tags, count: 400 }])
      expect(Telemetry.find(snap, "llm_tokens_output_total", tags)).toEqual([{ type: "counter", tags, count: 80 }])
      const [latency] = Telemetry.find(snap, "llm_latency_ms", tags)
      expect(latency).toMatchObject({ type: "histogram", tags, count: 4 })
      if (latency?.type !== "histogram") throw new Error("not a histogram")
      expect(latency.buckets.at(-1)).toEqual([Number.POSITIVE_INFINITY, 4])
      expect(latency.buckets[0]![0]).toBe(50)
      const [ttfb] = Telemetry.find(snap, "llm_ttfb_ms", tags)
      expect(ttfb).toMatchObject({ type: "histogram", count: 4 })
    }).pipe(Effect.provide(clientWith(provider)))
  })
})

// -----------------------------------------------------------------------------
// the log line
// -----------------------------------------------------------------------------

describe("the per-call log line", () => {
  it.effect("one Info line per successful call, without content", () => {
    const log = recordingLogger()
    const provider = scripted("openai", [{ _tag: "text", text: "the completion" }])
    return Effect.gen(function*() {
      yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "the prompt" })
      expect(log.lines).toHaveLength(1)
      const [line] = log.lines
      expect(line!.level).toBe("INFO")
      expect(line!.message).toBe("llm.chat")
      expect(line!.annotations).toMatchObject({
        operation: "chat",
        provider: "openai",
        model: "gpt-4o-mini",
        status: "ok",
        latencyMs: 0,
        ttfbMs: 3,
        inputTokens: 100,
        outputTokens: 20,
        attempts: 1,
        cache: "none",
        requestId: "req-1"
      })
      expect(line!.annotations.costUsd).toBeCloseTo(100 * 0.15e-6 + 20 * 0.6e-6, 12)
      expect(JSON.stringify(log.lines)).not.toContain("the prompt")
      expect(JSON.stringify(log.lines)).not.toContain("the completion")
    }).pipe(Effect.provide(clientWith(provider)), Effect.provide(log.layer))
  })

  it.effect("a Warning line with the error tag on failure", () => {
    const log = recordingLogger()
    const provider = scripted("openai", [{ _tag: "fail", error: authError() }])
    return Effect.gen(function*() {
      yield* Effect.flip(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
      expect(log.lines).toHaveLength(1)
      expect(log.lines[0]!.level).toBe("WARN")
      expect(log.lines[0]!.annotations).toMatchObject({
        status: "AuthenticationError",
        errorMessage: "bad key",
        attempts: 1
      })
    }).pipe(Effect.provide(clientWith(provider)), Effect.provide(log.layer))
  })

  it.effect("streams log once, at the end", () => {
    const log = recordingLogger()
    const provider = scripted("openai", [{ _tag: "text", text: "a b c" }])
    return Effect.gen(function*() {
      yield* Stream.runDrain(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hi" }))
      expect(log.lines).toHaveLength(1)
      expect(log.lines[0]!.message).toBe("llm.stream")
      expect(log.lines[0]!.annotations).toMatchObject({ status: "ok", outputTokens: 20, attempts: 1 })
    }).pipe(Effect.provide(clientWith(provider)), Effect.provide(log.layer))
  })

  it.effect("layerLogContent adds the prompt and completion, truncated", () => {
    const log = recordingLogger()
    const provider = scripted("openai", [{ _tag: "text", text: "a long completion text" }])
    return Effect.gen(function*() {
      yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "a long prompt text" })
      expect(log.lines[0]!.annotations).toMatchObject({
        prompt: "user: a long…[+12 chars]",
        completion: "a long compl…[+10 chars]"
      })
    }).pipe(
      Effect.provide(clientWith(provider).pipe(Layer.provide(Telemetry.layerLogContent({ maxChars: 12 })))),
      Effect.provide(log.layer)
    )
  })

  it.effect("Logger.minimumLogLevel silences it", () => {
    const log = recordingLogger()
    const provider = scripted("openai", [{ _tag: "text", text: "ok" }])
    return Effect.gen(function*() {
      yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      expect(log.lines).toHaveLength(0)
    }).pipe(
      Effect.provide(clientWith(provider)),
      Effect.provide(log.layer),
      Logger.withMinimumLogLevel(LogLevel.Error)
    )
  })
})

// -----------------------------------------------------------------------------
// secrets
// -----------------------------------------------------------------------------

const SECRET = "sk-SECRET-fake-123"

const completion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }
}

const chunk = (delta: Record<string, unknown>, finish: string | null) =>
  `data: ${
    JSON.stringify({
      id: "chatcmpl-2",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o-mini-2024-07-18",
      choices: [{ index: 0, delta, finish_reason: finish }]
    })
  }\n\n`

const streamBody = chunk({ role: "assistant", content: "hel" }, null) + chunk({ content: "lo" }, null) +
  chunk({}, "stop") +
  `data: ${
    JSON.stringify({
      id: "chatcmpl-2",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o-mini-2024-07-18",
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }
    })
  }\n\n` +
  "data: [DONE]\n\n"

describe("secrets", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  it.live("the API key reaches no log, span, metric tag or error", () => {
    const rec = recordingTracer()
    const log = recordingLogger()
    server.handle((request) => {
      // the key did reach the wire (so the test would catch a leak of it)
      if (request.headers.authorization !== `Bearer ${SECRET}`) return json({ error: "no key" }, 500)
      const body = request.body as { readonly stream?: boolean; readonly messages: ReadonlyArray<unknown> }
      if (JSON.stringify(body.messages).includes("fail")) {
        return json(
          {
            error: {
              message: "Incorrect API key provided: sk-SEC***123",
              type: "invalid_request_error",
              code: "invalid_api_key"
            }
          },
          401,
          { "x-request-id": "req-secret" }
        )
      }
      return body.stream === true ? sse(streamBody) : json(completion, 200, { "x-request-id": "req-ok" })
    })
    const client = LlmClient.layer.pipe(
      Layer.provide(OpenAI.layer({ apiKey: SECRET, baseUrl: server.url })),
      Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer())),
      Layer.provide(Telemetry.layerLogContent({ maxChars: 10_000 }))
    )
    return Effect.gen(function*() {
      const ok = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      expect(ok.text).toBe("hello")
      const error = yield* Effect.flip(LlmClient.chat({ model: "gpt-4o-mini", messages: "fail", maxRetries: 0 }))
      expect(error._tag).toBe("AuthenticationError")
      const streamed = yield* Stream.runCollect(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "stream" }))
      expect(streamed.length).toBeGreaterThan(0)
      const streamError = yield* Effect.flip(
        Stream.runDrain(LlmClient.chatStream({ model: "gpt-4o-mini", messages: "fail", maxRetries: 0 }))
      )
      const metrics = yield* Metric.snapshot

      expect(log.lines).toHaveLength(4)
      expect(rec.spans.filter((s) => s.name.startsWith("llm.")).length).toBeGreaterThanOrEqual(4)
      const captured = [
        JSON.stringify(log.lines),
        JSON.stringify(rec.spans.map((s) => ({ attributes: Object.fromEntries(s.span.attributes), events: s.events }))),
        JSON.stringify(metrics.map((pair) => pair.metricKey.tags)),
        error.message,
        JSON.stringify(error),
        String(error),
        streamError.message,
        JSON.stringify(streamError),
        JSON.stringify(ok),
        JSON.stringify([...streamed])
      ]
      for (const text of captured) expect(text).not.toContain(SECRET)
      // what is logged is useful nonetheless
      expect(log.lines.map((l) => l.annotations.status)).toEqual([
        "ok",
        "AuthenticationError",
        "ok",
        "AuthenticationError"
      ])
      expect(log.lines[1]!.annotations.requestId).toBe("req-secret")
    }).pipe(Effect.provide(client), Effect.provide(log.replace), Effect.withTracer(rec.tracer))
  })
})
