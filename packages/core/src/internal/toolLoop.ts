/**
 * The tool loop's implementation, a plain function of a client (`chat`, `chatStream`,
 * `resolve`) — it imports nothing of `LlmClient`, so `LlmClient` may delegate to it.
 * `ToolLoop` is its public face.
 *
 * @internal
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL
} from "@opentelemetry/semantic-conventions/incubating"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as Approval from "../Approval.js"
import * as ChatRequest from "../ChatRequest.js"
import type * as ChatResult from "../ChatResult.js"
import * as LlmError from "../LlmError.js"
import type * as Message from "../Message.js"
import * as StreamEvent from "../StreamEvent.js"
import * as Telemetry from "../Telemetry.js"
import * as Tool from "../Tool.js"
import * as Toolkit from "../Toolkit.js"
import * as Usage from "../Usage.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/** What the loop needs of a client (`LlmClient.Service` has it). */
export interface Client {
  readonly chat: (request: ChatRequest.ChatRequest) => Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  readonly chatStream: (
    request: ChatRequest.ChatRequest
  ) => Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  readonly resolve: (
    model: string,
    provider?: string
  ) => Either.Either<{ readonly implementation: { readonly api: string } }, unknown>
}

/** The options of a loop: a chat request (without `tools`), the toolkit and the loop's settings. */
export interface Options<R> extends Omit<ChatRequest.Input, "tools"> {
  /** The tools the model may call; their definitions are sent with every step. */
  readonly toolkit: Toolkit.Toolkit<R>
  /** The most model calls (steps) of the loop (default 10). */
  readonly maxSteps?: number | undefined
  /** How many handlers of one step run at once (default 8; `1` runs them one by one). */
  readonly concurrency?: number | "unbounded" | undefined
  /**
   * How many invalid tool calls (arguments the tool's Schema rejects, or an unknown tool
   * name) the model is told about and may repair; one more fails the loop with a
   * `ToolError` (`code: "invalid_arguments"`). Default 3.
   */
  readonly maxInvalidArgumentRetries?: number | undefined
  /** The approval policy (default: the `Approval` in context, which allows every call). */
  readonly approval?: Approval.Policy | undefined
  /**
   * A handler's `ToolError`: `report` (default) tells the model (an error result);
   * `fail` ends the loop with that error.
   */
  readonly onToolError?: "report" | "fail" | undefined
  /**
   * When the model still calls tools at step `maxSteps` (its calls are run, their results
   * appended): `return` (default) the result with `stoppedBy: "maxSteps"`; `fail` with a
   * `ToolError` (`code: "max_steps"`).
   */
  readonly onMaxSteps?: "return" | "fail" | undefined
  /** The tool-schema flavour (default: from the model's provider, `Tool.dialectOf`). */
  readonly dialect?: Tool.Dialect | undefined
}

/** How a tool call ended. */
export type Outcome = "success" | "tool_error" | "invalid_arguments" | "unknown_tool" | "denied"

/** One tool call and what the model was told about it. */
export interface ToolResult {
  /** The tool call's id. */
  readonly id: string
  readonly name: string
  /** The arguments as the model sent them (parsed JSON). */
  readonly arguments: unknown
  readonly outcome: Outcome
  /** What the model was sent: the encoded value of the handler, or the error's text. */
  readonly result: unknown
  readonly isError: boolean
  /** The handler's error (`tool_error`) or the decoding error (`invalid_arguments`). */
  readonly error?: LlmError.ToolError | undefined
}

/** One step: a model call and the tool calls it made. */
export interface Step {
  /** 1 for the first model call. */
  readonly step: number
  /** The messages sent. */
  readonly messages: ReadonlyArray<Message.Message>
  readonly result: ChatResult.ChatResult
  readonly toolCalls: ReadonlyArray<ChatResult.ToolCall>
  /** In the order of `toolCalls`. */
  readonly toolResults: ReadonlyArray<ToolResult>
}

/** The outcome of a loop. */
export interface Result {
  /** The last model call's result. */
  readonly result: ChatResult.ChatResult
  /** `result.text`. */
  readonly text: string
  readonly steps: ReadonlyArray<Step>
  /** The whole conversation (the request's messages, then every step's), to continue it. */
  readonly messages: ReadonlyArray<Message.Message>
  /** Usage over every step (steps answered by the response cache spent nothing and are left out). */
  readonly usage: Usage.Usage
  /** Cost over every priced step; absent when no step was priced. */
  readonly cost?: Usage.Cost | undefined
  /** `answer`: the model answered without tool calls; `maxSteps`: the loop ran out of steps. */
  readonly stoppedBy: "answer" | "maxSteps"
}

