/**
 * The `llm-fiber` command line: `ask`, `stream`, `chat`, `models` and `costs`, built with
 * `@effect/cli` on one `LlmClient` (from `LlmClient.layerFromEnv()` unless you pass another
 * layer), built once per run.
 *
 * Cost, cache and tools (common to `ask`, `stream` and `chat`): `--cache
 * off|memory|file:DIR|redis://HOST:PORT` (a `ResponseCache` provided to the client),
 * `--max-cost-usd X` (the request's `costCeilingUsd`: rejected before sending),
 * `--usage-log FILE` (a `Budget` writing `UsageLog` lines; `costs FILE` totals them),
 * `--mcp "COMMAND ARGS"`… with `--max-steps N` (MCP servers' tools through `ToolLoop`) and
 * `--schema FILE.json` (structured output validated against a JSON Schema file). Redis,
 * MCP and ajv are imported only when their flag is used.
 *
 * Output contract (scripts rely on it): answers and JSON go to stdout; on failure the exit
 * code is non-zero and stderr holds one line that begins with the error's tag
 * (`RateLimitError: openai HTTP 429: … (retry after 2000 ms)`) — plus the full error and
 * cause with `--verbose`. No API key is ever printed.
 *
 * OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set (and optionally `OTEL_SERVICE_NAME`,
 * default `llm-fiber`, `OTEL_EXPORTER_OTLP_HEADERS`), every command exports its spans and
 * `llm_*` metrics over OTLP/HTTP (JSON, `{endpoint}/v1/traces` and `/v1/metrics`) through
 * `@llm-fiber/otel`, flushed before the process exits — on failure too.
 *
 * @example
 * ```ts
 * import { NodeContext, NodeRuntime } from "@effect/platform-node"
 * import { Cli } from "@llm-fiber/cli"
 * import { Effect } from "effect"
 *
 * Cli.run(["ask", "Say hi", "--model", "ollama:llama3.2"]).pipe(
 *   Effect.flatMap((code) => Effect.sync(() => (process.exitCode = code))),
 *   Effect.provide(NodeContext.layer),
 *   NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import {
  type ChatRequest,
  type ChatResult,
  LlmClient,
  type LlmError,
  type Message,
  StreamEvent,
  type StructuredOutput,
  type Toolkit,
  ToolLoop,
  type Usage,
  UsageLog
} from "@llm-fiber/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Concerns from "./internal/concerns.js"
import * as Costs from "./internal/costs.js"
import * as Io from "./internal/io.js"
import * as Models from "./internal/models.js"
import * as CallOptions from "./internal/options.js"
import * as Report from "./internal/report.js"
import type * as OutputSchema from "./internal/schema.js"
import * as Telemetry from "./internal/telemetry.js"
import * as Tools from "./internal/tools.js"

/**
 * The version printed by `llm-fiber --version`.
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * Exit codes: `0` success, `1` the call (or anything at run time) failed, `2` the command
 * line is wrong, `130` interrupted (Ctrl-C).
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  success: 0,
  failure: 1,
  usage: 2,
  interrupted: 130
} as const

/**
 * Options of `makeCommand` and `run`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** The client (default: `LlmClient.layerFromEnv()`). Built once, when a command needs it. */
  readonly layer?: Layer.Layer<LlmClient.LlmClient, unknown> | undefined
}

/** A failure that has already been printed; carries the exit code. */
class Reported extends Data.TaggedError("Reported")<{ readonly exitCode: number }> {}

// -----------------------------------------------------------------------------
// printing
// -----------------------------------------------------------------------------

/** Print the one-line summary of a failure (and with `verbose` its details) to stderr. */
const report = (cause: Cause.Cause<unknown>, verbose: boolean): Effect.Effect<void> =>
  Effect.gen(function*() {
    const io = yield* Io.Io
    const secrets = yield* Report.secrets
    const details = verbose ? Report.causeDetails(cause) + "\n" : ""
    yield* io.err(Report.scrub(`${Report.causeLine(cause)}\n${details}`, secrets))
  })

/**
 * Logs go to stderr, and only with `--verbose` (or the built-in `--log-level`): stdout
 * carries nothing but answers. `run` turns them off and installs the stderr logger.
 */
const withLogging = (verbose: boolean) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  verbose ? Logger.withMinimumLogLevel(self, LogLevel.Debug) : self

