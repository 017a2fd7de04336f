/**
 * One conversation — a system prompt, a tool call round trip, then a streamed answer —
 * sent unchanged to every configured provider (OpenAI, Anthropic, Gemini and an
 * OpenAI-compatible server), with the normalized results printed side by side.
 *
 * Run against the mock server: npm run demo -- providers   (or scripts/run-examples.mjs)
 * Run against real providers: set OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY.
 */
import { type ChatResult, LlmClient, Message, StreamEvent } from "@llm-fiber/core"
import { Console, Effect, Logger, LogLevel } from "effect"

const candidates: ReadonlyArray<{ readonly provider: string; readonly model: string }> = [
  { provider: "openai", model: process.env.OPENAI_MODEL ?? "gpt-4o-mini" },
  { provider: "anthropic", model: process.env.ANTHROPIC_MODEL ?? "claude-haiku-4-5" },
  { provider: "gemini", model: process.env.GEMINI_MODEL ?? "gemini-2.5-flash" },
  { provider: "ollama", model: "ollama:" + (process.env.OLLAMA_MODEL ?? "llama3.2") }
]

const weather = {
  name: "get_weather",
  description: "The current weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string", description: "City name" } },
    required: ["city"]
  }
}

const conversation = [Message.system("You are a concise weather assistant."), Message.user("Weather in Paris?")]

const row = (label: string, r: ChatResult.ChatResult) => ({
  step: label,
  provider: r.provider,
  model: r.model,
  text: r.text.length > 40 ? r.text.slice(0, 40) + "…" : r.text,
  toolCalls: r.toolCalls.map((c) => `${c.name}(${JSON.stringify(c.arguments)})`).join(", "),
  finish: r.finishReason,
  tokens: `${r.usage.inputTokens}/${r.usage.outputTokens}`,
  cost: r.cost ? `$${r.cost.totalUsd.toFixed(6)}` : "unpriced"
})

const program = Effect.gen(function*() {
  const llm = yield* LlmClient.LlmClient
  const configured = llm.providers()
  const rows: Array<ReturnType<typeof row>> = []
  for (const { model, provider } of candidates) {
    if (!configured.includes(provider)) {
      yield* Console.log(`(skipping ${provider}: not configured)`)
      continue
    }
    // 1. the model calls the tool
    const first = yield* llm.chat({ model, messages: conversation, tools: [weather], maxTokens: 200 })
    rows.push(row("tool call", first))
    // 2. we answer the tool calls; 3. the final answer, streamed
    const results = first.toolCalls.map((call) => Message.tool(call.id, { city: "Paris", sky: "clear", tempC: 21 }))
    const final = yield* StreamEvent.accumulate(
      llm.chatStream({
        model,
        messages: [...conversation, first.message, ...results],
        tools: [weather],
        maxTokens: 200
      })
    )
    rows.push(row("answer (stream)", final))
  }
  console.table(rows)
})

Effect.runPromise(
  // every call also logs one structured line (info on success, warning on failure): drop the
  // next line to see them, or set Logger.minimumLogLevel to taste
  program.pipe(Effect.provide(LlmClient.layerFromEnv()), Logger.withMinimumLogLevel(LogLevel.None))
).catch((error) => {
  console.error(error)
  process.exit(1)
})
