/**
 * A chat request: the model, the conversation, and the common generation parameters.
 *
 * Callers pass a `ChatRequest.Input` (plain object; `messages` may be a bare string,
 * `[role, text]` tuples or message objects); the client normalizes it with `make`, which
 * validates every field and fails with an `InvalidRequestError` that names the bad one.
 * Anything provider-specific goes in `providerOptions`, namespaced by provider name
 * (`providerOptions.openai`), and is passed through untouched.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { InvalidRequestError } from "./LlmError.js"
import * as Message from "./Message.js"

/**
 * A tool the model may call: `parameters` is a JSON Schema object.
 *
 * @since 0.1.0
 * @category models
 */
export const ToolDefinition = Schema.Struct({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  parameters: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  /** Ask the provider to enforce the schema exactly (OpenAI `strict`). */
  strict: Schema.optional(Schema.Boolean),
  cache: Schema.optional(Message.CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolDefinition = typeof ToolDefinition.Type

/**
 * Whether and which tool the model must call.
 *
 * @since 0.1.0
 * @category models
 */
export const ToolChoice = Schema.Union(
  Schema.Literal("auto", "none", "required"),
  Schema.Struct({ type: Schema.Literal("tool"), name: Schema.String })
)

/**
 * @since 0.1.0
 * @category models
 */
export type ToolChoice = typeof ToolChoice.Type

/**
 * The shape of the output: free text, any JSON object, or JSON matching a schema.
 *
 * @since 0.1.0
 * @category models
 */
export const ResponseFormat = Schema.Union(
  Schema.Struct({ type: Schema.Literal("text") }),
  Schema.Struct({ type: Schema.Literal("json") }),
  Schema.Struct({
    type: Schema.Literal("json_schema"),
    name: Schema.String,
    schema: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
    description: Schema.optional(Schema.String),
    strict: Schema.optional(Schema.Boolean)
  })
)

/**
 * @since 0.1.0
 * @category models
 */
export type ResponseFormat = typeof ResponseFormat.Type

/**
 * Per-call deadlines in milliseconds; each overrides the client's `Timeouts`.
 *
 * @since 0.1.0
 * @category models
 */
export const TimeoutOverrides = Schema.Struct({
  connectMs: Schema.optional(Schema.Number),
  firstByteMs: Schema.optional(Schema.Number),
  idleMs: Schema.optional(Schema.Number),
  totalMs: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type TimeoutOverrides = typeof TimeoutOverrides.Type

/**
 * What the response cache does for a call: `off` (neither read nor write),
 * `read_through` (read; on a miss, call and write), `write_through` (always call, then
 * write), `refresh` (always call, then overwrite — to renew a stale entry).
 *
 * @since 0.1.0
 * @category models
 */
export const CachePolicy = Schema.Literal("off", "read_through", "write_through", "refresh")

/**
 * @since 0.1.0
 * @category models
 */
export type CachePolicy = typeof CachePolicy.Type

/**
 * A per-call override of the response cache's settings.
 *
 * @since 0.1.0
 * @category models
 */
export const ResponseCacheOverride = Schema.Struct({
  policy: Schema.optional(CachePolicy),
  /** Time to live of the entry this call writes (ms). */
  ttlMs: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ResponseCacheOverride = typeof ResponseCacheOverride.Type

/**
 * A normalized chat request.
 *
 * @since 0.1.0
 * @category models
 */
export class ChatRequest extends Schema.Class<ChatRequest>("@llm-fiber/ChatRequest")({
  /** A registry name (`gpt-4o-mini`), or `provider:model` (`ollama:llama3.2`). */
  model: Schema.String,
  /** Force a provider, whatever the registry would choose. */
  provider: Schema.optional(Schema.String),
  messages: Schema.Array(Message.Message),
  temperature: Schema.optional(Schema.Number),
  maxTokens: Schema.optional(Schema.Number),
  topP: Schema.optional(Schema.Number),
  stop: Schema.optional(Schema.Array(Schema.String)),
  seed: Schema.optional(Schema.Number),
  tools: Schema.optional(Schema.Array(ToolDefinition)),
  toolChoice: Schema.optional(ToolChoice),
  responseFormat: Schema.optional(ResponseFormat),
  /** Per-provider passthrough, e.g. `{ openai: { logprobs: true } }`. */
  providerOptions: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
  ),
  /** A prompt-cache hint for the whole request (providers with explicit caching). */
  cache: Schema.optional(Message.CacheHint),
  /** Sent as the provider's idempotency key where supported, identical across retries. */
  idempotencyKey: Schema.optional(Schema.String),
  /** Your own labels for logs and spans; never sent to the provider. */
  metadata: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  /**
   * The end user's id, sent where the provider has a field for it (OpenAI
   * `safety_identifier`, Anthropic `metadata.user_id`); also on logs and spans.
   */
  user: Schema.optional(Schema.String),
  /**
   * The most this call may cost (USD): the `Budget` rejects it before sending when its
   * worst case (input tokens + `maxTokens` at catalog prices) is higher.
   */
  costCeilingUsd: Schema.optional(Schema.Number),
  /** Override the response cache's policy or TTL for this call. */
  responseCache: Schema.optional(ResponseCacheOverride),
  timeout: Schema.optional(TimeoutOverrides),
  /** Models to try, in order, when this one fails with a retryable error. */
  fallback: Schema.optional(Schema.Array(Schema.String)),
  /**
   * Also fall back on these non-retryable errors (opt-in): a longer-context model after a
   * `ContextLengthError`, another name after a `NotFoundError`.
   */
  fallbackOn: Schema.optional(Schema.Array(Schema.Literal("ContextLengthError", "NotFoundError"))),
  /** Override the client's retry count for this call. */
  maxRetries: Schema.optional(Schema.Number)
}) {}

/**
 * A chat request as callers write it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  readonly model: string
  readonly provider?: string | undefined
  readonly messages: Message.MessagesInput
  readonly temperature?: number | undefined
  readonly maxTokens?: number | undefined
  readonly topP?: number | undefined
  readonly stop?: string | ReadonlyArray<string> | undefined
  readonly seed?: number | undefined
  readonly tools?: ReadonlyArray<ToolDefinition> | undefined
  readonly toolChoice?: ToolChoice | undefined
  readonly responseFormat?: ResponseFormat | undefined
  readonly providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined
  readonly cache?: Message.CacheHint | undefined
  readonly idempotencyKey?: string | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
  readonly user?: string | undefined
  readonly costCeilingUsd?: number | undefined
  readonly responseCache?: ResponseCacheOverride | undefined
  readonly timeout?: TimeoutOverrides | undefined
  readonly fallback?: ReadonlyArray<string> | undefined
  readonly fallbackOn?: ReadonlyArray<"ContextLengthError" | "NotFoundError"> | undefined
  readonly maxRetries?: number | undefined
}

const fail = (message: string, param: string) => Either.left(new InvalidRequestError({ message, param }, true))

const checkNumber = (
  value: unknown,
  name: string,
  check: (n: number) => boolean,
  expected: string
): InvalidRequestError | undefined => {
  if (value === undefined) return undefined
  if (typeof value !== "number" || !Number.isFinite(value) || !check(value)) {
    return new InvalidRequestError({ message: `${name} must be ${expected} (got ${String(value)})`, param: name }, true)
  }
  return undefined
}

const isInt = (n: number) => Number.isInteger(n)

const timeoutKeys: ReadonlyArray<string> = ["connectMs", "firstByteMs", "idleMs", "totalMs"]
const toolChoiceModes: ReadonlySet<unknown> = new Set(["auto", "none", "required"])
const responseFormatTypes: ReadonlySet<unknown> = new Set(["text", "json", "json_schema"])
const namePattern = /^[a-zA-Z0-9_-]{1,64}$/
const toolChoiceHint = `"auto", "none", "required" or { type: "tool", name }`

const checkTimeout = (timeout: unknown): InvalidRequestError | undefined => {
  if (!Predicate.isRecord(timeout)) {
    return new InvalidRequestError({
      message: `timeout must be an object of deadlines in milliseconds, e.g. { totalMs: 30000 } (got ${
        String(timeout)
      })`,
      param: "timeout"
    }, true)
  }
  for (const key of Object.keys(timeout)) {
    if (!timeoutKeys.includes(key)) {
      return new InvalidRequestError({
        message: `timeout.${key} is not a deadline; use connectMs, firstByteMs, idleMs or totalMs`,
        param: `timeout.${key}`
      }, true)
    }
  }
  for (const key of timeoutKeys) {
    const error = checkNumber(timeout[key], `timeout.${key}`, (n) => n > 0, "a positive number of milliseconds")
    if (error !== undefined) return error
  }
  return undefined
}

const checkToolChoice = (choice: unknown, tools: ReadonlyArray<ToolDefinition> | undefined) => {
  if (typeof choice === "string") {
    if (!toolChoiceModes.has(choice)) {
      return new InvalidRequestError({
        message: `toolChoice must be ${toolChoiceHint} (got "${choice}")`,
        param: "toolChoice"
      }, true)
    }
    if (choice === "required" && (tools === undefined || tools.length === 0)) {
      return new InvalidRequestError({
        message: `toolChoice "required" needs at least one tool in tools`,
        param: "toolChoice"
      }, true)
    }
    return undefined
  }
  if (!Predicate.isRecord(choice) || choice.type !== "tool" || typeof choice.name !== "string") {
    return new InvalidRequestError({ message: `toolChoice must be ${toolChoiceHint}`, param: "toolChoice" }, true)
  }
  const name = choice.name
  if (tools === undefined || !tools.some((t) => t.name === name)) {
    return new InvalidRequestError({
      message: `toolChoice.name is "${name}", which is not in tools (${
        tools === undefined || tools.length === 0 ? "none given" : tools.map((t) => t.name).join(", ")
      })`,
      param: "toolChoice.name"
    }, true)
  }
  return undefined
}

const checkResponseFormat = (format: unknown): InvalidRequestError | undefined => {
  if (!Predicate.isRecord(format) || !responseFormatTypes.has(format.type)) {
    return new InvalidRequestError({
      message: `responseFormat.type must be "text", "json" or "json_schema" (got ${
        JSON.stringify(Predicate.isRecord(format) ? format.type : format)
      })`,
      param: "responseFormat.type"
    }, true)
  }
  if (format.type !== "json_schema") return undefined
  if (typeof format.name !== "string" || !namePattern.test(format.name)) {
    return new InvalidRequestError({
      message: `responseFormat.name must be 1-64 letters, digits, "_" or "-"`,
      param: "responseFormat.name"
    }, true)
  }
  if (!Predicate.isRecord(format.schema)) {
    return new InvalidRequestError({
      message: "responseFormat.schema must be a JSON Schema object",
      param: "responseFormat.schema"
    }, true)
  }
  if (format.description !== undefined && typeof format.description !== "string") {
    return new InvalidRequestError({
      message: "responseFormat.description must be a string",
      param: "responseFormat.description"
    }, true)
  }
  if (format.strict !== undefined && typeof format.strict !== "boolean") {
    return new InvalidRequestError({
      message: "responseFormat.strict must be a boolean",
      param: "responseFormat.strict"
    }, true)
  }
  return undefined
}

const checkTools = (tools: unknown): InvalidRequestError | undefined => {
  if (!Array.isArray(tools)) {
    return new InvalidRequestError({ message: "tools must be a list of tool definitions", param: "tools" }, true)
  }
  const seen = new Map<string, number>()
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i]
    if (!Predicate.isRecord(tool) || typeof tool.name !== "string" || !namePattern.test(tool.name)) {
      return new InvalidRequestError({
        message: `tools[${i}].name must be 1-64 letters, digits, "_" or "-"`,
        param: `tools[${i}].name`
      }, true)
    }
    if (!Predicate.isRecord(tool.parameters)) {
      return new InvalidRequestError({
        message: `tools[${i}].parameters must be a JSON Schema object`,
        param: `tools[${i}].parameters`
      }, true)
    }
    if (tool.description !== undefined && typeof tool.description !== "string") {
      return new InvalidRequestError({
        message: `tools[${i}].description must be a string`,
        param: `tools[${i}].description`
      }, true)
    }
    if (tool.strict !== undefined && typeof tool.strict !== "boolean") {
      return new InvalidRequestError(
        { message: `tools[${i}].strict must be a boolean`, param: `tools[${i}].strict` },
        true
      )
    }
    const first = seen.get(tool.name)
    if (first !== undefined) {
      return new InvalidRequestError({
        message: `tools[${i}].name "${tool.name}" is already the name of tools[${first}]`,
        param: `tools[${i}].name`
      }, true)
    }
    seen.set(tool.name, i)
  }
  return undefined
}

const checkRecord = (
  value: unknown,
  name: string,
  isValue: (u: unknown) => boolean,
  expected: { readonly whole: string; readonly value: string }
): InvalidRequestError | undefined => {
  if (value === undefined) return undefined
  if (!Predicate.isRecord(value)) {
    return new InvalidRequestError({ message: `${name} must be ${expected.whole}`, param: name }, true)
  }
  for (const key of Object.keys(value)) {
    if (!isValue(value[key])) {
      return new InvalidRequestError({
        message: `${name}.${key} must be ${expected.value}`,
        param: `${name}.${key}`
      }, true)
    }
  }
  return undefined
}

const isString = (u: unknown): boolean => typeof u === "string"

const checkCacheHint = (cache: unknown): InvalidRequestError | undefined => {
  if (cache === undefined) return undefined
  if (!Predicate.isRecord(cache) || (cache.ttl !== undefined && cache.ttl !== "5m" && cache.ttl !== "1h")) {
    return new InvalidRequestError({ message: `cache must be {} or { ttl: "5m" | "1h" }`, param: "cache" }, true)
  }
  return undefined
}

const cachePolicies: ReadonlyArray<unknown> = CachePolicy.literals

const checkResponseCache = (value: unknown): InvalidRequestError | undefined => {
  if (value === undefined) return undefined
  const bad = (message: string, param: string) => new InvalidRequestError({ message, param }, true)
  if (!Predicate.isRecord(value)) {
    return bad("responseCache must be an object, e.g. { policy: \"off\" }", "responseCache")
  }
  for (const key of Object.keys(value)) {
    if (key !== "policy" && key !== "ttlMs") {
      return bad(`responseCache.${key} is not a setting; use policy or ttlMs`, `responseCache.${key}`)
    }
  }
  if (value.policy !== undefined && !cachePolicies.includes(value.policy)) {
    return bad(
      `responseCache.policy must be "off", "read_through", "write_through" or "refresh" (got ${String(value.policy)})`,
      "responseCache.policy"
    )
  }
  return checkNumber(value.ttlMs, "responseCache.ttlMs", (n) => isInt(n) && n > 0, "a positive integer")
}

const checkOptionalString = (value: unknown, name: string): InvalidRequestError | undefined =>
  value === undefined || (typeof value === "string" && value !== "")
    ? undefined
    : new InvalidRequestError({ message: `${name} must be a non-empty string`, param: name }, true)

/** The fields a `ChatRequest` keeps; anything else of the input is not copied. */
const fieldNames: ReadonlyArray<string> = Object.keys(ChatRequest.fields)

/**
 * Validate and normalize a request. Fails with an `InvalidRequestError` naming the field.
 * Fields left `undefined` are dropped; fields a `ChatRequest` does not have are not copied.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: Input | ChatRequest): Either.Either<ChatRequest, InvalidRequestError> => {
  if (input instanceof ChatRequest) return Either.right(input)
  if (!Predicate.isRecord(input)) return fail("a chat request must be an object", "request")
  if (typeof input.model !== "string" || input.model.trim() === "") {
    return fail("model must be a non-empty string, e.g. \"gpt-4o-mini\" or \"ollama:llama3.2\"", "model")
  }
  const messages = Message.normalize(input.messages)
  if (Either.isLeft(messages)) return Either.left(messages.left)
  const error = checkOptionalString(input.provider, "provider") ??
    checkNumber(input.temperature, "temperature", (n) => n >= 0 && n <= 2, "a number from 0 to 2") ??
    checkNumber(input.maxTokens, "maxTokens", (n) => isInt(n) && n > 0, "a positive integer") ??
    checkNumber(input.topP, "topP", (n) => n >= 0 && n <= 1, "a number from 0 to 1") ??
    checkNumber(input.seed, "seed", isInt, "an integer") ??
    checkNumber(input.maxRetries, "maxRetries", (n) => isInt(n) && n >= 0, "a non-negative integer") ??
    checkNumber(input.costCeilingUsd, "costCeilingUsd", (n) => n > 0, "a positive number of USD") ??
    checkResponseCache(input.responseCache) ??
    (input.timeout !== undefined ? checkTimeout(input.timeout) : undefined)
  if (error !== undefined) return Either.left(error)
  const stop = typeof input.stop === "string" ? [input.stop] : input.stop
  if (stop !== undefined && (!Array.isArray(stop) || stop.some((s) => typeof s !== "string"))) {
    return fail("stop must be a string or a list of strings", "stop")
  }
  const shapeError = (input.tools !== undefined ? checkTools(input.tools) : undefined) ??
    (input.toolChoice !== undefined ? checkToolChoice(input.toolChoice, input.tools) : undefined) ??
    (input.responseFormat !== undefined ? checkResponseFormat(input.responseFormat) : undefined) ??
    checkRecord(input.providerOptions, "providerOptions", Predicate.isRecord, {
      whole: "an object of options by provider name, e.g. { openai: { … } }",
      value: "an object of options"
    }) ??
    checkRecord(input.metadata, "metadata", isString, { whole: "an object of strings", value: "a string" }) ??
    checkCacheHint(input.cache) ??
    checkOptionalString(input.idempotencyKey, "idempotencyKey") ??
    checkOptionalString(input.user, "user")
  if (shapeError !== undefined) return Either.left(shapeError)
  if (
    input.fallback !== undefined &&
    (!Array.isArray(input.fallback) || input.fallback.some((m) => typeof m !== "string" || m.trim() === ""))
  ) {
    return fail("fallback must be a list of model names", "fallback")
  }
  if (
    input.fallbackOn !== undefined &&
    (!Array.isArray(input.fallbackOn) ||
      input.fallbackOn.some((tag) => tag !== "ContextLengthError" && tag !== "NotFoundError"))
  ) {
    return fail("fallbackOn must list \"ContextLengthError\" and/or \"NotFoundError\"", "fallbackOn")
  }
  const source = input as unknown as Record<string, unknown>
  const fields: Record<string, unknown> = {}
  for (const key of fieldNames) {
    const value = key === "messages" ? messages.right : key === "stop" ? stop : source[key]
    if (value !== undefined) fields[key] = value
  }
  return Either.right(new ChatRequest(fields as ConstructorParameters<typeof ChatRequest>[0], true))
}
