// Tool schemas per provider flavour: the same Schema gives OpenAI (strict mode), Anthropic,
// Gemini and generic JSON Schemas, each valid for its provider, and the arguments shaped by
// each decode back through the tool's Schema.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import { LlmClient, LlmError, Tool, Toolkit } from "@llm-fiber/core"
import { Gemini } from "@llm-fiber/gemini"
import { MockServer } from "@llm-fiber/testing"
import { Cause, Effect, Exit, Schema } from "effect"
import * as GeminiSpec from "../../gemini/test/helpers/openapi.js"
import * as OpenAiSpec from "../../openai/test/helpers/openapi.js"

class Address extends Schema.Class<Address>("Address")({
  street: Schema.String,
  city: Schema.String,
  zip: Schema.optional(Schema.String)
}) {}

interface Category {
  readonly name: string
  readonly subcategories: ReadonlyArray<Category>
}
const Category = Schema.Struct({
  name: Schema.String,
  subcategories: Schema.Array(Schema.suspend((): Schema.Schema<Category> => Category))
}).annotations({ identifier: "Category" })

const Order = Schema.Struct({
  customer: Schema.Struct({
    name: Schema.String.annotations({ description: "Full name" }),
    email: Schema.optional(Schema.String)
  }),
  items: Schema.Array(Schema.Struct({ sku: Schema.String, quantity: Schema.Int.pipe(Schema.positive()) })),
  priority: Schema.Literal("low", "normal", "high"),
  rating: Schema.optional(Schema.Literal(1, 2, 3)),
  payment: Schema.Union(
    Schema.Struct({ method: Schema.Literal("card"), last4: Schema.String.pipe(Schema.length(4)) }),
    Schema.Struct({ method: Schema.Literal("invoice"), days: Schema.Number })
  ),
  tags: Schema.Record({ key: Schema.String, value: Schema.String }),
  shipping: Address,
  billing: Schema.optional(Address),
  category: Schema.optional(Category),
  note: Schema.NullOr(Schema.String),
  coupon: Schema.optional(Schema.NonEmptyString),
  extra: Schema.optional(Schema.Unknown)
})

const orderTool = (strict: boolean) =>
  Tool.make("place_order", {
    description: "Place an order",
    parameters: Order,
    strict,
    handler: (order) => Effect.succeed({ ok: true, items: order.items.length })
  })

type Json = any

/** Visit every schema node (with its path), through every keyword that holds schemas. */
const walk = (node: Json, visit: (node: Json, path: string) => void, path = "#"): void => {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return
  visit(node, path)
  for (const key of ["properties", "$defs", "definitions", "patternProperties"]) {
    if (node[key] !== undefined) {
      for (const [name, child] of Object.entries(node[key])) walk(child, visit, `${path}/${key}/${name}`)
    }
  }
  for (const key of ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"]) {
    if (typeof node[key] === "object") walk(node[key], visit, `${path}/${key}`)
  }
  for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
    if (Array.isArray(node[key])) {
      node[key].forEach((child: Json, i: number) => walk(child, visit, `${path}/${key}/${i}`))
    }
  }
}

const nodes = (schema: Json): Array<{ node: Json; path: string }> => {
  const out: Array<{ node: Json; path: string }> = []
  walk(schema, (node, path) => out.push({ node, path }))
  return out
}

const strictKeywords = new Set([
  "type",
  "description",
  "title",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "anyOf",
  "enum",
  "const",
  "$ref",
  "$defs",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems"
])
const strictFormats = new Set(["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"])

/** What OpenAI's strict mode would reject (empty when the schema is strict-compatible). */
const strictViolations = (schema: Json): Array<string> => {
  const out: Array<string> = []
  if (schema.type !== "object") out.push("# the root is not an object")
  for (const { node, path } of nodes(schema)) {
    for (const key of Object.keys(node)) if (!strictKeywords.has(key)) out.push(`${path}: keyword ${key}`)
    if (node.$ref !== undefined && Object.keys(node).length > 1) out.push(`${path}: $ref with siblings`)
    if (node.format !== undefined && !strictFormats.has(node.format)) out.push(`${path}: format ${node.format}`)
    const types = Array.isArray(node.type) ? node.type : [node.type]
    if (types.includes("object")) {
      if (node.additionalProperties !== false) out.push(`${path}: additionalProperties is not false`)
      const keys = Object.keys(node.properties ?? {}).sort()
      const required = [...(node.required ?? [])].sort()
      if (JSON.stringify(keys) !== JSON.stringify(required)) out.push(`${path}: not every property is required`)
    }
  }
  return out
}

