/**
 * A strict, hand-written validator of Messages API request bodies (there is no public
 * Anthropic OpenAPI document): the rules of the API reference that requests built by
 * llm-fiber must follow — known fields only, roles alternating, block types per role,
 * tool results first in their user message and answering the previous assistant's
 * tool calls, thinking blocks signed and uncached, at most 4 cache breakpoints.
 */

const isRecord = (u: unknown): u is Record<string, any> => typeof u === "object" && u !== null && !Array.isArray(u)

const topLevel = new Set([
  "model",
  "max_tokens",
  "system",
  "messages",
  "tools",
  "tool_choice",
  "temperature",
  "top_p",
  "top_k",
  "stop_sequences",
  "stream",
  "metadata",
  "thinking",
  "cache_control",
  "service_tier",
  "container",
  "context_management",
  "mcp_servers"
])

const blockKeys: Record<string, ReadonlySet<string>> = {
  text: new Set(["type", "text", "cache_control", "citations"]),
  image: new Set(["type", "source", "cache_control"]),
  tool_use: new Set(["type", "id", "name", "input", "cache_control"]),
  tool_result: new Set(["type", "tool_use_id", "content", "is_error", "cache_control"]),
  thinking: new Set(["type", "thinking", "signature"]),
  redacted_thinking: new Set(["type", "data"])
}

const userBlocks = new Set(["text", "image", "tool_result"])
const assistantBlocks = new Set(["text", "tool_use", "thinking", "redacted_thinking"])

