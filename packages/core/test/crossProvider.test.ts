// The same conversation — a system prompt, a tool call round trip, then a streamed answer —
// sent unchanged to OpenAI, Anthropic, Gemini and an OpenAI-compatible server (all spoken
// by the mock server in their own wire formats), through providers loaded exactly as
// `LlmClient.layerFromEnv` loads them. The normalized results must be identical.
import { describe, expect, it } from "@effect/vitest"
import { Approval, type ChatResult, LlmClient, Message, StreamEvent, Tool, Toolkit, ToolLoop } from "@llm-fiber/core"
import { MockServer } from "@llm-fiber/testing"
import { Chunk, ConfigProvider, Effect, Layer, Schema, Stream } from "effect"
import * as GeminiSpec from "../../gemini/test/helpers/openapi.js"
import * as OpenAiSpec from "../../openai/test/helpers/openapi.js"

const weather = {
  name: "get_weather",
  description: "The current weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string", enum: ["Paris", "Rome"] } },
    required: ["city"]
  }
}

const conversation = [Message.system("You are a concise weather assistant."), Message.user("Weather in Paris?")]

const models = [
  ["openai", "gpt-4o-mini"],
  ["anthropic", "claude-haiku-4-5"],
  ["gemini", "gemini-2.5-flash"],
  ["ollama", "ollama:llama3.2"]
] as const

const normalized = (r: ChatResult.ChatResult) => ({
  text: r.text,
  finishReason: r.finishReason,
  toolCalls: r.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments })),
  hasUsage: r.usage.inputTokens > 0 && r.usage.outputTokens > 0
})

describe("one request, every provider", () => {
  it.live("gives identical normalized results for a tool round trip and a stream", () =>
    Effect.gen(function*() {
      const server = yield* MockServer.MockServer
      const env = new Map([
        ["OPENAI_BASE_URL", server.openaiBaseUrl],
        ["OPENAI_API_KEY", "sk-test"],
        ["ANTHROPIC_BASE_URL", server.url],
        ["ANTHROPIC_API_KEY", "sk-ant-test"],
        ["GEMINI_BASE_URL", server.url],
        ["GEMINI_API_KEY", "gemini-test"],
        ["OLLAMA_BASE_URL", server.openaiBaseUrl]
      ])
      const results = yield* Effect.forEach(models, ([provider, model]) =>
        Effect.gen(function*() {
          const llm = yield* LlmClient.LlmClient
          const first = yield* llm.chat({ model, messages: conversation, tools: [weather], maxTokens: 200 })
          const toolResults = first.toolCalls.map((c) => Message.tool(c.id, { city: "Paris", sky: "clear" }))
          const followUp = { model, messages: [...conversation, first.message, ...toolResults], tools: [weather] }
          const answer = yield* llm.chat(followUp)
          const streamed = yield* StreamEvent.accumulate(llm.chatStream(followUp))
          expect(first.provider).toBe(provider)
          expect(answer.cost === undefined).toBe(provider === "ollama")
          return { first: normalized(first), answer: normalized(answer), streamed: normalized(streamed) }
        }).pipe(
          Effect.provide(
            LlmClient.layerFromEnv().pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(env)))
            )
          )
        ))
      const [reference, ...others] = results
      expect(reference?.first).toEqual({
        text: "",
        finishReason: "tool_calls",
        toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }],
        hasUsage: true
      })
      expect(reference?.answer.finishReason).toBe("stop")
      expect(reference?.answer.text).toContain("Paris")
      expect(reference?.streamed).toEqual(reference?.answer)
      for (const other of others) expect(other).toEqual(reference)
    }).pipe(Effect.provide(MockServer.layer())))
})

// -----------------------------------------------------------------------------
// one toolkit, every provider: the tool loop over HTTP
// -----------------------------------------------------------------------------

// The same Toolkit, unchanged, against OpenAI Chat Completions and Responses, Anthropic and
// Gemini on the mock server: each request carries the tool schemas in the provider's flavour
// (OpenAI strict mode for get_weather), valid for its API; the loop's normalized outcome is
// identical everywhere.
const weatherTool = Tool.make("get_weather", {
  description: "The current weather in a city",
  parameters: Schema.Struct({
    city: Schema.Literal("Paris", "Rome"),
    unit: Schema.optional(Schema.Literal("c", "f"))
  }),
  strict: true,
  handler: ({ city }) => Effect.succeed({ city, sky: "clear", celsius: 21 })
})
const timeTool = Tool.make("get_time", {
  description: "The local time in a city",
  parameters: Schema.Struct({ city: Schema.String }),
  handler: ({ city }) => Effect.succeed(`noon in ${city}`)
})
const deleteTool = Tool.make("delete_city", {
  parameters: Schema.Struct({ city: Schema.String }),
  handler: () => Effect.succeed("deleted")
})
const toolkit = Toolkit.make(weatherTool, timeTool, deleteTool)

