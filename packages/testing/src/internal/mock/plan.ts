/**
 * The format-neutral part of a mock answer: what a chat request asked for (`Intent`, built
 * by each wire format from its request body) and what the server answers (`Plan`, rendered
 * by each wire format into JSON or SSE frames).
 */
import { exampleFromSchema } from "../schemaExample.js"
import { estimateTokens } from "../vectors.js"
import type { Controls, ScriptItem } from "./controls.js"
import * as Json from "./json.js"

/** What a chat request asks for, whatever its wire format. */
export interface Intent {
  /** The model as sent, controls included. */
  readonly model: string
  readonly stream: boolean
  readonly includeUsage: boolean
  /** Characters of the conversation (for `prompt_tokens`). */
  readonly promptChars: number
  readonly lastRole: "system" | "user" | "assistant" | "tool" | undefined
  readonly lastUserText: string
  /** The content of the trailing tool message(s), when the conversation ends with tool results. */
  readonly toolResult: string | undefined
  readonly tools: ReadonlyArray<{ readonly name: string; readonly parameters: unknown }>
  readonly toolChoice: "auto" | "none" | "required" | { readonly name: string }
  readonly maxTokens: number | undefined
  /**
   * Gemini `:streamGenerateContent` without `alt=sse`: the streamed chunks as one JSON
   * array (`stream` is false then).
   */
  readonly jsonArray?: boolean | undefined
  /** Request fields the format repeats in its answer (Responses: `instructions`, `tools`, …). */
  readonly echo?: Readonly<Record<string, unknown>> | undefined
  /** The request asks for JSON output (a JSON Schema, or any JSON object). */
  readonly json?: Json.JsonRequest | undefined
}

/** Normalized finish reasons (a format maps them to its own names). */
export type Finish = "stop" | "length" | "tool_calls" | "content_filter"

export interface ToolCallPlan {
  readonly id: string
  readonly name: string
  readonly arguments: string
  readonly argumentDeltas: ReadonlyArray<string>
}

export interface Plan {
  readonly text: string
  readonly deltas: ReadonlyArray<string>
  readonly toolCalls: ReadonlyArray<ToolCallPlan>
  /** `null` for a response that never says why it stopped (the `no-done` fault). */
  readonly finishReason: Finish | null
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number; readonly cachedTokens: number }
}

/** Split into word deltas, each word keeping the whitespace that follows it. */
const words = (text: string): Array<string> => {
  const out = text.match(/\s*\S+\s*/g)
  return out === null ? (text === "" ? [] : [text]) : out
}

/** Split into `n` near-equal pieces (fewer when the text is shorter than `n`). */
export const pieces = (text: string, n: number): Array<string> => {
  if (text === "") return []
  const count = Math.max(1, Math.min(n, text.length))
  const size = text.length / count
  const out = new Array<string>(count)
  for (let i = 0; i < count; i++) out[i] = text.slice(Math.round(i * size), Math.round((i + 1) * size))
  return out
}

/** `tok1 tok2 … tokN `: exactly `n` deltas a test can count. */
export const tokens = (n: number): Array<string> => {
  const out = new Array<string>(n)
  for (let i = 0; i < n; i++) out[i] = `tok${i + 1} `
  return out
}

const finishReasons: ReadonlySet<string> = new Set(["stop", "length", "tool_calls", "content_filter"])

const scriptedUsage = (usage: Readonly<Record<string, unknown>> | undefined) => {
  if (usage === undefined) return undefined
  const num = (...keys: Array<string>) => {
    for (const key of keys) if (typeof usage[key] === "number") return usage[key] as number
    return undefined
  }
  return {
    promptTokens: num("prompt_tokens", "inputTokens", "input_tokens"),
    completionTokens: num("completion_tokens", "outputTokens", "output_tokens"),
    cachedTokens: num("cached_tokens", "cachedInputTokens", "cache_read_input_tokens")
  }
}

const argumentText = (args: unknown): string =>
  typeof args === "string" ? args : JSON.stringify(args === undefined ? {} : args)

/**
 * Decide the answer: a scripted response, else a tool call (tools offered, `tool_choice`
 * not `none`, last message from the user), else JSON (the request asks for JSON output:
 * synthesized from its schema), else a reply mentioning the tool result (last message is
 * a tool result), else `Mock reply to: <last user text>`.
 */
export const make = (
  intent: Intent,
  controls: Controls,
  scripted: ScriptItem | undefined,
  nextCallId: () => string
): Plan => {
  let deltas: Array<string> = []
  let toolCalls: Array<ToolCallPlan> = []
  const chunks = controls.chunks
  const split = (text: string) => (chunks !== undefined ? pieces(text, chunks) : words(text))
  const splitArguments = (args: string) => pieces(args, chunks ?? Math.max(1, Math.min(4, Math.ceil(args.length / 8))))
  if (scripted !== undefined && (scripted.text !== undefined || scripted.toolCalls !== undefined)) {
    if (scripted.text !== undefined) deltas = split(scripted.text)
    toolCalls = (scripted.toolCalls ?? []).map((call) => {
      const args = argumentText(call.arguments)
      return { id: call.id ?? nextCallId(), name: call.name, arguments: args, argumentDeltas: splitArguments(args) }
    })
  } else if (intent.tools.length > 0 && intent.toolChoice !== "none" && intent.lastRole === "user") {
    const forced = typeof intent.toolChoice === "object" ? intent.toolChoice.name : undefined
    const tool = (forced !== undefined ? intent.tools.find((t) => t.name === forced) : undefined) ?? intent.tools[0]!
    const example = exampleFromSchema(tool.parameters)
    const args = JSON.stringify(
      typeof example === "object" && example !== null && !Array.isArray(example) ? example : {}
    )
    toolCalls = [{ id: nextCallId(), name: tool.name, arguments: args, argumentDeltas: splitArguments(args) }]
  } else if (intent.json !== undefined) {
    deltas = split(Json.answer(intent.json, intent.lastUserText))
  } else if (intent.lastRole === "tool" && intent.toolResult !== undefined) {
    deltas = split(`The tool returned: ${intent.toolResult}`)
  } else {
    deltas = chunks !== undefined ? tokens(chunks) : words(`Mock reply to: ${intent.lastUserText}`)
  }
  let finishReason: Finish = scripted?.finishReason !== undefined && finishReasons.has(scripted.finishReason)
    ? scripted.finishReason as Finish
    : toolCalls.length > 0
    ? "tool_calls"
    : "stop"
  // max_tokens: one delta is one token
  if (intent.maxTokens !== undefined && toolCalls.length === 0 && deltas.length > intent.maxTokens) {
    deltas = deltas.slice(0, intent.maxTokens)
    finishReason = "length"
  }
  let completion = deltas.length
  for (const call of toolCalls) completion += call.argumentDeltas.length
  const usage = scriptedUsage(scripted?.usage)
  return {
    text: deltas.join(""),
    deltas,
    toolCalls,
    finishReason,
    usage: {
      promptTokens: usage?.promptTokens ?? Math.max(1, estimateTokens(intent.promptChars)),
      completionTokens: usage?.completionTokens ?? completion,
      cachedTokens: usage?.cachedTokens ?? 0
    }
  }
}
