/**
 * The stream state machine fed SSE events directly (no HTTP): edge cases of function
 * calls, thought signatures and the end of the stream.
 */
import { describe, expect, it } from "@effect/vitest"
import { type LlmError, StreamEvent } from "@llm-fiber/core"
import { GenerateStreamState } from "../src/internal/stream.js"

const context = { provider: "gemini", model: "gemini-3-flash", requestId: "req-1" }

const run = (chunks: ReadonlyArray<unknown>, end = true) => {
  const state = new GenerateStreamState(context)
  const out: Array<StreamEvent.StreamEvent> = []
  for (const chunk of chunks) state.onEvent({ event: "message", data: JSON.stringify(chunk), id: "" }, out)
  if (end) state.onEnd(out)
  return out
}

const fails = (f: () => unknown): LlmError.LlmError => {
  try {
    f()
  } catch (e) {
    return e as LlmError.LlmError
  }
  throw new Error("expected a failure")
}

const parts = (...p: ReadonlyArray<unknown>) => ({ candidates: [{ content: { parts: p } }], responseId: "r" })
const finish = (reason = "STOP") => ({
  candidates: [{ content: { parts: [] }, finishReason: reason }],
  responseId: "r"
})

describe("GenerateStreamState", () => {
  it("a thought part with a signature is one reasoning delta carrying it", () => {
    const events = run([parts({ text: "hmm", thought: true, thoughtSignature: "c2ln" }, { text: "hi" }), finish()])
    expect(events.slice(1, 3)).toEqual([
      StreamEvent.reasoningDelta("hmm", { signature: "c2ln" }),
      StreamEvent.textDelta("hi")
    ])
    const result = StreamEvent.accumulateAll(events)
    expect(result.message.content).toEqual([
      { type: "reasoning", text: "hmm", signature: "c2ln" },
      { type: "text", text: "hi" }
    ])
    expect((events[events.length - 1] as StreamEvent.Finish).requestId).toBe("req-1")
  })

  it("a new named call closes a streamed one; string values continue only while willContinue", () => {
    const events = run([
      parts({ functionCall: { name: "a", willContinue: true } }),
      parts({
        functionCall: { partialArgs: [{ jsonPath: "$.s", stringValue: "x", willContinue: true }], willContinue: true }
      }),
      parts({ functionCall: { partialArgs: [{ jsonPath: "$.s", stringValue: "y" }], willContinue: true } }),
      parts({ functionCall: { partialArgs: [{ jsonPath: "$.s", stringValue: "z" }], willContinue: true } }),
      parts({
        functionCall: {
          partialArgs: [{ jsonPath: "$['k'].b", boolValue: true }, { jsonPath: "$.n", nullValue: "NULL_VALUE" }],
          willContinue: true
        }
      }),
      parts({ functionCall: { name: "b", args: { q: 1 } } }),
      finish()
    ])
    const result = StreamEvent.accumulateAll(events)
    expect(result.toolCalls.map((t) => [t.id, t.name, t.arguments])).toEqual([
      ["r_call_0", "a", { s: "z", k: { b: true }, n: null }],
      ["r_call_1", "b", { q: 1 }]
    ])
    expect(result.finishReason).toBe("tool_calls")
  })

  it("protocol errors: arguments without a call, a bad JSON path, no finishReason, not an object", () => {
    const orphan = fails(() => run([parts({ functionCall: { partialArgs: [{ jsonPath: "$.a", stringValue: "x" }] } })]))
    expect(orphan._tag).toBe("ProtocolError")
    const badPath = fails(() =>
      run([
        parts({ functionCall: { name: "a", willContinue: true } }),
        parts({ functionCall: { partialArgs: [{ jsonPath: "a.b", stringValue: "x" }] } })
      ])
    )
    expect(badPath.message).toContain("jsonPath")
    const proto = fails(() =>
      run([
        parts({ functionCall: { name: "a", willContinue: true } }),
        parts({ functionCall: { partialArgs: [{ jsonPath: "$.__proto__.x", stringValue: "x" }] } })
      ])
    )
    expect(proto._tag).toBe("ProtocolError")
    expect(({} as Record<string, unknown>).x).toBeUndefined()
    expect(fails(() => run([parts({ text: "a" })]))._tag).toBe("ProtocolError")
    expect(fails(() => run([[1, 2]]))._tag).toBe("ProtocolError")
  })

  it("keep-alives and unknown event types are skipped", () => {
    const state = new GenerateStreamState(context)
    const out: Array<StreamEvent.StreamEvent> = []
    state.onEvent({ event: "message", data: "", id: "" }, out)
    state.onEvent({ event: "ping", data: "{}", id: "" }, out)
    expect(out).toEqual([])
  })

  it("content filter finish", () => {
    const result = StreamEvent.accumulateAll(run([parts({ text: "a" }), finish("SAFETY")]))
    expect(result.finishReason).toBe("content_filter")
    expect(result.text).toBe("a")
  })
})
