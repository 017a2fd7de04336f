/**
 * Chat Completions SSE events → `StreamEvent`s: a small synchronous state machine, one
 * instance per stream, driven by `ProviderHttp.mapEvents` (one step per network read).
 *
 * @internal
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import * as ProviderHttp from "@llm-fiber/core/ProviderHttp"
import type * as Sse from "@llm-fiber/core/Sse"
import * as StreamEvent from "@llm-fiber/core/StreamEvent"
import type * as Usage from "@llm-fiber/core/Usage"
import {
  argumentsText,
  type Context,
  forEachContent,
  generatedToolCallId,
  inBandError,
  isObject,
  mapFinishReason,
  mapUsage,
  metadataOf,
  nonEmpty,
  reasoningOf,
  usageOf
} from "./response.js"

/** One tool call being assembled from deltas. */
interface ToolCallState {
  /** Position in the stream (0, 1, …): names generated ids and orders the `ToolCallEnd`s. */
  readonly position: number
  id: string | undefined
  name: string | undefined
  /** Argument pieces received before `ToolCallStart` could be emitted. */
  readonly buffered: Array<string>
  /** All argument pieces. */
  readonly args: Array<string>
  started: boolean
  ended: boolean
}

/** Options of a stream mapper. */
export interface StreamOptions {
  /**
   * Accept a stream that ends without `data: [DONE]` when a `finish_reason` arrived
   * (off by default: a missing terminator usually means a truncated stream).
   */
  readonly lenientEnd?: boolean | undefined
  /** Response headers (request id, for errors). */
  readonly headers?: Readonly<Record<string, string | undefined>> | undefined
}

/** The state of one streamed chat completion. */
export class ChatStreamState {
  private started = false
  private done = false
  private id = ""
  private fingerprint: string | undefined = undefined
  private serviceTier: string | undefined = undefined
  private rawFinish: string | undefined = undefined
  private rawUsage: Record<string, unknown> | undefined = undefined
  private usage: Usage.Usage | undefined = undefined
  private refusal: Array<string> | undefined = undefined
  private readonly calls: Array<ToolCallState> = []
  private readonly byIndex = new Map<number, ToolCallState>()
  private readonly headers: Readonly<Record<string, string | undefined>>

  constructor(
    private readonly context: Context,
    private readonly options: StreamOptions = {}
  ) {
    this.headers = options.headers ?? {}
  }

  /** Handle one SSE event; pushes the events it produces to `out`, throws an `LlmError`. */
  onEvent(event: Sse.SseEvent, out: Array<StreamEvent.StreamEvent>): void {
    if (this.done) return
    const data = event.data
    if (data === "[DONE]") {
      this.finish(out)
      return
    }
    if (event.event === "error") throw this.errorEvent(data)
    if (data === "" || event.event !== "message") {
      // keep-alives and unknown event types are skipped
      return
    }
    const payload = ProviderHttp.parseEventJson(event, this.context)
    if (!isObject(payload)) throw this.protocolError(`a stream event is not a JSON object: ${preview(data)}`)
    if (payload.error !== undefined && payload.error !== null) throw inBandError(payload, this.context, this.headers)
    this.onChunk(payload, out)
  }

  /** The byte stream ended. */
  onEnd(out: Array<StreamEvent.StreamEvent>): void {
    if (this.done) return
    if (this.rawFinish === undefined) {
      throw this.protocolError(
        this.started ?
          "the stream ended before the model finished (no finish_reason, no [DONE])" :
          "the stream ended without any chunk"
      )
    }
    if (this.options.lenientEnd !== true) {
      throw this.protocolError("the stream ended without its terminator (data: [DONE])")
    }
    this.finish(out)
  }

