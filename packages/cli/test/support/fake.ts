/**
 * In-process helpers for the CLI unit tests: a scripted provider registered as `openai`
 * (behaviour chosen by the model name), captured standard streams, and `runCli`.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { ChatResult, LlmClient, LlmError, Provider, ProviderRegistry, StreamEvent } from "@llm-fiber/core"
import { ConfigProvider, Effect, Layer, Option, Stream } from "effect"
import * as Cli from "../../src/Cli.js"
import * as Io from "../../src/internal/io.js"

export const usage = { inputTokens: 10, outputTokens: 4, totalTokens: 14 }

/** The reply to a request: `Echo: <last user text>`. */
export const replyTo = (call: Provider.Call): string => {
  const last = call.request.messages[call.request.messages.length - 1]
  const text = last === undefined ? "" : last.content.map((p) => (p.type === "text" ? p.text : "")).join("")
  return `Echo: ${text}`
}

/**
 * A provider named `openai` whose behaviour comes from the model name:
 * - `fail-429`: a RateLimitError (retry after 1500 ms)
 * - `fail-500-once`: a ServerError on the first attempt, then an answer
 * - `leak`: a ServerError whose message contains the API key (to test scrubbing)
 * - `log`: logs at every level before answering (to test that logs stay off stdout)
 * - `midstream`: the stream fails after one text delta
 * - anything else: `Echo: <prompt>`, streamed as three deltas
 */
export const makeFake = (secret = "sk-test-SECRET123") => {
  const calls: Array<Provider.Call> = []
  const fail = (call: Provider.Call): LlmError.LlmError | undefined => {
    if (call.model === "fail-429") {
      return new LlmError.RateLimitError({
        message: "openai HTTP 429: Rate limit reached",
        status: 429,
        retryAfterMs: 1500
      })
    }
    if (call.model === "fail-500-once" && call.attempt === 1) {
      return new LlmError.ServerError({ message: "openai HTTP 500: boom", status: 500 })
    }
    if (call.model === "leak") {
      return new LlmError.ServerError({
        message: `openai HTTP 500: bad header Authorization: Bearer ${secret}`,
        status: 500,
        shouldRetry: false
      })
    }
    return undefined
  }
  const provider: Provider.Provider = {
    name: "openai",
    api: "openai-chat",
    capabilities: { ...Provider.noCapabilities, streaming: true },
    chat: (call) =>
      Effect.suspend(() => {
        calls.push(call)
        const error = fail(call)
        if (error !== undefined) return Effect.fail(error)
        const text = replyTo(call)
        const logs = call.model === "log"
          ? Effect.all([Effect.logDebug("debug"), Effect.logInfo("info"), Effect.logWarning("warn")])
          : Effect.void
        return Effect.as(
          logs,
          new ChatResult.ChatResult({
            id: "chatcmpl-1",
            model: call.model,
            provider: "openai",
            text,
            message: ChatResult.assistantMessage(text, []),
            toolCalls: [],
            finishReason: "stop",
            usage,
            timing: { latencyMs: 1, ttfbMs: 1 }
          })
        )
      }),
    chatStream: (call) =>
      Stream.suspend(() => {
        calls.push(call)
        const error = fail(call)
        if (error !== undefined) return Stream.fail(error)
        const text = replyTo(call)
        const third = Math.ceil(text.length / 3)
        const deltas = [text.slice(0, third), text.slice(third, 2 * third), text.slice(2 * third)]
        if (call.model === "midstream") {
          return Stream.concat(
            Stream.make(StreamEvent.start("s1", call.model, "openai"), StreamEvent.textDelta("partial")),
            Stream.fail(new LlmError.NetworkError({ message: "openai: connection reset", shouldRetry: false }))
          )
        }
        return Stream.make(
          StreamEvent.start("s1", call.model, "openai"),
          ...deltas.map(StreamEvent.textDelta),
          StreamEvent.finish("stop", { usage })
        )
      })
  }
  const layer = LlmClient.layer.pipe(
    Layer.provide(ProviderRegistry.register(Effect.succeed(provider))),
    Layer.provide(ProviderRegistry.layer)
  )
  return { calls, layer }
}

/** Captured standard streams; `lines` is what stdin holds. */
export const makeIo = (options: {
  readonly lines?: ReadonlyArray<string> | undefined
  readonly stdin?: string | undefined
  readonly interactive?: boolean | undefined
} = {}) => {
  const out: Array<string> = []
  const err: Array<string> = []
  const pending = [...(options.lines ?? [])]
  const io: Io.Service = {
    out: (text) => Effect.sync(() => void out.push(text)),
    err: (text) => Effect.sync(() => void err.push(text)),
    interactive: options.interactive ?? false,
    lines: () => Effect.succeed({ next: Effect.sync(() => Option.fromNullable(pending.shift())) }),
    readAll: Effect.succeed(options.stdin ?? "")
  }
  return { io, stdout: () => out.join(""), stderr: () => err.join(""), writes: out }
}

/** Run the CLI in process on a client layer, with the given environment and stdin. */
export const runCli = (
  args: ReadonlyArray<string>,
  options: {
    readonly layer: Layer.Layer<LlmClient.LlmClient, unknown>
    readonly env?: Readonly<Record<string, string>> | undefined
    readonly lines?: ReadonlyArray<string> | undefined
    readonly stdin?: string | undefined
    readonly interactive?: boolean | undefined
  }
) =>
  Effect.gen(function*() {
    const captured = makeIo(options)
    const code = yield* Cli.run(args, { layer: options.layer }).pipe(
      Effect.provideService(Io.Io, captured.io),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(options.env ?? {})))),
      Effect.provide(NodeContext.layer)
    )
    return { code, stdout: captured.stdout(), stderr: captured.stderr(), writes: captured.writes }
  })
