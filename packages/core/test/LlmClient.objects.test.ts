// generateObject / streamObject as methods of the client (they delegate to StructuredOutput).
import { describe, expect, it } from "@effect/vitest"
import { LlmClient, Tool, Toolkit } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Chunk, Effect, Schema, Stream } from "effect"

const Person = Schema.Struct({ name: Schema.String, age: Schema.Number })

describe("LlmClient structured output", () => {
  it.effect("generateObject decodes the answer with the schema, natively on OpenAI", () =>
    Effect.gen(function*() {
      const out = yield* LlmClient.generateObject({ model: "gpt-4o-mini", messages: "who?", schema: Person })
      expect(out.value).toEqual({ name: "Ada", age: 36 })
      expect(out.mode).toBe("native")
      const [call] = yield* FakeProvider.calls
      expect(call!.request.responseFormat?.type).toBe("json_schema")
    }).pipe(Effect.provide(FakeProvider.layerClient({ script: [FakeProvider.text(`{"name":"Ada","age":36}`)] }))))

  it.effect("streamObject ends with the decoded value", () =>
    Effect.gen(function*() {
      const parts = Chunk.toReadonlyArray(
        yield* Stream.runCollect(LlmClient.streamObject({ model: "gpt-4o-mini", messages: "who?", schema: Person }))
      )
      const last = parts[parts.length - 1]!
      expect(last._tag).toBe("Done")
      expect(last.value).toEqual({ name: "Ada", age: 36 })
      expect(parts.some((p) => p._tag === "Partial")).toBe(true)
    }).pipe(
      Effect.provide(
        FakeProvider.layerClient({ script: [FakeProvider.stream([`{"name":"A`, `da","age":`, `36}`])] })
      )
    ))
})

describe("LlmClient tool loop", () => {
  const add = Tool.make("add", {
    parameters: Schema.Struct({ a: Schema.Number, b: Schema.Number }),
    handler: ({ a, b }) => Effect.succeed(a + b)
  })

  it.effect("runTools runs the model's tool call and returns the final answer", () =>
    Effect.gen(function*() {
      const out = yield* LlmClient.runTools({ model: "gpt-4o-mini", messages: "2+3?", toolkit: Toolkit.make(add) })
      expect(out.text).toBe("5")
      expect(out.stoppedBy).toBe("answer")
      expect(out.steps).toHaveLength(2)
      const calls = yield* FakeProvider.calls
      // the second request carries the tool's result
      expect(JSON.stringify(calls[1]!.request.messages)).toContain("5")
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [FakeProvider.toolCalls([{ name: "add", arguments: { a: 2, b: 3 } }]), FakeProvider.text("5")]
    }))))

  it.effect("streamTools emits the tool result between the steps", () =>
    Effect.gen(function*() {
      const events = Chunk.toReadonlyArray(
        yield* Stream.runCollect(
          LlmClient.streamTools({ model: "gpt-4o-mini", messages: "2+3?", toolkit: Toolkit.make(add) })
        )
      )
      const tags = events.map((e) => e._tag)
      expect(tags).toContain("ToolResult")
      expect(tags.indexOf("ToolResult")).toBeLessThan(tags.lastIndexOf("Finish"))
    }).pipe(Effect.provide(FakeProvider.layerClient({
      script: [FakeProvider.toolCalls([{ name: "add", arguments: { a: 2, b: 3 } }]), FakeProvider.stream("5")]
    }))))
})
