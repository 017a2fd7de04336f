/**
 * Messages API SSE events → `StreamEvent`s: a small synchronous state machine, one
 * instance per stream, driven by `ProviderHttp.mapEvents` (one step per network read).
 *
 * @internal
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import * as ProviderHttp from "@llm-fiber/core/ProviderHttp"
import type * as Sse from "@llm-fiber/core/Sse"
import * as StreamEvent from "@llm-fiber/core/StreamEvent"
import {
  type Context,
  errorFromPayload,
  generatedToolCallId,
  inputText,
  isObject,
  mapStopReason,
  mapUsage,
  metadataOf,
  nonEmpty,
  protocolError
} from "./response.js"

/** One content block of the message, by its `index`. */
interface Block {
  readonly kind: "text" | "thinking" | "redacted" | "tool" | "other"
  /** tool: the call id and name */
  readonly id: string
  readonly name: string
  /** tool: the `input` of `content_block_start` when it was not empty (programmatic tool calls) */
  readonly initial: string | undefined
  /** tool, and server tools of `other`: the `partial_json` pieces */
  readonly args: Array<string>
  /** other: the block as it started (server tool use gets its `input` at the stop) */
  readonly raw: Record<string, unknown> | undefined
  ended: boolean
}

/** Options of a stream mapper. */
export interface StreamOptions {
  /** Accept a stream that ends without `message_stop` once a `message_delta` gave the stop reason. */
  readonly lenientEnd?: boolean | undefined
  /** Response headers (request id, for errors). */
  readonly headers?: Readonly<Record<string, string | undefined>> | undefined
  /** Reported in the `Finish` metadata. */
  readonly droppedCacheBreakpoints?: ReadonlyArray<string> | undefined
}

const noStrings: ReadonlyArray<string> = []

/**
 * The state of one streamed message.
 *
 * - `message_start` → `Start` (its `usage` is the input side; a `message_start` that
 *   already holds content — programmatic tool calling — is replayed block by block);
 *   a second `message_start` with the same id is ignored (gateways duplicate it), one
 *   with another id (a second generation spliced into the body) is a `ProtocolError`.
 * - `content_block_*`: text → `TextDelta`, thinking → `ReasoningDelta`, `signature_delta`
 *   → a `ReasoningDelta` with empty text and `providerMetadata: { signature }`, client
 *   `tool_use` → `ToolCallStart` / `ToolCallDelta` / `ToolCallEnd`. Server tool blocks,
 *   their results and other block types are not our output: skipped (kept in the
 *   `Finish` metadata `otherContent`); `citations_delta` is ignored.
 * - `message_delta` carries the stop reason and the usage so far (cumulative: the last
 *   value wins, field by field, over `message_start`'s).
 * - `message_stop` → `Finish`. A stream that ends without it is a `ProtocolError`
 *   (unless `lenientEnd` and the stop reason arrived). Events after it are ignored.
 * - `ping` and unknown event types are skipped; an `error` event fails the stream with
 *   the mapped error (`overloaded_error` → retryable `ServerError`, status 529).
 */
export class MessagesStreamState {
  private started = false
  private done = false
  private id = ""
  private rawStop: string | undefined = undefined
  private stopSequence: unknown = undefined
  private stopDetails: unknown = undefined
  private container: unknown = undefined
  private usage: Record<string, unknown> | undefined = undefined
  private signature: string | undefined = undefined
  private redacted: Array<string> | undefined = undefined
  private other: Array<Record<string, unknown>> | undefined = undefined
  private readonly blocks = new Map<number, Block>()
  /** Blocks of a `message_start` that came with content have no index: numbered from here. */
  private toolPosition = 0
  private readonly headers: Readonly<Record<string, string | undefined>>

  constructor(
    private readonly context: Context,
    private readonly options: StreamOptions = {}
  ) {
    this.headers = options.headers ?? {}
  }

  /** Handle one SSE event; pushes the events it produces to `out`, throws an `LlmError`. */
  onEvent(event: Sse.SseEvent, out: Array<StreamEvent.StreamEvent>): void {
    if (this.done || event.event === "ping" || event.data === "") return
    if (event.event === "error" && !looksLikeJson(event.data)) {
      // an error frame whose data is plain text (a proxy's): a server error with that text
      throw LlmError.fromHttpFailure({
        status: 500,
        body: event.data,
        headers: this.headers,
        provider: this.context.provider,
        model: this.context.model
      })
    }
    const payload = ProviderHttp.parseEventJson(event, this.context)
    if (!isObject(payload)) {
      throw protocolError(this.context, `a stream event is not a JSON object: ${preview(event.data)}`)
    }
    switch (payload.type) {
      case "message_start":
        return this.onMessageStart(payload, out)
      case "content_block_start":
        return this.onBlockStart(this.requireStarted(payload), out)
      case "content_block_delta":
        return this.onBlockDelta(this.requireStarted(payload), out)
      case "content_block_stop":
        return this.onBlockStop(this.requireStarted(payload), out)
      case "message_delta":
        return this.onMessageDelta(this.requireStarted(payload), out)
      case "message_stop":
        this.requireStarted(payload)
        return this.finish(out)
      case "error":
        throw errorFromPayload(payload, this.context, this.headers, "error event in the stream")
      default:
        // ping, and event types newer than this code
        return
    }
  }

