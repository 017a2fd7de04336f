/**
 * HTTP plumbing shared by provider packages: send a JSON request, read a JSON or SSE
 * response, and turn every failure into an `LlmError` (no `HttpClientError` escapes).
 *
 * - Non-2xx responses are read (bounded) and mapped by `LlmError.fromHttpFailure`.
 * - Transport failures become `NetworkError`, or `TimeoutError` (`connect`) for a
 *   connect timeout.
 * - A JSON body that does not parse, a body over `maxBodyBytes`, an unexpected content
 *   type, an SSE event over `maxEventBytes` are `ProtocolError`s.
 * - Interrupting the effect or the stream aborts the HTTP request.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import * as LlmError from "./LlmError.js"
import * as Sse from "./Sse.js"

/**
 * One request to a provider.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestSpec {
  readonly provider: string
  readonly model: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** The JSON body (serialized once). */
  readonly body: unknown
  /** The largest JSON response accepted. Default 64 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** The largest single SSE event accepted. Default 32 MiB. */
  readonly maxEventBytes?: number | undefined
}

/**
 * What a response said besides its body.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponseInfo {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly requestId: string | undefined
  /** Milliseconds from sending the request to the response headers. */
  readonly ttfbMs: number
}

/**
 * A parsed JSON response.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonResponse extends ResponseInfo {
  readonly json: unknown
}

const errorBodyLimit = 64 * 1024

const describe = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (Predicate.isRecord(current)) {
      const code = typeof current.code === "string" ? current.code : undefined
      const message = typeof current.message === "string" ? current.message : undefined
      if (code !== undefined || message !== undefined) parts.push([code, message].filter(Boolean).join(" "))
      current = current.cause
    } else {
      parts.push(String(current))
      break
    }
  }
  return parts.filter((p) => p !== "").join(": ") || "unknown transport error"
}

const codeOf = (cause: unknown): string | undefined => {
  let current: unknown = cause
  for (let depth = 0; depth < 4 && Predicate.isRecord(current); depth++) {
    if (typeof current.code === "string") return current.code
    current = current.cause
  }
  return undefined
}

/**
 * Map a transport-level failure (no usable response) to an `LlmError`.
 *
 * @since 0.1.0
 * @category errors
 */
export const fromTransportError = (
  error: HttpClientError.HttpClientError,
  spec: { readonly provider: string; readonly model: string },
  during: "request" | "response"
): LlmError.LlmError => {
  const cause = error.cause
  const code = codeOf(cause)
  const context = { provider: spec.provider, model: spec.model }
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return new LlmError.TimeoutError({
      ...context,
      phase: "connect",
      message: `${spec.provider}: timed out connecting to the server`
    }, true)
  }
  if (error._tag === "RequestError" && error.reason !== "Transport") {
    return new LlmError.InvalidRequestError({
      ...context,
      message: `${spec.provider}: could not build the HTTP request (${error.reason}): ${describe(cause)}`
    }, true)
  }
  const detail = describe(cause)
  return new LlmError.NetworkError({
    ...context,
    message: during === "request"
      ? `${spec.provider}: request failed before a response arrived (${detail})`
      : `${spec.provider}: connection lost while reading the response (${detail})`,
    ...(code !== undefined ? { code } : {})
  }, true)
}

const headerRecord = (response: HttpClientResponse.HttpClientResponse): Record<string, string | undefined> =>
  response.headers as unknown as Record<string, string | undefined>

const tooLarge = (spec: RequestSpec, status: number, limit: number) =>
  new LlmError.ProtocolError({
    provider: spec.provider,
    model: spec.model,
    status,
    message: `${spec.provider}: response body larger than ${limit} bytes`
  }, true)

/**
 * Read a body as bytes, failing once it grows past `limit`. A body with a
 * `content-length` within the limit is read in one go (no stream machinery: this is the
 * common case of every non-streaming call).
 */
const readBytes = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number,
  spec: RequestSpec
): Effect.Effect<Uint8Array, LlmError.LlmError> => {
  const declared = response.headers["content-length"]
  if (declared !== undefined) {
    const length = Number(declared)
    if (length > limit) return Effect.fail(tooLarge(spec, response.status, limit))
    if (Number.isFinite(length)) {
      return Effect.mapBoth(response.arrayBuffer, {
        onFailure: (e) => fromTransportError(e, spec, "response"),
        onSuccess: (buffer) => new Uint8Array(buffer)
      })
    }
  }
  return readStreamed(response, limit, spec)
}

