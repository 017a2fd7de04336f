// A bound call context: defaults, user id, metadata, tags and metric labels reach the
// request, the log line, the span and the metrics of every call made inside it.
import { describe, expect, it } from "@effect/vitest"
import { CallContext, LlmClient, type StreamEvent, Telemetry } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Chunk, Effect, HashMap, Logger, Stream, Tracer } from "effect"

const usage = { inputTokens: 10, outputTokens: 2 }

const recordingLogger = () => {
  const lines: Array<{ readonly message: unknown; readonly annotations: Record<string, unknown> }> = []
  const logger = Logger.make(({ annotations, message }) => {
    lines.push({
      message: Array.isArray(message) && message.length === 1 ? message[0] : message,
      annotations: Object.fromEntries(HashMap.toEntries(annotations))
    })
  })
  return { lines, layer: Logger.add(logger) }
}

const recordingTracer = () => {
  const native = Effect.runSync(Effect.tracer)
  const spans: Array<{ readonly name: string; readonly span: Tracer.Span }> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push({ name: args[0], span })
      return span
    },
    context: (f) => f()
  })
  const attributes = (name: string) => {
    const found = spans.find((s) => s.name === name)
    if (found === undefined) throw new Error(`no span ${name}`)
    return Object.fromEntries(found.span.attributes)
  }
  return { tracer, spans, attributes }
}

const client = (script: ReadonlyArray<FakeProvider.ScriptItem>) => FakeProvider.layerClient({ script })

describe("CallContext.merge", () => {
  it("inner ids win, tags add up without duplicates, records merge key by key", () => {
    const merged = CallContext.merge(
      {
        userId: "a",
        correlationId: "c1",
        tags: ["x", "y"],
        metadata: { k: "1", o: "outer" },
        defaults: { temperature: 1 }
      },
      { userId: "b", tags: ["y", "z"], metadata: { k: "2" }, metricLabels: { team: "t" }, defaults: { maxTokens: 5 } }
    )
    expect(merged).toEqual({
      userId: "b",
      correlationId: "c1",
      tags: ["x", "y", "z"],
      metadata: { k: "2", o: "outer" },
      metricLabels: { team: "t" },
      defaults: { temperature: 1, maxTokens: 5 }
    })
    expect(CallContext.merge(CallContext.empty, { userId: "u" })).toEqual({ userId: "u" })
    expect(CallContext.isEmpty(CallContext.empty)).toBe(true)
    expect(CallContext.isEmpty({ tags: [] })).toBe(false)
  })

  it("applyTo: defaults under the request's own fields, metadata merged, userId as user", () => {
    const applied = CallContext.applyTo(
      { userId: "u-1", metadata: { team: "a", env: "prod" }, defaults: { temperature: 0.1, maxTokens: 50 } },
      { model: "m", messages: "x", maxTokens: 7, metadata: { team: "b" } }
    )
    expect(applied).toEqual({
      model: "m",
      messages: "x",
      temperature: 0.1,
      maxTokens: 7,
      metadata: { team: "b", env: "prod" },
      user: "u-1"
    })
    // the request's own user wins
    expect(CallContext.applyTo({ userId: "u-1" }, { model: "m", messages: "x", user: "me" }).user).toBe("me")
    // nothing bound: the very same input
    const input = { model: "m", messages: "x" }
    expect(CallContext.applyTo(CallContext.empty, input)).toBe(input)
  })
})

