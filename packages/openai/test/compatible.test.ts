/**
 * OpenAI-compatible hardening over real HTTP: `stream_options` tolerated when rejected or
 * ignored, per-provider timeouts for slow local models.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import {
  ChatRequest,
  LlmClient,
  type Provider,
  ProviderRegistry,
  RetryPolicy,
  type StreamEvent,
  Timeouts,
  UndiciHttpClient
} from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const Http = UndiciHttpClient.layer()

/** A stream with text and a finish_reason but no usage chunk. */
const noUsageStream = [
  { id: "c1", model: "llama3.2", choices: [{ index: 0, delta: { role: "assistant", content: "po" } }] },
  { id: "c1", model: "llama3.2", choices: [{ index: 0, delta: { content: "ng" }, finish_reason: "stop" }] }
].map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n"

const rejection = json({
  error: {
    message: "Unrecognized request argument supplied: stream_options",
    type: "invalid_request_error",
    param: null,
    code: null
  }
}, 400)

const call = (model = "llama3.2") => ({
  request: Either.getOrThrow(ChatRequest.make({ model, messages: "ping" })),
  model,
  timeouts: Timeouts.hosted,
  attempt: 1
})

const collect = <E, R>(stream: Stream.Stream<StreamEvent.StreamEvent, E, R>) =>
  Effect.map(Stream.runCollect(stream), (chunk) => Array.from(chunk))

describe("stream_options.include_usage on compatible servers", () => {
  it.effect("a 400 naming stream_options: retried once without it, and not sent again", () =>
    Effect.gen(function*() {
      server.handle((req) => req.body.stream_options !== undefined ? rejection : sse(noUsageStream))
      const p = yield* OpenAI.make({ name: "strict-compat", baseUrl: `${server.url}/v1`, maxTokensField: "max_tokens" })
      const before = server.requests.length
      const events = yield* collect(p.chatStream(call()))
      const sent = server.requests.slice(before)
      expect(sent.map((r) => r.body.stream_options)).toEqual([{ include_usage: true }, undefined])
      expect(events.map((e) => e._tag)).toEqual(["Start", "TextDelta", "TextDelta", "Finish"])
      const finish = events[events.length - 1] as StreamEvent.Finish
      expect(finish.finishReason).toBe("stop")
      expect(finish.usage).toBeUndefined()
      // remembered for this provider instance: one request, without stream_options
      const again = server.requests.length
      yield* collect(p.chatStream(call()))
      expect(server.requests.slice(again).map((r) => r.body.stream_options)).toEqual([undefined])
      // …but not for another instance
      const fresh = yield* OpenAI.make({ name: "other", baseUrl: `${server.url}/v1` })
      const third = server.requests.length
      yield* collect(fresh.chatStream(call()))
      expect(server.requests.slice(third).length).toBe(2)
    }).pipe(Effect.provide(Http)))

  it.effect("other 400s are not retried, and includeStreamUsage: false never sends it", () =>
    Effect.gen(function*() {
      server.handle(() => json({ error: { message: "model not loaded", type: "invalid_request_error" } }, 400))
      const p = yield* OpenAI.make({ name: "compat", baseUrl: `${server.url}/v1` })
      const before = server.requests.length
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
      expect(error._tag).toBe("InvalidRequestError")
      expect(server.requests.length - before).toBe(1)
      server.handle(() => sse(noUsageStream))
      const quiet = yield* OpenAI.make({ name: "quiet", baseUrl: `${server.url}/v1`, includeStreamUsage: false })
      yield* collect(quiet.chatStream(call()))
      expect(server.requests[server.requests.length - 1]!.body.stream_options).toBeUndefined()
    }).pipe(Effect.provide(Http)))

  it.effect("a server that ignores stream_options: the stream finishes, usage absent (not zero)", () =>
    Effect.gen(function*() {
      server.handle(() => sse(noUsageStream))
      const events = yield* collect(
        LlmClient.chatStream({ model: "ollama:llama3.2", messages: "ping" })
      )
      expect(server.requests[server.requests.length - 1]!.body.stream_options).toEqual({ include_usage: true })
      expect(events.some((e) => e._tag === "Usage")).toBe(false)
      const finish = events[events.length - 1] as StreamEvent.Finish
      expect(finish._tag).toBe("Finish")
      expect(finish.finishReason).toBe("stop")
      expect(finish.usage).toBeUndefined()
    }).pipe(
      Effect.provide(LlmClient.layerWith(OpenAI.ollama({ baseUrl: `${server.url}/v1` }))),
      Effect.provide(RetryPolicy.layerDisabled)
    ))
})

describe("per-provider timeouts for slow local models", () => {
  it.effect("compatible / ollama carry their own timeouts", () =>
    Effect.gen(function*() {
      const registry = ProviderRegistry.make()
      yield* Layer.build(Layer.mergeAll(
        OpenAI.ollama({ baseUrl: "http://127.0.0.1:1/v1", timeouts: Timeouts.localModels }),
        OpenAI.compatible({ name: "llamacpp", baseUrl: "http://127.0.0.1:1/v1", timeouts: { firstByteMs: 900_000 } }),
        OpenAI.compatible({ name: "vllm", baseUrl: "http://127.0.0.1:1/v1" })
      )).pipe(
        Effect.provide(Layer.succeed(ProviderRegistry.ProviderRegistry, registry)),
        Effect.provide(Http)
      )
      expect(registry.get("ollama")?.timeouts).toEqual(Timeouts.localModels)
      expect(registry.get("llamacpp")?.timeouts).toEqual({ firstByteMs: 900_000 })
      expect(registry.get("vllm")?.timeouts).toBeUndefined()
    }).pipe(Effect.scoped))

  it.live("the pipeline applies them over the client's Timeouts", () =>
    Effect.gen(function*() {
      // a server that answers after 400 ms
      const slow = http.createServer((_req, res) => {
        setTimeout(() => {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify({
            id: "x",
            model: "m",
            choices: [{ index: 0, message: { role: "assistant", content: "late" }, finish_reason: "stop" }]
          }))
        }, 400)
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve))),
        () => Effect.promise(() => new Promise<void>((resolve) => slow.close(() => resolve())))
      )
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/v1`
      const run = (timeouts: Partial<Provider.ResolvedTimeouts> | undefined) =>
        LlmClient.chat({ model: "slow:m", messages: "ping" }).pipe(
          Effect.provide(LlmClient.layerWith(OpenAI.compatible({ name: "slow", baseUrl: url, timeouts }))),
          Effect.provide(RetryPolicy.layerDisabled),
          Effect.provide(Timeouts.layer({ totalMs: 100 }))
        )
      const error = yield* Effect.flip(run(undefined))
      expect(error._tag).toBe("TimeoutError")
      const result = yield* run({ totalMs: 5_000 })
      expect(result.text).toBe("late")
    }).pipe(Effect.scoped))
})
