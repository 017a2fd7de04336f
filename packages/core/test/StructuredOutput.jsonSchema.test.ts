// The JSON Schema side of structured output: the schema sent for an effect/Schema, OpenAI's
// strict-mode transform and its inverse (`stripNulls`), checked with a JSON Schema validator
// on values generated from the Schema (fast-check, through `Arbitrary`).
import { describe, expect, it } from "@effect/vitest"
import { StructuredOutput } from "@llm-fiber/core"
import { Ajv } from "ajv"
import { Arbitrary, FastCheck as fc, Schema } from "effect"
import {
  acceptsNull,
  fromSchema,
  identifierOf,
  isObjectSchema,
  type JsonSchema,
  stripNulls,
  toStrict,
  wrap
} from "../src/internal/jsonSchema.js"

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

class Address extends Schema.Class<Address>("Address")({
  street: Schema.String,
  zip: Schema.optional(Schema.String)
}) {}

const Shape = Schema.Union(
  Schema.TaggedStruct("circle", { radius: Schema.Finite, label: Schema.optional(Schema.String) }),
  Schema.TaggedStruct("square", { side: Schema.Finite })
)

const Person = Schema.Struct({
  name: Schema.String,
  age: Schema.optional(Schema.Int),
  nickname: Schema.optional(Schema.NullOr(Schema.String)),
  role: Schema.Literal("admin", "user"),
  home: Address,
  previous: Schema.optional(Schema.Array(Address)),
  shapes: Schema.Array(Shape),
  born: Schema.optional(Schema.Date)
})

const ajv = new Ajv({ strict: false, allErrors: true })

/** Fill in `null` for every property the strict schema requires and the value lacks (what a strict model writes). */
const fillNulls = (root: JsonSchema, node: unknown, value: unknown): unknown => {
  if (!isRecord(node) || value === null || typeof value !== "object") return value
  if (typeof node.$ref === "string") {
    const name = node.$ref.replace("#/$defs/", "")
    return fillNulls(root, (root.$defs as Json)[name], value)
  }
  if (Array.isArray(value)) return value.map((item) => fillNulls(root, node.items, item))
  if (Array.isArray(node.anyOf)) {
    for (const member of node.anyOf) {
      const filled = fillNulls(root, member, value)
      if (ajv.validate({ ...(member as Json), $defs: root.$defs }, filled)) return filled
    }
    return value
  }
  if (!isRecord(node.properties)) return value
  const out: Json = {}
  for (const [key, property] of Object.entries(node.properties)) {
    out[key] = key in (value as Json) ? fillNulls(root, property, (value as Json)[key]) : null
  }
  return out
}

describe("the JSON Schema of a Schema", () => {
  it("no $schema; a top-level $ref inlined (definitions kept for inner refs); the identifier as name", () => {
    const schema = fromSchema(Schema.Struct({ home: Address, work: Address }).annotations({ identifier: "Places" }))
    expect(schema.$schema).toBeUndefined()
    expect(schema.$ref).toBeUndefined()
    expect(schema.type).toBe("object")
    expect(schema.properties).toStrictEqual({ home: { $ref: "#/$defs/Address" }, work: { $ref: "#/$defs/Address" } })
    expect(Object.keys(schema.$defs as Json).sort()).toStrictEqual(["Address", "Places"])
    expect(identifierOf(Address)).toBe("Address")
    expect(identifierOf(Schema.Struct({ a: Schema.String }).annotations({ identifier: "My Type.v2" }))).toBe(
      "My_Type_v2"
    )
    expect(identifierOf(Schema.Struct({ a: Schema.String }))).toBeUndefined()
    expect(StructuredOutput.jsonSchema(Address)).toStrictEqual(fromSchema(Address))
  })

  it("object roots vs the rest; wrap moves the definitions to the new root", () => {
    expect(isObjectSchema(fromSchema(Address))).toBe(true)
    expect(isObjectSchema(fromSchema(Schema.Array(Address)))).toBe(false)
    expect(isObjectSchema(fromSchema(Shape))).toBe(false)
    expect(isObjectSchema(fromSchema(Schema.String))).toBe(false)
    const wrapped = wrap(fromSchema(Schema.Array(Address)))
    expect(wrapped).toStrictEqual({
      type: "object",
      properties: { value: { type: "array", items: { $ref: "#/$defs/Address" } } },
      required: ["value"],
      additionalProperties: false,
      $defs: { Address: expect.any(Object) }
    })
    expect(ajv.validate(wrapped, { value: [{ street: "Main St" }] })).toBe(true)
  })

  it("acceptsNull", () => {
    const root = { $defs: { N: { type: "null" }, S: { type: "string" } } }
    expect([
      acceptsNull({ type: ["string", "null"] }, root),
      acceptsNull({ anyOf: [{ type: "string" }, { type: "null" }] }, root),
      acceptsNull({ enum: ["a", null] }, root),
      acceptsNull({ const: null }, root),
      acceptsNull({ $ref: "#/$defs/N" }, root),
      acceptsNull({}, root),
      acceptsNull({ type: "string" }, root),
      acceptsNull({ $ref: "#/$defs/S" }, root),
      acceptsNull({ enum: ["a"] }, root),
      acceptsNull({ properties: {} }, root)
    ]).toStrictEqual([true, true, true, true, true, true, false, false, false, false])
  })
})

