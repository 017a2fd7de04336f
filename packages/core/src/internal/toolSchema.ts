/**
 * A tool's JSON Schema → the schema a provider accepts for tool parameters, plus the fix
 * that turns arguments shaped by that schema back into the shape of the original one.
 *
 * Every dialect:
 * - `$schema`, `$id`, `$comment`, `examples` and similar annotations are dropped;
 * - `$ref`s to non-recursive definitions are inlined (siblings of the `$ref` win), so no
 *   `$ref` carries sibling keywords; recursive definitions stay in `$defs` (Gemini: unrolled);
 * - a union of one-value enums of one type (`Schema.Enums`, `Schema.Literal` members)
 *   becomes one `enum`;
 * - draft-07 tuples (`items: [...]`) become `prefixItems` (draft 2020-12).
 *
 * OpenAI strict (`strict: true`): every object gets `additionalProperties: false` and lists
 * every property in `required`; an optional property becomes nullable (the fix turns
 * `null` back into an absent property); a record becomes a list of `{ key, value }`
 * entries; a free-form value (unknown, any object) becomes a JSON-encoded string; tuples
 * become arrays of the union of their members; keywords outside the strict subset are
 * moved into the description as a hint (the decoder still enforces them).
 *
 * Gemini (an OpenAPI 3.0 subset): no `$ref`/`$defs` (recursive definitions are unrolled
 * twice, then cut to a JSON-encoded string), records as entries, free-form values as
 * JSON strings, enums of strings only, formats Gemini knows only, `oneOf` as `anyOf`.
 *
 * @internal
 */

type Json = Record<string, unknown>

/** Undo the shape changes of a dialect on a value sent by the model. */
export type Fix = (value: unknown) => unknown

/** The schema flavours. */
export type Dialect = "openai" | "anthropic" | "gemini" | "generic"

/** A schema for one provider, with the fix of its arguments (`undefined`: nothing to undo). */
export interface Compiled {
  readonly schema: Json
  readonly fix: Fix | undefined
}

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const maxDepth = 64
/** How many times Gemini unrolls a recursive definition before cutting it. */
const geminiUnroll = 2

/** Annotations no provider needs. */
const dropped: ReadonlySet<string> = new Set([
  "$schema",
  "$id",
  "$comment",
  "$anchor",
  "$dynamicAnchor",
  "$dynamicRef",
  "$vocabulary",
  "$defs",
  "definitions",
  "examples",
  "readOnly",
  "writeOnly",
  "deprecated",
  "contentEncoding",
  "contentMediaType"
])

/** Keywords handled structurally (never copied as they are). */
const structural: ReadonlySet<string> = new Set([
  "$ref",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "patternProperties",
  "propertyNames",
  "items",
  "prefixItems",
  "additionalItems",
  "anyOf",
  "oneOf",
  "allOf",
  "enum",
  "const",
  "format",
  "description",
  "nullable"
])

/** Keywords whose value is a schema (converted in the generic dialects, so that no `$ref` dangles). */
const schemaValued: ReadonlySet<string> = new Set([
  "not",
  "if",
  "then",
  "else",
  "contains",
  "unevaluatedProperties",
  "unevaluatedItems"
])

/** Constraints OpenAI strict keeps as they are (the other dialects give some of them as hints). */
const strictConstraints: ReadonlyArray<string> = [
  "pattern",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems"
]

/** OpenAI strict: keywords kept as they are. */
const strictKept: ReadonlySet<string> = new Set(["title", ...strictConstraints])

/** OpenAI strict: the formats it accepts. */
const strictFormats: ReadonlySet<string> = new Set([
  "date-time",
  "time",
  "date",
  "duration",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "uuid"
])

/** Gemini: keywords its `Schema` has with the same meaning. */
const geminiKept: ReadonlySet<string> = new Set([
  "title",
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
  "propertyOrdering"
])

/** Gemini: the formats of its `Schema`, by type. */
const geminiFormats: Readonly<Record<string, ReadonlySet<string>>> = {
  string: new Set(["date-time", "enum"]),
  number: new Set(["float", "double"]),
  integer: new Set(["int32", "int64"])
}

/** Constraint keywords worth a hint when a dialect cannot carry them. */
const hinted: ReadonlySet<string> = new Set([
  "minLength",
  "maxLength",
  ...strictConstraints,
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "minContains",
  "maxContains",
  "default"
])

