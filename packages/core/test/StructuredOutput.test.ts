// StructuredOutput against FakeProvider: the mode per provider, what each mode sends, the
// decode (strict nulls, wrapped roots, fences and prose), the repair loop and its error, and
// streamObject's partial values.
import { describe, expect, it } from "@effect/vitest"
import { type ChatRequest, LlmClient, LlmError, Provider, StreamEvent, StructuredOutput } from "@llm-fiber/core"
import { FakeProvider } from "@llm-fiber/testing"
import { Chunk, Effect, Either, Exit, Schema, Stream } from "effect"
import { extendsValue } from "../src/internal/partialJson.js"

class Recipe extends Schema.Class<Recipe>("Recipe")({
  title: Schema.String,
  minutes: Schema.Number.pipe(Schema.positive()),
  ingredients: Schema.Array(Schema.Struct({ name: Schema.String, grams: Schema.optional(Schema.Number) })),
  vegan: Schema.optional(Schema.Boolean)
}) {}

const recipeJson = {
  title: "Pancakes",
  minutes: 20,
  ingredients: [{ name: "flour", grams: 200 }, { name: "milk" }],
  vegan: false
}

const ask = { model: "gpt-4o-mini", messages: "A quick pancake recipe", schema: Recipe }

const fake = (options: FakeProvider.Options) => FakeProvider.layerClient(options)

const generate = <A, I>(options: StructuredOutput.Options<A, I>) =>
  Effect.flatMap(LlmClient.LlmClient, (client) => StructuredOutput.generateObject(client, options))

const lastRequest = Effect.map(FakeProvider.calls, (calls) => calls.at(-1)!.request)

const textOf = (message: ChatRequest.ChatRequest["messages"][number]): string =>
  message.content.map((p) => ("text" in p ? p.text : "")).join("")

describe("chooseMode", () => {
  const provider = (api: string, capabilities: Partial<Provider.Capabilities> = {}) => ({
    name: api,
    api,
    capabilities: { ...Provider.allCapabilities, ...capabilities }
  })
  const model = (jsonSchema: boolean, tools = true) => ({
    jsonSchema,
    tools,
    vision: false,
    promptCaching: false,
    reasoning: false
  })

  it.each(
    [
      ["OpenAI Chat Completions", provider("openai-chat"), undefined, "native"],
      ["OpenAI Responses", provider("openai-responses"), model(true), "native"],
      ["Gemini", provider("gemini"), model(true), "native"],
      [
        "Anthropic (even for models with native JSON output)",
        provider("anthropic", { jsonSchema: false }),
        model(true),
        "tool"
      ],
      ["Anthropic with an unknown model", provider("anthropic", { jsonSchema: false }), undefined, "tool"],
      ["an OpenAI model without Structured Outputs", provider("openai-chat"), model(false), "tool"],
      [
        "a compatible server without JSON schema, unknown model",
        provider("openai-chat", { jsonSchema: false }),
        undefined,
        "prompt"
      ],
      ["a server with neither", provider("openai-chat", { jsonSchema: false, tools: false }), model(false), "prompt"]
    ] as const
  )("auto on %s → %s", (_name, p, m, expected) => {
    expect(StructuredOutput.chooseMode("auto", p, m)).toStrictEqual(Either.right(expected))
  })

  it("a forced mode the provider cannot do is an InvalidRequestError", () => {
    const native = StructuredOutput.chooseMode("native", provider("anthropic", { jsonSchema: false }))
    expect(Either.isLeft(native) && native.left.message).toContain("has no native JSON-schema output")
    const tool = StructuredOutput.chooseMode("tool", provider("openai-chat", { tools: false }))
    expect(Either.isLeft(tool) && tool.left._tag).toBe("InvalidRequestError")
    expect(StructuredOutput.chooseMode("prompt", provider("anthropic"))).toStrictEqual(Either.right("prompt"))
    expect(StructuredOutput.chooseMode("tool", provider("gemini"))).toStrictEqual(Either.right("tool"))
  })
})

