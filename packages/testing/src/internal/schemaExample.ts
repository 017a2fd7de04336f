/**
 * Synthesize a value that satisfies a JSON Schema well enough for a fake tool call:
 * required properties only; strings → `enum[0]`, `const`, a format-shaped example or
 * `"example"` (padded or cut to `minLength` / `maxLength`); numbers → 1 (inside `minimum`/`maximum`); booleans → true; arrays → `[]`
 * (or `minItems` copies of the item example); nested objects recursively; local `$ref`s
 * (`#/$defs/X`, `#/definitions/X`) are followed.
 */

type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const formatExamples: Record<string, string> = {
  "date-time": "2024-01-01T00:00:00Z",
  date: "2024-01-01",
  time: "00:00:00Z",
  email: "user@example.com",
  uri: "https://example.com",
  url: "https://example.com",
  uuid: "00000000-0000-4000-8000-000000000000",
  hostname: "example.com",
  ipv4: "127.0.0.1"
}

const resolveRef = (root: Record<string, unknown>, ref: string): unknown => {
  if (!ref.startsWith("#/")) return undefined
  let current: unknown = root
  for (const segment of ref.slice(2).split("/")) {
    if (!isRecord(current)) return undefined
    current = current[segment.replace(/~1/g, "/").replace(/~0/g, "~")]
  }
  return current
}

const firstType = (type: unknown): string | undefined => {
  if (typeof type === "string") return type
  if (Array.isArray(type)) {
    const found = type.find((t) => typeof t === "string" && t !== "null")
    return typeof found === "string" ? found : type.length > 0 ? "null" : undefined
  }
  return undefined
}

const example = (schema: unknown, root: Record<string, unknown>, depth: number): Json => {
  if (!isRecord(schema) || depth > 16) return null
  if (typeof schema.$ref === "string") return example(resolveRef(root, schema.$ref), root, depth + 1)
  if ("const" in schema) return schema.const as Json
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as Json
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const options = schema[key]
    if (Array.isArray(options) && options.length > 0) {
      const usable = options.find((o) => !(isRecord(o) && o.type === "null")) ?? options[0]
      return example(usable, root, depth + 1)
    }
  }
  const type = firstType(schema.type) ?? (isRecord(schema.properties) ? "object" : schema.items ? "array" : undefined)
  switch (type) {
    case "object": {
      const out: { [key: string]: Json } = {}
      const properties = isRecord(schema.properties) ? schema.properties : {}
      const required = Array.isArray(schema.required) ? schema.required : []
      for (const name of required) {
        if (typeof name === "string") out[name] = example(properties[name], root, depth + 1)
      }
      return out
    }
    case "array": {
      const min = typeof schema.minItems === "number" ? Math.min(schema.minItems, 16) : 0
      const items: Array<Json> = []
      for (let i = 0; i < min; i++) items.push(example(schema.items, root, depth + 1))
      return items
    }
    case "string": {
      let text = typeof schema.format === "string" && formatExamples[schema.format] !== undefined
        ? formatExamples[schema.format]!
        : "example"
      // Gemini's OpenAPI schemas give lengths as int64 strings
      const min = Number(schema.minLength ?? 0)
      const max = Number(schema.maxLength ?? Infinity)
      if (Number.isInteger(min) && text.length < min) text = text.padEnd(Math.min(min, 1024), "x")
      if (Number.isInteger(max) && max >= 0 && text.length > max) text = text.slice(0, max)
      return text
    }
    case "integer":
    case "number": {
      let n = 1
      if (typeof schema.minimum === "number" && n < schema.minimum) n = Math.ceil(schema.minimum)
      if (typeof schema.exclusiveMinimum === "number" && n <= schema.exclusiveMinimum) {
        n = Math.floor(schema.exclusiveMinimum) + 1
      }
      if (typeof schema.maximum === "number" && n > schema.maximum) n = Math.floor(schema.maximum)
      return n
    }
    case "boolean":
      return true
    default:
      return null
  }
}

export const exampleFromSchema = (schema: unknown): Json => example(schema, isRecord(schema) ? schema : {}, 0)