const loopModels = [
  ["openai", "gpt-4o-mini"],
  ["openai-responses", "openai-responses:gpt-4o-mini"],
  ["anthropic", "claude-haiku-4-5"],
  ["gemini", "gemini-2.5-flash"]
] as const

const clientFor = (server: MockServer.Handle) =>
  LlmClient.layerFromEnv().pipe(
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
      new Map([
        ["OPENAI_BASE_URL", server.openaiBaseUrl],
        ["OPENAI_API_KEY", "sk-test"],
        ["ANTHROPIC_BASE_URL", server.url],
        ["ANTHROPIC_API_KEY", "sk-ant-test"],
        ["GEMINI_BASE_URL", server.url],
        ["GEMINI_API_KEY", "gemini-test"]
      ])
    )))
  )

const loopSummary = (result: ToolLoop.Result) => ({
  stoppedBy: result.stoppedBy,
  steps: result.steps.map((step) =>
    step.toolResults.map((r) => ({ name: r.name, outcome: r.outcome, result: r.isError ? "error" : r.result }))
  ),
  roles: result.messages.map((m) => m.role),
  finishReason: result.result.finishReason
})

/** Every recorded request body valid for its API (OpenAI's and Gemini's OpenAPI documents). */
const validateRecorded = (server: MockServer.Handle) => {
  for (const request of server.requests) {
    const errors = request.path.startsWith("/v1/chat/completions")
      ? OpenAiSpec.validateChatRequest(request.body)
      : request.path.startsWith("/v1/responses")
      ? OpenAiSpec.validateResponsesRequest(request.body)
      : request.path.startsWith("/v1beta/")
      ? GeminiSpec.validateGenerateContent(request.body)
      : []
    expect(errors, `${request.path}: ${OpenAiSpec.describeErrors(errors)}`).toEqual([])
  }
}

