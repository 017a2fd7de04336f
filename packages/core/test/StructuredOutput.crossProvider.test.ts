// One `generateObject` schema, unchanged, against OpenAI (Chat Completions and Responses),
// Anthropic and Gemini — each spoken by the mock server in its own wire format, through
// the real provider packages — plus the prompt fallback on an OpenAI-compatible server
// without JSON-schema output, repairs of scripted bad answers, and streamObject.
import { describe, expect, it } from "@effect/vitest"
import { Anthropic } from "@llm-fiber/anthropic"
import { LlmClient, StructuredOutput } from "@llm-fiber/core"
import { Gemini } from "@llm-fiber/gemini"
import { OpenAI } from "@llm-fiber/openai"
import { MockServer } from "@llm-fiber/testing"
import { Chunk, Effect, Layer, Logger, LogLevel, Schema, Stream } from "effect"
import { extendsValue } from "../src/internal/partialJson.js"

class City extends Schema.Class<City>("City")({
  name: Schema.String,
  population: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1000))
}) {}

const Forecast = Schema.Struct({
  city: City,
  sky: Schema.Literal("clear", "cloudy", "rain"),
  celsius: Schema.Number.pipe(Schema.between(-30, 45)),
  windy: Schema.Boolean,
  hours: Schema.Array(Schema.Struct({ hour: Schema.Int.pipe(Schema.between(0, 23)), chance: Schema.Number }))
    .pipe(Schema.minItems(2)),
  alert: Schema.NullOr(Schema.String),
  note: Schema.optional(Schema.String)
}).annotations({ identifier: "Forecast" })

/** What the mock synthesizes from the schema (the first enum value, numbers at their minimum or 1, …). */
const synthesized = {
  city: new City({ name: "example", population: 1000 }),
  sky: "clear",
  celsius: 1,
  windy: true,
  hours: [{ hour: 1, chance: 1 }, { hour: 1, chance: 1 }],
  alert: "example"
}

const providers = [
  ["openai", "gpt-4o-mini", "native"],
  ["openai-responses", "openai-responses:gpt-4o-mini", "native"],
  ["anthropic", "claude-haiku-4-5", "tool"],
  ["gemini", "gemini-2.5-flash", "native"]
] as const

const client = (server: MockServer.Handle) =>
  LlmClient.layerWith(Layer.mergeAll(
    OpenAI.layer({ apiKey: "sk-test", baseUrl: server.openaiBaseUrl }),
    OpenAI.responses({ apiKey: "sk-test", baseUrl: server.openaiBaseUrl }),
    Anthropic.layer({ apiKey: "sk-ant-test", baseUrl: server.anthropicBaseUrl }),
    Gemini.layer({ apiKey: "gemini-test", baseUrl: server.geminiBaseUrl }),
    // a local server whose models cannot constrain output by a schema
    OpenAI.compatible({ name: "local", baseUrl: server.openaiBaseUrl, capabilities: { jsonSchema: false } })
  ))

const withClient = <A, E>(
  f: (llm: LlmClient.Service, server: MockServer.Handle) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const server = yield* MockServer.MockServer
    return yield* Effect.provide(Effect.flatMap(LlmClient.LlmClient, (llm) => f(llm, server)), client(server))
  }).pipe(Effect.provide(MockServer.layer()), Logger.withMinimumLogLevel(LogLevel.Warning))

const messages = "Weather in Paris?"

