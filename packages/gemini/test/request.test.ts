import { describe, expect, it } from "@effect/vitest"
import { ChatRequest, Message } from "@llm-fiber/core"
import * as Either from "effect/Either"
import { buildGenerateContentBody, type BuildOptions, toGeminiSchema } from "../src/internal/request.js"
import { describeErrors, validateGenerateContent } from "./helpers/openapi.js"

const openapi: BuildOptions = { providerName: "gemini", schemaMode: "openapi" }
const jsonSchema: BuildOptions = { providerName: "gemini", schemaMode: "jsonSchema" }

const request = (input: Omit<ChatRequest.Input, "model">) =>
  Either.getOrThrow(ChatRequest.make({ model: "gemini-2.5-flash", ...input }))

const build = (input: Omit<ChatRequest.Input, "model">, options: BuildOptions = openapi): any =>
  Either.getOrThrow(buildGenerateContentBody(request(input), options))

const expectValid = (body: unknown) => {
  const errors = validateGenerateContent(body)
  expect(errors, describeErrors(errors)).toEqual([])
}

const weatherTool = {
  name: "weather",
  description: "Current weather in a city",
  parameters: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      location: { type: "string", description: "City name", minLength: 1 },
      unit: { type: ["string", "null"], enum: ["c", "f", null] },
      days: { type: "integer", minimum: 1, maximum: 7, exclusiveMaximum: 8 }
    },
    required: ["location"],
    additionalProperties: false
  }
}

