/**
 * MCP content → llm-fiber values: tool results, prompt messages, tool names.
 *
 * @internal
 */
import * as Message from "@llm-fiber/core/Message"
import type * as McpTypes from "@modelcontextprotocol/sdk/types.js"
import * as Predicate from "effect/Predicate"

/** One content block as text (binary content as a short placeholder, never base64). */
export const blockText = (block: McpTypes.ContentBlock): string => {
  switch (block.type) {
    case "text":
      return block.text
    case "image":
      return `[image ${block.mimeType}]`
    case "audio":
      return `[audio ${block.mimeType}]`
    case "resource_link":
      return `[resource link ${block.uri}${block.mimeType !== undefined ? ` (${block.mimeType})` : ""}]`
    case "resource": {
      const resource = block.resource
      return "text" in resource && typeof resource.text === "string" ?
        resource.text :
        `[resource ${resource.uri}${resource.mimeType !== undefined ? ` (${resource.mimeType})` : ""}]`
    }
    default:
      return "[unsupported content]"
  }
}

/** The text of content blocks, joined by newlines. */
export const contentText = (content: ReadonlyArray<McpTypes.ContentBlock>): string => content.map(blockText).join("\n")

/**
 * The value a tool result gives the model: `structuredContent` when present, else the
 * content as text.
 */
export const toolResultValue = (result: McpTypes.CallToolResult): unknown =>
  Predicate.isRecord(result.structuredContent) ? result.structuredContent : contentText(result.content)

/** Read a `callTool` answer, turning the legacy `{ toolResult }` shape into content. */
export const normalizeCallResult = (raw: unknown): McpTypes.CallToolResult => {
  if (Predicate.isRecord(raw) && Array.isArray(raw.content)) return raw as McpTypes.CallToolResult
  const legacy = Predicate.isRecord(raw) ? raw.toolResult : raw
  return {
    content: [{ type: "text", text: typeof legacy === "string" ? legacy : JSON.stringify(legacy) ?? "" }]
  }
}

/** One MCP prompt message as a core `Message`. */
export const promptMessage = (message: McpTypes.PromptMessage): Message.Message => {
  const block = message.content
  if (message.role === "user" && block.type === "image") {
    return Message.user([Message.imageBase64(block.data, block.mimeType)])
  }
  const text = blockText(block)
  return message.role === "user" ? Message.user(text) : Message.assistant(text)
}

const invalidChars = /[^a-zA-Z0-9_-]/g

/** A tool name providers accept (letters, digits, `_`, `-`; 1–64 characters). */
export const safeName = (name: string): string => {
  const cleaned = name.replace(invalidChars, "_").slice(0, 64)
  return cleaned === "" ? "tool" : cleaned
}

/**
 * The names under which tools are offered to the model: `prefix + name`, made safe, and
 * made unique (`_2`, `_3`, … when two names end up the same).
 */
export const exposedNames = (prefix: string, names: ReadonlyArray<string>): ReadonlyArray<string> => {
  const taken = new Set<string>()
  return names.map((name) => {
    const base = safeName(prefix + name)
    let candidate = base
    for (let i = 2; taken.has(candidate); i++) {
      const suffix = `_${i}`
      candidate = base.slice(0, 64 - suffix.length) + suffix
    }
    taken.add(candidate)
    return candidate
  })
}

/** The SDK prefixes error messages with `MCP error <code>: ` (sometimes twice). */
export const stripErrorPrefix = (message: string): string => message.replace(/^(?:MCP error -?\d+: )+/, "")

/** A JSON Schema as sent to providers: the tool's `inputSchema` without `$schema`. */
export const parametersOf = (tool: McpTypes.Tool): Readonly<Record<string, unknown>> => {
  const { $schema: _ignored, ...schema } = tool.inputSchema
  return { ...schema, type: "object", properties: Predicate.isRecord(schema.properties) ? schema.properties : {} }
}

/**
 * Split a command line into words as a POSIX shell would (quotes and backslashes; no
 * expansion). A string is the reason it cannot be split.
 */
export const splitCommandLine = (line: string): ReadonlyArray<string> | string => {
  const words: Array<string> = []
  let word = ""
  let inWord = false
  let quote: "'" | "\"" | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quote === "'") {
      if (c === "'") quote = undefined
      else word += c
    } else if (quote === "\"") {
      if (c === "\"") quote = undefined
      else if (c === "\\" && (line[i + 1] === "\"" || line[i + 1] === "\\")) word += line[++i]
      else word += c
    } else if (c === "'" || c === "\"") {
      quote = c
      inWord = true
    } else if (c === "\\") {
      if (i + 1 < line.length) word += line[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word)
      word = ""
      inWord = false
    } else {
      word += c
      inWord = true
    }
  }
  if (quote !== undefined) return `the command line has an unterminated ${quote === "'" ? "single" : "double"} quote`
  if (inWord) words.push(word)
  return words
}