/** The problems of a request body (empty when valid). */
export const validateMessagesRequest = (body: unknown): Array<string> => {
  const errors: Array<string> = []
  const fail = (path: string, message: string) => errors.push(`${path}: ${message}`)
  let breakpoints = 0
  const checkCache = (value: unknown, path: string) => {
    if (value === undefined) return
    breakpoints++
    if (!isRecord(value) || value.type !== "ephemeral") {
      return void fail(path, "cache_control must be { type: ephemeral }")
    }
    for (const key of Object.keys(value)) if (key !== "type" && key !== "ttl") fail(path, `unknown key ${key}`)
    if (value.ttl !== undefined && value.ttl !== "5m" && value.ttl !== "1h") fail(path, "ttl must be 5m or 1h")
  }
  if (!isRecord(body)) return ["/: not an object"]
  for (const key of Object.keys(body)) if (!topLevel.has(key)) fail(`/${key}`, "unknown field")
  if (typeof body.model !== "string" || body.model === "") fail("/model", "required string")
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) fail("/max_tokens", "required positive integer")
  checkCache(body.cache_control, "/cache_control")
  if (body.system !== undefined) {
    if (Array.isArray(body.system)) {
      body.system.forEach((block: unknown, i: number) => {
        const path = `/system/${i}`
        if (!isRecord(block) || block.type !== "text") return void fail(path, "system blocks must be text blocks")
        for (const key of Object.keys(block)) if (!blockKeys.text!.has(key)) fail(path, `unknown key ${key}`)
        if (typeof block.text !== "string" || block.text === "") fail(path, "text must be a non-empty string")
        checkCache(block.cache_control, path)
      })
    } else if (typeof body.system !== "string") {
      fail("/system", "string or list of text blocks")
    }
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    fail("/messages", "non-empty list")
  } else {
    let previousToolUses = new Set<string>()
    body.messages.forEach((message: unknown, i: number) => {
      const path = `/messages/${i}`
      if (!isRecord(message)) return void fail(path, "not an object")
      for (const key of Object.keys(message)) if (key !== "role" && key !== "content") fail(path, `unknown key ${key}`)
      if (message.role !== "user" && message.role !== "assistant") fail(path, "role must be user or assistant")
      if (i > 0 && (body.messages as Array<any>)[i - 1]?.role === message.role) fail(path, "roles must alternate")
      const toolUses = new Set<string>()
      if (typeof message.content === "string") {
        previousToolUses = toolUses
        return
      }
      if (!Array.isArray(message.content) || message.content.length === 0) {
        return void fail(`${path}/content`, "string or non-empty list")
      }
      let seenOther = false
      message.content.forEach((block: unknown, j: number) => {
        const bpath = `${path}/content/${j}`
        if (!isRecord(block) || typeof block.type !== "string") return void fail(bpath, "block without a type")
        const allowed = blockKeys[block.type]
        if (allowed === undefined) return void fail(bpath, `unknown block type ${block.type}`)
        for (const key of Object.keys(block)) if (!allowed.has(key)) fail(bpath, `unknown key ${key}`)
        const roleBlocks = message.role === "user" ? userBlocks : assistantBlocks
        if (!roleBlocks.has(block.type)) fail(bpath, `a ${message.role} message cannot hold ${block.type}`)
        checkCache(block.cache_control, bpath)
        switch (block.type) {
          case "text":
            if (typeof block.text !== "string" || block.text === "") fail(bpath, "text must be non-empty")
            break
          case "image": {
            const source = block.source
            if (!isRecord(source)) {
              fail(bpath, "image needs a source")
            } else if (source.type === "base64") {
              if (Object.keys(source).sort().join() !== "data,media_type,type") fail(bpath, "base64 source keys")
              if (!/^image\/(jpeg|png|gif|webp)$/.test(source.media_type)) fail(bpath, "unsupported media_type")
            } else if (source.type === "url") {
              if (Object.keys(source).sort().join() !== "type,url") fail(bpath, "url source keys")
              if (!/^https?:\/\//.test(source.url)) fail(bpath, "url must be http(s)")
            } else {
              fail(bpath, "source type must be base64 or url")
            }
            break
          }
          case "tool_use":
            if (typeof block.id !== "string" || typeof block.name !== "string") fail(bpath, "id and name")
            if (!isRecord(block.input)) fail(bpath, "input must be an object")
            toolUses.add(block.id)
            break
          case "tool_result":
            if (seenOther) fail(bpath, "tool_result blocks must come first in their message")
            if (!previousToolUses.has(block.tool_use_id)) {
              fail(bpath, `tool_use_id ${block.tool_use_id} answers no tool_use of the previous message`)
            }
            if (block.content !== undefined && typeof block.content !== "string") fail(bpath, "content string")
            if (block.is_error !== undefined && typeof block.is_error !== "boolean") fail(bpath, "is_error boolean")
            break
          case "thinking":
            if (typeof block.signature !== "string" || block.signature === "") fail(bpath, "thinking needs a signature")
            if (typeof block.thinking !== "string") fail(bpath, "thinking text")
            break
          case "redacted_thinking":
            if (typeof block.data !== "string" || block.data === "") fail(bpath, "redacted_thinking needs data")
            break
        }
        if (block.type !== "tool_result") seenOther = true
      })
      previousToolUses = toolUses
    })
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) {
      fail("/tools", "list")
    } else {
      body.tools.forEach((tool: unknown, i: number) => {
        const path = `/tools/${i}`
        if (!isRecord(tool)) return void fail(path, "not an object")
        for (const key of Object.keys(tool)) {
          if (!["name", "description", "input_schema", "cache_control"].includes(key)) fail(path, `unknown key ${key}`)
        }
        if (!/^[a-zA-Z0-9_-]{1,64}$/.test(String(tool.name))) fail(path, "bad name")
        if (!isRecord(tool.input_schema) || tool.input_schema.type !== "object") {
          fail(path, "input_schema must be an object schema")
        }
        checkCache(tool.cache_control, path)
      })
    }
  }
  if (body.tool_choice !== undefined) {
    const choice = body.tool_choice
    const ok = isRecord(choice) &&
      ((["auto", "any", "none"].includes(choice.type) && Object.keys(choice).every((k) => k === "type")) ||
        (choice.type === "tool" && typeof choice.name === "string" && Object.keys(choice).length === 2))
    if (!ok) fail("/tool_choice", "auto | any | none | { type: tool, name }")
  }
  for (const key of ["temperature", "top_p"] as const) {
    if (body[key] !== undefined && (typeof body[key] !== "number" || body[key] < 0 || body[key] > 1)) {
      fail(`/${key}`, "a number from 0 to 1")
    }
  }
  if (body.stop_sequences !== undefined && !Array.isArray(body.stop_sequences)) fail("/stop_sequences", "list")
  if (body.stream !== undefined && typeof body.stream !== "boolean") fail("/stream", "boolean")
  if (breakpoints > 4) fail("/", `${breakpoints} cache_control breakpoints (at most 4)`)
  return errors
}
