/**
 * The implementation of `StructuredOutput` (public module `../StructuredOutput.ts`). It
 * works on any value with the client's `chat` / `chatStream` / `resolve` and imports
 * nothing from `LlmClient`, so `LlmClient` itself can delegate here without an import
 * cycle.
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Catalog from "../Catalog.js"
import type * as ChatRequest from "../ChatRequest.js"
import * as ChatResult from "../ChatResult.js"
import * as LlmError from "../LlmError.js"
import * as Message from "../Message.js"
import type * as Provider from "../Provider.js"
import * as StreamEvent from "../StreamEvent.js"
import * as Usage from "../Usage.js"
import * as JsonSchema from "./jsonSchema.js"
import * as PartialJson from "./partialJson.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/** How to ask for the structure: chosen per provider (`auto`), or forced. */
export type Mode = "auto" | "native" | "tool" | "prompt"

/** The mode a call used. */
export type ResolvedMode = "native" | "tool" | "prompt"

/** What structured output needs of a client (`LlmClient.Service` has it). */
export interface Client {
  readonly chat: (request: ChatRequest.Input) => Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  readonly chatStream: (request: ChatRequest.Input) => Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  readonly resolve: (
    model: string,
    provider?: string
  ) => Either.Either<
    { readonly provider: string; readonly model: string; readonly implementation: Provider.Provider },
    LlmError.UnknownModelError
  >
}

/** The options of `generateObject` / `streamObject`. */
export interface Options<A, I> extends Omit<ChatRequest.Input, "responseFormat" | "tools" | "toolChoice"> {
  /** The answer's `Schema`: its encoded side is what the model writes (as JSON). */
  readonly schema: Schema.Schema<A, I>
  /**
   * The name of the output format / tool (1-64 letters, digits, `_`, `-`); default the
   * schema's identifier (a `Schema.Class` name), else `response`.
   */
  readonly name?: string | undefined
  /** What the answer is, for the model. */
  readonly description?: string | undefined
  /** Default `auto`. */
  readonly mode?: Mode | undefined
  /** How many times to ask again after an answer that does not decode (default 1). */
  readonly maxRepairs?: number | undefined
}

/** The result of `generateObject`. */
export interface Result<A> {
  readonly value: A
  /**
   * The last answer's `ChatResult`, with `usage`, `cost` and `timing.latencyMs` summed over
   * all attempts (repairs included).
   */
  readonly result: ChatResult.ChatResult
  /** The raw JSON text that decoded (in `tool` mode: the tool call's input). */
  readonly text: string
  /** How many answers were asked for (1 when the first one decoded). */
  readonly attempts: number
  readonly mode: ResolvedMode
}

/** A partial value of `streamObject`. */
export interface PartialValue {
  readonly _tag: "Partial"
  readonly value: unknown
  readonly attempt: number
}

/** The last part of `streamObject`. */
export interface Done<A> extends Result<A> {
  readonly _tag: "Done"
}

/** A part of `streamObject`. */
export type StreamPart<A> = PartialValue | Done<A>

// -----------------------------------------------------------------------------
// choosing the mode
// -----------------------------------------------------------------------------

const invalid = (message: string, param: string, info?: { readonly provider: string; readonly model: string }) =>
  new LlmError.InvalidRequestError({
    message,
    param,
    ...(info !== undefined ? { provider: info.provider, model: info.model } : {})
  }, true)

/**
 * The mode for a provider (its wire format and capabilities) and, when the catalog knows
 * the model, the model's capabilities.
 *
 * `auto`: `native` when the provider can constrain output by a JSON Schema (OpenAI Chat
 * Completions and Responses, Gemini, compatible servers that advertise `jsonSchema`) and
 * the catalog does not say the model cannot; else `tool` for Anthropic (forced tool use)
 * and for models the catalog lists with tool support; else `prompt`.
 */