describe("generateObject: native mode", () => {
  it.effect("OpenAI: json_schema, strict, the strict-mode schema; nulls for optional fields decode as absent", () =>
    Effect.gen(function*() {
      const answer = {
        ...recipeJson,
        ingredients: [{ name: "flour", grams: 200 }, { name: "milk", grams: null }],
        vegan: null
      }
      const { attempts, mode, result, text, value } = yield* generate(ask)
      expect(value).toStrictEqual(
        new Recipe({ title: "Pancakes", minutes: 20, ingredients: [{ name: "flour", grams: 200 }, { name: "milk" }] })
      )
      expect(value).toBeInstanceOf(Recipe)
      expect([attempts, mode]).toStrictEqual([1, "native"])
      expect(text).toBe(JSON.stringify(answer))
      expect(result.text).toBe(text)
      const request = yield* lastRequest
      expect(request.tools).toBeUndefined()
      expect(request.responseFormat).toStrictEqual({
        type: "json_schema",
        name: "Recipe",
        strict: true,
        schema: {
          type: "object",
          required: ["title", "minutes", "ingredients", "vegan"],
          properties: {
            title: { type: "string" },
            minutes: { type: "number", exclusiveMinimum: 0, title: "positive", description: "a positive number" },
            ingredients: {
              type: "array",
              items: {
                type: "object",
                required: ["name", "grams"],
                properties: { name: { type: "string" }, grams: { type: ["number", "null"] } },
                additionalProperties: false
              }
            },
            vegan: { type: ["boolean", "null"] }
          },
          additionalProperties: false,
          $defs: expect.any(Object)
        }
      })
    }).pipe(
      Effect.provide(fake({
        api: "openai-chat",
        script: [
          FakeProvider.text(JSON.stringify({
            ...recipeJson,
            ingredients: [{ name: "flour", grams: 200 }, { name: "milk", grams: null }],
            vegan: null
          }))
        ]
      }))
    ))

  it.effect("another native provider gets the schema as generated (no strict transform), with the description", () =>
    Effect.gen(function*() {
      const { value } = yield* generate({ ...ask, name: "recipe_v2", description: "A recipe" })
      expect(value.ingredients).toHaveLength(2)
      const request = yield* lastRequest
      const format = request.responseFormat
      expect(format?.type === "json_schema" && [format.name, format.description, format.strict]).toStrictEqual([
        "recipe_v2",
        "A recipe",
        undefined
      ])
      expect(format?.type === "json_schema" && format.schema.required).toStrictEqual([
        "title",
        "minutes",
        "ingredients"
      ])
    }).pipe(Effect.provide(fake({ api: "gemini", script: [FakeProvider.text(JSON.stringify(recipeJson))] }))))

  it.effect("a root that is not an object is sent as { value } and unwrapped", () =>
    Effect.gen(function*() {
      const { value } = yield* generate({
        model: "gpt-4o-mini",
        messages: "Three colors",
        schema: Schema.Array(Schema.String)
      })
      expect(value).toStrictEqual(["red", "green", "blue"])
      const request = yield* lastRequest
      expect(request.responseFormat).toStrictEqual({
        type: "json_schema",
        name: "response",
        strict: true,
        schema: {
          type: "object",
          properties: { value: { type: "array", items: { type: "string" } } },
          required: ["value"],
          additionalProperties: false
        }
      })
    }).pipe(Effect.provide(fake({
      api: "openai-chat",
      script: [FakeProvider.text("{\"value\": [\"red\", \"green\", \"blue\"]}")]
    }))))
})