  private onChunk(chunk: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const choices = chunk.choices
    // The common chunk — one choice, a text delta and nothing else (no finish, no usage) —
    // in straight-line code: what the general path below does with it, fewer calls per event.
    if (
      this.started && Array.isArray(choices) && choices.length === 1 && chunk.usage == null &&
      chunk.x_groq === undefined
    ) {
      const choice: unknown = choices[0]
      if (
        typeof choice === "object" && choice !== null && !Array.isArray(choice) &&
        ((choice as Record<string, unknown>).index === 0 || (choice as Record<string, unknown>).index === undefined) &&
        (choice as Record<string, unknown>).finish_reason == null
      ) {
        const delta = (choice as Record<string, unknown>).delta
        if (typeof delta === "object" && delta !== null && !Array.isArray(delta)) {
          const d = delta as Record<string, unknown>
          const content = d.content
          if (
            typeof content === "string" && d.reasoning_content == null && d.reasoning == null && d.refusal == null &&
            d.tool_calls == null
          ) {
            const fingerprint = chunk.system_fingerprint
            if (typeof fingerprint === "string" && fingerprint !== "") this.fingerprint = fingerprint
            const tier = chunk.service_tier
            if (typeof tier === "string" && tier !== "") this.serviceTier = tier
            if (content !== "") out.push(StreamEvent.textDelta(content))
            return
          }
        }
      }
    }
    const choice: unknown = Array.isArray(choices) ? pickChoice(choices) : undefined
    const usage = usageOf(chunk)
    if (choice === undefined && usage === undefined) {
      // e.g. Azure's `prompt_filter_results` chunk (choices: [], empty id and model)
      return
    }
    if (!this.started) this.start(chunk, out)
    const fingerprint = chunk.system_fingerprint
    if (typeof fingerprint === "string" && fingerprint !== "") this.fingerprint = fingerprint
    const tier = chunk.service_tier
    if (typeof tier === "string" && tier !== "") this.serviceTier = tier
    if (isObject(choice)) {
      const delta = choice.delta
      if (isObject(delta)) this.onDelta(delta, out)
      const finish = nonEmpty(choice.finish_reason)
      if (finish !== undefined) {
        this.rawFinish = finish
        this.endToolCalls(out)
      }
    }
    if (usage !== undefined) {
      this.rawUsage = usage
      this.usage = mapUsage(usage)
      out.push(StreamEvent.usage(this.usage))
    }
  }

  private start(chunk: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    this.started = true
    this.id = typeof chunk.id === "string" ? chunk.id : ""
    out.push(StreamEvent.start(this.id, nonEmpty(chunk.model) ?? this.context.model, this.context.provider))
  }

  private onDelta(delta: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const reasoning = reasoningOf(delta)
    if (reasoning !== undefined) out.push(StreamEvent.reasoningDelta(reasoning))
    const content = delta.content
    if (typeof content === "string") {
      if (content !== "") out.push(StreamEvent.textDelta(content))
    } else if (content !== undefined && content !== null) {
      forEachContent(
        content,
        (text) => out.push(StreamEvent.textDelta(text)),
        (text) => out.push(StreamEvent.reasoningDelta(text))
      )
    }
    const refusal = nonEmpty(delta.refusal)
    if (refusal !== undefined) (this.refusal ??= []).push(refusal)
    const toolCalls = delta.tool_calls
    if (Array.isArray(toolCalls)) {
      for (const call of toolCalls) if (isObject(call)) this.onToolCallDelta(call, out)
    }
  }

  /** Find (or open) the tool call a delta belongs to. */
  private slot(delta: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): ToolCallState {
    const index = typeof delta.index === "number" ? delta.index : undefined
    const id = nonEmpty(delta.id)
    if (index !== undefined) {
      const existing = this.byIndex.get(index)
      if (existing !== undefined) {
        if (id === undefined || existing.id === undefined || existing.id === id) return existing
        // the same index reused for a new call (some servers number every call 0)
        this.endToolCall(existing, out)
      }
      const created = this.open()
      this.byIndex.set(index, created)
      return created
    }
    if (id !== undefined) {
      for (const call of this.calls) if (call.id === id) return call
      return this.open()
    }
    const latest = this.calls[this.calls.length - 1]
    return latest !== undefined && !latest.ended ? latest : this.open()
  }

