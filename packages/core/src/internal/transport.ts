/**
 * The HTTP fast path of `ProviderHttp`: when the `HttpClient` of a provider is llm-fiber's
 * undici client (plus the provider's headers), requests go straight to undici's
 * `Dispatcher.dispatch` with a handler of our own — one `Effect.async` per JSON request, a
 * callback-driven `Source` for an event stream — instead of `HttpClient.execute`, a scoped
 * response, a `FinalizationRegistry` entry and a `Stream` over a `Readable`.
 *
 * It keeps what the generic path does: the same headers, the `http.client POST` span of
 * `@effect/platform` (same name, attributes, redaction and trace propagation, honouring
 * `HttpClient.currentTracerDisabledWhen`, `currentTracerPropagation`, `SpanNameGenerator`
 * and `Headers.currentRedactedNames`), the same errors, and interruption aborting the
 * request.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type * as Tracer from "effect/Tracer"
import type * as Undici from "undici"
import * as LlmError from "../LlmError.js"
import type * as Provider from "../Provider.js"
import * as Sse from "../Sse.js"
import * as Deadline from "./deadline.js"
import type * as Source from "./source.js"

// -----------------------------------------------------------------------------
// registry: which HttpClient values are the undici client (plus headers)
// -----------------------------------------------------------------------------

/** What the fast path needs to send like the generic path would. */
export interface Transport {
  readonly dispatcher: Undici.Dispatcher
  /** Set on every request, over the request's own headers (lowercase names). */
  readonly headers: Readonly<Record<string, string>>
  /** Secret headers (API keys), set last. */
  readonly secrets: ReadonlyArray<readonly [name: string, value: Redacted.Redacted]>
  /** Header names redacted in spans besides `Headers.currentRedactedNames`. */
  readonly redact: ReadonlyArray<string>
}

const transports = new WeakMap<HttpClient.HttpClient, Transport>()

/** Declare `client` as sending through `transport`. */
export const register = (client: HttpClient.HttpClient, transport: Transport): void => {
  transports.set(client, transport)
}

/** The transport of a client, when it is the undici client (plus headers). */
export const transportOf = (client: HttpClient.HttpClient): Transport | undefined => transports.get(client)

// -----------------------------------------------------------------------------
// errors (shared with the generic path of ProviderHttp)
// -----------------------------------------------------------------------------

/** What failed, as text: the codes and messages along a chain of causes. */
export const describe = (cause: unknown): string => {
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

/** Who a failure is about. */
export interface About {
  readonly provider: string
  readonly model: string
}

/**
 * A transport failure (no usable response) as an `LlmError`. `reason` is the
 * `RequestError` reason of `@effect/platform` (`Transport` unless the request could not be
 * built).
 */
export const transportFailure = (
  cause: unknown,
  reason: string,
  about: About,
  during: "request" | "response"
): LlmError.LlmError => {
  const code = codeOf(cause)
  const context = { provider: about.provider, model: about.model }
  if (code === "UND_ERR_CONNECT_TIMEOUT") {
    return new LlmError.TimeoutError({
      ...context,
      phase: "connect",
      message: `${about.provider}: timed out connecting to the server`
    }, true)
  }
  if (reason !== "Transport") {
    return new LlmError.InvalidRequestError({
      ...context,
      message: `${about.provider}: could not build the HTTP request (${reason}): ${describe(cause)}`
    }, true)
  }
  const detail = describe(cause)
  return new LlmError.NetworkError({
    ...context,
    message: during === "request"
      ? `${about.provider}: request failed before a response arrived (${detail})`
      : `${about.provider}: connection lost while reading the response (${detail})`,
    ...(code !== undefined ? { code } : {})
  }, true)
}

/** The body of an error response read up to this many bytes (more: the body is dropped). */
export const errorBodyLimit = 64 * 1024

/** The default largest JSON response. */
export const defaultMaxBodyBytes = 64 * 1024 * 1024

const utf8 = new TextDecoder()

/** Decode bytes as UTF-8 (a leading BOM dropped, invalid sequences replaced). */
export const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes)

