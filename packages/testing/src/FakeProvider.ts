/**
 * A scripted provider for tests: swap it in with one `Layer` and the real `LlmClient`
 * pipeline (model resolution, retries, timeouts, fallback, cost, metrics) runs against
 * provider output you write down step by step — no HTTP, no API key.
 *
 * Each provider call (each attempt: a retry is a new call) takes the next step of the
 * script; when the script is empty, the `default` step is used, and without a default the
 * call dies with a `ScriptExhaustedError` defect (a bug in the test, not a provider
 * failure: it is never retried or mapped to an `LlmError`). A step answers both `chat`
 * and `chatStream`: a streamed call to a `text` step replays its result as events
 * (`StreamEvent.fromResult`), a non-streaming call to a `stream` step returns the
 * accumulated result (`StreamEvent.accumulateAll`).
 *
 * All waiting (`delay`, `interval`, stalls) goes through `Effect.sleep`, so `TestClock`
 * drives it: under `it.effect` the clock does not move by itself — fork the call and
 * `TestClock.adjust` past the delay, the retry backoff or the timeout.
 *
 * @example
 * ```ts
 * import { Effect, Fiber, TestClock } from "effect"
 * import { LlmClient, LlmError } from "@llm-fiber/core"
 * import { FakeProvider } from "@llm-fiber/testing"
 *
 * const Test = FakeProvider.layerClient({
 *   name: "openai",
 *   script: [
 *     FakeProvider.fail(new LlmError.RateLimitError({ message: "slow down", retryAfterMs: 1000 })),
 *     FakeProvider.text("Hello!")
 *   ]
 * })
 *
 * const program = Effect.gen(function*() {
 *   const fiber = yield* Effect.fork(LlmClient.chat({ model: "gpt-4o-mini", messages: "hi" }))
 *   yield* TestClock.adjust("1 second") // the retry waits Retry-After
 *   const result = yield* Fiber.join(fiber)
 *   const calls = yield* FakeProvider.calls
 *   return [result.text, calls.map((c) => c.attempt)] // ["Hello!", [1, 2]]
 * }).pipe(Effect.provide(Test))
 * ```
 *
 * @since 0.1.0
 */
import type * as ChatRequest from "@llm-fiber/core/ChatRequest"
import * as ChatResult from "@llm-fiber/core/ChatResult"
import * as LlmClient from "@llm-fiber/core/LlmClient"
import type * as LlmError from "@llm-fiber/core/LlmError"
import * as Provider from "@llm-fiber/core/Provider"
import * as ProviderRegistry from "@llm-fiber/core/ProviderRegistry"
import * as StreamEvent from "@llm-fiber/core/StreamEvent"
import * as Usage from "@llm-fiber/core/Usage"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { embedding, estimateTokens } from "./internal/vectors.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * A call as the fake saw it: the `Provider.Call` (normalized request, provider-side model
 * name, resolved timeouts, attempt number) plus which operation and the call's position.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedCall extends Provider.Call {
  readonly operation: "chat" | "stream"
  /** 1 for the first call to this fake, 2 for the next, … (across requests and retries). */
  readonly index: number
}

/**
 * A tool call to script: `arguments` is a JSON value or a JSON string.
 *
 * @since 0.1.0
 * @category models
 */
export interface ToolCallInput {
  readonly name: string
  readonly arguments?: unknown
  readonly id?: string | undefined
}

/**
 * Usage to report; missing counts are estimated (a quarter of the characters).
 *
 * @since 0.1.0
 * @category models
 */
export interface UsageInput {
  readonly inputTokens?: number | undefined
  readonly outputTokens?: number | undefined
  readonly totalTokens?: number | undefined
  readonly cachedInputTokens?: number | undefined
  readonly cacheWriteTokens?: number | undefined
  readonly reasoningTokens?: number | undefined
}

/**
 * Stream content as written in a script: an event, or a string for a `TextDelta`.
 *
 * @since 0.1.0
 * @category models
 */
export type EventInput = StreamEvent.StreamEvent | string

/**
 * Waiting of a step: `delay` before the answer (or the first event), `interval` between
 * two events of a stream (`Start` excepted).
 *
 * @since 0.1.0
 * @category models
 */
