import { describe, expect, it } from "@effect/vitest"
import type { LlmError, Sse } from "@llm-fiber/core"
import { StreamEvent } from "@llm-fiber/core"
import { ResponsesStreamState } from "../src/internal/responsesStream.js"

const context = { provider: "openai-responses", model: "gpt-4.1", requestId: "req_1" }

type Frame = Readonly<Record<string, unknown>>

const toEvent = (frame: Frame): Sse.SseEvent =>
  "data" in frame && typeof frame.data === "string" && "event" in frame
    ? frame as unknown as Sse.SseEvent
    : { event: typeof frame.type === "string" ? frame.type : "message", data: JSON.stringify(frame), id: "" }

const run = (frames: ReadonlyArray<Frame>): { events: Array<StreamEvent.StreamEvent>; error?: LlmError.LlmError } => {
  const state = new ResponsesStreamState(context, { "x-request-id": "req_1" })
  const events: Array<StreamEvent.StreamEvent> = []
  try {
    for (const frame of frames) state.onEvent(toEvent(frame), events)
    state.onEnd(events)
    return { events }
  } catch (e) {
    return { events, error: e as LlmError.LlmError }
  }
}

const created = { type: "response.created", response: { id: "resp_1", model: "gpt-4.1-2025", status: "in_progress" } }
const usage = {
  input_tokens: 100,
  input_tokens_details: { cached_tokens: 60 },
  output_tokens: 40,
  output_tokens_details: { reasoning_tokens: 16 },
  total_tokens: 140
}
const completed = (extra: Record<string, unknown> = {}) => ({
  type: "response.completed",
  response: { id: "resp_1", status: "completed", output: [], usage, ...extra }
})
const text = (delta: string, output_index = 0) => ({
  type: "response.output_text.delta",
  item_id: "msg_1",
  output_index,
  content_index: 0,
  delta
})
const tags = (events: ReadonlyArray<StreamEvent.StreamEvent>) => events.map((e) => e._tag)

