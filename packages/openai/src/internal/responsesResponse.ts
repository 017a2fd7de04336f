/**
 * Responses API `Response` object → ChatResult, and the pieces the stream mapper shares
 * with it (usage, finish reasons, errors).
 *
 * @internal
 */
import * as ChatResult from "@llm-fiber/core/ChatResult"
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Message from "@llm-fiber/core/Message"
import type * as Usage from "@llm-fiber/core/Usage"
import * as Wire from "@llm-fiber/core/Wire"
import * as Either from "effect/Either"
import { type Context, generatedToolCallId, isObject, nonEmpty } from "./response.js"

const num = Wire.num

/**
 * Map a Responses `usage` object: `input_tokens` (cached included),
 * `input_tokens_details.cached_tokens` / `cache_write_tokens`, `output_tokens` (reasoning
 * included), `output_tokens_details.reasoning_tokens`, `total_tokens`.
 */
export const mapResponsesUsage = (u: Record<string, unknown>): Usage.Usage => {
  const input = num(u.input_tokens) ?? 0
  const output = num(u.output_tokens) ?? 0
  const inputDetails = isObject(u.input_tokens_details) ? u.input_tokens_details : undefined
  const outputDetails = isObject(u.output_tokens_details) ? u.output_tokens_details : undefined
  const cached = num(inputDetails?.cached_tokens)
  const cacheWrite = num(inputDetails?.cache_write_tokens)
  const reasoning = num(outputDetails?.reasoning_tokens)
  const usage: {
    inputTokens: number
    outputTokens: number
    totalTokens: number
    cachedInputTokens?: number
    cacheWriteTokens?: number
    reasoningTokens?: number
  } = { inputTokens: input, outputTokens: output, totalTokens: num(u.total_tokens) ?? input + output }
  if (cached !== undefined) usage.cachedInputTokens = cached
  if (cacheWrite !== undefined) usage.cacheWriteTokens = cacheWrite
  if (reasoning !== undefined) usage.reasoningTokens = reasoning
  return usage
}

/**
 * The finish reason of a finished response: `completed` → `stop` (`tool_calls` when it
 * holds function calls), `incomplete` → `length` (`max_output_tokens`) or
 * `content_filter`, anything else → `other`. A refusal wins: `content_filter`.
 */
export const responsesFinishReason = (
  status: string | undefined,
  incompleteReason: string | undefined,
  hasToolCalls: boolean,
  refused: boolean
): ChatResult.FinishReason => {
  if (refused) return "content_filter"
  switch (status) {
    case "completed":
      return hasToolCalls ? "tool_calls" : "stop"
    case "incomplete":
      return incompleteReason === "max_output_tokens" ?
        "length" :
        incompleteReason === "content_filter" ?
        "content_filter" :
        "other"
    default:
      return "other"
  }
}

/** The HTTP status an error code of a failed response stands for. */
const statusForCode = (code: string | undefined): number => {
  if (code === undefined) return 500
  switch (code) {
    case "rate_limit_exceeded":
    case "insufficient_quota":
      return 429
    case "server_error":
    case "vector_store_timeout":
      return 500
    case "context_length_exceeded":
    case "invalid_prompt":
    case "invalid_request_error":
    case "data_residency_mismatch":
    case "bio_policy":
    case "empty_image_file":
    case "failed_to_download_image":
    case "unsupported_image_media_type":
      return 400
    default:
      return code.startsWith("invalid_") || code.startsWith("image_") ? 400 : 500
  }
}

/**
 * The `LlmError` of a failed response's `error` (`{ code, message }`) or of an `error`
 * stream event (`{ code, message, param }`, possibly nested in `error`). The code picks the
 * status (`rate_limit_exceeded`/`insufficient_quota` → 429, `server_error` → 500,
 * `invalid_*`/`image_*` → 400, unknown → 500); `bio_policy` is a `ContentFilterError`.
 */
export const responseError = (
  raw: unknown,
  context: Context,
  headers: Readonly<Record<string, string | undefined>>
): LlmError.LlmError => {
  const error = isObject(raw) && isObject(raw.error) ? raw.error : isObject(raw) ? raw : {}
  const code = nonEmpty(error.code) ?? nonEmpty(error.type)
  const message = nonEmpty(error.message) ?? "the response failed"
  if (code === "bio_policy") {
    return new LlmError.ContentFilterError({
      provider: context.provider,
      model: context.model,
      code,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      message: `${context.provider}: ${message}`
    }, true)
  }
  const body = {
    error: {
      message,
      ...(code !== undefined ? { code } : {}),
      ...(nonEmpty(error.type) !== undefined ? { type: error.type } : {}),
      ...(nonEmpty(error.param) !== undefined ? { param: error.param } : {})
    }
  }
  const mapped = LlmError.fromHttpFailure({
    status: statusForCode(code),
    body,
    headers,
    provider: context.provider,
    model: context.model
  })
  return mapped.requestId === undefined && context.requestId !== undefined ?
    LlmError.annotate(mapped, { requestId: context.requestId }) :
    mapped
}

const protocolError = (context: Context, message: string) =>
  new LlmError.ProtocolError({
    provider: context.provider,
    model: context.model,
    ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
    message: `${context.provider}: ${message}`
  }, true)