const withHints = (description: unknown, hints: ReadonlyArray<string>): string | undefined => {
  const text = typeof description === "string" && description !== "" ? description : undefined
  if (hints.length === 0) return text
  const joined = hints.join("; ")
  return text === undefined ? joined : `${text} (${joined})`
}

const render = (value: unknown): string => JSON.stringify(value) ?? String(value)

const unescape = (segment: string): string => segment.replace(/~1/g, "/").replace(/~0/g, "~")

const escape = (segment: string): string => segment.replace(/~/g, "~0").replace(/\//g, "~1")

/** The definition name of a `#/$defs/N` or `#/definitions/N` reference. */
const defName = (ref: string): string | undefined => {
  const match = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref)
  return match === null ? undefined : unescape(match[1]!)
}

const resolvePointer = (root: Json, ref: string): unknown => {
  if (ref === "#") return root
  if (!ref.startsWith("#/")) return undefined
  let current: unknown = root
  for (const segment of ref.slice(2).split("/")) {
    if (Array.isArray(current)) current = current[Number(unescape(segment))]
    else if (isObject(current)) current = current[unescape(segment)]
    else return undefined
  }
  return current
}

/** Every `$ref` string inside a value. */
const refsIn = (value: unknown, out: Set<string>, depth = 0): Set<string> => {
  if (depth > maxDepth) return out
  if (Array.isArray(value)) {
    for (const item of value) refsIn(item, out, depth + 1)
  } else if (isObject(value)) {
    for (const key in value) {
      const v = value[key]
      if (key === "$ref" && typeof v === "string") out.add(v)
      else refsIn(v, out, depth + 1)
    }
  }
  return out
}

/** The definitions that reach themselves through `$ref`s. */
const recursiveDefs = (defs: ReadonlyMap<string, Json>): Set<string> => {
  const edges = new Map<string, Array<string>>()
  for (const [name, def] of defs) {
    const targets: Array<string> = []
    for (const ref of refsIn(def, new Set())) {
      const target = defName(ref)
      if (target !== undefined && defs.has(target)) targets.push(target)
    }
    edges.set(name, targets)
  }
  const out = new Set<string>()
  for (const start of defs.keys()) {
    const seen = new Set<string>()
    const stack = [...(edges.get(start) ?? [])]
    while (stack.length > 0) {
      const next = stack.pop()!
      if (next === start) {
        out.add(start)
        break
      }
      if (seen.has(next)) continue
      seen.add(next)
      stack.push(...(edges.get(next) ?? []))
    }
  }
  return out
}

const typesOf = (schema: Json): Array<string> =>
  typeof schema.type === "string"
    ? [schema.type]
    : Array.isArray(schema.type)
    ? schema.type.filter((t): t is string => typeof t === "string")
    : []

/** Does a (converted) schema admit `null`? */
const acceptsNull = (schema: Json, defs: ReadonlyMap<string, Compiled>, depth = 0): boolean => {
  if (depth > maxDepth) return false
  if (typeof schema.$ref === "string") {
    const name = defName(schema.$ref)
    const target = name === undefined ? undefined : defs.get(name)
    return target !== undefined && acceptsNull(target.schema, defs, depth + 1)
  }
  if (typesOf(schema).includes("null")) return true
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) return true
  if ("const" in schema && schema.const === null) return true
  const union = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined
  return union !== undefined && union.some((m) => isObject(m) && acceptsNull(m, defs, depth + 1))
}

const sameJson = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

