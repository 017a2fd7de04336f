import { describe, expect, it } from "@effect/vitest"
import { ChatResult, StreamEvent } from "@llm-fiber/core"
import type { Usage } from "@llm-fiber/core"
import { Effect, Fiber, Schema, Stream, TestClock } from "effect"
import * as fc from "fast-check"

const usage1: Usage.Usage = { inputTokens: 100, outputTokens: 5, totalTokens: 105 }
const usage2: Usage.Usage = {
  inputTokens: 100,
  outputTokens: 40,
  totalTokens: 140,
  cachedInputTokens: 60,
  reasoningTokens: 12
}
const cost: Usage.Cost = { inputUsd: 0.0001, outputUsd: 0.0002, totalUsd: 0.0003 }

/** An Anthropic-like stream: thinking (with its signature), text, one tool call, cumulative usage. */
const events: ReadonlyArray<StreamEvent.StreamEvent> = [
  StreamEvent.start("msg_1", "claude-sonnet-4-5", "anthropic"),
  StreamEvent.reasoningDelta("Let me "),
  StreamEvent.reasoningDelta("think."),
  StreamEvent.reasoningDelta("", { signature: "sig-abc" }),
  StreamEvent.textDelta("Hel"),
  StreamEvent.textDelta("lo, "),
  StreamEvent.textDelta("world"),
  StreamEvent.toolCallStart("toolu_1", "get_weather"),
  StreamEvent.toolCallDelta("toolu_1", "{\"city\":"),
  StreamEvent.toolCallDelta("toolu_1", "\"Paris\"}"),
  StreamEvent.toolCallEnd("toolu_1", "get_weather", "{\"city\":\"Paris\"}"),
  StreamEvent.usage(usage1),
  StreamEvent.usage(usage2),
  StreamEvent.finish("tool_calls", { cost, requestId: "req_9", providerMetadata: { anthropic: { stop: "tool_use" } } })
]

/** The same result, written out by hand. */
const expectedResult = (timing: ChatResult.Timing) =>
  new ChatResult.ChatResult({
    id: "msg_1",
    model: "claude-sonnet-4-5",
    provider: "anthropic",
    text: "Hello, world",
    reasoning: "Let me think.",
    message: {
      role: "assistant",
      content: [
        { type: "reasoning", text: "Let me think.", signature: "sig-abc" },
        { type: "text", text: "Hello, world" },
        { type: "tool-call", id: "toolu_1", name: "get_weather", arguments: { city: "Paris" } }
      ]
    },
    toolCalls: [{
      id: "toolu_1",
      name: "get_weather",
      arguments: { city: "Paris" },
      rawArguments: "{\"city\":\"Paris\"}"
    }],
    finishReason: "tool_calls",
    usage: usage2,
    cost,
    timing,
    requestId: "req_9",
    providerMetadata: { anthropic: { stop: "tool_use" } }
  })

