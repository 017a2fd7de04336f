/**
 * Chat Completions response → ChatResult, and the pieces the stream mapper shares with
 * it (usage, finish reasons, content parts, in-band errors).
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
 * Map `usage` to the normalized `Usage`.
 *
 * - `inputTokens` = `prompt_tokens` (OpenAI counts cached tokens in it).
 * - `cachedInputTokens` = `prompt_tokens_details.cached_tokens`, else DeepSeek's
 *   `prompt_cache_hit_tokens`.
 * - `outputTokens` = `completion_tokens`, which includes reasoning for OpenAI, DeepSeek and
 *   Groq. xAI reports reasoning tokens *outside* `completion_tokens` (its `total_tokens` is
 *   `prompt + completion + reasoning`); when the numbers add up that way the reasoning
 *   tokens are added to `outputTokens`, so `outputTokens` always includes reasoning.
 */
export const mapUsage = (u: Record<string, unknown>): Usage.Usage => {
  const input = num(u.prompt_tokens) ?? 0
  const completion = num(u.completion_tokens) ?? 0
  const promptDetails = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : undefined
  const completionDetails = isObject(u.completion_tokens_details) ? u.completion_tokens_details : undefined
  const cached = num(promptDetails?.cached_tokens) ?? num(u.prompt_cache_hit_tokens)
  const reasoning = num(completionDetails?.reasoning_tokens)
  const total = num(u.total_tokens)
  let output = completion
  if (
    reasoning !== undefined && reasoning > 0 && total !== undefined && input + completion !== total &&
    input + completion + reasoning === total
  ) {
    output = completion + reasoning
  }
  const usage: {
    inputTokens: number
    outputTokens: number
    totalTokens: number
    cachedInputTokens?: number
    reasoningTokens?: number
  } = { inputTokens: input, outputTokens: output, totalTokens: total ?? input + output }
  if (cached !== undefined) usage.cachedInputTokens = cached
  if (reasoning !== undefined) usage.reasoningTokens = reasoning
  return usage
}

/** The usage object of a response or chunk: `usage`, else Groq's `x_groq.usage`. */
export const usageOf = (payload: Record<string, unknown>): Record<string, unknown> | undefined => {
  if (isObject(payload.usage)) return payload.usage
  const groq = payload.x_groq
  if (isObject(groq) && isObject(groq.usage)) return groq.usage
  return undefined
}

/** Map a wire `finish_reason`. */
export const mapFinishReason = (raw: string | undefined): ChatResult.FinishReason => {
  switch (raw) {
    case "stop":
    case "end_turn":
    case "eos":
      return "stop"
    case "length":
    case "max_tokens":
    case "model_length":
      return "length"
    case "tool_calls":
    case "function_call":
      return "tool_calls"
    case "content_filter":
      return "content_filter"
    case "error":
      return "error"
    default:
      return "other"
  }
}

/**
 * The text and reasoning in a `content` value: a string, or (Mistral) a list of parts
 * `{ type: "text", text }` / `{ type: "thinking", thinking: [{ type: "text", text }] }`.
 * Calls `onText` / `onReasoning` for each non-empty piece, in order.
 */
export const forEachContent = (
  content: unknown,
  onText: (text: string) => void,
  onReasoning: (text: string) => void
): void => {
  if (typeof content === "string") {
    if (content !== "") onText(content)
    return
  }
  if (!Array.isArray(content)) return
  for (const part of content) {
    if (typeof part === "string") {
      if (part !== "") onText(part)
    } else if (isObject(part)) {
      if (part.type === "text") {
        const text = nonEmpty(part.text)
        if (text !== undefined) onText(text)
      } else if (part.type === "thinking" || part.type === "reasoning") {
        const inner = part.thinking ?? part.text
        if (typeof inner === "string") {
          if (inner !== "") onReasoning(inner)
        } else if (Array.isArray(inner)) {
          for (const piece of inner) {
            const text = isObject(piece) ? nonEmpty(piece.text) : nonEmpty(piece)
            if (text !== undefined) onReasoning(text)
          }
        }
      }
    }
  }
}

/** The reasoning field of a message or delta: `reasoning_content` (DeepSeek, xAI, vLLM) or `reasoning` (Groq, Ollama). */
export const reasoningOf = (m: Record<string, unknown>): string | undefined =>
  nonEmpty(m.reasoning_content) ?? nonEmpty(m.reasoning)

/** Tool-call arguments as a string (some servers send an object). */
export const argumentsText = (u: unknown): string => {
  if (typeof u === "string") return u
  if (u === undefined || u === null) return ""
  return JSON.stringify(u)
}