const readStreamed = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number,
  spec: RequestSpec
): Effect.Effect<Uint8Array, LlmError.LlmError> =>
  Effect.suspend(() => {
    const parts: Array<Uint8Array> = []
    let size = 0
    return response.stream.pipe(
      Stream.mapError((e) => fromTransportError(e, spec, "response")),
      Stream.runForEachChunk((chunk) => {
        for (const bytes of chunk) {
          size += bytes.length
          parts.push(bytes)
        }
        return size > limit ? Effect.fail(tooLarge(spec, response.status, limit)) : Effect.void
      }),
      Effect.map(() => {
        if (parts.length === 1) return parts[0]!
        const out = new Uint8Array(size)
        let offset = 0
        for (const part of parts) {
          out.set(part, offset)
          offset += part.length
        }
        return out
      })
    )
  })

const utf8 = new TextDecoder()

/**
 * Turn a non-2xx response into its `LlmError` (reads at most 64 KiB of the body).
 *
 * @since 0.1.0
 * @category errors
 */
export const failureFromResponse = (
  response: HttpClientResponse.HttpClientResponse,
  spec: RequestSpec
): Effect.Effect<never, LlmError.LlmError> =>
  readBytes(response, errorBodyLimit, spec).pipe(
    Effect.map((bytes) => utf8.decode(bytes)),
    Effect.orElseSucceed(() => ""),
    Effect.zip(Clock.currentTimeMillis),
    Effect.flatMap(([text, nowMs]) => {
      let body: unknown = text
      try {
        body = text === "" ? undefined : JSON.parse(text)
      } catch {
        // keep the raw text
      }
      return Effect.fail(
        LlmError.fromHttpFailure({
          status: response.status,
          body,
          headers: headerRecord(response),
          provider: spec.provider,
          model: spec.model,
          nowMs
        })
      )
    })
  )

const buildRequest = (spec: RequestSpec, accept: string): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.post(spec.url).pipe(
    HttpClientRequest.setHeaders(spec.headers),
    HttpClientRequest.setHeader("accept", accept),
    HttpClientRequest.bodyText(JSON.stringify(spec.body), "application/json")
  )

/** Send a request and wait for its headers; non-2xx becomes the mapped `LlmError`. */
const send = (
  client: HttpClient.HttpClient,
  spec: RequestSpec,
  accept: string
): Effect.Effect<readonly [HttpClientResponse.HttpClientResponse, ResponseInfo], LlmError.LlmError> =>
  Effect.flatMap(Clock.currentTimeMillis, (start) =>
    client.execute(buildRequest(spec, accept)).pipe(
      Effect.mapError((e) => fromTransportError(e, spec, "request")),
      Effect.flatMap((response) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (response.status < 200 || response.status >= 300) return failureFromResponse(response, spec)
          const headers = headerRecord(response)
          const info: ResponseInfo = {
            status: response.status,
            headers,
            requestId: LlmError.requestIdFrom(headers),
            ttfbMs: now - start
          }
          return Effect.succeed([response, info] as const)
        })
      )
    ))

const protocolError = (spec: RequestSpec, info: ResponseInfo, message: string) =>
  new LlmError.ProtocolError({
    provider: spec.provider,
    model: spec.model,
    status: info.status,
    ...(info.requestId !== undefined ? { requestId: info.requestId } : {}),
    message: `${spec.provider}: ${message}`
  }, true)

const contentType = (info: ResponseInfo) => (info.headers["content-type"] ?? "").toLowerCase()

/**
 * POST a JSON body and parse the JSON response.
 *
 * @since 0.1.0
 * @category requests
 */
export const postJson = (
  client: HttpClient.HttpClient,
  spec: RequestSpec
): Effect.Effect<JsonResponse, LlmError.LlmError> =>
  Effect.flatMap(send(client, spec, "application/json"), ([response, info]) => {
    const type = contentType(info)
    if (type !== "" && !type.includes("json")) {
      return Effect.zipRight(
        Effect.ignore(readBytes(response, errorBodyLimit, spec)),
        Effect.fail(protocolError(spec, info, `expected a JSON response, got content-type "${type}"`))
      )
    }
    return Effect.flatMap(readBytes(response, spec.maxBodyBytes ?? 64 * 1024 * 1024, spec), (bytes) => {
      const text = utf8.decode(bytes)
      try {
        return Effect.succeed({ ...info, json: JSON.parse(text) as unknown })
      } catch (e) {
        return Effect.fail(
          protocolError(
            spec,
            info,
            `malformed JSON in the response body (${e instanceof Error ? e.message : String(e)}; ${bytes.length} bytes)`
          )
        )
      }
    })
  })

