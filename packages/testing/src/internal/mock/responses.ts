/**
 * The OpenAI Responses API wire format (`POST /v1/responses`): a `Response` object as JSON,
 * or typed SSE events (`event: <type>` + `data: {"type":<type>,"sequence_number":n,…}`),
 * in the order the real API streams them:
 *
 * `response.created`, `response.in_progress`, then per output item `response.output_item.added`
 * — a message: `response.content_part.added`, one `response.output_text.delta` per delta,
 * `response.output_text.done`, `response.content_part.done`; a function call:
 * `response.function_call_arguments.delta` pieces and `.done` — `response.output_item.done`,
 * and last `response.completed` (`response.incomplete` when cut by `max_output_tokens`)
 * with the whole response.
 */
import type { ChatFormat, ErrorKind, ErrorOptions, ErrorResponse, ResponseContext, SseFrames } from "./format.js"
import { hugePlaceholder } from "./format.js"
import * as Json from "./json.js"
import * as OpenAI from "./openai.js"
import type { Intent, Plan } from "./plan.js"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The text of a message content or a function-call output: a string, or the text of its parts. */
const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  const texts: Array<string> = []
  for (const part of content) {
    if (isRecord(part) && typeof part.text === "string") texts.push(part.text)
  }
  return texts.join("")
}

const roles: ReadonlySet<string> = new Set(["user", "assistant", "system", "developer"])

const parse = (body: unknown, _target: string): Intent | string => {
  if (!isRecord(body)) return "the request body must be a JSON object"
  const model = body.model
  if (typeof model !== "string" || model === "") return "Missing required parameter: 'model'."
  const raw = body.input
  if (raw === undefined) return "Missing required parameter: 'input'."
  if (typeof raw !== "string" && !Array.isArray(raw)) return "Invalid type for 'input': expected a string or an array."
  if (Array.isArray(raw) && raw.length === 0) return "Invalid 'input': empty array. Expected at least one item."
  const items: ReadonlyArray<unknown> = typeof raw === "string"
    ? [{ type: "message", role: "user", content: raw }]
    : raw
  let promptChars = typeof body.instructions === "string" ? body.instructions.length : 0
  let lastRole: Intent["lastRole"] = undefined
  let lastUserText = ""
  const outputs: Array<string> = []
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i]
    if (!isRecord(item)) return `Invalid type for 'input[${i}]': expected an object.`
    // an `EasyInputMessage` may leave out its type
    const type = item.type ?? (item.role !== undefined ? "message" : undefined)
    switch (type) {
      case "message": {
        const role = item.role
        if (typeof role !== "string" || !roles.has(role)) {
          return `Invalid value for 'input[${i}].role': expected one of 'user', 'assistant', 'system' or 'developer'.`
        }
        if (typeof item.content !== "string" && !Array.isArray(item.content)) {
          return `Invalid type for 'input[${i}].content': expected a string or an array of content parts.`
        }
        const text = contentText(item.content)
        promptChars += text.length
        lastRole = role === "developer" ? "system" : role as Intent["lastRole"]
        if (role === "user") lastUserText = text
        outputs.length = 0
        break
      }
      case "function_call": {
        if (typeof item.arguments === "string") promptChars += item.arguments.length
        lastRole = "assistant"
        outputs.length = 0
        break
      }
      case "function_call_output": {
        const output = contentText(item.output)
        promptChars += output.length
        lastRole = "tool"
        outputs.push(output)
        break
      }
      default:
        // reasoning items, item references, server-side tool calls: not part of the answer
        break
    }
  }
  const tools: Array<{ name: string; parameters: unknown }> = []
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      // flat function tools; built-in tools (`web_search`, …) are never called by the mock
      if (isRecord(tool) && tool.type === "function" && typeof tool.name === "string") {
        tools.push({ name: tool.name, parameters: tool.parameters })
      }
    }
  }
  const choice = body.tool_choice
  const toolChoice: Intent["toolChoice"] = choice === "none" || choice === "required" || choice === "auto"
    ? choice
    : isRecord(choice) && choice.type === "function" && typeof choice.name === "string"
    ? { name: choice.name }
    : "auto"
  const max = typeof body.max_output_tokens === "number" ? body.max_output_tokens : undefined
  return {
    model,
    stream: body.stream === true,
    includeUsage: true,
    promptChars,
    lastRole,
    lastUserText,
    toolResult: lastRole === "tool" ? outputs.join("; ") : undefined,
    tools,
    toolChoice,
    maxTokens: max,
    json: Json.fromResponses(body),
    echo: {
      instructions: typeof body.instructions === "string" ? body.instructions : null,
      max_output_tokens: max ?? null,
      store: typeof body.store === "boolean" ? body.store : true,
      temperature: typeof body.temperature === "number" ? body.temperature : 1,
      tool_choice: choice ?? "auto",
      tools: Array.isArray(body.tools) ? body.tools : [],
      top_p: typeof body.top_p === "number" ? body.top_p : 1
    }
  }
}

// -----------------------------------------------------------------------------
// the Response object
// -----------------------------------------------------------------------------

type Status = "in_progress" | "completed" | "incomplete" | "failed"