describe("generateObject: repairs", () => {
  it.effect("an answer that does not decode is shown to the model with the decode error; the next one decodes", () =>
    Effect.gen(function*() {
      const { attempts, result, value } = yield* generate(ask)
      expect(value.minutes).toBe(20)
      expect(attempts).toBe(2)
      const calls = yield* FakeProvider.calls
      expect(calls).toHaveLength(2)
      const second = calls[1]!.request.messages
      expect(second.map((m) => m.role)).toStrictEqual(["user", "assistant", "user"])
      expect(textOf(second[1]!)).toBe("{\"title\": \"Pancakes\", \"minutes\": -5, \"ingredients\": []}")
      expect(textOf(second[2]!)).toContain("Your previous answer could not be used:")
      expect(textOf(second[2]!)).toContain("[\"minutes\"]\n         └─ positive\n")
      expect(textOf(second[2]!)).toContain(
        "└─ Expected a positive number, actual -5\nAnswer again with only the corrected JSON value."
      )
      // usage and cost of both answers
      expect(result.usage).toStrictEqual({ inputTokens: 110, outputTokens: 25, totalTokens: 135 })
      expect(result.cost?.totalUsd).toBeCloseTo((110 * 0.15 + 25 * 0.6) / 1e6, 12)
    }).pipe(Effect.provide(fake({
      script: [
        FakeProvider.text("{\"title\": \"Pancakes\", \"minutes\": -5, \"ingredients\": []}", {
          usage: { inputTokens: 50, outputTokens: 10 }
        }),
        FakeProvider.text(JSON.stringify(recipeJson), { usage: { inputTokens: 60, outputTokens: 15 } })
      ]
    }))))

  it.effect("text that is not JSON is repaired too", () =>
    Effect.gen(function*() {
      const { attempts } = yield* generate(ask)
      expect(attempts).toBe(2)
      const calls = yield* FakeProvider.calls
      expect(textOf(calls[1]!.request.messages[2]!)).toContain(
        "the output is not valid JSON: expected a property name in double quotes, got \"t\" at character 1"
      )
    }).pipe(Effect.provide(fake({
      script: [FakeProvider.text("{title: 'Pancakes'}"), FakeProvider.text(JSON.stringify(recipeJson))]
    }))))

  it.effect("after the last repair: StructuredOutputError with the decode issue and the raw text", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(generate(ask))
      const calls = yield* FakeProvider.calls
      expect(calls).toHaveLength(2)
      expect(exit).toStrictEqual(Exit.fail(expect.any(LlmError.StructuredOutputError)))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      if (!(error instanceof LlmError.StructuredOutputError)) throw new Error("expected a StructuredOutputError")
      expect(error.text).toBe("{\"title\": \"Pancakes\"}")
      expect(error.attempts).toBe(2)
      expect(error.mode).toBe("native")
      expect(error.provider).toBe("openai")
      expect(error.retryable).toBe(false)
      expect(error.issue).toBe([
        "(Recipe (Encoded side) <-> Recipe)",
        "└─ Encoded side transformation failure",
        "   └─ Recipe (Encoded side)",
        "      ├─ [\"minutes\"]",
        "      │  └─ is missing",
        "      └─ [\"ingredients\"]",
        "         └─ is missing"
      ].join("\n"))
      expect(error.message).toContain("openai: the output does not match the schema (native mode, 2 attempts):")
      expect(error.message).toContain("is missing")
    }).pipe(Effect.provide(fake({ default: FakeProvider.text("{\"title\": \"Pancakes\"}") }))))

  it.effect("maxRepairs: 0 asks once", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(generate({ ...ask, maxRepairs: 0 }))
      expect(error._tag).toBe("StructuredOutputError")
      expect(yield* FakeProvider.calls).toHaveLength(1)
    }).pipe(Effect.provide(fake({ default: FakeProvider.text("not json") }))))

  it.effect("an answer cut off by maxTokens fails at once (a repair would be cut off too)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(generate({ ...ask, maxTokens: 5 }))
      expect(error._tag === "StructuredOutputError" && error.issue).toContain("finish reason \"length\"")
      expect(yield* FakeProvider.calls).toHaveLength(1)
    }).pipe(Effect.provide(fake({ default: FakeProvider.text("{\"title\": \"Pan", { finishReason: "length" }) }))))

  it.effect("bad options fail before any call", () =>
    Effect.gen(function*() {
      const errors = yield* Effect.all([
        Effect.flip(generate({ ...ask, maxRepairs: -1 })),
        Effect.flip(generate({ ...ask, name: "not a name" })),
        Effect.flip(generate({ ...ask, model: "no-such-model" })),
        Effect.flip(generate({ ...ask, messages: [] }))
      ])
      expect(errors.map((e) => [e._tag, "param" in e ? e.param : undefined])).toStrictEqual([
        ["InvalidRequestError", "maxRepairs"],
        ["InvalidRequestError", "name"],
        ["UnknownModelError", undefined],
        ["InvalidRequestError", "messages"]
      ])
      expect(yield* FakeProvider.calls).toHaveLength(0)
    }).pipe(Effect.provide(fake({}))))
})

