// The tool loop against FakeProvider through the real LlmClient pipeline.
import { describe, expect, it } from "@effect/vitest"
import { Approval, LlmError, Telemetry, Tool, Toolkit, ToolLoop } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Cause, Chunk, Effect, Exit, Layer, Option, Schema, Stream, Tracer } from "effect"

const Weather = Schema.Struct({ city: Schema.String, unit: Schema.optional(Schema.Literal("c", "f")) })

/** get_weather, recording the arguments its handler received. */
const weatherTool = (seen: Array<unknown> = [], options?: { readonly strict?: boolean }) =>
  Tool.make("get_weather", {
    description: "Current weather in a city",
    parameters: Weather,
    strict: options?.strict,
    handler: (args) =>
      Effect.sync(() => {
        seen.push(args)
        return { city: args.city, celsius: 21 }
      })
  })

const call = (name: string, args: unknown, id?: string) => ({ name, arguments: args, ...(id ? { id } : {}) })

const fake = (script: ReadonlyArray<FakeProvider.ScriptItem>, options?: Omit<FakeProvider.Options, "script">) =>
  FakeProvider.layerClient({ script, ...options })

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toArray)

describe("ToolLoop.run", () => {
  it.effect("one call then the answer: steps, messages, tool results, usage and cost summed", () => {
    const seen: Array<unknown> = []
    const kit = Toolkit.make(weatherTool(seen))
    return Effect.gen(function*() {
      const result = yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "Weather in Paris?", toolkit: kit })
      expect(result.stoppedBy).toBe("answer")
      expect(result.text).toBe("It is 21 degrees in Paris.")
      expect(result.result.finishReason).toBe("stop")
      expect(seen).toEqual([{ city: "Paris" }])
      expect(result.steps.map((s) => s.step)).toEqual([1, 2])
      const [first, second] = result.steps
      expect(first!.toolCalls.map((c) => c.id)).toEqual(["call_1"])
      expect(first!.toolResults).toEqual([{
        id: "call_1",
        name: "get_weather",
        arguments: { city: "Paris" },
        outcome: "success",
        result: { city: "Paris", celsius: 21 },
        isError: false
      }])
      expect(second!.toolCalls).toEqual([])
      expect(result.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expect(result.messages[2]).toEqual({
        role: "tool",
        content: [{
          type: "tool-result",
          toolCallId: "call_1",
          name: "get_weather",
          result: { city: "Paris", celsius: 21 }
        }]
      })
      // each request: the conversation so far and the toolkit's definitions
      const calls = yield* FakeProvider.calls
      expect(calls.map((c) => c.operation)).toEqual(["chat", "chat"])
      expect(calls[0]!.request.messages).toEqual(result.messages.slice(0, 1))
      expect(calls[1]!.request.messages).toEqual(result.messages.slice(0, 3))
      expect(second!.messages).toEqual(result.messages.slice(0, 3))
      expect(calls[0]!.request.tools).toEqual(Toolkit.definitions(kit, "generic"))
      // usage and cost over both steps
      expect(result.usage).toEqual({ inputTokens: 30, outputTokens: 12, totalTokens: 42 })
      expect(result.cost?.totalUsd).toBeGreaterThan(0)
      expect(result.cost?.totalUsd).toBeCloseTo(first!.result.cost!.totalUsd + second!.result.cost!.totalUsd, 12)
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", { city: "Paris" }, "call_1")], {
        usage: { inputTokens: 10, outputTokens: 5 }
      }),
      FakeProvider.text("It is 21 degrees in Paris.", { usage: { inputTokens: 20, outputTokens: 7 } })
    ])))
  })

  const parallel = (concurrency: number | "unbounded" | undefined) => {
    let running = 0
    let max = 0
    const double = Tool.make("double", {
      parameters: Schema.Struct({ n: Schema.Number }),
      handler: ({ n }) =>
        Effect.gen(function*() {
          running++
          max = Math.max(max, running)
          // let every other started handler run before this one ends
          for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
          running--
          return n * 2
        })
    })
    return Effect.gen(function*() {
      const result = yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "double 1..5",
        toolkit: Toolkit.make(double),
        concurrency
      })
      return { max, result }
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([1, 2, 3, 4, 5].map((n) => call("double", { n }, `c${n}`))),
      FakeProvider.text("2, 4, 6, 8, 10")
    ])))
  }

  it.effect("parallel calls of one turn run concurrently, at most `concurrency` at once, results in call order", () =>
    Effect.gen(function*() {
      const capped = yield* parallel(2)
      expect(capped.max).toBe(2)
      const step = capped.result.steps[0]!
      expect(step.toolResults.map((r) => [r.id, r.result])).toEqual([["c1", 2], ["c2", 4], ["c3", 6], ["c4", 8], [
        "c5",
        10
      ]])
      const message = capped.result.messages[2]!
      expect(message.role).toBe("tool")
      expect(message.content.map((p) => p.type === "tool-result" ? p.toolCallId : "")).toEqual([
        "c1",
        "c2",
        "c3",
        "c4",
        "c5"
      ])
      expect((yield* parallel("unbounded")).max).toBe(5)
      expect((yield* parallel(1)).max).toBe(1)
      expect((yield* parallel(undefined)).max).toBe(5) // the default cap (8) is above 5
    }))

  it.effect("invalid arguments: the model is told the decoding error, and repairs them on the next step", () => {
    const seen: Array<unknown> = []
    return Effect.gen(function*() {
      const result = yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "Weather in Rome?",
        toolkit: Toolkit.make(weatherTool(seen))
      })
      expect(result.stoppedBy).toBe("answer")
      expect(seen).toEqual([{ city: "Rome" }])
      const bad = result.steps[0]!.toolResults[0]!
      expect(bad.outcome).toBe("invalid_arguments")
      expect(bad.isError).toBe(true)
      expect(bad.result).toBe(
        "Error: invalid arguments for tool \"get_weather\": city: Expected string, actual 42. " +
          "Call the tool again with arguments that match its parameters."
      )
      expect(bad.error?.code).toBe("invalid_arguments")
      expect(result.messages[2]!.content[0]).toMatchObject({ type: "tool-result", isError: true, result: bad.result })
      expect(result.steps[1]!.toolResults[0]!.outcome).toBe("success")
      expect(result.steps).toHaveLength(3)
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", { city: 42 })]),
      FakeProvider.toolCalls([call("get_weather", { city: "Rome" })]),
      FakeProvider.text("Sunny in Rome.")
    ])))
  })

  it.effect("arguments that are not JSON are invalid too", () =>
    Effect.gen(function*() {
      const result = yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "hi",
        toolkit: Toolkit.make(weatherTool())
      })
      const bad = result.steps[0]!.toolResults[0]!
      expect(bad.outcome).toBe("invalid_arguments")
      expect(bad.result).toContain("the arguments are not valid JSON: {\"city\": \"Par")
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", "{\"city\": \"Par")]),
      FakeProvider.text("ok")
    ]))))

  it.effect("too many invalid calls: the loop fails with a ToolError once maxInvalidArgumentRetries is used up", () => {
    const seen: Array<unknown> = []
    return Effect.gen(function*() {
      const error = yield* Effect.flip(ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "Weather?",
        toolkit: Toolkit.make(weatherTool(seen)),
        maxInvalidArgumentRetries: 1
      }))
      expect(error._tag).toBe("ToolError")
      const toolError = error as LlmError.ToolError
      expect(toolError.code).toBe("invalid_arguments")
      expect(toolError.toolName).toBe("get_weather")
      expect(toolError.message).toContain("2 invalid tool calls, more than maxInvalidArgumentRetries (1)")
      expect(toolError.message).toContain("city: is missing")
      expect(seen).toEqual([])
      expect(yield* FakeProvider.calls).toHaveLength(2)
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", { town: "Rome" })]),
      FakeProvider.toolCalls([call("get_weather", {})])
    ])))
  })

  it.effect("an unknown tool name is told to the model; the other calls of the turn still run", () => {
    const seen: Array<unknown> = []
    return Effect.gen(function*() {
      const result = yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "Weather?",
        toolkit: Toolkit.make(weatherTool(seen))
      })
      const [unknown, known] = result.steps[0]!.toolResults
      expect(unknown).toMatchObject({
        name: "get_wether",
        outcome: "unknown_tool",
        isError: true,
        result: "Error: unknown tool \"get_wether\"; the tools are: get_weather"
      })
      expect(known!.outcome).toBe("success")
      expect(seen).toEqual([{ city: "Oslo" }])
      expect(result.stoppedBy).toBe("answer")
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_wether", { city: "Oslo" }), call("get_weather", { city: "Oslo" })]),
      FakeProvider.text("Cold.")
    ])))
  })

  const flaky = Tool.make("flaky", {
    parameters: Schema.Struct({}),
    handler: () => Effect.fail(new LlmError.ToolError({ message: "service down", code: "unavailable" }))
  })

  it.effect("a handler's ToolError is reported to the model as an error result", () =>
    Effect.gen(function*() {
      const result = yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "go", toolkit: Toolkit.make(flaky) })
      const failed = result.steps[0]!.toolResults[0]!
      expect(failed).toMatchObject({ outcome: "tool_error", isError: true, result: "Error: service down" })
      expect(failed.error).toMatchObject({ toolName: "flaky", toolCallId: "f1", code: "unavailable" })
      expect(result.messages[2]!.content[0]).toMatchObject({ isError: true, result: "Error: service down" })
      expect(result.text).toBe("The service is down.")
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("flaky", {}, "f1")]),
      FakeProvider.text("The service is down.")
    ]))))

  it.effect("onToolError: \"fail\" ends the loop with the handler's error, naming the tool and the call", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        ToolLoop.chat({ model: "gpt-4o-mini", messages: "go", toolkit: Toolkit.make(flaky), onToolError: "fail" })
      )
      expect(error).toBeInstanceOf(LlmError.ToolError)
      expect(error).toMatchObject({ message: "service down", toolName: "flaky", toolCallId: "f1" })
    }).pipe(Effect.provide(fake([FakeProvider.toolCalls([call("flaky", {}, "f1")])]))))

  it.effect("a handler's defect propagates", () =>
    Effect.gen(function*() {
      const broken = Tool.make("broken", { parameters: Schema.Struct({}), handler: () => Effect.die("bug") })
      const exit = yield* Effect.exit(
        ToolLoop.chat({ model: "gpt-4o-mini", messages: "go", toolkit: Toolkit.make(broken) })
      )
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
    }).pipe(Effect.provide(fake([FakeProvider.toolCalls([call("broken", {})])]))))

  it.effect("maxSteps: the last step's calls run, then the result with stoppedBy \"maxSteps\"", () => {
    const seen: Array<unknown> = []
    return Effect.gen(function*() {
      const result = yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "loop",
        toolkit: Toolkit.make(weatherTool(seen)),
        maxSteps: 3
      })
      expect(result.stoppedBy).toBe("maxSteps")
      expect(result.steps).toHaveLength(3)
      expect(seen).toHaveLength(3)
      expect(result.messages.at(-1)!.role).toBe("tool")
      expect(result.result.finishReason).toBe("tool_calls")
      expect(yield* FakeProvider.calls).toHaveLength(3)
    }).pipe(Effect.provide(fake([], { default: FakeProvider.toolCalls([call("get_weather", { city: "Paris" })]) })))
  })

  it.effect("maxSteps with onMaxSteps: \"fail\" fails with a ToolError (code max_steps); the default is 10 steps", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "loop",
        toolkit: Toolkit.make(weatherTool()),
        maxSteps: 2,
        onMaxSteps: "fail"
      }))
      expect(error).toMatchObject({ _tag: "ToolError", code: "max_steps" })
      expect(error.message).toContain("after maxSteps (2) steps")
      const result = yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "loop",
        toolkit: Toolkit.make(weatherTool())
      })
      expect(result.steps).toHaveLength(10)
      expect(result.stoppedBy).toBe("maxSteps")
    }).pipe(Effect.provide(fake([], { default: FakeProvider.toolCalls([call("get_weather", { city: "Paris" })]) }))))

  it.effect("a forced toolChoice applies to the first step only", () =>
    Effect.gen(function*() {
      yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "Weather?",
        toolkit: Toolkit.make(weatherTool()),
        toolChoice: "required"
      })
      const calls = yield* FakeProvider.calls
      expect(calls.map((c) => c.request.toolChoice)).toEqual(["required", undefined])
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", { city: "Paris" })]),
      FakeProvider.text("Sunny.")
    ]))))

  it.effect("bad loop options are an InvalidRequestError before any call", () =>
    Effect.gen(function*() {
      const kit = Toolkit.make(weatherTool())
      const steps = yield* Effect.flip(
        ToolLoop.chat({ model: "gpt-4o-mini", messages: "x", toolkit: kit, maxSteps: 0 })
      )
      expect(steps).toMatchObject({ _tag: "InvalidRequestError", param: "maxSteps" })
      const concurrency = yield* Effect.flip(
        ToolLoop.chat({ model: "gpt-4o-mini", messages: "x", toolkit: kit, concurrency: 1.5 })
      )
      expect(concurrency).toMatchObject({ _tag: "InvalidRequestError", param: "concurrency" })
      const request = yield* Effect.flip(ToolLoop.chat({ model: "gpt-4o-mini", messages: [], toolkit: kit }))
      expect(request).toMatchObject({ _tag: "InvalidRequestError", param: "messages" })
      expect(yield* FakeProvider.calls).toEqual([])
    }).pipe(Effect.provide(fake([]))))

  it.effect("a strict tool on an OpenAI provider: strict schema sent, null for an optional decoded to absent", () => {
    const seen: Array<unknown> = []
    return Effect.gen(function*() {
      yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "Weather?",
        toolkit: Toolkit.make(weatherTool(seen, { strict: true }))
      })
      const sent = (yield* FakeProvider.calls)[0]!.request.tools![0]!
      expect(sent.strict).toBe(true)
      expect(sent.parameters).toMatchObject({ required: ["city", "unit"], additionalProperties: false })
      expect(seen).toEqual([{ city: "Paris" }])
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", { city: "Paris", unit: null })]),
      FakeProvider.text("Sunny.")
    ], { api: "openai-chat" })))
  })

  it.effect("a Gemini provider gets Gemini's flavour: a record sent as entries, decoded back to a record", () => {
    const seen: Array<unknown> = []
    const label = Tool.make("label", {
      parameters: Schema.Struct({ labels: Schema.Record({ key: Schema.String, value: Schema.String }) }),
      handler: (args) => Effect.sync(() => seen.push(args))
    })
    return Effect.gen(function*() {
      yield* ToolLoop.chat({ model: "gemini-2.5-flash", messages: "label it", toolkit: Toolkit.make(label) })
      const sent = (yield* FakeProvider.calls)[0]!.request.tools![0]!
      expect(sent.parameters).toMatchObject({ properties: { labels: { type: "array" } } })
      expect(seen).toEqual([{ labels: { env: "prod" } }])
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("label", { labels: [{ key: "env", value: "prod" }] })]),
      FakeProvider.text("Labelled.")
    ], { name: "gemini", api: "gemini" })))
  })

  it.effect("the success Schema encodes the handler's value for the model", () =>
    Effect.gen(function*() {
      const clock = Tool.make("clock", {
        parameters: Schema.Struct({}),
        success: Schema.Struct({ at: Schema.Date }),
        handler: () => Effect.succeed({ at: new Date("2024-05-06T07:08:09.000Z") })
      })
      const result = yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "time?", toolkit: Toolkit.make(clock) })
      expect(result.steps[0]!.toolResults[0]!.result).toEqual({ at: "2024-05-06T07:08:09.000Z" })
    }).pipe(Effect.provide(fake([FakeProvider.toolCalls([call("clock", {})]), FakeProvider.text("7:08.")]))))

  it.effect("ToolLoop.run is a plain function of the client service", () =>
    Effect.gen(function*() {
      const { LlmClient } = yield* Effect.promise(() => import("@llm-fiber/core"))
      const client = yield* LlmClient.LlmClient
      const result = yield* ToolLoop.run(client, { model: "gpt-4o-mini", messages: "hi", toolkit: Toolkit.empty })
      expect(result.text).toBe("Hello!")
      expect((yield* FakeProvider.calls)[0]!.request.tools).toBeUndefined()
    }).pipe(Effect.provide(fake([FakeProvider.text("Hello!")]))))
})

