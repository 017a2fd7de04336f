/**
 * The typed error taxonomy of llm-fiber.
 *
 * Every failure of a call is one of the `LlmError` classes below, in the error
 * channel of `chat` / `chatStream` (or the rejection of the Promise facade). Each
 * error carries the `provider`, the `model`, the HTTP `status` and the provider's
 * request id where there is one — and never an API key.
 *
 * `retryable` tells whether a retry may succeed (timeouts, network errors, 408/409/
 * 429/5xx/529) and is what the `RetryPolicy` consults.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LlmClient } from "@llm-fiber/core"
 *
 * const program = LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }).pipe(
 *   Effect.catchTag("RateLimitError", (e) => Effect.logWarning(`retry after ${e.retryAfterMs} ms`))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * What a stream had produced before it failed. A streaming call that fails after
 * content reached the caller ends with an error carrying this.
 *
 * @since 0.1.0
 * @category models
 */
export const PartialOutput = Schema.Struct({
  text: Schema.String,
  reasoning: Schema.optional(Schema.String),
  toolCalls: Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String, arguments: Schema.String })),
  events: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type PartialOutput = typeof PartialOutput.Type

/** Fields every `LlmError` carries. */
const common = {
  message: Schema.String,
  provider: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  status: Schema.optional(Schema.Number),
  requestId: Schema.optional(Schema.String),
  /** The provider's machine-readable error code or type, e.g. `context_length_exceeded`. */
  code: Schema.optional(Schema.String),
  /** A provider's explicit retry hint (`x-should-retry`), overriding the default. */
  shouldRetry: Schema.optional(Schema.Boolean),
  partial: Schema.optional(PartialOutput),
  cause: Schema.optional(Schema.Defect)
}

/**
 * The API key is missing, invalid or not allowed to do this (HTTP 401/403). Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>("@llm-fiber/AuthenticationError")(
  "AuthenticationError",
  common
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? false
  }
}

/**
 * The request was rejected as invalid (HTTP 400/422), or failed local validation.
 * A 409 (conflict) also maps here and is retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>("@llm-fiber/InvalidRequestError")(
  "InvalidRequestError",
  { ...common, param: Schema.optional(Schema.String) }
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? this.status === 409
  }
}

/**
 * The model or endpoint does not exist (HTTP 404).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFoundError extends Schema.TaggedError<NotFoundError>("@llm-fiber/NotFoundError")(
  "NotFoundError",
  common
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? false
  }
}

/**
 * The prompt (plus the requested output) does not fit the model's context window.
 *
 * @since 0.1.0
 * @category errors
 */
export class ContextLengthError extends Schema.TaggedError<ContextLengthError>("@llm-fiber/ContextLengthError")(
  "ContextLengthError",
  common
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? false
  }
}

/**
 * The provider refused the prompt or the output on content-policy grounds.
 *
 * @since 0.1.0
 * @category errors
 */
export class ContentFilterError extends Schema.TaggedError<ContentFilterError>("@llm-fiber/ContentFilterError")(
  "ContentFilterError",
  common
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? false
  }
}

/**
 * Too many requests (HTTP 429), or a local rate limit in `fail` mode. `retryAfterMs` is
 * the provider's `Retry-After` / `retry-after-ms` hint when it sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitError extends Schema.TaggedError<RateLimitError>("@llm-fiber/RateLimitError")(
  "RateLimitError",
  {
    ...common,
    retryAfterMs: Schema.optional(Schema.Number),
    source: Schema.optionalWith(Schema.Literal("provider", "local"), { default: () => "provider" as const })
  }
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? this.source === "provider"
  }
}

/**
 * The provider failed (HTTP 5xx, 529 overloaded, or an in-stream error event).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("@llm-fiber/ServerError")("ServerError", {
  ...common,
  retryAfterMs: Schema.optional(Schema.Number)
}) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? true
  }
}

/**
 * Which deadline expired.
 *
 * - `connect`: no connection to the server
 * - `first_byte`: connected, but no response headers (or, for streams, no first event)
 * - `idle`: a stream went quiet between two chunks
 * - `total`: the whole call took too long
 * - `server`: the server itself answered 408 Request Timeout
 *
 * @since 0.1.0
 * @category models
 */