describe("StreamEvent.accumulate", () => {
  it.effect("folds a stream into the ChatResult chat would return", () =>
    Effect.gen(function*() {
      const result = yield* StreamEvent.accumulate(Stream.fromIterable(events))
      expect(result).toBeInstanceOf(ChatResult.ChatResult)
      expect(result).toEqual(expectedResult({ latencyMs: 0, ttfbMs: 0 }))
    }))

  it.effect("gives the same result however the events are chunked", () =>
    Effect.gen(function*() {
      for (const size of [1, 2, 3, 5, 100]) {
        const result = yield* StreamEvent.accumulate(Stream.fromIterable(events).pipe(Stream.rechunk(size)))
        expect(result).toEqual(expectedResult({ latencyMs: 0, ttfbMs: 0 }))
      }
    }))

  it("accumulateAll agrees", () => {
    expect(StreamEvent.accumulateAll(events)).toEqual(expectedResult({ latencyMs: 0 }))
  })

  it("usage is the last value seen, never a sum; Finish.usage wins", () => {
    const last: Usage.Usage = { inputTokens: 100, outputTokens: 41, totalTokens: 141 }
    const r = StreamEvent.accumulateAll([
      StreamEvent.start("i", "m", "p"),
      StreamEvent.usage(usage1),
      StreamEvent.usage(usage2),
      StreamEvent.finish("stop", { usage: last })
    ])
    expect(r.usage).toEqual(last)
    const noFinishUsage = StreamEvent.accumulateAll([StreamEvent.usage(usage2), StreamEvent.usage(usage1)])
    expect(noFinishUsage.usage).toEqual(usage1)
  })

  it("a stream without Finish or Usage ends as other, with zero usage and no cost", () => {
    const r = StreamEvent.accumulateAll([StreamEvent.start("i", "m", "p"), StreamEvent.textDelta("hi")])
    expect(r.finishReason).toBe("other")
    expect(r.usage).toEqual({ inputTokens: 0, outputTokens: 0, totalTokens: 0 })
    expect(r.cost).toBeUndefined()
    expect(r.reasoning).toBeUndefined()
    expect("reasoning" in r).toBe(false)
    expect("requestId" in r).toBe(false)
    expect(r.message).toEqual({ role: "assistant", content: [{ type: "text", text: "hi" }] })
  })

  it("an empty stream gives an empty result", () => {
    const r = StreamEvent.accumulateAll([])
    expect(r.text).toBe("")
    expect(r.toolCalls).toEqual([])
    expect(r.message).toEqual({ role: "assistant", content: [] })
  })

  it("tool arguments: parsed JSON, {} for none, the raw string when invalid", () => {
    const r = StreamEvent.accumulateAll([
      StreamEvent.toolCallStart("a", "f"),
      StreamEvent.toolCallEnd("a", "f", "[1,2,{\"x\":null}]"),
      StreamEvent.toolCallStart("b", "g"),
      StreamEvent.toolCallEnd("b", "g", ""),
      StreamEvent.toolCallStart("c", "h"),
      StreamEvent.toolCallDelta("c", "{\"oops\":"),
      StreamEvent.toolCallEnd("c", "h", "{\"oops\":"),
      StreamEvent.finish("tool_calls")
    ])
    expect(r.toolCalls).toEqual([
      { id: "a", name: "f", arguments: [1, 2, { x: null }], rawArguments: "[1,2,{\"x\":null}]" },
      { id: "b", name: "g", arguments: {}, rawArguments: "" },
      { id: "c", name: "h", arguments: "{\"oops\":", rawArguments: "{\"oops\":" }
    ])
    expect(r.message.content.filter((p) => p.type === "tool-call").map((p) => p.id)).toEqual(["a", "b", "c"])
  })

  it("a tool call the provider never closed is kept, not dropped", () => {
    const r = StreamEvent.accumulateAll([
      StreamEvent.start("i", "m", "p"),
      StreamEvent.toolCallStart("a", "f"),
      StreamEvent.toolCallEnd("a", "f", "{}"),
      StreamEvent.toolCallStart("b", "g"),
      StreamEvent.toolCallDelta("b", "{\"q\":"),
      StreamEvent.toolCallDelta("b", "1}"),
      StreamEvent.finish("tool_calls")
    ])
    expect(r.toolCalls).toEqual([
      { id: "a", name: "f", arguments: {}, rawArguments: "{}" },
      { id: "b", name: "g", arguments: { q: 1 }, rawArguments: "{\"q\":1}" }
    ])
    expect(r.message.content).toEqual([
      { type: "tool-call", id: "a", name: "f", arguments: {} },
      { type: "tool-call", id: "b", name: "g", arguments: { q: 1 } }
    ])
  })

  it("reasoning metadata from several deltas is merged; no signature means no signature key", () => {
    const r = StreamEvent.accumulateAll([
      StreamEvent.reasoningDelta("a", { signature: "s1" }),
      StreamEvent.reasoningDelta("b", { other: 1 })
    ])
    expect(r.reasoning).toBe("ab")
    expect(r.message.content[0]).toEqual({ type: "reasoning", text: "ab", signature: "s1" })
    const plain = StreamEvent.accumulateAll([StreamEvent.reasoningDelta("x")])
    expect(plain.message.content[0]).toEqual({ type: "reasoning", text: "x" })
  })
})

describe("StreamEvent.Accumulator.partial", () => {
  it("reports text, reasoning, finished and unfinished tool calls and the event count", () => {
    const acc = new StreamEvent.Accumulator()
    const pushed = [
      StreamEvent.start("i", "m", "p"),
      StreamEvent.reasoningDelta("hmm"),
      StreamEvent.textDelta("Hel"),
      StreamEvent.textDelta("lo"),
      StreamEvent.toolCallStart("c1", "f"),
      StreamEvent.toolCallDelta("c1", "{}"),
      StreamEvent.toolCallEnd("c1", "f", "{}"),
      StreamEvent.toolCallStart("c2", "g"),
      StreamEvent.toolCallDelta("c2", "{\"a\":"),
      StreamEvent.toolCallDelta("c2", "1")
    ]
    for (const e of pushed) acc.push(e)
    expect(acc.partial()).toEqual({
      text: "Hello",
      reasoning: "hmm",
      toolCalls: [{ id: "c1", name: "f", arguments: "{}" }, { id: "c2", name: "g", arguments: "{\"a\":1" }],
      events: 10
    })
    // asking twice changes nothing, and the accumulator goes on
    expect(acc.partial().text).toBe("Hello")
    acc.push(StreamEvent.textDelta("!"))
    expect(acc.partial().text).toBe("Hello!")
    expect(acc.partial().events).toBe(11)
  })

  it("has no reasoning key when there was none", () => {
    const acc = new StreamEvent.Accumulator()
    acc.push(StreamEvent.textDelta("x"))
    expect(acc.partial()).toEqual({ text: "x", toolCalls: [], events: 1 })
    expect("reasoning" in acc.partial()).toBe(false)
  })
})

