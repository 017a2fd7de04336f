/**
 * Gemini `GenerateContentResponse` → ChatResult, and the pieces the stream mapper shares
 * with it (usage, finish reasons, blocked prompts, in-band errors).
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

/** Does a `usageMetadata` hold token counts (stream chunks may carry only `trafficType`)? */
export const hasCounts = (u: Record<string, unknown>): boolean =>
  num(u.promptTokenCount) !== undefined || num(u.candidatesTokenCount) !== undefined ||
  num(u.totalTokenCount) !== undefined || num(u.thoughtsTokenCount) !== undefined

/**
 * Map `usageMetadata` to the normalized `Usage`: `inputTokens` = `promptTokenCount`
 * (cached tokens included), `cachedInputTokens` = `cachedContentTokenCount`,
 * `outputTokens` = `candidatesTokenCount + thoughtsTokenCount`, `reasoningTokens` =
 * `thoughtsTokenCount`, `totalTokens` = `totalTokenCount` (else the sum, with
 * `toolUsePromptTokenCount`).
 */
export const mapUsage = (u: Record<string, unknown>): Usage.Usage => {
  const input = num(u.promptTokenCount) ?? 0
  const candidates = num(u.candidatesTokenCount) ?? 0
  const thoughts = num(u.thoughtsTokenCount)
  const cached = num(u.cachedContentTokenCount)
  const toolUse = num(u.toolUsePromptTokenCount) ?? 0
  const output = candidates + (thoughts ?? 0)
  const usage: {
    inputTokens: number
    outputTokens: number
    totalTokens: number
    cachedInputTokens?: number
    reasoningTokens?: number
  } = { inputTokens: input, outputTokens: output, totalTokens: num(u.totalTokenCount) ?? input + output + toolUse }
  if (cached !== undefined) usage.cachedInputTokens = cached
  if (thoughts !== undefined) usage.reasoningTokens = thoughts
  return usage
}

/** Map a wire `finishReason` (`hasToolCalls`: the answer holds function calls). */
export const mapFinishReason = (raw: string | undefined, hasToolCalls: boolean): ChatResult.FinishReason => {
  switch (raw) {
    case "STOP":
      return hasToolCalls ? "tool_calls" : "stop"
    case "MAX_TOKENS":
      return "length"
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "IMAGE_PROHIBITED_CONTENT":
    case "IMAGE_RECITATION":
      return "content_filter"
    default:
      return "other"
  }
}

/** A stable id for the n-th function call of a response (Gemini gives none). */
export const toolCallId = (responseId: string, position: number): string =>
  `${responseId === "" ? "gemini" : responseId}_call_${position}`

/** The candidate with index 0 (or without an index); other candidates are ignored. */
export const pickCandidate = (candidates: unknown): Record<string, unknown> | undefined => {
  if (!Array.isArray(candidates)) return undefined
  for (const candidate of candidates) {
    if (isObject(candidate) && (candidate.index === undefined || candidate.index === 0)) return candidate
  }
  return undefined
}

/** The parts of a candidate's content. */
export const partsOf = (candidate: Record<string, unknown> | undefined): ReadonlyArray<unknown> => {
  const content = candidate?.content
  return isObject(content) && Array.isArray(content.parts) ? content.parts : []
}

const protocolError = (context: Context, message: string) =>
  new LlmError.ProtocolError({
    provider: context.provider,
    model: context.model,
    ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
    message: `${context.provider}: ${message}`
  }, true)

/** The `LlmError` of an in-band error payload (`{ error: { code, message, status } }`). */
export const inBandError = (
  payload: Record<string, unknown>,
  context: Context,
  headers: Readonly<Record<string, string | undefined>>
): LlmError.LlmError => {
  const error = isObject(payload.error) ? payload.error : payload
  const code = num(error.code)
  const status = code !== undefined && Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500
  return LlmError.fromHttpFailure({ status, body: payload, headers, provider: context.provider, model: context.model })
}

/** A prompt Gemini refused to answer (`promptFeedback.blockReason`, no candidates). */
export const blockedPrompt = (payload: Record<string, unknown>, context: Context): LlmError.ContentFilterError => {
  const feedback = isObject(payload.promptFeedback) ? payload.promptFeedback : {}
  const reason = nonEmpty(feedback.blockReason) ?? "unknown"
  const detail = nonEmpty(feedback.blockReasonMessage)
  return new LlmError.ContentFilterError({
    provider: context.provider,
    model: context.model,
    ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
    code: reason,
    message: `${context.provider}: the prompt was blocked (${reason})${detail !== undefined ? `: ${detail}` : ""}`
  }, true)
}

/** Is this payload a blocked prompt (a block reason and no candidate)? */
export const isBlocked = (payload: Record<string, unknown>): boolean =>
  isObject(payload.promptFeedback) && nonEmpty(payload.promptFeedback.blockReason) !== undefined &&
  pickCandidate(payload.candidates) === undefined

