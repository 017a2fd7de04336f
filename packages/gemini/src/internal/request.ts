/**
 * ChatRequest → Gemini `GenerateContentRequest` body (camelCase), and the JSON Schema →
 * Gemini `Schema` conversion.
 *
 * @internal
 */
import type * as ChatRequest from "@llm-fiber/core/ChatRequest"
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Message from "@llm-fiber/core/Message"
import type * as Provider from "@llm-fiber/core/Provider"
import * as Either from "effect/Either"
import type * as GeminiWire from "../GeminiWire.js"

/** How a provider instance shapes its requests. */
export interface BuildOptions {
  /** The provider's registry name: `providerOptions[name]` is merged into the body. */
  readonly providerName: string
  /**
   * `openapi` (default): tool parameters and response schemas are converted to Gemini's
   * OpenAPI-style `Schema` (`parameters`, `responseSchema`); `jsonSchema`: sent unchanged as
   * `parametersJsonSchema` / `responseJsonSchema`.
   */
  readonly schemaMode: "openapi" | "jsonSchema"
}

type Json = Record<string, unknown>
type MutablePart = { -readonly [K in keyof GeminiWire.Part]: GeminiWire.Part[K] }
type MutableContent = { role: "user" | "model"; parts: Array<MutablePart> }

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const invalid = (providerName: string, message: string, param: string) =>
  new LlmError.InvalidRequestError({ provider: providerName, message: `${providerName}: ${message}`, param }, true)

// -----------------------------------------------------------------------------
// images
// -----------------------------------------------------------------------------

const base64OfText = (text: string): string => {
  const bytes = new TextEncoder().encode(text)
  let binary = ""
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary)
}

/** `data:[<mime>][;base64],<data>` → `inlineData`. */
const fromDataUrl = (url: string, fallbackType: string | undefined): MutablePart | undefined => {
  const comma = url.indexOf(",")
  if (comma < 0) return undefined
  const meta = url.slice(5, comma)
  const payload = url.slice(comma + 1)
  const segments = meta.split(";")
  const base64 = segments.includes("base64")
  const mimeType = segments[0] !== undefined && segments[0] !== "" ? segments[0] : fallbackType ?? "text/plain"
  let data = payload
  if (!base64) {
    try {
      data = base64OfText(decodeURIComponent(payload))
    } catch {
      return undefined
    }
  }
  return { inlineData: { mimeType, data } }
}

const imagePart = (part: Message.ImagePart, providerName: string, where: string): Either.Either<
  MutablePart,
  LlmError.InvalidRequestError
> => {
  if (part.url !== undefined) {
    if (part.url.startsWith("data:")) {
      const inline = fromDataUrl(part.url, part.mediaType)
      return inline !== undefined ?
        Either.right(inline) :
        Either.left(invalid(providerName, `${where} is a malformed data: URL`, where))
    }
    return Either.right({
      fileData: part.mediaType !== undefined ?
        { fileUri: part.url, mimeType: part.mediaType } :
        { fileUri: part.url }
    })
  }
  return Either.right({ inlineData: { mimeType: part.mediaType ?? "application/octet-stream", data: part.data ?? "" } })
}

// -----------------------------------------------------------------------------
// tool calls and results
// -----------------------------------------------------------------------------

const argsObject = (args: unknown): Json | undefined => {
  if (args === undefined || args === null) return {}
  if (isObject(args)) return args
  if (typeof args === "string") {
    if (args.trim() === "") return {}
    try {
      const parsed: unknown = JSON.parse(args)
      return isObject(parsed) ? parsed : undefined
    } catch {
      return undefined
    }
  }
  return undefined
}

/**
 * The `functionResponse.response` object: a plain object as it is, anything else as
 * `{ result: value }`; a failed tool (`isError`) as `{ error: value }` unless it already
 * is an object with an `error` key.
 */
const responseObject = (part: Message.ToolResultPart): Json => {
  const value = part.result
  if (part.isError === true) return isObject(value) && "error" in value ? value : { error: value ?? null }
  return isObject(value) ? value : { result: value ?? null }
}

// -----------------------------------------------------------------------------
// messages → contents
// -----------------------------------------------------------------------------

/** Append a content, merging it into the previous one when the role is the same. */
const push = (contents: Array<MutableContent>, role: "user" | "model", parts: Array<MutablePart>) => {
  if (parts.length === 0) return
  const last = contents[contents.length - 1]
  if (last !== undefined && last.role === role) last.parts.push(...parts)
  else contents.push({ role, parts })
}

