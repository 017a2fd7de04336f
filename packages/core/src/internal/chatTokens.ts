/**
 * Token counts of a chat request for OpenAI-family models, given a function that counts the
 * tokens of a string with the model's BPE encoding (`gpt-tokenizer`, loaded lazily by
 * `Tokenizer`).
 *
 * The count mirrors how OpenAI frames a Chat Completions conversation (the formula of
 * OpenAI's cookbook, which `gpt-tokenizer`'s `encodeChat` also follows): every message is
 * `<|start|>{role}<|message|>{content}<|end|>` — 3 tokens plus the role and the content (a
 * `name` adds 1 plus its own tokens) — and the reply is primed with 3 more. It is exact for
 * conversations of text only, as `@llm-fiber/openai` sends them (a system message's text
 * parts joined by newlines, an assistant's reasoning parts left out). Images, tool calls,
 * tool results, tool definitions and JSON schemas are framed in ways OpenAI does not
 * document: they are counted from their JSON text plus a margin, and the count is then
 * marked inexact.
 *
 * @internal
 */
import type * as ChatRequest from "../ChatRequest.js"
import type * as Message from "../Message.js"

/** @internal */
export type CountString = (text: string) => number

/** @internal */
export interface ChatCount {
  readonly inputTokens: number
  readonly exact: boolean
}

/** @internal */
export const overhead = {
  /** `<|start|>`, `<|message|>` and `<|end|>` around every message. */
  perMessage: 3,
  /** A message's `name`. */
  perName: 1,
  /** The reply is primed with `<|start|>assistant<|message|>`. */
  reply: 3,
  /** Margin per tool call, tool result, tool definition or schema (framing we cannot see). */
  perStructure: 12
} as const

const json = (value: unknown): string => {
  if (typeof value === "string") return value
  if (value === undefined) return ""
  try {
    return JSON.stringify(value) ?? ""
  } catch {
    return String(value)
  }
}

const joinText = (parts: ReadonlyArray<Message.Part>, separator: string): string => {
  let out: string | undefined
  for (const part of parts) {
    if (part.type === "text") out = out === undefined ? part.text : out + separator + part.text
  }
  return out ?? ""
}

/**
 * Count a request with `count`. `exactFraming`: the provider is OpenAI's own Chat
 * Completions API, whose framing the formula describes; otherwise the result is never
 * marked exact.
 *
 * @internal
 */
export const countRequest = (
  request: ChatRequest.ChatRequest,
  count: CountString,
  options: { readonly exactFraming: boolean; readonly tokensPerImage: number }
): ChatCount => {
  let exact = options.exactFraming
  let tokens = overhead.reply
  for (const message of request.messages) {
    tokens += overhead.perMessage + count(message.role)
    if ("name" in message && message.name !== undefined) tokens += overhead.perName + count(message.name)
    switch (message.role) {
      case "system":
        tokens += count(joinText(message.content, "\n"))
        break
      case "user": {
        const parts = message.content
        if (parts.length !== 1 || parts[0]!.type !== "text") exact = false
        for (const part of parts) {
          if (part.type === "text") tokens += count(part.text)
          else tokens += options.tokensPerImage
        }
        break
      }
      case "assistant": {
        // reasoning parts are not sent back on Chat Completions (nothing to count)
        tokens += count(joinText(message.content, ""))
        for (const part of message.content) {
          if (part.type === "tool-call") {
            exact = false
            tokens += overhead.perStructure + count(part.id) + count(part.name) + count(json(part.arguments))
          }
        }
        break
      }
      case "tool": {
        // one wire message per result; the first one's framing is counted above
        exact = false
        message.content.forEach((part, i) => {
          if (i > 0) tokens += overhead.perMessage + count(message.role)
          tokens += overhead.perStructure + count(part.toolCallId) + count(json(part.result))
        })
        break
      }
    }
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    exact = false
    for (const tool of request.tools) {
      tokens += overhead.perStructure + count(tool.name) + count(tool.description ?? "") + count(json(tool.parameters))
    }
  }
  if (request.responseFormat?.type === "json_schema") {
    exact = false
    tokens += overhead.perStructure + count(request.responseFormat.name) + count(json(request.responseFormat.schema))
  }
  return { inputTokens: tokens, exact }
}