describe("StreamEvent timing", () => {
  it.effect("ttfb is the first content event, latency the end of the stream (TestClock)", () =>
    Effect.gen(function*() {
      const after = (ms: number, event: StreamEvent.StreamEvent) =>
        Stream.fromEffect(Effect.as(Effect.sleep(`${ms} millis`), event))
      const stream = Stream.make(StreamEvent.start("i", "m", "p")).pipe(
        Stream.concat(after(20, StreamEvent.usage(usage1))), // not content: does not count
        Stream.concat(after(30, StreamEvent.textDelta("hi"))),
        Stream.concat(after(100, StreamEvent.finish("stop")))
      )
      const fiber = yield* Effect.fork(StreamEvent.accumulate(stream))
      yield* TestClock.adjust("20 millis")
      yield* TestClock.adjust("30 millis")
      yield* TestClock.adjust("100 millis")
      const result = yield* Fiber.join(fiber)
      expect(result.timing).toEqual({ latencyMs: 150, ttfbMs: 50 })
      expect(result.text).toBe("hi")
    }))

  it.effect("a tool call counts as content", () =>
    Effect.gen(function*() {
      const stream = Stream.concat(
        Stream.fromEffect(Effect.as(Effect.sleep("7 millis"), StreamEvent.toolCallStart("c", "f"))),
        Stream.make(StreamEvent.toolCallEnd("c", "f", "{}"))
      )
      const fiber = yield* Effect.fork(StreamEvent.accumulate(stream))
      yield* TestClock.adjust("7 millis")
      expect((yield* Fiber.join(fiber)).timing).toEqual({ latencyMs: 7, ttfbMs: 7 })
    }))

  it.effect("no content event, no ttfb", () =>
    Effect.gen(function*() {
      const stream = Stream.concat(
        Stream.make(StreamEvent.start("i", "m", "p")),
        Stream.fromEffect(Effect.as(Effect.sleep("5 millis"), StreamEvent.finish("stop")))
      )
      const fiber = yield* Effect.fork(StreamEvent.accumulate(stream))
      yield* TestClock.adjust("5 millis")
      const result = yield* Fiber.join(fiber)
      expect(result.timing).toEqual({ latencyMs: 5 })
      expect("ttfbMs" in result.timing).toBe(false)
    }))

  it.effect("a failing stream fails accumulate with the stream's error", () =>
    Effect.gen(function*() {
      const error = yield* StreamEvent.accumulate(
        Stream.concat(Stream.make(StreamEvent.textDelta("a")), Stream.fail("boom" as const))
      ).pipe(Effect.flip)
      expect(error).toBe("boom")
    }))
})

describe("StreamEvent.isContent", () => {
  it("text, reasoning and tool-call events are content; Start, Usage, Finish are not", () => {
    const table: ReadonlyArray<[StreamEvent.StreamEvent, boolean]> = [
      [StreamEvent.start("i", "m", "p"), false],
      [StreamEvent.textDelta(""), true],
      [StreamEvent.reasoningDelta("r"), true],
      [StreamEvent.toolCallStart("c", "f"), true],
      [StreamEvent.toolCallDelta("c", "{"), true],
      [StreamEvent.toolCallEnd("c", "f", "{}"), true],
      [StreamEvent.usage(usage1), false],
      [StreamEvent.finish("stop"), false]
    ]
    for (const [event, content] of table) expect(StreamEvent.isContent(event), event._tag).toBe(content)
  })
})

describe("StreamEvent schema", () => {
  it("every constructor's output is a valid StreamEvent and survives JSON", () => {
    const decode = Schema.decodeUnknownSync(StreamEvent.StreamEvent)
    for (const event of events) {
      expect(decode(JSON.parse(JSON.stringify(event)))).toEqual(event)
    }
  })

  it("finish without fields has only its tag and reason", () => {
    expect(StreamEvent.finish("length")).toEqual({ _tag: "Finish", finishReason: "length" })
  })
})

// -----------------------------------------------------------------------------
// fromResult → accumulate round trip
// -----------------------------------------------------------------------------

const optional = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: undefined })