/** The `LlmError` of a non-2xx response, from its (bounded) body text. */
export const failureFromText = (
  status: number,
  text: string,
  headers: Readonly<Record<string, string | undefined>>,
  about: About,
  nowMs: number
): LlmError.LlmError => {
  let body: unknown = text
  try {
    body = text === "" ? undefined : JSON.parse(text)
  } catch {
    // keep the raw text
  }
  return LlmError.fromHttpFailure({ status, body, headers, provider: about.provider, model: about.model, nowMs })
}

/** A body over its size limit. */
export const tooLarge = (about: About, status: number, limit: number): LlmError.ProtocolError =>
  new LlmError.ProtocolError({
    provider: about.provider,
    model: about.model,
    status,
    message: `${about.provider}: response body larger than ${limit} bytes`
  }, true)

/** What a response said besides its body. */
export interface Info {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly requestId: string | undefined
  readonly ttfbMs: number
}

/** A protocol violation of a response. */
export const protocolError = (about: About, info: Info, message: string): LlmError.ProtocolError =>
  new LlmError.ProtocolError({
    provider: about.provider,
    model: about.model,
    status: info.status,
    ...(info.requestId !== undefined ? { requestId: info.requestId } : {}),
    message: `${about.provider}: ${message}`
  }, true)

// -----------------------------------------------------------------------------
// requests
// -----------------------------------------------------------------------------

/** One request (the fields of `ProviderHttp.RequestSpec` the transport reads). */
export interface Spec extends About {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  readonly maxBodyBytes?: number | undefined
  readonly maxEventBytes?: number | undefined
  readonly call?: Provider.Call | undefined
}

interface Target {
  readonly origin: string
  /** path and query */
  readonly path: string
  readonly full: string
  readonly pathname: string
  readonly scheme: string
  readonly port: string
  readonly query: string
}

const targets = new Map<string, Target>()

/** The parts of a URL (cached: a provider sends to a handful of URLs). Throws on a bad URL. */
const targetOf = (url: string): Target => {
  const hit = targets.get(url)
  if (hit !== undefined) return hit
  const parsed = new URL(url)
  const target: Target = {
    origin: parsed.origin,
    path: parsed.pathname + parsed.search,
    full: parsed.toString(),
    pathname: parsed.pathname,
    scheme: parsed.protocol.slice(0, -1),
    port: parsed.port,
    query: parsed.search.slice(1)
  }
  if (targets.size >= 1024) targets.clear()
  targets.set(url, target)
  return target
}

/** Headers as the generic path sends them: the request's, accept, content type, then the client's. */
const headersOf = (transport: Transport, spec: Spec, accept: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const own = spec.headers
  for (const name in own) out[name.toLowerCase()] = own[name]!
  out.accept = accept
  out["content-type"] = "application/json"
  const shared = transport.headers
  for (const name in shared) out[name] = shared[name]!
  for (const [name, value] of transport.secrets) out[name] = Redacted.value(value)
  return out
}

const flatten = (headers: Record<string, string | Array<string> | undefined>): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

/** The initial value of a fiber ref (read once, lazily: no work at import). */
export const initialOf = <A>(ref: FiberRef.FiberRef<A>): () => A => {
  let value: { readonly a: A } | undefined
  return () => (value ??= { a: Effect.runSync(FiberRef.get(ref)) }).a
}

const defaultDisabledWhen = initialOf(HttpClient.currentTracerDisabledWhen)
let defaultSpanName: ((request: HttpClientRequest.HttpClientRequest) => string) | undefined

const redactedIn = (name: string, names: ReadonlyArray<string | RegExp>, extra: ReadonlyArray<string>): boolean => {
  for (const n of names) {
    if (typeof n === "string" ? n.toLowerCase() === name : n.test(name)) return true
  }
  return extra.includes(name)
}

const redactedText = String(Redacted.make(""))

/** The `http.client` span of `@effect/platform` for one request. */
class HttpSpan {
  constructor(
    readonly span: Tracer.Span,
    private readonly clock: Clock.Clock,
    private readonly timing: boolean,
    private readonly names: ReadonlyArray<string | RegExp>,
    private readonly extra: ReadonlyArray<string>
  ) {}

  private ended = false

  headers(prefix: string, headers: Readonly<Record<string, string | undefined>>): void {
    for (const name in headers) {
      const value = headers[name]
      if (value === undefined) continue
      this.span.attribute(prefix + name, redactedIn(name, this.names, this.extra) ? redactedText : value)
    }
  }

