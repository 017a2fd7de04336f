/**
 * The Promise facade: llm-fiber for applications that do not use Effect.
 *
 * One `ManagedRuntime` per client runs the same pipeline as the Effect API. `chat`
 * returns a `Promise<ChatResult>`; `chatStream` an `AsyncIterable<StreamEvent>` —
 * breaking out of the `for await` loop (or aborting the `signal`) aborts the HTTP
 * request. Rejections are the typed error instances themselves (`RateLimitError`,
 * `TimeoutError`, …: check `error._tag`), never a wrapper.
 *
 * @example
 * ```ts
 * import { createLlmClient } from "@llm-fiber/core/promise"
 *
 * const llm = createLlmClient()
 * const result = await llm.chat({ model: "gpt-4o-mini", messages: "Say hi" })
 * for await (const event of llm.chatStream({ model: "gpt-4o-mini", messages: "Count to 3" })) {
 *   if (event._tag === "TextDelta") process.stdout.write(event.text)
 * }
 * await llm.dispose()
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import type * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as CallContext from "./CallContext.js"
import type * as ChatRequest from "./ChatRequest.js"
import type * as ChatResult from "./ChatResult.js"
import * as Source from "./internal/source.js"
import * as LlmClient from "./LlmClient.js"
import type * as LlmError from "./LlmError.js"
import type * as Provider from "./Provider.js"
import * as RetryPolicy from "./RetryPolicy.js"
import type * as StreamEvent from "./StreamEvent.js"
import * as Timeouts from "./Timeouts.js"

/**
 * A chat request (plain object; `messages` may be a string).
 *
 * @since 0.1.0
 * @category models
 */
export type ChatRequestInput = ChatRequest.Input

/**
 * The result of `chat`.
 *
 * @since 0.1.0
 * @category models
 */
export type ChatResultData = ChatResult.ChatResult

/**
 * An event of `chatStream`.
 *
 * @since 0.1.0
 * @category models
 */
export type StreamEventData = StreamEvent.StreamEvent

/**
 * Any error the client rejects with; switch on `_tag`.
 *
 * @since 0.1.0
 * @category models
 */
export type LlmErrorData = LlmError.LlmError

/**
 * Options of one call.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** Abort the call (and its HTTP request). */
  readonly signal?: AbortSignal | undefined
  /**
   * A context for this call: user id, correlation id, tags, metadata, metric labels,
   * request defaults (`CallContext`; as `LlmClient.withContext` in the Effect API).
   */
  readonly context?: CallContext.CallContext | undefined
}

/**
 * Options of `createLlmClient`.
 *
 * @since 0.1.0
 * @category models
 */
export interface LlmClientOptions {
  /**
   * Settings per provider (`openai`, `anthropic`, `gemini`): `{ apiKey, baseUrl }`, or
   * `false` to turn one off. Anything not given comes from environment variables.
   * `openai.compatible` lists OpenAI-compatible servers: `[{ name, baseUrl, apiKey? }]`.
   */
  readonly providers?: Readonly<Record<string, Readonly<Record<string, unknown>> | false>> | undefined
  /** Deadlines in milliseconds (see `Timeouts`). */
  readonly timeouts?: Partial<Provider.ResolvedTimeouts> | undefined
  /** Retries after the first attempt (default 2). */
  readonly maxRetries?: number | undefined
  /** Read configuration from this record instead of `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /**
   * The least severe log line printed (one structured line per call: `info` on success,
   * `warning` on failure). Default `"none"`: a library stays quiet unless asked.
   */
  readonly logLevel?: "debug" | "info" | "warning" | "error" | "none" | undefined
}

/**
 * The client.
 *
 * @since 0.1.0
 * @category models
 */
export interface PromiseLlmClient {
  /** Send a chat request; resolves with the whole answer. */
  readonly chat: (request: ChatRequestInput, options?: CallOptions) => Promise<ChatResultData>
  /** Stream a chat answer; `break` or `signal` aborts the request. */
  readonly chatStream: (request: ChatRequestInput, options?: CallOptions) => AsyncIterable<StreamEventData>
  /** Embed texts. */
  readonly embed: (request: LlmClient.EmbedRequest, options?: CallOptions) => Promise<Provider.EmbedResult>
  /** Names of the configured providers. */
  readonly providers: () => Promise<ReadonlyArray<string>>
  /** Close connections and release resources. */
  readonly dispose: () => Promise<void>
}

