/**
 * Responses API SSE events → `StreamEvent`s: a synchronous state machine, one instance per
 * stream, driven by `ProviderHttp.mapEvents`.
 *
 * - Events are told apart by the `type` of their JSON payload (the `event:` line repeats
 *   it; a payload without `type` falls back to the `event:` name).
 * - Output is keyed by `output_index`, never by `item_id`: some gateways (GitHub Copilot)
 *   rotate item ids on every event.
 * - `*.done` events are authoritative: when the deltas received so far are a prefix of the
 *   final text (or arguments), the missing rest is emitted as one more delta.
 * - Only `function_call` items become tool calls; every other output item (web search,
 *   file search, code interpreter, image generation, MCP, custom tools, shell, …) is
 *   skipped and listed by type in `providerMetadata[provider].skippedOutputItems`.
 *
 * @internal
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import * as ProviderHttp from "@llm-fiber/core/ProviderHttp"
import type * as Sse from "@llm-fiber/core/Sse"
import * as StreamEvent from "@llm-fiber/core/StreamEvent"
import { type Context, generatedToolCallId, isObject, nonEmpty } from "./response.js"
import { mapResponsesUsage, responseError, responsesFinishReason, responsesMetadata } from "./responsesResponse.js"

/** One function call being assembled. */
interface CallState {
  readonly position: number
  id: string | undefined
  name: string | undefined
  readonly args: Array<string>
  started: boolean
  ended: boolean
}

/** A text, refusal or reasoning part being assembled (deltas so far). */
interface PartState {
  readonly pieces: Array<string>
  done: boolean
}

const reasoningSeparator = "\n\n"

/** The state of one streamed response. */
export class ResponsesStreamState {
  private started = false
  private done = false
  private id = ""
  private readonly calls = new Map<number, CallState>()
  private callCount = 0
  private readonly texts = new Map<string, PartState>()
  private readonly reasoning = new Map<string, PartState>()
  private reasoningEmitted = false
  private readonly refusals = new Map<string, PartState>()
  private readonly skipped: Array<string> = []
  private readonly headers: Readonly<Record<string, string | undefined>>

  constructor(
    private readonly context: Context,
    headers: Readonly<Record<string, string | undefined>> = {}
  ) {
    this.headers = headers
  }

  /** Handle one SSE event; pushes the events it produces to `out`, throws an `LlmError`. */
  onEvent(event: Sse.SseEvent, out: Array<StreamEvent.StreamEvent>): void {
    if (this.done) return
    const data = event.data
    // keep-alives, and the `[DONE]` some compatible servers add
    if (data === "" || data === "[DONE]") return
    const payload = ProviderHttp.parseEventJson(event, this.context)
    if (!isObject(payload)) throw this.protocolError(`a stream event is not a JSON object: ${preview(data)}`)
    const type = typeof payload.type === "string" ? payload.type : event.event
    switch (type) {
      case "response.created":
      case "response.in_progress":
      case "response.queued":
        if (!this.started) this.start(payload.response, out)
        return
      case "response.output_text.delta":
        return this.onDelta(this.texts, partKey(payload), payload.delta, out, textDelta)
      case "response.output_text.done":
        return this.onDone(this.texts, partKey(payload), payload.text, out, textDelta)
      case "response.refusal.delta":
        return this.onDelta(this.refusals, partKey(payload), payload.delta, out, undefined)
      case "response.refusal.done":
        return this.onDone(this.refusals, partKey(payload), payload.refusal, out, undefined)
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta":
        return this.onReasoning(reasoningKey(type, payload), payload.delta, false, out)
      case "response.reasoning_summary_text.done":
      case "response.reasoning_text.done":
        return this.onReasoning(reasoningKey(type, payload), payload.text, true, out)
      case "response.output_item.added":
        return this.onItem(payload, false, out)
      case "response.output_item.done":
        return this.onItem(payload, true, out)
      case "response.function_call_arguments.delta":
        return this.onArguments(payload, payload.delta, false, out)
      case "response.function_call_arguments.done":
        return this.onArguments(payload, payload.arguments, true, out)
      case "response.completed":
      case "response.incomplete":
        return this.finish(payload.response, out)
      case "response.failed": {
        const response = isObject(payload.response) ? payload.response : {}
        throw responseError(response.error, this.context, this.headers)
      }
      case "error":
        throw responseError(payload, this.context, this.headers)
      default:
        // events of items we do not model, annotations, content_part/summary_part markers…
        return
    }
  }

  /** The byte stream ended. */
  onEnd(_out: Array<StreamEvent.StreamEvent>): void {
    if (this.done) return
    throw this.protocolError(
      this.started ?
        "the stream ended before the response finished (no response.completed)" :
        "the stream ended without any event"
    )
  }

