/**
 * A wire format the mock server speaks for chat requests. OpenAI Chat Completions is the
 * first; Anthropic Messages and Gemini `generateContent` plug in as further formats with
 * their own routes (see `server.ts`), reusing the fault machinery unchanged.
 */
import type { Intent, Plan } from "./plan.js"

/** What a rendered response needs besides the plan. */
export interface ResponseContext {
  /** The response id (`chatcmpl-mock-1`). */
  readonly id: string
  /** The model to echo (the request's model without its `?controls`). */
  readonly model: string
  /** Unix seconds. */
  readonly created: number
}

/** The frames of a streamed answer, grouped so that faults can cut the stream anywhere. */
export interface SseFrames {
  /** Frames before the content (OpenAI: the role chunk). */
  readonly head: ReadonlyArray<string>
  /** One frame per content delta (text deltas, tool-call starts and argument deltas). */
  readonly content: ReadonlyArray<string>
  /** Frames after the content (finish reason, usage). */
  readonly tail: ReadonlyArray<string>
  /** The end-of-stream marker (`data: [DONE]\n\n`), or `""` for formats without one. */
  readonly terminator: string
}

/** Errors a format renders in its own shape. */
export type ErrorKind = "429" | "500" | "503" | "401" | "400-context" | "bad-request" | "not-found"

export interface ErrorResponse {
  readonly status: number
  readonly body: string
}

export interface ChatFormat {
  readonly name: string
  /** The prefix of response ids (`chatcmpl-mock-`). */
  readonly idPrefix: string
  /** The prefix of tool-call ids (`call_mock_`). */
  readonly callIdPrefix: string
  /** Read a parsed JSON body (and the path, for formats that put the model there); a string is the message of a 400 answer. */
  readonly parse: (body: unknown, path: string) => Intent | string
  readonly json: (plan: Plan, context: ResponseContext) => string
  readonly sse: (plan: Plan, context: ResponseContext, intent: Intent) => SseFrames
  /** A data frame whose JSON is cut off (the `malformed-json` fault). */
  readonly brokenFrame: (context: ResponseContext) => string
  readonly error: (kind: ErrorKind, message?: string) => ErrorResponse
}