describe("one toolkit, every provider: the tool loop", () => {
  it.live("a tool call, its result, then the answer — the same outcome everywhere, valid requests", () =>
    Effect.gen(function*() {
      const server = yield* MockServer.MockServer
      const summaries = yield* Effect.forEach(loopModels, ([provider, model]) =>
        Effect.gen(function*() {
          server.reset()
          const result = yield* ToolLoop.chat({ model, messages: "Weather in Paris?", toolkit, maxTokens: 200 })
          expect(result.result.provider).toBe(provider)
          // the mock called tools[0] with arguments synthesized from the schema it was sent
          expect(result.steps[0]!.toolResults[0]!.arguments).toMatchObject({ city: "Paris" })
          expect(result.text).toContain("clear")
          expect(result.usage.inputTokens).toBe(result.steps.reduce((n, s) => n + s.result.usage.inputTokens, 0))
          expect(result.usage.outputTokens).toBeGreaterThan(0)
          const first: any = server.requests[0]!.body
          if (provider === "openai") {
            expect(first.tools[0].function.strict).toBe(true)
            expect(first.tools[0].function.parameters.required).toEqual(["city", "unit"])
          } else if (provider === "openai-responses") {
            expect(first.tools[0]).toMatchObject({ name: "get_weather", strict: true })
          } else if (provider === "anthropic") {
            expect(first.tools[0].input_schema.required).toEqual(["city"])
          } else {
            expect(first.tools[0].functionDeclarations[0].parameters.properties.city).toMatchObject({
              type: "STRING",
              enum: ["Paris", "Rome"]
            })
          }
          validateRecorded(server)
          return loopSummary(result)
        })).pipe(Effect.provide(clientFor(server)))
      const [reference, ...others] = summaries
      expect(reference).toEqual({
        stoppedBy: "answer",
        steps: [
          [{ name: "get_weather", outcome: "success", result: { city: "Paris", sky: "clear", celsius: 21 } }],
          []
        ],
        roles: ["user", "assistant", "tool", "assistant"],
        finishReason: "stop"
      })
      for (const other of others) expect(other).toEqual(reference)
    }).pipe(Effect.provide(MockServer.layer())))

  it.live("parallel calls, invalid arguments repaired, an unknown tool, a denied call — the same everywhere", () =>
    Effect.gen(function*() {
      const server = yield* MockServer.MockServer
      const summaries = yield* Effect.forEach(loopModels, ([provider, model]) =>
        Effect.gen(function*() {
          server.reset()
          // two turns of calls (several per turn), then the default reply mentioning the results
          server.script([
            {
              toolCalls: [
                { name: "get_weather", arguments: { city: "Paris" } },
                { name: "get_time", arguments: { city: "Rome" } },
                { name: "get_weather", arguments: { city: 42 } },
                { name: "get_wether", arguments: { city: "Rome" } },
                { name: "delete_city", arguments: { city: "Rome" } }
              ],
              chunks: 3
            },
            { toolCalls: [{ name: "get_weather", arguments: { city: "Rome" } }] }
          ])
          const result = yield* ToolLoop.chat({
            model,
            messages: "Weather and time?",
            toolkit,
            concurrency: 2,
            approval: Approval.rules([{ match: "delete_*", decision: "deny", reason: "read-only" }, {
              match: "*",
              decision: "allow"
            }])
          })
          expect(result.text).toContain("The tool returned:")
          // what the providers' wire formats carried back
          const followUp: any = server.requests[1]!.body
          const wire = JSON.stringify(followUp)
          expect(wire).toContain("denied: read-only")
          expect(wire).toContain("unknown tool")
          if (provider === "anthropic") {
            const results = followUp.messages.at(-1).content
            expect(results.map((b: any) => b.is_error === true)).toEqual([false, false, true, true, true])
          }
          if (provider === "gemini") {
            const parts = followUp.contents.at(-1).parts
            expect(parts.map((p: any) => "error" in p.functionResponse.response)).toEqual([
              false,
              false,
              true,
              true,
              true
            ])
          }
          validateRecorded(server)
          return loopSummary(result)
        })).pipe(Effect.provide(clientFor(server)))
      const [reference, ...others] = summaries
      expect(reference?.steps).toEqual([
        [
          { name: "get_weather", outcome: "success", result: { city: "Paris", sky: "clear", celsius: 21 } },
          { name: "get_time", outcome: "success", result: "noon in Rome" },
          { name: "get_weather", outcome: "invalid_arguments", result: "error" },
          { name: "get_wether", outcome: "unknown_tool", result: "error" },
          { name: "delete_city", outcome: "denied", result: "error" }
        ],
        [{ name: "get_weather", outcome: "success", result: { city: "Rome", sky: "clear", celsius: 21 } }],
        []
      ])
      for (const other of others) expect(other).toEqual(reference)
    }).pipe(Effect.provide(MockServer.layer())))

  it.live("the streaming loop: the same steps and results, ending with the final Finish", () =>
    Effect.gen(function*() {
      const server = yield* MockServer.MockServer
      const runs = yield* Effect.forEach(loopModels, ([, model]) =>
        Effect.gen(function*() {
          server.reset()
          server.script([{
            toolCalls: [
              { name: "get_weather", arguments: { city: "Paris" } },
              { name: "get_time", arguments: { city: "Paris" } }
            ],
            chunks: 3
          }])
          const events = Chunk.toArray(
            yield* Stream.runCollect(ToolLoop.chatStream({
              model,
              messages: "Weather and time in Paris?",
              toolkit
            }))
          )
          const last = events.at(-1)
          expect(last?._tag).toBe("Finish")
          // Gemini wraps a string result as { result }: the text differs in shape, not in content
          expect(events.map((e) => (e._tag === "TextDelta" ? e.text : "")).join("")).toContain("noon in Paris")
          validateRecorded(server)
          return {
            outline: events.filter((e) => ["StepStart", "ToolCallEnd", "Finish", "ToolResult"].includes(e._tag)).map(
              (e) =>
                e._tag === "ToolResult"
                  ? `ToolResult:${e.name}:${e.outcome}`
                  : e._tag === "ToolCallEnd"
                  ? `ToolCallEnd:${e.name}`
                  : e._tag === "Finish"
                  ? `Finish:${e.finishReason}`
                  : e._tag
            )
          }
        })).pipe(Effect.provide(clientFor(server)))
      const [reference, ...others] = runs
      expect(reference?.outline).toEqual([
        "StepStart",
        "ToolCallEnd:get_weather",
        "ToolCallEnd:get_time",
        "Finish:tool_calls",
        "ToolResult:get_weather:success",
        "ToolResult:get_time:success",
        "StepStart",
        "Finish:stop"
      ])
      for (const other of others) expect(other).toEqual(reference)
    }).pipe(Effect.provide(MockServer.layer())))
})