export const chooseMode = (
  requested: Mode,
  provider: { readonly name?: string | undefined; readonly api: string; readonly capabilities: Provider.Capabilities },
  model?: Catalog.Capabilities | undefined
): Either.Either<ResolvedMode, LlmError.InvalidRequestError> => {
  const name = provider.name ?? provider.api
  const native = provider.capabilities.jsonSchema && provider.api !== "anthropic"
  const tools = provider.capabilities.tools
  switch (requested) {
    case "native":
      return native ? Either.right("native") : Either.left(invalid(
        `structured output: provider "${name}" has no native JSON-schema output; use mode "tool" or "prompt" (or "auto")`,
        "mode"
      ))
    case "tool":
      return tools ? Either.right("tool") : Either.left(invalid(
        `structured output: provider "${name}" does not support tools; use mode "prompt" (or "auto")`,
        "mode"
      ))
    case "prompt":
      return Either.right("prompt")
    case "auto":
      if (native && model?.jsonSchema !== false) return Either.right("native")
      if (tools && (provider.api === "anthropic" || model?.tools === true)) return Either.right("tool")
      return Either.right("prompt")
    default:
      return Either.left(invalid(
        `structured output: mode must be "auto", "native", "tool" or "prompt" (got ${JSON.stringify(requested)})`,
        "mode"
      ))
  }
}

// -----------------------------------------------------------------------------
// the plan of a call
// -----------------------------------------------------------------------------

interface Plan<A, I> {
  readonly mode: ResolvedMode
  readonly name: string
  readonly schema: Schema.Schema<A, I>
  /** The JSON Schema of the output as sent (wrapped when needed), before any strict transform. */
  readonly jsonSchema: JsonSchema.JsonSchema
  readonly wrapped: boolean
  readonly maxRepairs: number
  readonly messages: ReadonlyArray<Message.Message>
  readonly request: (messages: ReadonlyArray<Message.Message>) => ChatRequest.Input
}

const namePattern = /^[a-zA-Z0-9_-]{1,64}$/

/** Keys of the options that are not chat request fields (or that structured output sets). */
const ownKeys: ReadonlyArray<string> = [
  "schema",
  "name",
  "description",
  "mode",
  "maxRepairs",
  "messages",
  "responseFormat",
  "tools",
  "toolChoice"
]

/** The instruction of the `prompt` mode (a system message). */
export const promptInstruction = (schema: JsonSchema.JsonSchema, description: string | undefined): string =>
  [
    "Answer with a single JSON value that matches the JSON Schema below.",
    ...(description !== undefined ? [`It is: ${description}`] : []),
    "Write only the JSON: no explanation before or after it, no Markdown code fence.",
    "",
    "JSON Schema:",
    JSON.stringify(schema)
  ].join("\n")

/** Insert a system message after the leading system messages. */
const withInstruction = (
  messages: ReadonlyArray<Message.Message>,
  instruction: string
): ReadonlyArray<Message.Message> => {
  let at = 0
  while (at < messages.length && messages[at]!.role === "system") at++
  return [...messages.slice(0, at), Message.system(instruction), ...messages.slice(at)]
}

const makePlan = <A, I>(client: Client, options: Options<A, I>): Effect.Effect<Plan<A, I>, LlmError.LlmError> =>
  Effect.gen(function*() {
    if (typeof options !== "object" || options === null || !Schema.isSchema(options.schema)) {
      return yield* Effect.fail(invalid("structured output: options.schema must be an effect/Schema", "schema"))
    }
    const resolution = client.resolve(options.model, options.provider)
    if (Either.isLeft(resolution)) return yield* Effect.fail(resolution.left)
    const { implementation, model, provider } = resolution.right
    const info = { provider, model }
    const catalog = yield* Catalog.Catalog
    const mode = chooseMode(options.mode ?? "auto", implementation, catalog.capabilities(model))
    if (Either.isLeft(mode)) {
      return yield* Effect.fail(new LlmError.InvalidRequestError({ ...mode.left, ...info }, true))
    }
    const maxRepairs = options.maxRepairs ?? 1
    if (!Number.isInteger(maxRepairs) || maxRepairs < 0) {
      return yield* Effect.fail(invalid(
        `structured output: maxRepairs must be a non-negative integer (got ${String(maxRepairs)})`,
        "maxRepairs",
        info
      ))
    }
    if (options.name !== undefined && !namePattern.test(options.name)) {
      return yield* Effect.fail(invalid(
        `structured output: name must be 1-64 letters, digits, "_" or "-" (got ${JSON.stringify(options.name)})`,
        "name",
        info
      ))
    }
    const normalized = Message.normalize(options.messages)
    if (Either.isLeft(normalized)) return yield* Effect.fail(normalized.left)
    const described = Either.try({
      try: () => ({
        schema: JsonSchema.fromSchema(options.schema),
        identifier: JsonSchema.identifierOf(options.schema)
      }),
      catch: (error) =>
        invalid(
          `structured output: the schema has no JSON Schema (${
            error instanceof Error ? error.message : String(error)
          })`,
          "schema",
          info
        )
    })
    if (Either.isLeft(described)) return yield* Effect.fail(described.left)
    const generated = described.right.schema
    const wrapped = mode.right !== "prompt" && !JsonSchema.isObjectSchema(generated)
    const jsonSchema = wrapped ? JsonSchema.wrap(generated) : generated
    const name = options.name ?? described.right.identifier ?? "response"
    const rest: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(options)) {
      if (!ownKeys.includes(key) && value !== undefined) rest[key] = value
    }
    const base = rest as unknown as Omit<ChatRequest.Input, "messages">
    const openai = implementation.api.startsWith("openai")
    const description = options.description
    let request: Plan<A, I>["request"]
    let messages = normalized.right
    switch (mode.right) {
      case "native": {
        const strict = openai ? JsonSchema.toStrict(jsonSchema) : undefined
        const responseFormat: ChatRequest.ResponseFormat = {
          type: "json_schema",
          name,
          schema: strict?.schema ?? jsonSchema,
          ...(description !== undefined ? { description } : {}),
          ...(strict !== undefined ? { strict: strict.strict } : {})
        }
        request = (messages) => ({ ...base, messages, responseFormat })
        break
      }
      case "tool": {
        const strict = openai ? JsonSchema.toStrict(jsonSchema) : undefined
        const tool: ChatRequest.ToolDefinition = {
          name,
          description: description ?? `Give your answer as this tool's input (${name}).`,
          parameters: strict?.schema ?? jsonSchema,
          ...(strict !== undefined ? { strict: strict.strict } : {})
        }
        request = (messages) => ({ ...base, messages, tools: [tool], toolChoice: { type: "tool", name } })
        break
      }
      case "prompt": {
        messages = withInstruction(messages, promptInstruction(jsonSchema, description))
        request = (messages) => ({ ...base, messages })
        break
      }
    }
    return {
      mode: mode.right,
      name,
      schema: options.schema,
      jsonSchema,
      wrapped,
      maxRepairs,
      messages,
      request
    }
  })

