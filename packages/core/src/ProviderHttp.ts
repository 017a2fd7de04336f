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
 * **The fast path**: when the provider's `HttpClient` is llm-fiber's undici client
 * (`UndiciHttpClient`), with the provider's headers added by `withHeaders`, a request goes
 * straight to undici's `Dispatcher.dispatch` — one `Effect.async` per JSON request, an event
 * stream read by callbacks and decoded when pulled — instead of `HttpClient.execute` and a
 * `Stream` over the body. Headers, the `http.client` span, errors and cancellation are the
 * same as on the generic path, which any other `HttpClient` (`FetchHttpClient`, a test
 * client, a `transformClient`) takes. The streams returned here are *native*: `LlmClient`
 * and the Promise facade pull them without running a `Stream` (keep them so by wrapping
 * them only with `mapEvents`, `mapStreamError`, `unwrapStream` and `catchStreamStart`).
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Deadline from "./internal/deadline.js"
import * as Source from "./internal/source.js"
import * as Transport from "./internal/transport.js"
import * as LlmError from "./LlmError.js"
import type * as Provider from "./Provider.js"
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
  /**
   * The provider call this request serves. On the fast path `postJson` enforces its
   * `timeouts.totalMs` (phase `total`) when the fiber runs on the live clock, and the
   * request's `http.client` span is a child of the call's attempt span; see `declareCall`.
   */
  readonly call?: Provider.Call | undefined
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
  /** Milliseconds from sending the request to the end of the response body. */
  readonly latencyMs: number
}

const errorBodyLimit = Transport.errorBodyLimit

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
): LlmError.LlmError =>
  Transport.transportFailure(
    error.cause,
    error._tag === "RequestError" ? error.reason : "Transport",
    spec,
    during
  )

const headerRecord = (response: HttpClientResponse.HttpClientResponse): Record<string, string | undefined> =>
  response.headers as unknown as Record<string, string | undefined>

const tooLarge = (spec: RequestSpec, status: number, limit: number) => Transport.tooLarge(spec, status, limit)

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
    Effect.map(Transport.decodeUtf8),
    Effect.orElseSucceed(() => ""),
    Effect.zip(Clock.currentTimeMillis),
    Effect.flatMap(([text, nowMs]) =>
      Effect.fail(Transport.failureFromText(response.status, text, headerRecord(response), spec, nowMs))
    )
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
  Transport.protocolError(spec, info, message)

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
): Effect.Effect<JsonResponse, LlmError.LlmError> => {
  const transport = Transport.transportOf(client)
  return transport !== undefined ? Transport.postJson(transport, spec) : postJsonGeneric(client, spec)
}

const postJsonGeneric = (
  client: HttpClient.HttpClient,
  spec: RequestSpec
): Effect.Effect<JsonResponse, LlmError.LlmError> =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (start) =>
      Effect.flatMap(send(client, spec, "application/json"), ([response, info]) => {
        const type = contentType(info)
        if (type !== "" && !type.includes("json")) {
          return Effect.zipRight(
            Effect.ignore(readBytes(response, errorBodyLimit, spec)),
            Effect.fail(protocolError(spec, info, `expected a JSON response, got content-type "${type}"`))
          )
        }
        return Effect.flatMap(
          readBytes(response, spec.maxBodyBytes ?? Transport.defaultMaxBodyBytes, spec),
          (bytes) => {
            const text = Transport.decodeUtf8(bytes)
            try {
              const json: unknown = JSON.parse(text)
              return Effect.map(
                Clock.currentTimeMillis,
                (end): JsonResponse => ({ ...info, json, latencyMs: end - start })
              )
            } catch (e) {
              return Effect.fail(
                protocolError(
                  spec,
                  info,
                  `malformed JSON in the response body (${
                    e instanceof Error ? e.message : String(e)
                  }; ${bytes.length} bytes)`
                )
              )
            }
          }
        )
      })
  )

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
): Stream.Stream<A, LlmError.LlmError> => {
  const transport = Transport.transportOf(client)
  if (transport === undefined) return postSseGeneric(client, spec, f)
  return Source.native(Effect.map(
    Effect.either(Effect.uninterruptible(Transport.openSse(transport, spec))),
    (opened): Source.Source<A> => {
      if (opened._tag === "Left") return Source.failed(Cause.fail(opened.left))
      const exchange = opened.right
      const call = Source.deferred(
        Effect.flatMap(exchange.head, (info) => Source.openOf(f(info, Source.native(Effect.succeed(exchange)))))
      )
      return {
        pull: call.pull,
        abort: (cause) => {
          exchange.abort(cause)
          call.abort(cause)
        },
        close: (exit) => Effect.zipRight(call.close(exit), exchange.close())
      }
    }
  ))
}