  private start(response: unknown, out: Array<StreamEvent.StreamEvent>): void {
    this.started = true
    const r = isObject(response) ? response : {}
    this.id = typeof r.id === "string" ? r.id : ""
    out.push(StreamEvent.start(this.id, nonEmpty(r.model) ?? this.context.model, this.context.provider))
  }

  private ensureStarted(out: Array<StreamEvent.StreamEvent>): void {
    if (!this.started) this.start(undefined, out)
  }

  private onDelta(
    parts: Map<string, PartState>,
    key: string,
    delta: unknown,
    out: Array<StreamEvent.StreamEvent>,
    emit: ((text: string) => StreamEvent.StreamEvent) | undefined
  ): void {
    if (typeof delta !== "string" || delta === "") return
    this.ensureStarted(out)
    let part = parts.get(key)
    if (part === undefined) {
      part = { pieces: [], done: false }
      parts.set(key, part)
    }
    if (part.done) return
    part.pieces.push(delta)
    if (emit !== undefined) out.push(emit(delta))
  }

  private onDone(
    parts: Map<string, PartState>,
    key: string,
    text: unknown,
    out: Array<StreamEvent.StreamEvent>,
    emit: ((text: string) => StreamEvent.StreamEvent) | undefined
  ): void {
    let part = parts.get(key)
    if (part === undefined) {
      part = { pieces: [], done: false }
      parts.set(key, part)
    }
    if (part.done) return
    part.done = true
    const rest = missing(part.pieces, text)
    if (rest === undefined) return
    this.ensureStarted(out)
    part.pieces.push(rest)
    if (emit !== undefined) out.push(emit(rest))
  }

  private onReasoning(key: string, text: unknown, isDone: boolean, out: Array<StreamEvent.StreamEvent>): void {
    let part = this.reasoning.get(key)
    if (part === undefined) {
      part = { pieces: [], done: false }
      this.reasoning.set(key, part)
    }
    if (part.done) return
    const piece = isDone ? missing(part.pieces, text) : typeof text === "string" && text !== "" ? text : undefined
    if (isDone) part.done = true
    if (piece === undefined) return
    this.ensureStarted(out)
    // separate summary parts (and reasoning items) with a blank line, as `chat` joins them
    const prefix = part.pieces.length === 0 && this.reasoningEmitted ? reasoningSeparator : ""
    part.pieces.push(piece)
    this.reasoningEmitted = true
    out.push(StreamEvent.reasoningDelta(prefix === "" ? piece : prefix + piece))
  }

  private onItem(payload: Record<string, unknown>, isDone: boolean, out: Array<StreamEvent.StreamEvent>): void {
    const item = isObject(payload.item) ? payload.item : undefined
    if (item === undefined) return
    const index = outputIndex(payload)
    switch (item.type) {
      case "function_call": {
        const call = this.call(index, item, out)
        if (isDone) this.endCall(call, item.arguments, out)
        return
      }
      case "message": {
        // a done item is authoritative too: text it holds that no delta brought is emitted
        if (isDone && Array.isArray(item.content)) {
          for (let i = 0; i < item.content.length; i++) {
            const part: unknown = item.content[i]
            if (!isObject(part)) continue
            if (part.type === "output_text") this.onDone(this.texts, `${index}:${i}`, part.text, out, textDelta)
            else if (part.type === "refusal") this.onDone(this.refusals, `${index}:${i}`, part.refusal, out, undefined)
          }
        }
        return
      }
      case "reasoning": {
        if (isDone) {
          for (const [kind, key] of [["summary", "summary"], ["text", "content"]] as const) {
            const parts = item[key]
            if (!Array.isArray(parts)) continue
            for (let i = 0; i < parts.length; i++) {
              const part: unknown = parts[i]
              if (isObject(part)) this.onReasoning(`${kind}:${index}:${i}`, part.text, true, out)
            }
          }
        }
        return
      }
      default: {
        const type = nonEmpty(item.type) ?? "unknown"
        if (!this.skipped.includes(type)) this.skipped.push(type)
      }
    }
  }

  /** Find (or open, and start once the name is known) the call at an output index. */
  private call(index: number, item: Record<string, unknown> | undefined, out: Array<StreamEvent.StreamEvent>) {
    let call = this.calls.get(index)
    if (call === undefined) {
      call = { position: this.callCount++, id: undefined, name: undefined, args: [], started: false, ended: false }
      this.calls.set(index, call)
    }
    if (item !== undefined) {
      if (call.id === undefined) call.id = nonEmpty(item.call_id)
      if (call.name === undefined) call.name = nonEmpty(item.name)
    }
    if (!call.started && call.name !== undefined) this.startCall(call, out)
    return call
  }

