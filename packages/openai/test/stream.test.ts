import { describe, expect, it } from "@effect/vitest"
import type { LlmError, Sse } from "@llm-fiber/core"
import { StreamEvent } from "@llm-fiber/core"
import { ChatStreamState, type StreamOptions } from "../src/internal/stream.js"

const context = { provider: "openai", model: "gpt-4o-mini", requestId: "req_9" }

type Frame = string | Record<string, unknown> | Sse.SseEvent

const toEvent = (frame: Frame): Sse.SseEvent =>
  typeof frame === "string"
    ? { event: "message", data: frame, id: "" }
    : "data" in frame && typeof frame.data === "string" && "event" in frame
    ? frame as Sse.SseEvent
    : { event: "message", data: JSON.stringify(frame), id: "" }

/** Feed frames (one network read each), then end; the events, or the error thrown. */
const run = (
  frames: ReadonlyArray<Frame>,
  options?: StreamOptions,
  ctx = context
): { events: Array<StreamEvent.StreamEvent>; error?: LlmError.LlmError } => {
  const state = new ChatStreamState(ctx, options)
  const events: Array<StreamEvent.StreamEvent> = []
  try {
    for (const frame of frames) state.onEvent(toEvent(frame), events)
    state.onEnd(events)
    return { events }
  } catch (e) {
    return { events, error: e as LlmError.LlmError }
  }
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  id: "chatcmpl-7",
  object: "chat.completion.chunk",
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra
})

const usageChunk = (usage: Record<string, unknown>) => ({
  id: "chatcmpl-7",
  object: "chat.completion.chunk",
  model: "gpt-4o-mini-2024-07-18",
  choices: [],
  usage
})

const tags = (events: ReadonlyArray<StreamEvent.StreamEvent>) => events.map((e) => e._tag)

const toolEvents = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.filter((e): e is StreamEvent.ToolCallStart | StreamEvent.ToolCallDelta | StreamEvent.ToolCallEnd =>
    e._tag === "ToolCallStart" || e._tag === "ToolCallDelta" || e._tag === "ToolCallEnd"
  )