const geminiKeywords = new Set([
  "type",
  "description",
  "title",
  "properties",
  "required",
  "items",
  "anyOf",
  "enum",
  "format",
  "pattern",
  "minimum",
  "maximum",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minProperties",
  "maxProperties",
  "default",
  "nullable",
  "propertyOrdering"
])

/** What Gemini's OpenAPI-subset `Schema` cannot take. */
const geminiViolations = (schema: Json): Array<string> => {
  const out: Array<string> = []
  for (const { node, path } of nodes(schema)) {
    for (const key of Object.keys(node)) if (!geminiKeywords.has(key)) out.push(`${path}: keyword ${key}`)
    if (Array.isArray(node.enum) && node.enum.some((v: unknown) => typeof v !== "string")) {
      out.push(`${path}: a non-string enum`)
    }
    const types = Array.isArray(node.type) ? node.type : [node.type]
    if (types.includes("object") && path !== "#" && Object.keys(node.properties ?? {}).length === 0) {
      out.push(`${path}: an object without properties`)
    }
    if (node.type === undefined && node.anyOf === undefined) out.push(`${path}: no type`)
  }
  return out
}

const refs = (schema: Json): Array<{ ref: string; siblings: Array<string> }> =>
  nodes(schema).filter((n) => n.node.$ref !== undefined).map((n) => ({
    ref: n.node.$ref,
    siblings: Object.keys(n.node).filter((k) => k !== "$ref")
  }))

/** Valid arguments as the OpenAI strict schema makes the model send them. */
const strictArguments = {
  customer: { name: "Ada", email: null },
  items: [{ sku: "A-1", quantity: 2 }],
  priority: "high",
  rating: null,
  payment: { method: "card", last4: "4242" },
  tags: [{ key: "gift", value: "yes" }],
  shipping: { street: "1 Main St", city: "Paris", zip: null },
  billing: null,
  category: { name: "books", subcategories: [{ name: "sf", subcategories: [] }] },
  note: null,
  coupon: null,
  extra: "{\"source\":\"mail\"}"
}