describe("generateObject: tool mode (Anthropic)", () => {
  const anthropic = (script: ReadonlyArray<FakeProvider.ScriptItem>) =>
    fake({ name: "anthropic", api: "anthropic", capabilities: { jsonSchema: false }, script })
  const claude = { ...ask, model: "claude-haiku-4-5" }

  it.effect("one tool named after the schema, forced; the value is the call's input", () =>
    Effect.gen(function*() {
      const { mode, text, value } = yield* generate(claude)
      expect(mode).toBe("tool")
      expect(value.title).toBe("Pancakes")
      expect(text).toBe(JSON.stringify(recipeJson))
      const request = yield* lastRequest
      expect(request.responseFormat).toBeUndefined()
      expect(request.toolChoice).toStrictEqual({ type: "tool", name: "Recipe" })
      expect(request.tools?.map((t) => [t.name, t.description, t.parameters.required])).toStrictEqual([
        ["Recipe", "Give your answer as this tool's input (Recipe).", ["title", "minutes", "ingredients"]]
      ])
    }).pipe(
      Effect.provide(anthropic([FakeProvider.toolCalls([{ name: "Recipe", arguments: recipeJson, id: "toolu_1" }])]))
    ))

  it.effect("a bad input is answered with an error tool result, and the tool is forced again", () =>
    Effect.gen(function*() {
      const { attempts, value } = yield* generate(claude)
      expect([attempts, value.minutes]).toStrictEqual([2, 20])
      const second = (yield* FakeProvider.calls)[1]!.request
      expect(second.messages.map((m) => m.role)).toStrictEqual(["user", "assistant", "tool"])
      const [result] = second.messages[2]!.content
      expect(result).toMatchObject({ type: "tool-result", toolCallId: "toolu_1", name: "Recipe", isError: true })
      expect(result?.type === "tool-result" && String(result.result)).toContain("Expected number, actual \"20\"")
      expect(second.toolChoice).toStrictEqual({ type: "tool", name: "Recipe" })
    }).pipe(Effect.provide(anthropic([
      FakeProvider.toolCalls([{ name: "Recipe", arguments: { ...recipeJson, minutes: "20" }, id: "toolu_1" }]),
      FakeProvider.toolCalls([{ name: "Recipe", arguments: recipeJson, id: "toolu_2" }])
    ]))))

  it.effect("JSON written as text instead of a call is still read", () =>
    Effect.gen(function*() {
      const { value } = yield* generate(claude)
      expect(value.title).toBe("Pancakes")
    }).pipe(Effect.provide(anthropic([FakeProvider.text(`Here it is:\n${JSON.stringify(recipeJson)}`)]))))

  it.effect("no call and no JSON: repaired with a request to call the tool", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(generate({ ...claude, maxRepairs: 1 }))
      expect(error._tag === "StructuredOutputError" && error.issue).toBe(
        "the model did not call the tool \"Recipe\" and its text is not JSON"
      )
      const second = (yield* FakeProvider.calls)[1]!.request.messages
      expect(textOf(second.at(-1)!)).toContain("Call the tool Recipe with your answer as its input.")
    }).pipe(Effect.provide(anthropic([FakeProvider.text("I'd rather chat."), FakeProvider.text("Still chatting.")]))))
})

