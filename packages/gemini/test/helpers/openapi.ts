/**
 * Strict validation of request bodies against Google's OpenAPI 3.0 export of the Gemini
 * API v1beta (`specs/gemini-v1beta-openapi.json`), with ajv (draft-07 semantics):
 * - `model` is dropped from `GenerateContentRequest.required` (the URL path carries it);
 * - the export wraps every `$ref` in a one-member `allOf` (to attach a description): it is
 *   unwrapped to the `$ref` itself, so the referenced schema can be closed;
 * - a plain object schema (with `properties`, no `additionalProperties`) gets
 *   `additionalProperties: false`, so a misspelled field is rejected;
 * - the OpenAPI formats are checked: `int32` / `int64` (integers in range), `float` /
 *   `double`, `byte` (base64).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv"
import * as AjvFormats from "ajv-formats"
import * as fs from "node:fs"
import { specPath } from "../../../../test-support/shared.js"

type Json = any

const isRecord = (u: unknown): u is Record<string, Json> => typeof u === "object" && u !== null && !Array.isArray(u)

const strictify = (node: Json): Json => {
  if (Array.isArray(node)) return node.map(strictify)
  if (!isRecord(node)) return node
  let source: Record<string, Json> = node
  if (Array.isArray(node.allOf) && node.allOf.length === 1 && isRecord(node.allOf[0]) && "$ref" in node.allOf[0]) {
    // `{ allOf: [{ $ref }], description }` → `{ $ref }` (draft-07 ignores $ref siblings anyway)
    source = { $ref: node.allOf[0].$ref }
  }
  const out: Record<string, Json> = {}
  for (const [key, value] of Object.entries(source)) {
    if (key === "properties" && isRecord(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strictify(v)]))
    } else if (key === "x-google-enum-descriptions" || key === "readOnly" || key === "example") {
      continue
    } else {
      out[key] = strictify(value)
    }
  }
  if (isRecord(out.properties) && !("additionalProperties" in out)) out.additionalProperties = false
  return out
}

const int32 = (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31

let compiled: ValidateFunction | undefined

/** The strict validator of `GenerateContentRequest`. */
export const generateContentValidator = (): ValidateFunction => {
  if (compiled !== undefined) return compiled
  const document = JSON.parse(fs.readFileSync(specPath("gemini-v1beta-openapi.json"), "utf8"))
  const schemas: Record<string, Json> = strictify(document.components.schemas)
  schemas.GenerateContentRequest.required = schemas.GenerateContentRequest.required.filter((r: string) => r !== "model")
  const ajv = new Ajv({ strict: false, allErrors: true })
  AjvFormats.default(ajv)
  ajv.addFormat("int32", { type: "number", validate: int32 })
  ajv.addFormat("int64", { type: "string", validate: (s: string) => /^-?\d+$/.test(s) })
  ajv.addFormat("float", { type: "number", validate: () => true })
  ajv.addFormat("double", { type: "number", validate: () => true })
  ajv.addFormat("google-duration", { type: "string", validate: (s: string) => /^-?\d+(\.\d+)?s$/.test(s) })
  ajv.addFormat("google-fieldmask", { type: "string", validate: () => true })
  ajv.addFormat("byte", { type: "string", validate: (s: string) => /^[A-Za-z0-9+/_-]*={0,2}$/.test(s) })
  ajv.addSchema({ $id: "gemini.json", components: { schemas } })
  compiled = ajv.compile({ $ref: "gemini.json#/components/schemas/GenerateContentRequest" })
  return compiled
}

/** Validation errors of a request body (empty when valid). */
export const validateGenerateContent = (body: unknown): Array<ErrorObject> => {
  const validate = generateContentValidator()
  return validate(body) ? [] : [...(validate.errors ?? [])]
}

/** One line per error, for assertion messages. */
export const describeErrors = (errors: ReadonlyArray<ErrorObject>): string =>
  errors.map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`).join("\n")