  end(exit: Exit.Exit<unknown, unknown>): void {
    if (this.ended) return
    this.ended = true
    this.span.end(this.timing ? this.clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
  }

  responded(status: number, headers: Readonly<Record<string, string | undefined>>): void {
    this.span.attribute("http.response.status_code", status)
    this.headers("http.response.header.", headers)
    this.end(Exit.void)
  }
}

interface Prepared {
  readonly call: Provider.Call | undefined
  readonly target: Target
  readonly headers: Record<string, string>
  readonly clock: Clock.Clock
  readonly spanName: string | undefined
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
}

/** Everything decided before sending, in the calling fiber; a bad URL fails as the generic path does. */
const prepare = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  transport: Transport,
  spec: Spec,
  accept: string
): Prepared | LlmError.LlmError => {
  let target: Target
  try {
    target = targetOf(spec.url)
  } catch (cause) {
    return transportFailure(cause, "InvalidUrl", spec, "request")
  }
  const headers = headersOf(transport, spec, accept)
  let spanName: string | undefined
  if (fiber.getFiberRef(FiberRef.currentTracerEnabled)) {
    const disabledWhen = fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)
    const nameOf = Context.get(fiber.currentContext, HttpClient.SpanNameGenerator)
    let request: HttpClientRequest.HttpClientRequest | undefined
    const requestOf = () => request ??= HttpClientRequest.setHeaders(HttpClientRequest.post(target.full), headers)
    const disabled = disabledWhen !== defaultDisabledWhen() && disabledWhen(requestOf())
    defaultSpanName ??= Context.get(Context.empty(), HttpClient.SpanNameGenerator)
    if (!disabled) spanName = nameOf === defaultSpanName ? "http.client POST" : nameOf(requestOf())
  }
  return { call: spec.call, target, headers, clock: Deadline.clockOf(fiber), spanName, fiber }
}

const spanOptions: Tracer.SpanOptions = { kind: "client", captureStackTrace: false }