describe("generateObject: prompt mode", () => {
  const local = (script: ReadonlyArray<FakeProvider.ScriptItem>) =>
    fake({ name: "ollama", api: "openai-chat", capabilities: { jsonSchema: false }, script })

  it.effect("a system instruction with the JSON Schema; the JSON is found in fences and prose", () =>
    Effect.gen(function*() {
      const { mode, value } = yield* generate({
        ...ask,
        model: "ollama:llama3.2",
        messages: [["system", "You are a chef."], ["user", "A quick pancake recipe"]]
      })
      expect(mode).toBe("prompt")
      expect(value.ingredients.map((i) => i.name)).toStrictEqual(["flour", "milk"])
      const request = yield* lastRequest
      expect(request.responseFormat).toBeUndefined()
      expect(request.tools).toBeUndefined()
      expect(request.messages.map((m) => m.role)).toStrictEqual(["system", "system", "user"])
      const instruction = textOf(request.messages[1]!)
      expect(instruction).toContain("Answer with a single JSON value that matches the JSON Schema below.")
      expect(instruction).toContain("Write only the JSON: no explanation before or after it, no Markdown code fence.")
      expect(instruction).toContain(JSON.stringify(StructuredOutput.jsonSchema(Recipe)))
    }).pipe(Effect.provide(local([
      FakeProvider.text(`Sure! Here is a recipe:\n\n\`\`\`json\n${JSON.stringify(recipeJson, null, 2)}\n\`\`\`\nEnjoy!`)
    ]))))

  it.effect("a scalar schema works without wrapping", () =>
    Effect.gen(function*() {
      const { value } = yield* generate({ model: "ollama:llama3.2", messages: "How many?", schema: Schema.Int })
      expect(value).toBe(42)
    }).pipe(Effect.provide(local([FakeProvider.text(" 42\n")]))))
})

