/**
 * JSON Schema helpers shared by structured output and tools: the JSON Schema of an
 * `effect/Schema` ready to send, the OpenAI strict-mode transform, and its inverse on the
 * values the model sends back.
 *
 * OpenAI's strict mode (`strict: true` on `response_format: json_schema` and on function
 * tools) accepts a subset of JSON Schema: every object has `additionalProperties: false`
 * and lists all its properties in `required`; an optional property is expressed as a
 * required one that may be `null`. `toStrict` rewrites a schema that way (or says it
 * cannot: records / free-form objects, `allOf` of several schemas, untyped `{}`), and
 * `stripNulls` turns the `null`s the model then sends for optional properties back into
 * missing keys, so the value decodes with the original `Schema`.
 */
import * as JSONSchema from "effect/JSONSchema"
import type * as Schema from "effect/Schema"

/**
 * A JSON Schema object.
 */
export type JsonSchema = Readonly<Record<string, unknown>>

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key)

const defsOf = (root: JsonSchema): Json => ({
  ...(isRecord(root.definitions) ? root.definitions : {}),
  ...(isRecord(root.$defs) ? root.$defs : {})
})

/** The target of a local `$ref` (`#/$defs/X`, `#/definitions/X`), if any. */
const resolveRef = (root: JsonSchema, ref: string): Json | undefined => {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)
  if (match === null) return undefined
  const target = defsOf(root)[match[1]!.replace(/~1/g, "/").replace(/~0/g, "~")]
  return isRecord(target) ? target : undefined
}

/**
 * The JSON Schema of a `Schema` (of its encoded side, which is what the model writes),
 * without `$schema`, and with a top-level `$ref` replaced by its definition (providers
 * want an object at the root, not a reference).
 */
export const fromSchema = <A, I>(schema: Schema.Schema<A, I>): JsonSchema => {
  const { $schema: _ignored, ...generated } = JSONSchema.make(schema) as unknown as Json
  return inlineRefSiblings(inlineRootRef(generated))
}

/**
 * Merge each `$ref` that has sibling keywords (`{ $ref: "#/$defs/Int", minimum: 1 }`, as
 * `effect/JSONSchema` writes a refined `Int`) into a copy of its definition — providers
 * ignore or reject keywords next to a `$ref`. References without siblings stay.
 */
export const inlineRefSiblings = (schema: JsonSchema): JsonSchema => {
  const walk = (node: unknown, depth: number, seen: ReadonlyArray<string>): unknown => {
    if (depth > 64) return node
    if (Array.isArray(node)) return node.map((n) => walk(n, depth + 1, seen))
    if (!isRecord(node)) return node
    let source: Json = node
    let refs = seen
    if (typeof node.$ref === "string" && Object.keys(node).length > 1 && !seen.includes(node.$ref)) {
      const target = resolveRef(schema, node.$ref)
      if (target !== undefined) {
        const { $ref, ...siblings } = node
        source = { ...target, ...siblings }
        refs = [...seen, $ref]
      }
    }
    const out: Json = {}
    for (const key of Object.keys(source)) {
      const value = source[key]
      out[key] = key === "enum" || key === "const" || key === "default" || key === "examples"
        ? value
        : walk(value, depth + 1, refs)
    }
    return out
  }
  return walk(schema, 0, []) as JsonSchema
}

/**
 * The identifier of a `Schema` (a `Schema.Class` name, an `identifier` annotation) as a
 * name providers accept (letters, digits, `_`, `-`; at most 64), if it has one.
 */
export const identifierOf = <A, I>(schema: Schema.Schema<A, I>): string | undefined => {
  const ref = (JSONSchema.make(schema) as unknown as Json).$ref
  if (typeof ref !== "string") return undefined
  const match = /^#\/\$defs\/(.+)$/.exec(ref)
  if (match === null) return undefined
  const name = match[1]!.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64)
  return name === "" ? undefined : name
}

/** Replace a top-level `$ref` by its definition (the definitions stay, for inner refs). */
export const inlineRootRef = (schema: JsonSchema): JsonSchema => {
  if (typeof schema.$ref !== "string") return schema
  const target = resolveRef(schema, schema.$ref)
  if (target === undefined) return schema
  const { $ref: _ref, ...rest } = schema
  return { ...target, ...rest }
}