/** Marks the start of a step in a loop's stream. */
export interface StepStart {
  readonly _tag: "StepStart"
  readonly step: number
}

/** A tool call's result in a loop's stream. */
export interface ToolResultEvent extends ToolResult {
  readonly _tag: "ToolResult"
  readonly step: number
}

/** What a loop's stream emits. */
export type Event = StreamEvent.StreamEvent | StepStart | ToolResultEvent

// -----------------------------------------------------------------------------
// settings
// -----------------------------------------------------------------------------

/** Span and attribute names of the loop. */
export const spans = { loop: "llm.tool_loop", step: "llm.step", tool: "llm.tool" } as const

/** Attribute names of the loop's own. */
export const attributes = {
  step: "llm.step",
  steps: "llm.steps",
  maxSteps: "llm.max_steps",
  stoppedBy: "llm.stopped_by",
  toolCalls: "llm.tool_calls",
  outcome: "llm.tool.outcome"
} as const

const loopKeys: ReadonlySet<string> = new Set([
  "toolkit",
  "maxSteps",
  "concurrency",
  "maxInvalidArgumentRetries",
  "approval",
  "onToolError",
  "onMaxSteps",
  "dialect",
  "tools"
])

interface Context<R> {
  readonly client: Client
  readonly toolkit: Toolkit.Toolkit<R>
  readonly request: ChatRequest.ChatRequest
  readonly dialect: Tool.Dialect
  readonly maxSteps: number
  readonly concurrency: number | "unbounded"
  readonly maxInvalid: number
  readonly onToolError: "report" | "fail"
  readonly onMaxSteps: "return" | "fail"
  readonly policy: Approval.Policy
  readonly logContent: Telemetry.LogContentSettings
  /** Invalid calls so far (all steps). */
  invalid: number
}

const invalidOption = (param: string, expected: string, value: unknown) =>
  new LlmError.InvalidRequestError({
    message: `tool loop: ${param} must be ${expected} (got ${String(value)})`,
    param
  }, true)

const isCount = (n: unknown, min: number): n is number => typeof n === "number" && Number.isInteger(n) && n >= min

/** Validate the options and build the first request (definitions for the model's provider). */
const prepare = <R>(client: Client, options: Options<R>): Effect.Effect<Context<R>, LlmError.InvalidRequestError> =>
  Effect.gen(function*() {
    const maxSteps = options.maxSteps ?? 10
    if (!isCount(maxSteps, 1)) return yield* Effect.fail(invalidOption("maxSteps", "an integer >= 1", maxSteps))
    const concurrency = options.concurrency ?? 8
    if (concurrency !== "unbounded" && !isCount(concurrency, 1)) {
      return yield* Effect.fail(invalidOption("concurrency", "an integer >= 1 or \"unbounded\"", concurrency))
    }
    const maxInvalid = options.maxInvalidArgumentRetries ?? 3
    if (!isCount(maxInvalid, 0)) {
      return yield* Effect.fail(invalidOption("maxInvalidArgumentRetries", "an integer >= 0", maxInvalid))
    }
    const toolkit = options.toolkit
    if (toolkit === undefined || toolkit._tag !== "Toolkit") {
      return yield* Effect.fail(invalidOption("toolkit", "a Toolkit (Toolkit.make)", toolkit))
    }
    let dialect = options.dialect
    if (dialect === undefined) {
      const resolved = typeof options.model === "string" ? client.resolve(options.model, options.provider) : undefined
      dialect = resolved !== undefined && Either.isRight(resolved)
        ? Tool.dialectOf(resolved.right.implementation.api)
        : "generic"
    }
    const input: Record<string, unknown> = {}
    for (const key of Object.keys(options)) {
      const value = (options as unknown as Record<string, unknown>)[key]
      if (!loopKeys.has(key) && value !== undefined) input[key] = value
    }
    const definitions = Toolkit.definitions(toolkit, dialect)
    if (definitions.length > 0) input.tools = definitions
    const request = ChatRequest.make(input as unknown as ChatRequest.Input)
    if (Either.isLeft(request)) return yield* Effect.fail(request.left)
    return {
      client,
      toolkit,
      request: request.right,
      dialect,
      maxSteps,
      concurrency,
      maxInvalid,
      onToolError: options.onToolError ?? "report",
      onMaxSteps: options.onMaxSteps ?? "return",
      policy: options.approval ?? (yield* Approval.Approval),
      logContent: yield* Telemetry.LogContent,
      invalid: 0
    }
  })

