/**
 * The options the commands share, and how they become a `ChatRequest`.
 *
 * Numbers are parsed here (with a message that names the flag); their ranges are checked
 * by the core's request validation, so `--temperature 5` fails exactly as
 * `LlmClient.chat({ temperature: 5 })` does, with an `InvalidRequestError`.
 */
import * as Args from "@effect/cli/Args"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import type { ChatRequest, Message } from "@llm-fiber/core"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Concerns from "./concerns.js"
import * as OutputSchema from "./schema.js"
import * as Tools from "./tools.js"

/** The model used when neither `--model` nor `LLM_FIBER_MODEL` names one. */
export const defaultModel = "gpt-4o-mini"

const numberOption = (name: string, kind: "number" | "integer", pseudoName: string) =>
  Options.text(name).pipe(
    Options.withPseudoName(pseudoName),
    Options.mapEffect((raw) => {
      const text = raw.trim()
      const value = Number(text)
      return text === "" || !Number.isFinite(value) || (kind === "integer" && !Number.isInteger(value))
        ? Effect.fail(
          ValidationError.invalidValue(
            HelpDoc.p(`--${name} expects ${kind === "integer" ? "an integer" : "a number"}, got '${raw}'`)
          )
        )
        : Effect.succeed(value)
    })
  )

const invalid = (message: string) => ValidationError.invalidValue(HelpDoc.p(message))

/** Also check a parsed number (`undefined`: fine; a string: the message). */
const checked = (name: string, check: (value: number) => string | undefined) =>
  Options.mapEffect((value: number) => {
    const problem = check(value)
    return problem === undefined ? Effect.succeed(value) : Effect.fail(invalid(`--${name} ${problem}, got ${value}`))
  })

/** `--model M` (`-m`), else `LLM_FIBER_MODEL`, else `gpt-4o-mini`. */
export const model = Options.text("model").pipe(
  Options.withAlias("m"),
  Options.withPseudoName("MODEL"),
  Options.withDescription(
    `The model: a registry name (gpt-4o-mini) or provider:model (ollama:llama3.2). ` +
      `Default: $LLM_FIBER_MODEL, else ${defaultModel}.`
  ),
  Options.withFallbackConfig(Config.string("LLM_FIBER_MODEL").pipe(Config.withDefault(defaultModel)))
)

/** `--system S` (`-s`). */
export const system = Options.text("system").pipe(
  Options.withAlias("s"),
  Options.withPseudoName("TEXT"),
  Options.withDescription("A system prompt."),
  Options.optional
)

/** `--temperature T`. */
export const temperature = numberOption("temperature", "number", "T").pipe(
  Options.withDescription("Sampling temperature, 0 to 2."),
  Options.optional
)

/** `--max-tokens N`. */
export const maxTokens = numberOption("max-tokens", "integer", "N").pipe(
  Options.withDescription("The most tokens to generate."),
  Options.optional
)

/** `--timeout MS`: the deadline of each attempt. */
export const timeout = numberOption("timeout", "number", "MS").pipe(
  Options.withDescription("Deadline of each attempt in milliseconds (default 600000)."),
  Options.optional
)

/** `--max-retries N`. */
export const maxRetries = numberOption("max-retries", "integer", "N").pipe(
  Options.withDescription("Retries of a retryable failure (429, 5xx, timeouts, network); default 2."),
  Options.optional
)

/** `--fallback M2,M3`. */
export const fallback = Options.text("fallback").pipe(
  Options.withPseudoName("M2,M3"),
  Options.withDescription("Models to try, in order, when the model fails with a retryable error."),
  Options.optional
)

/** `--cache off|memory|file:DIR|redis://HOST:PORT`. */
export const cache = Options.text("cache").pipe(
  Options.withPseudoName("off|memory|file:DIR|redis://HOST:PORT"),
  Options.withDescription(
    "Response cache: off (default), memory (this process: a chat), file:DIR or redis://HOST:PORT " +
      "(shared, kept across runs). An identical request is answered from the cache, at no cost."
  ),
  Options.mapEffect((raw) =>
    Either.match(Concerns.parseCache(raw), {
      onLeft: (message) => Effect.fail(invalid(message)),
      onRight: Effect.succeed
    })
  ),
  Options.optional
)

/** `--max-cost-usd X`: the request's `costCeilingUsd`. */
export const maxCostUsd = numberOption("max-cost-usd", "number", "USD").pipe(
  checked("max-cost-usd", (usd) => (usd > 0 ? undefined : "expects a positive number of USD")),
  Options.withDescription(
    "The most one call may cost: a call whose worst case (input + max tokens at catalog prices) is above it " +
      "fails with BudgetExceededError before anything is sent."
  ),
  Options.optional
)

