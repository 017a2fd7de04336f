/**
 * Messages API response → ChatResult, and the pieces the stream mapper shares with it
 * (usage, stop reasons, metadata, error payloads).
 *
 * @internal
 */
import * as ChatResult from "@llm-fiber/core/ChatResult"
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Message from "@llm-fiber/core/Message"
import type * as Usage from "@llm-fiber/core/Usage"
import * as Wire from "@llm-fiber/core/Wire"
import * as Either from "effect/Either"

/** What the mappers need to know about the call. */
export type Context = Wire.MappingContext

export const isObject = Wire.isObject

const num = Wire.num

export const nonEmpty = Wire.nonEmpty

/**
 * Map Anthropic `usage` to the normalized `Usage`:
 * `inputTokens = input_tokens + cache_creation_input_tokens + cache_read_input_tokens`,
 * `cachedInputTokens = cache_read_input_tokens`, `cacheWriteTokens =
 * cache_creation_input_tokens` (each only when the field is there), `outputTokens =
 * output_tokens`.
 */
export const mapUsage = (u: Record<string, unknown>): Usage.Usage => {
  const plain = num(u.input_tokens) ?? 0
  const written = num(u.cache_creation_input_tokens)
  const read = num(u.cache_read_input_tokens)
  const input = plain + (written ?? 0) + (read ?? 0)
  const output = num(u.output_tokens) ?? 0
  const usage: {
    inputTokens: number
    outputTokens: number
    totalTokens: number
    cachedInputTokens?: number
    cacheWriteTokens?: number
  } = { inputTokens: input, outputTokens: output, totalTokens: input + output }
  if (read !== undefined) usage.cachedInputTokens = read
  if (written !== undefined) usage.cacheWriteTokens = written
  return usage
}

/** Map a wire `stop_reason`. */
export const mapStopReason = (raw: string | undefined): ChatResult.FinishReason => {
  switch (raw) {
    case "end_turn":
    case "stop_sequence":
      return "stop"
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length"
    case "tool_use":
      return "tool_calls"
    case "refusal":
      return "content_filter"
    default:
      // pause_turn (a server tool loop paused: send the turn back to continue), and anything new
      return "other"
  }
}

/** The fields of a finished message that go to `providerMetadata[provider]`. */
export interface MetadataInput {
  readonly stopReason: string | undefined
  readonly stopSequence: unknown
  readonly stopDetails: unknown
  readonly container: unknown
  readonly usage: Record<string, unknown> | undefined
  readonly signature: string | undefined
  readonly redactedThinking: ReadonlyArray<string>
  readonly otherContent: ReadonlyArray<unknown>
  readonly droppedCacheBreakpoints: ReadonlyArray<string>
}

/**
 * `providerMetadata[provider]`: `stopReason` (raw), `stopSequence`, `stopDetails`,
 * `container`, `usage` (raw), `cacheHit`, `cacheWrite5mTokens` / `cacheWrite1hTokens`
 * (from `usage.cache_creation`), `serviceTier`, `signature` (of the last thinking block),
 * `redactedThinking` (the data of `redacted_thinking` blocks), `otherContent` (blocks
 * llm-fiber does not model: server tool use and results, compaction, fallback, …) and
 * `droppedCacheBreakpoints`.
 */
export const metadataOf = (input: MetadataInput): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (input.stopReason !== undefined) out.stopReason = input.stopReason
  if (typeof input.stopSequence === "string") out.stopSequence = input.stopSequence
  if (input.stopDetails !== undefined && input.stopDetails !== null) out.stopDetails = input.stopDetails
  if (input.container !== undefined && input.container !== null) out.container = input.container
  const usage = input.usage
  if (usage !== undefined) {
    out.usage = usage
    out.cacheHit = (num(usage.cache_read_input_tokens) ?? 0) > 0
    const creation = usage.cache_creation
    if (isObject(creation)) {
      out.cacheWrite5mTokens = num(creation.ephemeral_5m_input_tokens) ?? 0
      out.cacheWrite1hTokens = num(creation.ephemeral_1h_input_tokens) ?? 0
    }
    const tier = nonEmpty(usage.service_tier)
    if (tier !== undefined) out.serviceTier = tier
  } else {
    out.cacheHit = false
  }
  if (input.signature !== undefined) out.signature = input.signature
  if (input.redactedThinking.length > 0) out.redactedThinking = input.redactedThinking
  if (input.otherContent.length > 0) out.otherContent = input.otherContent
  if (input.droppedCacheBreakpoints.length > 0) out.droppedCacheBreakpoints = input.droppedCacheBreakpoints
  return out
}

/** The HTTP status an Anthropic error type stands for (for errors that arrive without one). */
const statusByType: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529
}

/**
 * The `LlmError` of an error payload that arrived without an error status (an `error`
 * stream event, or an error body with HTTP 200): `{ type: "error", error: { type, message } }`,
 * mapped with the status its type stands for (`overloaded_error` → 529 → a retryable
 * `ServerError`; unknown types → 500).
 */