  /** The byte stream ended. */
  onEnd(out: Array<StreamEvent.StreamEvent>): void {
    if (this.done) return
    if (!this.started) throw protocolError(this.context, "the stream ended without any message (no message_start)")
    if (this.options.lenientEnd === true && this.rawStop !== undefined) return this.finish(out)
    throw protocolError(
      this.context,
      this.rawStop === undefined ?
        "the stream ended before the model finished (no stop_reason, no message_stop)" :
        "the stream ended without its terminator (message_stop)"
    )
  }

  private requireStarted(payload: Record<string, unknown>): Record<string, unknown> {
    if (!this.started) throw protocolError(this.context, `a ${String(payload.type)} event before message_start`)
    return payload
  }

  private onMessageStart(payload: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const message = isObject(payload.message) ? payload.message : {}
    const id = typeof message.id === "string" ? message.id : ""
    if (this.started) {
      if (id === this.id) return
      throw protocolError(
        this.context,
        `a second message (${id === "" ? "without an id" : id}) started in the stream of ${
          this.id === "" ? "a message without an id" : this.id
        } before it finished (a spliced stream)`
      )
    }
    this.started = true
    this.id = id
    out.push(StreamEvent.start(id, nonEmpty(message.model) ?? this.context.model, this.context.provider))
    if (isObject(message.usage)) this.usage = { ...message.usage }
    this.onStopFields(message)
    if (message.container !== undefined && message.container !== null) this.container = message.container
    // a message that arrives whole (programmatic tool calling)
    const content = message.content
    if (Array.isArray(content)) {
      for (const block of content) {
        if (!isObject(block)) continue
        const index = -1 - this.blocks.size
        this.startBlock(index, block, out)
        this.stopBlock(index, out)
      }
    }
  }

  private onStopFields(fields: Record<string, unknown>): void {
    const stop = nonEmpty(fields.stop_reason)
    if (stop !== undefined) this.rawStop = stop
    if (fields.stop_sequence !== undefined && fields.stop_sequence !== null) this.stopSequence = fields.stop_sequence
    if (fields.stop_details !== undefined && fields.stop_details !== null) this.stopDetails = fields.stop_details
  }

  private onBlockStart(payload: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const index = indexOf(payload)
    if (index === undefined) throw protocolError(this.context, "a content_block_start without an index")
    if (this.blocks.has(index)) {
      throw protocolError(this.context, `content block ${index} started twice`)
    }
    this.startBlock(index, isObject(payload.content_block) ? payload.content_block : {}, out)
  }

  private startBlock(index: number, block: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    let kind: Block["kind"]
    let id = ""
    let name = ""
    let initial: string | undefined
    let raw: Record<string, unknown> | undefined
    switch (block.type) {
      case "text": {
        kind = "text"
        const text = nonEmpty(block.text)
        if (text !== undefined) out.push(StreamEvent.textDelta(text))
        break
      }
      case "thinking": {
        kind = "thinking"
        const text = nonEmpty(block.thinking)
        const signature = nonEmpty(block.signature)
        if (signature !== undefined) this.signature = signature
        if (text !== undefined || signature !== undefined) {
          out.push(StreamEvent.reasoningDelta(text ?? "", signature !== undefined ? { signature } : undefined))
        }
        break
      }
      case "redacted_thinking":
        kind = "redacted"
        ;(this.redacted ??= []).push(typeof block.data === "string" ? block.data : "")
        break
      case "tool_use": {
        kind = "tool"
        id = nonEmpty(block.id) ?? generatedToolCallId(this.id, this.toolPosition)
        name = typeof block.name === "string" ? block.name : ""
        const input = block.input
        if (isObject(input) && Object.keys(input).length > 0) initial = JSON.stringify(input)
        this.toolPosition++
        out.push(StreamEvent.toolCallStart(id, name))
        break
      }
      default:
        kind = "other"
        raw = { ...block }
        ;(this.other ??= []).push(raw)
    }
    this.blocks.set(index, { kind, id, name, initial, args: [], raw, ended: false })
  }

