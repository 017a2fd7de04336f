/**
 * Chat messages and their content parts.
 *
 * A conversation is a list of messages; each message has a `role` (`system`, `user`,
 * `assistant`, `tool`) and content made of parts: text, images, tool calls, tool
 * results and reasoning. Callers may write messages loosely — a bare string, `[role, text]`
 * tuples, or objects whose content is a string — and `Message.normalize` turns any of
 * these into the one canonical form every provider maps from (content is always a
 * list of parts).
 *
 * @example
 * ```ts
 * import { Message } from "@llm-fiber/core"
 *
 * const messages = [
 *   Message.system("You are terse."),
 *   Message.user("What is the capital of France?")
 * ]
 * ```
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { InvalidRequestError } from "./LlmError.js"

/**
 * A prompt-cache hint: mark the end of a cacheable prefix (Anthropic `cache_control`);
 * providers with automatic caching ignore it.
 *
 * @since 0.1.0
 * @category models
 */
export const CacheHint = Schema.Struct({
  ttl: Schema.optional(Schema.Literal("5m", "1h"))
})

/**
 * @since 0.1.0
 * @category models
 */
export type CacheHint = typeof CacheHint.Type

/**
 * Plain text.
 *
 * @since 0.1.0
 * @category models
 */
export const TextPart = Schema.Struct({
  type: Schema.Literal("text"),
  text: Schema.String,
  cache: Schema.optional(CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type TextPart = typeof TextPart.Type

/**
 * An image, by URL (`https:` or `data:`) or as base64 `data` with its `mediaType`.
 *
 * @since 0.1.0
 * @category models
 */
export const ImagePart = Schema.Struct({
  type: Schema.Literal("image"),
  url: Schema.optional(Schema.String),
  data: Schema.optional(Schema.String),
  mediaType: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.Literal("auto", "low", "high")),
  cache: Schema.optional(CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ImagePart = typeof ImagePart.Type

/**
 * A tool call the assistant made; `arguments` is the parsed JSON value.
 *
 * @since 0.1.0
 * @category models
 */
export const ToolCallPart = Schema.Struct({
  type: Schema.Literal("tool-call"),
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.Unknown
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolCallPart = typeof ToolCallPart.Type

/**
 * The result of a tool call, sent back to the model. `result` is any JSON value (strings
 * are sent as they are, other values as JSON).
 *
 * @since 0.1.0
 * @category models
 */
export const ToolResultPart = Schema.Struct({
  type: Schema.Literal("tool-result"),
  toolCallId: Schema.String,
  name: Schema.optional(Schema.String),
  result: Schema.Unknown,
  isError: Schema.optional(Schema.Boolean),
  cache: Schema.optional(CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolResultPart = typeof ToolResultPart.Type

/**
 * Model reasoning ("thinking"). `signature` (Anthropic) must be sent back unchanged
 * with the part in multi-turn conversations.
 *
 * @since 0.1.0
 * @category models
 */
export const ReasoningPart = Schema.Struct({
  type: Schema.Literal("reasoning"),
  text: Schema.String,
  signature: Schema.optional(Schema.String),
  redacted: Schema.optional(Schema.Boolean)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ReasoningPart = typeof ReasoningPart.Type

/**
 * Any content part.
 *
 * @since 0.1.0
 * @category models
 */
export const Part = Schema.Union(TextPart, ImagePart, ToolCallPart, ToolResultPart, ReasoningPart)

/**
 * @since 0.1.0
 * @category models
 */
export type Part = typeof Part.Type

/**
 * @since 0.1.0
 * @category models
 */
export const SystemMessage = Schema.Struct({
  role: Schema.Literal("system"),
  content: Schema.Array(TextPart),
  cache: Schema.optional(CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type SystemMessage = typeof SystemMessage.Type

/**
 * @since 0.1.0
 * @category models
 */
export const UserMessage = Schema.Struct({
  role: Schema.Literal("user"),
  content: Schema.Array(Schema.Union(TextPart, ImagePart)),
  name: Schema.optional(Schema.String),
  cache: Schema.optional(CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type UserMessage = typeof UserMessage.Type

/**
 * @since 0.1.0
 * @category models
 */
export const AssistantMessage = Schema.Struct({
  role: Schema.Literal("assistant"),
  content: Schema.Array(Schema.Union(TextPart, ToolCallPart, ReasoningPart)),
  name: Schema.optional(Schema.String),
  cache: Schema.optional(CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type AssistantMessage = typeof AssistantMessage.Type

/**
 * @since 0.1.0
 * @category models
 */
export const ToolMessage = Schema.Struct({
  role: Schema.Literal("tool"),
  content: Schema.Array(ToolResultPart),
  cache: Schema.optional(CacheHint)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ToolMessage = typeof ToolMessage.Type

/**
 * A message in canonical form (content is always a list of parts).
 *
 * @since 0.1.0
 * @category models
 */
export const Message = Schema.Union(SystemMessage, UserMessage, AssistantMessage, ToolMessage)

/**
 * @since 0.1.0
 * @category models
 */
export type Message = typeof Message.Type

/**
 * @since 0.1.0
 * @category models
 */
export type Role = Message["role"]

/**
 * A message as callers may write it: content may be a plain string; a tool message may
 * give `toolCallId` and a plain result instead of parts.
 *
 * @since 0.1.0
 * @category models
 */
export type MessageInput =
  | Message
  | { readonly role: "system" | "user" | "assistant"; readonly content: string; readonly name?: string | undefined }
  | {
    readonly role: "system"
    readonly content: ReadonlyArray<TextPart>
  }
  | {
    readonly role: "user"
    readonly content: ReadonlyArray<TextPart | ImagePart>
    readonly name?: string | undefined
  }
  | {
    readonly role: "assistant"
    readonly content: ReadonlyArray<TextPart | ToolCallPart | ReasoningPart>
    readonly name?: string | undefined
  }
  | {
    readonly role: "tool"
    readonly toolCallId: string
    readonly content: unknown
    readonly name?: string | undefined
    readonly isError?: boolean | undefined
  }
  | readonly [role: "system" | "user" | "assistant", text: string]

/**
 * What `messages` accepts: a bare string (one user message) or a list of messages.
 *
 * @since 0.1.0
 * @category models
 */
export type MessagesInput = string | ReadonlyArray<MessageInput>

/**
 * A system message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const system = (text: string): SystemMessage => ({ role: "system", content: [{ type: "text", text }] })

/**
 * A user message: text, or text and images.
 *
 * @since 0.1.0
 * @category constructors
 */
export const user = (content: string | ReadonlyArray<TextPart | ImagePart>): UserMessage => ({
  role: "user",
  content: typeof content === "string" ? [{ type: "text", text: content }] : content
})

/**
 * An assistant message: text, or parts (text, tool calls, reasoning).
 *
 * @since 0.1.0
 * @category constructors
 */
export const assistant = (
  content: string | ReadonlyArray<TextPart | ToolCallPart | ReasoningPart>
): AssistantMessage => ({
  role: "assistant",
  content: typeof content === "string" ? [{ type: "text", text: content }] : content
})

/**
 * A tool message carrying the result of the tool call `toolCallId`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tool = (
  toolCallId: string,
  result: unknown,
  options?: { readonly name?: string | undefined; readonly isError?: boolean | undefined }
): ToolMessage => ({
  role: "tool",
  content: [{
    type: "tool-result",
    toolCallId,
    result,
    ...(options?.name !== undefined ? { name: options.name } : {}),
    ...(options?.isError !== undefined ? { isError: options.isError } : {})
  }]
})

/**
 * A text part.
 *
 * @since 0.1.0
 * @category constructors
 */
export const text = (value: string, cache?: CacheHint): TextPart =>
  cache === undefined ? { type: "text", text: value } : { type: "text", text: value, cache }

/**
 * An image part from a URL (`https:` or `data:`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const imageUrl = (url: string, detail?: "auto" | "low" | "high"): ImagePart =>
  detail === undefined ? { type: "image", url } : { type: "image", url, detail }

/**
 * An image part from base64 data.
 *
 * @since 0.1.0
 * @category constructors
 */
export const imageBase64 = (data: string, mediaType: string): ImagePart => ({ type: "image", data, mediaType })

/**
 * The text of a message's text parts, joined.
 *
 * @since 0.1.0
 * @category getters
 */
export const textOf = (message: Message): string => {
  let out = ""
  for (const part of message.content) {
    if (part.type === "text") out = out === "" ? part.text : out + part.text
  }
  return out
}

// -----------------------------------------------------------------------------
// normalization
// -----------------------------------------------------------------------------

const invalid = (message: string, param: string) => Either.left(new InvalidRequestError({ message, param }, true))

const allowedParts: Record<Role, ReadonlySet<string>> = {
  system: new Set(["text"]),
  user: new Set(["text", "image"]),
  assistant: new Set(["text", "tool-call", "reasoning"]),
  tool: new Set(["tool-result"])
}

const checkPart = (part: unknown, role: Role, where: string): InvalidRequestError | undefined => {
  if (!Predicate.isRecord(part) || typeof part.type !== "string") {
    return new InvalidRequestError(
      { message: `${where} must be a content part object with a "type"`, param: where },
      true
    )
  }
  if (!allowedParts[role].has(part.type)) {
    return new InvalidRequestError({
      message: `${where} has type "${part.type}", which a ${role} message cannot hold (allowed: ${
        [...allowedParts[role]].join(", ")
      })`,
      param: `${where}.type`
    }, true)
  }
  switch (part.type) {
    case "text":
    case "reasoning":
      if (typeof part.text !== "string") {
        return new InvalidRequestError({ message: `${where}.text must be a string`, param: `${where}.text` }, true)
      }
      return undefined
    case "image":
      if (typeof part.url !== "string" && (typeof part.data !== "string" || typeof part.mediaType !== "string")) {
        return new InvalidRequestError({
          message: `${where} needs a "url" or base64 "data" with its "mediaType"`,
          param: where
        }, true)
      }
      return undefined
    case "tool-call":
      if (typeof part.id !== "string" || typeof part.name !== "string") {
        const field = typeof part.id !== "string" ? "id" : "name"
        return new InvalidRequestError({
          message: `${where} needs a string "id" and "name" (${where}.${field} is ${JSON.stringify(part[field])})`,
          param: `${where}.${field}`
        }, true)
      }
      return undefined
    case "tool-result":
      if (typeof part.toolCallId !== "string") {
        return new InvalidRequestError({
          message: `${where} needs a string "toolCallId"`,
          param: `${where}.toolCallId`
        }, true)
      }
      return undefined
  }
  return undefined
}

const roles: ReadonlySet<string> = new Set(["system", "user", "assistant", "tool"])

const normalizeOne = (input: unknown, index: number): Either.Either<Message, InvalidRequestError> => {
  const where = `messages[${index}]`
  if (Array.isArray(input)) {
    const [role, content] = input as Array<unknown>
    if (input.length !== 2 || typeof role !== "string" || typeof content !== "string") {
      return invalid(`${where} must be a [role, text] pair of strings`, where)
    }
    if (role !== "system" && role !== "user" && role !== "assistant") {
      return invalid(`${where} has role "${role}"; a [role, text] pair takes system, user or assistant`, where)
    }
    return Either.right({ role, content: [{ type: "text", text: content }] } as Message)
  }
  if (!Predicate.isRecord(input)) {
    return invalid(`${where} must be a message object, a [role, text] pair or a string`, where)
  }
  const role = input.role
  if (typeof role !== "string" || !roles.has(role)) {
    return invalid(
      `${where}.role must be one of system, user, assistant, tool (got ${JSON.stringify(role)})`,
      `${where}.role`
    )
  }
  const content = input.content
  if (role === "tool") {
    if (typeof input.toolCallId === "string") {
      const part: ToolResultPart = {
        type: "tool-result",
        toolCallId: input.toolCallId,
        result: content,
        ...(typeof input.name === "string" ? { name: input.name } : {}),
        ...(typeof input.isError === "boolean" ? { isError: input.isError } : {})
      }
      return Either.right(
        input.cache !== undefined
          ? { role: "tool", content: [part], cache: input.cache as CacheHint }
          : { role: "tool", content: [part] }
      )
    }
    if (!Array.isArray(content)) {
      return invalid(
        `${where} is a tool message: give "toolCallId" and a result, or a list of tool-result parts`,
        `${where}.toolCallId`
      )
    }
  }
  if (typeof content === "string") {
    const out: Record<string, unknown> = { role, content: [{ type: "text", text: content }] }
    if (typeof input.name === "string") out.name = input.name
    if (input.cache !== undefined) out.cache = input.cache
    return Either.right(out as unknown as Message)
  }
  if (!Array.isArray(content)) {
    return invalid(`${where}.content must be a string or a list of content parts`, `${where}.content`)
  }
  for (let i = 0; i < content.length; i++) {
    const error = checkPart(content[i], role as Role, `${where}.content[${i}]`)
    if (error !== undefined) return Either.left(error)
  }
  return Either.right(input as unknown as Message)
}

/**
 * Turn any accepted message input into canonical messages, or say exactly what is wrong.
 *
 * @since 0.1.0
 * @category constructors
 */
export const normalize = (
  input: MessagesInput | unknown
): Either.Either<ReadonlyArray<Message>, InvalidRequestError> => {
  if (typeof input === "string") return Either.right([user(input)])
  if (!Array.isArray(input)) {
    return invalid("messages must be a string or a list of messages", "messages")
  }
  if (input.length === 0) return invalid("messages must not be empty", "messages")
  const out = new Array<Message>(input.length)
  for (let i = 0; i < input.length; i++) {
    const result = normalizeOne(input[i], i)
    if (Either.isLeft(result)) return Either.left(result.left)
    out[i] = result.right
  }
  return Either.right(out)
}