describe("structured output on every provider (mock server)", () => {
  it.live("the same schema decodes, natively or by forced tool use, to the same value", () =>
    withClient((llm, server) =>
      Effect.gen(function*() {
        for (const [provider, model, mode] of providers) {
          const { value, ...result } = yield* StructuredOutput.generateObject(llm, {
            model,
            messages,
            schema: Forecast
          })
          const { note, ...rest } = value
          expect(rest, provider).toStrictEqual(synthesized)
          // strict mode makes the optional field required (nullable): the mock fills it in
          expect(note, provider).toBe(provider.startsWith("openai") ? "example" : undefined)
          expect([result.mode, result.attempts, result.result.provider], provider).toStrictEqual([mode, 1, provider])
        }
        const bodies = server.requests.map((r) => r.body as Record<string, any>)
        expect(bodies[0]!.response_format).toMatchObject({
          type: "json_schema",
          json_schema: { name: "Forecast", strict: true }
        })
        expect(bodies[1]!.text.format).toMatchObject({ type: "json_schema", name: "Forecast", strict: true })
        expect(bodies[2]!.tool_choice).toStrictEqual({ type: "tool", name: "Forecast" })
        expect(bodies[2]!.tools.map((t: { name: string }) => t.name)).toStrictEqual(["Forecast"])
        expect(bodies[3]!.generationConfig.responseMimeType).toBe("application/json")
        expect(bodies[3]!.generationConfig.responseSchema.properties.sky).toStrictEqual({
          type: "STRING",
          enum: ["clear", "cloudy", "rain"]
        })
      })
    ))

  it.live("streamObject: partial values in order, then the decoded value (text deltas, and tool-argument deltas on Anthropic)", () =>
    withClient((llm) =>
      Effect.gen(function*() {
        for (const [provider, model, mode] of providers) {
          const parts = Chunk.toArray(
            yield* Stream.runCollect(
              StructuredOutput.streamObject(llm, { model: `${model}?chunks=12`, messages, schema: Forecast })
            )
          )
          const partials = parts.flatMap((p) => (p._tag === "Partial" ? [p.value] : []))
          expect(partials.length, provider).toBeGreaterThanOrEqual(5)
          for (let i = 1; i < partials.length; i++) {
            expect(extendsValue(partials[i - 1], partials[i]), provider).toBe(true)
            expect(partials[i], provider).not.toStrictEqual(partials[i - 1])
          }
          const done = parts.at(-1)
          if (done?._tag !== "Done") throw new Error(`${provider}: no Done`)
          expect(done.mode, provider).toBe(mode)
          const { note: _note, ...rest } = done.value
          expect(rest, provider).toStrictEqual(synthesized)
          expect(done.result.usage.outputTokens, provider).toBeGreaterThan(0)
        }
      })
    ))

  it.live("a bad first answer is repaired (scripted: invalid, then valid), on Chat Completions and on Anthropic", () =>
    withClient((llm, server) =>
      Effect.gen(function*() {
        const valid = { ...synthesized, city: { name: "Paris", population: 2_100_000 } }
        server.script([
          { text: "{\"city\": {\"name\": \"Paris\"}, \"sky\": \"sunny\"" },
          { text: JSON.stringify(valid) },
          { toolCalls: [{ name: "Forecast", arguments: { ...valid, celsius: 99 } }] },
          { toolCalls: [{ name: "Forecast", arguments: valid }] }
        ])
        const openai = yield* StructuredOutput.generateObject(llm, { model: "gpt-4o-mini", messages, schema: Forecast })
        expect([openai.attempts, openai.value.city.name]).toStrictEqual([2, "Paris"])
        const claude = yield* StructuredOutput.generateObject(llm, {
          model: "claude-haiku-4-5",
          messages,
          schema: Forecast
        })
        expect([claude.attempts, claude.value.celsius]).toStrictEqual([2, 1])
        const bodies = server.requests.map((r) => r.body as Record<string, any>)
        const repairText = bodies[1]!.messages.at(-1).content as string
        expect(repairText).toContain("the output is not valid JSON: the JSON text ended early (unclosed object)")
        const toolResult = bodies[3]!.messages.at(-1).content[0]
        expect(toolResult).toMatchObject({ type: "tool_result", is_error: true })
        expect(JSON.stringify(toolResult.content)).toContain("Expected a number between -30 and 45, actual 99")
      })
    ))

  it.live("repairs exhausted: a StructuredOutputError whose message shows the decode issue", () =>
    withClient((llm, server) =>
      Effect.gen(function*() {
        server.script([{ text: "{\"sky\": \"sunny\"}" }, { text: "{\"sky\": \"sunny\"}" }])
        const error = yield* Effect.flip(
          StructuredOutput.generateObject(llm, { model: "gpt-4o-mini", messages, schema: Forecast })
        )
        expect(error._tag).toBe("StructuredOutputError")
        expect(error.message).toContain("openai: the output does not match the schema (native mode, 2 attempts):")
        expect(error.message).toContain("[\"sky\"]")
        expect(error.message).toContain("Expected \"clear\", actual \"sunny\"")
        expect(error._tag === "StructuredOutputError" && error.text).toBe("{\"sky\": \"sunny\"}")
      })
    ))

  it.live("prompt fallback on a compatible server without JSON-schema output: instruction in, JSON out of prose and fences", () =>
    withClient((llm, server) =>
      Effect.gen(function*() {
        server.script([{
          text: `Here is the forecast you asked for:\n\n\`\`\`json\n${JSON.stringify(synthesized, null, 2)}\n\`\`\`\n`
        }])
        const { mode, value } = yield* StructuredOutput.generateObject(llm, {
          model: "local:llama3.2",
          messages,
          schema: Forecast
        })
        expect(mode).toBe("prompt")
        expect(value).toStrictEqual(synthesized)
        const body = server.requests[0]!.body as Record<string, any>
        expect(body.response_format).toBeUndefined()
        expect(body.tools).toBeUndefined()
        expect(body.messages[0].role).toBe("system")
        expect(body.messages[0].content).toContain(
          "Answer with a single JSON value that matches the JSON Schema below."
        )
        expect(body.messages[0].content).toContain("\"enum\":[\"clear\",\"cloudy\",\"rain\"]")
      })
    ))
})