describe("request body", () => {
  it("plain prompt", () => {
    const body = build({ messages: "Say hi" })
    expect(body).toEqual({ contents: [{ role: "user", parts: [{ text: "Say hi" }] }] })
    expectValid(body)
  })

  it("system instruction, roles, merged turns and generation config", () => {
    const body = build({
      messages: [
        Message.system("You are terse."),
        ["user", "Capital of France?"],
        ["assistant", "Paris."],
        ["user", "And of Spain?"],
        ["user", "And Italy?"],
        Message.system("Answer in English.")
      ],
      temperature: 0.2,
      maxTokens: 100,
      topP: 0.9,
      stop: ["END"],
      seed: 7
    })
    expect(body).toEqual({
      contents: [
        { role: "user", parts: [{ text: "Capital of France?" }] },
        { role: "model", parts: [{ text: "Paris." }] },
        { role: "user", parts: [{ text: "And of Spain?" }, { text: "And Italy?" }] }
      ],
      systemInstruction: { parts: [{ text: "You are terse." }, { text: "Answer in English." }] },
      generationConfig: { temperature: 0.2, maxOutputTokens: 100, topP: 0.9, stopSequences: ["END"], seed: 7 }
    })
    expectValid(body)
  })

  it("images: base64, data: URL, https URL", () => {
    const body = build({
      messages: [Message.user([
        Message.text("What is in these?"),
        Message.imageBase64("iVBORw0KGgo=", "image/png"),
        Message.imageUrl("data:image/jpeg;base64,/9j/4AAQ"),
        { type: "image", url: "https://generativelanguage.googleapis.com/v1beta/files/abc", mediaType: "image/webp" },
        Message.imageUrl("https://example.com/cat.png")
      ])]
    })
    expect(body.contents[0].parts).toEqual([
      { text: "What is in these?" },
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      { inlineData: { mimeType: "image/jpeg", data: "/9j/4AAQ" } },
      { fileData: { fileUri: "https://generativelanguage.googleapis.com/v1beta/files/abc", mimeType: "image/webp" } },
      { fileData: { fileUri: "https://example.com/cat.png" } }
    ])
    expectValid(body)
  })

  it("a non-base64 data: URL is encoded", () => {
    const body = build({ messages: [Message.user([Message.imageUrl("data:image/svg+xml,%3Csvg%2F%3E")])] })
    expect(body.contents[0].parts[0]).toEqual({
      inlineData: { mimeType: "image/svg+xml", data: Buffer.from("<svg/>").toString("base64") }
    })
    expectValid(body)
  })

  it("tools, tool choice and a full tool round trip", () => {
    const body = build({
      messages: [
        Message.user("Weather in SF and Paris?"),
        Message.assistant([
          { type: "reasoning", text: "thinking…", signature: "c2lnbmF0dXJl" },
          { type: "tool-call", id: "r1_call_0", name: "weather", arguments: { location: "San Francisco" } },
          { type: "tool-call", id: "r1_call_1", name: "weather", arguments: "{\"location\":\"Paris\"}" }
        ]),
        Message.tool("r1_call_0", { tempC: 18 }),
        Message.tool("r1_call_1", "21C"),
        Message.tool("x", "boom", { name: "weather", isError: true })
      ],
      tools: [weatherTool],
      toolChoice: { type: "tool", name: "weather" }
    })
    expect(body.contents).toEqual([
      { role: "user", parts: [{ text: "Weather in SF and Paris?" }] },
      {
        role: "model",
        parts: [
          { functionCall: { name: "weather", args: { location: "San Francisco" } }, thoughtSignature: "c2lnbmF0dXJl" },
          { functionCall: { name: "weather", args: { location: "Paris" } } }
        ]
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "weather", response: { tempC: 18 } } },
          { functionResponse: { name: "weather", response: { result: "21C" } } },
          { functionResponse: { name: "weather", response: { error: "boom" } } }
        ]
      }
    ])
    expect(body.tools).toEqual([{
      functionDeclarations: [{
        name: "weather",
        description: "Current weather in a city",
        parameters: {
          type: "OBJECT",
          properties: {
            location: { type: "STRING", description: "City name", minLength: "1" },
            unit: { type: "STRING", nullable: true },
            days: { type: "INTEGER", minimum: 1, maximum: 7 }
          },
          required: ["location"]
        }
      }]
    }])
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["weather"] } })
    expectValid(body)
  })

  it("tool choice modes", () => {
    const modes = { auto: "AUTO", none: "NONE", required: "ANY" } as const
    for (const [choice, mode] of Object.entries(modes)) {
      const body = build({ messages: "hi", tools: [weatherTool], toolChoice: choice as "auto" })
      expect(body.toolConfig).toEqual({ functionCallingConfig: { mode } })
      expectValid(body)
    }
  })

  it("a tool without parameters sends no parameters; no description → empty", () => {
    const body = build({
      messages: "hi",
      tools: [{ name: "now", parameters: { type: "object", properties: {}, additionalProperties: false } }]
    })
    expect(body.tools).toEqual([{ functionDeclarations: [{ name: "now", description: "" }] }])
    expectValid(body)
  })

  it("a tool result without a name and without a matching call is an InvalidRequestError", () => {
    const result = buildGenerateContentBody(
      request({ messages: [Message.user("hi"), Message.tool("unknown-id", "x")] }),
      openapi
    )
    expect(Either.isLeft(result)).toBe(true)
    const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))!
    expect(error._tag).toBe("InvalidRequestError")
    expect(error.message).toContain("unknown-id")
  })

  it("tool-call arguments that are not a JSON object are an InvalidRequestError", () => {
    const result = buildGenerateContentBody(
      request({
        messages: [
          Message.user("hi"),
          Message.assistant([{ type: "tool-call", id: "a", name: "f", arguments: "[1,2]" }])
        ]
      }),
      openapi
    )
    expect(Either.isLeft(result)).toBe(true)
  })

  it("a conversation of only system messages is an InvalidRequestError", () => {
    const result = buildGenerateContentBody(request({ messages: [Message.system("only")] }), openapi)
    expect(Either.isLeft(result)).toBe(true)
  })

  it("json and json_schema response formats (openapi mode → responseSchema)", () => {
    const json = build({ messages: "hi", responseFormat: { type: "json" } })
    expect(json.generationConfig).toEqual({ responseMimeType: "application/json" })
    expectValid(json)
    const schema = build({
      messages: "hi",
      responseFormat: {
        type: "json_schema",
        name: "person",
        schema: {
          type: "object",
          $defs: { Tag: { type: "string", enum: ["a", "b"] } },
          properties: {
            name: { type: "string" },
            age: { anyOf: [{ type: "integer" }, { type: "null" }] },
            tags: { type: "array", items: { $ref: "#/$defs/Tag" }, minItems: 1, uniqueItems: true },
            kind: { const: "person" }
          },
          required: ["name", "age", "tags", "missing"],
          additionalProperties: false
        }
      }
    })
    expect(schema.generationConfig).toEqual({
      responseMimeType: "application/json",
      responseSchema: {
        type: "OBJECT",
        properties: {
          name: { type: "STRING" },
          age: { type: "INTEGER", nullable: true },
          tags: { type: "ARRAY", minItems: "1", items: { type: "STRING", enum: ["a", "b"] } },
          kind: { type: "STRING", enum: ["person"] }
        },
        required: ["name", "age", "tags"]
      }
    })
    expectValid(schema)
  })

  it("jsonSchema mode sends JSON Schemas unchanged", () => {
    const body = build({
      messages: "hi",
      tools: [weatherTool],
      responseFormat: { type: "json_schema", name: "w", schema: weatherTool.parameters }
    }, jsonSchema)
    expect(body.tools[0].functionDeclarations[0].parametersJsonSchema).toEqual(weatherTool.parameters)
    expect(body.generationConfig.responseJsonSchema).toEqual(weatherTool.parameters)
    expectValid(body)
  })

  it("providerOptions.gemini: generationConfig fields, top-level fields, removal", () => {
    const body = build({
      messages: "hi",
      temperature: 0.5,
      maxTokens: 10,
      providerOptions: {
        gemini: {
          thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
          topK: 40,
          generationConfig: { candidateCount: 1, temperature: undefined },
          safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" }],
          cachedContent: "cachedContents/abc123"
        },
        openai: { ignored: true }
      }
    })
    expect(body).toEqual({
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
      generationConfig: {
        maxOutputTokens: 10,
        thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
        topK: 40,
        candidateCount: 1
      },
      safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" }],
      cachedContent: "cachedContents/abc123"
    })
    expectValid(body)
  })

  it("assistant text answers carry their thought signature back", () => {
    const body = build({
      messages: [
        Message.user("hi"),
        Message.assistant([{ type: "reasoning", text: "", signature: "c2ln" }, { type: "text", text: "Hello" }]),
        Message.user("again")
      ]
    })
    expect(body.contents[1]).toEqual({ role: "model", parts: [{ text: "Hello", thoughtSignature: "c2ln" }] })
    expectValid(body)
  })
})