describe("stream mapping", () => {
  it("text, usage and finish", () => {
    const { error, events } = run([
      chunk({ role: "assistant", content: "", refusal: null }),
      chunk({ content: "Hel" }),
      chunk({ content: "lo" }),
      chunk({}, "stop"),
      usageChunk({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }),
      "[DONE]"
    ])
    expect(error).toBeUndefined()
    expect(events).toEqual([
      StreamEvent.start("chatcmpl-7", "gpt-4o-mini-2024-07-18", "openai"),
      StreamEvent.textDelta("Hel"),
      StreamEvent.textDelta("lo"),
      StreamEvent.usage({ inputTokens: 5, outputTokens: 2, totalTokens: 7 }),
      StreamEvent.finish("stop", {
        usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
        requestId: "req_9",
        providerMetadata: {
          openai: { finishReason: "stop", usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }
        }
      })
    ])
  })

  it("tool call with the id only on the first delta", () => {
    const { error, events } = run([
      chunk({
        role: "assistant",
        tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "weather", arguments: "" } }]
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"loc" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "ation\":\"Paris\"}" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]"
    ])
    expect(error).toBeUndefined()
    expect(toolEvents(events)).toEqual([
      StreamEvent.toolCallStart("call_1", "weather"),
      StreamEvent.toolCallDelta("call_1", "{\"loc"),
      StreamEvent.toolCallDelta("call_1", "ation\":\"Paris\"}"),
      StreamEvent.toolCallEnd("call_1", "weather", "{\"location\":\"Paris\"}")
    ])
    const result = StreamEvent.accumulateAll(events)
    expect(result.finishReason).toBe("tool_calls")
    expect(result.toolCalls).toEqual([
      { id: "call_1", name: "weather", arguments: { location: "Paris" }, rawArguments: "{\"location\":\"Paris\"}" }
    ])
  })

  it("several calls interleaved, indices starting at 1", () => {
    const { error, events } = run([
      chunk({ tool_calls: [{ index: 1, id: "a", function: { name: "f", arguments: "{\"x\":" } }] }),
      chunk({ tool_calls: [{ index: 2, id: "b", function: { name: "g", arguments: "{\"y\":" } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: "1}" } }, { index: 2, function: { arguments: "2}" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]"
    ])
    expect(error).toBeUndefined()
    expect(toolEvents(events)).toEqual([
      StreamEvent.toolCallStart("a", "f"),
      StreamEvent.toolCallDelta("a", "{\"x\":"),
      StreamEvent.toolCallStart("b", "g"),
      StreamEvent.toolCallDelta("b", "{\"y\":"),
      StreamEvent.toolCallDelta("a", "1}"),
      StreamEvent.toolCallDelta("b", "2}"),
      StreamEvent.toolCallEnd("a", "f", "{\"x\":1}"),
      StreamEvent.toolCallEnd("b", "g", "{\"y\":2}")
    ])
  })

  it("a whole call in one chunk without an index, finishing in the same chunk", () => {
    const { error, events } = run([
      chunk({ role: "assistant", content: "" }),
      chunk(
        {
          content: null,
          tool_calls: [{ id: "gS", function: { name: "weather", arguments: "{\"location\": \"SF\"}" } }]
        },
        "tool_calls",
        { usage: { prompt_tokens: 124, total_tokens: 146, completion_tokens: 22 } }
      ),
      "[DONE]"
    ])
    expect(error).toBeUndefined()
    expect(tags(events)).toEqual(["Start", "ToolCallStart", "ToolCallDelta", "ToolCallEnd", "Usage", "Finish"])
    expect(toolEvents(events)[2]).toEqual(StreamEvent.toolCallEnd("gS", "weather", "{\"location\": \"SF\"}"))
  })

  it("no index on continuation deltas and an empty name on a later delta", () => {
    const { events } = run([
      chunk({ tool_calls: [{ id: "t1", type: "function", function: { name: "search", arguments: "" } }] }),
      chunk({ tool_calls: [{ type: "function", function: { name: "", arguments: "{\"q\": 1}" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]"
    ])
    expect(toolEvents(events)).toEqual([
      StreamEvent.toolCallStart("t1", "search"),
      StreamEvent.toolCallDelta("t1", "{\"q\": 1}"),
      StreamEvent.toolCallEnd("t1", "search", "{\"q\": 1}")
    ])
  })

  it("a call without an id gets a stable generated one, arguments buffered until then", () => {
    const frames = [
      chunk({ tool_calls: [{ index: 0, function: { name: "f", arguments: "{\"a\"" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]"
    ]
    const first = run(frames)
    expect(toolEvents(first.events)).toEqual([
      StreamEvent.toolCallStart("chatcmpl-7_tool_0", "f"),
      StreamEvent.toolCallDelta("chatcmpl-7_tool_0", "{\"a\":1}"),
      StreamEvent.toolCallEnd("chatcmpl-7_tool_0", "f", "{\"a\":1}")
    ])
    expect(run(frames).events).toEqual(first.events)
  })

  it("an index reused with a new id starts a new call", () => {
    const { events } = run([
      chunk({ tool_calls: [{ index: 0, id: "x", function: { name: "f", arguments: "{}" } }] }),
      chunk({ tool_calls: [{ index: 0, id: "y", function: { name: "g", arguments: "{}" } }] }),
      chunk({}, "tool_calls"),
      "[DONE]"
    ])
    expect(toolEvents(events).map((e) => [e._tag, e.id])).toEqual([
      ["ToolCallStart", "x"],
      ["ToolCallDelta", "x"],
      ["ToolCallEnd", "x"],
      ["ToolCallStart", "y"],
      ["ToolCallDelta", "y"],
      ["ToolCallEnd", "y"]
    ])
  })

  it("tool calls still open when [DONE] arrives are ended", () => {
    const { error, events } = run([
      chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: "{}" } }] }),
      chunk({}, "stop"),
      "[DONE]"
    ])
    expect(error).toBeUndefined()
    expect(tags(events)).toEqual(["Start", "ToolCallStart", "ToolCallDelta", "ToolCallEnd", "Finish"])
  })

  it("reasoning_content and reasoning deltas", () => {
    const { events } = run([
      chunk({ role: "assistant", content: null, reasoning_content: "" }),
      chunk({ content: null, reasoning_content: "think" }),
      chunk({ reasoning: "ing" }),
      chunk({ content: "done", reasoning_content: null }),
      chunk({}, "stop"),
      "[DONE]"
    ])
    const result = StreamEvent.accumulateAll(events)
    expect(result.reasoning).toBe("thinking")
    expect(result.text).toBe("done")
  })

  it("a refusal finishes with content_filter", () => {
    const { events } = run([
      chunk({ role: "assistant", content: null, refusal: "" }),
      chunk({ refusal: "I can't " }),
      chunk({ refusal: "help." }),
      chunk({}, "stop"),
      "[DONE]"
    ])
    const finish = events[events.length - 1] as StreamEvent.Finish
    expect(finish.finishReason).toBe("content_filter")
    expect(finish.providerMetadata).toEqual({ openai: { finishReason: "stop", refusal: "I can't help." } })
    expect(tags(events)).toEqual(["Start", "Finish"])
  })

  it("skips Azure's prompt filter chunk and keep-alives", () => {
    const { error, events } = run([
      { choices: [], created: 0, id: "", model: "", object: "", prompt_filter_results: [{ prompt_index: 0 }] },
      "",
      { event: "ping", data: "{}", id: "" },
      chunk({ content: "x" }),
      chunk({}, "stop"),
      "[DONE]"
    ])
    expect(error).toBeUndefined()
    expect(events[0]).toEqual(StreamEvent.start("chatcmpl-7", "gpt-4o-mini-2024-07-18", "openai"))
    expect(tags(events)).toEqual(["Start", "TextDelta", "Finish"])
  })

  it("reads Groq's x_groq.usage", () => {
    const { events } = run([
      chunk({ content: "x" }),
      chunk({}, "stop", { x_groq: { id: "req", usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } } }),
      "[DONE]"
    ])
    expect((events[events.length - 1] as StreamEvent.Finish).usage).toEqual({
      inputTokens: 3,
      outputTokens: 1,
      totalTokens: 4
    })
  })

  it("ignores anything after [DONE]", () => {
    const { error, events } = run([chunk({ content: "x" }, "stop"), "[DONE]", chunk({ content: "late" }), "{bad"])
    expect(error).toBeUndefined()
    expect(tags(events)).toEqual(["Start", "TextDelta", "Finish"])
  })

  it("an in-stream error payload is the mapped LlmError", () => {
    const server = run([chunk({ content: "x" }), { error: { message: "overloaded", type: "server_error" } }])
    expect(server.error?._tag).toBe("ServerError")
    expect(server.error?.message).toContain("overloaded")
    expect(server.error?.status).toBe(500)
    const limited = run([{ error: { message: "slow down", type: "rate_limit_error", code: 429 } }])
    expect(limited.error?._tag).toBe("RateLimitError")
    const event = run([{ event: "error", data: "upstream died", id: "" }])
    expect(event.error?._tag).toBe("ServerError")
  })

  it("malformed JSON in a data frame is a ProtocolError", () => {
    const { error, events } = run([chunk({ content: "x" }), "{\"id\": \"chatcmpl-7\", \"choices\": [", "[DONE]"])
    expect(error?._tag).toBe("ProtocolError")
    expect(error?.message).toContain("malformed JSON")
    expect(tags(events)).toEqual(["Start", "TextDelta"])
    expect(run(["[1,2]"]).error?._tag).toBe("ProtocolError")
  })

  it("a stream ending without a finish_reason is a ProtocolError", () => {
    expect(run([chunk({ content: "x" })]).error?.message).toContain("no finish_reason")
    expect(run([]).error?._tag).toBe("ProtocolError")
    expect(run([chunk({ content: "x" }), "[DONE]"]).error?.message).toContain("without a finish_reason")
  })

  it("a stream ending without [DONE] is a ProtocolError unless lenient", () => {
    const frames = [chunk({ content: "x" }), chunk({}, "stop"), usageChunk({ prompt_tokens: 1, completion_tokens: 1 })]
    const strict = run(frames)
    expect(strict.error?._tag).toBe("ProtocolError")
    expect(strict.error?.message).toContain("[DONE]")
    const lenient = run(frames, { lenientEnd: true })
    expect(lenient.error).toBeUndefined()
    expect(tags(lenient.events)).toEqual(["Start", "TextDelta", "Usage", "Finish"])
  })

  it("the Start model falls back to the requested one", () => {
    const { events } = run([
      { id: "x", choices: [{ index: 0, delta: { content: "a" }, finish_reason: "stop" }] },
      "[DONE]"
    ])
    expect(events[0]).toEqual(StreamEvent.start("x", "gpt-4o-mini", "openai"))
  })

  it("only the first choice is read", () => {
    const { events } = run([
      { id: "x", choices: [{ index: 1, delta: { content: "B" } }, { index: 0, delta: { content: "A" } }] },
      { id: "x", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      "[DONE]"
    ])
    expect(StreamEvent.accumulateAll(events).text).toBe("A")
  })
})

/** One test per OpenAI-compatible tool-call delta quirk (see also the cases above). */
describe("tool-call delta assembler quirks", () => {
  const done = [chunk({}, "tool_calls"), "[DONE]"] as const

  it("id only on the first delta", () => {
    const { events } = run([
      chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "f", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"a\"" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }),
      ...done
    ])
    expect(toolEvents(events)).toEqual([
      StreamEvent.toolCallStart("call_1", "f"),
      StreamEvent.toolCallDelta("call_1", "{\"a\""),
      StreamEvent.toolCallDelta("call_1", ":1}"),
      StreamEvent.toolCallEnd("call_1", "f", "{\"a\":1}")
    ])
  })

  it("missing index on every delta", () => {
    const { events } = run([
      chunk({ tool_calls: [{ id: "call_1", function: { name: "f", arguments: "{\"a\"" } }] }),
      chunk({ tool_calls: [{ function: { arguments: ":1}" } }] }),
      ...done
    ])
    expect(toolEvents(events)).toEqual([
      StreamEvent.toolCallStart("call_1", "f"),
      StreamEvent.toolCallDelta("call_1", "{\"a\""),
      StreamEvent.toolCallDelta("call_1", ":1}"),
      StreamEvent.toolCallEnd("call_1", "f", "{\"a\":1}")
    ])
  })

  it("index starting at 1 (offset) for a single call", () => {
    const { events } = run([
      chunk({ tool_calls: [{ index: 1, id: "call_1", function: { name: "f", arguments: "{}" } }] }),
      ...done
    ])
    const result = StreamEvent.accumulateAll(events)
    expect(result.toolCalls).toEqual([{ id: "call_1", name: "f", arguments: {}, rawArguments: "{}" }])
  })

  it("id and name split across deltas: the call starts once both are known", () => {
    const { events } = run([
      chunk({ tool_calls: [{ index: 0, id: "call_1", function: { arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: "weather", arguments: "{\"q\"" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }),
      ...done
    ])
    expect(toolEvents(events)).toEqual([
      StreamEvent.toolCallStart("call_1", "weather"),
      StreamEvent.toolCallDelta("call_1", "{\"q\""),
      StreamEvent.toolCallDelta("call_1", ":1}"),
      StreamEvent.toolCallEnd("call_1", "weather", "{\"q\":1}")
    ])
  })

  it("name before id: arguments are buffered until the id arrives", () => {
    const { events } = run([
      chunk({ tool_calls: [{ index: 0, function: { name: "weather", arguments: "{\"q\"" } }] }),
      chunk({ tool_calls: [{ index: 0, id: "call_late", function: { arguments: ":1}" } }] }),
      ...done
    ])
    expect(toolEvents(events)).toEqual([
      StreamEvent.toolCallStart("call_late", "weather"),
      StreamEvent.toolCallDelta("call_late", "{\"q\":1}"),
      StreamEvent.toolCallEnd("call_late", "weather", "{\"q\":1}")
    ])
  })

  it("no id at all: a generated, stable id", () => {
    const frames = [chunk({ tool_calls: [{ index: 0, function: { name: "f", arguments: "{}" } }] }), ...done]
    const { events } = run(frames)
    expect(toolEvents(events).map((e) => e.id)).toEqual(["chatcmpl-7_tool_0", "chatcmpl-7_tool_0", "chatcmpl-7_tool_0"])
    expect(run(frames).events).toEqual(events)
  })

  it("several calls interleaved (indices 0 and 1)", () => {
    const { events } = run([
      chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "f", arguments: "{\"x\":" } }] }),
      chunk({ tool_calls: [{ index: 1, id: "b", function: { name: "g", arguments: "{\"y\":" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: "2}" } }] }),
      ...done
    ])
    const result = StreamEvent.accumulateAll(events)
    expect(result.toolCalls.map((c) => [c.id, c.name, c.rawArguments])).toEqual([
      ["a", "f", "{\"x\":1}"],
      ["b", "g", "{\"y\":2}"]
    ])
  })
})
