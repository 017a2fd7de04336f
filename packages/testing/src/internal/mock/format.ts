/**
 * A wire format the mock server speaks for chat requests: OpenAI Chat Completions
 * (`openai.ts`), OpenAI Responses (`responses.ts`), Anthropic Messages (`anthropic.ts`) and
 * Gemini `generateContent` (`gemini.ts`). Each has its own routes (see `server.ts`) and
 * shares the fault machinery.
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
  /** Frames before the content (OpenAI: the role chunk; Anthropic: `message_start`, the first block start, `ping`). */
  readonly head: ReadonlyArray<string>
  /**
   * One frame per content delta (text deltas, tool-call starts and argument deltas). A frame
   * may hold more than one SSE event (Anthropic: a block stop and the next block's start
   * travel with the next delta), so that `content.length` stays the number of deltas.
   */
  readonly content: ReadonlyArray<string>
  /** Frames after the content (finish reason, usage). */
  readonly tail: ReadonlyArray<string>
  /**
   * The end-of-stream marker (`data: [DONE]\n\n`, Anthropic's `message_stop`, Responses'
   * `response.completed`), or `""` for formats without one.
   */
  readonly terminator: string
  /**
   * The in-stream error (the `error-event` fault) sent after the head and the first
   * `contentFrames` content frames — for formats whose events are numbered (Responses'
   * `sequence_number`); `ChatFormat.errorEvent.frame` otherwise.
   */
  readonly errorFrame?: ((contentFrames: number) => string) | undefined
}

/** Errors a format renders in its own shape. */
export type ErrorKind =
  | "429"
  | "500"
  | "503"
  | "529"
  | "401"
  | "403"
  | "400-context"
  | "bad-request"
  | "not-found"

export interface ErrorResponse {
  readonly status: number
  readonly body: string
  /** Extra response headers (the retry hints of a 429). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

export interface ErrorOptions {
  readonly message?: string | undefined
  /** The retry hint of a 429 (always given) or a 503/529 (given when the request set one). */
  readonly retryAfterMs?: number | undefined
}

export interface ChatFormat {
  readonly name: string
  /** The prefix of response ids (`chatcmpl-mock-`). */
  readonly idPrefix: string
  /** The prefix of tool-call ids (`call_mock_`). */
  readonly callIdPrefix: string
  /** The response header that carries the request id (`x-request-id`, Anthropic's `request-id`). */
  readonly requestIdHeader: string
  /** The line ending of its SSE frames (`"\n"`; Gemini: `"\r\n"`). */
  readonly eol: string
  /**
   * Read a parsed JSON body and the request target (path and query string, for formats
   * that put the model or the stream mode there); a string is the message of a 400 answer.
   */
  readonly parse: (body: unknown, target: string) => Intent | string
  readonly json: (plan: Plan, context: ResponseContext, intent: Intent) => string
  readonly sse: (plan: Plan, context: ResponseContext, intent: Intent) => SseFrames
  /** A data frame whose JSON is cut off (the `malformed-json` fault). */
  readonly brokenFrame: (context: ResponseContext) => string
  /** An in-stream error event after HTTP 200 (the `error-event` fault), and the same error as a JSON body. */
  readonly errorEvent: { readonly frame: string; readonly body: string }
  /** The 200 JSON body of the `error-event` fault when it depends on the response (`errorEvent.body` otherwise). */
  readonly errorJson?: ((context: ResponseContext, intent: Intent) => string) | undefined
  readonly error: (kind: ErrorKind, options?: ErrorOptions) => ErrorResponse
}

/**
 * The text of a `huge-body` answer until the server writes the huge string in its place
 * (formats that repeat the text in later events write an empty text there instead).
 */
export const hugePlaceholder = "@@llm-fiber-mock-huge@@"

/** `retry-after` (whole seconds, rounded up) and `retry-after-ms` (exact). */
export const retryHeaders = (retryAfterMs: number | undefined): Record<string, string> | undefined =>
  retryAfterMs === undefined ? undefined : {
    "retry-after": String(Math.ceil(retryAfterMs / 1000)),
    "retry-after-ms": String(retryAfterMs)
  }
