/**
 * Tools the model may call. One definition gives the JSON Schema sent to providers, the
 * decoder for the arguments the model sends back, and the TypeScript types of the handler.
 *
 * - `Tool.make` — parameters (and optionally the result) as an `effect/Schema`;
 * - `Tool.dynamic` — parameters as a JSON Schema object, arguments as `unknown` (tools
 *   discovered at run time, e.g. from an MCP server).
 *
 * Each provider accepts its own flavour of JSON Schema: `Tool.definitionFor(tool, dialect)`
 * gives it (OpenAI strict mode, Anthropic, Gemini's OpenAPI subset; see `Dialect`), and
 * `Tool.decodeArguments` undoes the flavour's changes and decodes the model's arguments
 * with the tool's Schema. `ToolLoop` does both for you.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Tool } from "@llm-fiber/core"
 *
 * const weather = Tool.make("weather", {
 *   description: "Current weather in a city",
 *   parameters: Schema.Struct({ city: Schema.String }),
 *   handler: ({ city }) => Effect.succeed({ city, celsius: 21 })
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as JSONSchema from "effect/JSONSchema"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as ChatRequest from "./ChatRequest.js"
import * as ToolSchema from "./internal/toolSchema.js"
import * as LlmError from "./LlmError.js"

/**
 * A JSON Schema object (as sent to providers).
 *
 * @since 0.1.0
 * @category models
 */
export type JsonSchema = Readonly<Record<string, unknown>>

/**
 * A tool: a name, a description, its parameters (a `Schema` or a JSON Schema), and the
 * handler that runs a call. `R` is what the handler needs from context.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tool<Params = unknown, Success = unknown, R = never> {
  readonly _tag: "Tool"
  readonly name: string
  readonly description?: string | undefined
  /** The parameters' JSON Schema, as generated (before any provider's restrictions). */
  readonly jsonSchema: JsonSchema
  /** The parameters' Schema (`undefined` for a dynamic tool: arguments stay `unknown`). */
  readonly parameters: Schema.Schema<Params, unknown> | undefined
  /** The result's Schema (encodes the handler's value for the model), when given. */
  readonly success: Schema.Schema<Success, unknown> | undefined
  /** Run one call with decoded arguments. */
  readonly handler: (params: Params) => Effect.Effect<Success, LlmError.ToolError, R>
  /**
   * Ask OpenAI to enforce the schema exactly (strict mode). The schema sent is then made
   * strict-compatible (see `parametersFor`); other providers ignore it.
   */
  readonly strict?: boolean | undefined
}

/**
 * Any tool, whatever its types (what a `Toolkit` holds).
 *
 * @since 0.1.0
 * @category models
 */
export interface Any {
  readonly _tag: "Tool"
  readonly name: string
  readonly description?: string | undefined
  readonly jsonSchema: JsonSchema
  readonly parameters: Schema.Schema.AnyNoContext | undefined
  /** `Schema.Schema.All`: also a tool whose handler never succeeds (`Success` = `never`). */
  readonly success: Schema.Schema.All | undefined
  readonly handler: (params: never) => Effect.Effect<unknown, LlmError.ToolError, unknown>
  readonly strict?: boolean | undefined
}

/**
 * What a tool's handler needs from context.
 *
 * @since 0.1.0
 * @category models
 */
export type Context<T> = T extends
  { readonly handler: (params: never) => Effect.Effect<unknown, LlmError.ToolError, infer R> } ? R : never

/**
 * Tool names providers accept: letters, digits, `_` and `-`, 1 to 64 characters.
 *
 * @since 0.1.0
 * @category validation
 */
export const namePattern = /^[a-zA-Z0-9_-]{1,64}$/

const checkName = (name: string): void => {
  if (!namePattern.test(name)) {
    throw new TypeError(`tool name "${name}" must be 1-64 letters, digits, "_" or "-"`)
  }
}