// -----------------------------------------------------------------------------
// approval
// -----------------------------------------------------------------------------

describe("ToolLoop approval", () => {
  const ran: Array<string> = []
  const named = (name: string) =>
    Tool.make(name, {
      parameters: Schema.Struct({ id: Schema.Number }),
      handler: ({ id }) => Effect.sync(() => ran.push(`${name}:${id}`))
    })
  const kit = Toolkit.make(named("get_weather"), named("delete_draft"), named("delete_all"), named("send_mail"))
  const script = () => [
    FakeProvider.toolCalls([
      call("get_weather", { id: 1 }),
      call("delete_draft", { id: 2 }),
      call("delete_all", { id: 3 }),
      call("send_mail", { id: 4 })
    ]),
    FakeProvider.text("Done.")
  ]

  it.effect("rules with globs: allow, ask (allowed or denied by the ask effect), and deny by default", () => {
    ran.length = 0
    const asked: Array<Approval.Call> = []
    const policy = Approval.rules(
      [{ match: "delete_*", decision: "ask" }, { match: ["get_*", "search"], decision: "allow" }],
      {
        ask: (call) =>
          Effect.sync(() => {
            asked.push(call)
            return call.name === "delete_draft" ? Approval.allow : Approval.deny("the user said no")
          })
      }
    )
    return Effect.gen(function*() {
      const result = yield* ToolLoop.chat({
        model: "gpt-4o-mini",
        messages: "clean up",
        toolkit: kit,
        approval: policy
      })
      expect(result.steps[0]!.toolResults.map((r) => [r.name, r.outcome, r.result])).toEqual([
        ["get_weather", "success", 1],
        ["delete_draft", "success", 2],
        ["delete_all", "denied", "denied: the user said no"],
        ["send_mail", "denied", "denied: no approval rule matches this tool"]
      ])
      expect(ran.sort()).toEqual(["delete_draft:2", "get_weather:1"])
      expect(asked.map((c) => [c.name, c.arguments, c.step])).toEqual([
        ["delete_draft", { id: 2 }, 1],
        ["delete_all", { id: 3 }, 1]
      ])
      expect(result.messages[2]!.content[2]).toMatchObject({ isError: true, result: "denied: the user said no" })
      expect(result.stoppedBy).toBe("answer")
    }).pipe(Effect.provide(fake(script())))
  })

  it.effect("the policy in context (Approval.withPolicy / layer); the default allows everything", () =>
    Effect.gen(function*() {
      ran.length = 0
      const denied = yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "x", toolkit: kit }).pipe(
        Approval.withPolicy(Approval.denyAll("read-only mode"))
      )
      expect(denied.steps[0]!.toolResults.map((r) => r.result)).toEqual(Array(4).fill("denied: read-only mode"))
      expect(ran).toEqual([])
      const allowed = yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "x", toolkit: kit })
      expect(allowed.steps[0]!.toolResults.map((r) => r.outcome)).toEqual(Array(4).fill("success"))
      const byLayer = yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "x", toolkit: kit }).pipe(
        Effect.provide(Approval.layer(Approval.rules([{ match: "*_draft", decision: "deny", reason: "drafts stay" }], {
          otherwise: "allow"
        })))
      )
      expect(byLayer.steps[0]!.toolResults.map((r) => r.outcome)).toEqual(["success", "denied", "success", "success"])
    }).pipe(Effect.provide(fake([...script(), ...script(), ...script()]))))
})