  private onBlockDelta(payload: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const index = indexOf(payload)
    const block = index === undefined ? undefined : this.blocks.get(index)
    if (block === undefined) {
      throw protocolError(this.context, `a content_block_delta for content block ${String(index)}, which never started`)
    }
    if (block.ended) {
      throw protocolError(this.context, `a content_block_delta for content block ${index} after its stop`)
    }
    const delta = isObject(payload.delta) ? payload.delta : {}
    const type = delta.type
    if (block.kind === "other") {
      if (type === "input_json_delta" && typeof delta.partial_json === "string") block.args.push(delta.partial_json)
      return
    }
    switch (type) {
      case "text_delta":
        if (block.kind !== "text") throw this.mismatch(type, block, index!)
        if (typeof delta.text === "string" && delta.text !== "") out.push(StreamEvent.textDelta(delta.text))
        return
      case "thinking_delta":
        if (block.kind !== "thinking") throw this.mismatch(type, block, index!)
        if (typeof delta.thinking === "string" && delta.thinking !== "") {
          out.push(StreamEvent.reasoningDelta(delta.thinking))
        }
        return
      case "signature_delta": {
        if (block.kind !== "thinking") throw this.mismatch(type, block, index!)
        const signature = nonEmpty(delta.signature)
        if (signature !== undefined) {
          this.signature = signature
          out.push(StreamEvent.reasoningDelta("", { signature }))
        }
        return
      }
      case "input_json_delta":
        if (block.kind !== "tool") throw this.mismatch(type, block, index!)
        if (typeof delta.partial_json === "string" && delta.partial_json !== "") {
          block.args.push(delta.partial_json)
          out.push(StreamEvent.toolCallDelta(block.id, delta.partial_json))
        }
        return
      default:
        // citations_delta, and delta types newer than this code
        return
    }
  }

  private mismatch(type: string, block: Block, index: number) {
    return protocolError(this.context, `a ${type} for content block ${index}, which is a ${block.kind} block`)
  }

  private onBlockStop(payload: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const index = indexOf(payload)
    if (index !== undefined) this.stopBlock(index, out)
  }

  private stopBlock(index: number, out: Array<StreamEvent.StreamEvent>): void {
    const block = this.blocks.get(index)
    if (block === undefined || block.ended) return
    block.ended = true
    if (block.kind === "tool") {
      endToolCall(block, out)
    } else if (block.kind === "other" && block.raw !== undefined && block.args.length > 0) {
      const text = block.args.join("")
      try {
        block.raw.input = JSON.parse(text)
      } catch {
        block.raw.input = text
      }
    }
  }

  private onMessageDelta(payload: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    if (isObject(payload.delta)) {
      this.onStopFields(payload.delta)
      const container = payload.delta.container
      if (container !== undefined && container !== null) this.container = container
    }
    const usage = payload.usage
    if (isObject(usage)) {
      // cumulative: each field's latest value wins
      const merged: Record<string, unknown> = this.usage ?? {}
      for (const key in usage) {
        const value = usage[key]
        if (value !== undefined && value !== null) merged[key] = value
      }
      this.usage = merged
      out.push(StreamEvent.usage(mapUsage(merged)))
    }
  }

  private finish(out: Array<StreamEvent.StreamEvent>): void {
    if (this.rawStop === undefined) {
      throw protocolError(this.context, "the message stopped (message_stop) without a stop_reason")
    }
    this.done = true
    for (const block of this.blocks.values()) {
      if (!block.ended && block.kind === "tool") {
        block.ended = true
        endToolCall(block, out)
      }
    }
    const requestId = this.context.requestId
    out.push(StreamEvent.finish(mapStopReason(this.rawStop), {
      ...(this.usage !== undefined ? { usage: mapUsage(this.usage) } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      providerMetadata: {
        [this.context.provider]: metadataOf({
          stopReason: this.rawStop,
          stopSequence: this.stopSequence,
          stopDetails: this.stopDetails,
          container: this.container,
          usage: this.usage,
          signature: this.signature,
          redactedThinking: this.redacted ?? noStrings,
          otherContent: this.other ?? noStrings,
          droppedCacheBreakpoints: this.options.droppedCacheBreakpoints ?? noStrings
        })
      }
    }))
  }
}

/**
 * End a tool call. Anthropic tool input is always an object: with no argument deltas the
 * `input` of its start (programmatic tool calls), else `{}`, is sent as the one delta.
 */
const endToolCall = (block: Block, out: Array<StreamEvent.StreamEvent>): void => {
  let raw = block.args.length === 1 ? block.args[0]! : block.args.join("")
  if (raw.trim() === "") {
    raw = block.initial ?? inputText(undefined)
    out.push(StreamEvent.toolCallDelta(block.id, raw))
  }
  out.push(StreamEvent.toolCallEnd(block.id, block.name, raw))
}

const indexOf = (payload: Record<string, unknown>): number | undefined => {
  const index = payload.index
  return typeof index === "number" && Number.isInteger(index) ? index : undefined
}

const looksLikeJson = (data: string): boolean => {
  const first = data.trimStart().charCodeAt(0)
  return first === 123 /* { */ || first === 91 /* [ */
}

const preview = (data: string) => (data.length > 200 ? data.slice(0, 200) + "…" : data)