describe("LlmClient.withContext", () => {
  it.effect("defaults, user and metadata reach the provider request", () =>
    Effect.gen(function*() {
      yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi", temperature: 0.9 }).pipe(
        LlmClient.withContext({
          userId: "u-42",
          metadata: { feature: "search" },
          defaults: { temperature: 0.1, maxTokens: 33 }
        })
      )
      const [call] = yield* FakeProvider.calls
      expect(call!.request.user).toBe("u-42")
      expect(call!.request.maxTokens).toBe(33)
      expect(call!.request.temperature).toBe(0.9)
      expect(call!.request.metadata).toEqual({ feature: "search" })
    }).pipe(Effect.provide(client([FakeProvider.text("ok", { usage })]))))

  it.effect("nested contexts merge; outside them nothing is bound", () =>
    Effect.gen(function*() {
      const inner = LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }).pipe(
        LlmClient.withContext({ tags: ["inner"], defaults: { maxTokens: 9 } })
      )
      yield* inner.pipe(LlmClient.withContext({ userId: "outer-user", tags: ["outer"] }))
      yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" })
      const [first, second] = yield* FakeProvider.calls
      expect(first!.request.user).toBe("outer-user")
      expect(first!.request.maxTokens).toBe(9)
      expect(second!.request.user).toBeUndefined()
      expect(second!.request.maxTokens).toBeUndefined()
    }).pipe(Effect.provide(client([FakeProvider.text("a", { usage }), FakeProvider.text("b", { usage })]))))

  it.effect("the log line and the user's own log lines carry the bound annotations", () => {
    const log = recordingLogger()
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* Effect.logInfo("my own line")
        yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi", metadata: { step: "1" } })
      }).pipe(LlmClient.withContext({ userId: "u-7", correlationId: "req-9", tags: ["checkout"] }))
      const own = log.lines.find((l) => l.message === "my own line")!
      expect(own.annotations).toMatchObject({ userId: "u-7", correlationId: "req-9", tags: ["checkout"] })
      const call = log.lines.find((l) => l.message === "llm.chat")!
      expect(call.annotations).toMatchObject({
        userId: "u-7",
        correlationId: "req-9",
        tags: ["checkout"],
        metadata: { step: "1" },
        status: "ok"
      })
    }).pipe(Effect.provide(client([FakeProvider.text("ok", { usage })])), Effect.provide(log.layer))
  })

  it.effect("spans carry user id, correlation id, tags and metadata", () => {
    const rec = recordingTracer()
    return Effect.gen(function*() {
      yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "hi", metadata: { step: "2" } }).pipe(
        LlmClient.withContext({ userId: "u-8", correlationId: "corr-1", tags: ["a", "b"] })
      )
      const attrs = rec.attributes("llm.chat")
      expect(attrs[Telemetry.attributes.userId]).toBe("u-8")
      expect(attrs[Telemetry.attributes.correlationId]).toBe("corr-1")
      expect(attrs[Telemetry.attributes.tags]).toEqual(["a", "b"])
      expect(attrs[Telemetry.attributes.metadataPrefix + "step"]).toBe("2")
      // one child span per provider attempt, under the call's span
      const attempt = rec.spans.find((s) => s.name === Telemetry.attemptSpan)!
      const parent = rec.spans.find((s) => s.name === "llm.chat")!
      expect(attempt.span.parent._tag === "Some" && attempt.span.parent.value.spanId).toBe(parent.span.spanId)
      expect(Object.fromEntries(attempt.span.attributes)[Telemetry.attributes.attempt]).toBe(1)
    }).pipe(Effect.provide(client([FakeProvider.text("ok", { usage })])), Effect.withTracer(rec.tracer))
  })

  it.effect("metric labels tag the call's metrics (and only that call's)", () =>
    Effect.gen(function*() {
      const model = "gpt-4o-mini"
      yield* LlmClient.chat({ model, messages: "hi" }).pipe(
        LlmClient.withContext({ metricLabels: { feature: "ctx-test-label" } })
      )
      yield* LlmClient.chat({ model, messages: "hi" })
      const snap = yield* Telemetry.snapshot
      const labelled = Telemetry.find(snap, "llm_requests_total", { feature: "ctx-test-label" })
      expect(labelled).toHaveLength(1)
      expect(labelled[0]).toMatchObject({ count: 1, tags: { provider: "openai", model, feature: "ctx-test-label" } })
      const tokens = Telemetry.find(snap, "llm_tokens_input_total", { feature: "ctx-test-label" })
      expect(tokens[0]).toMatchObject({ count: 10 })
    }).pipe(Effect.provide(client([FakeProvider.text("a", { usage }), FakeProvider.text("b", { usage })]))))

  it.effect("withContextStream binds a stream's calls", () =>
    Effect.gen(function*() {
      const events = yield* Stream.runCollect(
        LlmClient.chatStream({ model: "gpt-4o-mini", messages: "hi" }).pipe(
          LlmClient.withContextStream({ userId: "stream-user", defaults: { maxTokens: 12 } })
        )
      )
      expect(Chunk.toReadonlyArray(events).map((e: StreamEvent.StreamEvent) => e._tag)).toContain("Finish")
      const [call] = yield* FakeProvider.calls
      expect(call!.request.user).toBe("stream-user")
      expect(call!.request.maxTokens).toBe(12)
    }).pipe(Effect.provide(client([FakeProvider.stream(["a", "b"])]))))
})
