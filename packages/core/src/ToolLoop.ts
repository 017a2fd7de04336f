/**
 * The tool loop: send a request with a toolkit's tools, run the tool calls the model
 * makes, send their results back, and repeat until the model answers without tool calls
 * (or `maxSteps` model calls were made).
 *
 * Each step:
 * 1. the request is sent with the toolkit's definitions, in the schema flavour of the
 *    model's provider (`Tool.definitionFor`; OpenAI strict mode, Gemini's subset, …);
 * 2. each tool call's arguments are decoded with the tool's `Schema` — invalid arguments
 *    and unknown tool names are told to the model as error results (it may repair them,
 *    up to `maxInvalidArgumentRetries` times, then the loop fails with a `ToolError`);
 * 3. the `Approval` policy decides each call (a denied call: `denied: <reason>` as its
 *    result);
 * 4. the handlers run — concurrently when the model made several calls in one turn, at
 *    most `concurrency` at once; a handler's `ToolError` is reported to the model as an
 *    error result (`onToolError: "fail"` fails the loop instead); defects propagate;
 * 5. the assistant message and one tool message with every result (in call order) are
 *    appended to the conversation.
 *
 * Outcomes: the model answers without tool calls → `stoppedBy: "answer"`; the model still
 * calls tools at step `maxSteps` → those calls are run and their results appended (so
 * `messages` can be sent again to continue), then `stoppedBy: "maxSteps"` — or, with
 * `onMaxSteps: "fail"`, a `ToolError` with `code: "max_steps"`.
 *
 * Tracing: a `llm.tool_loop` span, a `llm.step` child per step (holding that step's
 * `llm.chat` span) and a `llm.tool` span per tool call, with the tool name and call id —
 * its arguments and result only when content logging is on (`Telemetry.layerLogContent`
 * provided to the program).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { LlmClient, Tool, Toolkit, ToolLoop } from "@llm-fiber/core"
 *
 * const weather = Tool.make("get_weather", {
 *   description: "Current weather in a city",
 *   parameters: Schema.Struct({ city: Schema.String }),
 *   handler: ({ city }) => Effect.succeed({ city, celsius: 21 })
 * })
 *
 * const program = Effect.gen(function*() {
 *   const result = yield* ToolLoop.chat({
 *     model: "gpt-4o-mini",
 *     messages: "What's the weather in Paris?",
 *     toolkit: Toolkit.make(weather)
 *   })
 *   console.log(result.text, result.steps.length, result.usage)
 * }).pipe(Effect.provide(LlmClient.layerFromEnv()))
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as internal from "./internal/toolLoop.js"
import * as LlmClient from "./LlmClient.js"
import type * as LlmError from "./LlmError.js"

/**
 * What the loop needs of a client: `chat`, `chatStream` and `resolve` (an
 * `LlmClient.Service` has them).
 *
 * @since 0.1.0
 * @category models
 */
export type Client = internal.Client

/**
 * The options of a loop: a chat request (without `tools`: they come from the toolkit),
 * and `toolkit`, `maxSteps` (default 10), `concurrency` (default 8),
 * `maxInvalidArgumentRetries` (default 3), `approval` (default: the `Approval` in context),
 * `onToolError` (`report` | `fail`), `onMaxSteps` (`return` | `fail`), `dialect` (default:
 * from the model's provider). A forced `toolChoice` (`required`, a named tool) applies to
 * the first step only — later steps let the model answer.
 *
 * @since 0.1.0
 * @category models
 */
export type Options<R> = internal.Options<R>

/**
 * How a tool call ended: `success`, `tool_error` (the handler failed with a `ToolError`),
 * `invalid_arguments`, `unknown_tool`, `denied` (by the approval policy).
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = internal.Outcome

/**
 * One tool call: id, name, arguments as sent, outcome, and the `result` the model was
 * sent (`isError` for everything but `success`).
 *
 * @since 0.1.0
 * @category models
 */
export type ToolResult = internal.ToolResult

/**
 * One step: the messages sent, the model's result, its tool calls and their results.
 *
 * @since 0.1.0
 * @category models
 */
export type Step = internal.Step

/**
 * The outcome of a loop: the last `result` (and its `text`), every step, the whole
 * conversation (`messages`, to continue it), `usage` and `cost` summed over the steps,
 * and why it stopped (`answer` | `maxSteps`).
 *
 * @since 0.1.0
 * @category models
 */
export type Result = internal.Result

/**
 * The start of step `step` in a loop's stream.
 *
 * @since 0.1.0
 * @category models
 */
export type StepStart = internal.StepStart

/**
 * A tool call's result in a loop's stream (`_tag: "ToolResult"`, the step, and the
 * fields of `ToolResult`).
 *
 * @since 0.1.0
 * @category models
 */
export type ToolResultEvent = internal.ToolResultEvent

/**
 * What `stream` emits: per step a `StepStart`, the model's `StreamEvent`s (`Start` …
 * `Finish`), then one `ToolResult` per tool call, in call order. A loop that ends with an
 * answer ends with its `Finish`; one stopped by `maxSteps` ends with the last step's
 * `ToolResult`s.
 *
 * @since 0.1.0
 * @category models
 */
export type Event = internal.Event

/**
 * The names of the loop's spans: `llm.tool_loop`, `llm.step`, `llm.tool`.
 *
 * @since 0.1.0
 * @category tracing
 */
export const spans: { readonly loop: "llm.tool_loop"; readonly step: "llm.step"; readonly tool: "llm.tool" } =
  internal.spans

/**
 * The loop's own span attributes: `llm.step` (on `llm.step` and `llm.tool`), `llm.steps`,
 * `llm.max_steps`, `llm.stopped_by` (on `llm.tool_loop`), `llm.tool_calls` (on `llm.step`),
 * `llm.tool.outcome` (on `llm.tool`). The GenAI conventions' `gen_ai.tool.name`,
 * `gen_ai.tool.call.id` (and with content logging `gen_ai.tool.call.arguments` /
 * `gen_ai.tool.call.result`) are on `llm.tool`.
 *
 * @since 0.1.0
 * @category tracing
 */
export const attributes: typeof internal.attributes = internal.attributes

/**
 * Run the loop on a client until the model answers without tool calls (or `maxSteps`).
 *
 * @since 0.1.0
 * @category running
 */
export const run: <R>(client: Client, options: Options<R>) => Effect.Effect<Result, LlmError.LlmError, R> = internal.run

/**
 * The loop as a stream of events (see `Event`).
 *
 * @since 0.1.0
 * @category running
 */
export const stream: <R>(client: Client, options: Options<R>) => Stream.Stream<Event, LlmError.LlmError, R> =
  internal.stream

/**
 * `run` on the `LlmClient` in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chat = <R>(options: Options<R>): Effect.Effect<Result, LlmError.LlmError, R | LlmClient.LlmClient> =>
  Effect.flatMap(LlmClient.LlmClient, (client) => run(client, options))

/**
 * `stream` on the `LlmClient` in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chatStream = <R>(
  options: Options<R>
): Stream.Stream<Event, LlmError.LlmError, R | LlmClient.LlmClient> =>
  Stream.unwrap(Effect.map(LlmClient.LlmClient, (client) => stream(client, options)))