describe("Responses stream mapping", () => {
  it("text, usage from the final response, finish", () => {
    const { error, events } = run([created, { type: "response.in_progress" }, text("Hel"), text("lo"), completed()])
    expect(error).toBeUndefined()
    expect(events).toEqual([
      StreamEvent.start("resp_1", "gpt-4.1-2025", "openai-responses"),
      StreamEvent.textDelta("Hel"),
      StreamEvent.textDelta("lo"),
      StreamEvent.usage({
        inputTokens: 100,
        outputTokens: 40,
        totalTokens: 140,
        cachedInputTokens: 60,
        reasoningTokens: 16
      }),
      events[4]
    ])
    const finish = events[4] as StreamEvent.Finish
    expect(finish.finishReason).toBe("stop")
    expect(finish.requestId).toBe("req_1")
    expect(finish.providerMetadata?.["openai-responses"]).toEqual({ responseId: "resp_1", status: "completed", usage })
  })

  it("a function call: added → argument deltas → done; finish tool_calls; call_id is the id", () => {
    const { events } = run([
      created,
      {
        type: "response.output_item.added",
        output_index: 0,
        item: { type: "function_call", id: "fc_1", call_id: "call_1", name: "weather", arguments: "" }
      },
      { type: "response.function_call_arguments.delta", item_id: "fc_1", output_index: 0, delta: "{\"city\":" },
      { type: "response.function_call_arguments.delta", item_id: "fc_1", output_index: 0, delta: "\"Rome\"}" },
      {
        type: "response.function_call_arguments.done",
        item_id: "fc_1",
        output_index: 0,
        arguments: "{\"city\":\"Rome\"}"
      },
      {
        type: "response.output_item.done",
        output_index: 0,
        item: {
          type: "function_call",
          id: "fc_1",
          call_id: "call_1",
          name: "weather",
          arguments: "{\"city\":\"Rome\"}"
        }
      },
      completed()
    ])
    expect(tags(events)).toEqual([
      "Start",
      "ToolCallStart",
      "ToolCallDelta",
      "ToolCallDelta",
      "ToolCallEnd",
      "Usage",
      "Finish"
    ])
    expect(events[4]).toEqual(StreamEvent.toolCallEnd("call_1", "weather", "{\"city\":\"Rome\"}"))
    const result = StreamEvent.accumulateAll(events)
    expect(result.finishReason).toBe("tool_calls")
    expect(result.toolCalls[0]?.arguments).toEqual({ city: "Rome" })
  })

  it("arguments only on the done event, and item ids that rotate (keyed by output_index)", () => {
    const { events } = run([
      created,
      {
        type: "response.output_item.added",
        output_index: 1,
        item: { type: "function_call", id: "a1", call_id: "call_9", name: "f", arguments: "" }
      },
      { type: "response.function_call_arguments.done", item_id: "a2", output_index: 1, arguments: "{\"x\":1}" },
      {
        type: "response.output_item.done",
        output_index: 1,
        item: { type: "function_call", id: "a3", call_id: "call_9", name: "f", arguments: "{\"x\":1}" }
      },
      completed()
    ])
    expect(events.filter((e) => e._tag.startsWith("ToolCall"))).toEqual([
      StreamEvent.toolCallStart("call_9", "f"),
      StreamEvent.toolCallDelta("call_9", "{\"x\":1}"),
      StreamEvent.toolCallEnd("call_9", "f", "{\"x\":1}")
    ])
  })

  it("the .done text completes deltas that fell short; divergent text is not re-sent", () => {
    const short = run([
      created,
      text("Got"),
      { type: "response.output_text.done", output_index: 0, content_index: 0, text: "Got it." },
      completed()
    ])
    expect(StreamEvent.accumulateAll(short.events).text).toBe("Got it.")
    const divergent = run([
      created,
      text("The end."),
      { type: "response.output_text.done", output_index: 0, content_index: 0, text: "The end is near." },
      completed()
    ])
    expect(StreamEvent.accumulateAll(divergent.events).text).toBe("The end.")
  })

  it("reasoning summary and reasoning text deltas; parts separated by a blank line", () => {
    const { events } = run([
      created,
      { type: "response.reasoning_summary_text.delta", output_index: 0, summary_index: 0, delta: "First" },
      { type: "response.reasoning_summary_text.delta", output_index: 0, summary_index: 1, delta: "Second" },
      { type: "response.reasoning_text.delta", output_index: 1, content_index: 0, delta: "raw" },
      text("Answer", 2),
      completed()
    ])
    expect(events.filter((e) => e._tag === "ReasoningDelta").map((e) => (e as StreamEvent.ReasoningDelta).text))
      .toEqual(["First", "\n\nSecond", "\n\nraw"])
    expect(StreamEvent.accumulateAll(events).reasoning).toBe("First\n\nSecond\n\nraw")
  })

  it("server-side tool items are skipped and listed, never reported as tool calls", () => {
    const { events } = run([
      created,
      { type: "response.output_item.added", output_index: 0, item: { type: "web_search_call", id: "ws_1" } },
      { type: "response.web_search_call.searching", output_index: 0, item_id: "ws_1" },
      { type: "response.output_item.done", output_index: 0, item: { type: "web_search_call", id: "ws_1" } },
      { type: "response.output_item.added", output_index: 1, item: { type: "mcp_call", id: "mcp_1", name: "x" } },
      { type: "response.mcp_call_arguments.delta", output_index: 1, item_id: "mcp_1", delta: "{}" },
      { type: "response.output_item.added", output_index: 2, item: { type: "code_interpreter_call", id: "ci" } },
      { type: "response.code_interpreter_call_code.delta", output_index: 2, item_id: "ci", delta: "print(1)" },
      { type: "response.some_future_event", whatever: true },
      text("Done.", 3),
      completed()
    ])
    expect(tags(events)).toEqual(["Start", "TextDelta", "Usage", "Finish"])
    const finish = events[3] as StreamEvent.Finish
    expect(finish.finishReason).toBe("stop")
    expect((finish.providerMetadata?.["openai-responses"] as Record<string, unknown>).skippedOutputItems)
      .toEqual(["web_search_call", "mcp_call", "code_interpreter_call"])
  })

  it("response.incomplete: max_output_tokens → length, content_filter → content_filter", () => {
    const incomplete = (reason: string) =>
      run([created, text("Hi"), {
        type: "response.incomplete",
        response: { id: "resp_1", status: "incomplete", incomplete_details: { reason }, usage }
      }])
    const length = incomplete("max_output_tokens").events
    expect((length[length.length - 1] as StreamEvent.Finish).finishReason).toBe("length")
    const filtered = incomplete("content_filter").events
    const finish = filtered[filtered.length - 1] as StreamEvent.Finish
    expect(finish.finishReason).toBe("content_filter")
    expect(finish.providerMetadata?.["openai-responses"]).toMatchObject({ incompleteReason: "content_filter" })
  })

  it("a refusal finishes with content_filter; its text is metadata, not output text", () => {
    const { events } = run([
      created,
      { type: "response.refusal.delta", output_index: 0, content_index: 0, delta: "I can't help" },
      { type: "response.refusal.done", output_index: 0, content_index: 0, refusal: "I can't help with that." },
      completed()
    ])
    const finish = events[events.length - 1] as StreamEvent.Finish
    expect(finish.finishReason).toBe("content_filter")
    expect(finish.providerMetadata?.["openai-responses"]).toMatchObject({ refusal: "I can't help with that." })
    expect(StreamEvent.accumulateAll(events).text).toBe("")
  })

  it("response.failed → the mapped error of response.error", () => {
    const rateLimited = run([created, {
      type: "response.failed",
      response: { id: "resp_1", status: "failed", error: { code: "rate_limit_exceeded", message: "Slow down" } }
    }])
    expect(rateLimited.error?._tag).toBe("RateLimitError")
    expect(rateLimited.error?.retryable).toBe(true)
    const server = run([created, text("partial"), {
      type: "response.failed",
      response: { status: "failed", error: { code: "server_error", message: "boom" } }
    }])
    expect(server.error?._tag).toBe("ServerError")
    expect(server.error?.requestId).toBe("req_1")
    expect(tags(server.events)).toEqual(["Start", "TextDelta"])
    const image = run([created, {
      type: "response.failed",
      response: { status: "failed", error: { code: "invalid_image_url", message: "bad image" } }
    }])
    expect(image.error?._tag).toBe("InvalidRequestError")
    const policy = run([created, {
      type: "response.failed",
      response: { status: "failed", error: { code: "image_content_policy_violation", message: "no" } }
    }])
    expect(policy.error?._tag).toBe("ContentFilterError")
  })

  it("an `error` event → the mapped error (context length → ContextLengthError)", () => {
    const { error } = run([created, {
      type: "error",
      code: "context_length_exceeded",
      message: "Your input exceeds the context window of this model.",
      param: "input",
      sequence_number: 2
    }])
    expect(error?._tag).toBe("ContextLengthError")
    expect(error?.code).toBe("context_length_exceeded")
  })

  it("a stream that ends without a terminal event is a ProtocolError", () => {
    const truncated = run([created, text("Hel")])
    expect(truncated.error?._tag).toBe("ProtocolError")
    expect(truncated.error?.message).toContain("response.completed")
    expect(tags(truncated.events)).toEqual(["Start", "TextDelta"])
    expect(run([]).error?._tag).toBe("ProtocolError")
    // a [DONE] (some compatible servers) does not count as the end
    expect(run([created, { event: "message", data: "[DONE]", id: "" }]).error?._tag).toBe("ProtocolError")
  })

  it("malformed JSON in a data frame is a ProtocolError; keep-alives are skipped", () => {
    expect(run([created, { event: "message", data: "", id: "" }, completed()]).error).toBeUndefined()
    const { error } = run([created, { event: "response.output_text.delta", data: "{\"type\":", id: "" }])
    expect(error?._tag).toBe("ProtocolError")
    expect(error?.message).toContain("malformed JSON")
  })

  it("events after the terminal one are ignored; no usage → Finish without usage", () => {
    const { error, events } = run([
      created,
      text("a"),
      { type: "response.completed", response: { id: "resp_1", status: "completed", output: [] } },
      text("b")
    ])
    expect(error).toBeUndefined()
    expect(tags(events)).toEqual(["Start", "TextDelta", "Finish"])
    expect((events[2] as StreamEvent.Finish).usage).toBeUndefined()
  })

  it("a function call only present in the final response is still reported", () => {
    const { events } = run([
      created,
      completed({
        output: [{ type: "function_call", id: "fc", call_id: "call_x", name: "f", arguments: "{}" }]
      })
    ])
    expect(StreamEvent.accumulateAll(events).toolCalls.map((c) => c.id)).toEqual(["call_x"])
    expect((events[events.length - 1] as StreamEvent.Finish).finishReason).toBe("tool_calls")
  })
})
