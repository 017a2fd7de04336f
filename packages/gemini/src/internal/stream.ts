/**
 * `streamGenerateContent?alt=sse` frames → `StreamEvent`s: a small synchronous state
 * machine, one instance per stream, driven by `ProviderHttp.mapEvents`.
 *
 * - Every frame is a whole `GenerateContentResponse` chunk; the stream has no terminator:
 *   the chunk with a `finishReason` is the last of the answer, and `Finish` is emitted when
 *   the byte stream ends after one was seen. A stream that ends without any
 *   `finishReason` is a `ProtocolError` (truncated).
 * - `usageMetadata` is cumulative and repeated: the last one with token counts wins.
 * - Function calls usually arrive whole (`ToolCallStart`, one `ToolCallDelta` with the
 *   JSON arguments and `ToolCallEnd` at once). With streamed function-call arguments
 *   (Gemini 3 `partialArgs`: `{ name, willContinue: true }`, then `partialArgs` updates
 *   by JSON path, then an empty `functionCall` or one without `willContinue`) the call is
 *   started when its name arrives and its arguments are assembled and emitted when it
 *   closes (JSON-path updates do not map to an append-only JSON text). A call still open
 *   when the `finishReason` arrives is closed then.
 * - The first thought signature travels on a `ReasoningDelta`'s `providerMetadata.signature`
 *   (so the accumulated message can send it back); all of them are listed in the `Finish`
 *   metadata.
 *
 * @internal
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import * as ProviderHttp from "@llm-fiber/core/ProviderHttp"
import type * as Sse from "@llm-fiber/core/Sse"
import * as StreamEvent from "@llm-fiber/core/StreamEvent"
import {
  argsText,
  blockedPrompt,
  type Context,
  hasCounts,
  inBandError,
  isBlocked,
  isObject,
  mapFinishReason,
  mapUsage,
  metadataOf,
  nonEmpty,
  partsOf,
  pickCandidate,
  toolCallId
} from "./response.js"

/** A function call whose arguments are streamed as JSON-path updates. */
interface OpenCall {
  readonly id: string
  readonly name: string
  args: Record<string, unknown>
  /** The path of a string value that continues in the next update. */
  continuing: string | undefined
}

/** The state of one streamed answer. */
export class GenerateStreamState {
  private started = false
  private id = ""
  private calls = 0
  private open: OpenCall | undefined = undefined
  private rawFinish: string | undefined = undefined
  private finishMessage: string | undefined = undefined
  private rawUsage: Record<string, unknown> | undefined = undefined
  private safetyRatings: unknown = undefined
  private groundingMetadata: unknown = undefined
  private promptFeedback: unknown = undefined
  private readonly signatures: Array<string> = []
  private readonly headers: Readonly<Record<string, string | undefined>>

  constructor(
    private readonly context: Context,
    headers: Readonly<Record<string, string | undefined>> = {}
  ) {
    this.headers = headers
  }

  /** Handle one SSE event; pushes the events it produces to `out`, throws an `LlmError`. */
  onEvent(event: Sse.SseEvent, out: Array<StreamEvent.StreamEvent>): void {
    const data = event.data
    if (data === "" || event.event !== "message") return
    const payload = ProviderHttp.parseEventJson(event, this.context)
    const chunk: unknown = Array.isArray(payload) && payload.length === 1 ? payload[0] : payload
    if (!isObject(chunk)) throw this.protocolError(`a stream event is not a JSON object: ${preview(data)}`)
    if (chunk.error !== undefined && chunk.error !== null) throw inBandError(chunk, this.context, this.headers)
    if (isBlocked(chunk)) throw blockedPrompt(chunk, this.context)
    this.onChunk(chunk, out)
  }

