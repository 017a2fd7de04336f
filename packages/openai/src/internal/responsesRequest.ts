/**
 * ChatRequest → Responses API request body (`POST /responses`).
 *
 * @internal
 */
import type * as ChatRequest from "@llm-fiber/core/ChatRequest"
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Message from "@llm-fiber/core/Message"
import * as Either from "effect/Either"
import type * as OpenAiWire from "../OpenAiWire.js"

/** How a Responses provider instance shapes its requests. */
export interface ResponsesBuildOptions {
  /** The provider's registry name: `providerOptions[name]` is merged into the body. */
  readonly providerName: string
  /** The `store` value sent unless `providerOptions` says otherwise. */
  readonly store: boolean
}

const imageUrl = (part: Message.ImagePart): string =>
  part.url !== undefined ? part.url : `data:${part.mediaType ?? "application/octet-stream"};base64,${part.data ?? ""}`

const stringify = (value: unknown, empty: string): string => {
  if (typeof value === "string") return value
  if (value === undefined) return empty
  return JSON.stringify(value) ?? empty
}

const joinText = (parts: ReadonlyArray<{ readonly type: string }>, separator: string): string => {
  let out: string | undefined
  for (const part of parts) {
    if (part.type === "text") {
      const text = (part as Message.TextPart).text
      out = out === undefined ? text : out + separator + text
    }
  }
  return out ?? ""
}

/** Append the input items of one normalized message. */
const pushItems = (message: Message.Message, out: Array<OpenAiWire.ResponsesInputItem>): void => {
  switch (message.role) {
    case "system": {
      out.push({ type: "message", role: "system", content: joinText(message.content, "\n") })
      return
    }
    case "user": {
      const parts = message.content
      const only = parts.length === 1 ? parts[0] : undefined
      if (only !== undefined && only.type === "text") {
        out.push({ type: "message", role: "user", content: only.text })
        return
      }
      const content: Array<OpenAiWire.ResponsesInputContent> = []
      for (const part of parts) {
        content.push(
          part.type === "text" ?
            { type: "input_text", text: part.text } :
            { type: "input_image", image_url: imageUrl(part), detail: part.detail ?? "auto" }
        )
      }
      out.push({ type: "message", role: "user", content })
      return
    }
    case "assistant": {
      // text first, then the calls, as the model produced them; reasoning parts are not
      // sent back (see the docs: stateless requests carry no reasoning items)
      const text = joinText(message.content, "")
      if (text !== "") out.push({ type: "message", role: "assistant", content: text })
      for (const part of message.content) {
        if (part.type === "tool-call") {
          out.push({
            type: "function_call",
            call_id: part.id,
            name: part.name,
            arguments: stringify(part.arguments, "{}")
          })
        }
      }
      return
    }
    case "tool": {
      for (const part of message.content) {
        out.push({ type: "function_call_output", call_id: part.toolCallId, output: stringify(part.result, "") })
      }
      return
    }
  }
}

const toolChoice = (choice: ChatRequest.ToolChoice): OpenAiWire.ResponsesRequest["tool_choice"] =>
  typeof choice === "string" ? choice : { type: "function", name: choice.name }

const textFormat = (format: ChatRequest.ResponseFormat): OpenAiWire.ResponsesTextFormat => {
  switch (format.type) {
    case "text":
      return { type: "text" }
    case "json":
      return { type: "json_object" }
    case "json_schema":
      return {
        type: "json_schema",
        name: format.name,
        schema: format.schema,
        ...(format.description !== undefined ? { description: format.description } : {}),
        ...(format.strict !== undefined ? { strict: format.strict } : {})
      }
  }
}

/**
 * Build the body of `POST /responses`.
 *
 * - System messages before the first other message become `instructions` (joined with a
 *   blank line); a system message later in the conversation stays in place as a
 *   `system`-role input message (its position matters).
 * - `stop` has no Responses equivalent: a request with stop sequences is an
 *   `InvalidRequestError` (use the `openai` provider); `seed` is not sent.
 * - `providerOptions[providerName]` is merged last (shallow), except `stream`; a key set
 *   to `undefined` there removes the field (e.g. `store: undefined` for the API default).
 */
export const buildResponsesBody = (
  request: ChatRequest.ChatRequest,
  model: string,
  stream: boolean,
  options: ResponsesBuildOptions
): Either.Either<OpenAiWire.ResponsesRequest, LlmError.InvalidRequestError> => {
  if (request.stop !== undefined && request.stop.length > 0) {
    return Either.left(
      new LlmError.InvalidRequestError({
        provider: options.providerName,
        model,
        param: "stop",
        message:
          `${options.providerName}: the Responses API has no stop sequences; drop "stop" or use the "openai" provider (Chat Completions)`
      }, true)
    )
  }
  const input: Array<OpenAiWire.ResponsesInputItem> = []
  const instructions: Array<string> = []
  let leading = true
  for (const message of request.messages) {
    if (leading && message.role === "system") {
      const text = joinText(message.content, "\n")
      if (text !== "") instructions.push(text)
      continue
    }
    leading = false
    pushItems(message, input)
  }
  const body: Record<string, unknown> = { model, input }
  if (instructions.length > 0) body.instructions = instructions.join("\n\n")
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.user !== undefined) body.safety_identifier = request.user
  if (request.maxTokens !== undefined) body.max_output_tokens = request.maxTokens
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool): OpenAiWire.ResponsesFunctionTool => ({
      type: "function",
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      parameters: tool.parameters,
      strict: tool.strict ?? false
    }))
  }
  if (request.toolChoice !== undefined) body.tool_choice = toolChoice(request.toolChoice)
  if (request.responseFormat !== undefined) body.text = { format: textFormat(request.responseFormat) }
  if (stream) body.stream = true
  body.store = options.store
  const extra = request.providerOptions?.[options.providerName]
  if (extra !== undefined) {
    for (const key in extra) {
      if (key === "stream") continue
      const value = extra[key]
      if (value === undefined) delete body[key]
      else body[key] = value
    }
  }
  return Either.right(body as OpenAiWire.ResponsesRequest)
}