/** Is this a schema of JSON objects (what providers accept as the root of an output or tool)? */
export const isObjectSchema = (schema: JsonSchema): boolean =>
  schema.type === "object" || (schema.type === undefined && isRecord(schema.properties) && schema.anyOf === undefined)

/** The property name `wrap` puts the value under. */
export const wrapKey = "value"

/**
 * A schema of `{ value: <schema> }` (definitions moved to the new root, so references keep
 * working) — for a value that is not an object where an object is required.
 */
export const wrap = (schema: JsonSchema): JsonSchema => {
  const { $defs, definitions, ...inner } = schema
  return {
    type: "object",
    properties: { [wrapKey]: inner },
    required: [wrapKey],
    additionalProperties: false,
    ...($defs !== undefined ? { $defs } : {}),
    ...(definitions !== undefined ? { definitions } : {})
  }
}

/**
 * Does a schema accept `null`? (`type` with `"null"`, an `anyOf` / `oneOf` member that
 * does, `null` in `enum`, `const: null`; local references are followed.)
 */
export const acceptsNull = (schema: unknown, root: JsonSchema, seen: ReadonlyArray<string> = []): boolean => {
  if (!isRecord(schema)) return schema === true
  if (typeof schema.$ref === "string") {
    if (seen.includes(schema.$ref)) return false
    const target = resolveRef(root, schema.$ref)
    return target !== undefined && acceptsNull(target, root, [...seen, schema.$ref])
  }
  const type = schema.type
  if (type === "null" || (Array.isArray(type) && type.includes("null"))) return true
  if (schema.const === null) return true
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) return true
  for (const key of ["anyOf", "oneOf"] as const) {
    const members = schema[key]
    if (Array.isArray(members) && members.some((m) => acceptsNull(m, root, seen))) return true
  }
  // no constraint at all: anything goes
  return type === undefined && schema.anyOf === undefined && schema.oneOf === undefined &&
    schema.allOf === undefined && schema.enum === undefined && !("const" in schema) &&
    schema.properties === undefined && schema.items === undefined
}

const nullable = (schema: Json): Json => {
  const { anyOf, ...rest } = schema
  if (Array.isArray(anyOf)) return { ...rest, anyOf: [...anyOf, { type: "null" }] }
  if (typeof schema.type === "string" && schema.enum === undefined && !("const" in schema)) {
    return { ...schema, type: [schema.type, "null"] }
  }
  return { anyOf: [schema, { type: "null" }] }
}

/**
 * A schema in OpenAI's strict form, or the schema unchanged with `strict: false` when it
 * uses something strict mode cannot express.
 */
export interface Strict {
  readonly schema: JsonSchema
  readonly strict: boolean
}

/**
 * Rewrite a schema for OpenAI's strict mode: `additionalProperties: false` on every object,
 * every property `required`, optional properties (those not required before) made nullable
 * unless they already accept `null`; `oneOf` becomes `anyOf`, a one-member `allOf` is
 * merged into its parent. Records and free-form objects (`additionalProperties` other than
 * `false`, `patternProperties`), `allOf` of several schemas and unconstrained schemas
 * (`{}`, `Schema.Unknown`) cannot be strict: the schema is then returned unchanged with
 * `strict: false`.
 */