const postSseGeneric = <A>(
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
  const open = Source.nativeOf(events)
  if (open !== undefined) {
    return Source.native(Effect.map(open, (source) =>
      Source.mapChunks<Sse.SseEvent, A>(source, (items, out) => {
        for (let i = 0; i < items.length; i++) f(items[i]!, out)
      }, onEnd)))
  }
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

// -----------------------------------------------------------------------------
// provider plumbing that keeps the fast path
// -----------------------------------------------------------------------------

/**
 * Headers a provider sets on every request.
 *
 * @since 0.1.0
 * @category models
 */
export interface HeaderOptions {
  /** Set on every request, over the request's own headers (names are lowercased). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Secret headers (an API key): set last, kept `Redacted` until the request is sent, and
   * redacted in the `http.client` span.
   */
  readonly secrets?: Readonly<Record<string, Redacted.Redacted>> | undefined
  /** More header names to redact in the request's span (besides the secret ones). */
  readonly redact?: ReadonlyArray<string> | undefined
}

const defaultRedactedNames = Transport.initialOf(Headers.currentRedactedNames)

const lowercased = (headers: Readonly<Record<string, string>> | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  if (headers !== undefined) { for (const name in headers) out[name.toLowerCase()] = headers[name]! }
  return out
}

/**
 * A client that sets the given headers on every request — what `HttpClient.mapRequest`
 * with `setHeaders` does, keeping the fast path when `client` is llm-fiber's undici client.
 * Secret header names not redacted by default (`Headers.currentRedactedNames`) are added to
 * the redacted names of the request's span.
 *
 * @since 0.1.0
 * @category constructors
 */
export const withHeaders = (client: HttpClient.HttpClient, options: HeaderOptions): HttpClient.HttpClient => {
  const headers = lowercased(options.headers)
  const secrets: Array<readonly [string, Redacted.Redacted]> = []
  if (options.secrets !== undefined) {
    for (const name in options.secrets) secrets.push([name.toLowerCase(), options.secrets[name]!])
  }
  const defaults = defaultRedactedNames()
  const redact = [...secrets.map(([name]) => name), ...(options.redact ?? []).map((name) => name.toLowerCase())]
    .filter((name, i, all) =>
      all.indexOf(name) === i &&
      !defaults.some((d: string | RegExp) => (typeof d === "string" ? d.toLowerCase() === name : d.test(name)))
    )
  const hasHeaders = Object.keys(headers).length > 0
  if (!hasHeaders && secrets.length === 0 && redact.length === 0) return client
  let out = client
  if (hasHeaders || secrets.length > 0) {
    out = HttpClient.mapRequest(out, (request) => {
      let next = hasHeaders ? HttpClientRequest.setHeaders(request, headers) : request
      for (const [name, value] of secrets) next = HttpClientRequest.setHeader(next, name, Redacted.value(value))
      return next
    })
  }
  if (redact.length > 0) {
    out = HttpClient.transform(out, (effect) =>
      Effect.locallyWith(effect, Headers.currentRedactedNames, (names) => [
        ...names,
        ...redact.filter((name) => !names.includes(name))
      ]))
  }
  const base = Transport.transportOf(client)
  if (base !== undefined) {
    Transport.register(out, {
      dispatcher: base.dispatcher,
      headers: { ...base.headers, ...headers },
      secrets: [
        ...base.secrets.filter(([name]) => !(name in headers) && !secrets.some(([s]) => s === name)),
        ...secrets
      ],
      redact: [...base.redact, ...redact.filter((name) => !base.redact.includes(name))]
    })
  }
  return out
}

/**
 * Whether requests through `client` take the fast path (llm-fiber's undici client, plus
 * headers from `withHeaders`).
 *
 * @since 0.1.0
 * @category utils
 */
export const isFast = (client: HttpClient.HttpClient): boolean => Transport.transportOf(client) !== undefined

/**
 * Declare that `provider.chat` sends its requests through `client` with the call in their
 * specs (`RequestSpec.call`). On the fast path the transport then enforces the call's total
 * deadline (one timer per request) and parents the request's span to the call's attempt
 * span, so `LlmClient` arms no timer of its own and does not make the attempt span the
 * current span (which costs a context copy per call). On any other client this does
 * nothing. Returns `provider`.
 *
 * @since 0.1.0
 * @category utils
 */
export const declareCall = <P extends Provider.Provider>(client: HttpClient.HttpClient, provider: P): P => {
  if (isFast(client)) Deadline.markEnforcesTotal(provider)
  return provider
}

/**
 * `Stream.mapError` that keeps a native stream native.
 *
 * @since 0.1.0
 * @category combinators
 */
export const mapStreamError = <A>(
  stream: Stream.Stream<A, LlmError.LlmError>,
  f: (error: LlmError.LlmError) => LlmError.LlmError
): Stream.Stream<A, LlmError.LlmError> => {
  const open = Source.nativeOf(stream)
  if (open === undefined) return Stream.mapError(stream, f)
  return Source.native(Effect.map(open, (source) => Source.mapError(source, f)))
}

/**
 * `Stream.unwrap` that keeps the resulting stream native (the effect runs when the stream
 * is first pulled, in the consumer's fiber; a failure of the effect fails the stream).
 *
 * @since 0.1.0
 * @category combinators
 */
export const unwrapStream = <A>(
  effect: Effect.Effect<Stream.Stream<A, LlmError.LlmError>, LlmError.LlmError>
): Stream.Stream<A, LlmError.LlmError> =>
  Source.native(Effect.sync(() => Source.deferred(Effect.flatMap(effect, Source.openOf))))

/**
 * Recover from a failure that ends a stream before its first element (a request the
 * server rejected): `f` returns the stream to continue with, or `undefined` to fail with
 * the error. Failures after the first element pass through.
 *
 * @since 0.1.0
 * @category combinators
 */
export const catchStreamStart = <A>(
  stream: Stream.Stream<A, LlmError.LlmError>,
  f: (error: LlmError.LlmError) => Stream.Stream<A, LlmError.LlmError> | undefined
): Stream.Stream<A, LlmError.LlmError> =>
  Source.native(Effect.sync(() => {
    let current: Source.Source<A> | undefined
    let started = false
    let recovered = false
    let aborted: Cause.Cause<LlmError.LlmError> | undefined
    let closed: Exit.Exit<unknown, unknown> | undefined
    const first = Source.deferred(Source.openOf(stream))
    current = first
    const pull: Effect.Effect<Array<A> | undefined, LlmError.LlmError> = Effect.suspend(() => {
      const source = current!
      if (started || recovered) return source.pull
      return Effect.matchCauseEffect(source.pull, {
        onSuccess: (items) => {
          started = true
          // past the start nothing is caught: later pulls go straight to the source
          if (aborted === undefined) self.pull = source.pull
          return Effect.succeed(items)
        },
        onFailure: (cause) => {
          const failure = Cause.failureOption(cause)
          if (failure._tag === "None" || aborted !== undefined) return Effect.failCause(cause)
          recovered = true
          const replacement = f(failure.value)
          if (replacement === undefined) return Effect.failCause(cause)
          return Effect.zipRight(
            source.close(Exit.failCause(cause)),
            Effect.suspend(() => {
              const next = Source.deferred(Source.openOf(replacement))
              current = next
              if (closed !== undefined) return Effect.zipRight(next.close(closed), Effect.failCause(cause))
              return next.pull
            })
          )
        }
      })
    })
    const self: {
      pull: Source.Source<A>["pull"]
      readonly abort: Source.Source<A>["abort"]
      readonly close: Source.Source<A>["close"]
    } = {
      pull,
      abort: (cause) => {
        aborted ??= cause
        current?.abort(cause)
      },
      close: (exit) =>
        Effect.suspend(() => {
          closed ??= exit
          return current === undefined ? Effect.void : current.close(exit)
        })
    }
    return self
  }))
