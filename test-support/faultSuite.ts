/**
 * The fault matrix shared by the providers' wire tests against the mock server of
 * `@llm-fiber/testing`: every injected fault (for both `chat` and `chatStream`, no retries)
 * mapped to its typed error, and no error ever carrying the API key. The caller owns the
 * server and the client; format-specific differences are options, format-specific faults
 * are registered through `extra` inside the same `describe`.
 */
import { describe, expect, it } from "@effect/vitest"
import { type ChatRequest, LlmClient, type LlmError } from "@llm-fiber/core"
import type { MockServer } from "@llm-fiber/testing"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"

export interface Errors {
  readonly chat: LlmError.LlmError
  readonly stream: LlmError.LlmError
}

/** Both calls of one model with `maxRetries: 0`, flipped to their errors (checked for secrecy). */
export type Both = (
  model: string,
  timeout?: ChatRequest.TimeoutOverrides
) => Effect.Effect<Errors, unknown, LlmClient.LlmClient>

export interface FaultSuiteOptions<E> {
  /** The `describe` title; default `"mock server: faults → typed errors"`. */
  readonly title?: string
  /** The provider prefix of the models (`"openai"` → `"openai:mock?fault=…"`). */
  readonly prefix: string
  /** The key the client uses; no error may contain it. */
  readonly apiKey: string
  readonly server: () => MockServer.Handle
  /** The client over the mock server; `huge-body` passes the size limits. */
  readonly client: (
    options?: { readonly maxBodyBytes: number; readonly maxEventBytes: number }
  ) => Layer.Layer<LlmClient.LlmClient, E>
  /** Also expect `error.provider` to be this on the 429 errors. */
  readonly provider?: string
  /** The title and the `[fault, tag]` matrix of the HTTP status faults; default 500/503/401/400-context. */
  readonly statusTitle?: string
  readonly statusFaults?: ReadonlyArray<readonly [string, LlmError.LlmError["_tag"]]>
  /** Extra checks of one status fault's errors. */
  readonly onStatusFault?: (fault: string, errors: Errors) => void
  /** The exact partial text after `reset-mid-stream&chunks=20`; default: it starts with `tok1 `. */
  readonly resetPartial?: string
  /** The exact partial text after `stall-mid-stream&chunks=10`; default: it starts with `tok1 `. */
  readonly idlePartial?: string
  /** `stall-mid-stream` also times out a chat (phase total); default true. */
  readonly stallMidStreamChat?: boolean
  /** Protocol errors of streams are not retryable; default true. */
  readonly protocolNotRetryable?: boolean
  /** More checks at the end of the protocol test. */
  readonly protocolExtra?: (both: Both) => Effect.Effect<void, unknown, LlmClient.LlmClient>
  /** Register format-specific tests inside the same `describe`. */
  readonly extra?: (both: Both) => void
}

const defaultStatusFaults: ReadonlyArray<readonly [string, LlmError.LlmError["_tag"]]> = [
  ["500", "ServerError"],
  ["503", "ServerError"],
  ["401", "AuthenticationError"],
  ["400-context", "ContextLengthError"]
]

const expectPartial = (text: string | undefined, exact: string | undefined) => {
  if (exact !== undefined) expect(text).toBe(exact)
  else expect(text?.startsWith("tok1 ")).toBe(true)
}