  private startCall(call: CallState, out: Array<StreamEvent.StreamEvent>): void {
    this.ensureStarted(out)
    if (call.id === undefined) call.id = generatedToolCallId(this.id, call.position)
    call.started = true
    out.push(StreamEvent.toolCallStart(call.id, call.name ?? ""))
    // arguments that arrived before the call could start
    if (call.args.length > 0) out.push(StreamEvent.toolCallDelta(call.id, call.args.join("")))
  }

  private onArguments(
    payload: Record<string, unknown>,
    text: unknown,
    isDone: boolean,
    out: Array<StreamEvent.StreamEvent>
  ): void {
    const call = this.call(outputIndex(payload), undefined, out)
    if (call.ended) return
    if (isDone) {
      this.endCall(call, text, out)
      return
    }
    if (typeof text !== "string" || text === "") return
    call.args.push(text)
    if (call.started) out.push(StreamEvent.toolCallDelta(call.id!, text))
  }

  private endCall(call: CallState, finalArguments: unknown, out: Array<StreamEvent.StreamEvent>): void {
    if (call.ended) return
    const rest = missing(call.args, finalArguments)
    if (rest !== undefined) {
      call.args.push(rest)
      if (call.started) out.push(StreamEvent.toolCallDelta(call.id!, rest))
    }
    if (!call.started) this.startCall(call, out)
    call.ended = true
    out.push(StreamEvent.toolCallEnd(call.id!, call.name ?? "", call.args.join("")))
  }

  private finish(response: unknown, out: Array<StreamEvent.StreamEvent>): void {
    this.ensureStarted(out)
    const r = isObject(response) ? response : {}
    // calls the final response holds but the stream never announced
    if (Array.isArray(r.output)) {
      for (let i = 0; i < r.output.length; i++) {
        const item: unknown = r.output[i]
        if (isObject(item) && item.type === "function_call" && !this.calls.has(i)) {
          this.endCall(this.call(i, item, out), item.arguments, out)
        }
      }
    }
    for (const call of this.calls.values()) this.endCall(call, undefined, out)
    this.done = true
    const rawUsage = isObject(r.usage) ? r.usage : undefined
    const usage = rawUsage !== undefined ? mapResponsesUsage(rawUsage) : undefined
    if (usage !== undefined) out.push(StreamEvent.usage(usage))
    const refusalParts: Array<string> = []
    for (const part of this.refusals.values()) refusalParts.push(part.pieces.join(""))
    const refusal = refusalParts.length === 0 ? undefined : refusalParts.join("")
    const status = nonEmpty(r.status) ?? "completed"
    const incompleteReason = isObject(r.incomplete_details) ? nonEmpty(r.incomplete_details.reason) : undefined
    const finishReason = responsesFinishReason(status, incompleteReason, this.calls.size > 0, refusal !== undefined)
    const requestId = this.context.requestId
    out.push(StreamEvent.finish(finishReason, {
      ...(usage !== undefined ? { usage } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      providerMetadata: {
        [this.context.provider]: responsesMetadata({
          responseId: typeof r.id === "string" ? r.id : this.id,
          status,
          incompleteReason,
          refusal,
          serviceTier: r.service_tier,
          usage: rawUsage,
          skipped: this.skipped
        })
      }
    }))
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

const textDelta = (text: string) => StreamEvent.textDelta(text)

const outputIndex = (payload: Record<string, unknown>): number =>
  typeof payload.output_index === "number" ? payload.output_index : -1

const partKey = (payload: Record<string, unknown>): string =>
  `${outputIndex(payload)}:${typeof payload.content_index === "number" ? payload.content_index : 0}`

const reasoningKey = (type: string, payload: Record<string, unknown>): string => {
  const summary = type.startsWith("response.reasoning_summary")
  const index = summary ? payload.summary_index : payload.content_index
  return `${summary ? "summary" : "text"}:${outputIndex(payload)}:${typeof index === "number" ? index : 0}`
}

/** The part of `final` not yet received, when what was received is a prefix of it. */
const missing = (pieces: ReadonlyArray<string>, final: unknown): string | undefined => {
  if (typeof final !== "string") return undefined
  const soFar = pieces.length === 1 ? pieces[0]! : pieces.join("")
  return final.length > soFar.length && final.startsWith(soFar) ? final.slice(soFar.length) : undefined
}

const preview = (data: string) => (data.length > 200 ? data.slice(0, 200) + "…" : data)