export const toStrict = (schema: JsonSchema): Strict => {
  let compatible = true
  const root = schema
  const walk = (node: unknown, depth: number): unknown => {
    if (!isRecord(node)) {
      if (node !== false) compatible = false
      return node
    }
    if (depth > 64) {
      compatible = false
      return node
    }
    let source: Json = node
    const allOf = source.allOf
    if (allOf !== undefined) {
      if (Array.isArray(allOf) && allOf.length === 1 && isRecord(allOf[0])) {
        const { allOf: _allOf, ...rest } = source
        source = { ...allOf[0], ...rest }
      } else {
        compatible = false
      }
    }
    const out: Json = { ...source }
    if (Array.isArray(source.oneOf)) {
      delete out.oneOf
      out.anyOf = source.oneOf
    }
    for (const key of ["$defs", "definitions"] as const) {
      const defs = source[key]
      if (isRecord(defs)) {
        const next: Json = {}
        for (const [name, def] of Object.entries(defs)) next[name] = walk(def, depth + 1)
        out[key] = next
      }
    }
    if (Array.isArray(out.anyOf)) out.anyOf = out.anyOf.map((m) => walk(m, depth + 1))
    if (source.items !== undefined) {
      out.items = Array.isArray(source.items)
        ? source.items.map((m) => walk(m, depth + 1))
        : walk(source.items, depth + 1)
    }
    if (Array.isArray(source.prefixItems)) out.prefixItems = source.prefixItems.map((m) => walk(m, depth + 1))
    const hasType = source.type !== undefined || out.anyOf !== undefined || typeof source.$ref === "string" ||
      source.enum !== undefined || "const" in source || isRecord(source.properties)
    if (!hasType) compatible = false
    const isObject = source.type === "object" || (Array.isArray(source.type) && source.type.includes("object")) ||
      isRecord(source.properties)
    if (isObject) {
      if (source.patternProperties !== undefined) compatible = false
      if (source.additionalProperties !== undefined && source.additionalProperties !== false) compatible = false
      if (!isRecord(source.properties) && source.additionalProperties !== false) compatible = false
      const properties = isRecord(source.properties) ? source.properties : {}
      const required = Array.isArray(source.required) ? source.required : []
      const next: Json = {}
      for (const [name, property] of Object.entries(properties)) {
        const strict = walk(property, depth + 1)
        next[name] = required.includes(name) || acceptsNull(property, root) || !isRecord(strict)
          ? strict
          : nullable(strict)
      }
      out.properties = next
      out.required = Object.keys(next)
      out.additionalProperties = false
    }
    return out
  }
  const transformed = walk(schema, 0) as JsonSchema
  return compatible ? { schema: transformed, strict: true } : { schema, strict: false }
}

/**
 * Drop the `null`s a value has at optional properties whose schema does not accept `null`
 * (what a model writes for "absent" under the strict transform), following `items`,
 * `prefixItems`, local references and — for objects — the first `anyOf` / `oneOf` member
 * that declares all of the value's keys. Everything else is returned as it is.
 */
export const stripNulls = (schema: JsonSchema, value: unknown): unknown => {
  const root = schema
  const walk = (node: unknown, input: unknown, depth: number): unknown => {
    if (!isRecord(node) || depth > 64 || input === null || typeof input !== "object") return input
    let source: Json = node
    if (typeof source.$ref === "string") {
      const target = resolveRef(root, source.$ref)
      if (target === undefined) return input
      source = target
    }
    if (Array.isArray(source.allOf) && source.allOf.length === 1 && isRecord(source.allOf[0])) {
      source = { ...source.allOf[0], ...source }
    }
    if (Array.isArray(input)) {
      const prefix = Array.isArray(source.prefixItems) ? source.prefixItems : []
      return input.map((item, i) => walk(i < prefix.length ? prefix[i] : source.items, item, depth + 1))
    }
    const object = input as Json
    if (isRecord(source.properties)) {
      const properties = source.properties
      const required = Array.isArray(source.required) ? source.required : []
      const out: Json = {}
      for (const key of Object.keys(object)) {
        const item = object[key]
        const property = hasOwn(properties, key) ? properties[key] : undefined
        if (item === null && property !== undefined && !required.includes(key) && !acceptsNull(property, root)) {
          continue
        }
        const next = walk(property, item, depth + 1)
        if (key === "__proto__") {
          Object.defineProperty(out, key, { value: next, writable: true, enumerable: true, configurable: true })
        } else {
          out[key] = next
        }
      }
      return out
    }
    const members = Array.isArray(source.anyOf) ? source.anyOf : Array.isArray(source.oneOf) ? source.oneOf : []
    const keys = Object.keys(object)
    for (const member of members) {
      const resolved = isRecord(member) && typeof member.$ref === "string" ? resolveRef(root, member.$ref) : member
      if (isRecord(resolved) && isRecord(resolved.properties)) {
        const declared = resolved.properties
        if (keys.every((k) => hasOwn(declared, k))) return walk(resolved, input, depth + 1)
      }
    }
    return input
  }
  return walk(schema, value, 0)
}
