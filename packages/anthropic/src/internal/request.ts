/**
 * ChatRequest → Messages API request body, with prompt-cache breakpoints.
 *
 * @internal
 */
import type * as ChatRequest from "@llm-fiber/core/ChatRequest"
import type * as Message from "@llm-fiber/core/Message"

/** At most this many `cache_control` breakpoints per request (an Anthropic limit). */
export const maxCacheBreakpoints = 4

/** How a provider instance shapes its requests. */
export interface BuildOptions {
  /** The provider's registry name: `providerOptions[name]` is merged into the body. */
  readonly providerName: string
  /** `max_tokens` when the request has no `maxTokens` (catalog value or the provider default). */
  readonly defaultMaxTokens: number
}

/** A built request. */
export interface Built {
  readonly body: Record<string, unknown>
  /** `anthropic-beta` names from `providerOptions[name].betas`. */
  readonly betas: ReadonlyArray<string>
  /** Where the cache hints beyond the first four were (request terms, e.g. `messages[3].content[0]`). */
  readonly droppedCacheBreakpoints: ReadonlyArray<string>
}

type Block = Record<string, unknown>

interface WireMessage {
  readonly role: "user" | "assistant"
  readonly content: Array<Block>
}

/** A cache hint waiting for its slot; `target` undefined is the request-level breakpoint. */
interface Breakpoint {
  readonly target: Block | undefined
  readonly where: string
  readonly hint: Message.CacheHint
}

const cacheControl = (hint: Message.CacheHint): Record<string, unknown> =>
  hint.ttl === undefined ? { type: "ephemeral" } : { type: "ephemeral", ttl: hint.ttl }

/** `data:<media type>;base64,<data>` → its parts, else undefined. */
const parseDataUrl = (url: string): { readonly mediaType: string; readonly data: string } | undefined => {
  if (!url.startsWith("data:")) return undefined
  const comma = url.indexOf(",")
  if (comma < 0) return undefined
  const header = url.slice(5, comma)
  if (!header.endsWith(";base64")) return undefined
  return { mediaType: header.slice(0, header.length - 7) || "application/octet-stream", data: url.slice(comma + 1) }
}