/**
 * A tool from a `Schema` of its parameters (an object schema: the model sends named
 * arguments). The JSON Schema is generated once, with `JSONSchema.make`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Params, I, Success = unknown, SI = unknown, R = never>(
  name: string,
  options: {
    readonly description?: string | undefined
    readonly parameters: Schema.Schema<Params, I>
    readonly success?: Schema.Schema<Success, SI> | undefined
    readonly handler: (params: Params) => Effect.Effect<Success, LlmError.ToolError, R>
    /** OpenAI strict mode (see `Tool.strict`). */
    readonly strict?: boolean | undefined
  }
): Tool<Params, Success, R> => {
  checkName(name)
  const generated = JSONSchema.make(options.parameters) as unknown as Record<string, unknown>
  const { $schema: _ignored, ...jsonSchema } = generated
  return {
    _tag: "Tool",
    name,
    description: options.description,
    jsonSchema,
    parameters: options.parameters as unknown as Schema.Schema<Params, unknown>,
    success: options.success as unknown as Schema.Schema<Success, unknown> | undefined,
    handler: options.handler,
    ...(options.strict !== undefined ? { strict: options.strict } : {})
  }
}

/**
 * A tool from a JSON Schema (arguments arrive as parsed JSON, unchecked beyond being an
 * object) — for tools known only at run time, such as an MCP server's.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dynamic = <R = never>(options: {
  readonly name: string
  readonly description?: string | undefined
  readonly parameters: JsonSchema
  readonly handler: (args: unknown) => Effect.Effect<unknown, LlmError.ToolError, R>
  /** OpenAI strict mode (see `Tool.strict`). */
  readonly strict?: boolean | undefined
}): Tool<unknown, unknown, R> => {
  checkName(options.name)
  return {
    _tag: "Tool",
    name: options.name,
    description: options.description,
    jsonSchema: options.parameters,
    parameters: undefined,
    success: undefined,
    handler: options.handler,
    ...(options.strict !== undefined ? { strict: options.strict } : {})
  }
}

// -----------------------------------------------------------------------------
// provider schemas
// -----------------------------------------------------------------------------

/**
 * The schema flavour of a provider's tool parameters:
 *
 * - `openai` (Chat Completions and Responses): JSON Schema; with `strict: true`, the
 *   strict-mode subset (`additionalProperties: false` and every property in `required`
 *   on every object, optional properties as nullable types, no `$ref` siblings);
 * - `anthropic`: JSON Schema (draft 2020-12) as `input_schema`; recursive `$defs` kept;
 * - `gemini`: the OpenAPI 3.0 subset of Gemini's `Schema` — no `$ref` / `$defs`
 *   (inlined; recursion unrolled twice), no records or free-form values (sent as entries
 *   and JSON strings), string-only enums, Gemini's formats only;
 * - `generic`: JSON Schema for any other server (as `openai`, strict when asked).
 *
 * Every flavour inlines non-recursive `$ref`s and drops `$schema` / `$id` / `$comment`.
 *
 * @since 0.1.0
 * @category models
 */
export type Dialect = "openai" | "anthropic" | "gemini" | "generic"

/**
 * The flavour for a provider's wire format (`Provider.api`: `openai-chat`,
 * `openai-responses`, `anthropic`, `gemini`; anything else is `generic`).
 *
 * @since 0.1.0
 * @category provider schemas
 */
export const dialectOf = (api: string): Dialect =>
  api.startsWith("openai") ? "openai" : api === "anthropic" ? "anthropic" : api === "gemini" ? "gemini" : "generic"

const compiledCache = new WeakMap<Any, Map<Dialect, ToolSchema.Compiled>>()

const compiled = (tool: Any, dialect: Dialect): ToolSchema.Compiled => {
  let byDialect = compiledCache.get(tool)
  if (byDialect === undefined) {
    byDialect = new Map()
    compiledCache.set(tool, byDialect)
  }
  let out = byDialect.get(dialect)
  if (out === undefined) {
    out = ToolSchema.compile(tool.jsonSchema, dialect, tool.strict === true)
    byDialect.set(dialect, out)
  }
  return out
}