export interface Timing {
  readonly delay: Duration.Duration
  readonly interval: Duration.Duration
}

/**
 * A complete answer, given as a result (`text`, `toolCalls`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply extends Timing {
  readonly _tag: "Reply"
  readonly text: string
  readonly reasoning?: string | undefined
  readonly toolCalls: ReadonlyArray<ToolCallInput>
  readonly finishReason?: ChatResult.FinishReason | undefined
  readonly usage?: UsageInput | undefined
  /** The model the "provider" reports (default: the call's model). */
  readonly model?: string | undefined
  readonly id?: string | undefined
}

/**
 * A complete answer, given as stream events.
 *
 * @since 0.1.0
 * @category models
 */
export interface Events extends Timing {
  readonly _tag: "Events"
  readonly events: ReadonlyArray<StreamEvent.StreamEvent>
  /** Emit the events as given (no `Start` / `Finish` added). */
  readonly exact: boolean
}

/**
 * A failure, optionally after some events (streams only: `chat` just fails).
 *
 * @since 0.1.0
 * @category models
 */
export interface Failure extends Timing {
  readonly _tag: "Failure"
  readonly error: LlmError.LlmError
  readonly events: ReadonlyArray<StreamEvent.StreamEvent>
}

/**
 * No answer ever, optionally after some events (to test timeouts).
 *
 * @since 0.1.0
 * @category models
 */
export interface Stall extends Timing {
  readonly _tag: "Stall"
  readonly events: ReadonlyArray<StreamEvent.StreamEvent>
}

/**
 * One scripted provider answer.
 *
 * @since 0.1.0
 * @category models
 */
export type Step = Reply | Events | Failure | Stall

/**
 * A script entry: a step, or a function choosing the step from the call.
 *
 * @since 0.1.0
 * @category models
 */
export type ScriptItem = Step | ((call: RecordedCall) => Step)

/**
 * Options of `make`, `layer` and `layerClient`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The registry name to serve (default `openai`, so `gpt-…` models route to the fake). */
  readonly name?: string | undefined
  /** The wire-format name the provider reports (default `fake`). */
  readonly api?: string | undefined
  /** Steps, one per provider call, in order. */
  readonly script?: ReadonlyArray<ScriptItem> | undefined
  /** The step for every call after the script ran out (default: none — the call dies). */
  readonly default?: ScriptItem | undefined
  /** Capabilities to report (default: all on). */
  readonly capabilities?: Partial<Provider.Capabilities> | undefined
  /** Dimensions of the deterministic embeddings when the call asks for none (default 8). */
  readonly embeddingDimensions?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly name: string
  /** The provider registered in the `ProviderRegistry`. */
  readonly provider: Provider.Provider
  /** The chat and stream calls so far, in order. */
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
  /** The embedding calls so far, in order. */
  readonly embedCalls: Effect.Effect<ReadonlyArray<Provider.EmbedCall>>
  /** The script entries not used yet. */
  readonly remaining: Effect.Effect<ReadonlyArray<ScriptItem>>
  /** Append script entries. */
  readonly push: (...items: ReadonlyArray<ScriptItem>) => Effect.Effect<void>
  /** Forget the recorded calls and replace the script (empty by default). */
  readonly reset: (script?: ReadonlyArray<ScriptItem>) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class FakeProvider extends Context.Tag("@llm-fiber/testing/FakeProvider")<FakeProvider, Service>() {}

/**
 * The defect of a call that found the script empty and no `default` step.
 *
 * @since 0.1.0
 * @category errors
 */
export class ScriptExhaustedError extends Data.TaggedError("ScriptExhaustedError")<{
  readonly message: string
  readonly provider: string
  readonly call: RecordedCall
}> {}

// -----------------------------------------------------------------------------
// constructors of steps
// -----------------------------------------------------------------------------

/**
 * Timing options of every step.
 *
 * @since 0.1.0
 * @category models
 */
export interface TimingOptions {
  /** Wait before answering (a `Duration` or milliseconds). */
  readonly delay?: Duration.DurationInput | undefined
  /** Wait between two stream events. */
  readonly interval?: Duration.DurationInput | undefined
}