export const faultSuite = <E>(options: FaultSuiteOptions<E>): void => {
  const { apiKey, client, prefix, server } = options
  const model = (query: string) => `${prefix}:mock?${query}`
  const noRetry = { maxRetries: 0 } as const
  const chat = (input: ChatRequest.Input) => LlmClient.chat(input)
  const stream = (input: ChatRequest.Input) => LlmClient.chatStream(input)

  const noSecret = (error: LlmError.LlmError) => {
    expect(JSON.stringify(error)).not.toContain(apiKey)
    expect(String(error)).not.toContain(apiKey)
  }

  describe(options.title ?? "mock server: faults → typed errors", () => {
    const both: Both = (model, timeout) =>
      Effect.gen(function*() {
        const extra = { ...noRetry, ...(timeout !== undefined ? { timeout } : {}) }
        const chatError = yield* Effect.flip(chat({ messages: "ping", model, ...extra }))
        const streamError = yield* Effect.flip(Stream.runDrain(stream({ messages: "ping", model, ...extra })))
        noSecret(chatError)
        noSecret(streamError)
        return { chat: chatError, stream: streamError }
      })

    it.live("429 → RateLimitError with retryAfterMs", () =>
      Effect.gen(function*() {
        const { chat, stream } = yield* both(model("fault=429&retryAfterMs=40"))
        for (const e of [chat, stream]) {
          expect(e._tag).toBe("RateLimitError")
          expect(e._tag === "RateLimitError" && e.retryAfterMs).toBe(40)
          expect(e.status).toBe(429)
          if (options.provider !== undefined) expect(e.provider).toBe(options.provider)
        }
      }).pipe(Effect.provide(client())))

    it.live(
      options.statusTitle ?? "500 and 503 → ServerError; 401 → AuthenticationError; 400-context → ContextLengthError",
      () =>
        Effect.gen(function*() {
          for (const [fault, tag] of options.statusFaults ?? defaultStatusFaults) {
            const errors = yield* both(model(`fault=${fault}`))
            expect([fault, errors.chat._tag, errors.stream._tag]).toEqual([fault, tag, tag])
            options.onStatusFault?.(fault, errors)
          }
        }).pipe(Effect.provide(client()))
    )

    it.live("reset-before-headers and reset-mid-stream → NetworkError", () =>
      Effect.gen(function*() {
        const before = yield* both(model("fault=reset-before-headers"))
        expect([before.chat._tag, before.stream._tag]).toEqual(["NetworkError", "NetworkError"])
        const mid = yield* both(model("fault=reset-mid-stream&chunks=20"))
        expect([mid.chat._tag, mid.stream._tag]).toEqual(["NetworkError", "NetworkError"])
        // content had been streamed: the error carries it
        expectPartial(mid.stream.partial?.text, options.resetPartial)
      }).pipe(Effect.provide(client())))

    it.live("stall → TimeoutError (total for chat, first_byte for streams)", () =>
      Effect.gen(function*() {
        const { chat, stream } = yield* both(model("fault=stall"), { totalMs: 150, firstByteMs: 100 })
        expect(chat._tag === "TimeoutError" && chat.phase).toBe("total")
        expect(stream._tag === "TimeoutError" && stream.phase).toBe("first_byte")
      }).pipe(Effect.provide(client())))

    it.live("stall-mid-stream → TimeoutError (idle), the connection is closed", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Stream.runDrain(stream({
          messages: "ping",
          model: model("fault=stall-mid-stream&chunks=10"),
          timeout: { idleMs: 100 },
          ...noRetry
        })))
        expect(error._tag === "TimeoutError" && error.phase).toBe("idle")
        expectPartial(error.partial?.text, options.idlePartial)
        yield* Effect.promise(() => server().waitForClientClose(2000))
        if (options.stallMidStreamChat ?? true) {
          const chatError = yield* Effect.flip(chat({
            messages: "ping",
            model: model("fault=stall-mid-stream"),
            timeout: { totalMs: 150 },
            ...noRetry
          }))
          expect(chatError._tag === "TimeoutError" && chatError.phase).toBe("total")
        }
      }).pipe(Effect.provide(client())))

    it.live("malformed-json, malformed-sse, no-done, wrong-content-type → ProtocolError", () =>
      Effect.gen(function*() {
        for (const fault of ["malformed-json", "malformed-sse", "no-done", "wrong-content-type"]) {
          const { chat, stream } = yield* both(model(`fault=${fault}&chunks=4`))
          expect([fault, chat._tag, stream._tag]).toEqual([fault, "ProtocolError", "ProtocolError"])
          if (options.protocolNotRetryable ?? true) expect(stream.retryable).toBe(false)
        }
        if (options.protocolExtra !== undefined) yield* options.protocolExtra(both)
      }).pipe(Effect.provide(client())))

    it.live("huge-body → ProtocolError at the size limits, the connection is closed", () =>
      Effect.gen(function*() {
        const { chat, stream } = yield* both(model("fault=huge-body"))
        expect(chat._tag).toBe("ProtocolError")
        expect(chat.message).toContain("larger than")
        expect(stream._tag).toBe("ProtocolError")
        expect(stream.message).toContain("exceeded")
        yield* Effect.promise(() => server().waitForClientClose(2000))
      }).pipe(Effect.provide(client({ maxBodyBytes: 1_000_000, maxEventBytes: 1_000_000 }))))

    options.extra?.(both)
  })
}

/**
 * The retry behaviour every provider shares, through `LlmClient` with the client's retry
 * policy: a stream is retried while nothing reached the caller, never after content, and
 * retries stop at `maxRetries`. Register inside the caller's `describe`.
 */
export const retryTests = <E>(options: {
  readonly prefix: string
  readonly server: () => MockServer.Handle
  readonly client: () => Layer.Layer<LlmClient.LlmClient, E>
}): void => {
  const { client, prefix, server } = options
  const model = (query: string) => `${prefix}:mock?${query}`
  const textOf = (events: ReadonlyArray<{ readonly _tag: string }>) =>
    events.map((e) => ("text" in e && e._tag === "TextDelta" ? String(e.text) : "")).join("")

  it.live("streams are retried while nothing was emitted", () =>
    Effect.gen(function*() {
      for (const fault of ["429", "500", "reset-before-headers", "stall"]) {
        server().reset()
        const events = yield* Stream.runCollect(LlmClient.chatStream({
          model: model(`fault=${fault}&times=1&chunks=3`),
          messages: "hi",
          timeout: { firstByteMs: 150 }
        })).pipe(Effect.map((chunk) => Array.from(chunk)))
        expect([fault, textOf(events), server().requests.length]).toEqual([fault, "tok1 tok2 tok3 ", 2])
        expect(events[0]?._tag).toBe("Start")
        expect(events[events.length - 1]?._tag).toBe("Finish")
      }
    }).pipe(Effect.provide(client())))

  it.live("a stream that failed after content is not retried", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Stream.runDrain(
          LlmClient.chatStream({ model: model("fault=reset-mid-stream&times=1&chunks=20"), messages: "hi" })
        )
      )
      expect(error._tag).toBe("NetworkError")
      expect(server().requests.length).toBe(1)
    }).pipe(Effect.provide(client())))

  it.live("retries stop at maxRetries", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        LlmClient.chat({ model: model("fault=500&times=5"), messages: "hi", maxRetries: 2 })
      )
      expect(error._tag).toBe("ServerError")
      expect(server().requests.length).toBe(3)
    }).pipe(Effect.provide(client())))
}