describe("Tool schemas per provider", () => {
  it("every flavour: an object root, no $schema, non-recursive $refs inlined, the tool's jsonSchema untouched", () => {
    const tool = orderTool(false)
    const before = JSON.stringify(tool.jsonSchema)
    expect(tool.jsonSchema.$defs).toBeDefined()
    for (const dialect of ["generic", "openai", "anthropic", "gemini"] as const) {
      const schema: Json = Tool.parametersFor(tool, dialect)
      expect(schema.type, dialect).toBe("object")
      expect(Object.keys(schema.properties)).toEqual(Object.keys(Order.fields))
      expect(JSON.stringify(schema)).not.toContain("$schema")
      expect(JSON.stringify(schema)).not.toContain("#/$defs/Address")
      expect(schema.properties.shipping.properties.street).toEqual({ type: "string" })
    }
    expect(JSON.stringify(tool.jsonSchema)).toBe(before)
  })

  it("anthropic / generic: recursion stays in $defs, every $ref resolves there, enums collapse, tuples are 2020-12", () => {
    const schema: Json = Tool.parametersFor(orderTool(false), "anthropic")
    expect(Object.keys(schema.$defs)).toEqual(["Category"])
    expect(refs(schema).map((r) => r.ref)).toEqual(["#/$defs/Category", "#/$defs/Category"])
    expect(schema.properties.priority).toEqual({ type: "string", enum: ["low", "normal", "high"] })
    expect(schema.properties.tags.additionalProperties).toEqual({ type: "string" })
    expect(schema.required).toEqual(["customer", "items", "priority", "payment", "tags", "shipping", "note"])
    const tuple: Json = Tool.parametersFor(
      Tool.make("t", {
        parameters: Schema.Struct({ pair: Schema.Tuple(Schema.String, Schema.Number) }),
        handler: () => Effect.void
      }),
      "anthropic"
    )
    expect(tuple.properties.pair).toEqual({
      type: "array",
      prefixItems: [{ type: "string" }, { type: "number" }],
      items: false,
      minItems: 2
    })
    expect(Tool.definitionFor(orderTool(true), "anthropic").strict).toBeUndefined()
  })

  it("openai strict: additionalProperties false and every property required on every object, no $ref siblings", () => {
    const strict: Json = Tool.parametersFor(orderTool(true), "openai")
    expect(strictViolations(strict)).toEqual([])
    // the checker finds what the non-strict schema lacks
    expect(strictViolations(Tool.parametersFor(orderTool(false), "openai")).length).toBeGreaterThan(3)
    // optionals are nullable; what strict mode cannot carry is a hint in the description
    expect(strict.properties.customer.properties.email).toEqual({ type: ["string", "null"] })
    expect(strict.properties.rating).toEqual({ type: ["number", "null"], enum: [1, 2, 3, null] })
    expect(strict.properties.coupon.type).toEqual(["string", "null"])
    expect(strict.properties.coupon.description).toContain("minLength: 1")
    expect(strict.properties.payment.anyOf[0].properties.last4.description).toContain("minLength: 4")
    expect(strict.properties.billing.anyOf[1]).toEqual({ type: "null" })
    expect(strict.properties.tags.type).toBe("array")
    expect(strict.properties.extra.type).toEqual(["string", "null"])
    expect(strict.$defs.Category.additionalProperties).toBe(false)
    expect(Tool.definitionFor(orderTool(true), "openai").strict).toBe(true)
    expect(Tool.definitionFor(orderTool(false), "openai").strict).toBeUndefined()
  })

  it("openai: the tools validate against the OpenAI OpenAPI spec (Chat Completions and Responses)", () => {
    for (const strict of [true, false]) {
      const definition = Tool.definitionFor(orderTool(strict), "openai")
      const chat = {
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "order a book" }],
        tools: [{ type: "function", function: definition }]
      }
      const chatErrors = OpenAiSpec.validateChatRequest(chat)
      expect(chatErrors, OpenAiSpec.describeErrors(chatErrors)).toEqual([])
      const responses = {
        model: "gpt-4.1",
        input: "order a book",
        tools: [{ type: "function", ...definition, strict: definition.strict ?? false }]
      }
      const responsesErrors = OpenAiSpec.validateResponsesRequest(responses)
      expect(responsesErrors, OpenAiSpec.describeErrors(responsesErrors)).toEqual([])
    }
    // and the validator can fail
    expect(OpenAiSpec.validateChatRequest({ model: "x", messages: [], tools: [{ type: "function" }] })).not.toEqual([])
  })

  it.effect("openai strict: null for an optional decodes to absent; entries to a record; JSON strings to values", () =>
    Effect.gen(function*() {
      const order = yield* Tool.decodeArguments(orderTool(true), strictArguments, "openai")
      expect(order.customer).toEqual({ name: "Ada" })
      expect("rating" in order).toBe(false)
      expect("billing" in order).toBe(false)
      expect(order.shipping).toBeInstanceOf(Address)
      expect(order.shipping).toEqual(new Address({ street: "1 Main St", city: "Paris" }))
      expect(order.tags).toEqual({ gift: "yes" })
      expect(order.note).toBeNull()
      expect(order.extra).toEqual({ source: "mail" })
      expect(order.category?.subcategories[0]?.name).toBe("sf")
      // the same arguments are wrong for the non-strict schema (nulls where values are expected)
      const error = yield* Effect.flip(Tool.decodeArguments(orderTool(false), strictArguments, "openai"))
      expect(error).toBeInstanceOf(LlmError.ToolError)
      expect(error.code).toBe("invalid_arguments")
      expect(error.message).toContain("customer.email")
    }))

  it("gemini: no $ref or $defs, recursion unrolled then cut, records as entries, string-only enums, Gemini keywords only", () => {
    const schema: Json = Tool.parametersFor(orderTool(true), "gemini")
    expect(refs(schema)).toEqual([])
    expect(schema.$defs).toBeUndefined()
    expect(geminiViolations(schema)).toEqual([])
    // the checker can fail
    expect(geminiViolations(Tool.parametersFor(orderTool(false), "anthropic")).length).toBeGreaterThan(0)
    // strict is OpenAI's: optionals stay optional
    expect(schema.required).toEqual(["customer", "items", "priority", "payment", "tags", "shipping", "note"])
    expect(schema.properties.rating).toEqual({ type: "number", description: "one of: 1, 2, 3" })
    expect(schema.properties.tags.items.properties).toEqual({ key: { type: "string" }, value: { type: "string" } })
    // no anyOf for Gemini: object members merge (the common fields required), null makes nullable
    expect(schema.properties.payment).toMatchObject({
      type: "object",
      description: "the fields of one of: { method: \"card\", last4 } | { method: \"invoice\", days }",
      properties: { method: { type: "string", enum: ["card", "invoice"] }, days: { type: "number" } },
      required: ["method"]
    })
    expect(schema.properties.note).toEqual({ type: ["string", "null"] })
    expect(JSON.stringify(schema)).not.toContain("anyOf")
    const level2 = schema.properties.category.properties.subcategories.items
    expect(level2.properties.subcategories.items.type).toBe("string")
    expect(level2.properties.subcategories.items.description).toContain("JSON-encoded Category")
    expect(Tool.definitionFor(orderTool(true), "gemini").strict).toBeUndefined()
  })

  it.effect("gemini: arguments shaped by its schema decode back (entries, JSON-encoded recursion)", () =>
    Effect.gen(function*() {
      const order = yield* Tool.decodeArguments(orderTool(false), {
        customer: { name: "Ada" },
        items: [],
        priority: "low",
        payment: { method: "invoice", days: 30 },
        tags: [{ key: "a", value: "b" }],
        shipping: { street: "s", city: "c" },
        category: {
          name: "root",
          subcategories: [{ name: "l1", subcategories: ["{\"name\":\"l2\",\"subcategories\":[]}"] }]
        },
        note: "hi"
      }, "gemini")
      expect(order.tags).toEqual({ a: "b" })
      expect(order.category?.subcategories[0]?.subcategories[0]).toEqual({ name: "l2", subcategories: [] })
    }))

  it("a Struct with no fields is an empty object in every flavour", () => {
    const none = Tool.make("now", { parameters: Schema.Struct({}), strict: true, handler: () => Effect.succeed(1) })
    expect(Tool.parametersFor(none, "openai")).toEqual({
      type: "object",
      properties: {},
      required: [],
      additionalProperties: false
    })
    expect(Tool.parametersFor(none, "anthropic")).toEqual({ type: "object", properties: {} })
    expect(Tool.parametersFor(none, "gemini")).toEqual({ type: "object", properties: {} })
  })

  it("a recursive schema as the parameters: the root inlined, its recursion in $defs (gemini: unrolled)", () => {
    const tree = Tool.make("tree", { parameters: Category, strict: true, handler: () => Effect.void })
    const openai: Json = Tool.parametersFor(tree, "openai")
    expect(openai.type).toBe("object")
    expect(openai.properties.subcategories.items).toEqual({ $ref: "#/$defs/Category" })
    expect(strictViolations(openai)).toEqual([])
    const gemini: Json = Tool.parametersFor(tree, "gemini")
    expect(refs(gemini)).toEqual([])
    expect(geminiViolations(gemini)).toEqual([])
  })

  it("parametersFor is computed once per tool and flavour; dialectOf maps wire formats", () => {
    const tool = orderTool(true)
    expect(Tool.parametersFor(tool, "openai")).toBe(Tool.parametersFor(tool, "openai"))
    expect(Tool.parametersFor(tool, "openai")).not.toBe(Tool.parametersFor(tool, "gemini"))
    expect(["openai-chat", "openai-responses", "anthropic", "gemini", "fake"].map(Tool.dialectOf)).toEqual([
      "openai",
      "openai",
      "anthropic",
      "gemini",
      "generic"
    ])
  })

  it.effect("decodeArguments: non-JSON and non-object arguments, and every problem with its path", () =>
    Effect.gen(function*() {
      const tool = orderTool(false)
      const notJson = yield* Effect.flip(Tool.decodeArguments(tool, "{\"customer\":", "openai"))
      expect(notJson.message).toContain("not valid JSON")
      const notObject = yield* Effect.flip(Tool.decodeArguments(tool, [1, 2], "openai"))
      expect(notObject.message).toContain("must be a JSON object")
      const wrong = yield* Effect.flip(Tool.decodeArguments(tool, { customer: { name: 1 }, priority: "urgent" }))
      expect(wrong.toolName).toBe("place_order")
      expect(wrong.message).toContain("customer.name: Expected string, actual 1")
      expect(wrong.message).toContain("priority:")
      expect(wrong.message).toContain("items: is missing")
    }))

  it.effect("dynamic tools: the JSON Schema as given (strict-shaped when asked), arguments checked to be an object", () =>
    Effect.gen(function*() {
      const search = Tool.dynamic({
        name: "search",
        parameters: {
          $schema: "http://json-schema.org/draft-07/schema#",
          type: "object",
          properties: { q: { type: "string" }, limit: { type: "integer", minimum: 1 } },
          required: ["q"]
        },
        strict: true,
        handler: (args) => Effect.succeed(args)
      })
      const strict: Json = Tool.parametersFor(search, "openai")
      expect(strictViolations(strict)).toEqual([])
      expect(strict.properties.limit).toEqual({ type: ["integer", "null"], minimum: 1 })
      expect(yield* Tool.decodeArguments(search, { q: "x", limit: null }, "openai")).toEqual({ q: "x" })
      expect(yield* Tool.decodeArguments(search, { q: "x", limit: null }, "anthropic")).toEqual({ q: "x", limit: null })
      expect((yield* Effect.flip(Tool.decodeArguments(search, 7))).code).toBe("invalid_arguments")
      expect(Tool.parametersFor(search, "anthropic")).toEqual({
        type: "object",
        properties: { q: { type: "string" }, limit: { type: "integer", minimum: 1 } },
        required: ["q"]
      })
    }))

  it.effect("encodeResult: with the success Schema; a value it cannot encode is a defect", () =>
    Effect.gen(function*() {
      const clock = Tool.make("clock", {
        parameters: Schema.Struct({}),
        success: Schema.Struct({ at: Schema.Date }),
        handler: () => Effect.succeed({ at: new Date("2024-01-02T03:04:05.000Z") })
      })
      expect(yield* Tool.encodeResult(clock, { at: new Date("2024-01-02T03:04:05.000Z") })).toEqual({
        at: "2024-01-02T03:04:05.000Z"
      })
      const exit = yield* Effect.exit(Tool.encodeResult(clock, { at: "not a date" }))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
    }))
})