// -----------------------------------------------------------------------------
// reading an answer
// -----------------------------------------------------------------------------

interface Failure {
  readonly issue: string
  readonly text: string
  /** The tool call that carried the bad input (tool mode). */
  readonly callId?: string | undefined
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const unwrap = (value: unknown): unknown =>
  isRecord(value) && Object.prototype.hasOwnProperty.call(value, JsonSchema.wrapKey) ? value[JsonSchema.wrapKey] : value

/** The JSON text of an answer and where it came from. */
const rawOf = <A, I>(
  plan: Plan<A, I>,
  result: ChatResult.ChatResult
): { readonly text: string; readonly call?: ChatResult.ToolCall | undefined } => {
  if (plan.mode !== "tool") return { text: result.text }
  const call = result.toolCalls.find((c) => c.name === plan.name) ?? result.toolCalls[0]
  if (call === undefined) return { text: result.text }
  const text = call.rawArguments.trim() !== "" || typeof call.arguments === "string"
    ? call.rawArguments
    : JSON.stringify(call.arguments)
  return { text, call }
}

const decodeOptions = { errors: "all", onExcessProperty: "ignore" } as const

/** Read and decode one answer. */
const read = <A, I>(plan: Plan<A, I>, result: ChatResult.ChatResult): Either.Either<
  { readonly value: A; readonly text: string },
  Failure
> => {
  const { call, text } = rawOf(plan, result)
  const callId = call?.id
  const cutOff = result.finishReason === "length"
    ? ` (the output was cut off: finish reason "length" — raise maxTokens)`
    : ""
  const found = PartialJson.extract(text)
  if (found._tag === "NotFound") {
    const issue = plan.mode === "tool" && call === undefined
      ? `the model did not call the tool "${plan.name}"${text.trim() === "" ? "" : ` and its text is not JSON`}`
      : found.message
    return Either.left({ issue: issue + cutOff, text, callId })
  }
  const value = unwrap(JsonSchema.stripNulls(plan.jsonSchema, found.value))
  const decoded = Schema.decodeUnknownEither(plan.schema, decodeOptions)(value)
  if (Either.isLeft(decoded)) {
    return Either.left({ issue: ParseResult.TreeFormatter.formatErrorSync(decoded.left) + cutOff, text, callId })
  }
  return Either.right({ value: decoded.right, text })
}

/** The messages that show the model its previous answer and what was wrong with it. */
const repairMessages = <A, I>(
  plan: Plan<A, I>,
  result: ChatResult.ChatResult,
  failure: Failure
): ReadonlyArray<Message.Message> => {
  if (failure.callId !== undefined) {
    // every tool call needs its result (Anthropic rejects a tool_use without tool_result)
    const results = result.toolCalls.map((call) =>
      Message.tool(
        call.id,
        call.id === failure.callId
          ? `The input is invalid:\n${failure.issue}\nCall ${plan.name} again with corrected input.`
          : `Ignored: call ${plan.name} only.`,
        { name: call.name, isError: true }
      )
    )
    return [result.message, ...results]
  }
  const previous: ReadonlyArray<Message.Message> = result.message.content.some((p) => p.type === "text")
    ? [Message.assistant(result.message.content.filter((p) => p.type !== "tool-call"))]
    : []
  const again = plan.mode === "tool"
    ? `Call the tool ${plan.name} with your answer as its input.`
    : "Answer again with only the corrected JSON value."
  return [
    ...previous,
    Message.user(`Your previous answer could not be used: ${failure.issue}\n${again}`)
  ]
}

const structuredError = <A, I>(
  plan: Plan<A, I>,
  result: ChatResult.ChatResult,
  failure: Failure,
  attempts: number
) =>
  new LlmError.StructuredOutputError({
    message: `${result.provider}: the output does not match the schema (${plan.mode} mode, ${attempts} attempt${
      attempts === 1 ? "" : "s"
    }):\n${failure.issue}`,
    provider: result.provider,
    model: result.model,
    ...(result.requestId !== undefined ? { requestId: result.requestId } : {}),
    text: failure.text,
    issue: failure.issue,
    attempts,
    mode: plan.mode
  }, true)

// -----------------------------------------------------------------------------
// totals over attempts
// -----------------------------------------------------------------------------

interface Totals {
  readonly usage: Usage.Usage
  readonly cost: Usage.Cost | undefined
  readonly latencyMs: number
}

const addCost = (a: Usage.Cost | undefined, b: Usage.Cost | undefined): Usage.Cost | undefined =>
  a === undefined ? b : b === undefined ? a : {
    inputUsd: a.inputUsd + b.inputUsd,
    outputUsd: a.outputUsd + b.outputUsd,
    totalUsd: a.totalUsd + b.totalUsd
  }

const addTotals = (previous: Totals | undefined, result: ChatResult.ChatResult): Totals =>
  previous === undefined
    ? { usage: result.usage, cost: result.cost, latencyMs: result.timing.latencyMs }
    : {
      usage: Usage.add(previous.usage, result.usage),
      cost: addCost(previous.cost, result.cost),
      latencyMs: previous.latencyMs + result.timing.latencyMs
    }

/** The last result with usage, cost and latency summed over the attempts. */
const withTotals = (result: ChatResult.ChatResult, totals: Totals, attempts: number): ChatResult.ChatResult =>
  attempts === 1 ? result : new ChatResult.ChatResult({
    ...result,
    usage: totals.usage,
    ...(totals.cost !== undefined ? { cost: totals.cost } : {}),
    timing: { ...result.timing, latencyMs: totals.latencyMs }
  }, true)

/** What follows an attempt's result: the decoded answer, the error, or a repair. */
type Next<A> =
  | { readonly _tag: "Decoded"; readonly result: Result<A> }
  | { readonly _tag: "Failed"; readonly error: LlmError.StructuredOutputError }
  | { readonly _tag: "Repair"; readonly messages: ReadonlyArray<Message.Message>; readonly totals: Totals }

/** Read an attempt's result: decoded, failed (no repair left, or cut off), or repair. */
const settle = <A, I>(
  plan: Plan<A, I>,
  attempt: number,
  messages: ReadonlyArray<Message.Message>,
  previous: Totals | undefined,
  result: ChatResult.ChatResult
): Next<A> => {
  const totals = addTotals(previous, result)
  const answer = read(plan, result)
  if (Either.isRight(answer)) {
    return {
      _tag: "Decoded",
      result: {
        value: answer.right.value,
        result: withTotals(result, totals, attempt),
        text: answer.right.text,
        attempts: attempt,
        mode: plan.mode
      }
    }
  }
  if (attempt > plan.maxRepairs || result.finishReason === "length") {
    return { _tag: "Failed", error: structuredError(plan, result, answer.left, attempt) }
  }
  return { _tag: "Repair", messages: [...messages, ...repairMessages(plan, result, answer.left)], totals }
}

// -----------------------------------------------------------------------------
// generateObject
// -----------------------------------------------------------------------------

/** Ask for a value of `options.schema`, decode it, repair up to `maxRepairs` times. */
export const generateObject = <A, I>(
  client: Client,
  options: Options<A, I>
): Effect.Effect<Result<A>, LlmError.LlmError> =>
  Effect.flatMap(makePlan(client, options), (plan) => {
    const loop = (
      attempt: number,
      messages: ReadonlyArray<Message.Message>,
      previous: Totals | undefined
    ): Effect.Effect<Result<A>, LlmError.LlmError> =>
      Effect.flatMap(client.chat(plan.request(messages)), (result) => {
        const next = settle(plan, attempt, messages, previous, result)
        switch (next._tag) {
          case "Decoded":
            return Effect.succeed(next.result)
          case "Failed":
            return Effect.fail(next.error)
          case "Repair":
            return loop(attempt + 1, next.messages, next.totals)
        }
      })
    return loop(1, plan.messages, undefined)
  })

// -----------------------------------------------------------------------------
// streamObject
// -----------------------------------------------------------------------------

/** The state of one streamed attempt: the result so far and the partial JSON. */
class Attempt<A, I> {
  readonly acc = new StreamEvent.Accumulator()
  readonly locator = new PartialJson.Locator()
  private revision = 0
  private toolId: string | undefined = undefined
  private toolFed = false
  ttfbMs: number | undefined = undefined

