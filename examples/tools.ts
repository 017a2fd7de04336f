/**
 * Tools: define them with a Schema, let the tool loop run them for the model, approve the
 * dangerous ones, and stream the whole loop — against real providers when their API keys
 * are set, or against the bundled mock provider server (`npm run demo`).
 *
 * Run: npm run demo   (or: OPENAI_API_KEY=sk-… npx tsx examples/tools.ts)
 */
import { Approval, LlmClient, Tool, Toolkit, ToolLoop } from "@llm-fiber/core"
import { Console, Effect, Logger, LogLevel, Schema, Stream } from "effect"

const model = process.env.LLM_FIBER_MODEL ?? "gpt-4o-mini"
const onMock = process.env.LLM_FIBER_DEMO_MOCK === "1"

// 1. tools: parameters as a Schema (the JSON Schema for each provider comes from it, and the
//    model's arguments are decoded with it before the handler runs)
const weather = Tool.make("get_weather", {
  description: "The current weather in a city",
  parameters: Schema.Struct({
    city: Schema.Literal("Paris", "Rome", "Oslo"),
    unit: Schema.optional(Schema.Literal("celsius", "fahrenheit"))
  }),
  strict: true, // OpenAI strict mode: the schema is made strict-compatible for you
  handler: ({ city, unit }) =>
    Effect.succeed({ city, sky: city === "Oslo" ? "snow" : "clear", temperature: 21, unit: unit ?? "celsius" })
})

const notes = new Map([["n1", "buy milk"], ["n2", "call Ada"]])

const listNotes = Tool.make("list_notes", {
  description: "The user's notes",
  parameters: Schema.Struct({}),
  handler: () => Effect.succeed([...notes].map(([id, text]) => ({ id, text })))
})

const deleteNote = Tool.make("delete_note", {
  description: "Delete a note by id",
  parameters: Schema.Struct({ id: Schema.String }),
  handler: ({ id }) => Effect.sync(() => ({ deleted: notes.delete(id) }))
})

const toolkit = Toolkit.make(weather, listNotes, deleteNote)

// 2. approval: delete_* needs a yes (here an automatic "no"; ask a human in a real app)
const approval = Approval.rules(
  [{ match: "delete_*", decision: "ask" }, { match: "*", decision: "allow" }],
  {
    ask: (call) =>
      Console.log(`   approve ${call.name}(${JSON.stringify(call.arguments)})? no`).pipe(
        Effect.as(Approval.deny("the user declined"))
      )
  }
)

/** On the mock server: script the model's next turn (parallel calls, one of them a delete). */
const scriptMock = (turns: ReadonlyArray<unknown>) =>
  onMock
    ? Effect.promise(() =>
      fetch(`${(process.env.OPENAI_BASE_URL ?? "").replace(/\/v1\/?$/, "")}/__mock/script`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(turns)
      })
    )
    : Effect.void

const program = Effect.gen(function*() {
  yield* Console.log(`model: ${model}${onMock ? " (mock server)" : ""}\n`)

  // 3. the loop: call → run tools → send results → … until the model answers
  const result = yield* ToolLoop.chat({ model, messages: "What's the weather in Paris?", toolkit, maxSteps: 5 })
  for (const step of result.steps) {
    for (const r of step.toolResults) {
      yield* Console.log(`   step ${step.step}: ${r.name}(${JSON.stringify(r.arguments)}) → ${r.outcome}`)
    }
  }
  yield* Console.log(`1. loop → ${result.text}`)
  yield* Console.log(
    `   ${result.steps.length} steps, stopped by ${result.stoppedBy}, ${result.usage.totalTokens} tokens, cost ${
      result.cost ? `$${result.cost.totalUsd.toFixed(6)}` : "not priced"
    }\n`
  )

  // 4. several calls in one turn run concurrently; a denied call is reported to the model
  yield* scriptMock([{
    toolCalls: [{ name: "list_notes", arguments: {} }, { name: "delete_note", arguments: { id: "n1" } }]
  }])
  const cleanup = yield* ToolLoop.chat({
    model,
    messages: "List my notes, then delete the first one.",
    toolkit,
    approval,
    concurrency: 4
  })
  yield* Console.log(`2. with approval → ${cleanup.text}`)
  yield* Console.log(`   notes left: ${[...notes.keys()].join(", ")}\n`)

  // 5. streaming: the model's events of every step, plus a ToolResult per call
  yield* Console.log("3. stream →")
  yield* ToolLoop.chatStream({ model, messages: "Weather in Oslo?", toolkit }).pipe(
    Stream.runForEach((event) => {
      switch (event._tag) {
        case "StepStart":
          return Console.log(`   [step ${event.step}]`)
        case "ToolCallEnd":
          return Console.log(`   calls ${event.name}(${event.rawArguments})`)
        case "ToolResult":
          return Console.log(`   ${event.name} → ${JSON.stringify(event.result)}`)
        case "TextDelta":
          return Effect.sync(() => process.stdout.write(event.text))
        case "Finish":
          return Console.log(`\n   finish: ${event.finishReason}`)
        default:
          return Effect.void
      }
    })
  )
})

Effect.runPromise(
  program.pipe(Effect.provide(LlmClient.layerFromEnv()), Logger.withMinimumLogLevel(LogLevel.None))
).catch((error) => {
  console.error(error)
  process.exit(1)
})