/** `providerMetadata[provider]` of a response or stream. */
export const metadataOf = (fields: {
  readonly finishReason: string | undefined
  readonly finishMessage: string | undefined
  readonly thoughtSignatures: ReadonlyArray<string>
  readonly usage: Record<string, unknown> | undefined
  readonly safetyRatings: unknown
  readonly groundingMetadata: unknown
  readonly promptFeedback: unknown
}): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (fields.finishReason !== undefined) out.finishReason = fields.finishReason
  if (fields.finishMessage !== undefined) out.finishMessage = fields.finishMessage
  if (fields.thoughtSignatures.length > 0) out.thoughtSignatures = fields.thoughtSignatures
  if (fields.usage !== undefined) out.usageMetadata = fields.usage
  if (fields.safetyRatings !== undefined) out.safetyRatings = fields.safetyRatings
  if (fields.groundingMetadata !== undefined) out.groundingMetadata = fields.groundingMetadata
  if (fields.promptFeedback !== undefined) out.promptFeedback = fields.promptFeedback
  return out
}

/** A function call's `args` as JSON text (`{}` when there are none). */
export const argsText = (args: unknown): string => (args === undefined || args === null ? "{}" : JSON.stringify(args))

/**
 * The reasoning part of the assistant message: the thought text and the first thought
 * signature (so that the signature goes back to Gemini in the next turn).
 */
export const reasoningPart = (
  reasoning: string | undefined,
  signature: string | undefined
): Array<Message.ReasoningPart> | undefined =>
  reasoning === undefined && signature === undefined ? undefined : [{
    type: "reasoning",
    text: reasoning ?? "",
    ...(signature !== undefined ? { signature } : {})
  }]

/**
 * Map a whole (non-streaming) `GenerateContentResponse`. An `error` body becomes the
 * mapped error, a blocked prompt a `ContentFilterError`, a body without candidates a
 * `ProtocolError`.
 */
export const mapGenerateContent = (
  json: unknown,
  context: Context,
  timing: ChatResult.Timing,
  headers: Readonly<Record<string, string | undefined>> = {}
): Either.Either<ChatResult.ChatResult, LlmError.LlmError> => {
  const payload: unknown = Array.isArray(json) && json.length === 1 ? json[0] : json
  if (!isObject(payload)) return Either.left(protocolError(context, "the response body is not a JSON object"))
  if (isObject(payload.error)) return Either.left(inBandError(payload, context, headers))
  if (isBlocked(payload)) return Either.left(blockedPrompt(payload, context))
  const candidate = pickCandidate(payload.candidates)
  if (candidate === undefined) return Either.left(protocolError(context, "the response has no candidate"))
  const responseId = typeof payload.responseId === "string" ? payload.responseId : ""
  const text: Array<string> = []
  const thoughts: Array<string> = []
  const signatures: Array<string> = []
  const toolCalls: Array<ChatResult.ToolCall> = []
  for (const part of partsOf(candidate)) {
    if (!isObject(part)) continue
    const signature = nonEmpty(part.thoughtSignature)
    if (signature !== undefined) signatures.push(signature)
    const call = part.functionCall
    if (isObject(call)) {
      const raw = argsText(call.args)
      toolCalls.push({
        id: nonEmpty(call.id) ?? toolCallId(responseId, toolCalls.length),
        name: typeof call.name === "string" ? call.name : "",
        arguments: ChatResult.parseArguments(raw),
        rawArguments: raw
      })
    } else if (typeof part.text === "string" && part.text !== "") {
      if (part.thought === true) thoughts.push(part.text)
      else text.push(part.text)
    }
  }
  const rawFinish = nonEmpty(candidate.finishReason)
  if (rawFinish === undefined) {
    return Either.left(protocolError(context, "the response has no finishReason (the generation did not finish)"))
  }
  const rawUsage = isObject(payload.usageMetadata) ? payload.usageMetadata : undefined
  const joined = text.join("")
  const signature = signatures[0]
  const reasoning = thoughts.length > 0 ? thoughts.join("") : signature !== undefined ? "" : undefined
  return Either.right(
    new ChatResult.ChatResult({
      id: responseId,
      model: nonEmpty(payload.modelVersion) ?? context.model,
      provider: context.provider,
      text: joined,
      ...(reasoning !== undefined ? { reasoning } : {}),
      message: ChatResult.assistantMessage(joined, toolCalls, reasoningPart(reasoning, signature)),
      toolCalls,
      finishReason: mapFinishReason(rawFinish, toolCalls.length > 0),
      usage: rawUsage !== undefined ? mapUsage(rawUsage) : { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      timing,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      providerMetadata: {
        [context.provider]: metadataOf({
          finishReason: rawFinish,
          finishMessage: nonEmpty(candidate.finishMessage),
          thoughtSignatures: signatures,
          usage: rawUsage,
          safetyRatings: candidate.safetyRatings,
          groundingMetadata: candidate.groundingMetadata,
          promptFeedback: payload.promptFeedback
        })
      }
    }, true)
  )
}