/** `providerMetadata[provider]` of a finished response. */
export const responsesMetadata = (fields: {
  readonly responseId: string
  readonly status: string | undefined
  readonly incompleteReason: string | undefined
  readonly refusal: string | undefined
  readonly serviceTier: unknown
  readonly usage: Record<string, unknown> | undefined
  readonly skipped: ReadonlyArray<string>
}): Record<string, unknown> => {
  const out: Record<string, unknown> = { responseId: fields.responseId }
  if (fields.status !== undefined) out.status = fields.status
  if (fields.incompleteReason !== undefined) out.incompleteReason = fields.incompleteReason
  if (fields.refusal !== undefined) out.refusal = fields.refusal
  const tier = nonEmpty(fields.serviceTier)
  if (tier !== undefined) out.serviceTier = tier
  if (fields.usage !== undefined) out.usage = fields.usage
  // output items llm-fiber does not model (server-side tools, custom tools, …), by type
  if (fields.skipped.length > 0) out.skippedOutputItems = fields.skipped
  return out
}

/** The text of a reasoning item: its summaries, then its reasoning text, as separate pieces. */
export const reasoningPieces = (item: Record<string, unknown>, out: Array<string>): void => {
  for (const key of ["summary", "content"] as const) {
    const parts = item[key]
    if (!Array.isArray(parts)) continue
    for (const part of parts) {
      const text = isObject(part) ? nonEmpty(part.text) : undefined
      if (text !== undefined) out.push(text)
    }
  }
}

/**
 * Map a whole (non-streaming) Response. `failed` is the mapped error of its `error`; a
 * body with an `error` and no `output` (an error answered with HTTP 200) too; `queued` /
 * `in_progress` (background responses) and a body that is not a response are
 * `ProtocolError`s.
 */
export const mapResponse = (
  json: unknown,
  context: Context,
  timing: ChatResult.Timing,
  headers: Readonly<Record<string, string | undefined>> = {}
): Either.Either<ChatResult.ChatResult, LlmError.LlmError> => {
  if (!isObject(json)) return Either.left(protocolError(context, "the response body is not a JSON object"))
  const status = nonEmpty(json.status)
  if (status === "failed" || (isObject(json.error) && !Array.isArray(json.output))) {
    return Either.left(responseError(json.error, context, headers))
  }
  if (!Array.isArray(json.output)) return Either.left(protocolError(context, "the response has no \"output\""))
  if (status === "queued" || status === "in_progress") {
    return Either.left(
      protocolError(context, `the response is still ${status} (background responses are not supported)`)
    )
  }
  const responseId = typeof json.id === "string" ? json.id : ""
  const texts: Array<string> = []
  const refusals: Array<string> = []
  const reasoning: Array<string> = []
  const toolCalls: Array<ChatResult.ToolCall> = []
  const skipped: Array<string> = []
  for (const item of json.output) {
    if (!isObject(item)) continue
    switch (item.type) {
      case "message": {
        if (!Array.isArray(item.content)) break
        for (const part of item.content) {
          if (!isObject(part)) continue
          if (part.type === "output_text" && typeof part.text === "string") texts.push(part.text)
          else if (part.type === "refusal" && typeof part.refusal === "string") refusals.push(part.refusal)
        }
        break
      }
      case "reasoning": {
        reasoningPieces(item, reasoning)
        break
      }
      case "function_call": {
        const rawArguments = typeof item.arguments === "string" ? item.arguments : ""
        toolCalls.push({
          id: nonEmpty(item.call_id) ?? nonEmpty(item.id) ?? generatedToolCallId(responseId, toolCalls.length),
          name: typeof item.name === "string" ? item.name : "",
          arguments: ChatResult.parseArguments(rawArguments),
          rawArguments
        })
        break
      }
      default: {
        const type = nonEmpty(item.type) ?? "unknown"
        if (!skipped.includes(type)) skipped.push(type)
      }
    }
  }
  const text = texts.length === 1 ? texts[0]! : texts.join("")
  const refusal = refusals.length === 0 ? undefined : refusals.join("")
  const incompleteReason = isObject(json.incomplete_details) ? nonEmpty(json.incomplete_details.reason) : undefined
  // a server that leaves out `status` but answered with output finished
  const effective = status ?? "completed"
  const finishReason = responsesFinishReason(effective, incompleteReason, toolCalls.length > 0, refusal !== undefined)
  const rawUsage = isObject(json.usage) ? json.usage : undefined
  const reasoningText = reasoning.length === 0 ? undefined : reasoning.join("\n\n")
  const reasoningPart: Array<Message.ReasoningPart> | undefined = reasoningText === undefined ?
    undefined :
    [{ type: "reasoning", text: reasoningText }]
  return Either.right(
    new ChatResult.ChatResult({
      id: responseId,
      model: nonEmpty(json.model) ?? context.model,
      provider: context.provider,
      text,
      ...(reasoningText !== undefined ? { reasoning: reasoningText } : {}),
      message: ChatResult.assistantMessage(text, toolCalls, reasoningPart),
      toolCalls,
      finishReason,
      usage: rawUsage !== undefined ?
        mapResponsesUsage(rawUsage) :
        { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      timing,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      providerMetadata: {
        [context.provider]: responsesMetadata({
          responseId,
          status: effective,
          incompleteReason,
          refusal,
          serviceTier: json.service_tier,
          usage: rawUsage,
          skipped
        })
      }
    }, true)
  )
}
