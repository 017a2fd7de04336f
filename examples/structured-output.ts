/**
 * Structured output: one `effect/Schema`, a decoded value from OpenAI (native JSON schema,
 * strict), Anthropic (forced tool use) and Gemini (responseSchema) alike; partial values
 * while the answer streams; the typed error when the output does not decode.
 *
 * Runs against real providers when their keys are set, or against the bundled mock server
 * (`node scripts/run-examples.mjs`), which synthesizes JSON from the schema it is sent.
 *
 * Run: OPENAI_API_KEY=sk-… npx tsx examples/structured-output.ts
 */
import { LlmClient, StructuredOutput } from "@llm-fiber/core"
import { Console, Effect, Logger, LogLevel, Schema, Stream } from "effect"

const onMock = process.env.LLM_FIBER_DEMO_MOCK === "1"

class Recipe extends Schema.Class<Recipe>("Recipe")({
  title: Schema.String,
  minutes: Schema.Int.pipe(Schema.between(1, 240)),
  difficulty: Schema.Literal("easy", "medium", "hard"),
  ingredients: Schema.Array(Schema.Struct({
    name: Schema.String,
    grams: Schema.optional(Schema.Number)
  })).pipe(Schema.minItems(1)),
  vegetarian: Schema.Boolean
}) {}

const messages = "A quick pancake recipe for two."

const program = Effect.gen(function*() {
  const llm = yield* LlmClient.LlmClient
  const available = new Set(llm.providers())
  const models = [
    ["openai", "gpt-4o-mini"],
    ["anthropic", "claude-haiku-4-5"],
    ["gemini", "gemini-2.5-flash"]
  ].filter(([provider]) => available.has(provider!))

  // 1. the same schema on every provider configured
  for (const [provider, model] of models) {
    const { attempts, mode, result, value } = yield* StructuredOutput.generateObject(llm, {
      model: model!,
      messages,
      schema: Recipe
    })
    yield* Console.log(
      `1. ${provider} (${mode} mode, ${attempts} attempt${
        attempts === 1 ? "" : "s"
      }) → ${value.title}: ${value.minutes} min, ${value.ingredients.length} ingredient(s), ${result.usage.totalTokens} tokens`
    )
  }

  // 2. streaming: partial values as the JSON arrives, then the decoded value
  const first = models[0]
  if (first !== undefined) {
    yield* Console.log(`\n2. streamObject on ${first[0]}:`)
    yield* StructuredOutput.streamObject(llm, {
      model: onMock ? `${first[1]}?chunks=6` : first[1]!,
      messages,
      schema: Recipe
    }).pipe(
      Stream.runForEach((part) =>
        part._tag === "Partial"
          ? Console.log(`   partial  ${JSON.stringify(part.value)}`)
          : Console.log(`   done     ${part.value.title} (a ${part.value.constructor.name})`)
      )
    )
  }

  // 3. when the output never decodes: a typed error with the decode issue and the raw text
  // (on the mock: this schema hides its constraint from the JSON Schema it sends, so the
  // synthesized answer cannot decode — neither the first one nor the repair)
  if (onMock && first !== undefined) {
    const Link = Schema.Struct({
      url: Schema.String.pipe(Schema.filter((s) => s.startsWith("https://"), { message: () => "an https:// URL" }))
    })
    yield* StructuredOutput.generateObject(llm, { model: first[1]!, messages: "A link", schema: Link }).pipe(
      Effect.catchTag(
        "StructuredOutputError",
        (e) =>
          Console.log(`\n3. StructuredOutputError after ${e.attempts} attempts; raw text ${e.text}; issue:\n${e.issue}`)
      )
    )
  }
})

Effect.runPromise(
  program.pipe(Effect.provide(LlmClient.layerFromEnv()), Logger.withMinimumLogLevel(LogLevel.None))
).catch((error) => {
  console.error(error)
  process.exit(1)
})