/**
 * Options of `text` and `toolCalls`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReplyOptions extends TimingOptions {
  readonly usage?: UsageInput | undefined
  /** Default `stop`, or `tool_calls` when there are tool calls. */
  readonly finishReason?: ChatResult.FinishReason | undefined
  readonly model?: string | undefined
  readonly id?: string | undefined
  readonly reasoning?: string | undefined
}

const timing = (options: TimingOptions | undefined): Timing => ({
  delay: options?.delay === undefined ? Duration.zero : Duration.decode(options.delay),
  interval: options?.interval === undefined ? Duration.zero : Duration.decode(options.interval)
})

const replyFields = (options: ReplyOptions | undefined) => ({
  ...timing(options),
  ...(options?.usage !== undefined ? { usage: options.usage } : {}),
  ...(options?.finishReason !== undefined ? { finishReason: options.finishReason } : {}),
  ...(options?.model !== undefined ? { model: options.model } : {}),
  ...(options?.id !== undefined ? { id: options.id } : {}),
  ...(options?.reasoning !== undefined ? { reasoning: options.reasoning } : {})
})

/** Split text into word deltas, each word keeping the whitespace after it. */
const words = (text: string): Array<string> => text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text])

const toEvents = (input: string | ReadonlyArray<EventInput>): Array<StreamEvent.StreamEvent> =>
  typeof input === "string"
    ? words(input).map(StreamEvent.textDelta)
    : input.map((e) => (typeof e === "string" ? StreamEvent.textDelta(e) : e))

/**
 * Answer with text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const text = (
  text: string,
  options?: ReplyOptions & {
    readonly toolCalls?: ReadonlyArray<ToolCallInput> | undefined
  }
): Reply => ({ _tag: "Reply", text, toolCalls: options?.toolCalls ?? [], ...replyFields(options) })

/**
 * Answer with tool calls (finish reason `tool_calls`), optionally with some text.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toolCalls = (
  calls: ReadonlyArray<ToolCallInput>,
  options?: ReplyOptions & { readonly text?: string | undefined }
): Reply => ({ _tag: "Reply", text: options?.text ?? "", toolCalls: calls, ...replyFields(options) })

/**
 * Answer with stream events. A string is split into word deltas; strings in the list are
 * `TextDelta`s. A `Start` is added when the events do not begin with one and a `Finish`
 * (with estimated usage) when they hold none — unless `exact` is set.
 *
 * @since 0.1.0
 * @category constructors
 */
export const stream = (
  events: string | ReadonlyArray<EventInput>,
  options?: TimingOptions & { readonly exact?: boolean | undefined }
): Events => ({ _tag: "Events", events: toEvents(events), exact: options?.exact ?? false, ...timing(options) })

/**
 * Fail the call with an error (after the `delay`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail = (error: LlmError.LlmError, options?: TimingOptions): Failure => ({
  _tag: "Failure",
  error,
  events: [],
  ...timing(options)
})

/**
 * A stream that emits some events, then fails (a non-streaming call just fails). When the
 * events hold content the pipeline no longer retries and the error carries the partial
 * output.
 *
 * @since 0.1.0
 * @category constructors
 */
export const failAfter = (
  events: string | ReadonlyArray<EventInput>,
  error: LlmError.LlmError,
  options?: TimingOptions
): Failure => ({ _tag: "Failure", error, events: toEvents(events), ...timing(options) })

