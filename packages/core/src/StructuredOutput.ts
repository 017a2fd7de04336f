/**
 * Structured output: ask a model for a value of an `effect/Schema`, get it decoded — from
 * any provider.
 *
 * How the structure is asked for (`mode`, chosen per call by `auto`):
 * - `native` — the provider constrains the output by a JSON Schema: OpenAI
 *   `response_format: json_schema` (Chat Completions) / `text.format` (Responses) with
 *   `strict: true` and the strict-mode transform (every property required, optional ones
 *   nullable — `null`s are turned back into missing keys before decoding), Gemini
 *   `responseMimeType: application/json` + `responseSchema`, OpenAI-compatible servers
 *   that advertise `jsonSchema`;
 * - `tool` — forced tool use: one tool named after the schema, `toolChoice` on it, the
 *   value read from the call's input (Anthropic; models the catalog lists with tools but
 *   without JSON-schema output);
 * - `prompt` — a system instruction with the JSON Schema and "answer with only JSON"; the
 *   JSON is then found in the text (Markdown fences and leading prose are tolerated).
 *
 * A root that is not an object (an array, a string…) is sent wrapped as `{ value: … }`
 * in `native` and `tool` mode, and unwrapped before decoding.
 *
 * Every answer is decoded with the `Schema`. When it is not JSON or does not decode, the
 * model is shown its answer and the decode error (the `TreeFormatter` text) and asked
 * again, up to `maxRepairs` times (default 1); then the call fails with a
 * `StructuredOutputError` carrying the issue and the raw text. An answer cut off by
 * `maxTokens` (finish reason `length`) fails at once.
 *
 * `streamObject` streams `Partial` values parsed from the partial JSON as it arrives (text
 * deltas, or the tool call's argument deltas in `tool` mode) — each one only when the value
 * changed, each one extending the previous — and ends with `Done` holding the decoded value.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { StructuredOutput } from "@llm-fiber/core"
 *
 * class Recipe extends Schema.Class<Recipe>("Recipe")({
 *   title: Schema.String,
 *   minutes: Schema.Number,
 *   ingredients: Schema.Array(Schema.String)
 * }) {}
 *
 * const program = Effect.gen(function*() {
 *   const { value, result } = yield* StructuredOutput.generate({
 *     model: "gpt-4o-mini",
 *     messages: "A quick pancake recipe",
 *     schema: Recipe
 *   })
 *   console.log(value.title, value.ingredients.length, result.usage)
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Catalog from "./Catalog.js"
import * as JsonSchemaInternal from "./internal/jsonSchema.js"
import * as PartialJsonInternal from "./internal/partialJson.js"
import * as internal from "./internal/structuredOutput.js"
import * as LlmClient from "./LlmClient.js"
import type * as LlmError from "./LlmError.js"
import type * as Provider from "./Provider.js"

/**
 * How to ask for the structure: `auto` (the default) picks `native`, `tool` or `prompt`
 * per provider and model; the others force one.
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = internal.Mode

/**
 * The mode a call used.
 *
 * @since 0.1.0
 * @category models
 */
export type ResolvedMode = internal.ResolvedMode

/**
 * A chat request (without `responseFormat`, `tools` and `toolChoice`, which structured
 * output sets) plus the schema of the answer.
 *
 * @since 0.1.0
 * @category models
 */
export type Options<A, I> = internal.Options<A, I>

/**
 * A decoded answer.
 *
 * @since 0.1.0
 * @category models
 */
export type Result<A> = internal.Result<A>

/**
 * A partial value of `streamObject`: the JSON so far, parsed tolerantly (encoded side, not
 * decoded). `attempt` is 1 unless a repair started over.
 *
 * @since 0.1.0
 * @category models
 */
export type PartialValue = internal.PartialValue

/**
 * The last part of `streamObject`: the decoded value and the result.
 *
 * @since 0.1.0
 * @category models
 */
export type Done<A> = internal.Done<A>

