/**
 * The Gemini API wire format: `POST /{version}/models/{model}:generateContent` (JSON) and
 * `:streamGenerateContent?alt=sse` (SSE, `data: {…}\r\n\r\n` frames, no `[DONE]`; without
 * `alt=sse`, one JSON array of the chunks), plus `:embedContent` / `:batchEmbedContents`.
 * The model travels in the path, URL-encoded — controls included (`mock%3Fchunks%3D5`).
 */
import { embedding } from "../vectors.js"
import type { ChatFormat, ErrorKind, ErrorOptions, ErrorResponse, ResponseContext, SseFrames } from "./format.js"
import * as Json from "./json.js"
import type { Finish, Intent, Plan } from "./plan.js"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

export type Method = "generateContent" | "streamGenerateContent" | "embedContent" | "batchEmbedContents"

export interface Route {
  readonly version: string
  /** The decoded model, controls included. */
  readonly model: string
  readonly method: Method
  /** `alt=sse` was asked for. */
  readonly sse: boolean
}

const routePattern =
  /^\/(v1beta|v1|v1alpha)\/models\/(.+?):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)(?:\?(.*))?$/

/**
 * Match a request target (path and query string). The model may arrive URL-encoded
 * (`mock%3Fchunks%3D5`) or, from a careless client, with a raw `?` — both are read.
 * `undefined` when the target is no Gemini route; a string when the model cannot be decoded.
 */
export const route = (target: string): Route | string | undefined => {
  const match = routePattern.exec(target)
  if (match === null) return undefined
  let model: string
  try {
    model = decodeURIComponent(match[2]!)
  } catch {
    return `Invalid model name in the path: ${match[2]}`
  }
  const query = match[4]
  return {
    version: match[1]!,
    model,
    method: match[3] as Method,
    sse: query !== undefined && new URLSearchParams(query).get("alt") === "sse"
  }
}

/** Gemini's OpenAPI-subset schemas spell types in upper case (`OBJECT`); JSON Schema in lower. */
const lowerTypes = (schema: unknown, depth = 0): unknown => {
  if (depth > 32) return schema
  if (Array.isArray(schema)) return schema.map((s) => lowerTypes(s, depth + 1))
  if (!isRecord(schema)) return schema
  const out: Record<string, unknown> = {}
  for (const key in schema) {
    const value = schema[key]
    out[key] = key === "type" && typeof value === "string"
      ? value.toLowerCase()
      : key === "enum" || key === "required"
      ? value
      : lowerTypes(value, depth + 1)
  }
  return out
}

const partsText = (parts: unknown): string => {
  if (!Array.isArray(parts)) return ""
  const texts: Array<string> = []
  for (const part of parts) {
    if (isRecord(part) && typeof part.text === "string" && part.thought !== true) texts.push(part.text)
  }
  return texts.join("")
}