export const TimeoutPhase = Schema.Literal("connect", "first_byte", "idle", "total", "server")

/**
 * @since 0.1.0
 * @category models
 */
export type TimeoutPhase = typeof TimeoutPhase.Type

/**
 * A deadline expired; `phase` says which one.
 *
 * @since 0.1.0
 * @category errors
 */
export class TimeoutError extends Schema.TaggedError<TimeoutError>("@llm-fiber/TimeoutError")("TimeoutError", {
  ...common,
  phase: TimeoutPhase,
  timeoutMs: Schema.optional(Schema.Number)
}) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? true
  }
}

/**
 * The connection failed or was reset (DNS, refused, reset before or during the response).
 *
 * @since 0.1.0
 * @category errors
 */
export class NetworkError extends Schema.TaggedError<NetworkError>("@llm-fiber/NetworkError")(
  "NetworkError",
  common
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? true
  }
}

/**
 * The provider answered something we cannot read: malformed JSON or SSE, an unexpected
 * content type, a body over the size limit, or a stream that ended without its terminator.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProtocolError extends Schema.TaggedError<ProtocolError>("@llm-fiber/ProtocolError")(
  "ProtocolError",
  common
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return this.shouldRetry ?? false
  }
}

/**
 * A budget or a per-call cost ceiling cannot fit this call; raised before anything is sent.
 *
 * `scope` says which limit: `call` (the request's `costCeilingUsd`), `client`,
 * `user:<id>` or `tag:<name>` (an aggregate budget, with its `window`: `minute`, `hour`,
 * `day`, `month` or `total`), or `ledger` (the budget ledger failed and the budget fails
 * closed). `estimateUsd` / `estimateTokens` are the call's worst case, `limitUsd` /
 * `limitTokens` the limit it did not fit, `remainingUsd` / `remainingTokens` what was left.
 *
 * @since 0.1.0
 * @category errors
 */
export class BudgetExceededError extends Schema.TaggedError<BudgetExceededError>("@llm-fiber/BudgetExceededError")(
  "BudgetExceededError",
  {
    ...common,
    scope: Schema.optional(Schema.String),
    window: Schema.optional(Schema.String),
    estimateUsd: Schema.optional(Schema.Number),
    limitUsd: Schema.optional(Schema.Number),
    remainingUsd: Schema.optional(Schema.Number),
    estimateTokens: Schema.optional(Schema.Number),
    limitTokens: Schema.optional(Schema.Number),
    remainingTokens: Schema.optional(Schema.Number)
  }
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
}

/**
 * The circuit breaker for this provider/model is open; the call failed fast.
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpenError extends Schema.TaggedError<CircuitOpenError>("@llm-fiber/CircuitOpenError")(
  "CircuitOpenError",
  { ...common, retryAfterMs: Schema.optional(Schema.Number) }
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
}

/**
 * The model name resolves to no registered provider (or to several); `suggestions`
 * holds the closest known names.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownModelError extends Schema.TaggedError<UnknownModelError>("@llm-fiber/UnknownModelError")(
  "UnknownModelError",
  {
    ...common,
    suggestions: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
    candidates: Schema.optional(Schema.Array(Schema.String))
  }
) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
}

/**
 * The model's output did not decode into the requested structure (after the repair
 * attempts of `StructuredOutput.generateObject`). `issue` is why the last output was
 * rejected (not JSON, or the `Schema`'s decode error as a tree), `text` the raw output,
 * `attempts` how many answers were tried and `mode` how the structure was asked for
 * (`native`, `tool` or `prompt`).
 *
 * @since 0.1.0
 * @category errors
 */
