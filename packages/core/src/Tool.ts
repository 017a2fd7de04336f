/**
 * Tools the model may call. One definition gives the JSON Schema sent to providers, the
 * decoder for the arguments the model sends back, and the TypeScript types of the handler.
 *
 * - `Tool.make` — parameters (and optionally the result) as an `effect/Schema`;
 * - `Tool.dynamic` — parameters as a JSON Schema object, arguments as `unknown` (tools
 *   discovered at run time, e.g. from an MCP server).
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
import type * as Effect from "effect/Effect"
import * as JSONSchema from "effect/JSONSchema"
import type * as Schema from "effect/Schema"
import type * as LlmError from "./LlmError.js"

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
  readonly success: Schema.Schema.AnyNoContext | undefined
  readonly handler: (params: never) => Effect.Effect<unknown, LlmError.ToolError, unknown>
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
    handler: options.handler
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
}): Tool<unknown, unknown, R> => {
  checkName(options.name)
  return {
    _tag: "Tool",
    name: options.name,
    description: options.description,
    jsonSchema: options.parameters,
    parameters: undefined,
    success: undefined,
    handler: options.handler
  }
}
