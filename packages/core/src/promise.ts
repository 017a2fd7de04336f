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
import * as Chunk from "effect/Chunk"
import type * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as CallContext from "./CallContext.js"
import type * as ChatRequest from "./ChatRequest.js"
import type * as ChatResult from "./ChatResult.js"
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
    [Symbol.asyncIterator]: () => {
      const signal = callOptions?.signal
      let scope: Scope.CloseableScope | undefined
      let pull: Effect.Effect<Chunk.Chunk<StreamEventData>, Option.Option<unknown>> | undefined
      let buffer: Array<StreamEventData> = []
      let index = 0
      let finished = false

      const close = async () => {
        finished = true
        const s = scope
        scope = undefined
        if (s !== undefined) await runtime.runPromise(Scope.close(s, Exit.void))
      }
      const onAbort = () => void close()
      signal?.addEventListener("abort", onAbort, { once: true })

      const next = async (): Promise<IteratorResult<StreamEventData>> => {
        for (;;) {
          // an abort wins over buffered events and over the end of the stream
          if (signal?.aborted) {
            await close()
            throw signal.reason ?? new DOMException("The operation was aborted", "AbortError")
          }
          if (index < buffer.length) return { done: false, value: buffer[index++]! }
          if (finished) return { done: true, value: undefined }
          if (pull === undefined) {
            scope = await runtime.runPromise(Scope.make())
            const s = scope
            pull = await run(
              Effect.flatMap(
                LlmClient.LlmClient,
                (client) =>
                  Scope.extend(
                    Stream.toPull(
                      callOptions?.context === undefined
                        ? client.chatStream(request)
                        : CallContext.bindStream(callOptions.context)(client.chatStream(request))
                    ),
                    s
                  )
              ),
              signal
            )
          }
          const exit = await runtime.runPromiseExit(pull, signal !== undefined ? { signal } : undefined)
          if (Exit.isSuccess(exit)) {
            buffer = Chunk.toArray(exit.value) as Array<StreamEventData>
            index = 0
            continue
          }
          const failure = Cause.failureOption(exit.cause)
          const error = Option.isSome(failure) ? failure.value : undefined
          await close()
          signal?.removeEventListener("abort", onAbort)
          if (Option.isOption(error)) {
            if (Option.isNone(error)) return { done: true, value: undefined }
            throw error.value
          }
          return unwrap(exit as Exit.Exit<never, unknown>, signal)
        }
      }
      return {
        next,
        return: async () => {
          signal?.removeEventListener("abort", onAbort)
          await close()
          return { done: true, value: undefined }
        }
      }
    }
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