/** Open the span (when tracing is on), set its request attributes and the trace headers. */
const withSpan = <A, E>(
  prepared: Prepared,
  transport: Transport,
  f: (span: HttpSpan | undefined) => Effect.Effect<A, E>
): Effect.Effect<A, E> => {
  if (prepared.spanName === undefined) return f(undefined)
  // the attempt span of the call this request serves (not the current span: see `declareCall`)
  const parent = prepared.call === undefined ? undefined : Deadline.attemptSpanOf(prepared.call)
  const options = parent === undefined ? spanOptions : { ...spanOptions, parent }
  return Effect.flatMap(Effect.makeSpan(prepared.spanName, options), (span) => {
    const fiber = prepared.fiber
    const http = new HttpSpan(
      span,
      prepared.clock,
      fiber.getFiberRef(FiberRef.currentTracerTimingEnabled),
      fiber.getFiberRef(Headers.currentRedactedNames),
      transport.redact
    )
    const target = prepared.target
    span.attribute("http.request.method", "POST")
    span.attribute("server.address", target.origin)
    if (target.port !== "") span.attribute("server.port", +target.port)
    span.attribute("url.full", target.full)
    span.attribute("url.path", target.pathname)
    span.attribute("url.scheme", target.scheme)
    if (target.query !== "") span.attribute("url.query", target.query)
    http.headers("http.request.header.", prepared.headers)
    if (fiber.getFiberRef(HttpClient.currentTracerPropagation)) {
      const headers = prepared.headers
      const parent = span.parent
      headers.b3 = `${span.traceId}-${span.spanId}-${span.sampled ? "1" : "0"}${
        parent._tag === "Some" ? `-${parent.value.spanId}` : ""
      }`
      headers.traceparent = `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
    }
    return f(http)
  })
}

const dispatchOptions = (
  target: Target,
  headers: Record<string, string>,
  body: string
): Undici.Dispatcher.DispatchOptions => ({
  origin: target.origin,
  path: target.path,
  method: "POST",
  headers,
  body,
  headersTimeout: 0,
  bodyTimeout: 0
})

class Aborted extends Error {
  readonly code = "UND_ERR_ABORTED"
  constructor() {
    super("Request aborted")
    this.name = "AbortError"
  }
}

/** What both exchanges share: the controller, aborting before or after it exists. */
abstract class Exchange implements Undici.Dispatcher.DispatchHandler {
  protected controller: Undici.Dispatcher.DispatchController | undefined = undefined
  private abortReason: Error | undefined = undefined
  /** the response status (0 before the response started) */
  protected status = 0

  constructor(readonly spec: Spec, readonly span: HttpSpan | undefined, readonly redact: ReadonlyArray<string>) {}

  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.abortReason !== undefined) controller.abort(this.abortReason)
  }

  /** Abort the request (before it started, at once when it does). */
  protected abortRequest(): void {
    if (this.abortReason !== undefined) return
    this.abortReason = new Aborted()
    if (this.controller !== undefined && !this.controller.aborted) this.controller.abort(this.abortReason)
  }

  abstract onResponseStart(
    controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void
  abstract onResponseData(controller: Undici.Dispatcher.DispatchController, chunk: Uint8Array): void
  abstract onResponseEnd(controller: Undici.Dispatcher.DispatchController): void
  abstract onResponseError(controller: Undici.Dispatcher.DispatchController | undefined, error: Error): void
}

const concat = (parts: Array<Uint8Array>, size: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

// -----------------------------------------------------------------------------
// a JSON exchange: one Effect.async
// -----------------------------------------------------------------------------

/** A parsed JSON response. */
export interface JsonResponse extends Info {
  readonly json: unknown
  readonly latencyMs: number
}

type Resume<A> = (effect: Effect.Effect<A, LlmError.LlmError>) => void

class JsonExchange extends Exchange {
  private mode: "body" | "error" | "drain" = "body"
  private parts: Array<Uint8Array> = []
  private size = 0
  private limit = 0
  private info: Info | undefined = undefined
  private headers: Readonly<Record<string, string | undefined>> = {}
  private pending: LlmError.LlmError | undefined = undefined
  private done = false
  private timer: Deadline.Timer | undefined = undefined

  constructor(
    spec: Spec,
    span: HttpSpan | undefined,
    redact: ReadonlyArray<string>,
    private readonly clock: Clock.Clock,
    private readonly start: number,
    private readonly resume: Resume<JsonResponse>
  ) {
    super(spec, span, redact)
  }

  /** The call's total deadline, enforced here on the live clock (`LlmClient` relies on it). */
  armTotal(): void {
    const total = this.spec.call?.timeouts.totalMs
    if (total === undefined || this.clock !== Deadline.liveClock) return
    this.timer = Deadline.schedule(this.clock, total, () => {
      this.finish(Effect.fail(Deadline.timeoutError("total", total, this.spec)))
      this.abortRequest()
    })
  }

  private finish(effect: Effect.Effect<JsonResponse, LlmError.LlmError>): void {
    if (this.done) return
    this.done = true
    this.timer?.cancel()
    this.parts = []
    this.resume(effect)
  }

  /** The fiber was interrupted: abort. */
  interrupt(fiber: Fiber.RuntimeFiber<unknown, unknown>): void {
    if (this.done) return
    this.done = true
    this.timer?.cancel()
    this.span?.end(Exit.failCause(Cause.interrupt(fiber.id())))
    this.abortRequest()
  }

  onResponseStart(
    _controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    raw: Record<string, string | Array<string> | undefined>
  ): void {
    if (this.done || statusCode < 200) return
    const spec = this.spec
    const headers = flatten(raw)
    this.status = statusCode
    this.headers = headers
    this.span?.responded(statusCode, headers)
    const info: Info = {
      status: statusCode,
      headers,
      requestId: LlmError.requestIdFrom(headers),
      ttfbMs: this.clock.unsafeCurrentTimeMillis() - this.start
    }
    if (statusCode >= 300) {
      this.mode = "error"
      this.limit = errorBodyLimit
      return
    }
    const type = (headers["content-type"] ?? "").toLowerCase()
    if (type !== "" && !type.includes("json")) {
      // drained (bounded) so the connection can be reused, then failed
      this.mode = "drain"
      this.limit = errorBodyLimit
      this.pending = protocolError(spec, info, `expected a JSON response, got content-type "${type}"`)
      return
    }
    const limit = spec.maxBodyBytes ?? defaultMaxBodyBytes
    const declared = headers["content-length"]
    if (declared !== undefined && Number(declared) > limit) {
      this.finish(Effect.fail(tooLarge(spec, statusCode, limit)))
      this.abortRequest()
      return
    }
    this.limit = limit
    this.info = info
  }

  onResponseData(_controller: Undici.Dispatcher.DispatchController, chunk: Uint8Array): void {
    if (this.done) return
    this.size += chunk.length
    if (this.size > this.limit) {
      if (this.mode === "body") this.finish(Effect.fail(tooLarge(this.spec, this.status, this.limit)))
      else if (this.mode === "error") this.finishError("")
      else this.finish(Effect.fail(this.pending!))
      this.abortRequest()
      return
    }
    if (this.mode !== "drain") this.parts.push(chunk)
  }

  private finishError(text: string): void {
    this.finish(
      Effect.fail(failureFromText(this.status, text, this.headers, this.spec, this.clock.unsafeCurrentTimeMillis()))
    )
  }

  onResponseEnd(): void {
    if (this.done) return
    if (this.mode === "drain") return this.finish(Effect.fail(this.pending!))
    const bytes = concat(this.parts, this.size)
    if (this.mode === "error") return this.finishError(decodeUtf8(bytes))
    const info = this.info!
    let json: unknown
    try {
      json = JSON.parse(decodeUtf8(bytes))
    } catch (e) {
      return this.finish(Effect.fail(protocolError(
        this.spec,
        info,
        `malformed JSON in the response body (${e instanceof Error ? e.message : String(e)}; ${bytes.length} bytes)`
      )))
    }
    this.finish(
      Effect.succeed({
        status: info.status,
        headers: info.headers,
        requestId: info.requestId,
        ttfbMs: info.ttfbMs,
        json,
        latencyMs: this.clock.unsafeCurrentTimeMillis() - this.start
      })
    )
  }

  onResponseError(_controller: Undici.Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.done) return
    if (this.status === 0) {
      const failure = transportFailure(error, "Transport", this.spec, "request")
      this.span?.end(Exit.fail(failure))
      return this.finish(Effect.fail(failure))
    }
    if (this.mode === "error") return this.finishError("")
    if (this.mode === "drain") return this.finish(Effect.fail(this.pending!))
    this.finish(Effect.fail(transportFailure(error, "Transport", this.spec, "response")))
  }
}

/** POST a JSON body and parse the JSON response, in one `Effect.async`. */
export const postJson = (transport: Transport, spec: Spec): Effect.Effect<JsonResponse, LlmError.LlmError> =>
  Effect.withFiberRuntime((fiber) => {
    const prepared = prepare(fiber, transport, spec, "application/json")
    if (LlmError.isLlmError(prepared)) return Effect.fail(prepared)
    return withSpan(prepared, transport, (span) =>
      Effect.async<JsonResponse, LlmError.LlmError>((resume) => {
        const clock = prepared.clock
        const exchange = new JsonExchange(spec, span, transport.redact, clock, clock.unsafeCurrentTimeMillis(), resume)
        exchange.armTotal()
        transport.dispatcher.dispatch(
          dispatchOptions(prepared.target, prepared.headers, JSON.stringify(spec.body)),
          exchange
        )
        return Effect.sync(() => exchange.interrupt(fiber))
      }))
  })

// -----------------------------------------------------------------------------
// an event stream: a Source of SSE events
// -----------------------------------------------------------------------------

/** Bytes buffered (not decoded yet) before the socket is paused. */
const highWaterMark = 64 * 1024

/**
 * An SSE response: `head` waits for the response (status, content type); the exchange is
 * then the source of its events, decoded when pulled (everything buffered at once: one
 * chunk per pull, however many network reads it took).
 */
export class SseExchange extends Exchange implements Source.Source<Sse.SseEvent> {
  private readonly decoder: Sse.Decoder
  private readonly clock: Clock.Clock
  private readonly start: number
  private headResult: Effect.Effect<Info, LlmError.LlmError> | undefined = undefined
  private headWaiter: Resume<Info> | undefined = undefined
  private info: Info | undefined = undefined
  private errorMode = false
  private errorParts: Array<Uint8Array> = []
  private errorSize = 0
  private errorHeaders: Readonly<Record<string, string | undefined>> = {}
  private raw: Array<Uint8Array> = []
  private rawBytes = 0
  private paused = false
  private ended = false
  private failure: Cause.Cause<LlmError.LlmError> | undefined = undefined
  private waiter: Resume<Array<Sse.SseEvent> | undefined> | undefined = undefined
  private closed = false
  private complete = false

  constructor(spec: Spec, span: HttpSpan | undefined, redact: ReadonlyArray<string>, clock: Clock.Clock) {
    super(spec, span, redact)
    this.decoder = new Sse.Decoder({ maxEventBytes: spec.maxEventBytes })
    this.clock = clock
    this.start = clock.unsafeCurrentTimeMillis()
  }

  // --- the response head -------------------------------------------------------

  private settleHead(result: Effect.Effect<Info, LlmError.LlmError>): void {
    if (this.headResult !== undefined) return
    this.headResult = result
    const waiter = this.headWaiter
    if (waiter !== undefined) {
      this.headWaiter = undefined
      waiter(result)
    }
  }

  /** The response info once the response started as an event stream (else its error). */
  readonly head: Effect.Effect<Info, LlmError.LlmError> = Effect.suspend(() =>
    this.headResult ?? Effect.async<Info, LlmError.LlmError>((resume) => {
      this.headWaiter = resume
      return Effect.sync(() => {
        this.headWaiter = undefined
        this.shutdown()
      })
    })
  )

  onResponseStart(
    _controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    raw: Record<string, string | Array<string> | undefined>
  ): void {
    if (this.closed || statusCode < 200 || this.headResult !== undefined) return
    const headers = flatten(raw)
    this.status = statusCode
    this.span?.responded(statusCode, headers)
    if (statusCode >= 300) {
      this.errorMode = true
      this.errorHeaders = headers
      return
    }
    const info: Info = {
      status: statusCode,
      headers,
      requestId: LlmError.requestIdFrom(headers),
      ttfbMs: this.clock.unsafeCurrentTimeMillis() - this.start
    }
    const type = (headers["content-type"] ?? "").toLowerCase()
    if (!type.includes("text/event-stream")) {
      this.settleHead(Effect.fail(protocolError(
        this.spec,
        info,
        `expected an event stream, got content-type "${type === "" ? "none" : type}"`
      )))
      this.finishRequest()
      return
    }
    this.info = info
    this.settleHead(Effect.succeed(info))
  }

  private failHead(text: string): void {
    this.settleHead(
      Effect.fail(
        failureFromText(this.status, text, this.errorHeaders, this.spec, this.clock.unsafeCurrentTimeMillis())
      )
    )
  }

  // --- the body ----------------------------------------------------------------

  onResponseData(controller: Undici.Dispatcher.DispatchController, chunk: Uint8Array): void {
    if (this.closed) return
    if (this.errorMode) {
      this.errorSize += chunk.length
      if (this.errorSize > errorBodyLimit) {
        this.failHead("")
        this.finishRequest()
      } else {
        this.errorParts.push(chunk)
      }
      return
    }
    if (this.failure !== undefined) return
    const waiter = this.waiter
    if (waiter !== undefined && this.raw.length === 0) {
      // a pull waits: decode now and hand the events over
      const result = this.decode([chunk])
      if (result !== undefined) {
        this.waiter = undefined
        waiter(result)
      }
      return
    }
    this.raw.push(chunk)
    this.rawBytes += chunk.length
    if (this.rawBytes >= highWaterMark && !this.paused) {
      this.paused = true
      controller.pause()
    }
  }

  onResponseEnd(): void {
    this.complete = true
    if (this.closed) return
    if (this.errorMode) return this.failHead(decodeUtf8(concat(this.errorParts, this.errorSize)))
    this.ended = true
    const waiter = this.waiter
    if (waiter !== undefined && this.raw.length === 0) {
      this.waiter = undefined
      waiter(this.failure !== undefined ? Effect.failCause(this.failure) : Effect.succeed(undefined))
    }
  }

  onResponseError(_controller: Undici.Dispatcher.DispatchController | undefined, error: Error): void {
    this.complete = true
    if (this.closed) return
    if (this.status === 0) {
      const failure = transportFailure(error, "Transport", this.spec, "request")
      this.span?.end(Exit.fail(failure))
      return this.settleHead(Effect.fail(failure))
    }
    if (this.errorMode) return this.failHead("")
    if (this.headResult === undefined) return
    this.setFailure(Cause.fail(transportFailure(error, "Transport", this.spec, "response")))
  }

  private setFailure(cause: Cause.Cause<LlmError.LlmError>): void {
    if (this.failure !== undefined) return
    this.failure = cause
    const waiter = this.waiter
    if (waiter !== undefined && this.raw.length === 0) {
      this.waiter = undefined
      waiter(Effect.failCause(cause))
    }
  }

  /**
   * Decode bytes into events: the events (a pull's answer), a failure after them, or
   * `undefined` when they completed no event.
   */
  private decode(parts: ReadonlyArray<Uint8Array>): Effect.Effect<Array<Sse.SseEvent>, LlmError.LlmError> | undefined {
    let events: Array<Sse.SseEvent> | undefined
    try {
      for (const bytes of parts) {
        const got = this.decoder.push(bytes)
        if (got.length > 0) {
          if (events === undefined) events = got
          else for (const e of got) events.push(e)
        }
      }
    } catch (e) {
      if (!(e instanceof Sse.SseTooLargeError)) throw e
      // the events completed before the oversized one still reach the consumer
      const error = protocolError(this.spec, this.info!, e.message)
      this.raw = []
      this.rawBytes = 0
      this.failure = Cause.fail(error)
      this.finishRequest()
      return events === undefined ? Effect.fail(error) : Effect.succeed(events)
    }
    return events === undefined ? undefined : Effect.succeed(events)
  }

  readonly pull: Effect.Effect<Array<Sse.SseEvent> | undefined, LlmError.LlmError> = Effect.suspend(() => {
    if (this.raw.length > 0) {
      const parts = this.raw
      this.raw = []
      this.rawBytes = 0
      const result = this.decode(parts)
      if (result !== undefined) return result
    }
    if (this.failure !== undefined) return Effect.failCause(this.failure)
    if (this.ended) return Effect.succeed(undefined)
    return this.wait
  })

  private readonly wait: Effect.Effect<Array<Sse.SseEvent> | undefined, LlmError.LlmError> = Effect.async((resume) => {
    this.waiter = resume
    if (this.paused) {
      this.paused = false
      this.controller?.resume()
    }
    return Effect.sync(() => {
      this.waiter = undefined
      this.shutdown()
    })
  })

  /** Stop: abort the request unless the response is complete. */
  private finishRequest(): void {
    if (this.complete) return
    this.complete = true
    this.abortRequest()
  }

  readonly abort = (cause: Cause.Cause<LlmError.LlmError>): void => {
    if (this.closed) return
    this.raw = []
    this.rawBytes = 0
    const failure = Effect.failCause(cause)
    if (this.headResult === undefined) {
      this.span?.end(Exit.failCause(cause))
      this.settleHead(failure)
    } else if (this.failure === undefined) {
      this.setFailure(cause)
    }
    this.finishRequest()
  }

  private shutdown(): void {
    if (this.closed) return
    this.closed = true
    this.raw = []
    this.span?.end(Exit.interrupt(FiberId.none))
    this.finishRequest()
  }

  readonly close = (): Effect.Effect<void> => Effect.sync(() => this.shutdown())
}

/** Send an event-stream request; the exchange answers `head`, then is the source of its events. */
export const openSse = (transport: Transport, spec: Spec): Effect.Effect<SseExchange, LlmError.LlmError> =>
  Effect.withFiberRuntime((fiber) => {
    const prepared = prepare(fiber, transport, spec, "text/event-stream")
    if (LlmError.isLlmError(prepared)) return Effect.fail(prepared)
    return withSpan(prepared, transport, (span) =>
      Effect.sync(() => {
        const exchange = new SseExchange(spec, span, transport.redact, prepared.clock)
        transport.dispatcher.dispatch(
          dispatchOptions(prepared.target, prepared.headers, JSON.stringify(spec.body)),
          exchange
        )
        return exchange
      }))
  })