  /** The byte stream ended. */
  onEnd(out: Array<StreamEvent.StreamEvent>): void {
    if (this.rawFinish === undefined) {
      throw this.protocolError(
        this.started ?
          "the stream ended before the model finished (no finishReason)" :
          "the stream ended without any chunk"
      )
    }
    this.closeCall(out)
    const finishReason = mapFinishReason(this.rawFinish, this.calls > 0)
    const requestId = this.context.requestId
    out.push(StreamEvent.finish(finishReason, {
      ...(this.rawUsage !== undefined ? { usage: mapUsage(this.rawUsage) } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      providerMetadata: {
        [this.context.provider]: metadataOf({
          finishReason: this.rawFinish,
          finishMessage: this.finishMessage,
          thoughtSignatures: this.signatures,
          usage: this.rawUsage,
          safetyRatings: this.safetyRatings,
          groundingMetadata: this.groundingMetadata,
          promptFeedback: this.promptFeedback
        })
      }
    }))
  }

  private onChunk(chunk: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    if (!this.started) {
      this.started = true
      this.id = typeof chunk.responseId === "string" ? chunk.responseId : ""
      out.push(StreamEvent.start(this.id, nonEmpty(chunk.modelVersion) ?? this.context.model, this.context.provider))
    }
    const usage = chunk.usageMetadata
    if (isObject(usage) && hasCounts(usage)) this.rawUsage = usage
    if (chunk.promptFeedback !== undefined) this.promptFeedback = chunk.promptFeedback
    const candidate = pickCandidate(chunk.candidates)
    if (candidate === undefined) return
    for (const part of partsOf(candidate)) if (isObject(part)) this.onPart(part, out)
    if (candidate.safetyRatings !== undefined) this.safetyRatings = candidate.safetyRatings
    if (candidate.groundingMetadata !== undefined) this.groundingMetadata = candidate.groundingMetadata
    const finish = nonEmpty(candidate.finishReason)
    if (finish !== undefined) {
      this.rawFinish = finish
      const message = nonEmpty(candidate.finishMessage)
      if (message !== undefined) this.finishMessage = message
      this.closeCall(out)
    }
  }

  private onPart(part: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const signature = nonEmpty(part.thoughtSignature)
    const text = typeof part.text === "string" ? part.text : ""
    const thought = part.thought === true
    if (signature !== undefined) {
      this.signatures.push(signature)
      if (this.signatures.length === 1) {
        // the first signature rides on a reasoning delta (with the thought text, if any)
        out.push(StreamEvent.reasoningDelta(thought ? text : "", { signature }))
        if (thought) return
      }
    }
    const call = part.functionCall
    if (isObject(call)) {
      this.onFunctionCall(call, out)
      return
    }
    if (text === "") return
    out.push(thought ? StreamEvent.reasoningDelta(text) : StreamEvent.textDelta(text))
  }

  private onFunctionCall(call: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const name = nonEmpty(call.name)
    const continues = call.willContinue === true
    const partial = call.partialArgs
    if (name !== undefined) {
      this.closeCall(out)
      const id = nonEmpty(call.id) ?? toolCallId(this.id, this.calls++)
      if (continues && call.args === undefined) {
        this.open = { id, name, args: {}, continuing: undefined }
        out.push(StreamEvent.toolCallStart(id, name))
        if (Array.isArray(partial)) this.applyPartial(partial)
        return
      }
      const raw = argsText(call.args)
      out.push(
        StreamEvent.toolCallStart(id, name),
        StreamEvent.toolCallDelta(id, raw),
        StreamEvent.toolCallEnd(id, name, raw)
      )
      return
    }
    if (Array.isArray(partial)) {
      if (this.open === undefined) throw this.protocolError("streamed function-call arguments without an open call")
      this.applyPartial(partial)
      if (!continues) this.closeCall(out)
      return
    }
    // `{}` closes the open call; `{ willContinue: true }` alone is a keep-alive
    if (!continues) this.closeCall(out)
  }

  private applyPartial(updates: ReadonlyArray<unknown>): void {
    const call = this.open!
    for (const update of updates) {
      if (!isObject(update) || typeof update.jsonPath !== "string") {
        throw this.protocolError("a streamed function-call argument has no jsonPath")
      }
      const path = update.jsonPath
      let value: unknown
      if (typeof update.stringValue === "string") {
        const previous = call.continuing === path ? getPath(call.args, path) : undefined
        value = typeof previous === "string" ? previous + update.stringValue : update.stringValue
      } else if (update.numberValue !== undefined) {
        value = update.numberValue
      } else if (update.boolValue !== undefined) {
        value = update.boolValue
      } else if (update.nullValue !== undefined) {
        value = null
      } else if (update.structValue !== undefined) {
        value = update.structValue
      } else if (update.listValue !== undefined) {
        value = update.listValue
      } else {
        continue
      }
      if (!setPath(call.args, path, value)) {
        throw this.protocolError(`a streamed function-call argument has an unsupported jsonPath: ${preview(path)}`)
      }
      call.continuing = update.willContinue === true ? path : undefined
    }
  }

  private closeCall(out: Array<StreamEvent.StreamEvent>): void {
    const call = this.open
    if (call === undefined) return
    this.open = undefined
    const raw = JSON.stringify(call.args)
    out.push(StreamEvent.toolCallDelta(call.id, raw), StreamEvent.toolCallEnd(call.id, call.name, raw))
  }

  private protocolError(message: string): LlmError.ProtocolError {
    return new LlmError.ProtocolError({
      provider: this.context.provider,
      model: this.context.model,
      ...(this.context.requestId !== undefined ? { requestId: this.context.requestId } : {}),
      message: `${this.context.provider}: ${message}`
    }, true)
  }
}

type Segment = string | number

/** `$.a.b[0].c` / `$['a']` → segments; undefined when the path is not of that form. */
const parsePath = (path: string): Array<Segment> | undefined => {
  if (path.charCodeAt(0) !== 36 /* $ */) return undefined
  const out: Array<Segment> = []
  let i = 1
  while (i < path.length) {
    const c = path[i]
    if (c === ".") {
      let end = i + 1
      while (end < path.length && path[end] !== "." && path[end] !== "[") end++
      if (end === i + 1) return undefined
      out.push(path.slice(i + 1, end))
      i = end
    } else if (c === "[") {
      const close = path.indexOf("]", i)
      if (close < 0) return undefined
      const inner = path.slice(i + 1, close)
      if (/^\d+$/.test(inner)) {
        out.push(Number(inner))
      } else if (inner.length >= 2 && (inner[0] === "'" || inner[0] === "\"") && inner[inner.length - 1] === inner[0]) {
        out.push(inner.slice(1, -1))
      } else {
        return undefined
      }
      i = close + 1
    } else {
      return undefined
    }
  }
  return out
}

const maxIndex = 100_000

const setPath = (root: Record<string, unknown>, path: string, value: unknown): boolean => {
  const segments = parsePath(path)
  if (segments === undefined || segments.length === 0) return false
  let node: Record<string, unknown> | Array<unknown> = root
  for (let i = 0; i < segments.length; i++) {
    const key = segments[i]!
    const last = i === segments.length - 1
    if (typeof key === "number") {
      if (!Array.isArray(node) || key > maxIndex) return false
    } else if (Array.isArray(node) || key === "__proto__") {
      return false
    }
    if (last) {
      ;(node as Record<string | number, unknown>)[key] = value
      return true
    }
    const next = segments[i + 1]!
    let child = (node as Record<string | number, unknown>)[key]
    if (typeof next === "number" ? !Array.isArray(child) : !isObject(child)) {
      child = typeof next === "number" ? [] : {}
      ;(node as Record<string | number, unknown>)[key] = child
    }
    node = child as Record<string, unknown> | Array<unknown>
  }
  return false
}

const getPath = (root: Record<string, unknown>, path: string): unknown => {
  const segments = parsePath(path)
  if (segments === undefined) return undefined
  let node: unknown = root
  for (const key of segments) {
    if (typeof node !== "object" || node === null) return undefined
    node = (node as Record<string | number, unknown>)[key]
  }
  return node
}

const preview = (data: string) => (data.length > 200 ? data.slice(0, 200) + "…" : data)