/**
 * POST a JSON body and decode the `text/event-stream` response into SSE events. `f`
 * receives the response info (status, headers, request id) and the event stream, and
 * returns the stream the caller sees. The events arrive in chunks, one per network read.
 *
 * @since 0.1.0
 * @category requests
 */
export const postSse = <A>(
  client: HttpClient.HttpClient,
  spec: RequestSpec,
  f: (info: ResponseInfo, events: Stream.Stream<Sse.SseEvent, LlmError.LlmError>) => Stream.Stream<A, LlmError.LlmError>
): Stream.Stream<A, LlmError.LlmError> =>
  Stream.unwrap(Effect.map(send(client, spec, "text/event-stream"), ([response, info]) => {
    const type = contentType(info)
    if (!type.includes("text/event-stream")) {
      return Stream.fail(
        protocolError(spec, info, `expected an event stream, got content-type "${type === "" ? "none" : type}"`)
      )
    }
    const bytes = response.stream.pipe(Stream.mapError((e) => fromTransportError(e, spec, "response")))
    const events = Sse.decodeStream(bytes, {
      maxEventBytes: spec.maxEventBytes,
      onTooLarge: (e) => protocolError(spec, info, e.message)
    })
    return f(info, events)
  }))

/**
 * Parse the JSON `data` of an SSE event; a frame that should hold JSON but does not is a
 * `ProtocolError` (never a silently skipped chunk).
 *
 * @since 0.1.0
 * @category utils
 */
export const parseEventJson = (
  event: Sse.SseEvent,
  context: { readonly provider: string; readonly model: string; readonly requestId?: string | undefined }
): unknown => {
  try {
    return JSON.parse(event.data)
  } catch {
    throw new LlmError.ProtocolError({
      provider: context.provider,
      model: context.model,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      message: `${context.provider}: malformed JSON in a stream event: ${
        event.data.length > 200 ? event.data.slice(0, 200) + "…" : event.data
      }`
    }, true)
  }
}

type MapStep<A> = Channel.Channel<
  Chunk.Chunk<A>,
  Chunk.Chunk<Sse.SseEvent>,
  LlmError.LlmError,
  LlmError.LlmError,
  unknown,
  unknown
>

const emitThen = <A>(out: Array<A>, next: MapStep<A>): MapStep<A> =>
  out.length === 0 ? next : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), next)

const failWith = <A>(e: unknown): MapStep<A> =>
  LlmError.isLlmError(e) ? Channel.fail(e) : Channel.failCause(Cause.die(e))

/**
 * Map chunks of SSE events to chunks of output with a stateful, synchronous function —
 * one step per network read, not per event. An `LlmError` thrown by `f` (or `onEnd`)
 * fails the stream *after* the output produced before it in the same chunk is emitted
 * (so the last deltas before an in-stream error still reach the caller and the error's
 * partial output).
 *
 * @since 0.1.0
 * @category combinators
 */
export const mapEvents = <A>(
  events: Stream.Stream<Sse.SseEvent, LlmError.LlmError>,
  f: (event: Sse.SseEvent, out: Array<A>) => void,
  onEnd: (out: Array<A>) => void
): Stream.Stream<A, LlmError.LlmError> => {
  const loop: MapStep<A> = Channel.readWithCause({
    onInput: (input: Chunk.Chunk<Sse.SseEvent>) => {
      const out: Array<A> = []
      try {
        for (const event of input) f(event, out)
      } catch (e) {
        return emitThen(out, failWith(e))
      }
      return emitThen(out, loop)
    },
    onFailure: (cause) => Channel.failCause(cause),
    onDone: () => {
      const out: Array<A> = []
      try {
        onEnd(out)
      } catch (e) {
        return emitThen(out, failWith(e))
      }
      return emitThen(out, Channel.void)
    }
  })
  return Stream.pipeThroughChannelOrFail(events, Channel.suspend(() => loop))
}
