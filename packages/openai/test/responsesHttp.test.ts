/**
 * The Responses provider over real HTTP through `LlmClient`: routing by the
 * `openai-responses:` prefix, what reaches the wire (strictly validated), configuration.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { LlmClient, RetryPolicy, StreamEvent } from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { json, sse, startServer, type TestServer } from "../../../test-support/server.js"
import { describeErrors, validateChatRequest, validateResponsesRequest } from "./helpers/openapi.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const responseBody = {
  id: "resp_1",
  object: "response",
  model: "gpt-4.1-2025-04-14",
  status: "completed",
  output: [
    {
      type: "reasoning",
      id: "rs_1",
      summary: [{ type: "summary_text", text: "Think." }]
    },
    {
      type: "message",
      id: "msg_1",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "pong", annotations: [] }]
    }
  ],
  usage: {
    input_tokens: 30,
    input_tokens_details: { cached_tokens: 20 },
    output_tokens: 9,
    output_tokens_details: { reasoning_tokens: 5 },
    total_tokens: 39
  }
}

const streamBody = [
  { type: "response.created", response: { id: "resp_2", model: "gpt-4.1-2025-04-14", status: "in_progress" } },
  { type: "response.output_text.delta", output_index: 0, content_index: 0, item_id: "m", delta: "po" },
  { type: "response.output_text.delta", output_index: 0, content_index: 0, item_id: "m", delta: "ng" },
  { type: "response.completed", response: { ...responseBody, id: "resp_2" } }
].map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("")

const cacheOptions = { prompt_cache_key: "tenant-42", prompt_cache_retention: "24h" }

const expectValid = (errors: ReturnType<typeof validateResponsesRequest>) =>
  expect(errors, describeErrors(errors)).toEqual([])

describe("openai-responses through LlmClient", () => {
  it.effect("chat and chatStream on openai-responses:<model>; prompt-cache options on the wire", () =>
    Effect.gen(function*() {
      server.handle(() => json(responseBody))
      const result = yield* LlmClient.chat({
        model: "openai-responses:gpt-4.1",
        messages: [["system", "Be brief."], ["user", "ping"]],
        maxTokens: 64,
        idempotencyKey: "idem-1",
        providerOptions: { "openai-responses": cacheOptions }
      })
      expect(result.provider).toBe("openai-responses")
      expect(result.text).toBe("pong")
      expect(result.reasoning).toBe("Think.")
      expect(result.finishReason).toBe("stop")
      expect(result.usage).toEqual({
        inputTokens: 30,
        outputTokens: 9,
        totalTokens: 39,
        cachedInputTokens: 20,
        reasoningTokens: 5
      })
      const sent = server.requests[server.requests.length - 1]!
      expect(sent.path).toBe("/v1/responses")
      expect(sent.headers.authorization).toBe("Bearer sk-responses")
      expect(sent.headers["idempotency-key"]).toBe("idem-1")
      expect(sent.body).toMatchObject({
        model: "gpt-4.1",
        instructions: "Be brief.",
        input: [{ type: "message", role: "user", content: "ping" }],
        max_output_tokens: 64,
        store: false,
        ...cacheOptions
      })
      expectValid(validateResponsesRequest(sent.body))

      server.handle(() => sse(streamBody, [5, 50, 2]))
      const streamed = yield* StreamEvent.accumulate(LlmClient.chatStream({
        model: "openai-responses:gpt-4.1",
        messages: "ping",
        providerOptions: { "openai-responses": cacheOptions }
      }))
      expect(streamed.text).toBe("pong")
      expect(streamed.id).toBe("resp_2")
      expect(streamed.usage.cachedInputTokens).toBe(20)
      const streamedSent = server.requests[server.requests.length - 1]!
      expect(streamedSent.body).toMatchObject({ stream: true, ...cacheOptions })
      expectValid(validateResponsesRequest(streamedSent.body))
    }).pipe(
      Effect.provide(LlmClient.layerWith(OpenAI.responses({ apiKey: "sk-responses", baseUrl: `${server.url}/v1` }))),
      Effect.provide(RetryPolicy.layerDisabled)
    ))

  it.effect("Chat Completions: prompt-cache options reach the wire and pass the strict check", () =>
    Effect.gen(function*() {
      server.handle(() =>
        json({
          id: "chatcmpl-1",
          model: "gpt-4.1",
          choices: [{ index: 0, message: { role: "assistant", content: "pong" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
        })
      )
      yield* LlmClient.chat({ model: "openai:gpt-4.1", messages: "ping", providerOptions: { openai: cacheOptions } })
      const sent = server.requests[server.requests.length - 1]!
      expect(sent.path).toBe("/v1/chat/completions")
      expect(sent.body).toMatchObject(cacheOptions)
      expectValid(validateChatRequest(sent.body))
    }).pipe(
      Effect.provide(LlmClient.layerWith(OpenAI.layer({ apiKey: "sk-chat", baseUrl: `${server.url}/v1` }))),
      Effect.provide(RetryPolicy.layerDisabled)
    ))

  it.effect("stop sequences fail before anything is sent", () =>
    Effect.gen(function*() {
      const before = server.requests.length
      const error = yield* Effect.flip(
        LlmClient.chat({ model: "openai-responses:gpt-4.1", messages: "x", stop: ["END"] })
      )
      expect(error._tag).toBe("InvalidRequestError")
      expect(server.requests.length).toBe(before)
    }).pipe(
      Effect.provide(LlmClient.layerWith(OpenAI.responses({ apiKey: "sk", baseUrl: `${server.url}/v1` }))),
      Effect.provide(RetryPolicy.layerDisabled)
    ))

  it.effect("responsesConfig reads OPENAI_API_KEY / OPENAI_BASE_URL; store and name options", () =>
    Effect.gen(function*() {
      server.handle(() => json(responseBody))
      const client = yield* LlmClient.LlmClient
      expect([...client.providers()].sort()).toEqual(["azure-responses", "openai-responses"])
      yield* client.chat({ model: "openai-responses:gpt-4.1", messages: "ping" })
      expect(server.requests[server.requests.length - 1]!.headers.authorization).toBe("Bearer sk-from-env")
      yield* client.chat({ model: "azure-responses:gpt-4.1", messages: "ping" })
      const sent = server.requests[server.requests.length - 1]!
      expect(sent.path).toBe("/azure/v1/responses")
      expect(sent.body.store).toBe(true)
    }).pipe(
      Effect.provide(LlmClient.layerWith(Layer.mergeAll(
        OpenAI.responsesConfig(),
        OpenAI.responses({ name: "azure-responses", baseUrl: `${server.url}/azure/v1`, store: true })
      ))),
      Effect.provide(RetryPolicy.layerDisabled),
      Effect.withConfigProvider(ConfigProvider.fromMap(
        new Map([["OPENAI_API_KEY", "sk-from-env"], ["OPENAI_BASE_URL", `${server.url}/v1`]])
      ))
    ))
})