/** The `LlmError` of an in-band error payload (`{ error: { message, type, code } }`). */
export const inBandError = (
  payload: Record<string, unknown>,
  context: Context,
  headers: Readonly<Record<string, string | undefined>>
): LlmError.LlmError => {
  const error = isObject(payload.error) ? payload.error : payload
  const status = statusOf(error.status) ?? statusOf(error.code) ?? statusOf(payload.status) ?? 500
  return LlmError.fromHttpFailure({ status, body: payload, headers, provider: context.provider, model: context.model })
}

const statusOf = (u: unknown): number | undefined => {
  const n = typeof u === "string" && /^\d{3}$/.test(u) ? Number(u) : u
  return typeof n === "number" && Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined
}

/** `providerMetadata[provider]` fields shared by responses and streams. */
export const metadataOf = (
  payload: Record<string, unknown>,
  finishReason: string | undefined,
  refusal: string | undefined,
  usage: Record<string, unknown> | undefined
): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (finishReason !== undefined) out.finishReason = finishReason
  if (refusal !== undefined) out.refusal = refusal
  const fingerprint = nonEmpty(payload.system_fingerprint)
  if (fingerprint !== undefined) out.systemFingerprint = fingerprint
  const tier = nonEmpty(payload.service_tier)
  if (tier !== undefined) out.serviceTier = tier
  if (usage !== undefined) out.usage = usage
  return out
}

const protocolError = (context: Context, message: string) =>
  new LlmError.ProtocolError({
    provider: context.provider,
    model: context.model,
    ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
    message: `${context.provider}: ${message}`
  }, true)

/** A stable id for a tool call the server sent without one. */
export const generatedToolCallId = (responseId: string, position: number): string =>
  `${responseId === "" ? "call" : responseId}_tool_${position}`

/**
 * Map a whole (non-streaming) chat completion. A body with `error` (some servers answer
 * errors with HTTP 200) becomes the mapped error; a body without `choices` is a
 * `ProtocolError`.
 */
export const mapChatCompletion = (
  json: unknown,
  context: Context,
  timing: ChatResult.Timing,
  headers: Readonly<Record<string, string | undefined>> = {}
): Either.Either<ChatResult.ChatResult, LlmError.LlmError> => {
  if (!isObject(json)) return Either.left(protocolError(context, "the response body is not a JSON object"))
  if (isObject(json.error)) return Either.left(inBandError(json, context, headers))
  const choices = json.choices
  if (!Array.isArray(choices)) return Either.left(protocolError(context, "the response has no \"choices\""))
  const choice: unknown = choices[0]
  if (!isObject(choice)) return Either.left(protocolError(context, "the response has no choice"))
  const message = isObject(choice.message) ? choice.message : {}
  const textParts: Array<string> = []
  const reasoningParts: Array<string> = []
  const direct = reasoningOf(message)
  if (direct !== undefined) reasoningParts.push(direct)
  forEachContent(message.content, (t) => textParts.push(t), (r) => reasoningParts.push(r))
  const text = textParts.length === 1 ? textParts[0]! : textParts.join("")
  const responseId = typeof json.id === "string" ? json.id : ""
  const toolCalls: Array<ChatResult.ToolCall> = []
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isObject(call)) continue
      const fn = isObject(call.function) ? call.function : {}
      const rawArguments = argumentsText(fn.arguments)
      toolCalls.push({
        id: nonEmpty(call.id) ?? generatedToolCallId(responseId, toolCalls.length),
        name: typeof fn.name === "string" ? fn.name : "",
        arguments: ChatResult.parseArguments(rawArguments),
        rawArguments
      })
    }
  }
  const rawFinish = nonEmpty(choice.finish_reason)
  if (rawFinish === undefined) {
    // as for streams: a completion that does not say why it stopped did not finish
    return Either.left(protocolError(context, "the response has no finish_reason (the generation did not finish)"))
  }
  const refusal = nonEmpty(message.refusal)
  const finishReason = refusal !== undefined ? "content_filter" : mapFinishReason(rawFinish)
  const rawUsage = usageOf(json)
  const reasoning = reasoningParts.length === 0 ? undefined : reasoningParts.join("")
  const reasoningPart: Array<Message.ReasoningPart> | undefined = reasoning === undefined ?
    undefined :
    [{ type: "reasoning", text: reasoning }]
  return Either.right(
    new ChatResult.ChatResult({
      id: responseId,
      model: nonEmpty(json.model) ?? context.model,
      provider: context.provider,
      text,
      ...(reasoning !== undefined ? { reasoning } : {}),
      message: ChatResult.assistantMessage(text, toolCalls, reasoningPart),
      toolCalls,
      finishReason,
      usage: rawUsage !== undefined ? mapUsage(rawUsage) : { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      timing,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      providerMetadata: { [context.provider]: metadataOf(json, rawFinish, refusal, rawUsage) }
    }, true)
  )
}
