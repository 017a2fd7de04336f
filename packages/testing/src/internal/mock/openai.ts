/**
 * The OpenAI Chat Completions wire format (`POST /v1/chat/completions`), plus the
 * embeddings and model-list bodies of the OpenAI API.
 */
import { embedding, estimateTokens } from "../vectors.js"
import type { ChatFormat, ErrorKind, ErrorOptions, ErrorResponse, ResponseContext, SseFrames } from "./format.js"
import { retryHeaders } from "./format.js"
import * as Json from "./json.js"
import type { Intent, Plan } from "./plan.js"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text of an OpenAI message content: a string, or the text of its parts. */
const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  const texts: Array<string> = []
  for (const part of content) {
    if (isRecord(part) && typeof part.text === "string") texts.push(part.text)
  }
  return texts.join("")
}

const roles: ReadonlySet<string> = new Set(["system", "developer", "user", "assistant", "tool", "function"])

const parse = (body: unknown, _path: string): Intent | string => {
  if (!isRecord(body)) return "the request body must be a JSON object"
  const model = body.model
  if (typeof model !== "string" || model === "") return "you must provide a model parameter"
  const messages = body.messages
  if (!Array.isArray(messages)) return "you must provide a messages parameter"
  if (messages.length === 0) return "[] is too short - 'messages'"
  let promptChars = 0
  let lastRole: Intent["lastRole"] = undefined
  let lastUserText = ""
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i]
    if (!isRecord(message) || typeof message.role !== "string" || !roles.has(message.role)) {
      return `Invalid value for 'messages[${i}].role'`
    }
    const text = contentText(message.content)
    promptChars += text.length
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls) {
        if (isRecord(call) && isRecord(call.function) && typeof call.function.arguments === "string") {
          promptChars += call.function.arguments.length
        }
      }
    }
    const role = message.role
    lastRole = role === "developer" ? "system" : role === "function" ? "tool" : role as Intent["lastRole"]
    if (role === "user") lastUserText = text
  }
  let toolResult: string | undefined
  if (lastRole === "tool") {
    const results: Array<string> = []
    for (let i = messages.length - 1; i >= 0; i--) {
      const message = messages[i] as Record<string, unknown>
      if (message.role !== "tool" && message.role !== "function") break
      results.unshift(contentText(message.content))
    }
    toolResult = results.join("; ")
  }
  const tools: Array<{ name: string; parameters: unknown }> = []
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      if (isRecord(tool) && isRecord(tool.function) && typeof tool.function.name === "string") {
        tools.push({ name: tool.function.name, parameters: tool.function.parameters })
      }
    }
  }
  const choice = body.tool_choice
  const toolChoice: Intent["toolChoice"] = choice === "none" || choice === "required" || choice === "auto"
    ? choice
    : isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === "string"
    ? { name: choice.function.name }
    : "auto"
  const max = typeof body.max_completion_tokens === "number"
    ? body.max_completion_tokens
    : typeof body.max_tokens === "number"
    ? body.max_tokens
    : undefined
  return {
    model,
    stream: body.stream === true,
    includeUsage: body.stream === true && isRecord(body.stream_options) && body.stream_options.include_usage === true,
    promptChars,
    lastRole,
    lastUserText,
    toolResult,
    tools,
    toolChoice,
    maxTokens: max,
    json: Json.fromChatCompletions(body)
  }
}

const usageJson = (plan: Plan): string => {
  const { cachedTokens, completionTokens, promptTokens } = plan.usage
  return `{"prompt_tokens":${promptTokens},"completion_tokens":${completionTokens},"total_tokens":${
    promptTokens + completionTokens
  },"prompt_tokens_details":{"cached_tokens":${cachedTokens},"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`
}

const json = (plan: Plan, context: ResponseContext): string => {
  const message: Record<string, unknown> = {
    role: "assistant",
    content: plan.text === "" && plan.toolCalls.length > 0 ? null : plan.text,
    refusal: null,
    annotations: []
  }
  if (plan.toolCalls.length > 0) {
    message.tool_calls = plan.toolCalls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.arguments }
    }))
  }
  return `{"id":${JSON.stringify(context.id)},"object":"chat.completion","created":${context.created},"model":${
    JSON.stringify(context.model)
  },"choices":[{"index":0,"message":${JSON.stringify(message)},"logprobs":null,"finish_reason":${
    plan.finishReason === null ? "null" : `"${plan.finishReason}"`
  }}],"usage":${usageJson(plan)},"service_tier":"default","system_fingerprint":"fp_mock"}`
}

