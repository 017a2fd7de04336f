/**
 * A bound call context: who a region of code is calling for (user id, correlation id),
 * how to label it (tags, metadata, metric labels) and request defaults — scoped to an
 * effect or a stream, and read by every `LlmClient` call made inside it.
 *
 * - `userId` goes to log lines and spans, and to the provider's end-user field where one
 *   exists (OpenAI `safety_identifier`, Anthropic `metadata.user_id`; Gemini has none);
 *   a request's own `user` wins.
 * - `correlationId`, `tags` and `metadata` go to log lines and spans (the request's own
 *   `metadata` wins key by key). They are never sent to a provider.
 * - `metricLabels` are added to the `llm_*` metrics of the calls — keep their values to a
 *   small, fixed set (a team, a feature), never a user or request id: each distinct set
 *   of labels is a new time series in your metrics backend.
 * - `defaults` fill request parameters the call leaves unset (`temperature`, `maxTokens`,
 *   `timeout`, `fallback`, …).
 *
 * Nested contexts merge: the inner `userId`/`correlationId` win, tags add up, metadata,
 * metric labels and defaults merge key by key.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CallContext, LlmClient } from "@llm-fiber/core"
 *
 * const handler = LlmClient.chat({ model: "gpt-4o-mini", messages: "Hi" }).pipe(
 *   CallContext.bind({ userId: "u-42", tags: ["checkout"], metricLabels: { feature: "checkout" } })
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as ChatRequest from "./ChatRequest.js"

/**
 * Request parameters a context can default.
 *
 * @since 0.1.0
 * @category models
 */
export type Defaults = Partial<
  Pick<
    ChatRequest.Input,
    | "model"
    | "provider"
    | "temperature"
    | "maxTokens"
    | "topP"
    | "stop"
    | "seed"
    | "providerOptions"
    | "timeout"
    | "fallback"
    | "fallbackOn"
    | "maxRetries"
  >
>

/**
 * What a region of code binds.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallContext {
  /** The end user's id: logs, spans, and the provider's end-user field. */
  readonly userId?: string | undefined
  /** An id tying the calls to a request of your own: logs and spans. */
  readonly correlationId?: string | undefined
  /** Free labels: logs and spans. */
  readonly tags?: ReadonlyArray<string> | undefined
  /** Key/value labels: logs and spans (merged under the request's own `metadata`). */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /** Extra labels on the `llm_*` metrics (bounded values only). */
  readonly metricLabels?: Readonly<Record<string, string>> | undefined
  /** Request parameters the calls leave unset. */
  readonly defaults?: Defaults | undefined
}

/**
 * The context bound where a call runs (empty unless `bind` set one).
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentCallContext extends Context.Reference<CurrentCallContext>()(
  "@llm-fiber/core/CallContext",
  { defaultValue: (): CallContext => empty }
) {}

/**
 * The empty context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: CallContext = {}

/**
 * Whether a context binds nothing.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isEmpty = (context: CallContext): boolean =>
  context === empty ||
  (context.userId === undefined && context.correlationId === undefined && context.tags === undefined &&
    context.metadata === undefined && context.metricLabels === undefined && context.defaults === undefined)

const mergeRecords = <A>(
  outer: Readonly<Record<string, A>> | undefined,
  inner: Readonly<Record<string, A>> | undefined
): Readonly<Record<string, A>> | undefined =>
  outer === undefined ? inner : inner === undefined ? outer : { ...outer, ...inner }

/**
 * Merge an inner context into an outer one.
 *
 * @since 0.1.0
 * @category combinators
 */
export const merge = (outer: CallContext, inner: CallContext): CallContext => {
  if (isEmpty(outer)) return inner
  if (isEmpty(inner)) return outer
  const tags = outer.tags === undefined
    ? inner.tags
    : inner.tags === undefined
    ? outer.tags
    : Array.from(new Set([...outer.tags, ...inner.tags]))
  const out: {
    -readonly [K in keyof CallContext]: CallContext[K]
  } = {}
  const userId = inner.userId ?? outer.userId
  const correlationId = inner.correlationId ?? outer.correlationId
  const metadata = mergeRecords(outer.metadata, inner.metadata)
  const metricLabels = mergeRecords(outer.metricLabels, inner.metricLabels)
  const defaults = outer.defaults === undefined
    ? inner.defaults
    : inner.defaults === undefined
    ? outer.defaults
    : { ...outer.defaults, ...inner.defaults }
  if (userId !== undefined) out.userId = userId
  if (correlationId !== undefined) out.correlationId = correlationId
  if (tags !== undefined) out.tags = tags
  if (metadata !== undefined) out.metadata = metadata
  if (metricLabels !== undefined) out.metricLabels = metricLabels
  if (defaults !== undefined) out.defaults = defaults
  return out
}

/**
 * Bind a context to an effect: every call it makes sees it (merged into any context
 * bound outside), and every log line it writes carries `userId`, `correlationId` and
 * `tags` as annotations.
 *
 * @since 0.1.0
 * @category combinators
 */
export const bind = (context: CallContext) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const annotations = logAnnotations(context)
  return Effect.flatMap(CurrentCallContext, (outer) =>
    Effect.provideService(
      annotations === undefined ? self : Effect.annotateLogs(self, annotations),
      CurrentCallContext,
      merge(outer, context)
    ))
}

/** The log annotations of a context: user id, correlation id, tags. */
const logAnnotations = (context: CallContext): Record<string, unknown> | undefined => {
  let out: Record<string, unknown> | undefined
  if (context.userId !== undefined) (out ??= {}).userId = context.userId
  if (context.correlationId !== undefined) (out ??= {}).correlationId = context.correlationId
  if (context.tags !== undefined && context.tags.length > 0) (out ??= {}).tags = context.tags
  return out
}

/**
 * Bind a context to a stream (for `chatStream` and streams built on it).
 *
 * @since 0.1.0
 * @category combinators
 */
export const bindStream = (context: CallContext) => <A, E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
  Stream.unwrap(
    Effect.map(CurrentCallContext, (outer) => {
      const annotations = logAnnotations(context)
      const provided = Stream.provideService(self, CurrentCallContext, merge(outer, context))
      return annotations === undefined
        ? provided
        : Stream.unwrapScoped(Effect.as(Effect.annotateLogsScoped(annotations), provided))
    })
  )

/**
 * The context bound where this runs.
 *
 * @since 0.1.0
 * @category accessors
 */
export const current: Effect.Effect<CallContext> = CurrentCallContext

/**
 * A request with the context applied: `defaults` under the request's own fields,
 * `metadata` merged under the request's, `userId` as `user` unless the request sets one.
 *
 * @since 0.1.0
 * @category combinators
 */
export const applyTo = (
  context: CallContext,
  input: ChatRequest.Input | ChatRequest.ChatRequest
): ChatRequest.Input => {
  if (isEmpty(context)) return input
  const own: Record<string, unknown> = {}
  const source = input as unknown as Record<string, unknown>
  for (const key of Object.keys(source)) {
    if (source[key] !== undefined) own[key] = source[key]
  }
  const merged: Record<string, unknown> = { ...context.defaults, ...own }
  const metadata = mergeRecords(context.metadata, input.metadata)
  if (metadata !== undefined) merged.metadata = metadata
  if (input.user === undefined && context.userId !== undefined) merged.user = context.userId
  return merged as unknown as ChatRequest.Input
}