export const errorFromPayload = (
  payload: Record<string, unknown>,
  context: Context,
  headers: Readonly<Record<string, string | undefined>>,
  where: string
): LlmError.LlmError => {
  const error = isObject(payload.error) ? payload.error : payload
  const type = nonEmpty(error.type) ?? "api_error"
  const status = statusByType[type] ?? 500
  const mapped = LlmError.fromHttpFailure({
    status,
    body: payload,
    headers,
    provider: context.provider,
    model: context.model
  })
  const detail = nonEmpty(error.message)
  return LlmError.annotate(mapped, {
    message: `${context.provider}: ${where} (${type})${detail !== undefined ? `: ${detail}` : ""}`,
    ...(context.requestId !== undefined && mapped.requestId === undefined ? { requestId: context.requestId } : {})
  })
}

/** A `ProtocolError` of this call. */
export const protocolError = (context: Context, message: string): LlmError.ProtocolError =>
  new LlmError.ProtocolError({
    provider: context.provider,
    model: context.model,
    ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
    message: `${context.provider}: ${message}`
  }, true)

/** A stable id for a tool call the server sent without one. */
export const generatedToolCallId = (messageId: string, position: number): string =>
  `${messageId === "" ? "toolu" : messageId}_tool_${position}`

/** Tool input as the raw JSON text (`{}` when there is none). */
export const inputText = (
  input: unknown
): string => (input === undefined || input === null ? "{}" : JSON.stringify(input))

/**
 * Map a whole (non-streaming) message. An error body (`type: "error"`) becomes the mapped
 * error; a body that is not a message (no `content` list) or has no `stop_reason` is a
 * `ProtocolError`.
 */
export const mapMessage = (
  json: unknown,
  context: Context,
  timing: ChatResult.Timing,
  headers: Readonly<Record<string, string | undefined>>,
  droppedCacheBreakpoints: ReadonlyArray<string>
): Either.Either<ChatResult.ChatResult, LlmError.LlmError> => {
  if (!isObject(json)) return Either.left(protocolError(context, "the response body is not a JSON object"))
  if (json.type === "error" || isObject(json.error)) {
    return Either.left(errorFromPayload(json, context, headers, "error response"))
  }
  const blocks = json.content
  if (!Array.isArray(blocks)) {
    return Either.left(protocolError(context, "the response is not a message (it has no \"content\" list)"))
  }
  const rawStop = nonEmpty(json.stop_reason)
  if (rawStop === undefined) {
    return Either.left(protocolError(context, "the response has no stop_reason (the generation did not finish)"))
  }
  const id = typeof json.id === "string" ? json.id : ""
  const texts: Array<string> = []
  const reasoning: Array<string> = []
  const toolCalls: Array<ChatResult.ToolCall> = []
  const content: Array<Message.TextPart | Message.ToolCallPart | Message.ReasoningPart> = []
  const redacted: Array<string> = []
  const other: Array<unknown> = []
  let signature: string | undefined
  for (const block of blocks) {
    if (!isObject(block)) continue
    switch (block.type) {
      case "text": {
        const text = typeof block.text === "string" ? block.text : ""
        if (text !== "") {
          texts.push(text)
          content.push({ type: "text", text })
        }
        break
      }
      case "thinking": {
        const text = typeof block.thinking === "string" ? block.thinking : ""
        const sig = nonEmpty(block.signature)
        reasoning.push(text)
        if (sig !== undefined) signature = sig
        content.push(sig !== undefined ? { type: "reasoning", text, signature: sig } : { type: "reasoning", text })
        break
      }
      case "redacted_thinking": {
        const data = typeof block.data === "string" ? block.data : ""
        redacted.push(data)
        content.push({ type: "reasoning", text: "", redacted: true, signature: data })
        break
      }
      case "tool_use": {
        const call: ChatResult.ToolCall = {
          id: nonEmpty(block.id) ?? generatedToolCallId(id, toolCalls.length),
          name: typeof block.name === "string" ? block.name : "",
          arguments: block.input ?? {},
          rawArguments: inputText(block.input)
        }
        toolCalls.push(call)
        content.push({ type: "tool-call", id: call.id, name: call.name, arguments: call.arguments })
        break
      }
      default:
        // server tools (server_tool_use, web_search_tool_result, mcp_tool_use, …), compaction,
        // fallback: not our tool calls and not text; kept as they are
        other.push(block)
    }
  }
  const text = texts.length === 1 ? texts[0]! : texts.join("")
  const usage = isObject(json.usage) ? json.usage : undefined
  return Either.right(
    new ChatResult.ChatResult({
      id,
      model: nonEmpty(json.model) ?? context.model,
      provider: context.provider,
      text,
      ...(reasoning.length > 0 ? { reasoning: reasoning.join("") } : {}),
      message: { role: "assistant", content },
      toolCalls,
      finishReason: mapStopReason(rawStop),
      usage: usage !== undefined ? mapUsage(usage) : { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      timing,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      providerMetadata: {
        [context.provider]: metadataOf({
          stopReason: rawStop,
          stopSequence: json.stop_sequence,
          stopDetails: json.stop_details,
          container: json.container,
          usage,
          signature,
          redactedThinking: redacted,
          otherContent: other,
          droppedCacheBreakpoints
        })
      }
    }, true)
  )
}
