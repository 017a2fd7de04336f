/**
 * Quick start for Effect users: chat, streaming, a tool call, usage and cost, and typed
 * errors — against real providers when their API keys are set, or against the bundled
 * mock provider server (`npm run demo` starts it and points OPENAI_BASE_URL at it).
 *
 * Run: npm run demo   (or: OPENAI_API_KEY=sk-… npx tsx examples/quickstart.ts)
 */
import { LlmClient, Message, type StreamEvent } from "@llm-fiber/core"
import { Console, Effect, Logger, LogLevel, Stream } from "effect"

const model = process.env.LLM_FIBER_MODEL ?? "gpt-4o-mini"
const onMock = process.env.LLM_FIBER_DEMO_MOCK === "1"

const weatherTool = {
  name: "get_weather",
  description: "The current weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string", description: "City name" } },
    required: ["city"],
    additionalProperties: false
  }
}

// a local "tool" the model can call
const getWeather = (args: unknown) => {
  const city = typeof args === "object" && args !== null && "city" in args ? String(args.city) : "somewhere"
  return { city, temperatureC: 21, sky: "clear" }
}

const program = Effect.gen(function*() {
  const llm = yield* LlmClient.LlmClient
  yield* Console.log(`providers: ${llm.providers().join(", ")} — model: ${model}${onMock ? " (mock server)" : ""}\n`)

  // 1. chat: one answer, with usage, cost and timing
  const result = yield* llm.chat({
    model,
    messages: [Message.system("You are concise."), Message.user("In one sentence: what is Effect for TypeScript?")],
    maxTokens: 100
  })
  yield* Console.log(`1. chat → ${result.text}`)
  yield* Console.log(
    `   usage: ${result.usage.inputTokens} in / ${result.usage.outputTokens} out, cost: ${
      result.cost ? `$${result.cost.totalUsd.toFixed(6)}` : "model not priced"
    }, latency ${result.timing.latencyMs} ms\n`
  )

  // 2. streaming: print text as it arrives
  yield* Console.log("2. stream →")
  const finish = yield* llm.chatStream({ model, messages: "Count from one to five.", maxTokens: 50 }).pipe(
    Stream.tap((event) =>
      event._tag === "TextDelta" ? Effect.sync(() => process.stdout.write(event.text)) : Effect.void
    ),
    Stream.filter((event): event is StreamEvent.Finish => event._tag === "Finish"),
    Stream.runLast
  )
  const finished = finish._tag === "Some" ? finish.value : undefined
  yield* Console.log(`\n   finish: ${finished?.finishReason}, ${finished?.usage?.totalTokens ?? "?"} tokens\n`)

  // 3. a tool call: the model asks for get_weather, we run it and send the result back
  const question = Message.user("What's the weather in Paris right now?")
  const first = yield* llm.chat({ model, messages: [question], tools: [weatherTool] })
  yield* Console.log(
    `3. tool calls → ${JSON.stringify(first.toolCalls.map((c) => ({ name: c.name, args: c.arguments })))}`
  )
  const answer = yield* llm.chat({
    model,
    messages: [question, first.message, ...first.toolCalls.map((c) => Message.tool(c.id, getWeather(c.arguments)))],
    tools: [weatherTool]
  })
  yield* Console.log(`   answer → ${answer.text}\n`)

  // 4. typed errors: catch by tag
  yield* llm.chat({ model: "gtp-4o-mini", messages: "hi" }).pipe(
    Effect.catchTag(
      "UnknownModelError",
      (e) => Console.log(`4. UnknownModelError → suggestions: ${e.suggestions.join(", ")}`)
    )
  )
  if (onMock) {
    // the mock server answers 429 for this model name; after the retries, the typed error surfaces
    yield* llm.chat({ model: "openai:mock?fault=429&retryAfterMs=50", messages: "hi", maxRetries: 1 }).pipe(
      Effect.catchTag(
        "RateLimitError",
        (e) =>
          Console.log(
            `   RateLimitError → status ${e.status}, retry after ${e.retryAfterMs} ms, retryable: ${e.retryable}`
          )
      )
    )
  }
})

Effect.runPromise(
  // every call also logs one structured line (info on success, warning on failure): drop the
  // next line to see them, or set Logger.minimumLogLevel to taste
  program.pipe(Effect.provide(LlmClient.layerFromEnv()), Logger.withMinimumLogLevel(LogLevel.None))
).catch((error) => {
  console.error(error)
  process.exit(1)
})