/** A structural check of a value against a (converted) schema: enough to pick a union member. */
const accepts = (schema: unknown, value: unknown, defs: ReadonlyMap<string, Compiled>, depth = 0): boolean => {
  if (!isObject(schema) || depth > maxDepth) return true
  if (typeof schema.$ref === "string") {
    const name = defName(schema.$ref)
    const target = name === undefined ? undefined : defs.get(name)
    return target === undefined || accepts(target.schema, value, defs, depth + 1)
  }
  const union = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined
  if (union !== undefined && !union.some((m) => accepts(m, value, defs, depth + 1))) return false
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => sameJson(e, value))) return false
  if ("const" in schema && !sameJson(schema.const, value)) return false
  const types = typesOf(schema)
  if (types.length > 0 && !types.some((t) => hasType(t, value))) return false
  if (isObject(value)) {
    const properties = isObject(schema.properties) ? schema.properties : undefined
    if (Array.isArray(schema.required)) {
      for (const name of schema.required) if (typeof name === "string" && !(name in value)) return false
    }
    if (properties !== undefined) {
      for (const key in value) {
        if (key in properties) {
          if (!accepts(properties[key], value[key], defs, depth + 1)) return false
        } else if (schema.additionalProperties === false) {
          return false
        }
      }
    }
  } else if (Array.isArray(value) && isObject(schema.items)) {
    for (const item of value) if (!accepts(schema.items, item, defs, depth + 1)) return false
  }
  return true
}

const hasType = (type: string, value: unknown): boolean => {
  switch (type) {
    case "string":
      return typeof value === "string"
    case "number":
      return typeof value === "number"
    case "integer":
      return typeof value === "number" && Number.isInteger(value)
    case "boolean":
      return typeof value === "boolean"
    case "null":
      return value === null
    case "array":
      return Array.isArray(value)
    case "object":
      return isObject(value)
    default:
      return true
  }
}

const parseJson = (value: unknown): unknown => {
  if (typeof value !== "string") return value
  try {
    return JSON.parse(value)
  } catch {
    return value
  }
}

/** Is this schema "anything" (no type, no structure, no values)? */
const isFreeForm = (schema: Json): boolean => {
  for (const key in schema) {
    if (key === "description" || key === "title" || key === "default" || dropped.has(key)) continue
    return false
  }
  return true
}

const primitiveTypes: ReadonlySet<string> = new Set(["string", "number", "integer", "boolean"])

/**
 * Compile a tool's parameters for a dialect. `strict` applies OpenAI's strict-mode
 * restrictions (for the `openai` and `generic` dialects; the others ignore it).
 */