/**
 * Never answer (test `timeout.totalMs`, `firstByteMs`; a timeout is retryable, so script
 * one stall per attempt or set `maxRetries: 0`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const stall = (options?: TimingOptions): Stall => ({ _tag: "Stall", events: [], ...timing(options) })

/**
 * A stream that emits some events, then goes silent forever (test `idleMs`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const stallAfter = (events: string | ReadonlyArray<EventInput>, options?: TimingOptions): Stall => ({
  _tag: "Stall",
  events: toEvents(events),
  ...timing(options)
})

/**
 * A step that waits `delay` before answering.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withDelay: {
  (delay: Duration.DurationInput): <S extends Step>(self: S) => S
  <S extends Step>(self: S, delay: Duration.DurationInput): S
} = dual(2, <S extends Step>(self: S, delay: Duration.DurationInput): S => ({ ...self, delay: Duration.decode(delay) }))

/**
 * A step whose stream waits `interval` between two events.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withInterval: {
  (interval: Duration.DurationInput): <S extends Step>(self: S) => S
  <S extends Step>(self: S, interval: Duration.DurationInput): S
} = dual(
  2,
  <S extends Step>(self: S, interval: Duration.DurationInput): S => ({ ...self, interval: Duration.decode(interval) })
)

/**
 * A script entry answering `Echo: <last user text>` (handy as a `default`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const echo: ScriptItem = (call) => {
  const last = [...call.request.messages].reverse().find((m) => m.role === "user")
  const said = last === undefined ? "" : last.content.map((p) => (p.type === "text" ? p.text : "")).join("")
  return text(`Echo: ${said}`)
}

// -----------------------------------------------------------------------------
// the provider
// -----------------------------------------------------------------------------

const valueChars = (u: unknown): number =>
  typeof u === "string" ? u.length : u === undefined ? 0 : (JSON.stringify(u) ?? "").length

const inputChars = (request: ChatRequest.ChatRequest): number => {
  let chars = 0
  for (const message of request.messages) {
    for (const part of message.content) {
      switch (part.type) {
        case "text":
        case "reasoning":
          chars += part.text.length
          break
        case "tool-call":
          chars += valueChars(part.arguments)
          break
        case "tool-result":
          chars += valueChars(part.result)
          break
        case "image":
          break
      }
    }
  }
  return chars
}

const usageOf = (request: ChatRequest.ChatRequest, outputChars: number, given?: UsageInput): Usage.Usage =>
  Usage.make({
    inputTokens: given?.inputTokens ?? estimateTokens(inputChars(request)),
    outputTokens: given?.outputTokens ?? estimateTokens(outputChars),
    totalTokens: given?.totalTokens,
    cachedInputTokens: given?.cachedInputTokens,
    cacheWriteTokens: given?.cacheWriteTokens,
    reasoningTokens: given?.reasoningTokens
  })

const rawArguments = (args: unknown): string => (typeof args === "string" ? args : JSON.stringify(args ?? {}))

/** The result of a `Reply` step for a call. */
const replyResult = (step: Reply, call: RecordedCall, provider: string, time: ChatResult.Timing) => {
  const calls: Array<ChatResult.ToolCall> = step.toolCalls.map((c, i) => {
    const raw = rawArguments(c.arguments)
    return {
      id: c.id ?? `call_fake_${call.index}_${i}`,
      name: c.name,
      arguments: ChatResult.parseArguments(raw),
      rawArguments: raw
    }
  })
  let outChars = step.text.length + (step.reasoning?.length ?? 0)
  for (const c of calls) outChars += c.rawArguments.length
  return new ChatResult.ChatResult({
    id: step.id ?? `fake-${call.index}`,
    model: step.model ?? call.model,
    provider,
    text: step.text,
    ...(step.reasoning !== undefined ? { reasoning: step.reasoning } : {}),
    message: ChatResult.assistantMessage(
      step.text,
      calls,
      step.reasoning !== undefined ? [{ type: "reasoning", text: step.reasoning }] : undefined
    ),
    toolCalls: calls,
    finishReason: step.finishReason ?? (calls.length > 0 ? "tool_calls" : "stop"),
    usage: usageOf(call.request, outChars, step.usage),
    timing: time
  }, true)
}

/** The events a step streams for a call. */
const stepEvents = (step: Step, call: RecordedCall, provider: string): ReadonlyArray<StreamEvent.StreamEvent> => {
  if (step._tag === "Reply") return StreamEvent.fromResult(replyResult(step, call, provider, { latencyMs: 0 }))
  if (step._tag === "Events" && step.exact) return step.events
  if (step.events.length === 0) return step.events
  const out = step.events[0]!._tag === "Start"
    ? [...step.events]
    : [StreamEvent.start(`fake-${call.index}`, call.model, provider), ...step.events]
  if (step._tag === "Events" && !out.some((e) => e._tag === "Finish")) {
    let outChars = 0
    let tools = false
    for (const e of out) {
      if (e._tag === "TextDelta" || e._tag === "ReasoningDelta") outChars += e.text.length
      else if (e._tag === "ToolCallDelta") outChars += e.argumentsDelta.length
      else if (e._tag === "ToolCallEnd") tools = true
    }
    out.push(StreamEvent.finish(tools ? "tool_calls" : "stop", { usage: usageOf(call.request, outChars) }))
  }
  return out
}