const imageBlock = (part: Message.ImagePart): Block => {
  if (part.url !== undefined) {
    const inline = parseDataUrl(part.url)
    return inline !== undefined ?
      { type: "image", source: { type: "base64", media_type: inline.mediaType, data: inline.data } } :
      { type: "image", source: { type: "url", url: part.url } }
  }
  return {
    type: "image",
    source: { type: "base64", media_type: part.mediaType ?? "application/octet-stream", data: part.data ?? "" }
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Tool-call arguments as the object Anthropic requires: an object as it is, a JSON string
 * parsed; anything else (invalid JSON the model produced, arrays, scalars) becomes `{}`.
 */
const toolInput = (args: unknown): Record<string, unknown> => {
  if (isRecord(args)) return args
  if (typeof args === "string") {
    try {
      const parsed: unknown = JSON.parse(args)
      if (isRecord(parsed)) return parsed
    } catch {
      // not JSON
    }
  }
  return {}
}

const resultText = (result: unknown): string | undefined => {
  if (typeof result === "string") return result === "" ? undefined : result
  if (result === undefined) return undefined
  return JSON.stringify(result)
}

/** Blocks that may carry `cache_control` (thinking blocks may not). */
const cacheable = (block: Block): boolean => block.type !== "thinking" && block.type !== "redacted_thinking"

/**
 * Build the body of `POST /v1/messages`.
 *
 * - System messages (wherever they are) become the top-level `system`: one string (parts
 *   joined with `\n`), or a list of text blocks when one of them carries a cache hint.
 * - Tool messages become `user` messages of `tool_result` blocks; consecutive messages of
 *   the same role are merged (Anthropic requires alternation), tool results first.
 * - Reasoning parts go back as `thinking` (with their `signature`) or `redacted_thinking`
 *   (`redacted: true`, the opaque data in `signature`); reasoning without a signature
 *   (from another provider) is not sent: Anthropic cannot verify it.
 * - Cache hints become `cache_control` breakpoints in prompt order — tools, system,
 *   messages, then the request-level hint (top-level `cache_control`, automatic caching)
 *   — and the first four are kept; the rest are reported in `droppedCacheBreakpoints`.
 * - `providerOptions[providerName]` is merged last (shallow; `stream` always follows the
 *   call, `betas` goes to the `anthropic-beta` header, a key set to `undefined` removes
 *   the field).
 */
export const buildMessagesBody = (
  request: ChatRequest.ChatRequest,
  model: string,
  stream: boolean,
  options: BuildOptions
): Built => {
  const toolBreakpoints: Array<Breakpoint> = []
  const systemBreakpoints: Array<Breakpoint> = []
  const messageBreakpoints: Array<Breakpoint> = []
  const dropped: Array<string> = []
  const marked = new Set<Block>()
  const mark = (list: Array<Breakpoint>, target: Block, where: string, hint: Message.CacheHint) => {
    if (marked.has(target)) return
    marked.add(target)
    list.push({ target, where, hint })
  }

  const systemBlocks: Array<Block> = []
  const messages: Array<WireMessage> = []
  const push = (role: "user" | "assistant", content: Array<Block>) => {
    if (content.length === 0) return
    const last = messages[messages.length - 1]
    if (last !== undefined && last.role === role) {
      for (const block of content) last.content.push(block)
    } else {
      messages.push({ role, content })
    }
  }

  const all = request.messages
  for (let i = 0; i < all.length; i++) {
    const message = all[i]!
    const where = `messages[${i}]`
    const content: Array<Block> = []
    const list = message.role === "system" ? systemBreakpoints : messageBreakpoints
    const parts = message.content
    for (let j = 0; j < parts.length; j++) {
      const part = parts[j]!
      let block: Block | undefined
      switch (part.type) {
        case "text":
          if (part.text !== "") block = { type: "text", text: part.text }
          break
        case "image":
          block = imageBlock(part)
          break
        case "tool-call":
          block = { type: "tool_use", id: part.id, name: part.name, input: toolInput(part.arguments) }
          break
        case "reasoning":
          if (part.redacted === true) {
            block = { type: "redacted_thinking", data: part.signature ?? part.text }
          } else if (part.signature !== undefined) {
            block = { type: "thinking", thinking: part.text, signature: part.signature }
          }
          break
        case "tool-result": {
          const text = resultText(part.result)
          block = {
            type: "tool_result",
            tool_use_id: part.toolCallId,
            ...(text !== undefined ? { content: text } : {}),
            ...(part.isError === true ? { is_error: true } : {})
          }
          break
        }
      }
      if (block === undefined) continue
      content.push(block)
      const hint = "cache" in part ? part.cache : undefined
      if (hint !== undefined) mark(list, block, `${where}.content[${j}]`, hint)
    }
    if (message.cache !== undefined) {
      let target: Block | undefined
      for (let k = content.length - 1; k >= 0 && target === undefined; k--) {
        if (cacheable(content[k]!)) target = content[k]
      }
      if (target === undefined) dropped.push(where)
      else mark(list, target, where, message.cache)
    }
    if (message.role === "system") {
      for (const block of content) systemBlocks.push(block)
    } else {
      push(message.role === "assistant" ? "assistant" : "user", content)
    }
  }

  // tool results must open a user message
  for (const message of messages) {
    if (message.role === "user" && message.content.length > 1) toolResultsFirst(message.content)
  }

  const body: Record<string, unknown> = {
    model,
    max_tokens: request.maxTokens ?? options.defaultMaxTokens
  }
  if (systemBlocks.length > 0) {
    body.system = systemBreakpoints.length > 0 ?
      systemBlocks :
      systemBlocks.map((b) => b.text as string).join("\n")
  }
  body.messages = messages
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool, i) => {
      const wire: Block = {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        input_schema: tool.parameters
      }
      if (tool.cache !== undefined) mark(toolBreakpoints, wire, `tools[${i}]`, tool.cache)
      return wire
    })
  }
  if (request.toolChoice !== undefined) body.tool_choice = toolChoice(request.toolChoice)
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop
  if (request.user !== undefined) body.metadata = { user_id: request.user }

  const breakpoints = [...toolBreakpoints, ...systemBreakpoints, ...messageBreakpoints]
  if (request.cache !== undefined) breakpoints.push({ target: undefined, where: "request", hint: request.cache })
  for (let i = 0; i < breakpoints.length; i++) {
    const breakpoint = breakpoints[i]!
    if (i >= maxCacheBreakpoints) {
      dropped.push(breakpoint.where)
    } else if (breakpoint.target === undefined) {
      body.cache_control = cacheControl(breakpoint.hint)
    } else {
      breakpoint.target.cache_control = cacheControl(breakpoint.hint)
    }
  }

  if (stream) body.stream = true
  let betas: ReadonlyArray<string> = []
  const extra = request.providerOptions?.[options.providerName]
  if (extra !== undefined) {
    for (const key in extra) {
      const value = extra[key]
      if (key === "stream") continue
      if (key === "betas") {
        betas = typeof value === "string" ?
          [value] :
          Array.isArray(value) ?
          value.filter((v): v is string => typeof v === "string") :
          []
        continue
      }
      if (value === undefined) delete body[key]
      else body[key] = value
    }
  }
  return { body, betas, droppedCacheBreakpoints: dropped }
}

/** Stable partition: `tool_result` blocks first. */
const toolResultsFirst = (content: Array<Block>): void => {
  let sorted = true
  let seenOther = false
  for (const block of content) {
    if (block.type === "tool_result") {
      if (seenOther) {
        sorted = false
        break
      }
    } else {
      seenOther = true
    }
  }
  if (sorted) return
  const results = content.filter((b) => b.type === "tool_result")
  const others = content.filter((b) => b.type !== "tool_result")
  content.length = 0
  for (const block of results) content.push(block)
  for (const block of others) content.push(block)
}

const toolChoice = (choice: ChatRequest.ToolChoice): Record<string, unknown> => {
  if (typeof choice !== "string") return { type: "tool", name: choice.name }
  switch (choice) {
    case "auto":
      return { type: "auto" }
    case "required":
      return { type: "any" }
    case "none":
      return { type: "none" }
  }
}

/**
 * `max_tokens` when the caller gives none: the catalog's `maxOutputTokens`, else the
 * provider default; when a thinking budget (`budget_tokens`, which must stay below
 * `max_tokens`) does not fit under that, the budget plus the provider default.
 */
export const defaultMaxTokens = (
  request: ChatRequest.ChatRequest,
  providerName: string,
  catalogMax: number | undefined,
  fallback: number
): number => {
  const base = catalogMax ?? fallback
  const thinking = request.providerOptions?.[providerName]?.thinking
  const budget = isRecord(thinking) && typeof thinking.budget_tokens === "number" ? thinking.budget_tokens : undefined
  return budget === undefined || budget < base ? base : budget + fallback
}
