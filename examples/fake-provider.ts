/**
 * Testing an app with FakeProvider: one Layer swaps the provider for a script, and the real
 * pipeline (retries, fallback, cost) runs against it — no network, no API key.
 *
 * Run: npx tsx examples/fake-provider.ts
 */
import { LlmClient, LlmError, RetryPolicy } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Console, Effect, Layer, Schedule } from "effect"

// the application code under test: it only knows LlmClient
const summarize = (text: string) =>
  Effect.map(
    LlmClient.chat({ model: "gpt-4o-mini", messages: `Summarize in three words: ${text}` }),
    (result) => ({ summary: result.text, costUsd: result.cost?.totalUsd ?? 0 })
  )

const program = Effect.gen(function*() {
  const out = yield* summarize("Effect is a TypeScript library for typed, composable programs.")
  const calls = yield* FakeProvider.calls
  yield* Console.log(`summary: ${out.summary} — cost $${out.costUsd.toFixed(8)}`)
  yield* Console.log(`provider calls: ${calls.length} (attempts ${calls.map((c) => c.attempt).join(", ")})`)
  if (out.summary !== "Typed composable programs" || calls.length !== 2) {
    return yield* Effect.die(new Error("unexpected result"))
  }
})

// the first attempt hits a 503, the retry gets the scripted answer
const TestLlm = FakeProvider.layerClient({
  name: "openai",
  script: [
    FakeProvider.fail(new LlmError.ServerError({ message: "overloaded", status: 503 })),
    FakeProvider.text("Typed composable programs", { usage: { inputTokens: 20, outputTokens: 3 } })
  ]
}).pipe(Layer.provide(RetryPolicy.layer({ schedule: Schedule.spaced("10 millis") })))

Effect.runPromise(program.pipe(Effect.provide(TestLlm))).catch((error) => {
  console.error(error)
  process.exit(1)
})
