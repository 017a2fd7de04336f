/**
 * The hot paths (ProviderHttp's undici fast path, native streams, the stream pipeline as
 * one source, deadlines without fibers, the Promise facade's iterator): they must behave
 * exactly as the generic paths they replace — same requests on the wire, same errors,
 * same spans, cancellation aborting the request.
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import {
  ChatRequest,
  LlmClient,
  LlmError,
  Provider,
  ProviderHttp,
  ProviderRegistry,
  RetryPolicy,
  type Sse,
  StreamEvent,
  Timeouts,
  UndiciHttpClient
} from "@llm-fiber/core"
import { createLlmClient } from "@llm-fiber/core/promise"
import { OpenAI } from "@llm-fiber/openai"
import { MockServer } from "@llm-fiber/testing"
import {
  Cause,
  Chunk,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Stream,
  Tracer
} from "effect"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"
import * as Source from "../src/internal/source.js"

let server: TestServer
let mock: MockServer.Handle
beforeAll(async () => {
  server = await startServer()
  mock = await MockServer.start()
})
afterAll(async () => {
  await server.close()
  await mock.close()
})
beforeEach(() => mock.reset())

const quiet = Logger.withMinimumLogLevel(LogLevel.None)

/** A recording tracer over the native one. */
const recordingTracer = () => {
  const native = Effect.runSync(Effect.tracer)
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: (f) => f()
  })
  const named = (name: string) => spans.filter((s) => s.name === name)
  return { tracer, spans, named }
}

/** The three ways a provider's client can send: the fast path, undici behind a transform, fetch. */
type Kind = "fast" | "generic" | "fetch"

const spec = (url: string, headers: Record<string, string> = {}): ProviderHttp.RequestSpec => ({
  provider: "p",
  model: "m",
  url,
  headers,
  body: { hello: "world" }
})