describe("streamObject", () => {
  const collect = <A, I>(options: StructuredOutput.Options<A, I>) =>
    Effect.flatMap(
      LlmClient.LlmClient,
      (client) => Effect.map(Stream.runCollect(StructuredOutput.streamObject(client, options)), Chunk.toArray)
    )

  /** Partial values must each differ from and extend the previous one. */
  const checkPartials = (values: ReadonlyArray<unknown>) => {
    for (let i = 1; i < values.length; i++) {
      expect(extendsValue(values[i - 1], values[i])).toBe(true)
      expect(values[i]).not.toStrictEqual(values[i - 1])
    }
  }

  it.effect("partial values from the text as it arrives, in order, then Done with the decoded value", () =>
    Effect.gen(function*() {
      const parts = yield* collect(ask)
      const partials = parts.filter((p) => p._tag === "Partial").map((p) => p.value)
      expect(partials).toStrictEqual([
        {},
        { title: "Pan" },
        { title: "Pancakes" },
        { title: "Pancakes", minutes: 20, ingredients: [] },
        { title: "Pancakes", minutes: 20, ingredients: [{ name: "fl" }] },
        { title: "Pancakes", minutes: 20, ingredients: [{ name: "flour" }] },
        { title: "Pancakes", minutes: 20, ingredients: [{ name: "flour", grams: 200 }] }
      ])
      checkPartials(partials)
      const done = parts.at(-1)
      expect(done?._tag).toBe("Done")
      if (done?._tag !== "Done") return
      expect(done.value).toStrictEqual(
        new Recipe({ title: "Pancakes", minutes: 20, ingredients: [{ name: "flour", grams: 200 }] })
      )
      expect([done.attempts, done.mode, done.result.finishReason]).toStrictEqual([1, "native", "stop"])
      expect(done.result.usage.outputTokens).toBeGreaterThan(0)
      expect(parts.filter((p) => p._tag === "Done")).toHaveLength(1)
    }).pipe(Effect.provide(fake({
      script: [
        FakeProvider.stream([
          "{\"ti",
          "tle\": \"Pan",
          "cakes\", \"minutes\": 2",
          "0, \"ingredients\": [",
          "{\"name\": \"fl",
          "our\"",
          ", \"grams\": 200",
          "}]}"
        ])
      ]
    }))))

  it.effect("tool mode: partial values from the tool call's argument deltas", () =>
    Effect.gen(function*() {
      const parts = yield* collect({ ...ask, model: "claude-haiku-4-5" })
      const partials = parts.filter((p) => p._tag === "Partial").map((p) => p.value)
      expect(partials).toStrictEqual([
        { title: "Pancakes" },
        { title: "Pancakes", minutes: 20, ingredients: [] }
      ])
      checkPartials(partials)
      const done = parts.at(-1)
      expect(done?._tag === "Done" && [done.mode, done.value.title, done.text]).toStrictEqual([
        "tool",
        "Pancakes",
        "{\"title\": \"Pancakes\", \"minutes\": 20, \"ingredients\": []}"
      ])
    }).pipe(Effect.provide(fake({
      name: "anthropic",
      api: "anthropic",
      capabilities: { jsonSchema: false },
      script: [
        FakeProvider.stream([
          StreamEvent.textDelta("Let me write that down."),
          StreamEvent.toolCallStart("toolu_1", "Recipe"),
          StreamEvent.toolCallDelta("toolu_1", ""),
          StreamEvent.toolCallDelta("toolu_1", "{\"title\": \"Pancakes\""),
          StreamEvent.toolCallDelta("toolu_1", ", \"minutes\": 20, \"ingredients\": [ "),
          StreamEvent.toolCallDelta("toolu_1", "]}"),
          StreamEvent.toolCallEnd(
            "toolu_1",
            "Recipe",
            "{\"title\": \"Pancakes\", \"minutes\": 20, \"ingredients\": []}"
          )
        ])
      ]
    }))))

  it.effect("a repair streams again: its partial values carry the next attempt number", () =>
    Effect.gen(function*() {
      const parts = yield* collect(ask)
      expect(parts.map((p) => p._tag === "Partial" ? [p.attempt, p.value] : ["Done", p.attempts])).toStrictEqual([
        [1, {}],
        [1, { title: "Pancakes" }],
        [2, {}],
        [2, { title: "Pancakes", minutes: 20, ingredients: [] }],
        ["Done", 2]
      ])
    }).pipe(Effect.provide(fake({
      script: [
        FakeProvider.stream(["{", "\"title\": \"Pancakes\"}"]),
        FakeProvider.stream(["{", "\"title\": \"Pancakes\", \"minutes\": 20, \"ingredients\": []}"])
      ]
    }))))

  it.effect("a failing stream ends with its LlmError; exhausted repairs with StructuredOutputError", () =>
    Effect.gen(function*() {
      const failed = yield* Effect.flip(collect(ask))
      expect(failed._tag).toBe("ServerError")
      const invalid = yield* Effect.flip(collect({ ...ask, maxRepairs: 0 }))
      expect(invalid._tag === "StructuredOutputError" && invalid.text).toBe("[1, 2]")
    }).pipe(Effect.provide(fake({
      script: [
        FakeProvider.failAfter(["{\"title\": "], new LlmError.ServerError({ message: "boom", status: 500 })),
        FakeProvider.stream(["[1, ", "2]"])
      ]
    }))))
})

describe("accessors", () => {
  it.effect("generate and stream use the LlmClient in context", () =>
    Effect.gen(function*() {
      const { value } = yield* StructuredOutput.generate(ask)
      expect(value.title).toBe("Pancakes")
      const parts = yield* Stream.runCollect(StructuredOutput.stream(ask))
      expect(Chunk.last(parts).pipe((last) => last._tag === "Some" && last.value._tag)).toBe("Done")
    }).pipe(Effect.provide(fake({ default: FakeProvider.text(JSON.stringify(recipeJson)) }))))
})