export class StructuredOutputError extends Schema.TaggedError<StructuredOutputError>(
  "@llm-fiber/StructuredOutputError"
)("StructuredOutputError", {
  ...common,
  text: Schema.optional(Schema.String),
  issue: Schema.optional(Schema.String),
  attempts: Schema.optional(Schema.Number),
  mode: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
}

/**
 * A tool handler failed, or a tool call named no known tool.
 *
 * @since 0.1.0
 * @category errors
 */
export class ToolError extends Schema.TaggedError<ToolError>("@llm-fiber/ToolError")("ToolError", {
  ...common,
  toolName: Schema.optional(Schema.String),
  toolCallId: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  get retryable(): boolean {
    return false
  }
}

/**
 * The schema of every `LlmError` (serialize an error to JSON and back).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LlmError = Schema.Union(
  AuthenticationError,
  InvalidRequestError,
  NotFoundError,
  ContextLengthError,
  ContentFilterError,
  RateLimitError,
  ServerError,
  TimeoutError,
  NetworkError,
  ProtocolError,
  BudgetExceededError,
  CircuitOpenError,
  UnknownModelError,
  StructuredOutputError,
  ToolError
)

/**
 * Any error of llm-fiber.
 *
 * @since 0.1.0
 * @category models
 */
export type LlmError = typeof LlmError.Type

const tags: ReadonlySet<string> = new Set(LlmError.members.map((m) => m.identifier.replace("@llm-fiber/", "")))

/**
 * Is this value one of the `LlmError` classes?
 *
 * @since 0.1.0
 * @category guards
 */
export const isLlmError = (u: unknown): u is LlmError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && u instanceof Error

/**
 * The tag of any `LlmError`.
 *
 * @since 0.1.0
 * @category models
 */
export type LlmErrorTag = LlmError["_tag"]

/**
 * Where an error happened, added to it by the pipeline when the provider did not.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorContext {
  readonly provider?: string | undefined
  readonly model?: string | undefined
}

/**
 * Copy an error with some fields changed (errors are immutable values).
 *
 * @since 0.1.0
 * @category combinators
 */
export const annotate = <E extends LlmError>(error: E, fields: Readonly<Record<string, unknown>>): E => {
  const Ctor = error.constructor as new(props: object, disableValidation?: boolean) => E
  const props: Record<string, unknown> = {}
  for (const key of Object.keys(error)) {
    if (key !== "_tag") props[key] = (error as unknown as Record<string, unknown>)[key]
  }
  if ("message" in error) props.message = error.message
  // `cause` is an own but non-enumerable property of an `Error`
  if ((error as { readonly cause?: unknown }).cause !== undefined) props.cause = error.cause
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) props[key] = value
  }
  return new Ctor(props, true)
}

/**
 * Fill in `provider` / `model` when the error does not carry them yet.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withContext = <E extends LlmError>(error: E, context: ErrorContext): E => {
  const missingProvider = error.provider === undefined && context.provider !== undefined
  const missingModel = error.model === undefined && context.model !== undefined
  if (!missingProvider && !missingModel) return error
  return annotate(error, {
    ...(missingProvider ? { provider: context.provider } : {}),
    ...(missingModel ? { model: context.model } : {})
  })
}

// -----------------------------------------------------------------------------
// HTTP status + provider error body -> LlmError
// -----------------------------------------------------------------------------

/**
 * What the mapper needs to know about a failed HTTP response.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpFailure {
  readonly status: number
  /** The response body: parsed JSON, raw text, or undefined when there was none. */
  readonly body: unknown
  /** Response headers with lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly provider?: string | undefined
  readonly model?: string | undefined
  /** The current time (from `Clock`), to turn an HTTP-date `Retry-After` into a delay. */
  readonly nowMs?: number | undefined
}

/**
 * The request id a provider puts in its response headers (`x-request-id` for OpenAI,
 * `request-id` for Anthropic, `x-goog-request-id`/`x-request-id` elsewhere).
 *
 * @since 0.1.0
 * @category utils
 */
export const requestIdFrom = (headers: Readonly<Record<string, string | undefined>>): string | undefined =>
  headers["x-request-id"] ?? headers["request-id"] ?? headers["x-goog-request-id"] ?? headers["cf-ray"]