/** The request of step `n`: a forced tool choice applies to the first step only. */
const stepRequest = <R>(ctx: Context<R>, n: number, messages: ReadonlyArray<Message.Message>) => {
  const { toolChoice: _choice, ...fields } = ctx.request
  const choice = ctx.request.toolChoice
  const keep = choice !== undefined && (n === 1 || choice === "auto" || choice === "none")
  return new ChatRequest.ChatRequest(keep ? { ...fields, messages, toolChoice: choice } : { ...fields, messages }, true)
}

// -----------------------------------------------------------------------------
// one tool call
// -----------------------------------------------------------------------------

const errorText = (message: string): string => `Error: ${message}`

const render = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value) ?? "null"

/** Run one tool call: find the tool, decode, ask for approval, run the handler; never throws for the model's mistakes. */
const execute = <R>(
  ctx: Context<R>,
  call: ChatResult.ToolCall,
  step: number
): Effect.Effect<ToolResult, LlmError.ToolError, R> => {
  const base = { id: call.id, name: call.name, arguments: call.arguments }
  const failed = (
    outcome: Exclude<Outcome, "success">,
    text: string,
    error?: LlmError.ToolError
  ): ToolResult => ({ ...base, outcome, result: text, isError: true, ...(error !== undefined ? { error } : {}) })

  /** Count an invalid call; past the limit the loop fails. */
  const invalidCall = (outcome: "invalid_arguments" | "unknown_tool", error: LlmError.ToolError) =>
    Effect.suspend(() => {
      ctx.invalid++
      if (ctx.invalid > ctx.maxInvalid) {
        return Effect.fail(
          new LlmError.ToolError({
            message:
              `tool loop: ${ctx.invalid} invalid tool calls, more than maxInvalidArgumentRetries (${ctx.maxInvalid}); ` +
              `the last: ${error.message}`,
            toolName: call.name,
            toolCallId: call.id,
            code: "invalid_arguments"
          }, true)
        )
      }
      const hint = outcome === "unknown_tool"
        ? ""
        : ". Call the tool again with arguments that match its parameters."
      return Effect.succeed(failed(outcome, errorText(error.message) + hint, error))
    })

  const runHandler = (tool: Tool.Any, params: unknown): Effect.Effect<ToolResult, LlmError.ToolError, R> =>
    (tool.handler(params as never) as Effect.Effect<unknown, LlmError.ToolError, R>).pipe(
      Effect.flatMap((value) => Tool.encodeResult(tool, value)),
      Effect.map((encoded): ToolResult => ({
        ...base,
        outcome: "success",
        result: encoded === undefined ? null : encoded,
        isError: false
      })),
      Effect.catchAll((cause: unknown) => {
        const error = handlerError(cause, call)
        return ctx.onToolError === "fail"
          ? Effect.fail(error)
          : Effect.succeed(failed("tool_error", errorText(error.message), error))
      })
    )

  return Effect.suspend((): Effect.Effect<ToolResult, LlmError.ToolError, R> => {
    const tool = ctx.toolkit.byName.get(call.name)
    if (tool === undefined) {
      const names = ctx.toolkit.tools.map((t) => t.name).join(", ")
      return invalidCall(
        "unknown_tool",
        new LlmError.ToolError({
          message: `unknown tool "${call.name}"; the tools are: ${names === "" ? "(none)" : names}`,
          toolName: call.name,
          toolCallId: call.id,
          code: "unknown_tool"
        }, true)
      )
    }
    return Effect.matchEffect(Tool.decodeArguments(tool, call.arguments, ctx.dialect), {
      onFailure: (error) =>
        invalidCall("invalid_arguments", new LlmError.ToolError({ ...fieldsOf(error), toolCallId: call.id }, true)),
      onSuccess: (params) =>
        Effect.flatMap(
          ctx.policy.decide({ id: call.id, name: call.name, arguments: params, step }),
          (decision) =>
            decision._tag === "Deny"
              ? Effect.succeed<ToolResult>({
                ...base,
                outcome: "denied",
                result: `denied: ${decision.reason}`,
                isError: true
              })
              : runHandler(tool, params)
        )
    })
  }).pipe(
    Effect.tap((result) => Effect.annotateCurrentSpan(toolSpanEnd(ctx, result))),
    Effect.withSpan(spans.tool, {
      attributes: {
        [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
        [ATTR_GEN_AI_TOOL_NAME]: call.name,
        [ATTR_GEN_AI_TOOL_CALL_ID]: call.id,
        [attributes.step]: step,
        ...(ctx.logContent.enabled
          ? { [ATTR_GEN_AI_TOOL_CALL_ARGUMENTS]: Telemetry.truncate(render(call.arguments), ctx.logContent.maxChars) }
          : {})
      },
      captureStackTrace: false
    })
  )
}

/** A handler's failure as a `ToolError` naming the tool and the call. */
const handlerError = (cause: unknown, call: ChatResult.ToolCall): LlmError.ToolError => {
  const source = (typeof cause === "object" && cause !== null ? cause : {}) as Partial<LlmError.ToolError>
  return new LlmError.ToolError({
    message: typeof source.message === "string" ? source.message : String(cause),
    toolName: source.toolName ?? call.name,
    toolCallId: source.toolCallId ?? call.id,
    ...(source.code !== undefined ? { code: source.code } : {}),
    ...(source.cause !== undefined ? { cause: source.cause } : {})
  }, true)
}

const fieldsOf = (error: LlmError.ToolError) => ({
  message: error.message,
  ...(error.toolName !== undefined ? { toolName: error.toolName } : {}),
  ...(error.code !== undefined ? { code: error.code } : {})
})

const toolSpanEnd = <R>(ctx: Context<R>, result: ToolResult): Record<string, unknown> => {
  const out: Record<string, unknown> = { [attributes.outcome]: result.outcome }
  if (result.isError) out[ATTR_ERROR_TYPE] = result.outcome
  if (ctx.logContent.enabled) {
    out[ATTR_GEN_AI_TOOL_CALL_RESULT] = Telemetry.truncate(render(result.result), ctx.logContent.maxChars)
  }
  return out
}

/** The tool message answering a step's calls, in their order. */
const toolMessage = (results: ReadonlyArray<ToolResult>): Message.ToolMessage => ({
  role: "tool",
  content: results.map((r) => ({
    type: "tool-result",
    toolCallId: r.id,
    name: r.name,
    result: r.result,
    ...(r.isError ? { isError: true } : {})
  }))
})

const maxStepsError = <R>(ctx: Context<R>) =>
  new LlmError.ToolError({
    message: `tool loop: the model still called tools after maxSteps (${ctx.maxSteps}) steps`,
    code: "max_steps",
    ...(ctx.request.provider !== undefined ? { provider: ctx.request.provider } : {}),
    model: ctx.request.model
  }, true)

const addCost = (a: Usage.Cost | undefined, b: Usage.Cost | undefined): Usage.Cost | undefined =>
  a === undefined
    ? b
    : b === undefined
    ? a
    : { inputUsd: a.inputUsd + b.inputUsd, outputUsd: a.outputUsd + b.outputUsd, totalUsd: a.totalUsd + b.totalUsd }

// -----------------------------------------------------------------------------
// run
// -----------------------------------------------------------------------------

/** Run the loop to its end. */
export const run = <R>(client: Client, options: Options<R>): Effect.Effect<Result, LlmError.LlmError, R> =>
  Effect.flatMap(prepare(client, options), (ctx) => {
    const steps: Array<Step> = []
    let messages: ReadonlyArray<Message.Message> = ctx.request.messages

    const runStep = (n: number) =>
      Effect.gen(function*() {
        const sent = messages
        const result = yield* ctx.client.chat(stepRequest(ctx, n, sent))
        const calls = result.toolCalls
        yield* Effect.annotateCurrentSpan(attributes.toolCalls, calls.length)
        const toolResults = calls.length === 0
          ? []
          : yield* Effect.forEach(calls, (call) => execute(ctx, call, n), { concurrency: ctx.concurrency })
        const step: Step = { step: n, messages: sent, result, toolCalls: calls, toolResults }
        return step
      }).pipe(
        Effect.withSpan(spans.step, { attributes: { [attributes.step]: n }, captureStackTrace: false })
      )

    const loop = (n: number): Effect.Effect<Result, LlmError.LlmError, R> =>
      Effect.flatMap(runStep(n), (step) => {
        steps.push(step)
        messages = [...messages, step.result.message]
        if (step.toolCalls.length === 0) return Effect.succeed(finish(ctx, steps, messages, "answer"))
        messages = [...messages, toolMessage(step.toolResults)]
        if (n >= ctx.maxSteps) {
          return ctx.onMaxSteps === "fail"
            ? Effect.fail(maxStepsError(ctx))
            : Effect.succeed(finish(ctx, steps, messages, "maxSteps"))
        }
        return loop(n + 1)
      })

    return loop(1).pipe(
      Effect.tap((result) => Effect.annotateCurrentSpan(loopSpanEnd(result))),
      Effect.withSpan(spans.loop, loopSpanOptions(ctx))
    )
  })

const loopSpanOptions = <R>(ctx: Context<R>) => ({
  attributes: {
    [ATTR_GEN_AI_REQUEST_MODEL]: ctx.request.model,
    [attributes.maxSteps]: ctx.maxSteps
  },
  captureStackTrace: false
})

const loopSpanEnd = (result: Result): Record<string, unknown> => ({
  [attributes.steps]: result.steps.length,
  [attributes.stoppedBy]: result.stoppedBy,
  [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: result.usage.inputTokens,
  [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: result.usage.outputTokens,
  ...(result.cost !== undefined ? { [Telemetry.attributes.costUsd]: result.cost.totalUsd } : {})
})

const finish = <R>(
  _ctx: Context<R>,
  steps: ReadonlyArray<Step>,
  messages: ReadonlyArray<Message.Message>,
  stoppedBy: Result["stoppedBy"]
): Result => {
  let usage = Usage.empty
  let cost: Usage.Cost | undefined
  for (const step of steps) {
    if (step.result.fromCache === true) continue
    usage = Usage.add(usage, step.result.usage)
    cost = addCost(cost, step.result.cost)
  }
  const last = steps[steps.length - 1]!.result
  return {
    result: last,
    text: last.text,
    steps,
    messages,
    usage,
    ...(cost !== undefined ? { cost } : {}),
    stoppedBy
  }
}

// -----------------------------------------------------------------------------
// stream
// -----------------------------------------------------------------------------

/** The loop as a stream: per step a `StepStart`, the model's events, then a `ToolResult` per call. */
export const stream = <R>(client: Client, options: Options<R>): Stream.Stream<Event, LlmError.LlmError, R> =>
  Stream.unwrap(Effect.map(prepare(client, options), (ctx) => {
    let messages: ReadonlyArray<Message.Message> = ctx.request.messages

    const step = (n: number): Stream.Stream<Event, LlmError.LlmError, R> => {
      let result: ChatResult.ChatResult | undefined
      const results: Array<ToolResult> = []
      const own = Stream.suspend(() => {
        const acc = new StreamEvent.Accumulator()
        const sent = messages
        const model: Stream.Stream<Event, LlmError.LlmError> = Stream.mapChunks(
          ctx.client.chatStream(stepRequest(ctx, n, sent)),
          (chunk) => {
            for (const event of chunk) acc.push(event)
            return chunk
          }
        )
        const tools = Stream.suspend(() => {
          result = acc.result({ latencyMs: 0 })
          const calls = result.toolCalls
          if (calls.length === 0) return Stream.empty
          return Stream.mapEffect(
            Stream.fromIterable(calls),
            (call) => execute(ctx, call, n),
            { concurrency: ctx.concurrency }
          ).pipe(
            Stream.map((r): Event => {
              results.push(r)
              return { _tag: "ToolResult", step: n, ...r }
            })
          )
        })
        const start: Event = { _tag: "StepStart", step: n }
        return Stream.concat(Stream.concat(Stream.succeed(start), model), tools)
      }).pipe(Stream.withSpan(spans.step, { attributes: { [attributes.step]: n }, captureStackTrace: false }))

      const next = Stream.suspend((): Stream.Stream<Event, LlmError.LlmError, R> => {
        if (result === undefined) return Stream.empty
        messages = [...messages, result.message]
        if (result.toolCalls.length === 0) return Stream.empty
        messages = [...messages, toolMessage(results)]
        if (n >= ctx.maxSteps) return ctx.onMaxSteps === "fail" ? Stream.fail(maxStepsError(ctx)) : Stream.empty
        return step(n + 1)
      })
      return Stream.concat(own, next)
    }

    return step(1).pipe(Stream.withSpan(spans.loop, loopSpanOptions(ctx)))
  }))