export const compile = (source: Json, dialect: Dialect, strictRequested: boolean): Compiled => {
  const gemini = dialect === "gemini"
  const strict = strictRequested && (dialect === "openai" || dialect === "generic")
  const restricted = strict || gemini
  const defs = new Map<string, Json>()
  for (const key of ["definitions", "$defs"] as const) {
    const group = source[key]
    if (isObject(group)) {
      for (const name in group) {
        const def = group[name]
        if (isObject(def)) defs.set(name, def)
      }
    }
  }
  const recursive = recursiveDefs(defs)
  const outDefs = new Map<string, Compiled>()
  const pending = new Set<string>()

  /** A value the dialect cannot describe: a JSON-encoded string, parsed back by the fix. */
  const jsonString = (node: Json, name?: string): Compiled => {
    const out: Json = { type: "string" }
    if (typeof node.title === "string") out.title = node.title
    out.description = withHints(node.description, [`a JSON-encoded ${name ?? "value"}`])
    return { schema: out, fix: parseJson }
  }

  const defFix = (name: string): Fix => (value) => {
    const fix = outDefs.get(name)?.fix
    return fix === undefined ? value : fix(value)
  }

  /** Convert a recursive definition into `$defs` (once). */
  const ensureDef = (name: string): void => {
    if (outDefs.has(name) || pending.has(name)) return
    pending.add(name)
    const converted = convert(defs.get(name)!, [`#/$defs/${escape(name)}`], 1, false)
    pending.delete(name)
    outDefs.set(name, converted)
  }

  const nullable = (schema: Json): Json => {
    if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...schema.anyOf, { type: "null" }] }
    if (typeof schema.type === "string" && primitiveTypes.has(schema.type) && schema.$ref === undefined) {
      const out: Json = { ...schema, type: [schema.type, "null"] }
      if (Array.isArray(schema.enum)) out.enum = [...schema.enum, null]
      return out
    }
    const { description, title, ...rest } = schema
    const out: Json = {}
    if (title !== undefined) out.title = title
    if (description !== undefined) out.description = description
    out.anyOf = [rest, { type: "null" }]
    return out
  }

  /** Gemini: a union as one schema — null members make it nullable, objects merge, mixed types a JSON string. */
  const geminiUnion = (members: ReadonlyArray<Compiled>): Compiled => {
    const nonNull = members.filter((m) => m.schema.type !== "null")
    if (nonNull.length === 0) return { schema: { type: "null" }, fix: undefined }
    let result: Compiled
    if (nonNull.length === 1) {
      result = nonNull[0]!
    } else {
      const types = nonNull.map((m) => typesOf(m.schema).filter((t) => t !== "null"))
      const first = types[0]!
      const single = first.length === 1 && types.every((t) => t.length === 1 && t[0] === first[0])
        ? first[0]
        : undefined
      if (single === "object") {
        result = mergeObjects(nonNull)
      } else if (single !== undefined && single !== "array" && nonNull.every((m) => m.fix === undefined)) {
        result = { schema: { type: single }, fix: undefined }
      } else {
        result = jsonString({ description: `one of: ${nonNull.map((m) => describeType(m.schema)).join(" | ")}` })
      }
    }
    if (nonNull.length === members.length) return result
    const types = typesOf(result.schema)
    return {
      schema: types.length === 0 || types.includes("null")
        ? result.schema
        : { ...result.schema, type: [...types, "null"] },
      fix: result.fix
    }
  }

  /** Gemini: object members of a union as one object (every property, the common required ones). */
  const mergeObjects = (members: ReadonlyArray<Compiled>): Compiled => {
    const byName = new Map<string, Array<Json>>()
    for (const member of members) {
      const properties = isObject(member.schema.properties) ? member.schema.properties : {}
      for (const name in properties) {
        const schema = properties[name]
        if (!isObject(schema)) continue
        const list = byName.get(name)
        if (list === undefined) byName.set(name, [schema])
        else list.push(schema)
      }
    }
    const properties: Json = {}
    const parsed: Array<string> = []
    for (const [name, schemas] of byName) {
      const first = schemas[0]!
      if (schemas.every((s) => sameJson(s, first))) {
        properties[name] = first
      } else if (schemas.every(isStringEnum)) {
        properties[name] = { type: "string", enum: [...new Set(schemas.flatMap((s) => s.enum as Array<unknown>))] }
      } else {
        properties[name] = jsonString({}).schema
        parsed.push(name)
      }
    }
    const requiredOf = (m: Compiled): Array<string> =>
      Array.isArray(m.schema.required) ? m.schema.required.filter((r): r is string => typeof r === "string") : []
    const required = requiredOf(members[0]!).filter((r) => members.every((m) => requiredOf(m).includes(r)))
    const shapes = members.map((m) => {
      const own = isObject(m.schema.properties) ? m.schema.properties : {}
      const fields = requiredOf(m).map((r) => {
        const p = own[r]
        return isObject(p) && Array.isArray(p.enum) && p.enum.length === 1 ? `${r}: ${render(p.enum[0])}` : r
      })
      return `{ ${fields.join(", ")} }`
    })
    const schema: Json = {
      type: "object",
      description: `the fields of one of: ${shapes.join(" | ")}`,
      properties,
      ...(required.length > 0 ? { required } : {})
    }
    const fixes = members.map((m) => m.fix).filter((f): f is Fix => f !== undefined)
    if (fixes.length === 0 && parsed.length === 0) return { schema, fix: undefined }
    return {
      schema,
      fix: (value) => {
        let v = value
        if (parsed.length > 0 && isObject(v)) {
          const copy: Record<string, unknown> = { ...v }
          for (const name of parsed) if (name in copy) copy[name] = parseJson(copy[name])
          v = copy
        }
        for (const f of fixes) v = f(v)
        return v
      }
    }
  }

  const convert = (input: unknown, stack: ReadonlyArray<string>, depth: number, root: boolean): Compiled => {
    if (!isObject(input)) {
      // `true` / missing: anything
      return restricted && !root ? jsonString({}) : { schema: {}, fix: undefined }
    }
    if (depth > maxDepth) return jsonString(input)
    let node = input
    if (typeof node.$ref === "string") {
      const ref = node.$ref
      const { $ref: _ref, ...siblings } = node
      const name = defName(ref)
      if (name !== undefined && recursive.has(name) && defs.has(name)) {
        if (!gemini && root) {
          // the parameters themselves: inlined (an object), their recursion through `$defs`
          return convert({ ...defs.get(name), ...siblings }, [...stack, ref], depth + 1, root)
        }
        if (!gemini) {
          ensureDef(name)
          const out: Json = { $ref: `#/$defs/${escape(name)}` }
          if (!strict) {
            if (typeof siblings.description === "string") out.description = siblings.description
            if (typeof siblings.title === "string") out.title = siblings.title
          }
          return { schema: out, fix: defFix(name) }
        }
        if (stack.filter((s) => s === ref).length >= geminiUnroll) {
          return jsonString({ ...defs.get(name), ...siblings }, name)
        }
        return convert({ ...defs.get(name), ...siblings }, [...stack, ref], depth + 1, root)
      }
      const target = name !== undefined ? defs.get(name) : resolvePointer(source, ref)
      // a dangling reference, or a cycle through plain pointers: nothing to inline
      if (!isObject(target) || stack.includes(ref)) return jsonString(siblings)
      return convert({ ...target, ...siblings }, [...stack, ref], depth + 1, root)
    }

    // allOf: one member is merged in; several are merged where the dialect has no allOf
    if (Array.isArray(node.allOf)) {
      const { allOf, ...rest } = node
      const members = allOf.filter(isObject)
      if (members.length === 1 || restricted) {
        node = members.reduce<Json>((acc, member) => mergeSchemas(acc, resolveShallow(member, stack)), rest)
      } else {
        const converted = members.map((m) => convert(m, stack, depth + 1, false))
        const base = convertNode(rest, stack, depth, root)
        const fixes = [base.fix, ...converted.map((c) => c.fix)].filter((f): f is Fix => f !== undefined)
        return {
          schema: { ...base.schema, allOf: converted.map((c) => c.schema) },
          fix: fixes.length === 0 ? undefined : (value) => fixes.reduce((v, f) => f(v), value)
        }
      }
    }
    return convertNode(node, stack, depth, root)
  }

  /** A member of an `allOf`, its `$ref` resolved (for merging). */
  const resolveShallow = (member: Json, stack: ReadonlyArray<string>): Json => {
    if (typeof member.$ref !== "string") return member
    const name = defName(member.$ref)
    const target = name !== undefined ? defs.get(name) : resolvePointer(source, member.$ref)
    if (!isObject(target) || stack.includes(member.$ref)) return member
    const { $ref: _ref, ...siblings } = member
    return { ...target, ...siblings }
  }

  const convertNode = (node: Json, stack: ReadonlyArray<string>, depth: number, root: boolean): Compiled => {
    const hints: Array<string> = []
    const out: Json = {}
    if (typeof node.title === "string" && !strict && !gemini) out.title = node.title
    let fix: Fix | undefined

    // plain keywords
    for (const key in node) {
      if (dropped.has(key) || structural.has(key)) continue
      const value = node[key]
      if (strict) {
        if (strictKept.has(key)) out[key] = value
        else if (hinted.has(key)) hints.push(`${key}: ${render(value)}`)
      } else if (gemini) {
        if (geminiKept.has(key)) out[key] = value
        else if (hinted.has(key)) hints.push(`${key}: ${render(value)}`)
      } else if (schemaValued.has(key) && isObject(value)) {
        out[key] = convert(value, stack, depth + 1, false).schema
      } else if (key !== "title") {
        out[key] = value
      }
    }

    let types = typesOf(node)
    const union = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined
    const isObjectSchema = types.includes("object") ||
      (types.length === 0 && (isObject(node.properties) || isObject(node.additionalProperties) ||
        isObject(node.patternProperties)))
    const isArraySchema = types.includes("array") ||
      (types.length === 0 && (node.items !== undefined || Array.isArray(node.prefixItems)))

    // format
    if (typeof node.format === "string") {
      const allowed = strict
        ? strictFormats.has(node.format)
        : gemini
        ? types.some((t) => geminiFormats[t]?.has(node.format as string) === true)
        : true
      if (allowed) out.format = node.format
      else hints.push(`format: ${node.format}`)
    }

    // enum / const
    const values: unknown = "const" in node ? [node.const] : node.enum
    if (Array.isArray(values)) {
      if (gemini && !values.every((v) => typeof v === "string")) {
        hints.push(`one of: ${values.map(render).join(", ")}`)
      } else if (!restricted && "const" in node) {
        out.const = node.const
      } else {
        out.enum = values
        if (gemini && types.length === 0) types = ["string"]
      }
    }

    // unions
    if (union !== undefined) {
      if (root && union.some((m) => isObject(m) && isBareObject(m))) {
        // `Schema.Struct({})` is `anyOf: [object, array]`: as parameters, no arguments
        return { schema: finishObject(out, hints, {}, strict ? [] : undefined, undefined, node.description), fix }
      }
      const members = union.map((m) => convert(m, stack, depth + 1, false))
      const collapsed = collapseEnums(members.map((m) => m.schema))
      if (collapsed !== undefined) {
        Object.assign(out, collapsed)
      } else if (gemini) {
        // no anyOf for Gemini: one shape that admits every member (decoding tells them apart)
        const merged = geminiUnion(members)
        const { description: own, ...schema } = merged.schema
        const description = withHints(node.description, typeof own === "string" ? [...hints, own] : hints)
        return {
          schema: orderDescription({ ...out, ...schema, ...(description !== undefined ? { description } : {}) }),
          fix: merged.fix
        }
      } else {
        const key = restricted || node.anyOf !== undefined ? "anyOf" : "oneOf"
        out[key] = members.map((m) => m.schema)
        if (members.some((m) => m.fix !== undefined)) {
          const memberFix = (value: unknown): unknown => {
            for (const member of members) {
              if (accepts(member.schema, value, outDefs)) return member.fix === undefined ? value : member.fix(value)
            }
            return value
          }
          fix = memberFix
        }
      }
    }

    if (isObjectSchema && !isArraySchema) {
      return objectNode(node, out, hints, stack, depth, root, types)
    }
    if (isArraySchema && !isObjectSchema) {
      return arrayNode(node, out, hints, stack, depth, types)
    }
    if (types.length > 0) out.type = types.length === 1 ? types[0] : types
    if (node.nullable === true && gemini) out.nullable = true
    const description = withHints(node.description, hints)
    if (description !== undefined) out.description = description
    if (restricted && !root && isFreeForm(out) && union === undefined) return jsonString(out)
    return { schema: orderDescription(out), fix }
  }

  const objectNode = (
    node: Json,
    out: Json,
    hints: Array<string>,
    stack: ReadonlyArray<string>,
    depth: number,
    root: boolean,
    types: ReadonlyArray<string>
  ): Compiled => {
    const properties = isObject(node.properties) ? node.properties : {}
    const names = Object.keys(properties)
    const required = Array.isArray(node.required)
      ? node.required.filter((r): r is string => typeof r === "string" && r in properties)
      : []
    const extra = node.additionalProperties
    const patterns = isObject(node.patternProperties) ? node.patternProperties : undefined
    const patternKey = patterns === undefined ? undefined : Object.keys(patterns)[0]
    const recordValue = names.length > 0
      ? undefined
      : isObject(extra)
      ? extra
      : patternKey !== undefined
      ? patterns![patternKey]
      : undefined
    const nullType = types.includes("null")

    if (restricted && recordValue !== undefined) {
      // a record: a list of { key, value } entries
      const keySchema: Json = isObject(node.propertyNames)
        ? convert(node.propertyNames, stack, depth + 1, false).schema
        : patternKey !== undefined
        ? { type: "string", pattern: patternKey }
        : { type: "string" }
      const value = convert(recordValue, stack, depth + 1, false)
      const item: Json = {
        type: "object",
        properties: { key: keySchema, value: value.schema },
        required: ["key", "value"]
      }
      if (strict) item.additionalProperties = false
      const schema: Json = { type: nullType ? ["array", "null"] : "array", items: item }
      const description = withHints(node.description, [...hints, "a map, as a list of { key, value } entries"])
      if (description !== undefined) schema.description = description
      const valueFix = value.fix
      return {
        schema: orderDescription(schema),
        fix: (v) => {
          if (!Array.isArray(v)) return v
          const record: Record<string, unknown> = {}
          for (const entry of v) {
            if (isObject(entry) && "key" in entry) {
              record[String(entry.key)] = valueFix === undefined ? entry.value : valueFix(entry.value)
            }
          }
          return record
        }
      }
    }

    if (restricted && names.length === 0 && !root) {
      // free-form object: the dialect needs every property named
      return jsonString(node)
    }

    const outProperties: Json = {}
    const fixes: Array<{ readonly name: string; readonly fix: Fix | undefined; readonly nullToAbsent: boolean }> = []
    for (const name of names) {
      const converted = convert(properties[name], stack, depth + 1, false)
      let schema = converted.schema
      let nullToAbsent = false
      if (strict && !required.includes(name) && !acceptsNull(schema, outDefs)) {
        schema = nullable(schema)
        nullToAbsent = true
      }
      outProperties[name] = schema
      if (converted.fix !== undefined || nullToAbsent) fixes.push({ name, fix: converted.fix, nullToAbsent })
    }
    let additional: unknown
    if (!restricted && extra !== undefined) {
      additional = isObject(extra) ? convert(extra, stack, depth + 1, false).schema : extra
    }
    if (!restricted && patterns !== undefined) {
      const converted: Json = {}
      for (const key in patterns) converted[key] = convert(patterns[key], stack, depth + 1, false).schema
      out.patternProperties = converted
    }
    if (!restricted && isObject(node.propertyNames)) {
      out.propertyNames = convert(node.propertyNames, stack, depth + 1, false).schema
    }
    const fix: Fix | undefined = fixes.length === 0 ? undefined : (value) => {
      if (!isObject(value)) return value
      const copy: Record<string, unknown> = { ...value }
      for (const f of fixes) {
        if (!(f.name in copy)) continue
        if (f.nullToAbsent && copy[f.name] === null) delete copy[f.name]
        else if (f.fix !== undefined) copy[f.name] = f.fix(copy[f.name])
      }
      return copy
    }
    const requiredOut = strict ? names : Array.isArray(node.required) || required.length > 0 ? required : undefined
    const result = finishObject(out, hints, outProperties, requiredOut, additional, node.description)
    if (nullType) result.type = ["object", "null"]
    return { schema: result, fix }
  }

  /** An object schema in a stable key order: type, description, properties, required, additionalProperties. */
  const finishObject = (
    out: Json,
    hints: ReadonlyArray<string>,
    properties: Json,
    required: ReadonlyArray<string> | undefined,
    additional: unknown,
    description?: unknown
  ): Json => {
    const { description: _d, type: _t, ...rest } = out
    const result: Json = { type: "object" }
    const text = withHints(description ?? _d, hints)
    if (text !== undefined) result.description = text
    Object.assign(result, rest)
    result.properties = properties
    if (gemini) {
      if (required !== undefined && required.length > 0) result.required = required
    } else {
      if (required !== undefined) result.required = required
      if (strict) result.additionalProperties = false
      else if (additional !== undefined) result.additionalProperties = additional
    }
    return result
  }

  const arrayNode = (
    node: Json,
    out: Json,
    hints: Array<string>,
    stack: ReadonlyArray<string>,
    depth: number,
    types: ReadonlyArray<string>
  ): Compiled => {
    const items = node.items
    const prefix = Array.isArray(items) ? items : Array.isArray(node.prefixItems) ? node.prefixItems : undefined
    const rest: unknown = Array.isArray(items) ? node.additionalItems : prefix !== undefined ? items : undefined
    const result: Json = { type: types.includes("null") ? ["array", "null"] : "array" }
    let fix: Fix | undefined
    if (prefix !== undefined) {
      const members = prefix.map((m) => convert(m, stack, depth + 1, false))
      const restConverted = isObject(rest) ? convert(rest, stack, depth + 1, false) : undefined
      const fixAt = (i: number): Fix | undefined => (members[i] ?? restConverted)?.fix
      if ([...members, restConverted].some((m) => m?.fix !== undefined)) {
        fix = (v) => (Array.isArray(v) ? v.map((x, i) => (fixAt(i) === undefined ? x : fixAt(i)!(x))) : v)
      }
      if (restricted) {
        // no tuples: an array of the union of the members, its length fixed
        const all = [...members, ...(restConverted !== undefined ? [restConverted] : [])]
        const unique = all.filter((m, i) => all.findIndex((t) => sameJson(m.schema, t.schema)) === i)
        if (unique.length === 1) result.items = unique[0]!.schema
        else if (gemini) {
          const merged = geminiUnion(unique)
          result.items = merged.schema
          if (merged.fix !== undefined) {
            const itemFix = merged.fix
            fix = (v) => (Array.isArray(v) ? v.map(itemFix) : v)
          }
        } else result.items = { anyOf: unique.map((m) => m.schema) }
        if (out.minItems === undefined) result.minItems = prefix.length
        if (rest === false) result.maxItems = prefix.length
        hints.push(`items in this order: ${members.map((m) => describeType(m.schema)).join(", ")}`)
      } else {
        result.prefixItems = members.map((m) => m.schema)
        if (rest === false) result.items = false
        else if (restConverted !== undefined) result.items = restConverted.schema
      }
    } else if (isObject(items) || items === undefined || items === true) {
      const converted = convert(items, stack, depth + 1, false)
      if (isObject(items) || restricted) result.items = converted.schema
      const itemFix = converted.fix
      if (itemFix !== undefined) fix = (v) => (Array.isArray(v) ? v.map(itemFix) : v)
    }
    const description = withHints(node.description, hints)
    if (description !== undefined) result.description = description
    for (const key in out) if (!(key in result)) result[key] = out[key]
    return { schema: orderDescription(result), fix }
  }

  const root = convert(source, [], 0, true)
  let schema = root.schema
  if (schema.type !== "object" || !isObject(schema.properties)) {
    // tool parameters are an object: an empty one when the schema says nothing usable
    if (isFreeForm(schema) || schema.type === "object") {
      schema = finishObject(schema, [], {}, strict ? [] : undefined, strict ? false : undefined)
    }
  }
  if (outDefs.size > 0) {
    const $defs: Json = {}
    for (const [name, def] of outDefs) $defs[name] = def.schema
    schema = { ...schema, $defs }
  }
  return { schema, fix: root.fix }
}