/** The conversation's contents and system instruction. */
export const buildContents = (
  messages: ReadonlyArray<Message.Message>,
  providerName: string
): Either.Either<
  { readonly contents: Array<GeminiWire.Content>; readonly system: Array<string> },
  LlmError.InvalidRequestError
> => {
  const contents: Array<MutableContent> = []
  const system: Array<string> = []
  // tool-call id → function name, from the assistant messages seen so far
  const callNames = new Map<string, string>()
  for (let m = 0; m < messages.length; m++) {
    const message = messages[m]!
    switch (message.role) {
      case "system": {
        for (const part of message.content) if (part.text !== "") system.push(part.text)
        break
      }
      case "user": {
        const parts: Array<MutablePart> = []
        for (let i = 0; i < message.content.length; i++) {
          const part = message.content[i]!
          if (part.type === "text") {
            parts.push({ text: part.text })
          } else {
            const image = imagePart(part, providerName, `messages[${m}].content[${i}]`)
            if (Either.isLeft(image)) return Either.left(image.left)
            parts.push(image.right)
          }
        }
        push(contents, "user", parts)
        break
      }
      case "assistant": {
        const parts: Array<MutablePart> = []
        let signature: string | undefined
        for (let i = 0; i < message.content.length; i++) {
          const part = message.content[i]!
          if (part.type === "text") {
            if (part.text !== "") parts.push({ text: part.text })
          } else if (part.type === "tool-call") {
            const args = argsObject(part.arguments)
            if (args === undefined) {
              return Either.left(invalid(
                providerName,
                `messages[${m}].content[${i}].arguments must be a JSON object (Gemini's functionCall.args)`,
                `messages[${m}].content[${i}].arguments`
              ))
            }
            callNames.set(part.id, part.name)
            parts.push({ functionCall: { name: part.name, args } })
          } else if (signature === undefined && part.signature !== undefined && part.signature !== "") {
            // reasoning text is not sent back; its thought signature is
            signature = part.signature
          }
        }
        if (signature !== undefined && parts.length > 0) {
          // Gemini wants the signature back on the part it came with: the first function
          // call, or (a text answer) the text
          const target = parts.find((p) => p.functionCall !== undefined) ?? parts[parts.length - 1]!
          target.thoughtSignature = signature
        }
        push(contents, "model", parts)
        break
      }
      case "tool": {
        const parts: Array<MutablePart> = []
        for (let i = 0; i < message.content.length; i++) {
          const part = message.content[i]!
          const name = part.name ?? callNames.get(part.toolCallId)
          if (name === undefined) {
            return Either.left(invalid(
              providerName,
              `messages[${m}].content[${i}] answers tool call "${part.toolCallId}", but no earlier assistant ` +
                "message made that call; Gemini needs the function name: give the tool result a name",
              `messages[${m}].content[${i}].name`
            ))
          }
          parts.push({ functionResponse: { name, response: responseObject(part) } })
        }
        push(contents, "user", parts)
        break
      }
    }
  }
  return Either.right({ contents, system })
}

// -----------------------------------------------------------------------------
// JSON Schema → Gemini Schema
// -----------------------------------------------------------------------------

const typeNames: Readonly<Record<string, NonNullable<GeminiWire.Schema["type"]>>> = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
  null: "NULL"
}

/** Keywords copied as they are (Gemini's `Schema` has them with the same meaning). */
const copied: ReadonlyArray<string> = [
  "description",
  "format",
  "title",
  "pattern",
  "minimum",
  "maximum",
  "default",
  "example",
  "propertyOrdering"
]

/** Integer keywords Gemini declares as int64 (strings in JSON). */
const int64: ReadonlyArray<string> = [
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minProperties",
  "maxProperties"
]

const maxDepth = 32

/**
 * Convert a JSON Schema to Gemini's OpenAPI-style `Schema`:
 * - `type` upper-cased; `["T", "null"]` → `T` + `nullable: true`; several types → `anyOf`;
 * - `const` → a one-value `enum`; `enum` kept only when every value is a string (Gemini
 *   enums are string-only), otherwise dropped;
 * - `oneOf` → `anyOf`; a single-member `allOf` is merged in; local `$ref`s (`#/$defs/…`,
 *   `#/definitions/…`) are inlined (a recursive reference becomes `{ type: "OBJECT" }`);
 * - `minItems`/`maxItems`/`minLength`/`maxLength`/`minProperties`/`maxProperties` as
 *   strings (int64);
 * - every other keyword is dropped: `$schema`, `$id`, `$defs`, `definitions`,
 *   `additionalProperties`, `unevaluatedProperties`, `patternProperties`, `examples`,
 *   `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `not`, `if`/`then`/`else`,
 *   `uniqueItems`, `prefixItems`, `contains`, `readOnly`, `writeOnly`, `deprecated`, …
 */