const usageArb: fc.Arbitrary<Usage.Usage> = fc.record({
  inputTokens: fc.nat(),
  outputTokens: fc.nat(),
  totalTokens: fc.nat(),
  cachedInputTokens: fc.nat(),
  cacheWriteTokens: fc.nat(),
  reasoningTokens: fc.nat()
}, { requiredKeys: ["inputTokens", "outputTokens", "totalTokens"] })

const costArb: fc.Arbitrary<Usage.Cost> = fc.record({
  inputUsd: fc.double({ min: 0, max: 10, noNaN: true }),
  outputUsd: fc.double({ min: 0, max: 10, noNaN: true }),
  totalUsd: fc.double({ min: 0, max: 20, noNaN: true })
})

const toolCallArb: fc.Arbitrary<ChatResult.ToolCall> = fc.oneof(
  // well-formed JSON arguments
  fc.record({ id: fc.string({ minLength: 1 }), name: fc.string({ minLength: 1 }), args: fc.jsonValue() }).map((
    { args, id, name }
  ) => ({ id, name, arguments: args, rawArguments: JSON.stringify(args) })),
  // no arguments
  fc.record({ id: fc.string({ minLength: 1 }), name: fc.string({ minLength: 1 }) }).map(({ id, name }) => ({
    id,
    name,
    arguments: {},
    rawArguments: ""
  })),
  // invalid JSON kept raw
  fc.record({ id: fc.string({ minLength: 1 }), name: fc.string({ minLength: 1 }), raw: fc.string() }).map((
    { id, name, raw }
  ) => ({ id, name, arguments: raw, rawArguments: raw }))
)

/** Any result a provider could produce, with its assistant message written out by hand. */
const resultArb: fc.Arbitrary<ChatResult.ChatResult> = fc.record({
  id: fc.string(),
  model: fc.string(),
  provider: fc.string(),
  text: fc.string({ unit: "grapheme" }),
  reasoning: optional(fc.record({ text: fc.string(), signature: optional(fc.string({ minLength: 1 })) })),
  toolCalls: fc.array(toolCallArb, { maxLength: 4 }),
  finishReason: fc.constantFrom("stop", "length", "tool_calls", "content_filter", "error", "other" as const),
  usage: usageArb,
  cost: optional(costArb),
  requestId: optional(fc.string()),
  providerMetadata: optional(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }))
}).map((r) => {
  const content: Array<ChatResult.ChatResult["message"]["content"][number]> = []
  if (r.reasoning !== undefined) {
    content.push(
      r.reasoning.signature !== undefined
        ? { type: "reasoning", text: r.reasoning.text, signature: r.reasoning.signature }
        : { type: "reasoning", text: r.reasoning.text }
    )
  }
  if (r.text !== "") content.push({ type: "text", text: r.text })
  for (const call of r.toolCalls) {
    content.push({ type: "tool-call", id: call.id, name: call.name, arguments: call.arguments })
  }
  return new ChatResult.ChatResult({
    id: r.id,
    model: r.model,
    provider: r.provider,
    text: r.text,
    ...(r.reasoning !== undefined ? { reasoning: r.reasoning.text } : {}),
    message: { role: "assistant", content },
    toolCalls: r.toolCalls,
    finishReason: r.finishReason,
    usage: r.usage,
    ...(r.cost !== undefined ? { cost: r.cost } : {}),
    timing: { latencyMs: 0 },
    ...(r.requestId !== undefined ? { requestId: r.requestId } : {}),
    ...(r.providerMetadata !== undefined ? { providerMetadata: r.providerMetadata } : {})
  })
})

describe("StreamEvent.fromResult", () => {
  it("accumulateAll(fromResult(r)) gives r back (property)", () => {
    fc.assert(
      fc.property(resultArb, (result) => {
        const events = StreamEvent.fromResult(result)
        expect(events[0]?._tag).toBe("Start")
        expect(events[events.length - 1]?._tag).toBe("Finish")
        expect(StreamEvent.accumulateAll(events)).toEqual(result)
      }),
      { numRuns: 300 }
    )
  })

  it("a text split into any number of deltas accumulates to the same text (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme" }), { maxLength: 30 }), (pieces) => {
        const r = StreamEvent.accumulateAll(pieces.map(StreamEvent.textDelta))
        expect(r.text).toBe(pieces.join(""))
      }),
      { numRuns: 200 }
    )
  })

  it.effect("accumulate over the replayed events gives the result too, with the test clock's timing", () =>
    Effect.gen(function*() {
      const original = expectedResult({ latencyMs: 0 })
      const replayed = yield* StreamEvent.accumulate(Stream.fromIterable(StreamEvent.fromResult(original)))
      expect(replayed).toEqual(expectedResult({ latencyMs: 0, ttfbMs: 0 }))
    }))
})