/** The status and `incomplete_details` of a finished plan (`in_progress`: it never finished). */
const outcome = (plan: Plan): { readonly status: Status; readonly incomplete: string } => {
  switch (plan.finishReason) {
    case null:
      return { status: "in_progress", incomplete: "null" }
    case "length":
      return { status: "incomplete", incomplete: `{"reason":"max_output_tokens"}` }
    case "content_filter":
      return { status: "incomplete", incomplete: `{"reason":"content_filter"}` }
    default:
      return { status: "completed", incomplete: "null" }
  }
}

const usageJson = (plan: Plan): string => {
  const { cachedTokens, completionTokens, promptTokens } = plan.usage
  return `{"input_tokens":${promptTokens},"input_tokens_details":{"cached_tokens":${cachedTokens}},"output_tokens":${completionTokens},"output_tokens_details":{"reasoning_tokens":0},"total_tokens":${
    promptTokens + completionTokens
  }}`
}

/** Builds the `Response` objects of one answer (they differ in status, error, output and usage only). */
const responseObject = (context: ResponseContext, intent: Intent) => {
  const echo = intent.echo ?? {}
  const field = (name: string, fallback: unknown) => JSON.stringify(echo[name] ?? fallback)
  const head = `{"id":${JSON.stringify(context.id)},"object":"response","created_at":${context.created},"status":"`
  const middle = `,"instructions":${field("instructions", null)},"max_output_tokens":${
    field("max_output_tokens", null)
  },"max_tool_calls":null,"model":${JSON.stringify(context.model)},"output":`
  const tail =
    `,"parallel_tool_calls":true,"previous_response_id":null,"prompt_cache_key":null,"reasoning":{"effort":null,"summary":null},"safety_identifier":null,"service_tier":"default","store":${
      field("store", true)
    },"temperature":${field("temperature", 1)},"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":${
      field("tool_choice", "auto")
    },"tools":${field("tools", [])},"top_logprobs":0,"top_p":${field("top_p", 1)},"truncation":"disabled","usage":`
  return (status: Status, incomplete: string, output: string, usage: string, error = "null"): string =>
    `${head}${status}","background":false,"error":${error},"incomplete_details":${incomplete}${middle}${output}${tail}${usage},"user":null,"metadata":{}}`
}

/** Item ids derive from the response id: `resp_mock_1` → `msg_mock_1_0`, `fc_mock_1_1`. */
const itemId = (context: ResponseContext, kind: "msg" | "fc", index: number): string =>
  `${kind}_${context.id.startsWith("resp_") ? context.id.slice(5) : context.id}_${index}`

/** The output items of a plan: a message first (when there is text, or nothing else), then one per call. */
const outputItems = (plan: Plan, context: ResponseContext, text: string) => {
  const status = plan.finishReason === "length" || plan.finishReason === "content_filter" ? "incomplete" : "completed"
  const items: Array<{ readonly kind: "msg" | "fc"; readonly id: string; readonly done: string }> = []
  if (plan.text !== "" || plan.toolCalls.length === 0) {
    const id = itemId(context, "msg", 0)
    items.push({
      kind: "msg",
      id,
      done: `{"id":"${id}","type":"message","status":"${status}","content":[${textPart(text)}],"role":"assistant"}`
    })
  }
  for (const call of plan.toolCalls) {
    const id = itemId(context, "fc", items.length)
    items.push({
      kind: "fc",
      id,
      done: `{"id":"${id}","type":"function_call","status":"completed","arguments":${
        JSON.stringify(call.arguments)
      },"call_id":${JSON.stringify(call.id)},"name":${JSON.stringify(call.name)}}`
    })
  }
  return items
}

const textPart = (text: string): string =>
  `{"type":"output_text","annotations":[],"logprobs":[],"text":${JSON.stringify(text)}}`

const json = (plan: Plan, context: ResponseContext, intent: Intent): string => {
  const { incomplete, status } = outcome(plan)
  const output = outputItems(plan, context, plan.text).map((item) => item.done).join(",")
  return responseObject(context, intent)(
    status,
    incomplete,
    `[${output}]`,
    plan.finishReason === null ? "null" : usageJson(plan)
  )
}

// -----------------------------------------------------------------------------
// the stream
// -----------------------------------------------------------------------------

const inStreamMessage = "The server had an error while processing your request. Sorry about that!"