describe("strict spec validation", () => {
  it("rejects a misspelled field", () => {
    const body = build({ messages: "hi", temperature: 0.1 })
    expectValid(body)
    expect(validateGenerateContent({ ...body, generationConfig: { temprature: 0.1 } })).not.toEqual([])
    expect(validateGenerateContent({ ...body, system_instruction: { parts: [{ text: "x" }] } })).not.toEqual([])
    expect(validateGenerateContent({ contents: [{ role: "user", parts: [{ txt: "hi" }] }] })).not.toEqual([])
    expect(validateGenerateContent({
      contents: [{ role: "user", parts: [{ functionResponse: { name: "f" } }] }]
    })).not.toEqual([])
    expect(validateGenerateContent({
      contents: [{ role: "user", parts: [{ text: "x" }] }],
      tools: [{ functionDeclarations: [{ name: "f", description: "", parameters: { type: "object" } }] }]
    })).not.toEqual([])
    expect(validateGenerateContent({})).not.toEqual([])
  })
})

describe("toGeminiSchema", () => {
  it("handles unions, recursion and non-string enums", () => {
    expect(toGeminiSchema({
      type: "object",
      definitions: { Node: { type: "object", properties: { next: { $ref: "#/definitions/Node" } } } },
      properties: {
        v: { type: ["string", "number"] },
        n: { type: "number", enum: [1, 2] },
        o: { oneOf: [{ type: "string" }, { type: "integer" }] },
        node: { $ref: "#/definitions/Node" },
        all: { allOf: [{ type: "boolean" }], description: "flag" }
      }
    })).toEqual({
      type: "OBJECT",
      properties: {
        v: { anyOf: [{ type: "STRING" }, { type: "NUMBER" }] },
        n: { type: "NUMBER" },
        o: { anyOf: [{ type: "STRING" }, { type: "INTEGER" }] },
        node: { type: "OBJECT", properties: { next: { type: "OBJECT" } } },
        all: { type: "BOOLEAN", description: "flag" }
      }
    })
  })
})