/**
 * What `streamObject` emits: `Partial` values, then one `Done`.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamPart<A> = internal.StreamPart<A>

/**
 * Which mode `auto` (or a forced mode) gives for a provider — its wire format (`api`) and
 * capabilities — and the model's catalog capabilities when known: `native` when the
 * provider has JSON-schema output (not Anthropic's API) and the catalog does not say the
 * model lacks it; else `tool` for Anthropic and for catalog models with tools; else
 * `prompt`. A forced mode the provider cannot do is an `InvalidRequestError`.
 *
 * @since 0.1.0
 * @category modes
 */
export const chooseMode: (
  requested: Mode,
  provider: { readonly name?: string | undefined; readonly api: string; readonly capabilities: Provider.Capabilities },
  model?: Catalog.Capabilities | undefined
) => Either.Either<ResolvedMode, LlmError.InvalidRequestError> = internal.chooseMode

/**
 * Ask `client` for a value of `options.schema` and decode it, repairing up to
 * `maxRepairs` times. Fails with a `StructuredOutputError` when no answer decodes, or with
 * the call's `LlmError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generateObject: <A, I>(
  client: LlmClient.Service,
  options: Options<A, I>
) => Effect.Effect<Result<A>, LlmError.LlmError> = internal.generateObject

/**
 * Stream partial values of `options.schema` while the answer arrives, then `Done` with the
 * decoded value. A repair (after an answer that does not decode) streams again, its
 * partial values with the next `attempt` number.
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamObject: <A, I>(
  client: LlmClient.Service,
  options: Options<A, I>
) => Stream.Stream<StreamPart<A>, LlmError.LlmError> = internal.streamObject

/**
 * `generateObject` on the `LlmClient` in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const generate = <A, I>(
  options: Options<A, I>
): Effect.Effect<Result<A>, LlmError.LlmError, LlmClient.LlmClient> =>
  Effect.flatMap(LlmClient.LlmClient, (client) => generateObject(client, options))

/**
 * `streamObject` on the `LlmClient` in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const stream = <A, I>(
  options: Options<A, I>
): Stream.Stream<StreamPart<A>, LlmError.LlmError, LlmClient.LlmClient> =>
  Stream.unwrap(Effect.map(LlmClient.LlmClient, (client) => streamObject(client, options)))

/**
 * The JSON Schema of a `Schema` as structured output sends it (encoded side, no
 * `$schema`, a top-level `$ref` inlined).
 *
 * @since 0.1.0
 * @category json schema
 */
export const jsonSchema: <A, I>(schema: Schema.Schema<A, I>) => Readonly<Record<string, unknown>> =
  JsonSchemaInternal.fromSchema

/**
 * OpenAI's strict-mode form of a JSON Schema: `additionalProperties: false` on every
 * object, every property required, optional ones nullable. `strict: false` (and the schema
 * unchanged) when it cannot be strict (records, free-form objects, `allOf`, `{}`).
 *
 * @since 0.1.0
 * @category json schema
 */
export const toStrictJsonSchema: (
  schema: Readonly<Record<string, unknown>>
) => { readonly schema: Readonly<Record<string, unknown>>; readonly strict: boolean } = JsonSchemaInternal.toStrict

/**
 * The best-effort value of a partial JSON text, as `streamObject` parses it: open
 * containers closed, an unterminated string kept as far as it goes, an unfinished number
 * or literal left out (`undefined` before any value started).
 *
 * @since 0.1.0
 * @category partial json
 */
export const parsePartialJson: (text: string) => unknown = PartialJsonInternal.parsePartial

/**
 * Find the JSON value in a model's text (whole text, a Markdown code fence, or the first
 * complete object or array after leading prose).
 *
 * @since 0.1.0
 * @category partial json
 */
export const extractJson: (
  text: string
) => { readonly _tag: "Found"; readonly value: unknown } | { readonly _tag: "NotFound"; readonly message: string } =
  PartialJsonInternal.extract