/** Reject with the typed error itself (not a FiberFailure wrapper). */
const unwrap = <A>(exit: Exit.Exit<A, unknown>, signal?: AbortSignal): A => {
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) throw failure.value
  if (Cause.isInterruptedOnly(exit.cause)) {
    throw signal?.reason ?? new DOMException("The operation was aborted", "AbortError")
  }
  throw Cause.squash(exit.cause)
}

/**
 * The iterator of `chatStream`: one fiber per stream pulls the call's source (no `Stream`
 * run, no fiber per read) and hands each chunk of events over; it pulls the next chunk only
 * when the loop asked for more than it holds (backpressure of one chunk). `return()` (a
 * `break`) stops it and closes the stream as finished; an abort interrupts it.
 */
class StreamIterator implements AsyncIterator<StreamEventData> {
  private buffer: Array<StreamEventData> = []
  private index = 0
  private ended = false
  private failure: { readonly error: unknown } | undefined = undefined
  private waiting:
    | { readonly resolve: (r: IteratorResult<StreamEventData>) => void; readonly reject: (e: unknown) => void }
    | undefined = undefined
  /** the fiber waits for the loop to ask for more; `true` resumes it, `false` stops it */
  private parked: ((go: boolean) => void) | undefined = undefined
  private demand = false
  private stopping = false
  private fiber: Fiber.RuntimeFiber<void, unknown> | undefined = undefined
  private finished: Promise<void> | undefined = undefined
  private readonly signal: AbortSignal | undefined

  constructor(
    private readonly runtime: ManagedRuntime.ManagedRuntime<LlmClient.LlmClient, ConfigError.ConfigError>,
    private readonly request: ChatRequestInput,
    private readonly options: CallOptions | undefined
  ) {
    this.signal = options?.signal
    this.signal?.addEventListener("abort", this.onAbort, { once: true })
  }

  private readonly onAbort = () => {
    this.fiber?.unsafeInterruptAsFork(FiberId.none)
  }

  private aborted(): unknown {
    return this.signal?.reason ?? new DOMException("The operation was aborted", "AbortError")
  }

  /** Deliver a chunk to the loop (the first event to a pending `next`). */
  private deliver(items: Array<StreamEventData>): void {
    this.buffer = items
    this.index = 0
    const waiting = this.waiting
    if (waiting !== undefined) {
      this.waiting = undefined
      waiting.resolve({ done: false, value: items[this.index++]! })
    }
  }

  private settle(): void {
    const waiting = this.waiting
    if (waiting === undefined) return
    this.waiting = undefined
    if (this.signal?.aborted) waiting.reject(this.aborted())
    else if (this.failure !== undefined) waiting.reject(this.failure.error)
    else waiting.resolve({ done: true, value: undefined })
  }

  /** Wait until the loop wants more (`true`) or stops (`false`). */
  private readonly park: Effect.Effect<boolean> = Effect.async<boolean>((resume) => {
    if (this.stopping) return resume(Effect.succeed(false))
    if (this.demand) {
      this.demand = false
      return resume(Effect.succeed(true))
    }
    this.parked = (go) => resume(Effect.succeed(go))
  })

  private start(): void {
    const call = Effect.flatMap(LlmClient.LlmClient, (client) =>
      Effect.acquireUseRelease(
        Source.openOf(client.chatStream(this.request)),
        (source) => {
          const loop: Effect.Effect<void, LlmError.LlmError> = Effect.flatMap(source.pull, (items) => {
            if (items === undefined) return Effect.void
            this.deliver(items as Array<StreamEventData>)
            return Effect.flatMap(this.park, (go) => (go ? loop : Effect.void))
          })
          return loop
        },
        (source, exit) => source.close(exit)
      ))
    const context = this.options?.context
    const fiber = this.runtime.runFork(context === undefined ? call : CallContext.bind(context)(call))
    this.fiber = fiber
    this.finished = new Promise((resolve) => {
      fiber.addObserver((exit) => {
        this.signal?.removeEventListener("abort", this.onAbort)
        this.ended = true
        if (Exit.isFailure(exit) && !this.stopping) {
          const failure = Cause.failureOption(exit.cause)
          this.failure = {
            error: Option.isSome(failure)
              ? failure.value
              : Cause.isInterruptedOnly(exit.cause)
              ? this.aborted()
              : Cause.squash(exit.cause)
          }
        }
        this.settle()
        resolve()
      })
    })
  }

