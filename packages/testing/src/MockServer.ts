/**
 * A mock LLM provider: a real HTTP server on a loopback port that speaks the OpenAI Chat
 * Completions, OpenAI Responses, Anthropic Messages and Gemini wire formats (JSON and SSE), answers
 * deterministically, and injects faults on request — for wire tests of provider packages,
 * examples, the CLI and benchmarks.
 *
 * Routes: OpenAI `POST /v1/chat/completions`, `POST /v1/responses`, `POST /v1/embeddings`, `GET /v1/models`;
 * Anthropic `POST /v1/messages`; Gemini `POST /{v1beta|v1}/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse`, `:embedContent`, `:batchEmbedContents` (the model
 * URL-encoded in the path, controls included); and the controls `GET /__mock/requests`,
 * `POST /__mock/reset`, `POST /__mock/script`. No API key is checked; request headers are
 * recorded.
 *
 * Each chat request is answered, in order of precedence, by the next scripted response
 * for its model (`POST /__mock/script` or `handle.script`), else a tool call (when tools are offered,
 * `tool_choice` is not `"none"` and the last message is from the user; arguments are
 * synthesized from the tool's JSON schema), else JSON when the request asks for JSON output
 * (OpenAI `response_format` / Responses `text.format` `json_schema` or `json_object`, Gemini
 * `responseMimeType: application/json`: a value synthesized from the schema, or
 * `{"reply": …}` without one), else a text mentioning the tool result (when the last
 * message is a tool result), else `Mock reply to: <last user text>`.
 *
 * Controls per request — in the model (`mock?chunks=5&fault=429&times=2&delayMs=10`; for
 * Gemini the model in the path, `mock%3Fchunks%3D5`) or in
 * `x-mock-*` headers (which win): `chunks`, `fault`, `times`, `delayMs`, `chunkDelayMs`,
 * `retryAfterMs`, `hugeBytes`. See `docs/testing.md` for every fault.
 *
 * **Gotchas**
 * - Only loopback addresses are bound unless `allowRemote: true`.
 * - `close()` destroys open sockets, so stalled responses never keep it waiting.
 * - API requests are recorded (the latest `maxRecorded`, default 10 000) unless
 *   `record: false` (`--no-record` for the bin), which benchmarks may prefer.
 *
 * @example
 * ```ts
 * import { MockServer } from "@llm-fiber/testing"
 *
 * const server = await MockServer.start()
 * const res = await fetch(`${server.openaiBaseUrl}/chat/completions`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ model: "gpt-4o-mini?chunks=3", messages: [{ role: "user", content: "hi" }] })
 * })
 * console.log((await res.json()).choices[0].message.content) // "tok1 tok2 tok3 "
 * await server.close()
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Controls from "./internal/mock/controls.js"
import * as Server from "./internal/mock/server.js"

/**
 * A fault the server can inject:
 *
 * Every error body is in the shape of the request's wire format (OpenAI — Chat Completions and
 * Responses — `{ error }`,
 * Anthropic `{ type: "error", error }`, Google `{ error: { code, message, status } }`).
 *
 * - `429`: status 429, a rate-limit body; OpenAI and Anthropic: `retry-after` (whole
 *   seconds, rounded up) and `retry-after-ms` headers; Gemini: a `RetryInfo` detail
 *   (`retryDelay: "0.01s"`) in the body (default 10 ms; `retryAfterMs=` / `x-mock-retry-after`)
 * - `500`, `503`, `529`: server errors (`503`/`529` carry retry hints only when
 *   `retryAfterMs` is set; `529` is Anthropic's `overloaded_error`)
 * - `401`, `403`: an invalid-API-key / permission body
 * - `400-context`: a context-length body
 * - `reset-before-headers`: the socket is reset once the request has been read
 * - `reset-mid-stream`: headers and about half of the content chunks (half of the JSON
 *   body), then the connection is closed
 * - `stall`: the request is read and never answered
 * - `stall-mid-stream`: headers and about half of the content, then silence forever
 * - `malformed-json`: a data frame whose JSON is cut off (JSON: a 200 body cut in half)
 * - `malformed-sse`: a line that is no SSE field, then a data line whose event is never
 *   terminated by a blank line, then the body ends without its terminator
 *   (JSON: the same garbage as `text/event-stream`)
 * - `no-done`: the content, then the body ends without a finish reason, usage or terminator
 *   (`[DONE]`; Anthropic: no `message_delta`/`message_stop`; Gemini: no `finishReason`)
 *   (JSON: `finish_reason: null` / `stop_reason: null` / no `finishReason`); Responses: no
 *   `.done` events of the last item and no `response.completed` (JSON: `status: "in_progress"`)
 * - `error-event`: about half of the content, then an in-stream error (Anthropic
 *   `event: error` with `overloaded_error`; OpenAI and Gemini a `data: {"error":…}` frame),
 *   then the body ends (JSON: that error object as a 200 body); Responses: an `error` event
 *   (`code: "server_error"`) then `response.failed` (JSON: a 200 `Response` with `status: "failed"`)
 * - `wrong-content-type`: 200 `text/html`
 * - `huge-body`: one content delta (JSON: the message content) of `hugeBytes` bytes,
 *   default 50 MiB, written as fast as the client reads
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = Controls.Fault

/**
 * Every fault name.
 *
 * @since 0.1.0
 * @category models
 */