  constructor(readonly plan: Plan<A, I>, readonly attempt: number) {}

  push(event: StreamEvent.StreamEvent, elapsedMs: number, out: Array<StreamPart<A>>): void {
    if (this.ttfbMs === undefined && StreamEvent.isContent(event)) this.ttfbMs = elapsedMs
    this.acc.push(event)
    if (this.plan.mode !== "tool") {
      if (event._tag === "TextDelta") this.locator.push(event.text)
    } else {
      switch (event._tag) {
        case "ToolCallStart":
          if (this.toolId === undefined && event.name === this.plan.name) {
            this.toolId = event.id
          }
          break
        case "ToolCallDelta":
          if (event.id === this.toolId) {
            this.toolFed = true
            this.locator.push(event.argumentsDelta)
          }
          break
        case "ToolCallEnd":
          // a provider that sends the arguments only at the end
          if (event.id === this.toolId && !this.toolFed) this.locator.push(event.rawArguments)
          break
        default:
          break
      }
    }
    if (this.locator.revision === this.revision) return
    this.revision = this.locator.revision
    const value = this.plan.wrapped ? unwrapPartial(this.locator.value) : this.locator.value
    if (value !== undefined) out.push({ _tag: "Partial", value, attempt: this.attempt })
  }
}

const unwrapPartial = (value: unknown): unknown => isRecord(value) ? value[JsonSchema.wrapKey] : undefined

/** Stream partial values of `options.schema`, then the decoded value (with repairs). */
export const streamObject = <A, I>(
  client: Client,
  options: Options<A, I>
): Stream.Stream<StreamPart<A>, LlmError.LlmError> =>
  Stream.unwrap(Effect.map(makePlan(client, options), (plan) => {
    const attemptStream = (
      attempt: number,
      messages: ReadonlyArray<Message.Message>,
      previous: Totals | undefined
    ): Stream.Stream<StreamPart<A>, LlmError.LlmError> =>
      Stream.unwrap(Effect.map(Clock.currentTimeMillis, (start) => {
        const state = new Attempt(plan, attempt)
        const finish = Effect.map(Clock.currentTimeMillis, (end): Stream.Stream<StreamPart<A>, LlmError.LlmError> => {
          const result = state.acc.result({
            latencyMs: end - start,
            ...(state.ttfbMs !== undefined ? { ttfbMs: state.ttfbMs } : {})
          })
          const next = settle(plan, attempt, messages, previous, result)
          switch (next._tag) {
            case "Decoded":
              return Stream.succeed<StreamPart<A>>({ _tag: "Done", ...next.result })
            case "Failed":
              return Stream.fail(next.error)
            case "Repair":
              return attemptStream(attempt + 1, next.messages, next.totals)
          }
        })
        return client.chatStream(plan.request(messages)).pipe(
          Stream.mapChunksEffect((chunk) =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              const out: Array<StreamPart<A>> = []
              for (const event of chunk) state.push(event, now - start, out)
              return Chunk.unsafeFromArray(out)
            })
          ),
          Stream.concat(Stream.unwrap(finish))
        )
      }))
    return attemptStream(1, plan.messages, undefined)
  }))