  private open(): ToolCallState {
    const call: ToolCallState = {
      position: this.calls.length,
      id: undefined,
      name: undefined,
      buffered: [],
      args: [],
      started: false,
      ended: false
    }
    this.calls.push(call)
    return call
  }

  private onToolCallDelta(delta: Record<string, unknown>, out: Array<StreamEvent.StreamEvent>): void {
    const call = this.slot(delta, out)
    if (call.ended) return
    if (call.id === undefined) {
      const id = nonEmpty(delta.id)
      if (id !== undefined) call.id = id
    }
    const fn = isObject(delta.function) ? delta.function : undefined
    if (fn !== undefined) {
      if (call.name === undefined) {
        const name = nonEmpty(fn.name)
        if (name !== undefined) call.name = name
      }
      const piece = argumentsText(fn.arguments)
      if (piece !== "") {
        call.args.push(piece)
        if (call.started) out.push(StreamEvent.toolCallDelta(call.id!, piece))
        else call.buffered.push(piece)
      }
    }
    if (!call.started && call.id !== undefined && call.name !== undefined) this.startToolCall(call, out)
  }

  private startToolCall(call: ToolCallState, out: Array<StreamEvent.StreamEvent>): void {
    if (call.id === undefined) call.id = generatedToolCallId(this.id, call.position)
    call.started = true
    out.push(StreamEvent.toolCallStart(call.id, call.name ?? ""))
    if (call.buffered.length > 0) {
      out.push(StreamEvent.toolCallDelta(call.id, call.buffered.join("")))
      call.buffered.length = 0
    }
  }

  private endToolCall(call: ToolCallState, out: Array<StreamEvent.StreamEvent>): void {
    if (call.ended) return
    if (!call.started) this.startToolCall(call, out)
    call.ended = true
    out.push(StreamEvent.toolCallEnd(call.id!, call.name ?? "", call.args.join("")))
  }

  private endToolCalls(out: Array<StreamEvent.StreamEvent>): void {
    for (const call of this.calls) this.endToolCall(call, out)
  }

  private finish(out: Array<StreamEvent.StreamEvent>): void {
    if (this.rawFinish === undefined) {
      throw this.protocolError("the stream ended ([DONE]) without a finish_reason")
    }
    this.done = true
    this.endToolCalls(out)
    const refusal = this.refusal === undefined ? undefined : this.refusal.join("")
    const finishReason = refusal !== undefined ? "content_filter" : mapFinishReason(this.rawFinish)
    const requestId = this.context.requestId
    out.push(StreamEvent.finish(finishReason, {
      ...(this.usage !== undefined ? { usage: this.usage } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      providerMetadata: {
        [this.context.provider]: metadataOf(
          { system_fingerprint: this.fingerprint, service_tier: this.serviceTier },
          this.rawFinish,
          refusal,
          this.rawUsage
        )
      }
    }))
  }

  /** An `event: error` frame: its JSON error payload, or its text as a server error. */
  private errorEvent(data: string): LlmError.LlmError {
    let payload: unknown = data
    try {
      payload = JSON.parse(data)
    } catch {
      // keep the text
    }
    return isObject(payload) ?
      inBandError(payload, this.context, this.headers) :
      LlmError.fromHttpFailure({
        status: 500,
        body: data,
        headers: this.headers,
        provider: this.context.provider,
        model: this.context.model
      })
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

/** The choice with index 0 (or without an index); other choices (`n` > 1) are ignored. */
const pickChoice = (choices: ReadonlyArray<unknown>): unknown => {
  for (let i = 0; i < choices.length; i++) {
    const choice = choices[i]
    if (isObject(choice) && (choice.index === undefined || choice.index === 0)) return choice
  }
  return undefined
}

const preview = (data: string) => (data.length > 200 ? data.slice(0, 200) + "…" : data)