const isStringEnum = (schema: Json): boolean =>
  schema.type === "string" && Array.isArray(schema.enum) &&
  Object.keys(schema).every((k) => k === "type" || k === "enum" || k === "description" || k === "title")

/** `{ type: "object" }` with nothing else (a member of `Schema.Struct({})`'s union). */
const isBareObject = (schema: Json): boolean =>
  schema.type === "object" && !isObject(schema.properties) && schema.additionalProperties === undefined

/** `anyOf` of one-value enums of one primitive type → one `enum`. */
const collapseEnums = (members: ReadonlyArray<Json>): Json | undefined => {
  if (members.length < 2) return undefined
  let type: string | undefined
  const values: Array<unknown> = []
  for (const member of members) {
    for (const key in member) {
      if (key !== "type" && key !== "enum" && key !== "title" && key !== "description") return undefined
    }
    if (typeof member.type !== "string" || !primitiveTypes.has(member.type) || !Array.isArray(member.enum)) {
      return undefined
    }
    if (type !== undefined && type !== member.type) return undefined
    type = member.type
    values.push(...member.enum)
  }
  return { type, enum: values }
}

const describeType = (schema: Json): string => {
  if (Array.isArray(schema.enum)) return schema.enum.map(render).join(" | ")
  const types = typesOf(schema)
  if (types.length > 0) return types.join(" | ")
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((m) => (isObject(m) ? describeType(m) : "any")).join(" | ")
  return "any"
}

/** Shallow merge of two object schemas (for `allOf`): properties and `required` are unions. */
const mergeSchemas = (a: Json, b: Json): Json => {
  const out: Json = { ...b, ...a }
  if (isObject(a.properties) || isObject(b.properties)) {
    out.properties = {
      ...(isObject(b.properties) ? b.properties : {}),
      ...(isObject(a.properties) ? a.properties : {})
    }
  }
  const required = [
    ...(Array.isArray(a.required) ? a.required : []),
    ...(Array.isArray(b.required) ? b.required : [])
  ]
  if (required.length > 0) out.required = [...new Set(required)]
  if (a.type === undefined && b.type !== undefined) out.type = b.type
  return out
}

/** Put `type` and `description` first (readability of the JSON sent). */
const orderDescription = (schema: Json): Json => {
  if (schema.description === undefined && schema.type === undefined) return schema
  const out: Json = {}
  if (schema.type !== undefined) out.type = schema.type
  if (schema.description !== undefined) out.description = schema.description
  for (const key in schema) if (!(key in out)) out[key] = schema[key]
  return out
}