const sse = (plan: Plan, context: ResponseContext, intent: Intent): SseFrames => {
  // every chunk is `prefix + delta + middle + finish_reason + suffix`; only the delta varies
  const prefix = `data: {"id":${
    JSON.stringify(context.id)
  },"object":"chat.completion.chunk","created":${context.created},"model":${
    JSON.stringify(context.model)
  },"service_tier":"default","system_fingerprint":"fp_mock","choices":[{"index":0,"delta":`
  const suffix = intent.includeUsage ? `}],"usage":null}\n\n` : `}]}\n\n`
  const open = `,"logprobs":null,"finish_reason":null` + suffix
  const head = [
    prefix + (plan.text === "" && plan.toolCalls.length > 0
      ? `{"role":"assistant","content":null,"refusal":null}`
      : `{"role":"assistant","content":"","refusal":null}`) +
    open
  ]
  const content: Array<string> = []
  for (const delta of plan.deltas) content.push(prefix + `{"content":` + JSON.stringify(delta) + "}" + open)
  for (let i = 0; i < plan.toolCalls.length; i++) {
    const call = plan.toolCalls[i]!
    content.push(
      prefix +
        `{"tool_calls":[{"index":${i},"id":${JSON.stringify(call.id)},"type":"function","function":{"name":${
          JSON.stringify(call.name)
        },"arguments":""}}]}` + open
    )
    for (const delta of call.argumentDeltas) {
      content.push(prefix + `{"tool_calls":[{"index":${i},"function":{"arguments":${JSON.stringify(delta)}}}]}` + open)
    }
  }
  const tail: Array<string> = []
  if (plan.finishReason !== null) {
    tail.push(prefix + `{},"logprobs":null,"finish_reason":"${plan.finishReason}"` + suffix)
    if (intent.includeUsage) {
      tail.push(
        `data: {"id":${
          JSON.stringify(context.id)
        },"object":"chat.completion.chunk","created":${context.created},"model":${
          JSON.stringify(context.model)
        },"service_tier":"default","system_fingerprint":"fp_mock","choices":[],"usage":${usageJson(plan)}}\n\n`
      )
    }
  }
  return { head, content, tail, terminator: "data: [DONE]\n\n" }
}

const brokenFrame = (context: ResponseContext): string =>
  `data: {"id":${
    JSON.stringify(context.id)
  },"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok\n\n`

const errorBody = (message: string, type: string, param: string | null, code: string | null): string =>
  JSON.stringify({ error: { message, type, param, code } })

const error = (kind: ErrorKind, options: ErrorOptions = {}): ErrorResponse => {
  const message = options.message
  switch (kind) {
    case "429":
      return {
        status: 429,
        body: errorBody(
          message ?? "Rate limit reached for requests per min (RPM) (mock). Please try again shortly.",
          "requests",
          null,
          "rate_limit_exceeded"
        ),
        headers: retryHeaders(options.retryAfterMs)
      }
    case "500":
      return {
        status: 500,
        body: errorBody(
          message ?? "The server had an error while processing your request. Sorry about that!",
          "server_error",
          null,
          null
        )
      }
    case "503":
    case "529":
      return {
        status: kind === "503" ? 503 : 529,
        body: errorBody(
          message ?? "The engine is currently overloaded, please try again later.",
          "server_error",
          null,
          null
        ),
        headers: retryHeaders(options.retryAfterMs)
      }
    case "401":
      return {
        status: 401,
        body: errorBody(
          message ??
            "Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.",
          "invalid_request_error",
          null,
          "invalid_api_key"
        )
      }
    case "403":
      return {
        status: 403,
        body: errorBody(
          message ?? "Country, region, or territory not supported",
          "request_forbidden",
          null,
          "unsupported_country_region_territory"
        )
      }
    case "400-context":
      return {
        status: 400,
        body: errorBody(
          message ??
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
          "invalid_request_error",
          "messages",
          "context_length_exceeded"
        )
      }
    case "bad-request":
      return { status: 400, body: errorBody(message ?? "Bad request", "invalid_request_error", null, null) }
    case "not-found":
      return { status: 404, body: errorBody(message ?? "Not found", "invalid_request_error", null, "unknown_url") }
  }
}

const inStreamError = errorBody(
  "The server had an error while processing your request. Sorry about that!",
  "server_error",
  null,
  null
)

export const chat: ChatFormat = {
  name: "openai-chat",
  idPrefix: "chatcmpl-mock-",
  callIdPrefix: "call_mock_",
  requestIdHeader: "x-request-id",
  eol: "\n",
  parse,
  json,
  sse,
  brokenFrame,
  errorEvent: { frame: `data: ${inStreamError}\n\n`, body: inStreamError },
  error
}

/** `POST /v1/embeddings`: one deterministic unit vector per input. */
export const embeddings = (body: unknown): string | { readonly error: string } => {
  if (!isRecord(body)) return { error: "the request body must be a JSON object" }
  const model = body.model
  if (typeof model !== "string" || model === "") return { error: "you must provide a model parameter" }
  const raw = body.input
  const input = typeof raw === "string" ? [raw] : Array.isArray(raw) && raw.every((s) => typeof s === "string")
    ? raw as Array<string>
    : undefined
  if (input === undefined || input.length === 0) return { error: "'input' must be a string or a list of strings" }
  const dimensions = typeof body.dimensions === "number" && Number.isInteger(body.dimensions) && body.dimensions > 0
    ? Math.min(body.dimensions, 8192)
    : 1536
  const base64 = body.encoding_format === "base64"
  let chars = 0
  const data = input.map((text, index) => {
    chars += text.length
    const vector = embedding(text, dimensions)
    const encoded = base64 ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector
    return { object: "embedding", index, embedding: encoded }
  })
  const tokens = Math.max(1, estimateTokens(chars))
  const q = model.indexOf("?")
  return JSON.stringify({
    object: "list",
    data,
    model: q < 0 ? model : model.slice(0, q),
    usage: { prompt_tokens: tokens, total_tokens: tokens }
  })
}

/** `GET /v1/models`. */
export const models = (created: number): string =>
  JSON.stringify({
    object: "list",
    data: ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "text-embedding-3-small", "text-embedding-3-large", "mock"].map((
      id
    ) => ({ id, object: "model", created, owned_by: "llm-fiber-mock" }))
  })
