/**
 * How failures reach the user: one line on stderr that begins with the error's tag
 * (`RateLimitError: openai HTTP 429: … (retry after 2000 ms)`), and with `--verbose` the
 * whole error and cause after it. Known secrets (API keys from the environment) are
 * replaced with `[redacted]` in everything printed here.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import { LlmError } from "@llm-fiber/core"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"

/** The environment variables whose values must never be printed. */
export const secretVariables: ReadonlyArray<string> = [
  "OPENAI_API_KEY",
  "ANTHROPIC_API_KEY",
  "GEMINI_API_KEY",
  "GOOGLE_API_KEY"
]

/** The values of the secret variables that are set (read through `Config`). */
export const secrets: Effect.Effect<ReadonlyArray<string>> = Effect.map(
  Effect.forEach(
    secretVariables,
    (name) => Effect.orElseSucceed(Config.option(Config.redacted(name)), () => Option.none<Redacted.Redacted>())
  ),
  (values) =>
    values.flatMap((value) => {
      if (Option.isNone(value)) return []
      const text = Redacted.value(value.value).trim()
      // very short values would blank out ordinary words; real keys are long
      return text.length >= 8 ? [text] : []
    })
)

/** Replace every secret in `text` with `[redacted]`. */
export const scrub = (text: string, values: ReadonlyArray<string>): string => {
  let out = text
  for (const value of values) if (out.includes(value)) out = out.split(value).join("[redacted]")
  return out
}

const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, " ").trim()

const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g")

/** The text of a command-line parsing error, without colors, on one line. */
export const usageText = (error: ValidationError.ValidationError): string =>
  oneLine(HelpDoc.toAnsiText(error.error).replace(ansi, "")) || error._tag

const retryAfterOf = (error: LlmError.LlmError): number | undefined =>
  "retryAfterMs" in error && typeof error.retryAfterMs === "number" ? error.retryAfterMs : undefined

/** The one-line summary of an `LlmError`: its tag, its message, and the retry hint. */
export const llmErrorLine = (error: LlmError.LlmError): string => {
  const retryAfter = retryAfterOf(error)
  const hint = retryAfter !== undefined && !/retry after/i.test(error.message) ? ` (retry after ${retryAfter} ms)` : ""
  return oneLine(`${error._tag}: ${error.message}${hint}`)
}

/** The one-line summary of any failure value. */
export const errorLine = (error: unknown): string => {
  if (LlmError.isLlmError(error)) return llmErrorLine(error)
  if (ConfigError.isConfigError(error)) return oneLine(`ConfigError: ${String(error).replace(/^\((.*)\)$/s, "$1")}`)
  if (ValidationError.isValidationError(error)) return `UsageError: ${usageText(error)}`
  if (error instanceof Error) {
    const tag = Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : error.name
    return oneLine(`${tag}: ${error.message}`)
  }
  if (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string") {
    const message = Predicate.hasProperty(error, "message") ? String(error.message) : JSON.stringify(error)
    return oneLine(`${error._tag}: ${message}`)
  }
  return oneLine(`Error: ${String(error)}`)
}

/** The first failure (or else defect) of a cause, summarized on one line. */
export const causeLine = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return errorLine(failure.value)
  const defect = Cause.dieOption(cause)
  if (Option.isSome(defect)) return errorLine(defect.value)
  return Cause.isInterruptedOnly(cause) ? "Interrupted" : oneLine(Cause.pretty(cause))
}

const fieldsOf = (error: unknown): Record<string, unknown> | undefined => {
  if (!Predicate.isObject(error)) return undefined
  const fields: Record<string, unknown> = {}
  for (const key of Object.keys(error)) {
    if (key !== "cause" && key !== "stack") fields[key] = (error as Record<string, unknown>)[key]
  }
  if (LlmError.isLlmError(error)) fields.retryable = error.retryable
  return Object.keys(fields).length > 0 ? fields : undefined
}

/** Everything known about a failure, for `--verbose`: its fields, and the pretty cause with stacks. */
export const causeDetails = (cause: Cause.Cause<unknown>): string => {
  const lines: Array<string> = []
  const failure = Cause.failureOption(cause)
  const fields = Option.isSome(failure) ? fieldsOf(failure.value) : undefined
  if (fields !== undefined) lines.push(JSON.stringify(fields, null, 2))
  lines.push(Cause.pretty(cause, { renderErrorCause: true }))
  return lines.join("\n")
}