describe("Toolkit.definitions", () => {
  it("gives each tool's definition for a flavour, in order", () => {
    const kit = Toolkit.make(
      orderTool(true),
      Tool.make("ping", { parameters: Schema.Struct({}), handler: () => Effect.void })
    )
    const defs = Toolkit.definitions(kit, "openai")
    expect(defs.map((d) => d.name)).toEqual(["place_order", "ping"])
    expect(defs[0]).toEqual({
      name: "place_order",
      description: "Place an order",
      parameters: Tool.parametersFor(kit.tools[0]!, "openai"),
      strict: true
    })
    expect(Toolkit.definitions(kit)).toEqual(kit.tools.map((t) => Tool.definitionFor(t, "generic")))
    expect(Toolkit.definitions(Toolkit.empty, "gemini")).toEqual([])
  })
})

// -----------------------------------------------------------------------------
// Gemini: through the real provider (both schema modes) and the spec
// -----------------------------------------------------------------------------

describe("Gemini tool schemas on the wire", () => {
  let server: MockServer.Handle
  beforeAll(async () => {
    server = await MockServer.start()
  })
  afterAll(() => server.close())
  beforeEach(() => server.reset())

  const kit = Toolkit.make(
    orderTool(false),
    Tool.make("tree", { parameters: Category, handler: () => Effect.void }),
    Tool.make("ping", { parameters: Schema.Struct({}), handler: () => Effect.void })
  )

  for (const schemaMode of ["openapi", "jsonSchema"] as const) {
    it.live(`${schemaMode}: the request validates against the Gemini v1beta spec; the mock's call decodes`, () =>
      Effect.gen(function*() {
        const llm = yield* LlmClient.LlmClient
        const result = yield* llm.chat({
          model: "gemini-2.5-flash",
          messages: "order a book",
          tools: Toolkit.definitions(kit, "gemini"),
          toolChoice: { type: "tool", name: "tree" }
        })
        const body: Json = server.requests[0]?.body
        const errors = GeminiSpec.validateGenerateContent(body)
        expect(errors, GeminiSpec.describeErrors(errors)).toEqual([])
        const declarations = body.tools[0].functionDeclarations
        expect(declarations.map((d: Json) => d.name)).toEqual(["place_order", "tree", "ping"])
        expect(JSON.stringify(body)).not.toContain("$ref")
        if (schemaMode === "openapi") {
          expect(declarations[0].parameters.type).toBe("OBJECT")
          expect(declarations[2].parameters).toBeUndefined()
        } else {
          expect(declarations[0].parametersJsonSchema).toEqual(Tool.parametersFor(kit.tools[0]!, "gemini"))
        }
        // the mock answers with a call to the forced tool, its arguments synthesized from the sent schema
        const call = result.toolCalls[0]!
        expect(call.name).toBe("tree")
        expect(yield* Tool.decodeArguments(kit.tools[1]!, call.arguments, "gemini")).toEqual({
          name: "example",
          subcategories: []
        })
      }).pipe(Effect.provide(
        LlmClient.layerWith(Gemini.layer({ apiKey: "gemini-test", baseUrl: server.geminiBaseUrl, schemaMode }))
      )))
  }
})
