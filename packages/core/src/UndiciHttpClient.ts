/**
 * An `HttpClient` (from `@effect/platform`) on top of `undici`'s `Dispatcher.request`.
 *
 * **Why**: on Node 20, the global `fetch` costs several times the CPU of
 * `undici.request` per request (see `bench/RESULTS.md`); this client is what
 * `LlmClient.layerFromEnv` and the Promise facade use. Any other `HttpClient` layer
 * (`FetchHttpClient.layer`, a test client) can replace it.
 *
 * Gotchas: undici's own header/body timeouts are switched off — the pipeline's
 * `Timeouts` apply instead; only the connect timeout is set on the dispatcher.
 *
 * Provider requests (`ProviderHttp`) through a client made here skip the `HttpClient`
 * machinery: they go to the dispatcher directly, with the same headers, span and errors
 * (see `ProviderHttp`). Wrapping the client in anything but `ProviderHttp.withHeaders`
 * (e.g. a provider's `transformClient`) sends through the generic path again.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { UndiciHttpClient } from "@llm-fiber/core"
 *
 * const Http = UndiciHttpClient.layer({ connectTimeoutMs: 5_000 })
 * ```
 *
 * @since 0.1.0
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Readable } from "node:stream"
import * as Undici from "undici"
import * as Transport from "./internal/transport.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Connect timeout in milliseconds. Default 10 000. */
  readonly connectTimeoutMs?: number | undefined
  /** Idle keep-alive sockets are closed after this many milliseconds. Default 30 000. */
  readonly keepAliveTimeoutMs?: number | undefined
  /** Most connections per origin. Default unlimited. */
  readonly connections?: number | undefined
}

const bodyOf = (body: HttpBody.HttpBody): string | Uint8Array | Readable | Undici.FormData | null => {
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw":
      return body.body as string | Uint8Array
    case "FormData":
      return body.formData as unknown as Undici.FormData
    case "Stream":
      return Readable.fromWeb(Stream.toReadableStream(body.stream) as never)
  }
}

const ignore = () => {}

class Response extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId
  private cachedHeaders: Headers.Headers | undefined
  private cachedText: Effect.Effect<string, HttpClientError.ResponseError> | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    readonly source: Undici.Dispatcher.ResponseData
  ) {
    super()
    this[IncomingMessage.TypeId] = IncomingMessage.TypeId
    this[HttpClientResponse.TypeId] = HttpClientResponse.TypeId
    source.body.on("error", ignore)
  }

  get status(): number {
    return this.source.statusCode
  }

  get headers(): Headers.Headers {
    if (this.cachedHeaders === undefined) {
      const raw = this.source.headers
      const out: Record<string, string> = {}
      for (const name in raw) {
        const value = raw[name]
        if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
      }
      this.cachedHeaders = Headers.unsafeFromRecord(out)
    }
    return this.cachedHeaders
  }

  get cookies(): Cookies.Cookies {
    const header = this.source.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    const body = this.source.body
    // A Readable's own `return()` waits behind a pending `next()`, which never settles on a
    // silent socket: interrupting a stalled stream would hang. Destroy the body instead,
    // which settles the pending read and closes the socket.
    const iterable: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => {
        const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>
        return {
          next: () => iterator.next(),
          return: () => {
            body.destroy()
            return Promise.resolve({ done: true, value: undefined })
          }
        }
      }
    }
    return Stream.fromAsyncIterable(iterable, (cause) => this.decodeError(cause))
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return this.cachedText ??= Effect.runSync(Effect.cached(Effect.tryPromise({
      try: () => this.source.body.text(),
      catch: (cause) => this.decodeError(cause)
    })))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => (text === "" ? null : JSON.parse(text)) as unknown,
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.tryPromise({ try: () => this.source.body.arrayBuffer(), catch: (cause) => this.decodeError(cause) })
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.tryPromise({
      try: () => this.source.body.formData() as Promise<FormData>,
      catch: (cause) => this.decodeError(cause)
    })
  }

  override toJSON(): unknown {
    return IncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

/**
 * An `HttpClient` sending through the given dispatcher.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Undici.Dispatcher): HttpClient.HttpClient => {
  const client = HttpClient.make((request, url, signal) =>
    Effect.map(
      Effect.tryPromise({
        try: (): Promise<Undici.Dispatcher.ResponseData> =>
          dispatcher.request({
            signal,
            method: request.method,
            headers: request.headers,
            origin: url.origin,
            path: url.pathname + url.search,
            body: bodyOf(request.body),
            headersTimeout: 0,
            bodyTimeout: 0
          }),
        catch: (cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause })
      }),
      (response) => new Response(request, response)
    )
  )
  // provider requests through this client take ProviderHttp's fast path
  Transport.register(client, { dispatcher, headers: {}, secrets: [], redact: [] })
  return client
}

/**
 * A new undici `Agent` with llm-fiber's defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeAgent = (options?: Options): Undici.Agent =>
  new Undici.Agent({
    connect: { timeout: options?.connectTimeoutMs ?? 10_000 },
    keepAliveTimeout: options?.keepAliveTimeoutMs ?? 30_000,
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(options?.connections !== undefined ? { connections: options.connections } : {})
  })

/**
 * An `HttpClient` over a fresh undici `Agent`, closed when the layer is released.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => makeAgent(options)),
        (agent) => Effect.promise(() => agent.destroy().catch(() => undefined))
      ),
      make
    )
  )