export const toGeminiSchema = (schema: Json): GeminiWire.Schema => {
  const defs: Json = {
    ...(isObject(schema.definitions) ? schema.definitions : {}),
    ...(isObject(schema.$defs) ? schema.$defs : {})
  }
  const resolve = (ref: string): Json | undefined => {
    const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)
    if (match === null) return undefined
    const target = defs[match[1]!.replace(/~1/g, "/").replace(/~0/g, "~")]
    return isObject(target) ? target : undefined
  }
  const convert = (node: Json, depth: number, refs: ReadonlyArray<string>): Json => {
    if (depth > maxDepth) return { type: "OBJECT" }
    let source = node
    if (typeof source.$ref === "string") {
      const ref = source.$ref
      const target = refs.includes(ref) ? undefined : resolve(ref)
      if (target === undefined) return { type: "OBJECT" }
      const { $ref: _ref, ...siblings } = source
      source = { ...target, ...siblings }
      refs = [...refs, ref]
    }
    if (Array.isArray(source.allOf) && source.allOf.length === 1 && isObject(source.allOf[0])) {
      const { allOf, ...rest } = source
      source = { ...(allOf[0] as Json), ...rest }
    }
    const out: Json = {}
    for (const key of copied) if (source[key] !== undefined) out[key] = source[key]
    for (const key of int64) {
      const value = source[key]
      if (typeof value === "number" && Number.isInteger(value)) out[key] = String(value)
    }
    let nullable = source.nullable === true
    const rawType = source.type
    let types: Array<string> = typeof rawType === "string" ? [rawType] : Array.isArray(rawType) ?
      rawType.filter((t): t is string => typeof t === "string") :
      []
    if (types.includes("null") && types.length > 1) {
      nullable = true
      types = types.filter((t) => t !== "null")
    }
    if (types.length === 0) {
      if (isObject(source.properties)) types = ["object"]
      else if (source.items !== undefined) types = ["array"]
    }
    if (types.length === 1) {
      const name = typeNames[types[0]!]
      if (name !== undefined) out.type = name
    } else if (types.length > 1) {
      out.anyOf = types.flatMap((t) => (typeNames[t] !== undefined ? [{ type: typeNames[t] }] : []))
    }
    if (nullable) out.nullable = true
    const values: unknown = source.const !== undefined ? [source.const] : source.enum
    if (Array.isArray(values) && values.length > 0 && values.every((v) => typeof v === "string")) {
      out.enum = values
      if (out.type === undefined) out.type = "STRING"
    }
    if (isObject(source.properties)) {
      const properties: Json = {}
      for (const [name, value] of Object.entries(source.properties)) {
        properties[name] = isObject(value) ? convert(value, depth + 1, refs) : {}
      }
      out.properties = properties
      if (Array.isArray(source.required)) {
        const required = source.required.filter((r): r is string => typeof r === "string" && r in properties)
        if (required.length > 0) out.required = required
      }
    }
    if (isObject(source.items)) out.items = convert(source.items, depth + 1, refs)
    const union = Array.isArray(source.anyOf) ? source.anyOf : Array.isArray(source.oneOf) ? source.oneOf : undefined
    if (union !== undefined && out.anyOf === undefined) {
      const members = union.filter(isObject)
      // `anyOf: [T, { type: "null" }]` is a nullable T
      const nonNull = members.filter((m) => m.type !== "null")
      if (nonNull.length < members.length) out.nullable = true
      if (nonNull.length === 1 && out.type === undefined) {
        const single = convert(nonNull[0]!, depth + 1, refs)
        Object.assign(out, single, out.nullable === true ? { nullable: true } : {})
      } else if (nonNull.length > 0) {
        out.anyOf = nonNull.map((m) => convert(m, depth + 1, refs))
      }
    }
    return out
  }
  return convert(schema, 0, []) as GeminiWire.Schema
}

const hasProperties = (schema: GeminiWire.Schema): boolean =>
  isObject(schema.properties) ? Object.keys(schema.properties).length > 0 : schema.type !== "OBJECT"

// -----------------------------------------------------------------------------
// the body
// -----------------------------------------------------------------------------