describe("ProviderHttp: the fast path sends and fails as the generic path", () => {
  const clientOf = (kind: Kind) =>
    Effect.map(HttpClient.HttpClient, (base) => {
      const withHeaders = ProviderHttp.withHeaders(base, {
        headers: { "X-Static": "s", accept: "overridden" },
        secrets: { "x-goog-api-key": Redacted.make("SECRET-key") }
      })
      // any transform leaves the fast path
      return kind === "generic" ? HttpClient.mapRequest(withHeaders, (r) => r) : withHeaders
    })

  const layerOf = (kind: Kind) => kind === "fetch" ? FetchHttpClient.layer : UndiciHttpClient.layer()

  for (const kind of ["fast", "generic", "fetch"] as const) {
    it.live(`${kind}: headers on the wire, the JSON response, the secret redacted in the span`, () => {
      const rec = recordingTracer()
      return Effect.gen(function*() {
        server.handle(() => json({ ok: true }, 200, { "x-request-id": "req-7" }))
        const client = yield* clientOf(kind)
        expect(ProviderHttp.isFast(client)).toBe(kind === "fast")
        const before = server.requests.length
        const response = yield* ProviderHttp.postJson(client, spec(`${server.url}/json`, { "x-own": "o" }))
        expect(response).toMatchObject({ status: 200, requestId: "req-7", json: { ok: true } })
        expect(typeof response.latencyMs).toBe("number")
        const sent = server.requests[before]!
        expect(sent.body).toEqual({ hello: "world" })
        expect(sent.headers).toMatchObject({
          "content-type": "application/json",
          // the client's headers win over the request's (as `HttpClient.mapRequest` does)
          accept: "overridden",
          "x-static": "s",
          "x-own": "o",
          "x-goog-api-key": "SECRET-key"
        })
        const span = rec.named("http.client POST")[0]!
        const attributes = Object.fromEntries(span.attributes)
        expect(attributes["http.request.method"]).toBe("POST")
        expect(attributes["http.response.status_code"]).toBe(200)
        expect(JSON.stringify(attributes)).not.toContain("SECRET-key")
        expect(attributes["http.request.header.x-goog-api-key"]).toBeDefined()
      }).pipe(Effect.provide(layerOf(kind)), Effect.withTracer(rec.tracer))
    })

    it.live(`${kind}: the same errors (status, malformed JSON, content type, connection refused)`, () =>
      Effect.gen(function*() {
        const client = yield* clientOf(kind)
        server.handle(() => json({ error: { message: "bad key", type: "invalid_request_error" } }, 401))
        const auth = yield* Effect.flip(ProviderHttp.postJson(client, spec(`${server.url}/x`)))
        expect(auth).toMatchObject({ _tag: "AuthenticationError", status: 401, provider: "p", model: "m" })
        server.handle(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{nope" }))
        const malformed = yield* Effect.flip(ProviderHttp.postJson(client, spec(`${server.url}/x`)))
        expect(malformed._tag).toBe("ProtocolError")
        expect(malformed.message).toContain("malformed JSON in the response body")
        server.handle(() => ({ status: 200, headers: { "content-type": "text/html" }, body: "<p>" }))
        const html = yield* Effect.flip(ProviderHttp.postJson(client, spec(`${server.url}/x`)))
        expect(html.message).toBe("p: expected a JSON response, got content-type \"text/html\"")
        const refused = yield* Effect.flip(ProviderHttp.postJson(client, spec("http://127.0.0.1:1/x")))
        expect(refused._tag).toBe("NetworkError")
        expect(refused.message).toContain("request failed before a response arrived")
      }).pipe(Effect.provide(layerOf(kind))))

    it.live(`${kind}: an event stream, mapped per chunk`, () =>
      Effect.gen(function*() {
        const client = yield* clientOf(kind)
        server.handle(() => sse("data: a\n\n: comment\ndata: b\ndata: c\n\nevent: x\ndata: d\n\n", [3, 5, 1]))
        const events = yield* Stream.runCollect(
          ProviderHttp.postSse(client, spec(`${server.url}/sse`), (_info, events) =>
            ProviderHttp.mapEvents<string>(events, (e, out) =>
              out.push(`${e.event}:${e.data}`), (out) =>
              out.push("end")))
        )
        expect(Chunk.toArray(events)).toEqual(["message:a", "message:b\nc", "x:d", "end"])
      }).pipe(Effect.provide(layerOf(kind))))
  }
})

describe("native streams", () => {
  const event = (data: string): Sse.SseEvent => ({ event: "message", data, id: "" })
  const nativeEvents = (...chunks: Array<Array<Sse.SseEvent>>) =>
    Source.native(Effect.sync(() => Source.fromChunks(chunks)))

  it.effect("mapEvents on a native stream stays native; output before a throw is emitted first", () =>
    Effect.gen(function*() {
      const mapped = ProviderHttp.mapEvents<string>(
        nativeEvents([event("a"), event("b"), event("boom"), event("c")]),
        (e, out) => {
          if (e.data === "boom") throw new LlmError.ServerError({ message: "in-stream error" })
          out.push(e.data)
        },
        () => {}
      )
      expect(Source.nativeOf(mapped)).toBeDefined()
      const seen: Array<string> = []
      const result = yield* mapped.pipe(Stream.runForEach((s) => Effect.sync(() => void seen.push(s))), Effect.either)
      expect(seen).toEqual(["a", "b"])
      expect(Either.isLeft(result) && result.left._tag).toBe("ServerError")
      const defect = yield* Effect.exit(
        Stream.runDrain(ProviderHttp.mapEvents(nativeEvents([event("x")]), () => {
          throw new TypeError("bug")
        }, () => {}))
      )
      expect(Exit.isFailure(defect) && Cause.isDie(defect.cause)).toBe(true)
    }))

  it.effect("mapStreamError, unwrapStream and catchStreamStart keep a native stream native", () =>
    Effect.gen(function*() {
      const failing = Source.native(
        Effect.sync(() =>
          Source.failed<string>(Cause.fail(new LlmError.ServerError({ message: "rejected", status: 400 })))
        )
      )
      const renamed = ProviderHttp.mapStreamError(failing, (e) => LlmError.annotate(e, { message: "renamed" }))
      expect(Source.nativeOf(renamed)).toBeDefined()
      expect((yield* Effect.flip(Stream.runDrain(renamed))).message).toBe("renamed")

      const unwrapped = ProviderHttp.unwrapStream(Effect.succeed(nativeEvents([event("u")])))
      expect(Source.nativeOf(unwrapped)).toBeDefined()
      expect(Chunk.toArray(yield* Stream.runCollect(unwrapped)).map((e) => e.data)).toEqual(["u"])
      const effectFailed = ProviderHttp.unwrapStream(
        Effect.fail(new LlmError.InvalidRequestError({ message: "bad body" }))
      )
      expect((yield* Effect.flip(Stream.runDrain(effectFailed)))._tag).toBe("InvalidRequestError")

      // a failure before the first element: recovered; after it: passed through
      const recovered = ProviderHttp.catchStreamStart(failing, () => Stream.make("fallback"))
      expect(Chunk.toArray(yield* Stream.runCollect(recovered))).toEqual(["fallback"])
      const declined = ProviderHttp.catchStreamStart(failing, () => undefined)
      expect((yield* Effect.flip(Stream.runDrain(declined))).message).toBe("rejected")
      let asked = 0
      const late = ProviderHttp.catchStreamStart(
        Stream.concat(Stream.make("first"), Stream.fail(new LlmError.ServerError({ message: "late" }))),
        () => {
          asked++
          return Stream.make("never")
        }
      )
      const seen: Array<string> = []
      const error = yield* Effect.flip(Stream.runForEach(late, (s) => Effect.sync(() => void seen.push(s))))
      expect([seen, error.message, asked]).toEqual([["first"], "late", 0])
    }))

  it.live("a provider stream is native, over undici and behind a transformClient alike (same events)", () =>
    Effect.gen(function*() {
      const request = Either.getOrThrow(ChatRequest.make({ model: "mock?chunks=3", messages: "x" }))
      const call = { request, model: "mock?chunks=3", timeouts: Timeouts.hosted, attempt: 1 }
      const fast = yield* OpenAI.make({ baseUrl: mock.openaiBaseUrl })
      const generic = yield* OpenAI.make({
        baseUrl: mock.openaiBaseUrl,
        transformClient: (c) => c.pipe(HttpClient.filterStatusOk)
      })
      const a = fast.chatStream(call)
      const b = generic.chatStream(call)
      // the generic path is native at the top too: its body is read through a Stream underneath
      expect(Source.nativeOf(a)).toBeDefined()
      expect(Source.nativeOf(b)).toBeDefined()
      const tags = (s: typeof a) => Effect.map(Stream.runCollect(s), (c) => Chunk.toArray(c).map((e) => e._tag))
      expect(yield* tags(a)).toEqual(yield* tags(b))
    }).pipe(Effect.provide(UndiciHttpClient.layer())))
})

describe("LlmClient over the fast path", () => {
  const live = () =>
    LlmClient.layerWith(OpenAI.layer({ apiKey: "sk-hot", baseUrl: mock.openaiBaseUrl })).pipe(
      Layer.provide(RetryPolicy.layer({ maxRetries: 0 }))
    )

  it.live("spans: llm.chat(_stream) > llm.attempt > http.client POST (the attempt span is passed, not made current)", () => {
    const rec = recordingTracer()
    return Effect.gen(function*() {
      const result = yield* LlmClient.chat({ model: "openai:mock?chunks=2", messages: "hi" })
      expect(result.text).toBe("tok1 tok2 ")
      const [chat] = rec.named("llm.chat")
      const [attempt] = rec.named("llm.attempt")
      const [http] = rec.named("http.client POST")
      expect(Option.getOrUndefined(attempt!.parent)?.spanId).toBe(chat!.spanId)
      expect(Option.getOrUndefined(http!.parent)?.spanId).toBe(attempt!.spanId)
      for (const span of [chat!, attempt!, http!]) expect(span.status._tag).toBe("Ended")
      // the trace context went out on the request
      expect(mock.requests[0]?.headers.traceparent).toContain(http!.spanId)
      // the same for a stream
      rec.spans.length = 0
      yield* Stream.runDrain(LlmClient.chatStream({ model: "openai:mock?chunks=2", messages: "hi" }))
      const [stream] = rec.named("llm.chat_stream")
      const [streamAttempt] = rec.named("llm.attempt")
      const [streamHttp] = rec.named("http.client POST")
      expect(Option.getOrUndefined(streamAttempt!.parent)?.spanId).toBe(stream!.spanId)
      expect(Option.getOrUndefined(streamHttp!.parent)?.spanId).toBe(streamAttempt!.spanId)
      for (const span of [stream!, streamAttempt!, streamHttp!]) expect(span.status._tag).toBe("Ended")
    }).pipe(Effect.provide(live()), Effect.withTracer(rec.tracer), quiet)
  })

  it.live("the transport enforces the total deadline; interrupting a call ends its attempt span and aborts", () => {
    const rec = recordingTracer()
    return Effect.gen(function*() {
      const error = yield* Effect.flip(
        LlmClient.chat({ model: "openai:mock?fault=stall", messages: "hi", timeout: { totalMs: 100 } })
      )
      expect(error._tag === "TimeoutError" && error.phase).toBe("total")
      expect(error.message).toBe("openai: the call did not finish within 100 ms (total timeout)")
      yield* Effect.promise(() => mock.waitForClientClose(2000))
      mock.reset()
      rec.spans.length = 0
      const fiber = yield* Effect.fork(LlmClient.chat({ model: "openai:mock?fault=stall", messages: "hi" }))
      yield* Effect.promise(async () => {
        while (mock.requests.length === 0) await new Promise((r) => setTimeout(r, 5))
      })
      yield* Fiber.interrupt(fiber)
      const [attempt] = rec.named("llm.attempt")
      const status = attempt!.status
      expect(status._tag === "Ended" && Exit.isInterrupted(status.exit)).toBe(true)
      yield* Effect.promise(() => mock.waitForClientClose(2000))
      expect(mock.closedConnections()).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.provide(live()), Effect.withTracer(rec.tracer), quiet)
  })

  it.live("a provider that does not enforce its deadline is timed out on the live clock and interrupted", () => {
    let interrupted = false
    const slow: Provider.Provider = {
      name: "slow",
      api: "test",
      capabilities: Provider.noCapabilities,
      chat: () => Effect.onInterrupt(Effect.never, () => Effect.sync(() => void (interrupted = true))),
      chatStream: () => Stream.never
    }
    const layer = LlmClient.layer.pipe(
      Layer.provide(ProviderRegistry.register(Effect.succeed(slow))),
      Layer.provide(ProviderRegistry.layer),
      Layer.provide(RetryPolicy.layer({ maxRetries: 0 }))
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip(LlmClient.chat({ model: "slow:m", messages: "hi", timeout: { totalMs: 30 } }))
      expect(error._tag === "TimeoutError" && error.phase).toBe("total")
      expect(interrupted).toBe(true)
      const streamError = yield* Effect.flip(Stream.runDrain(
        LlmClient.chatStream({ model: "slow:m", messages: "hi", timeout: { firstByteMs: 30 } })
      ))
      expect(streamError._tag === "TimeoutError" && streamError.phase).toBe("first_byte")
    }).pipe(Effect.provide(layer), quiet)
  })

  it.live("a stream consumed part way (take) closes the request and records the call", () =>
    Effect.gen(function*() {
      const taken = yield* Stream.runCollect(
        Stream.take(LlmClient.chatStream({ model: "openai:mock?chunks=200&chunkDelayMs=10", messages: "hi" }), 3)
      )
      expect(Chunk.toArray(taken).map((e) => e._tag)).toEqual(["Start", "TextDelta", "TextDelta"])
      yield* Effect.promise(() => mock.waitForClientClose(2000))
      const result = yield* StreamEvent.accumulate(
        LlmClient.chatStream({ model: "openai:mock?chunks=4", messages: "x" })
      )
      expect(result.text).toBe("tok1 tok2 tok3 tok4 ")
    }).pipe(Effect.provide(live()), quiet))
})

describe("the Promise facade's stream iterator", () => {
  it.live("events, then the typed error (with the partial output) when the stream breaks mid-way", () =>
    Effect.promise(async () => {
      const llm = createLlmClient({
        env: { OPENAI_BASE_URL: mock.openaiBaseUrl, OPENAI_API_KEY: "sk-facade" },
        maxRetries: 0
      })
      try {
        const seen: Array<string> = []
        const run = async () => {
          for await (
            const e of llm.chatStream({ model: "openai:mock?fault=reset-mid-stream&chunks=20", messages: "x" })
          ) {
            seen.push(e._tag)
          }
        }
        const error = await run().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(LlmError.NetworkError)
        expect((error as LlmError.NetworkError).partial?.text.startsWith("tok1 ")).toBe(true)
        expect(seen[0]).toBe("Start")
        expect(seen.filter((t) => t === "TextDelta").length).toBeGreaterThan(0)
        // a finished iterator stays finished
        const iterator = llm.chatStream({ model: "openai:mock?chunks=2", messages: "x" })[Symbol.asyncIterator]()
        const tags: Array<string> = []
        for (let r = await iterator.next(); !r.done; r = await iterator.next()) tags.push(r.value._tag)
        expect(tags.at(-1)).toBe("Finish")
        expect((await iterator.next()).done).toBe(true)
      } finally {
        await llm.dispose()
      }
    }))

  it.live("many streams at once each get their own events", () =>
    Effect.promise(async () => {
      const llm = createLlmClient({ env: { OPENAI_BASE_URL: mock.openaiBaseUrl, OPENAI_API_KEY: "sk-facade" } })
      try {
        const texts = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
          let text = ""
          for await (const e of llm.chatStream({ model: `openai:mock?chunks=${i + 1}`, messages: "x" })) {
            if (e._tag === "TextDelta") text += e.text
          }
          return text
        }))
        expect(texts.map((t) => t.split(" ").length - 1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
      } finally {
        await llm.dispose()
      }
    }))
})