export const faults: ReadonlyArray<Fault> = Controls.faults

/**
 * Options of `start` and `layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Server.Options {
  /** The port; `0` (the default) picks a free one. */
  readonly port?: number | undefined
  /** The address to bind: `127.0.0.1` by default; non-loopback addresses need `allowRemote`. */
  readonly host?: string | undefined
  /** Record API requests for `requests` (default true; turn off for benchmarks). */
  readonly record?: boolean | undefined
  /** How many of the latest requests to keep (default 10 000). */
  readonly maxRecorded?: number | undefined
  /** Allow binding a non-loopback address. */
  readonly allowRemote?: boolean | undefined
}

/**
 * An API request as the server received it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest extends Server.RecordedRequest {}

/**
 * A scripted response (`POST /__mock/script` takes a JSON array of these): text and/or
 * tool calls (`arguments` an object or a JSON string; several calls are parallel calls of
 * one turn, their arguments streamed in pieces), an optional `finishReason`
 * (`stop` | `length` | `tool_calls` | `content_filter`), `usage` (`prompt_tokens` /
 * `completion_tokens` / `cached_tokens`, or `inputTokens` / `outputTokens`), and the
 * per-request controls — a `fault` here replaces the request's.
 *
 * The queue is served one item per chat request, in order, so a script of turns drives a
 * tool loop: `[{ toolCalls: [...] }, { toolCalls: [...] }]` answers the first two requests
 * with calls, and the third (the last message a tool result) gets the default
 * `The tool returned: …` text. With `model`, an item is served only to requests for that
 * model (without its `?controls`; other requests pass it by), so tests of several models
 * can share one server.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptedResponse extends Controls.ScriptItem {}

/**
 * A running server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle extends Server.Handle {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  readonly port: number
  /** `url + "/v1"`: what `OPENAI_BASE_URL` means (`{base}/chat/completions`, `{base}/responses`). */
  readonly openaiBaseUrl: string
  /** `url`: what `ANTHROPIC_BASE_URL` means (requests go to `{base}/v1/messages`). */
  readonly anthropicBaseUrl: string
  /** `url`: what `GEMINI_BASE_URL` means (requests go to `{base}/{version}/models/…`). */
  readonly geminiBaseUrl: string
  /** The API requests received since the start or the last `reset()` (not the `/__mock/*` ones). */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** How many connections the client closed before their response was complete. */
  readonly closedConnections: () => number
  /**
   * Resolves at the next client close not yet awaited (at once when one already
   * happened); rejects after `timeoutMs` (default 5000).
   */
  readonly waitForClientClose: (timeoutMs?: number) => Promise<void>
  /** Queue scripted responses, served in order to chat requests before the default answer. */
  readonly script: (responses: ReadonlyArray<ScriptedResponse>) => void
  /** Clear recordings, the script queue, the `times` counters, the client-close count and id counters. */
  readonly reset: () => void
  /** Stop listening and destroy open connections (stalled ones included). */
  readonly close: () => Promise<void>
}

/**
 * Start a server. Rejects when the port is taken or the host is not loopback.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options?: Options): Promise<Handle> => Server.start(options)

/**
 * The running server of a `layer`.
 *
 * @since 0.1.0
 * @category tags
 */
export class MockServer extends Context.Tag("@llm-fiber/testing/MockServer")<MockServer, Handle>() {}

/**
 * A server for the lifetime of the layer (closed when its scope ends).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<MockServer> =>
  Layer.scoped(
    MockServer,
    Effect.acquireRelease(Effect.promise(() => start(options)), (handle) => Effect.promise(() => handle.close()))
  )