const parse = (body: unknown, target: string): Intent | string => {
  const where = route(target)
  if (where === undefined) return "unknown Gemini method"
  if (typeof where === "string") return where
  if (!isRecord(body)) return "Invalid JSON payload received. The request body must be a JSON object."
  const contents = body.contents
  if (!Array.isArray(contents) || contents.length === 0) {
    return "* GenerateContentRequest.contents: contents is not specified"
  }
  const system = body.systemInstruction
  let promptChars = typeof system === "string" ? system.length : isRecord(system) ? partsText(system.parts).length : 0
  let lastRole: Intent["lastRole"] = undefined
  let lastUserText = ""
  let toolResult: string | undefined
  for (let i = 0; i < contents.length; i++) {
    const content: unknown = contents[i]
    if (!isRecord(content)) return `* GenerateContentRequest.contents[${i}]: must be an object`
    const role = content.role ?? "user"
    if (role !== "user" && role !== "model" && role !== "function" && role !== "tool") {
      return `* GenerateContentRequest.contents[${i}].role: Please use a valid role: user, model.`
    }
    const parts = content.parts
    if (!Array.isArray(parts) || parts.length === 0) {
      return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`
    }
    const text = partsText(parts)
    promptChars += text.length
    const results: Array<string> = []
    for (const part of parts) {
      if (!isRecord(part)) continue
      if (isRecord(part.functionCall)) promptChars += JSON.stringify(part.functionCall.args ?? {}).length
      else if (isRecord(part.functionResponse)) {
        const result = JSON.stringify(part.functionResponse.response ?? {})
        promptChars += result.length
        results.push(result)
      }
    }
    if (role === "model") {
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
      if (!isRecord(tool) || !Array.isArray(tool.functionDeclarations)) continue
      for (const declaration of tool.functionDeclarations) {
        if (!isRecord(declaration) || typeof declaration.name !== "string") continue
        tools.push({
          name: declaration.name,
          parameters: declaration.parametersJsonSchema ?? lowerTypes(declaration.parameters)
        })
      }
    }
  }
  const config = isRecord(body.toolConfig) && isRecord(body.toolConfig.functionCallingConfig)
    ? body.toolConfig.functionCallingConfig
    : undefined
  const allowed = config !== undefined && Array.isArray(config.allowedFunctionNames)
    ? config.allowedFunctionNames.filter((n): n is string => typeof n === "string")
    : []
  const toolChoice: Intent["toolChoice"] = config?.mode === "NONE"
    ? "none"
    : config?.mode === "ANY"
    ? allowed.length > 0 ? { name: allowed[0]! } : "required"
    : "auto"
  const generation = isRecord(body.generationConfig) ? body.generationConfig : undefined
  const stream = where.method === "streamGenerateContent"
  return {
    model: where.model,
    stream: stream && where.sse,
    includeUsage: true,
    promptChars,
    lastRole,
    lastUserText,
    toolResult,
    tools,
    toolChoice,
    maxTokens: typeof generation?.maxOutputTokens === "number" ? generation.maxOutputTokens : undefined,
    jsonArray: stream && !where.sse,
    json: Json.fromGemini(generation, lowerTypes)
  }
}

const finishReasons: Record<Finish, string> = {
  stop: "STOP",
  length: "MAX_TOKENS",
  tool_calls: "STOP",
  content_filter: "SAFETY"
}

const usageJson = (plan: Plan, completion: number): string => {
  const { cachedTokens, promptTokens } = plan.usage
  return `{"promptTokenCount":${promptTokens},"candidatesTokenCount":${completion},"totalTokenCount":${
    promptTokens + completion
  },${
    cachedTokens > 0 ? `"cachedContentTokenCount":${cachedTokens},` : ""
  }"promptTokensDetails":[{"modality":"TEXT","tokenCount":${promptTokens}}]}`
}

const functionCallPart = (call: Plan["toolCalls"][number]): string => {
  let args: unknown
  try {
    args = JSON.parse(call.arguments)
  } catch {
    args = {}
  }
  return JSON.stringify({ functionCall: { name: call.name, args } })
}

/** The chunks of a streamed answer (JSON texts): one text part or one function call each. */
const chunkBodies = (plan: Plan, context: ResponseContext): Array<string> => {
  const prefix = `{"candidates":[{"content":{"parts":[`
  const suffix = `,"modelVersion":${JSON.stringify(context.model)},"responseId":${JSON.stringify(context.id)}}`
  const parts: Array<string> = []
  for (const delta of plan.deltas) parts.push(`{"text":${JSON.stringify(delta)}}`)
  for (const call of plan.toolCalls) parts.push(functionCallPart(call))
  if (parts.length === 0 && plan.finishReason !== null) parts.push(`{"text":""}`)
  const total = plan.usage.completionTokens
  const out = new Array<string>(parts.length)
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1
    const finish = last && plan.finishReason !== null ? `"finishReason":"${finishReasons[plan.finishReason]}",` : ""
    // usage is cumulative in every chunk, as Gemini sends it
    const completion = last ? total : Math.round((total * (i + 1)) / parts.length)
    out[i] = prefix + parts[i] + `],"role":"model"},` + finish + `"index":0}],"usageMetadata":` +
      usageJson(plan, completion) + suffix
  }
  return out
}

const json = (plan: Plan, context: ResponseContext, intent: Intent): string => {
  if (intent.jsonArray === true) return "[" + chunkBodies(plan, context).join(",\n") + "]"
  const parts: Array<string> = []
  if (plan.text !== "" || plan.toolCalls.length === 0) parts.push(`{"text":${JSON.stringify(plan.text)}}`)
  for (const call of plan.toolCalls) parts.push(functionCallPart(call))
  return `{"candidates":[{"content":{"parts":[${parts.join(",")}],"role":"model"},${
    plan.finishReason === null ? "" : `"finishReason":"${finishReasons[plan.finishReason]}",`
  }"index":0}],"usageMetadata":${usageJson(plan, plan.usage.completionTokens)},"modelVersion":${
    JSON.stringify(context.model)
  },"responseId":${JSON.stringify(context.id)}}`
}

const sse = (plan: Plan, context: ResponseContext): SseFrames => {
  const bodies = chunkBodies(plan, context)
  const frames = bodies.map((body) => "data: " + body + "\r\n\r\n")
  // the last chunk carries finishReason; an empty answer is that chunk alone, after no content
  const empty = plan.deltas.length === 0 && plan.toolCalls.length === 0
  return { head: [], content: empty ? [] : frames, tail: empty ? frames : [], terminator: "" }
}

const brokenFrame = (): string => `data: {"candidates":[{"content":{"parts":[{"text":"tok\r\n\r\n`

const statuses: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  529: "UNAVAILABLE"
}

/** A protobuf `Duration` in JSON: seconds with a fraction, suffix `s` (`0.05s`, `2s`). */
const duration = (ms: number): string => `${ms / 1000}s`

const retryInfo = (ms: number | undefined): Array<unknown> =>
  ms === undefined ? [] : [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: duration(ms) }]

const errorBody = (code: number, message: string, details?: Array<unknown>): string =>
  JSON.stringify({
    error: {
      code,
      message,
      status: statuses[code] ?? "UNKNOWN",
      ...(details !== undefined && details.length > 0 ? { details } : {})
    }
  })

const error = (kind: ErrorKind, options: ErrorOptions = {}): ErrorResponse => {
  const message = options.message
  switch (kind) {
    case "429":
      return {
        status: 429,
        body: errorBody(
          429,
          message ??
            "You exceeded your current quota, please check your plan and billing details (mock). Please retry shortly.",
          [
            {
              "@type": "type.googleapis.com/google.rpc.QuotaFailure",
              violations: [{
                quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
              }]
            },
            ...retryInfo(options.retryAfterMs)
          ]
        )
      }
    case "500":
      return {
        status: 500,
        body: errorBody(
          500,
          message ??
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        )
      }
    case "503":
    case "529": {
      const status = kind === "503" ? 503 : 529
      return {
        status,
        body: errorBody(
          status,
          message ?? "The model is overloaded. Please try again later.",
          retryInfo(options.retryAfterMs)
        )
      }
    }
    case "401":
      return {
        status: 401,
        body: errorBody(401, message ?? "API key not valid. Please pass a valid API key.", [{
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: "generativelanguage.googleapis.com" }
        }])
      }
    case "403":
      return {
        status: 403,
        body: errorBody(
          403,
          message ??
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
        )
      }
    case "400-context":
      return {
        status: 400,
        body: errorBody(
          400,
          message ?? "The input token count (1212345) exceeds the maximum number of tokens allowed (1048576)."
        )
      }
    case "bad-request":
      return { status: 400, body: errorBody(400, message ?? "Request contains an invalid argument.") }
    case "not-found":
      return { status: 404, body: errorBody(404, message ?? "Not found") }
  }
}

const overloaded = errorBody(503, "The model is overloaded. Please try again later.")

export const generateContent: ChatFormat = {
  name: "gemini",
  idPrefix: "mock-response-",
  callIdPrefix: "call_mock_",
  requestIdHeader: "x-request-id",
  eol: "\r\n",
  parse,
  json,
  sse,
  brokenFrame,
  errorEvent: { frame: `data: ${overloaded}\r\n\r\n`, body: overloaded },
  error
}

/** The texts of an `EmbedContentRequest` (`content.parts[].text`). */
const embedText = (request: unknown): string | undefined =>
  isRecord(request) && isRecord(request.content) && Array.isArray(request.content.parts)
    ? partsText(request.content.parts)
    : undefined

const dimensions = (request: Record<string, unknown>): number =>
  typeof request.outputDimensionality === "number" && Number.isInteger(request.outputDimensionality) &&
    request.outputDimensionality > 0
    ? Math.min(request.outputDimensionality, 8192)
    : 768

/** `:embedContent` and `:batchEmbedContents`: deterministic unit vectors (768 dimensions unless asked). */
export const embeddings = (method: Method, body: unknown): string | { readonly error: string } => {
  if (!isRecord(body)) return { error: "Invalid JSON payload received. The request body must be a JSON object." }
  if (method === "embedContent") {
    const text = embedText(body)
    if (text === undefined) return { error: "* EmbedContentRequest.content: content is not specified" }
    return JSON.stringify({ embedding: { values: embedding(text, dimensions(body)) } })
  }
  const requests = body.requests
  if (!Array.isArray(requests) || requests.length === 0) {
    return { error: "* BatchEmbedContentsRequest.requests: requests is not specified" }
  }
  const out: Array<unknown> = []
  for (let i = 0; i < requests.length; i++) {
    const request: unknown = requests[i]
    const text = embedText(request)
    if (text === undefined) {
      return { error: `* BatchEmbedContentsRequest.requests[${i}].content: content is not specified` }
    }
    out.push({ values: embedding(text, dimensions(request as Record<string, unknown>)) })
  }
  return JSON.stringify({ embeddings: out })
}
