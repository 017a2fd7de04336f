/**
 * The Anthropic Messages wire format (`POST /v1/messages`): JSON, and SSE with `event:`
 * lines (`message_start`, `content_block_start`, `ping`, `content_block_delta`,
 * `content_block_stop`, `message_delta`, `message_stop`), as the real API streams it.
 */
import type { ChatFormat, ErrorKind, ErrorOptions, ErrorResponse, ResponseContext, SseFrames } from "./format.js"
import { retryHeaders } from "./format.js"
import type { Finish, Intent, Plan } from "./plan.js"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text of a content that is a string or a list of blocks (`text` blocks only). */
const blocksText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  const texts: Array<string> = []
  for (const block of content) {
    if (isRecord(block) && block.type === "text" && typeof block.text === "string") texts.push(block.text)
  }
  return texts.join("")
}

const parse = (body: unknown, _target: string): Intent | string => {
  if (!isRecord(body)) return "the request body must be a JSON object"
  const model = body.model
  if (typeof model !== "string" || model === "") return "model: Field required"
  const maxTokens = body.max_tokens
  if (maxTokens === undefined) return "max_tokens: Field required"
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens) || maxTokens < 1) {
    return "max_tokens: Input should be a valid integer greater than or equal to 1"
  }
  const messages = body.messages
  if (!Array.isArray(messages)) return "messages: Field required"
  if (messages.length === 0) return "messages: at least one message is required"
  let promptChars = blocksText(body.system).length
  let lastRole: Intent["lastRole"] = undefined
  let lastUserText = ""
  let toolResult: string | undefined
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i]
    if (!isRecord(message) || (message.role !== "user" && message.role !== "assistant")) {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`
    }
    const content = message.content
    if (typeof content !== "string" && !Array.isArray(content)) {
      return `messages.${i}.content: Input should be a valid string or a list of content blocks`
    }
    const text = blocksText(content)
    promptChars += text.length
    const results: Array<string> = []
    if (Array.isArray(content)) {
      for (const block of content) {
        if (!isRecord(block)) continue
        if (block.type === "tool_use") promptChars += JSON.stringify(block.input ?? {}).length
        else if (block.type === "tool_result") {
          const result = blocksText(block.content)
          promptChars += result.length
          results.push(result)
        }
      }
    }
    if (message.role === "assistant") {
      lastRole = "assistant"
      toolResult = undefined
    } else {
      if (text !== "") lastUserText = text
      lastRole = results.length > 0 ? "tool" : "user"
      toolResult = results.length > 0 ? results.join("; ") : undefined
    }
  }
  const tools: Array<{ name: string; parameters: unknown }> = []
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      // server tools (`web_search_…`) have no input_schema and are never called by the mock
      if (isRecord(tool) && typeof tool.name === "string" && isRecord(tool.input_schema)) {
        tools.push({ name: tool.name, parameters: tool.input_schema })
      }
    }
  }
  const choice = body.tool_choice
  const toolChoice: Intent["toolChoice"] = !isRecord(choice)
    ? "auto"
    : choice.type === "none"
    ? "none"
    : choice.type === "any"
    ? "required"
    : choice.type === "tool" && typeof choice.name === "string"
    ? { name: choice.name }
    : "auto"
  return {
    model,
    stream: body.stream === true,
    includeUsage: true,
    promptChars,
    lastRole,
    lastUserText,
    toolResult,
    tools,
    toolChoice,
    maxTokens
  }
}

const stopReasons: Record<Finish, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal"
}

const stopReason = (plan: Plan): string => plan.finishReason === null ? "null" : `"${stopReasons[plan.finishReason]}"`

/** `input_tokens` excludes the cached part, which `cache_read_input_tokens` counts. */
const inputUsage = (plan: Plan): string => {
  const { cachedTokens, promptTokens } = plan.usage
  return `"input_tokens":${
    Math.max(0, promptTokens - cachedTokens)
  },"cache_creation_input_tokens":0,"cache_read_input_tokens":${cachedTokens}`
}

const toolInput = (args: string): unknown => {
  try {
    return JSON.parse(args)
  } catch {
    return args // a scripted invalid JSON string travels as it is
  }
}

const json = (plan: Plan, context: ResponseContext): string => {
  const content: Array<unknown> = []
  if (plan.text !== "" || plan.toolCalls.length === 0) content.push({ type: "text", text: plan.text })
  for (const call of plan.toolCalls) {
    content.push({ type: "tool_use", id: call.id, name: call.name, input: toolInput(call.arguments) })
  }
  return `{"id":${JSON.stringify(context.id)},"type":"message","role":"assistant","model":${
    JSON.stringify(context.model)
  },"content":${JSON.stringify(content)},"stop_reason":${stopReason(plan)},"stop_sequence":null,"usage":{${
    inputUsage(plan)
  },"output_tokens":${plan.usage.completionTokens},"service_tier":"standard"}}`
}

const event = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`

const blockStop = (index: number): string =>
  event("content_block_stop", `{"type":"content_block_stop","index":${index}}`)

const sse = (plan: Plan, context: ResponseContext): SseFrames => {
  const head = [
    event(
      "message_start",
      `{"type":"message_start","message":{"id":${
        JSON.stringify(context.id)
      },"type":"message","role":"assistant","model":${
        JSON.stringify(context.model)
      },"content":[],"stop_reason":null,"stop_sequence":null,"usage":{${
        inputUsage(plan)
      },"output_tokens":1,"service_tier":"standard"}}}`
    )
  ]
  const content: Array<string> = []
  // a block stop and the next block's start travel with the next delta, so that one
  // content frame is one delta
  let pending = ""
  let index = 0
  const startBlock = (start: string) => {
    const frame = event(
      "content_block_start",
      `{"type":"content_block_start","index":${index},"content_block":${start}}`
    )
    if (index === 0) head.push(frame, event("ping", `{"type":"ping"}`))
    else pending += blockStop(index - 1) + frame
  }
  if (plan.text !== "" || plan.toolCalls.length === 0) {
    startBlock(`{"type":"text","text":""}`)
    const prefix =
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":`
    for (const delta of plan.deltas) {
      content.push(pending + prefix + JSON.stringify(delta) + "}}\n\n")
      pending = ""
    }
    index++
  }
  for (const call of plan.toolCalls) {
    startBlock(`{"type":"tool_use","id":${JSON.stringify(call.id)},"name":${JSON.stringify(call.name)},"input":{}}`)
    const prefix =
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":`
    for (const delta of call.argumentDeltas) {
      content.push(pending + prefix + JSON.stringify(delta) + "}}\n\n")
      pending = ""
    }
    index++
  }
  const tail = [
    pending + blockStop(index - 1),
    event(
      "message_delta",
      `{"type":"message_delta","delta":{"stop_reason":${stopReason(plan)},"stop_sequence":null},"usage":{${
        inputUsage(plan)
      },"output_tokens":${plan.usage.completionTokens}}}`
    )
  ]
  return { head, content, tail, terminator: event("message_stop", `{"type":"message_stop"}`) }
}

const brokenFrame = (): string =>
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tok\n\n`

const errorBody = (type: string, message: string): string => JSON.stringify({ type: "error", error: { type, message } })

const error = (kind: ErrorKind, options: ErrorOptions = {}): ErrorResponse => {
  const message = options.message
  switch (kind) {
    case "429": {
      const retry = retryHeaders(options.retryAfterMs)
      return {
        status: 429,
        body: errorBody(
          "rate_limit_error",
          message ??
            "This request would exceed the rate limit for your organization of 50 requests per minute (mock). Please try again later."
        ),
        headers: {
          ...retry,
          "anthropic-ratelimit-requests-limit": "50",
          "anthropic-ratelimit-requests-remaining": "0",
          "anthropic-ratelimit-requests-reset": new Date(Date.now() + (options.retryAfterMs ?? 0)).toISOString()
        }
      }
    }
    case "500":
      return { status: 500, body: errorBody("api_error", message ?? "Internal server error") }
    case "503":
      return {
        status: 503,
        body: errorBody("api_error", message ?? "Service unavailable"),
        headers: retryHeaders(options.retryAfterMs)
      }
    case "529":
      return {
        status: 529,
        body: errorBody("overloaded_error", message ?? "Overloaded"),
        headers: retryHeaders(options.retryAfterMs)
      }
    case "401":
      return { status: 401, body: errorBody("authentication_error", message ?? "invalid x-api-key") }
    case "403":
      return {
        status: 403,
        body: errorBody(
          "permission_error",
          message ?? "Your API key does not have permission to use the specified resource."
        )
      }
    case "400-context":
      return {
        status: 400,
        body: errorBody("invalid_request_error", message ?? "prompt is too long: 212345 tokens > 200000 maximum")
      }
    case "bad-request":
      return { status: 400, body: errorBody("invalid_request_error", message ?? "Bad request") }
    case "not-found":
      return { status: 404, body: errorBody("not_found_error", message ?? "Not found") }
  }
}

const overloaded = errorBody("overloaded_error", "Overloaded")

export const messages: ChatFormat = {
  name: "anthropic-messages",
  idPrefix: "msg_mock_",
  callIdPrefix: "toolu_mock_",
  requestIdHeader: "request-id",
  eol: "\n",
  parse,
  json,
  sse,
  brokenFrame,
  errorEvent: { frame: event("error", overloaded), body: overloaded },
  error
}