const sse = (plan: Plan, context: ResponseContext, intent: Intent): SseFrames => {
  let sequence = 0
  /** One event; `fields` is the rest of its JSON object after `type` and `sequence_number`. */
  const event = (type: string, fields: string): string =>
    `event: ${type}\ndata: {"type":"${type}","sequence_number":${sequence++}${fields}}\n\n`
  const response = responseObject(context, intent)
  const created = response("in_progress", "null", "[]", "null")
  // the `.done` events repeat the text: a huge-body text travels once, in its delta
  const text = plan.text === hugePlaceholder ? "" : plan.text
  const items = outputItems(plan, context, text)
  const finished = plan.finishReason !== null

  const head = [
    event("response.created", `,"response":${created}`),
    event("response.in_progress", `,"response":${created}`)
  ]
  const content: Array<string> = []
  /** The sequence number after the head and the first `i` content frames (`after[0]`: after the head). */
  const after: Array<number> = []
  // an item's end and the next item's start travel with the next delta, so that one content
  // frame is one delta
  let pending = ""
  const open = (index: number, frames: string) => {
    if (index === 0) head.push(frames)
    else pending += frames
  }
  const push = (frame: string) => {
    content.push(pending + frame)
    pending = ""
    after.push(sequence)
  }
  let itemIndex = 0
  let callIndex = 0
  const close: Array<() => string> = []
  for (const item of items) {
    const index = itemIndex++
    const ids = `"item_id":"${item.id}","output_index":${index}`
    if (item.kind === "msg") {
      open(
        index,
        event(
          "response.output_item.added",
          `,"output_index":${index},"item":{"id":"${item.id}","type":"message","status":"in_progress","content":[],"role":"assistant"}`
        ) + event("response.content_part.added", `,${ids},"content_index":0,"part":${textPart("")}`)
      )
      if (index === 0) after.push(sequence)
      for (const delta of plan.deltas) {
        push(
          event(
            "response.output_text.delta",
            `,${ids},"content_index":0,"delta":${JSON.stringify(delta)},"logprobs":[]`
          )
        )
      }
      close.push(() =>
        event("response.output_text.done", `,${ids},"content_index":0,"text":${JSON.stringify(text)},"logprobs":[]`) +
        event("response.content_part.done", `,${ids},"content_index":0,"part":${textPart(text)}`) +
        event("response.output_item.done", `,"output_index":${index},"item":${item.done}`)
      )
    } else {
      const call = plan.toolCalls[callIndex++]!
      open(
        index,
        event(
          "response.output_item.added",
          `,"output_index":${index},"item":{"id":"${item.id}","type":"function_call","status":"in_progress","arguments":"","call_id":${
            JSON.stringify(call.id)
          },"name":${JSON.stringify(call.name)}}`
        )
      )
      if (index === 0) after.push(sequence)
      for (const delta of call.argumentDeltas) {
        push(event("response.function_call_arguments.delta", `,${ids},"delta":${JSON.stringify(delta)}`))
      }
      close.push(() =>
        event(
          "response.function_call_arguments.done",
          `,${ids},"name":${JSON.stringify(call.name)},"arguments":${JSON.stringify(call.arguments)}`
        ) + event("response.output_item.done", `,"output_index":${index},"item":${item.done}`)
      )
    }
    // this item ends with the next item's first delta (or in the tail, for the last one)
    if (index < items.length - 1) pending += close.shift()!()
  }
  const errorFrame = (contentFrames: number): string => {
    sequence = after[Math.min(contentFrames, content.length)]!
    return event("error", `,"code":"server_error","message":${JSON.stringify(inStreamMessage)},"param":null`) +
      event(
        "response.failed",
        `,"response":${
          response(
            "failed",
            "null",
            "[]",
            "null",
            `{"code":"server_error","message":${JSON.stringify(inStreamMessage)}}`
          )
        }`
      )
  }
  if (!finished) return { head, content, tail: [], terminator: "", errorFrame }
  const tail = [pending + close.map((f) => f()).join("")]
  const { incomplete, status } = outcome(plan)
  const terminator = event(
    status === "incomplete" ? "response.incomplete" : "response.completed",
    `,"response":${response(status, incomplete, `[${items.map((item) => item.done).join(",")}]`, usageJson(plan))}`
  )
  return { head, content, tail, terminator, errorFrame }
}

const brokenFrame = (context: ResponseContext): string =>
  `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":5,"item_id":"${
    itemId(context, "msg", 0)
  }","output_index":0,"content_index":0,"delta":"tok\n\n`

const error = (kind: ErrorKind, options: ErrorOptions = {}): ErrorResponse =>
  kind === "400-context"
    ? {
      status: 400,
      body: JSON.stringify({
        error: {
          message: options.message ??
            "Your input exceeds the context window of this model. Please adjust your input and try again.",
          type: "invalid_request_error",
          param: "input",
          code: "context_length_exceeded"
        }
      })
    }
    : OpenAI.chat.error(kind, options)

const inStreamError = JSON.stringify({
  type: "error",
  code: "server_error",
  message: inStreamMessage,
  param: null,
  sequence_number: 0
})

/** The `error-event` fault as JSON: a 200 `Response` with `status: "failed"`. */
const errorJson = (context: ResponseContext, intent: Intent): string =>
  responseObject(context, intent)(
    "failed",
    "null",
    "[]",
    "null",
    `{"code":"server_error","message":${JSON.stringify(inStreamMessage)}}`
  )

export const responses: ChatFormat = {
  name: "openai-responses",
  idPrefix: "resp_mock_",
  callIdPrefix: "call_mock_",
  requestIdHeader: "x-request-id",
  eol: "\n",
  parse,
  json,
  sse,
  brokenFrame,
  errorEvent: { frame: `event: error\ndata: ${inStreamError}\n\n`, body: inStreamError },
  errorJson,
  error
}