  next(): Promise<IteratorResult<StreamEventData>> {
    // an abort wins over buffered events and over the end of the stream
    if (this.signal?.aborted) {
      this.onAbort()
      return Promise.reject(this.aborted())
    }
    if (this.index < this.buffer.length) return Promise.resolve({ done: false, value: this.buffer[this.index++]! })
    if (this.ended) {
      if (this.failure !== undefined) {
        const error = this.failure.error
        this.failure = undefined
        return Promise.reject(error)
      }
      return Promise.resolve({ done: true, value: undefined })
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject }
      if (this.fiber === undefined) return this.start()
      const parked = this.parked
      if (parked !== undefined) {
        this.parked = undefined
        parked(true)
      } else {
        this.demand = true
      }
    })
  }

  async return(): Promise<IteratorResult<StreamEventData>> {
    this.signal?.removeEventListener("abort", this.onAbort)
    if (this.fiber !== undefined && !this.ended) {
      // a break: the stream is closed as finished (the request is aborted)
      this.stopping = true
      const parked = this.parked
      if (parked !== undefined) {
        this.parked = undefined
        parked(false)
      } else {
        this.fiber.unsafeInterruptAsFork(FiberId.none)
      }
      await this.finished
    }
    this.ended = true
    return { done: true, value: undefined }
  }
}

/**
 * Build a client. Configuration comes from `options`, then environment variables.
 *
 * @since 0.1.0
 * @category constructors
 */
export const createLlmClient = (options?: LlmClientOptions): PromiseLlmClient => {
  let layer: Layer.Layer<LlmClient.LlmClient, ConfigError.ConfigError> = LlmClient.layerFromEnv({
    providers: options?.providers
  })
  if (options?.timeouts !== undefined) layer = Layer.provide(layer, Timeouts.layer(options.timeouts))
  if (options?.maxRetries !== undefined) {
    layer = Layer.provide(layer, RetryPolicy.layer({ maxRetries: options.maxRetries }))
  }
  if (options?.env !== undefined) {
    const env = new Map<string, string>()
    for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env.set(key, value)
    layer = Layer.provide(layer, Layer.setConfigProvider(ConfigProvider.fromMap(env)))
  }
  const level = options?.logLevel ?? "none"
  const quiet = Logger.minimumLogLevel(
    level === "debug"
      ? LogLevel.Debug
      : level === "info"
      ? LogLevel.Info
      : level === "warning"
      ? LogLevel.Warning
      : level === "error"
      ? LogLevel.Error
      : LogLevel.None
  )
  const runtime = ManagedRuntime.make(Layer.merge(layer, quiet))

  const run = <A>(effect: Effect.Effect<A, unknown, LlmClient.LlmClient>, signal?: AbortSignal): Promise<A> =>
    runtime.runPromiseExit(effect, signal !== undefined ? { signal } : undefined).then((exit) => unwrap(exit, signal))

  const chatStream = (request: ChatRequestInput, callOptions?: CallOptions): AsyncIterable<StreamEventData> => ({
    [Symbol.asyncIterator]: () => new StreamIterator(runtime, request, callOptions)
  })

  return {
    chat: (request, callOptions) =>
      run(
        Effect.flatMap(
          LlmClient.LlmClient,
          (client) =>
            callOptions?.context === undefined
              ? client.chat(request)
              : CallContext.bind(callOptions.context)(client.chat(request))
        ),
        callOptions?.signal
      ),
    chatStream,
    embed: (request, callOptions) =>
      run(Effect.flatMap(LlmClient.LlmClient, (client) => client.embed(request)), callOptions?.signal),
    providers: () => run(Effect.map(LlmClient.LlmClient, (client) => client.providers())),
    dispose: () => runtime.dispose()
  }
}