describe("OpenAI strict mode", () => {
  const original = fromSchema(Person)
  const strict = toStrict(original)

  it("every object closed and fully required; optional properties nullable unless they already are", () => {
    expect(strict.strict).toBe(true)
    const schema = strict.schema as Json
    expect(schema.required).toStrictEqual(["name", "age", "nickname", "role", "home", "previous", "shapes", "born"])
    expect(schema.additionalProperties).toBe(false)
    const properties = schema.properties as Json
    expect(properties.age).toStrictEqual({ anyOf: [{ $ref: "#/$defs/Int" }, { type: "null" }] })
    expect(properties.nickname).toStrictEqual({ anyOf: [{ type: "string" }, { type: "null" }] })
    expect(properties.previous).toStrictEqual({ type: ["array", "null"], items: { $ref: "#/$defs/Address" } })
    const address = (schema.$defs as Json).Address as Json
    expect(address.required).toStrictEqual(["street", "zip"])
    expect((address.properties as Json).zip).toStrictEqual({ type: ["string", "null"] })
    // the union members are strict too
    const circle = ((properties.shapes as Json).items as { anyOf: Array<Json> }).anyOf[0]!
    expect(circle.required).toStrictEqual(["_tag", "radius", "label"])
    expect(circle.additionalProperties).toBe(false)
    // the original is left alone
    expect(original.required).toStrictEqual(["name", "role", "home", "shapes"])
  })

  it("for any value of the Schema: the model's strict form validates, and stripNulls + decode give the value back", () => {
    const validateStrict = ajv.compile(strict.schema)
    const validateOriginal = ajv.compile(original)
    const encode = Schema.encodeSync(Person)
    const decode = Schema.decodeUnknownSync(Person)
    fc.assert(
      fc.property(Arbitrary.make(Person), (person) => {
        // what a model writes: JSON (no undefined-valued keys)
        const encoded = JSON.parse(JSON.stringify(encode(person))) as Json
        expect(validateOriginal(encoded)).toBe(true)
        const written = fillNulls(strict.schema, strict.schema, encoded)
        expect(validateStrict(written), JSON.stringify(validateStrict.errors)).toBe(true)
        // the strict schema rejects what strict mode forbids: a missing key, an extra one
        if (isRecord(written)) {
          const { name: _name, ...missing } = written
          expect(validateStrict(missing)).toBe(false)
          expect(validateStrict({ ...written, extra: 1 })).toBe(false)
        }
        // an optional property that accepts null cannot tell "absent" from null: it comes back null
        const absentNickname = !("nickname" in encoded)
        const restored = stripNulls(original, written)
        expect(restored).toStrictEqual(absentNickname ? { ...encoded, nickname: null } : encoded)
        expect(decode(restored)).toStrictEqual(decode(absentNickname ? { ...encoded, nickname: null } : encoded))
      }),
      { numRuns: 200 }
    )
  })

  it("oneOf becomes anyOf; a one-member allOf is merged", () => {
    const result = toStrict({
      type: "object",
      properties: {
        a: { oneOf: [{ type: "string" }, { type: "number" }] },
        b: { allOf: [{ type: "object", properties: { c: { type: "string" } } }], description: "B" }
      },
      required: ["a"]
    })
    expect(result).toStrictEqual({
      strict: true,
      schema: {
        type: "object",
        properties: {
          a: { anyOf: [{ type: "string" }, { type: "number" }] },
          b: {
            type: ["object", "null"],
            description: "B",
            properties: { c: { type: ["string", "null"] } },
            required: ["c"],
            additionalProperties: false
          }
        },
        required: ["a", "b"],
        additionalProperties: false
      }
    })
  })

  const loose: ReadonlyArray<readonly [string, Schema.Schema.AnyNoContext]> = [
    ["a record", Schema.Struct({ scores: Schema.Record({ key: Schema.String, value: Schema.Number }) })],
    ["an unknown value", Schema.Struct({ data: Schema.Unknown })],
    ["a free-form object", Schema.Struct({ data: Schema.Object })]
  ]

  it.each(loose)("%s cannot be strict: the schema is sent unchanged with strict: false", (_name, schema) => {
    const source = fromSchema(schema)
    expect(toStrict(source)).toStrictEqual({ schema: source, strict: false })
  })

  it("allOf of several schemas cannot be strict", () => {
    const source = { allOf: [{ type: "object" }, { type: "object" }] }
    expect(toStrict(source).strict).toBe(false)
    expect(StructuredOutput.toStrictJsonSchema(source)).toStrictEqual({ schema: source, strict: false })
  })
})

describe("stripNulls", () => {
  const schema = fromSchema(Person)

  it("drops null at optional properties that do not accept it, keeps it where the schema allows null", () => {
    expect(stripNulls(schema, {
      name: "Ada",
      age: null,
      nickname: null,
      role: "admin",
      home: { street: "Main St", zip: null },
      previous: null,
      shapes: [{ _tag: "circle", radius: 1, label: null }, { _tag: "square", side: 2 }],
      born: null
    })).toStrictEqual({
      name: "Ada",
      nickname: null,
      role: "admin",
      home: { street: "Main St" },
      shapes: [{ _tag: "circle", radius: 1 }, { _tag: "square", side: 2 }]
    })
  })

  it("leaves required nulls (a decode error to report) and anything it does not understand", () => {
    expect(stripNulls(schema, { name: null, extra: null })).toStrictEqual({ name: null, extra: null })
    expect(stripNulls(schema, "text")).toBe("text")
    expect(stripNulls({ type: "object", properties: { a: { type: "string" } } }, { toString: null, a: null }))
      .toStrictEqual({ toString: null })
  })
})
