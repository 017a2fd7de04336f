/**
 * ChatRequest → Chat Completions request body.
 *
 * @internal
 */
import type * as ChatRequest from "@llm-fiber/core/ChatRequest"
import type * as Message from "@llm-fiber/core/Message"
import type * as OpenAiWire from "../OpenAiWire.js"

/** How a provider instance shapes its requests. */
export interface BuildOptions {
  /** The provider's registry name: `providerOptions[name]` is merged into the body. */
  readonly providerName: string
  /** Where `maxTokens` goes. */
  readonly maxTokensField: "max_completion_tokens" | "max_tokens"
  /** Ask for the usage chunk at the end of a stream. */
  readonly includeStreamUsage: boolean
  /** Where the request's `user` goes (`false`: not sent). */
  readonly userField: "safety_identifier" | "user" | false
}

const imageUrl = (part: Message.ImagePart): string =>
  part.url !== undefined ? part.url : `data:${part.mediaType ?? "application/octet-stream"};base64,${part.data ?? ""}`

const stringifyArguments = (args: unknown): string => {
  if (typeof args === "string") return args
  if (args === undefined) return "{}"
  return JSON.stringify(args)
}

const stringifyResult = (result: unknown): string => {
  if (typeof result === "string") return result
  if (result === undefined) return ""
  return JSON.stringify(result) ?? ""
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

/** Append the wire messages of one normalized message. */
export const pushMessage = (message: Message.Message, out: Array<OpenAiWire.RequestMessage>): void => {
  switch (message.role) {
    case "system": {
      // One string: compatible servers often reject content arrays for system messages.
      out.push({ role: "system", content: joinText(message.content, "\n") })
      return
    }
    case "user": {
      const parts = message.content
      const name = message.name !== undefined ? { name: message.name } : {}
      const only = parts.length === 1 ? parts[0] : undefined
      if (only !== undefined && only.type === "text") {
        out.push({ role: "user", content: only.text, ...name })
        return
      }
      const content: Array<OpenAiWire.TextContentPart | OpenAiWire.ImageContentPart> = []
      for (const part of parts) {
        if (part.type === "text") {
          content.push({ type: "text", text: part.text })
        } else {
          content.push({
            type: "image_url",
            image_url: part.detail !== undefined ?
              { url: imageUrl(part), detail: part.detail } :
              { url: imageUrl(part) }
          })
        }
      }
      out.push({ role: "user", content, ...name })
      return
    }
    case "assistant": {
      const toolCalls: Array<OpenAiWire.ToolCall> = []
      for (const part of message.content) {
        if (part.type === "tool-call") {
          toolCalls.push({
            id: part.id,
            type: "function",
            function: { name: part.name, arguments: stringifyArguments(part.arguments) }
          })
        }
        // reasoning parts are not sent back: Chat Completions has no field for them
      }
      const text = joinText(message.content, "")
      out.push({
        role: "assistant",
        content: text === "" && toolCalls.length > 0 ? null : text,
        ...(message.name !== undefined ? { name: message.name } : {}),
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {})
      })
      return
    }
    case "tool": {
      for (const part of message.content) {
        out.push({ role: "tool", tool_call_id: part.toolCallId, content: stringifyResult(part.result) })
      }
      return
    }
  }
}

const toolChoice = (choice: ChatRequest.ToolChoice): OpenAiWire.ToolChoice =>
  typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } }

const responseFormat = (format: ChatRequest.ResponseFormat): OpenAiWire.ResponseFormat => {
  switch (format.type) {
    case "text":
      return { type: "text" }
    case "json":
      return { type: "json_object" }
    case "json_schema":
      return {
        type: "json_schema",
        json_schema: {
          name: format.name,
          schema: format.schema,
          ...(format.description !== undefined ? { description: format.description } : {}),
          ...(format.strict !== undefined ? { strict: format.strict } : {})
        }
      }
  }
}

/**
 * Build the body of `POST /chat/completions`. `providerOptions[providerName]` is merged
 * last (shallow), except that `stream` always follows the call (a stream must stay a
 * stream); a key set to `undefined` there removes the field.
 */
export const buildChatBody = (
  request: ChatRequest.ChatRequest,
  model: string,
  stream: boolean,
  options: BuildOptions
): OpenAiWire.ChatCompletionRequest => {
  const messages: Array<OpenAiWire.RequestMessage> = []
  for (const message of request.messages) pushMessage(message, messages)
  const body: Record<string, unknown> = { model, messages }
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop
  if (request.seed !== undefined) body.seed = request.seed
  if (request.user !== undefined && options.userField !== false) body[options.userField] = request.user
  if (request.maxTokens !== undefined) body[options.maxTokensField] = request.maxTokens
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool): OpenAiWire.FunctionTool => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.parameters,
        ...(tool.strict !== undefined ? { strict: tool.strict } : {})
      }
    }))
  }
  if (request.toolChoice !== undefined) body.tool_choice = toolChoice(request.toolChoice)
  if (request.responseFormat !== undefined) body.response_format = responseFormat(request.responseFormat)
  if (stream) {
    body.stream = true
    if (options.includeStreamUsage) body.stream_options = { include_usage: true }
  }
  const extra = request.providerOptions?.[options.providerName]
  if (extra !== undefined) {
    for (const key in extra) {
      if (key === "stream") continue
      const value = extra[key]
      if (value === undefined) delete body[key]
      else body[key] = value
    }
  }
  return body as OpenAiWire.ChatCompletionRequest
}
