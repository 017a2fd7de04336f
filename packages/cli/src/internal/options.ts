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
import * as Option from "effect/Option"

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
    fallback: Option.isSome(fallbackModels) && fallbackModels.value.length > 0 ? fallbackModels.value : undefined
  }
}