/** A non-negative number as a header writes it (no sign, exponent or hex). */
const decimal = /^\d+(?:\.\d+)?$/

/**
 * The delay a server asked for, in milliseconds: `retry-after-ms`, then `Retry-After` in
 * seconds or as an HTTP date, then Google's `RetryInfo.retryDelay` in the body.
 *
 * @since 0.1.0
 * @category utils
 */
export const retryAfterFrom = (
  headers: Readonly<Record<string, string | undefined>>,
  body?: unknown,
  nowMs?: number
): number | undefined => {
  const ms = headers["retry-after-ms"]?.trim()
  if (ms !== undefined && decimal.test(ms)) return Number(ms)
  const ra = headers["retry-after"]?.trim()
  if (ra !== undefined && ra !== "") {
    // delay-seconds, or an HTTP-date (which has a weekday or month name; `Date.parse`
    // alone would take "-5" for a year)
    if (decimal.test(ra)) return Math.round(Number(ra) * 1000)
    if (nowMs !== undefined && /[a-z]/i.test(ra)) {
      const date = Date.parse(ra)
      if (!Number.isNaN(date)) return Math.max(0, date - nowMs)
    }
  }
  const details = errorObject(body)?.details
  if (Array.isArray(details)) {
    for (const d of details) {
      if (Predicate.isRecord(d) && typeof d.retryDelay === "string") {
        const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay)
        if (m && m[1] !== undefined) return Math.round(Number(m[1]) * 1000)
      }
    }
  }
  return undefined
}

const errorObject = (body: unknown): Record<string, unknown> | undefined => {
  // Gemini's streaming endpoint wraps its error in an array: `[{ "error": { … } }]`
  // (checked first: `Predicate.isRecord` is false for arrays)
  const value: unknown = Array.isArray(body) ? body[0] : body
  if (!Predicate.isRecord(value)) return undefined
  const inner = value.error
  if (Predicate.isRecord(inner)) return inner
  return value
}

/** The `reason` of a Google `ErrorInfo` detail (`API_KEY_INVALID`, `RATE_LIMIT_EXCEEDED`, …). */
const errorReason = (body: unknown): string | undefined => {
  const details = errorObject(body)?.details
  if (!Array.isArray(details)) return undefined
  for (const d of details) {
    if (Predicate.isRecord(d) && typeof d.reason === "string") return d.reason
  }
  return undefined
}

/** Anthropic repeats the request id in its error body (`request_id`). */
const bodyRequestId = (body: unknown): string | undefined => {
  const value: unknown = Array.isArray(body) ? body[0] : body
  return Predicate.isRecord(value) ? str(value.request_id) : undefined
}

/**
 * Strings shaped like provider API keys (OpenAI `sk-…`, Anthropic `sk-ant-…`, Google
 * `AIza…`), in case a server echoes a key in its error message.
 */
const secretPattern = /\b(sk-(?:ant-|proj-)?)[A-Za-z0-9_-]{8,}|\bAIza[0-9A-Za-z_-]{20,}/g

const redactSecrets = (text: string): string =>
  text.replace(secretPattern, (match, prefix: string | undefined) => `${prefix ?? match.slice(0, 4)}<redacted>`)

const str = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