// -----------------------------------------------------------------------------
// streaming
// -----------------------------------------------------------------------------

describe("ToolLoop.stream", () => {
  it.effect("per step: StepStart, the model's events, then a ToolResult per call; ends with the final Finish", () => {
    const seen: Array<unknown> = []
    return Effect.gen(function*() {
      const events = yield* collect(ToolLoop.chatStream({
        model: "gpt-4o-mini",
        messages: "Weather in Paris and Rome?",
        toolkit: Toolkit.make(weatherTool(seen))
      }))
      expect(events.map((e) => e._tag)).toEqual([
        "StepStart",
        "Start",
        "ToolCallStart",
        "ToolCallDelta",
        "ToolCallEnd",
        "ToolCallStart",
        "ToolCallDelta",
        "ToolCallEnd",
        "Finish",
        "ToolResult",
        "ToolResult",
        "StepStart",
        "Start",
        "TextDelta",
        "TextDelta",
        "Finish"
      ])
      const steps = events.flatMap((e) => e._tag === "StepStart" ? [e.step] : [])
      expect(steps).toEqual([1, 2])
      const results = events.flatMap((e) =>
        e._tag === "ToolResult" ? [[e.step, e.id, e.name, e.outcome, e.result]] : []
      )
      expect(results).toEqual([
        [1, "p", "get_weather", "success", { city: "Paris", celsius: 21 }],
        [1, "r", "get_weather", "success", { city: "Rome", celsius: 21 }]
      ])
      const last = events.at(-1)
      expect(last?._tag === "Finish" && last.finishReason).toBe("stop")
      expect(seen).toEqual([{ city: "Paris" }, { city: "Rome" }])
      // the second request carried the calls and their results, in order
      const calls = yield* FakeProvider.calls
      expect(calls.map((c) => c.operation)).toEqual(["stream", "stream"])
      expect(calls[1]!.request.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool"])
      const toolMessage = calls[1]!.request.messages[2]!
      expect(toolMessage.content.map((p) => p.type === "tool-result" ? p.toolCallId : "")).toEqual(["p", "r"])
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", { city: "Paris" }, "p"), call("get_weather", { city: "Rome" }, "r")]),
      FakeProvider.stream(["Sunny ", "twice."])
    ])))
  })

  it.effect("errors, invalid arguments and maxSteps behave as in run; a maxSteps stop ends with ToolResults", () =>
    Effect.gen(function*() {
      const events = yield* collect(ToolLoop.chatStream({
        model: "gpt-4o-mini",
        messages: "loop",
        toolkit: Toolkit.make(weatherTool()),
        maxSteps: 2
      }))
      expect(events.filter((e) => e._tag === "StepStart")).toHaveLength(2)
      expect(events.at(-1)?._tag).toBe("ToolResult")
      const outcomes = events.flatMap((e) => e._tag === "ToolResult" ? [e.outcome] : [])
      expect(outcomes).toEqual(["invalid_arguments", "success"])
      const failed = yield* Effect.flip(Stream.runDrain(ToolLoop.chatStream({
        model: "gpt-4o-mini",
        messages: "loop",
        toolkit: Toolkit.make(weatherTool()),
        maxSteps: 1,
        onMaxSteps: "fail"
      })))
      expect(failed).toMatchObject({ _tag: "ToolError", code: "max_steps" })
    }).pipe(Effect.provide(fake([
      FakeProvider.toolCalls([call("get_weather", { city: 1 })]),
      FakeProvider.toolCalls([call("get_weather", { city: "Paris" })]),
      FakeProvider.toolCalls([call("get_weather", { city: "Paris" })])
    ]))))
})

