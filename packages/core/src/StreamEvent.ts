/**
 * Events of a streamed chat call.
 *
 * A stream is `Start`, then any mix of `TextDelta`, `ReasoningDelta` and tool-call events
 * (`ToolCallStart`, `ToolCallDelta`…, `ToolCallEnd` per call), optionally `Usage`, and
 * last `Finish`. Events are plain objects tagged with `_tag` (cheap to create per chunk,
 * `JSON.stringify`-able); `StreamEvent` is also a `Schema` for validation and decoding.
 *
 * `accumulate` folds a stream into the same `ChatResult` that `chat` returns.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { LlmClient, StreamEvent } from "@llm-fiber/core"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* LlmClient.LlmClient
 *   const stream = client.chatStream({ model: "gpt-4o-mini", messages: "Tell me a joke" })
 *   return yield* StreamEvent.accumulate(stream)
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ChatResult from "./ChatResult.js"
import type * as Message from "./Message.js"
import * as UsageModule from "./Usage.js"

/**
 * @since 0.1.0
 * @category models
 */
export const Start = Schema.TaggedStruct("Start", {
  id: Schema.String,
  model: Schema.String,
  provider: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Start extends Schema.Schema.Type<typeof Start> {}

/**
 * @since 0.1.0
 * @category models
 */
export const TextDelta = Schema.TaggedStruct("TextDelta", { text: Schema.String })

/**
 * @since 0.1.0
 * @category models
 */
export interface TextDelta extends Schema.Schema.Type<typeof TextDelta> {}

/**
 * @since 0.1.0
 * @category models
 */
export const ReasoningDelta = Schema.TaggedStruct("ReasoningDelta", {
  text: Schema.String,
  /** Provider data of the reasoning block (e.g. Anthropic's `signature`). */
  providerMetadata: Schema.optional(ChatResult.ProviderMetadata)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ReasoningDelta extends Schema.Schema.Type<typeof ReasoningDelta> {}

/**
 * @since 0.1.0
 * @category models
 */
export const ToolCallStart = Schema.TaggedStruct("ToolCallStart", { id: Schema.String, name: Schema.String })

/**
 * @since 0.1.0
 * @category models
 */
export interface ToolCallStart extends Schema.Schema.Type<typeof ToolCallStart> {}

/**
 * @since 0.1.0
 * @category models
 */
export const ToolCallDelta = Schema.TaggedStruct("ToolCallDelta", {
  id: Schema.String,
  argumentsDelta: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ToolCallDelta extends Schema.Schema.Type<typeof ToolCallDelta> {}

/**
 * @since 0.1.0
 * @category models
 */
export const ToolCallEnd = Schema.TaggedStruct("ToolCallEnd", {
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.Unknown,
  rawArguments: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ToolCallEnd extends Schema.Schema.Type<typeof ToolCallEnd> {}

/**
 * @since 0.1.0
 * @category models
 */
export const Usage = Schema.TaggedStruct("Usage", { usage: UsageModule.Usage })

/**
 * @since 0.1.0
 * @category models
 */
export interface Usage extends Schema.Schema.Type<typeof Usage> {}

/**
 * @since 0.1.0
 * @category models
 */
export const Finish = Schema.TaggedStruct("Finish", {
  finishReason: ChatResult.FinishReason,
  usage: Schema.optional(UsageModule.Usage),
  cost: Schema.optional(UsageModule.Cost),
  requestId: Schema.optional(Schema.String),
  /** The models of a fallback chain that failed before this stream's model served it. */
  fallbacks: Schema.optional(Schema.Array(ChatResult.FallbackAttempt)),
  providerMetadata: Schema.optional(ChatResult.ProviderMetadata),
  /**
   * `true` when the `ResponseCache` replayed this stream: `usage` and `cost` are those of
   * the original call (nothing was spent this time).
   */
  fromCache: Schema.optional(Schema.Boolean)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Finish extends Schema.Schema.Type<typeof Finish> {}

/**
 * @since 0.1.0
 * @category models
 */
export const StreamEvent = Schema.Union(
  Start,
  TextDelta,
  ReasoningDelta,
  ToolCallStart,
  ToolCallDelta,
  ToolCallEnd,
  Usage,
  Finish
)

/**
 * @since 0.1.0
 * @category models
 */
export type StreamEvent =
  | Start
  | TextDelta
  | ReasoningDelta
  | ToolCallStart
  | ToolCallDelta
  | ToolCallEnd
  | Usage
  | Finish

/**
 * Does this event carry content (what counts as "first token" for TTFB, and what makes a
 * stream no longer retryable)?
 *
 * @since 0.1.0
 * @category guards
 */
export const isContent = (event: StreamEvent): boolean =>
  event._tag === "TextDelta" || event._tag === "ReasoningDelta" || event._tag === "ToolCallStart" ||
  event._tag === "ToolCallDelta" || event._tag === "ToolCallEnd"

/**
 * Fold events into a result, one at a time. Used by `accumulate`, by the pipeline (to
 * attach partial output to errors) and by caches.
 *
 * @since 0.1.0
 * @category accumulating
 */
export class Accumulator {
  id = ""
  model = ""
  provider = ""
  private textParts: Array<string> = []
  private reasoningParts: Array<string> = []
  private reasoningMetadata: ChatResult.ProviderMetadata | undefined = undefined
  private readonly pending = new Map<string, { name: string; args: Array<string> }>()
  readonly toolCalls: Array<ChatResult.ToolCall> = []
  finishReason: ChatResult.FinishReason | undefined = undefined
  usage: UsageModule.Usage | undefined = undefined
  cost: UsageModule.Cost | undefined = undefined
  requestId: string | undefined = undefined
  fallbacks: ReadonlyArray<ChatResult.FallbackAttempt> | undefined = undefined
  providerMetadata: ChatResult.ProviderMetadata | undefined = undefined
  /** Set by a `Finish` with `fromCache: true` (a replay of the `ResponseCache`). */
  fromCache = false
  events = 0

  /** Add one event. */
  push(event: StreamEvent): void {
    this.events++
    switch (event._tag) {
      case "Start":
        this.id = event.id
        this.model = event.model
        this.provider = event.provider
        break
      case "TextDelta":
        this.textParts.push(event.text)
        break
      case "ReasoningDelta":
        this.reasoningParts.push(event.text)
        if (event.providerMetadata !== undefined) {
          this.reasoningMetadata = { ...this.reasoningMetadata, ...event.providerMetadata }
        }
        break
      case "ToolCallStart":
        this.pending.set(event.id, { name: event.name, args: [] })
        break
      case "ToolCallDelta":
        this.pending.get(event.id)?.args.push(event.argumentsDelta)
        break
      case "ToolCallEnd":
        this.pending.delete(event.id)
        this.toolCalls.push({
          id: event.id,
          name: event.name,
          arguments: event.arguments,
          rawArguments: event.rawArguments
        })
        break
      case "Usage":
        this.usage = event.usage
        break
      case "Finish":
        this.finishReason = event.finishReason
        if (event.usage !== undefined) this.usage = event.usage
        if (event.cost !== undefined) this.cost = event.cost
        if (event.requestId !== undefined) this.requestId = event.requestId
        if (event.fallbacks !== undefined) this.fallbacks = event.fallbacks
        if (event.providerMetadata !== undefined) this.providerMetadata = event.providerMetadata
        if (event.fromCache === true) this.fromCache = true
        break
    }
  }

  /** The text so far. */
  get text(): string {
    if (this.textParts.length > 1) this.textParts = [this.textParts.join("")]
    return this.textParts[0] ?? ""
  }

  /** The reasoning text so far (undefined when there was none). */
  get reasoning(): string | undefined {
    if (this.reasoningParts.length === 0) return undefined
    if (this.reasoningParts.length > 1) this.reasoningParts = [this.reasoningParts.join("")]
    return this.reasoningParts[0]
  }

  /** What was produced so far, for errors that end a stream early. */
  partial(): {
    readonly text: string
    readonly reasoning?: string
    readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: string }>
    readonly events: number
  } {
    const toolCalls = this.toolCalls.map((c) => ({ id: c.id, name: c.name, arguments: c.rawArguments }))
    for (const [id, call] of this.pending) toolCalls.push({ id, name: call.name, arguments: call.args.join("") })
    const reasoning = this.reasoning
    return { text: this.text, ...(reasoning !== undefined ? { reasoning } : {}), toolCalls, events: this.events }
  }

  /** The result, given the call's timing. */
  result(timing: ChatResult.Timing): ChatResult.ChatResult {
    const reasoning = this.reasoning
    const reasoningParts: Array<Message.ReasoningPart> | undefined = reasoning === undefined ? undefined : [{
      type: "reasoning",
      text: reasoning,
      ...(typeof this.reasoningMetadata?.signature === "string" ? { signature: this.reasoningMetadata.signature } : {})
    }]
    const text = this.text
    // a call the provider never closed is still a call the model made: keep it, never drop it
    let toolCalls: ReadonlyArray<ChatResult.ToolCall> = this.toolCalls
    if (this.pending.size > 0) {
      const open: Array<ChatResult.ToolCall> = []
      for (const [id, call] of this.pending) {
        const raw = call.args.join("")
        open.push({ id, name: call.name, arguments: ChatResult.parseArguments(raw), rawArguments: raw })
      }
      toolCalls = [...this.toolCalls, ...open]
    }
    return new ChatResult.ChatResult({
      id: this.id,
      model: this.model,
      provider: this.provider,
      text,
      ...(reasoning !== undefined ? { reasoning } : {}),
      message: ChatResult.assistantMessage(text, toolCalls, reasoningParts),
      toolCalls,
      finishReason: this.finishReason ?? "other",
      usage: this.usage ?? UsageModule.empty,
      ...(this.cost !== undefined ? { cost: this.cost } : {}),
      timing,
      ...(this.requestId !== undefined ? { requestId: this.requestId } : {}),
      ...(this.fallbacks !== undefined ? { fallbacks: this.fallbacks } : {}),
      ...(this.providerMetadata !== undefined ? { providerMetadata: this.providerMetadata } : {}),
      ...(this.fromCache ? { fromCache: true } : {})
    }, true)
  }
}

/**
 * Fold a stream of events into the `ChatResult` that `chat` would have returned.
 * `timing.latencyMs` is measured from the start of consumption, `ttfbMs` until the first
 * content event.
 *
 * @since 0.1.0
 * @category accumulating
 */
export const accumulate = <E, R>(
  stream: Stream.Stream<StreamEvent, E, R>
): Effect.Effect<ChatResult.ChatResult, E, R> =>
  Effect.flatMap(Clock.currentTimeMillis, (start) => {
    const acc = new Accumulator()
    let ttfb: number | undefined
    return Stream.runForEachChunk(stream, (chunk) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        for (const event of chunk) {
          if (ttfb === undefined && isContent(event)) ttfb = now - start
          acc.push(event)
        }
        return Effect.void
      })).pipe(
        Effect.zipRight(Clock.currentTimeMillis),
        Effect.map((end) => acc.result({ latencyMs: end - start, ...(ttfb !== undefined ? { ttfbMs: ttfb } : {}) }))
      )
  })

/**
 * Fold events already collected into a result (timing zero).
 *
 * @since 0.1.0
 * @category accumulating
 */
export const accumulateAll = (events: Iterable<StreamEvent>): ChatResult.ChatResult => {
  const acc = new Accumulator()
  for (const event of events) acc.push(event)
  return acc.result({ latencyMs: 0 })
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const start = (id: string, model: string, provider: string): Start => ({ _tag: "Start", id, model, provider })

/**
 * @since 0.1.0
 * @category constructors
 */
export const textDelta = (text: string): TextDelta => ({ _tag: "TextDelta", text })

/**
 * @since 0.1.0
 * @category constructors
 */
export const reasoningDelta = (text: string, providerMetadata?: ChatResult.ProviderMetadata): ReasoningDelta =>
  providerMetadata === undefined
    ? { _tag: "ReasoningDelta", text }
    : { _tag: "ReasoningDelta", text, providerMetadata }

/**
 * @since 0.1.0
 * @category constructors
 */
export const toolCallStart = (id: string, name: string): ToolCallStart => ({ _tag: "ToolCallStart", id, name })

/**
 * @since 0.1.0
 * @category constructors
 */
export const toolCallDelta = (id: string, argumentsDelta: string): ToolCallDelta => ({
  _tag: "ToolCallDelta",
  id,
  argumentsDelta
})

/**
 * A `ToolCallEnd`, parsing `rawArguments`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toolCallEnd = (id: string, name: string, rawArguments: string): ToolCallEnd => ({
  _tag: "ToolCallEnd",
  id,
  name,
  arguments: ChatResult.parseArguments(rawArguments),
  rawArguments
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const usage = (value: UsageModule.Usage): Usage => ({ _tag: "Usage", usage: value })

/**
 * @since 0.1.0
 * @category constructors
 */
export const finish = (
  finishReason: ChatResult.FinishReason,
  fields?: Omit<Finish, "_tag" | "finishReason">
): Finish => ({ _tag: "Finish", finishReason, ...fields })

/**
 * The events that replay a finished result (used by caches and fakes).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromResult = (result: ChatResult.ChatResult): Array<StreamEvent> => {
  const events: Array<StreamEvent> = [start(result.id, result.model, result.provider)]
  if (result.reasoning !== undefined) {
    const signature = result.message.content.find((p) => p.type === "reasoning")?.signature
    events.push(reasoningDelta(result.reasoning, signature !== undefined ? { signature } : undefined))
  }
  if (result.text !== "") events.push(textDelta(result.text))
  for (const call of result.toolCalls) {
    events.push(toolCallStart(call.id, call.name))
    if (call.rawArguments !== "") events.push(toolCallDelta(call.id, call.rawArguments))
    events.push({
      _tag: "ToolCallEnd",
      id: call.id,
      name: call.name,
      arguments: call.arguments,
      rawArguments: call.rawArguments
    })
  }
  events.push(finish(result.finishReason, {
    usage: result.usage,
    ...(result.cost !== undefined ? { cost: result.cost } : {}),
    ...(result.requestId !== undefined ? { requestId: result.requestId } : {}),
    ...(result.fallbacks !== undefined ? { fallbacks: result.fallbacks } : {}),
    ...(result.providerMetadata !== undefined ? { providerMetadata: result.providerMetadata } : {}),
    ...(result.fromCache === true ? { fromCache: true } : {})
  }))
  return events
}