/**
 * The message, code and param of a provider error body, for the three wire formats:
 * OpenAI `{ error: { message, type, code, param } }`, Anthropic `{ type: "error",
 * error: { type, message } }`, Gemini `{ error: { code, message, status } }`.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseErrorBody = (
  body: unknown
): { readonly message?: string; readonly code?: string; readonly param?: string } => {
  if (typeof body === "string") {
    const text = body.trim()
    return text === "" ? {} : { message: redactSecrets(text.length > 500 ? text.slice(0, 500) + "…" : text) }
  }
  const err = errorObject(body)
  if (err === undefined) return {}
  const raw = str(err.message) ?? str(err.error)
  const message = raw === undefined ? undefined : redactSecrets(raw)
  const code = str(err.code) ?? str(err.type) ?? str(err.status)
  const param = str(err.param)
  return {
    ...(message !== undefined ? { message } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(param !== undefined ? { param } : {})
  }
}

const contextLengthPattern =
  /context[_ ]length|maximum context|context window|context limit|maximum prompt length|prompt is too long|too many tokens|exceeds the maximum number of tokens|input is too long/i
const contentFilterPattern = /content[_ ]?(filter|policy|management)|safety system|responsible ai policy/i

const isContextLength = (code: string | undefined, message: string | undefined) =>
  code === "context_length_exceeded" || code === "string_above_max_length" ||
  (message !== undefined && contextLengthPattern.test(message))

const isContentFilter = (code: string | undefined, message: string | undefined) =>
  code === "content_filter" || code === "content_policy_violation" ||
  (code !== undefined && contentFilterPattern.test(code)) ||
  (message !== undefined && /content management policy|content_policy/i.test(message))

/**
 * Map a failed HTTP response to the right `LlmError`: 401/403 → `AuthenticationError`,
 * 404 → `NotFoundError`, 408 → `TimeoutError` (`server`), 409/400/422 →
 * `InvalidRequestError` (or `ContextLengthError` / `ContentFilterError` when the body says
 * so), 413 → `ContextLengthError`, 429 → `RateLimitError` with `retryAfterMs`,
 * 5xx/529 → `ServerError`; honours `x-should-retry`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpFailure = (failure: HttpFailure): LlmError => {
  const { headers, status } = failure
  const parsed = parseErrorBody(failure.body)
  const requestId = requestIdFrom(headers) ?? bodyRequestId(failure.body)
  const shouldRetryHeader = headers["x-should-retry"]
  const shouldRetry = shouldRetryHeader === "true" ? true : shouldRetryHeader === "false" ? false : undefined
  const who = failure.provider !== undefined ? `${failure.provider} ` : ""
  const message = `${who}HTTP ${status}${parsed.message !== undefined ? `: ${parsed.message}` : ""}`
  const props = {
    message,
    status,
    ...(failure.provider !== undefined ? { provider: failure.provider } : {}),
    ...(failure.model !== undefined ? { model: failure.model } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
    ...(parsed.code !== undefined ? { code: parsed.code } : {}),
    ...(shouldRetry !== undefined ? { shouldRetry } : {})
  }
  const retryAfterMs = retryAfterFrom(headers, failure.body, failure.nowMs)
  const withRetryAfter = retryAfterMs !== undefined ? { ...props, retryAfterMs } : props
  // Gemini answers an invalid key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID
  const badKey = status === 401 || (status === 400 && errorReason(failure.body) === "API_KEY_INVALID")
  if (badKey || status === 403) {
    return new AuthenticationError({
      ...props,
      message: `${message}${badKey ? ` (check the API key${keyHint(failure.provider)})` : ""}`
    }, true)
  }
  if (status === 404) return new NotFoundError(props, true)
  if (status === 408) return new TimeoutError({ ...props, phase: "server" }, true)
  if (status === 413) return new ContextLengthError(props, true)
  if (status === 429) {
    // Quota exhaustion is a 429 that will not go away by waiting.
    const quota = parsed.code === "insufficient_quota"
    return new RateLimitError({ ...withRetryAfter, source: "provider", ...(quota ? { shouldRetry: false } : {}) }, true)
  }
  if (status >= 500) return new ServerError(withRetryAfter, true)
  if (isContextLength(parsed.code, parsed.message)) return new ContextLengthError(props, true)
  if (isContentFilter(parsed.code, parsed.message)) return new ContentFilterError(props, true)
  return new InvalidRequestError({ ...props, ...(parsed.param !== undefined ? { param: parsed.param } : {}) }, true)
}

const keyHint = (provider: string | undefined): string => {
  switch (provider) {
    case "openai":
    case "openai-responses":
      return ", e.g. OPENAI_API_KEY"
    case "anthropic":
      return ", e.g. ANTHROPIC_API_KEY"
    case "gemini":
      return ", e.g. GEMINI_API_KEY"
    default:
      return ""
  }
}