const stderrLogger = (secrets: ReadonlyArray<string>) =>
  Logger.map(Logger.logfmtLogger, (line) => {
    process.stderr.write(Report.scrub(line, secrets) + "\n")
  })

const money = (usd: number): string => (usd >= 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toPrecision(3)}`)

/** The `--verbose` line after an answer. */
const summary = (result: ChatResult.ChatResult): string => {
  const u = result.usage
  const cost = result.cost !== undefined ? ` · ${money(result.cost.totalUsd)}` : " · unpriced model (no cost)"
  const ttfb = result.timing.ttfbMs !== undefined ? ` (first token ${result.timing.ttfbMs} ms)` : ""
  const cached = result.fromCache === true ? " · from the response cache (nothing spent)" : ""
  return `llm-fiber: ${result.provider}:${result.model} · ${u.inputTokens} in + ${u.outputTokens} out tokens${cost}` +
    ` · ${result.timing.latencyMs} ms${ttfb} · finish ${result.finishReason}${cached}\n`
}

/** The `--verbose` line after structured output. */
const objectSummary = (attempts: number, mode: string): string =>
  `llm-fiber: structured output · ${mode} mode · ${attempts} attempt${attempts === 1 ? "" : "s"}\n`

// -----------------------------------------------------------------------------
// running a command
// -----------------------------------------------------------------------------

/**
 * Run a command's program, then print its failure (if any) as the one line and end with
 * `Reported`, which `run` turns into the exit code.
 */
const reportFailures = <E, R>(verbose: boolean, program: Effect.Effect<void, E, R>): Effect.Effect<void, Reported, R> =>
  program.pipe(
    withLogging(verbose),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause as Cause.Cause<never>)
        : Effect.zipRight(report(cause, verbose), Effect.fail(new Reported({ exitCode: ExitCode.failure })))
    )
  )

/** `reportFailures` of a program that needs the client, on the given client layer. */
const execute = <E, R, RL>(
  layer: Layer.Layer<LlmClient.LlmClient, unknown, RL>,
  verbose: boolean,
  program: Effect.Effect<void, E, R>
): Effect.Effect<void, Reported, Exclude<R, LlmClient.LlmClient> | RL> =>
  reportFailures(verbose, Effect.provide(program, layer))

/**
 * The client of a model command: the run's layer with the concerns its flags ask for
 * (`--cache`, `--usage-log`), built once for the command.
 */
const clientLayer = (
  layer: Layer.Layer<LlmClient.LlmClient, unknown>,
  options: CallOptions.CallOptions
): Layer.Layer<LlmClient.LlmClient, unknown, FileSystem.FileSystem> =>
  Layer.provide(layer, Concerns.layer({ cache: options.cache, usageLog: options.usageLog }))

/** Flags that do not go together: a usage error (exit 2) before anything runs. */
const conflicts = (options: CallOptions.CallOptions): Effect.Effect<void, ValidationError.ValidationError> =>
  Option.isSome(options.schema) && options.mcp.length > 0
    ? Effect.fail(ValidationError.invalidValue(HelpDoc.p("--schema and --mcp cannot be used together")))
    : Effect.void

/** In `--verbose`, say which provider a model resolves to before calling it. */
const announce = (options: CallOptions.CallOptions) =>
  options.verbose
    ? Effect.gen(function*() {
      const client = yield* LlmClient.LlmClient
      const io = yield* Io.Io
      const resolved = client.resolve(options.model)
      if (Either.isRight(resolved)) {
        yield* io.err(
          `llm-fiber: ${options.model} → provider ${resolved.right.provider}, model ${resolved.right.model}\n`
        )
      }
    })
    : Effect.void

/** `-` as the prompt: read it from stdin. */
const promptText = (prompt: string) =>
  prompt === "-"
    ? Effect.map(Effect.flatMap(Io.Io, (io) => io.readAll), (text) => text.trimEnd())
    : Effect.succeed(prompt)

/**
 * Stream one answer to stdout (text deltas, or one JSON event per line) and fold it into
 * a result. When a text stream fails midway, the line is ended before the error is shown.
 */
const streamAnswer = (
  request: Parameters<LlmClient.Service["chatStream"]>[0],
  jsonl: boolean
) =>
  Effect.gen(function*() {
    const client = yield* LlmClient.LlmClient
    const io = yield* Io.Io
    const start = yield* Clock.currentTimeMillis
    const acc = new StreamEvent.Accumulator()
    let ttfb: number | undefined
    let textOpen = false
    const printed = yield* Effect.exit(
      Stream.runForEachChunk(client.chatStream(request), (chunk) => {
        const parts: Array<string> = []
        for (const event of chunk) {
          acc.push(event)
          if (jsonl) parts.push(JSON.stringify(event), "\n")
          else if (event._tag === "TextDelta" && event.text !== "") parts.push(event.text)
        }
        if (parts.length === 0) return Effect.void
        if (!jsonl) textOpen = true
        return ttfb === undefined
          ? Effect.zipRight(
            Effect.map(Clock.currentTimeMillis, (now) => {
              ttfb = now - start
            }),
            io.out(parts.join(""))
          )
          : io.out(parts.join(""))
      }).pipe(Effect.onInterrupt(() => (textOpen ? io.out("\n") : Effect.void)))
    )
    if (!jsonl && (textOpen || printed._tag === "Success")) yield* io.out("\n")
    if (printed._tag === "Failure") return yield* Effect.failCause(printed.cause)
    const end = yield* Clock.currentTimeMillis
    return acc.result({ latencyMs: end - start, ...(ttfb !== undefined ? { ttfbMs: ttfb } : {}) })
  })

/** The options of structured output: a request and a `--schema` file. */
const objectOptions = (request: ChatRequest.Input, schema: OutputSchema.OutputSchema) => ({
  ...request,
  schema: schema.schema,
  name: schema.name,
  description: schema.description
})

/** A loop's event as printed by `--jsonl` (a tool result without its error object: its text is the result). */
const loopEventJson = (event: ToolLoop.Event): unknown => {
  if (event._tag !== "ToolResult") return event
  const { error: _error, ...rest } = event
  return rest
}

/**
 * Stream a tool loop (`--mcp`) to stdout: the text of its steps (a line break between
 * steps), or with `jsonl` every event of the loop as one JSON object per line; with
 * `--verbose` each tool call and result on stderr. Folded into a transcript.
 */
const streamLoop = (
  request: ChatRequest.Input,
  toolkit: Toolkit.Toolkit,
  options: CallOptions.CallOptions,
  jsonl: boolean
) =>
  Effect.gen(function*() {
    const client = yield* LlmClient.LlmClient
    const io = yield* Io.Io
    const start = yield* Clock.currentTimeMillis
    const transcript = new Tools.Transcript()
    let textOpen = false
    let lineOpen = false
    const loop = ToolLoop.stream(client, Tools.loopOptions(request, toolkit, options.maxSteps))
    const printed = yield* Effect.exit(
      Stream.runForEachChunk(loop, (chunk) => {
        const out: Array<string> = []
        const err: Array<string> = []
        for (const event of chunk) {
          transcript.push(event)
          if (jsonl) {
            out.push(JSON.stringify(loopEventJson(event)), "\n")
          } else if (event._tag === "TextDelta" && event.text !== "") {
            out.push(event.text)
            textOpen = true
            lineOpen = !event.text.endsWith("\n")
          } else if (event._tag === "StepStart" && lineOpen) {
            out.push("\n")
            lineOpen = false
          }
          if (options.verbose && event._tag === "ToolCallEnd") err.push(Tools.callLine(event.name, event.arguments))
          if (options.verbose && event._tag === "ToolResult") {
            err.push(Tools.resultLine(event.name, event.outcome, event.result))
          }
        }
        return Effect.zipRight(io.out(out.join("")), io.err(err.join("")))
      }).pipe(Effect.onInterrupt(() => (lineOpen ? io.out("\n") : Effect.void)))
    )
    if (!jsonl && (lineOpen || (printed._tag === "Success" && !textOpen))) yield* io.out("\n")
    if (printed._tag === "Failure") return yield* Effect.failCause(printed.cause)
    const end = yield* Clock.currentTimeMillis
    const last = transcript.finish({ latencyMs: end - start })
    return { transcript, last, latencyMs: end - start }
  })

/**
 * Stream structured output (`--schema`): with `jsonl` every part (`Partial` values as the
 * JSON arrives, then `Done`) as one JSON object per line; else the decoded value as JSON.
 */
const streamObjectAnswer = (request: ChatRequest.Input, schema: OutputSchema.OutputSchema, jsonl: boolean) =>
  Effect.gen(function*() {
    const client = yield* LlmClient.LlmClient
    const io = yield* Io.Io
    let done: StructuredOutput.Done<unknown> | undefined
    yield* Stream.runForEach(client.streamObject(objectOptions(request, schema)), (part) => {
      if (part._tag === "Done") done = part
      return jsonl ? io.out(JSON.stringify(part) + "\n") : Effect.void
    })
    if (done === undefined) return yield* Effect.dieMessage("structured output ended without its value")
    if (!jsonl) yield* io.out(JSON.stringify(done.value) + "\n")
    return done
  })

/** The `--verbose` line after a tool loop. */
const loopLine = (
  last: ChatResult.ChatResult | undefined,
  steps: number,
  usage: Usage.Usage,
  cost: Usage.Cost | undefined,
  latencyMs: number
): string => {
  const model = last !== undefined ? `${last.provider}:${last.model} · ` : ""
  const finish = last !== undefined ? ` · finish ${last.finishReason}` : ""
  return `llm-fiber: ${model}tool loop of ${steps} step${steps === 1 ? "" : "s"} · ${usage.inputTokens} in + ` +
    `${usage.outputTokens} out tokens${cost !== undefined ? ` · ${money(cost.totalUsd)}` : ""} · ${latencyMs} ms` +
    `${finish}\n`
}

// -----------------------------------------------------------------------------
// commands
// -----------------------------------------------------------------------------

const json = Options.boolean("json").pipe(
  Options.withDescription(
    "Print the whole ChatResult as one JSON object (with --schema: { value, attempts, mode, result })."
  )
)

const jsonl = Options.boolean("jsonl").pipe(
  Options.withDescription(
    "Print every StreamEvent as one JSON object per line (ending with Finish); with --mcp the tool loop's " +
      "events, with --schema the Partial values and Done."
  )
)

const modelsJson = Options.boolean("json").pipe(Options.withDescription("Print the view as one JSON object."))

const costsJson = Options.boolean("json").pipe(Options.withDescription("Print the summary as one JSON object."))

const usageLogFile = Args.file({ name: "usage-log.jsonl", exists: "yes" }).pipe(
  Args.withDescription("A usage log, as written by --usage-log.")
)

type Client = Layer.Layer<LlmClient.LlmClient, unknown>

const makeAsk = (layer: Client) =>
  Command.make("ask", { prompt: CallOptions.prompt, json, ...CallOptions.call }, (options) =>
    Effect.zipRight(
      conflicts(options),
      execute(
        clientLayer(layer, options),
        options.verbose,
        Effect.scoped(Effect.gen(function*() {
          const client = yield* LlmClient.LlmClient
          const io = yield* Io.Io
          const prompt = yield* promptText(options.prompt)
          yield* announce(options)
          const request = CallOptions.toRequest(options, [["user", prompt]])
          if (Option.isSome(options.schema)) {
            const object = yield* client.generateObject(objectOptions(request, options.schema.value))
            const { attempts, mode, result, value } = object
            yield* io.out(JSON.stringify(options.json ? { value, attempts, mode, result } : value) + "\n")
            if (options.verbose) yield* io.err(summary(result) + objectSummary(attempts, mode))
            return
          }
          if (options.mcp.length > 0) {
            const toolkit = yield* Tools.connect(options.mcp)
            const start = yield* Clock.currentTimeMillis
            const loop = yield* ToolLoop.run(
              client,
              Tools.loopOptions(request, options.verbose ? Tools.traced(toolkit, io.err) : toolkit, options.maxSteps)
            )
            const end = yield* Clock.currentTimeMillis
            yield* io.out(options.json ? JSON.stringify(loop.result) + "\n" : loop.text + "\n")
            if (options.verbose) {
              yield* io.err(loopLine(loop.result, loop.steps.length, loop.usage, loop.cost, end - start))
            }
            return
          }
          const result = yield* client.chat(request)
          yield* io.out(options.json ? JSON.stringify(result) + "\n" : result.text + "\n")
          if (options.verbose) yield* io.err(summary(result))
        }))
      )
    )).pipe(
      Command.withDescription(
        "Ask once and print the answer (--json: the whole result; --schema: the JSON value; --mcp: with tools)."
      )
    )

const makeStream = (layer: Client) =>
  Command.make("stream", { prompt: CallOptions.prompt, jsonl, ...CallOptions.call }, (options) =>
    Effect.zipRight(
      conflicts(options),
      execute(
        clientLayer(layer, options),
        options.verbose,
        Effect.scoped(Effect.gen(function*() {
          const io = yield* Io.Io
          const prompt = yield* promptText(options.prompt)
          yield* announce(options)
          const request = CallOptions.toRequest(options, [["user", prompt]])
          if (Option.isSome(options.schema)) {
            const done = yield* streamObjectAnswer(request, options.schema.value, options.jsonl)
            if (options.verbose) yield* io.err(summary(done.result) + objectSummary(done.attempts, done.mode))
            return
          }
          if (options.mcp.length > 0) {
            const toolkit = yield* Tools.connect(options.mcp)
            const { last, latencyMs, transcript } = yield* streamLoop(request, toolkit, options, options.jsonl)
            if (options.verbose) {
              yield* io.err(loopLine(last, transcript.steps, transcript.usage, transcript.cost, latencyMs))
            }
            return
          }
          const result = yield* streamAnswer(request, options.jsonl)
          if (options.verbose) yield* io.err(summary(result))
        }))
      )
    )).pipe(
      Command.withDescription(
        "Ask once and print the answer as it arrives (--jsonl: every event; --mcp: the tool loop's)."
      )
    )

const chatHelp = "Commands: /reset starts over, /exit (or Ctrl-D) quits."

/** One turn of `chat`: print the answer; the messages the conversation keeps, and the `--verbose` note. */
const chatTurn = (
  options: CallOptions.CallOptions,
  conversation: ReadonlyArray<Message.MessageInput>,
  toolkit: Toolkit.Toolkit | undefined
): Effect.Effect<
  { readonly messages: ReadonlyArray<Message.MessageInput>; readonly note: string },
  LlmError.LlmError,
  LlmClient.LlmClient
> =>
  Effect.gen(function*() {
    const request = CallOptions.toRequest(options, conversation)
    if (Option.isSome(options.schema)) {
      const object = yield* streamObjectAnswer(request, options.schema.value, false)
      // the JSON text (in tool mode the answer is a tool call, which the next turn could not follow)
      return {
        messages: [["assistant", object.text]],
        note: summary(object.result) + objectSummary(object.attempts, object.mode)
      }
    }
    if (toolkit !== undefined) {
      const { last, latencyMs, transcript } = yield* streamLoop(request, toolkit, options, false)
      return {
        messages: transcript.messages,
        note: loopLine(last, transcript.steps, transcript.usage, transcript.cost, latencyMs)
      }
    }
    const result = yield* streamAnswer(request, false)
    return { messages: [result.message], note: summary(result) }
  })

const makeChat = (layer: Client) =>
  Command.make("chat", CallOptions.call, (options) =>
    Effect.zipRight(
      conflicts(options),
      execute(
        clientLayer(layer, options),
        options.verbose,
        Effect.scoped(Effect.gen(function*() {
          const io = yield* Io.Io
          const reader = yield* io.lines("> ")
          const history: Array<Message.MessageInput> = []
          // the servers run for the whole conversation
          const toolkit = options.mcp.length > 0 ? yield* Tools.connect(options.mcp) : undefined
          if (io.interactive) yield* io.err(`llm-fiber chat with ${options.model}. ${chatHelp}\n`)
          yield* announce(options)
          while (true) {
            const line = yield* reader.next
            if (Option.isNone(line)) break
            const text = line.value.trim()
            if (text === "") continue
            if (text === "/exit" || text === "/quit") break
            if (text === "/reset") {
              history.length = 0
              if (io.interactive) yield* io.err("(conversation cleared)\n")
              continue
            }
            if (text === "/help") {
              yield* io.err(chatHelp + "\n")
              continue
            }
            const turn = yield* Effect.exit(chatTurn(options, [...history, ["user", text]], toolkit))
            if (turn._tag === "Success") {
              history.push(["user", text], ...turn.value.messages)
              if (options.verbose) yield* io.err(turn.value.note)
            } else if (io.interactive && !Cause.isInterruptedOnly(turn.cause)) {
              // at the keyboard a failed turn is reported and the conversation goes on
              yield* report(turn.cause, options.verbose)
            } else {
              return yield* Effect.failCause(turn.cause)
            }
          }
        }))
      )
    )).pipe(
      Command.withDescription(
        "Chat: each line of stdin is a turn, answers stream to stdout, the conversation is kept. " + chatHelp
      )
    )

const makeModels = (layer: Client) =>
  Command.make("models", { json: modelsJson, verbose: CallOptions.verbose }, (options) =>
    execute(
      layer,
      options.verbose,
      Effect.gen(function*() {
        const io = yield* Io.Io
        const view = yield* Models.view
        yield* io.out(options.json ? JSON.stringify(view) + "\n" : Models.render(view))
      })
    )).pipe(
      Command.withDescription(
        "The registry: configured providers, and known models with provider, context window and prices."
      )
    )

const makeCosts = () =>
  Command.make(
    "costs",
    { file: usageLogFile, json: costsJson, verbose: CallOptions.verbose },
    (options) =>
      reportFailures(
        options.verbose,
        Effect.gen(function*() {
          const io = yield* Io.Io
          const totals = yield* UsageLog.summarizeFile(options.file)
          yield* io.out(options.json ? JSON.stringify(totals) + "\n" : Costs.render(options.file, totals))
          if (totals.skippedLines > 0) {
            const n = totals.skippedLines
            yield* io.err(
              `llm-fiber: skipped ${n} line${n === 1 ? " that is not a usage entry" : "s that are not usage entries"}\n`
            )
          }
        })
      )
  ).pipe(
    Command.withDescription(
      "Totals of a usage log (--usage-log) by model, provider and day: calls, errors, tokens, cost."
    )
  )

/**
 * The `llm-fiber` command and its subcommands, on the given client layer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeCommand = (options?: RunOptions) => {
  const layer = options?.layer ?? LlmClient.layerFromEnv()
  return Command.make("llm-fiber").pipe(
    Command.withDescription("One typed client for many LLM providers."),
    Command.withSubcommands([makeAsk(layer), makeStream(layer), makeChat(layer), makeModels(layer), makeCosts()])
  )
}

/**
 * The `llm-fiber` command on `LlmClient.layerFromEnv()`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = makeCommand()

const commandNames: ReadonlyArray<string> = ["ask", "stream", "chat", "models", "costs"]

/** `@effect/cli` prints parse errors itself (as multi-line help text); `run` prints its own line. */
const withoutCliErrorOutput = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.consoleWith((console) => Effect.withConsole(self, { ...console, error: () => Effect.void }))

/** Only our stderr logger, whatever the runtime installed. */
const withStderrLogger = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Report.secrets, (secrets) =>
    Effect.locallyWith(
      Logger.withMinimumLogLevel(self, LogLevel.None),
      FiberRef.currentLoggers,
      (loggers) =>
        loggers.pipe(
          HashSet.remove(Logger.defaultLogger),
          HashSet.remove(Logger.prettyLoggerDefault),
          HashSet.add(stderrLogger(secrets))
        )
    ))

/**
 * Run `llm-fiber` with the given arguments (without `node` and the script), printing to
 * stdout/stderr, and return the exit code. Failures are printed here (one line each);
 * only an interruption is left in the error channel.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  args: ReadonlyArray<string>,
  options?: RunOptions
): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  Effect.gen(function*() {
    const cli = Command.run(options === undefined ? command : makeCommand(options), {
      name: "llm-fiber",
      version
    })
    // OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set: closing the layer flushes it, so
    // everything is sent before the exit code is returned — after a failure too
    const exit = yield* Effect.exit(
      withStderrLogger(withoutCliErrorOutput(cli(["node", "llm-fiber", ...args]))).pipe(
        Effect.provide(Telemetry.layer(version))
      )
    )
    if (exit._tag === "Success") return ExitCode.success
    if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure) && failure.value instanceof Reported) return failure.value.exitCode
    const io = yield* Io.Io
    if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) {
      const name = args.find((a) => !a.startsWith("-"))
      const help = name !== undefined && commandNames.includes(name) ? `llm-fiber ${name} --help` : "llm-fiber --help"
      yield* io.err(`UsageError: ${Report.usageText(failure.value)} (see ${help})\n`)
      return ExitCode.usage
    }
    yield* report(exit.cause, args.includes("--verbose"))
    return ExitCode.failure
  })