const isStrictFor = (tool: Any, dialect: Dialect): boolean =>
  tool.strict === true && (dialect === "openai" || dialect === "generic")

/**
 * The parameters' JSON Schema as a provider accepts it (computed once per tool and
 * flavour). Keywords a flavour cannot carry (OpenAI strict: `minLength`, `maxLength`,
 * unknown formats…; Gemini: `exclusiveMinimum`, `multipleOf`, non-string enums…) are moved
 * into the description as a hint; the arguments are still checked against the full
 * `Schema` when they are decoded.
 *
 * @since 0.1.0
 * @category provider schemas
 */
export const parametersFor = (tool: Any, dialect: Dialect = "generic"): JsonSchema => compiled(tool, dialect).schema

/**
 * The `ChatRequest.ToolDefinition` of a tool for a provider (`strict: true` only where
 * the strict schema was produced: `openai` and `generic`).
 *
 * @since 0.1.0
 * @category provider schemas
 */
export const definitionFor = (tool: Any, dialect: Dialect = "generic"): ChatRequest.ToolDefinition => ({
  name: tool.name,
  ...(tool.description !== undefined ? { description: tool.description } : {}),
  parameters: parametersFor(tool, dialect),
  ...(isStrictFor(tool, dialect) ? { strict: true } : {})
})

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const invalidArguments = (tool: Any, detail: string) =>
  new LlmError.ToolError({
    message: `invalid arguments for tool "${tool.name}": ${detail}`,
    toolName: tool.name,
    code: "invalid_arguments"
  }, true)

/** One `path: message` per problem (compact, for the model). */
const formatIssues = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    `${issue.path.length === 0 ? "(arguments)" : issue.path.map(String).join(".")}: ${issue.message}`
  ).join("; ")

const preview = (text: string): string => text.length > 200 ? `${text.slice(0, 200)}…` : text

/**
 * Decode the arguments the model sent for a tool (`ChatResult.toolCalls[].arguments`):
 * undo the flavour's shape changes (strict mode's `null` for an absent optional, map
 * entries, JSON strings), then decode with the tool's `Schema` (a dynamic tool: check the
 * arguments are an object). Fails with a `ToolError` (`code: "invalid_arguments"`) whose
 * message says what is wrong — what the tool loop tells the model.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeArguments: {
  <Params, Success, R>(
    tool: Tool<Params, Success, R>,
    args: unknown,
    dialect?: Dialect
  ): Effect.Effect<Params, LlmError.ToolError>
  (tool: Any, args: unknown, dialect?: Dialect): Effect.Effect<unknown, LlmError.ToolError>
} = (tool: Any, args: unknown, dialect: Dialect = "generic"): Effect.Effect<unknown, LlmError.ToolError> =>
  Effect.suspend(() => {
    if (typeof args === "string") {
      return Effect.fail(invalidArguments(tool, `the arguments are not valid JSON: ${preview(args)}`))
    }
    if (!isRecord(args)) {
      return Effect.fail(
        invalidArguments(tool, `the arguments must be a JSON object (got ${preview(String(JSON.stringify(args)))})`)
      )
    }
    const fix = compiled(tool, dialect).fix
    const value = fix === undefined ? args : fix(args)
    if (tool.parameters === undefined) return Effect.succeed(value)
    const decoded = Schema.decodeUnknownEither(tool.parameters)(value, { errors: "all" })
    return Either.isRight(decoded)
      ? Effect.succeed<unknown>(decoded.right)
      : Effect.fail(invalidArguments(tool, formatIssues(decoded.left)))
  })

/**
 * Encode a handler's value for the model with the tool's `success` Schema (as it is when
 * the tool has none). A value its own Schema cannot encode is a bug of the tool: a defect.
 *
 * @since 0.1.0
 * @category decoding
 */
export const encodeResult = (tool: Any, value: unknown): Effect.Effect<unknown> =>
  tool.success === undefined
    ? Effect.succeed(value)
    : Effect.orDie(Schema.encodeUnknown(tool.success as Schema.Schema<unknown, unknown>)(value))