const functionCallingConfig = (choice: ChatRequest.ToolChoice): GeminiWire.FunctionCallingConfig => {
  if (typeof choice !== "string") return { mode: "ANY", allowedFunctionNames: [choice.name] }
  switch (choice) {
    case "auto":
      return { mode: "AUTO" }
    case "none":
      return { mode: "NONE" }
    case "required":
      return { mode: "ANY" }
  }
}

/** `generationConfig` fields that `providerOptions.gemini` may give at the top level. */
const generationConfigKeys: ReadonlySet<string> = new Set([
  "candidateCount",
  "enableEnhancedCivicAnswers",
  "frequencyPenalty",
  "imageConfig",
  "logprobs",
  "maxOutputTokens",
  "mediaResolution",
  "presencePenalty",
  "responseJsonSchema",
  "responseLogprobs",
  "responseMimeType",
  "responseModalities",
  "responseSchema",
  "seed",
  "speechConfig",
  "stopSequences",
  "temperature",
  "thinkingConfig",
  "topK",
  "topP"
])

/**
 * Build the body of `POST …:generateContent` / `…:streamGenerateContent`.
 *
 * `providerOptions[providerName]` is merged last: `generationConfig` fields (given inside
 * `generationConfig` or at the top level, e.g. `thinkingConfig`) go into
 * `generationConfig`, everything else (`safetySettings`, `cachedContent`, `toolConfig`,
 * `tools`, …) replaces the top-level field; a key set to `undefined` removes the field.
 */
export const buildGenerateContentBody = (
  request: ChatRequest.ChatRequest,
  options: BuildOptions
): Either.Either<GeminiWire.GenerateContentRequest, LlmError.InvalidRequestError> => {
  const name = options.providerName
  const built = buildContents(request.messages, name)
  if (Either.isLeft(built)) return Either.left(built.left)
  const { contents, system } = built.right
  if (contents.length === 0) {
    return Either.left(
      invalid(name, "the request has no user or assistant message (Gemini needs contents)", "messages")
    )
  }
  const body: Json = { contents }
  if (system.length > 0) body.systemInstruction = { parts: system.map((text) => ({ text })) }
  const config: Json = {}
  if (request.temperature !== undefined) config.temperature = request.temperature
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens
  if (request.topP !== undefined) config.topP = request.topP
  if (request.stop !== undefined && request.stop.length > 0) config.stopSequences = request.stop
  if (request.seed !== undefined) config.seed = request.seed
  const format = request.responseFormat
  if (format !== undefined && format.type !== "text") {
    config.responseMimeType = "application/json"
    if (format.type === "json_schema") {
      if (options.schemaMode === "jsonSchema") config.responseJsonSchema = format.schema
      else config.responseSchema = toGeminiSchema(format.schema)
    }
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = [{
      functionDeclarations: request.tools.map((tool): GeminiWire.FunctionDeclaration => {
        if (options.schemaMode === "jsonSchema") {
          return { name: tool.name, description: tool.description ?? "", parametersJsonSchema: tool.parameters }
        }
        const parameters = toGeminiSchema(tool.parameters)
        // Gemini rejects an OBJECT schema without properties: a tool without parameters has none
        return hasProperties(parameters) ?
          { name: tool.name, description: tool.description ?? "", parameters } :
          { name: tool.name, description: tool.description ?? "" }
      })
    }]
  }
  if (request.toolChoice !== undefined) {
    body.toolConfig = { functionCallingConfig: functionCallingConfig(request.toolChoice) }
  }
  const extra = request.providerOptions?.[name]
  if (extra !== undefined) {
    for (const key in extra) {
      const value = extra[key]
      if (key === "generationConfig" && isObject(value)) {
        for (const inner in value) {
          if (value[inner] === undefined) delete config[inner]
          else config[inner] = value[inner]
        }
      } else if (generationConfigKeys.has(key)) {
        if (value === undefined) delete config[key]
        else config[key] = value
      } else if (key !== "contents") {
        if (value === undefined) delete body[key]
        else body[key] = value
      }
    }
  }
  if (Object.keys(config).length > 0) body.generationConfig = config
  return Either.right(body as unknown as GeminiWire.GenerateContentRequest)
}

/** The body of `POST …:batchEmbedContents`. */
export const buildEmbedBody = (call: Provider.EmbedCall, modelPath: string): GeminiWire.BatchEmbedContentsRequest => ({
  requests: call.input.map((text) => ({
    model: modelPath,
    content: { parts: [{ text }] },
    ...(call.dimensions !== undefined ? { outputDimensionality: call.dimensions } : {})
  }))
})