/** `--usage-log FILE`. */
export const usageLog = Options.text("usage-log").pipe(
  Options.withPseudoName("FILE"),
  Options.withDescription(
    "Append one JSON line per call (tokens, cost, latency, status) to FILE; see llm-fiber costs."
  ),
  Options.optional
)

/** `--mcp "COMMAND ARGS"` (repeatable). */
export const mcp = Options.text("mcp").pipe(
  Options.withPseudoName("\"COMMAND ARGS\""),
  Options.withDescription(
    "Start an MCP server (stdio) and let the model call its tools, until it answers or --max-steps. Repeatable."
  ),
  Options.repeated,
  Options.mapEffect((lines) => Effect.mapError(Tools.parseCommands(lines), invalid))
)

/** `--max-steps N`. */
export const maxSteps = numberOption("max-steps", "integer", "N").pipe(
  checked("max-steps", (n) => (n >= 1 ? undefined : "expects an integer >= 1")),
  Options.withDescription(
    `The most model calls of a tool loop (--mcp), default ${Tools.defaultMaxSteps}; more fails with ToolError.`
  ),
  Options.withDefault(Tools.defaultMaxSteps)
)

/** `--schema FILE.json`: loaded (and compiled) while the command line is parsed. */
export const schema = Options.text("schema").pipe(
  Options.withPseudoName("FILE.json"),
  Options.withDescription(
    "Structured output: answer with JSON matching the JSON Schema in the file, printed as one JSON value."
  ),
  Options.mapEffect((file) => Effect.mapError(OutputSchema.load(file), invalid)),
  Options.optional
)

/** `--verbose`. */
export const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("Log to stderr, print usage after each answer and full errors.")
)

/** The prompt: every remaining word, joined by spaces (`-` reads it from stdin). */
export const prompt = Args.text({ name: "prompt" }).pipe(
  Args.withDescription("The prompt (quote it, or give several words; - reads it from stdin)."),
  Args.atLeast(1),
  Args.mapEffect((words) => {
    // the words are what no option claimed: a leftover `--flag` is an unknown option
    const flag = words.find((word) => word.startsWith("-") && word !== "-")
    return flag !== undefined
      ? Effect.fail(HelpDoc.p(`Received unknown option '${flag}'`))
      : Effect.succeed(words.join(" "))
  })
)

/** The options of every command that calls a model. */
export const call = {
  model,
  system,
  temperature,
  maxTokens,
  timeout,
  maxRetries,
  fallback,
  cache,
  maxCostUsd,
  usageLog,
  mcp,
  maxSteps,
  schema,
  verbose
}

/** The parsed values of `call`. */
export interface CallOptions {
  readonly model: string
  readonly system: Option.Option<string>
  readonly temperature: Option.Option<number>
  readonly maxTokens: Option.Option<number>
  readonly timeout: Option.Option<number>
  readonly maxRetries: Option.Option<number>
  readonly fallback: Option.Option<string>
  readonly cache: Option.Option<Concerns.CacheSpec>
  readonly maxCostUsd: Option.Option<number>
  readonly usageLog: Option.Option<string>
  readonly mcp: ReadonlyArray<Tools.ServerSpec>
  readonly maxSteps: number
  readonly schema: Option.Option<OutputSchema.OutputSchema>
  readonly verbose: boolean
}

/** `M2, M3` → `["M2", "M3"]`. */
export const parseFallback = (value: string): Array<string> =>
  value.split(",").map((m) => m.trim()).filter((m) => m !== "")

/** The request for a conversation under the given options (the system prompt goes first). */
export const toRequest = (
  options: CallOptions,
  conversation: ReadonlyArray<Message.MessageInput>
): ChatRequest.Input => {
  const messages: Array<Message.MessageInput> = Option.isSome(options.system)
    ? [["system", options.system.value], ...conversation]
    : [...conversation]
  const fallbackModels = Option.map(options.fallback, parseFallback)
  return {
    model: options.model,
    messages,
    temperature: Option.getOrUndefined(options.temperature),
    maxTokens: Option.getOrUndefined(options.maxTokens),
    maxRetries: Option.getOrUndefined(options.maxRetries),
    timeout: Option.match(options.timeout, { onNone: () => undefined, onSome: (totalMs) => ({ totalMs }) }),
    fallback: Option.isSome(fallbackModels) && fallbackModels.value.length > 0 ? fallbackModels.value : undefined,
    costCeilingUsd: Option.getOrUndefined(options.maxCostUsd)
  }
}
