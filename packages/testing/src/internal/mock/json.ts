/**
 * JSON answers of the mock server: a request for JSON output (OpenAI `response_format`,
 * Responses `text.format`, Gemini `responseMimeType: application/json`) is answered with
 * JSON — synthesized from the request's JSON Schema when there is one (as tool arguments
 * are), else `{"reply": "Mock reply to: …"}`.
 */
import { exampleFromSchema } from "../schemaExample.js"

/** A request for JSON output; `schema` is `undefined` for "any JSON object". */
export interface JsonRequest {
  readonly schema: unknown
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Chat Completions: `response_format: { type: "json_schema", json_schema: { schema } }` or `json_object`. */
export const fromChatCompletions = (body: Record<string, unknown>): JsonRequest | undefined => {
  const format = body.response_format
  if (!isRecord(format)) return undefined
  if (format.type === "json_object") return { schema: undefined }
  if (format.type === "json_schema") {
    return { schema: isRecord(format.json_schema) ? format.json_schema.schema : undefined }
  }
  return undefined
}

/** Responses: `text: { format: { type: "json_schema", schema } }` or `json_object`. */
export const fromResponses = (body: Record<string, unknown>): JsonRequest | undefined => {
  const format = isRecord(body.text) ? body.text.format : undefined
  if (!isRecord(format)) return undefined
  if (format.type === "json_object") return { schema: undefined }
  if (format.type === "json_schema") return { schema: format.schema }
  return undefined
}

const int64Keys: ReadonlySet<string> = new Set([
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minProperties",
  "maxProperties"
])

/** Gemini's OpenAPI schema writes int64 fields (`minItems`, …) as strings. */
const int64Numbers = (schema: unknown, depth: number): unknown => {
  if (depth > 32) return schema
  if (Array.isArray(schema)) return schema.map((s) => int64Numbers(s, depth + 1))
  if (!isRecord(schema)) return schema
  const out: Record<string, unknown> = {}
  for (const key in schema) {
    const value = schema[key]
    out[key] = int64Keys.has(key) && typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))
      ? Number(value)
      : int64Numbers(value, depth + 1)
  }
  return out
}

/**
 * Gemini: `generationConfig.responseMimeType: "application/json"` with
 * `responseJsonSchema`, or `responseSchema` (OpenAPI types, passed through `lowerTypes`).
 */
export const fromGemini = (
  generation: Record<string, unknown> | undefined,
  lowerTypes: (schema: unknown) => unknown
): JsonRequest | undefined => {
  if (generation?.responseMimeType !== "application/json") return undefined
  if (generation.responseJsonSchema !== undefined) return { schema: generation.responseJsonSchema }
  if (generation.responseSchema !== undefined) return { schema: int64Numbers(lowerTypes(generation.responseSchema), 0) }
  return { schema: undefined }
}

/**
 * A `$ref` with sibling keywords (`{ $ref: "#/$defs/Int", minimum: 1000 }`, as
 * `effect/JSONSchema` writes refinements) merged into its definition, so the siblings
 * constrain the synthesized value too.
 */
const mergeRefSiblings = (schema: unknown): unknown => {
  if (!isRecord(schema)) return schema
  const defs: Record<string, unknown> = {
    ...(isRecord(schema.definitions) ? schema.definitions : {}),
    ...(isRecord(schema.$defs) ? schema.$defs : {})
  }
  const walk = (node: unknown, depth: number): unknown => {
    if (depth > 32) return node
    if (Array.isArray(node)) return node.map((n) => walk(n, depth + 1))
    if (!isRecord(node)) return node
    let source = node
    const { $ref, ...siblings } = node
    const match = typeof $ref === "string" ? /^#\/(?:\$defs|definitions)\/(.+)$/.exec($ref) : null
    const target = match !== null ? defs[match[1]!] : undefined
    if (isRecord(target) && Object.keys(siblings).length > 0) source = { ...target, ...siblings }
    const out: Record<string, unknown> = {}
    for (const key in source) out[key] = key === "enum" || key === "const" ? source[key] : walk(source[key], depth + 1)
    return out
  }
  return walk(schema, 0)
}

/** The JSON text answering a request for JSON. */
export const answer = (request: JsonRequest, lastUserText: string): string =>
  request.schema === undefined
    ? JSON.stringify({ reply: `Mock reply to: ${lastUserText}` })
    : JSON.stringify(exampleFromSchema(mergeRefSiblings(request.schema)))
