/**
 * A cheap, conservative token estimate of a request, made before it is sent (no tokenizer:
 * the real usage corrects it afterwards).
 *
 * @internal
 */
import type * as ChatRequest from "../ChatRequest.js"

/** @internal */
export interface EstimateOptions {
  /** Characters per token of text and JSON (default 4). */
  readonly charsPerToken?: number | undefined
  /** The output allowance of a request without `maxTokens` (default 1,024). */
  readonly defaultOutputTokens?: number | undefined
  /** Tokens counted per image part (default 1,600). */
  readonly tokensPerImage?: number | undefined
}

/** @internal */
export const defaults = {
  charsPerToken: 4,
  defaultOutputTokens: 1_024,
  tokensPerImage: 1_600,
  /** Role markers and separators the providers add around each message. */
  tokensPerMessage: 4
} as const

const jsonLength = (value: unknown): number => {
  if (typeof value === "string") return value.length
  if (value === undefined) return 0
  try {
    return JSON.stringify(value)?.length ?? 0
  } catch {
    return String(value).length
  }
}

/** @internal */
export const inputTokens = (request: ChatRequest.ChatRequest, options?: EstimateOptions): number => {
  const charsPerToken = options?.charsPerToken ?? defaults.charsPerToken
  const perImage = options?.tokensPerImage ?? defaults.tokensPerImage
  let chars = 0
  let fixed = 0
  for (const message of request.messages) {
    fixed += defaults.tokensPerMessage
    for (const part of message.content) {
      switch (part.type) {
        case "text":
        case "reasoning":
          chars += part.text.length
          break
        case "image":
          fixed += perImage
          break
        case "tool-call":
          chars += part.name.length + jsonLength(part.arguments)
          break
        case "tool-result":
          chars += jsonLength(part.result)
          break
      }
    }
  }
  if (request.tools !== undefined) {
    for (const tool of request.tools) {
      chars += tool.name.length + (tool.description?.length ?? 0) + jsonLength(tool.parameters)
    }
  }
  if (request.responseFormat?.type === "json_schema") chars += jsonLength(request.responseFormat.schema)
  return fixed + Math.ceil(chars / charsPerToken)
}

/** @internal */
export const outputTokens = (request: ChatRequest.ChatRequest, options?: EstimateOptions): number =>
  request.maxTokens ?? options?.defaultOutputTokens ?? defaults.defaultOutputTokens

/** @internal */
export const totalTokens = (request: ChatRequest.ChatRequest, options?: EstimateOptions): number =>
  inputTokens(request, options) + outputTokens(request, options)