/** Events one by one, with `interval` between two of them (not after `Start`). */
const paced = (
  events: ReadonlyArray<StreamEvent.StreamEvent>,
  interval: Duration.Duration
): Stream.Stream<StreamEvent.StreamEvent> => {
  if (Duration.toMillis(interval) <= 0) return Stream.fromIterable(events)
  let previous: StreamEvent.StreamEvent | undefined
  return Stream.mapEffect(Stream.fromIterable(events), (event) => {
    const wait = previous !== undefined && previous._tag !== "Start" && event._tag !== "Start"
    previous = event
    return wait ? Effect.as(Effect.sleep(interval), event) : Effect.succeed(event)
  })
}

const pauses = (events: ReadonlyArray<StreamEvent.StreamEvent>): number => {
  const n = events.filter((e) => e._tag !== "Start").length
  return Math.max(0, n - 1)
}

/**
 * A fake provider and what it records (register `provider` yourself, or use `layer`).
 * Use it directly for a second fake in the same app (e.g. the fallback of a chain):
 * `ProviderRegistry.register(Effect.map(FakeProvider.make({ name: "anthropic", … }), (f) => f.provider))`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.sync(() => {
    const name = options.name ?? "openai"
    let script: Array<ScriptItem> = [...(options.script ?? [])]
    let calls: Array<RecordedCall> = []
    let embedCalls: Array<Provider.EmbedCall> = []
    let count = 0

    const next = (call: Provider.Call, operation: "chat" | "stream"): [RecordedCall, Step | ScriptExhaustedError] => {
      const recorded: RecordedCall = { ...call, operation, index: ++count }
      calls.push(recorded)
      const item = script.length > 0 ? script.shift() : options.default
      if (item === undefined) {
        return [
          recorded,
          new ScriptExhaustedError({
            message:
              `FakeProvider "${name}": the script is exhausted at call ${recorded.index} (${operation}, model ${call.model}, attempt ${call.attempt}); add steps or a default`,
            provider: name,
            call: recorded
          })
        ]
      }
      return [recorded, typeof item === "function" ? item(recorded) : item]
    }

    const chat = (call: Provider.Call): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
      Effect.suspend(() => {
        const [recorded, step] = next(call, "chat")
        if (step instanceof ScriptExhaustedError) return Effect.die(step)
        return Effect.flatMap(Clock.currentTimeMillis, (start) => {
          const delay = Effect.sleep(step.delay)
          switch (step._tag) {
            case "Reply":
              return Effect.flatMap(delay, () =>
                Effect.map(
                  Clock.currentTimeMillis,
                  (end) => replyResult(step, recorded, name, { latencyMs: end - start, ttfbMs: end - start })
                ))
            case "Events": {
              const events = stepEvents(step, recorded, name)
              const wait = Duration.sum(step.delay, Duration.times(step.interval, pauses(events)))
              return Effect.flatMap(Effect.sleep(wait), () =>
                Effect.map(Clock.currentTimeMillis, (end) => {
                  const result = StreamEvent.accumulateAll(events)
                  const time = { latencyMs: end - start, ttfbMs: Duration.toMillis(step.delay) }
                  return new ChatResult.ChatResult({ ...result, timing: time }, true)
                }))
            }
            case "Failure":
              return Effect.zipRight(delay, Effect.fail(step.error))
            case "Stall":
              return Effect.zipRight(delay, Effect.never)
          }
        })
      })

    const chatStream = (call: Provider.Call): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
      Stream.suspend(() => {
        const [recorded, step] = next(call, "stream")
        if (step instanceof ScriptExhaustedError) return Stream.die(step)
        const events: Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> = paced(
          stepEvents(step, recorded, name),
          step.interval
        )
        const body = step._tag === "Failure"
          ? Stream.concat(events, Stream.fail(step.error))
          : step._tag === "Stall"
          ? Stream.concat(events, Stream.never)
          : events
        return Duration.toMillis(step.delay) > 0 ? Stream.unwrap(Effect.as(Effect.sleep(step.delay), body)) : body
      })

    const embed = (call: Provider.EmbedCall): Effect.Effect<Provider.EmbedResult, LlmError.LlmError> =>
      Effect.sync(() => {
        embedCalls.push(call)
        const dimensions = call.dimensions ?? options.embeddingDimensions ?? 8
        let chars = 0
        for (const input of call.input) chars += input.length
        return {
          model: call.model,
          provider: name,
          embeddings: call.input.map((input) => embedding(input, dimensions)),
          usage: Usage.make({ inputTokens: estimateTokens(chars), outputTokens: 0 })
        }
      })

    const provider: Provider.Provider = {
      name,
      api: options.api ?? "fake",
      capabilities: { ...Provider.allCapabilities, ...options.capabilities },
      chat,
      chatStream,
      embed
    }

    return {
      name,
      provider,
      calls: Effect.sync(() => [...calls]),
      embedCalls: Effect.sync(() => [...embedCalls]),
      remaining: Effect.sync(() => [...script]),
      push: (...items) => Effect.sync(() => void script.push(...items)),
      reset: (items = []) =>
        Effect.sync(() => {
          script = [...items]
          calls = []
          embedCalls = []
          count = 0
        })
    }
  })

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * A fake registered in the `ProviderRegistry` under `name` (default `openai`; replacing a
 * real provider of that name) for the lifetime of the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<FakeProvider, never, ProviderRegistry.ProviderRegistry> =>
  Layer.scoped(
    FakeProvider,
    Effect.gen(function*() {
      const registry = yield* ProviderRegistry.ProviderRegistry
      const fake = yield* make(options)
      yield* registry.register(fake.provider)
      yield* Effect.addFinalizer(() =>
        registry.get(fake.name) === fake.provider ? registry.unregister(fake.name) : Effect.void
      )
      return fake
    })
  )

/**
 * The whole client in one layer: `LlmClient` with its own `ProviderRegistry` holding the
 * fake (concern services such as `RetryPolicy` or `Timeouts` are read from the context the
 * layer is built in, with their defaults otherwise).
 *
 * **When to use**: `Effect.provide(program, FakeProvider.layerClient({ script }))` runs an
 * app's `Effect<A, E, LlmClient>` against the script.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options?: Options
): Layer.Layer<LlmClient.LlmClient | FakeProvider | ProviderRegistry.ProviderRegistry> =>
  LlmClient.layer.pipe(Layer.provideMerge(layer(options)), Layer.provideMerge(ProviderRegistry.layer))

// -----------------------------------------------------------------------------
// accessors
// -----------------------------------------------------------------------------

/**
 * The calls the fake in context received.
 *
 * @since 0.1.0
 * @category accessors
 */
export const calls: Effect.Effect<ReadonlyArray<RecordedCall>, never, FakeProvider> = Effect.flatMap(
  FakeProvider,
  (fake) => fake.calls
)

/**
 * The embedding calls the fake in context received.
 *
 * @since 0.1.0
 * @category accessors
 */
export const embedCalls: Effect.Effect<ReadonlyArray<Provider.EmbedCall>, never, FakeProvider> = Effect.flatMap(
  FakeProvider,
  (fake) => fake.embedCalls
)

/**
 * The script entries of the fake in context not used yet.
 *
 * @since 0.1.0
 * @category accessors
 */
export const remaining: Effect.Effect<ReadonlyArray<ScriptItem>, never, FakeProvider> = Effect.flatMap(
  FakeProvider,
  (fake) => fake.remaining
)

/**
 * Append entries to the script of the fake in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const push = (...items: ReadonlyArray<ScriptItem>): Effect.Effect<void, never, FakeProvider> =>
  Effect.flatMap(FakeProvider, (fake) => fake.push(...items))
