/**
 * Strict validation of request bodies against OpenAI's OpenAPI document.
 *
 * The OpenAPI schemas are made strict for JSON Schema 2020-12 (ajv):
 * - `nullable: true` becomes `type: [T, "null"]` (or `anyOf: [schema, { type: "null" }]`
 *   when there is no `type`), and `null` joins an `enum`;
 * - a plain object schema (with `properties`, no `additionalProperties`, no
 *   `allOf`/`anyOf`/`oneOf`) gets `additionalProperties: false`, so a misspelled field
 *   is rejected;
 * - an `allOf` cannot be closed member by member (each member would reject the others'
 *   properties): its members — `$ref`s inlined — are left open at their top level, and
 *   the `allOf` schema itself gets `unevaluatedProperties: false`, which sees the
 *   properties evaluated by every member. `CreateChatCompletionRequest` is such an
 *   `allOf` (`CreateModelResponseProperties` → `ModelResponseProperties` + its own).
 */
import * as AjvFormats from "ajv-formats"
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js"
import * as fs from "node:fs"
import { specPath } from "../../../../test-support/shared.js"

type Json = any

const schemaMapKeys = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"])
const schemaKeys = new Set([
  "items",
  "additionalProperties",
  "unevaluatedProperties",
  "unevaluatedItems",
  "not",
  "contains",
  "propertyNames",
  "if",
  "then",
  "else"
])
const schemaListKeys = new Set(["anyOf", "oneOf", "prefixItems"])

const refPrefix = "#/components/schemas/"

const isRecord = (u: unknown): u is Record<string, Json> => typeof u === "object" && u !== null && !Array.isArray(u)

export const strictify = (schemas: Record<string, Json>): Record<string, Json> => {
  const resolve = (ref: string): Json => {
    if (!ref.startsWith(refPrefix)) throw new Error(`unsupported $ref ${ref}`)
    const target = schemas[ref.slice(refPrefix.length)]
    if (target === undefined) throw new Error(`dangling $ref ${ref}`)
    return target
  }

  /** `open`: this schema is a member of an `allOf`; its own top level must stay open. */
  const walk = (node: Json, open: boolean, depth: number): Json => {
    if (!isRecord(node)) return node
    if (depth > 64) throw new Error("allOf nesting too deep")
    let source: Record<string, Json> = node
    if (open && typeof node.$ref === "string") {
      // inline the target so that it can be left open just here
      const { $ref, ...siblings } = node
      source = { ...resolve($ref), ...siblings }
    }
    const out: Record<string, Json> = {}
    for (const [key, value] of Object.entries(source)) {
      if (schemaMapKeys.has(key) && isRecord(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, false, depth)]))
      } else if (schemaKeys.has(key) && isRecord(value)) {
        out[key] = walk(value, false, depth)
      } else if (schemaListKeys.has(key) && Array.isArray(value)) {
        out[key] = value.map((v) => walk(v, false, depth))
      } else if (key === "allOf" && Array.isArray(value)) {
        out[key] = value.map((v) => walk(v, true, depth + 1))
      } else {
        out[key] = value
      }
    }
    const combined = "allOf" in out || "anyOf" in out || "oneOf" in out
    if (!open) {
      if ("allOf" in out && !("unevaluatedProperties" in out)) out.unevaluatedProperties = false
      else if ("properties" in out && !("additionalProperties" in out) && !combined) out.additionalProperties = false
    }
    if (out.nullable === true) {
      delete out.nullable
      if (typeof out.type === "string") out.type = [out.type, "null"]
      else if (Array.isArray(out.type)) out.type = out.type.includes("null") ? out.type : [...out.type, "null"]
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null]
      if (out.type === undefined) {
        const { default: _default, description, ...rest } = out
        return { ...(description !== undefined ? { description } : {}), anyOf: [rest, { type: "null" }] }
      }
    } else if (out.nullable === false) {
      delete out.nullable
    }
    return out
  }

  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, walk(schema, false, 0)]))
}

let ajv: Ajv2020 | undefined

const openapi = (): Ajv2020 => {
  if (ajv !== undefined) return ajv
  const document = JSON.parse(fs.readFileSync(specPath("openai-openapi.json"), "utf8"))
  const schemas = strictify(document.components.schemas)
  // `InputItem` is a `oneOf` told apart by an OpenAPI `discriminator` (`type`), but its
  // value "message" names two overlapping members: `EasyInputMessage` and `Item` →
  // `InputMessage` (both accept `{ type: "message", role: "user", content: [input parts] }`).
  // JSON Schema's `oneOf` has no discriminator and rejects such a message for matching
  // both; `anyOf` keeps every member closed (`additionalProperties: false`) and accepts it.
  const inputItem = schemas.InputItem
  if (isRecord(inputItem) && Array.isArray(inputItem.oneOf)) {
    const { discriminator: _discriminator, oneOf, ...rest } = inputItem
    schemas.InputItem = { ...rest, anyOf: oneOf }
  }
  const instance = new Ajv2020({ strict: false, allErrors: true })
  AjvFormats.default(instance)
  instance.addSchema({ $id: "openai.json", components: { schemas } })
  ajv = instance
  return instance
}

let compiled: ValidateFunction | undefined
let compiledResponses: ValidateFunction | undefined

/** The strict validator of `CreateChatCompletionRequest`. */
export const chatRequestValidator = (): ValidateFunction => {
  compiled ??= openapi().compile({ $ref: "openai.json#/components/schemas/CreateChatCompletionRequest" })
  return compiled
}

/** The strict validator of `CreateResponse` (the Responses API request). */
export const responsesRequestValidator = (): ValidateFunction => {
  compiledResponses ??= openapi().compile({ $ref: "openai.json#/components/schemas/CreateResponse" })
  return compiledResponses
}

/** Validation errors of a chat request body (empty when valid). */
export const validateChatRequest = (body: unknown): Array<ErrorObject> => {
  const validate = chatRequestValidator()
  return validate(body) ? [] : [...(validate.errors ?? [])]
}

/** Validation errors of a Responses request body (empty when valid). */
export const validateResponsesRequest = (body: unknown): Array<ErrorObject> => {
  const validate = responsesRequestValidator()
  return validate(body) ? [] : [...(validate.errors ?? [])]
}

/** One line per error, for assertion messages. */
export const describeErrors = (errors: ReadonlyArray<ErrorObject>): string =>
  errors.map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`).join("\n")
