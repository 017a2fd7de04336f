// generateObject / streamObject as methods of the client (they delegate to StructuredOutput).
import { describe, expect, it } from "@effect/vitest"
import { LlmClient } from "@llm-fiber/core"
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