// -----------------------------------------------------------------------------
// spans
// -----------------------------------------------------------------------------

interface RecordedSpan {
  readonly name: string
  readonly id: string
  readonly parent: string | undefined
  readonly attributes: ReadonlyMap<string, unknown>
}

/** A tracer that keeps every span (Effect's native spans, their attributes read at the end). */
const recordingTracer = () => {
  const spans: Array<Tracer.Span> = []
  const native = Effect.runSync(Effect.tracer)
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = native.span(name, parent, context, links, startTime, kind, options)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  const recorded = (): Array<RecordedSpan> =>
    spans.map((span) => ({
      name: span.name,
      id: span.spanId,
      parent: Option.getOrUndefined(Option.map(span.parent, (p) => p.spanId)),
      attributes: span.attributes
    }))
  return { tracer, recorded }
}

const spanTree = (spans: ReadonlyArray<RecordedSpan>) => {
  const byId = new Map(spans.map((s) => [s.id, s]))
  return spans.map((s) => [s.name, s.parent === undefined ? undefined : byId.get(s.parent)?.name] as const)
}

describe("ToolLoop spans", () => {
  const script = () => [
    FakeProvider.toolCalls([call("get_weather", { city: "Paris" }, "c1")]),
    FakeProvider.text("Sunny.")
  ]

  it.effect("llm.tool_loop > llm.step (per step) > llm.chat and llm.tool, without arguments by default", () => {
    const { recorded, tracer } = recordingTracer()
    return Effect.gen(function*() {
      yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "Weather?", toolkit: Toolkit.make(weatherTool()) })
      const spans = recorded()
      const tree = spanTree(spans)
      expect(tree.filter(([name]) => name !== "llm.attempt")).toEqual(
        expect.arrayContaining([
          ["llm.tool_loop", undefined],
          ["llm.step", "llm.tool_loop"],
          ["llm.chat", "llm.step"],
          ["llm.tool", "llm.step"]
        ])
      )
      const steps = spans.filter((s) => s.name === "llm.step")
      expect(steps.map((s) => s.attributes.get("llm.step"))).toEqual([1, 2])
      expect(steps.map((s) => s.attributes.get("llm.tool_calls"))).toEqual([1, 0])
      const tool = spans.find((s) => s.name === "llm.tool")!
      expect(tool.parent).toBe(steps[0]!.id)
      expect(tool.attributes.get("gen_ai.tool.name")).toBe("get_weather")
      expect(tool.attributes.get("gen_ai.tool.call.id")).toBe("c1")
      expect(tool.attributes.get("gen_ai.operation.name")).toBe("execute_tool")
      expect(tool.attributes.get("llm.tool.outcome")).toBe("success")
      expect(tool.attributes.has("gen_ai.tool.call.arguments")).toBe(false)
      expect(tool.attributes.has("gen_ai.tool.call.result")).toBe(false)
      const loop = spans.find((s) => s.name === "llm.tool_loop")!
      expect(loop.attributes.get("llm.steps")).toBe(2)
      expect(loop.attributes.get("llm.stopped_by")).toBe("answer")
      expect(loop.attributes.get("gen_ai.usage.input_tokens")).toBeGreaterThan(0)
    }).pipe(Effect.provide(fake(script())), Effect.withTracer(tracer))
  })

  it.effect("with content logging on, llm.tool carries the arguments and the result", () => {
    const { recorded, tracer } = recordingTracer()
    return Effect.gen(function*() {
      yield* ToolLoop.chat({ model: "gpt-4o-mini", messages: "Weather?", toolkit: Toolkit.make(weatherTool()) })
      const tool = recorded().find((s) => s.name === "llm.tool")!
      expect(tool.attributes.get("gen_ai.tool.call.arguments")).toBe("{\"city\":\"Paris\"}")
      expect(tool.attributes.get("gen_ai.tool.call.result")).toBe("{\"city\":\"Paris\",\"celsius\":21}")
    }).pipe(
      Effect.provide(Layer.merge(fake(script()), Telemetry.layerLogContent())),
      Effect.withTracer(tracer)
    )
  })

  it.effect("the stream has the same span tree", () => {
    const { recorded, tracer } = recordingTracer()
    return Effect.gen(function*() {
      yield* Stream.runDrain(
        ToolLoop.chatStream({ model: "gpt-4o-mini", messages: "Weather?", toolkit: Toolkit.make(weatherTool()) })
      )
      const tree = spanTree(recorded())
      expect(tree).toEqual(expect.arrayContaining([
        ["llm.tool_loop", undefined],
        ["llm.step", "llm.tool_loop"],
        ["llm.chat_stream", "llm.step"],
        ["llm.tool", "llm.step"]
      ]))
      expect(tree.filter(([name]) => name === "llm.step")).toHaveLength(2)
    }).pipe(Effect.provide(fake(script())), Effect.withTracer(tracer))
  })
})
