/**
 * The provider over real HTTP (undici → a loopback server): error mapping, headers and
 * secrets, embeddings, configuration layers and the plugin.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import {
  ChatRequest,
  LlmClient,
  ProviderRegistry,
  RetryPolicy,
  StreamEvent,
  Timeouts,
  UndiciHttpClient
} from "@llm-fiber/core"
import { OpenAI, plugin } from "@llm-fiber/openai"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { json, type Reply, sse, startServer, type TestServer } from "../../../test-support/server.js"

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const secret = "sk-live-SECRET-0123456789"
const okBody = {
  id: "chatcmpl-ok",
  object: "chat.completion",
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "pong" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
}
const responseBody = {
  id: "resp_ok",
  object: "response",
  model: "gpt-4.1-2025-04-14",
  status: "completed",
  output: [{
    type: "message",
    id: "msg_1",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text: "pong", annotations: [] }]
  }],
  usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 }
}
const okStream = [
  { id: "chatcmpl-s", model: "gpt-4o-mini", choices: [{ index: 0, delta: { role: "assistant", content: "po" } }] },
  { id: "chatcmpl-s", model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: "ng" }, finish_reason: "stop" }] },
  {
    id: "chatcmpl-s",
    model: "gpt-4o-mini",
    choices: [],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 }
  }
].map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n"

const call = (input: Partial<ChatRequest.Input> = {}, model = "gpt-4o-mini") => ({
  request: Either.getOrThrow(ChatRequest.make({ model, messages: "ping", ...input })),
  model,
  timeouts: Timeouts.hosted,
  attempt: 1
})

const openai = (options: OpenAI.Options = {}) =>
  OpenAI.make({ apiKey: secret, baseUrl: `${server.url}/v1`, ...options })

const Http = UndiciHttpClient.layer()

const failWith = (reply: Reply) =>
  Effect.gen(function*() {
    server.handle(() => reply)
    const p = yield* openai()
    const chat = yield* Effect.flip(p.chat(call()))
    const stream = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
    expect(stream._tag).toBe(chat._tag)
    for (const error of [chat, stream]) {
      expect(JSON.stringify(error)).not.toContain(secret)
      expect(String(error)).not.toContain(secret)
      expect(error.provider).toBe("openai")
      expect(error.model).toBe("gpt-4o-mini")
    }
    return chat
  })

describe("HTTP errors", () => {
  it.effect("401 → AuthenticationError, never retryable, no key in it", () =>
    Effect.gen(function*() {
      const error = yield* failWith(json(
        {
          error: {
            message: "Incorrect API key provided: sk-live-***6789.",
            type: "invalid_request_error",
            code: "invalid_api_key"
          }
        },
        401,
        { "x-request-id": "req_401" }
      ))
      expect(error._tag).toBe("AuthenticationError")
      expect(error.status).toBe(401)
      expect(error.requestId).toBe("req_401")
      expect(error.code).toBe("invalid_api_key")
      expect(error.retryable).toBe(false)
    }).pipe(Effect.provide(Http)))

  it.effect("404 → NotFoundError", () =>
    Effect.gen(function*() {
      const error = yield* failWith(json({
        error: { message: "The model `gpt-9` does not exist", type: "invalid_request_error", code: "model_not_found" }
      }, 404))
      expect(error._tag).toBe("NotFoundError")
      expect(error.message).toContain("does not exist")
    }).pipe(Effect.provide(Http)))

  it.effect("400 context_length_exceeded → ContextLengthError", () =>
    Effect.gen(function*() {
      const error = yield* failWith(json({
        error: {
          message:
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
          type: "invalid_request_error",
          param: "messages",
          code: "context_length_exceeded"
        }
      }, 400))
      expect(error._tag).toBe("ContextLengthError")
      expect(error.code).toBe("context_length_exceeded")
      expect(error.retryable).toBe(false)
    }).pipe(Effect.provide(Http)))

  it.effect("429 with Retry-After → RateLimitError with retryAfterMs", () =>
    Effect.gen(function*() {
      const error = yield* failWith(json(
        {
          error: { message: "Rate limit reached for gpt-4o-mini", type: "requests", code: "rate_limit_exceeded" }
        },
        429,
        { "retry-after": "2" }
      ))
      expect(error._tag).toBe("RateLimitError")
      expect(error._tag === "RateLimitError" && error.retryAfterMs).toBe(2000)
      expect(error.retryable).toBe(true)
      const ms = yield* failWith(json({ error: { message: "slow down" } }, 429, { "retry-after-ms": "150" }))
      expect(ms._tag === "RateLimitError" && ms.retryAfterMs).toBe(150)
      const quota = yield* failWith(json({ error: { message: "quota", code: "insufficient_quota" } }, 429))
      expect(quota.retryable).toBe(false)
    }).pipe(Effect.provide(Http)))

  it.effect("500 → ServerError (retryable), with a text body too", () =>
    Effect.gen(function*() {
      const error = yield* failWith(json({ error: { message: "The server had an error", type: "server_error" } }, 500))
      expect(error._tag).toBe("ServerError")
      expect(error.retryable).toBe(true)
      const text = yield* failWith({
        status: 502,
        headers: { "content-type": "text/html" },
        body: "<h1>Bad gateway</h1>"
      })
      expect(text._tag).toBe("ServerError")
      expect(text.status).toBe(502)
    }).pipe(Effect.provide(Http)))

  it.effect("a JSON error payload inside a 200 stream → the mapped error, after the partial output", () =>
    Effect.gen(function*() {
      server.handle(() =>
        sse(
          `data: ${JSON.stringify({ id: "x", choices: [{ index: 0, delta: { content: "a" } }] })}\n\n` +
            `data: ${
              JSON.stringify({ error: { message: "Rate limited mid-stream", type: "rate_limit", code: 429 } })
            }\n\n`
        )
      )
      const p = yield* openai()
      const events: Array<StreamEvent.StreamEvent> = []
      const error = yield* Effect.flip(
        Stream.runForEach(p.chatStream(call()), (e) => Effect.sync(() => events.push(e)))
      )
      expect(error._tag).toBe("RateLimitError")
      expect(events.map((e) => e._tag)).toEqual(["Start", "TextDelta"])
    }).pipe(Effect.provide(Http)))

  it.effect("a non-JSON 200 body, or the wrong content type → ProtocolError", () =>
    Effect.gen(function*() {
      server.handle(() => ({ status: 200, headers: { "content-type": "application/json" }, body: "{\"id\": " }))
      const p = yield* openai()
      expect((yield* Effect.flip(p.chat(call())))._tag).toBe("ProtocolError")
      server.handle(() => json(okBody))
      expect((yield* Effect.flip(Stream.runDrain(p.chatStream(call()))))._tag).toBe("ProtocolError")
      server.handle(() => ({ status: 200, headers: { "content-type": "text/html" }, body: "<html>" }))
      expect((yield* Effect.flip(p.chat(call())))._tag).toBe("ProtocolError")
    }).pipe(Effect.provide(Http)))

  it.effect("a connection reset mid-stream → NetworkError", () =>
    Effect.gen(function*() {
      server.handle(() => ({ ...sse(okStream), resetAfter: 80 }))
      const p = yield* openai()
      const error = yield* Effect.flip(Stream.runDrain(p.chatStream(call())))
      expect(error._tag).toBe("NetworkError")
      expect(error.retryable).toBe(true)
    }).pipe(Effect.provide(Http)))
})

describe("headers and secrets", () => {
  it.effect("bearer key, organization, project, custom headers, idempotency key, JSON accept", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody, 200, { "x-request-id": "req_ok" }))
      const p = yield* openai({
        organization: "org-1",
        project: "proj-1",
        headers: { "X-Title": "llm-fiber tests" },
        apiKey: Redacted.make(secret)
      })
      const result = yield* p.chat(call({ idempotencyKey: "idem-123" }))
      expect(result.text).toBe("pong")
      expect(result.requestId).toBe("req_ok")
      const sent = server.requests[server.requests.length - 1]!
      expect(sent.path).toBe("/v1/chat/completions")
      expect(sent.headers.authorization).toBe(`Bearer ${secret}`)
      expect(sent.headers["openai-organization"]).toBe("org-1")
      expect(sent.headers["openai-project"]).toBe("proj-1")
      expect(sent.headers["x-title"]).toBe("llm-fiber tests")
      expect(sent.headers["idempotency-key"]).toBe("idem-123")
      expect(sent.headers["content-type"]).toBe("application/json")
      expect(sent.body).toEqual({ model: "gpt-4o-mini", messages: [{ role: "user", content: "ping" }] })
    }).pipe(Effect.provide(Http)))

  it.effect("no API key (or an empty one) → no Authorization header", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      for (const apiKey of [undefined, "", Redacted.make("  ")]) {
        const p = yield* OpenAI.make({ baseUrl: `${server.url}/v1`, ...(apiKey !== undefined ? { apiKey } : {}) })
        yield* p.chat(call())
        expect(server.requests[server.requests.length - 1]!.headers.authorization).toBeUndefined()
      }
    }).pipe(Effect.provide(Http)))

  it.effect("a 401 from OpenAI without a configured key says which variable to set", () =>
    Effect.gen(function*() {
      const p = yield* OpenAI.make({
        transformClient: HttpClient.mapRequest((request) =>
          request.pipe(HttpClientRequest.setUrl(request.url.replace(OpenAI.defaultBaseUrl, `${server.url}/v1`)))
        )
      })
      server.handle(() => json({ error: { message: "You didn't provide an API key." } }, 401))
      const error = yield* Effect.flip(p.chat(call()))
      expect(error._tag).toBe("AuthenticationError")
      expect(error.message).toContain("set OPENAI_API_KEY")
      expect(server.requests[server.requests.length - 1]!.headers.authorization).toBeUndefined()
    }).pipe(Effect.provide(Http)))

  it.effect("a trailing slash on the base URL is ignored", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const p = yield* OpenAI.make({ baseUrl: `${server.url}/v1///` })
      yield* p.chat(call())
      expect(server.requests[server.requests.length - 1]!.path).toBe("/v1/chat/completions")
    }).pipe(Effect.provide(Http)))

  it.effect("provider description", () =>
    Effect.gen(function*() {
      const p = yield* openai()
      expect(p.name).toBe("openai")
      expect(p.api).toBe("openai-chat")
      expect(p.capabilities).toEqual(OpenAI.capabilities)
      expect(Object.values(p.capabilities).every((v) => v === true)).toBe(true)
      const c = yield* OpenAI.make({ name: "vllm", baseUrl: "http://x/v1", capabilities: { vision: false } })
      expect(c.name).toBe("vllm")
      expect(c.capabilities.vision).toBe(false)
    }).pipe(Effect.provide(Http)))
})

describe("embeddings", () => {
  it.effect("POST /embeddings; vectors in input order; dimensions sent", () =>
    Effect.gen(function*() {
      server.handle(() =>
        json({
          object: "list",
          data: [
            { object: "embedding", index: 1, embedding: [0.3, 0.4] },
            { object: "embedding", index: 0, embedding: [0.1, 0.2] }
          ],
          model: "text-embedding-3-small",
          usage: { prompt_tokens: 8, total_tokens: 8 }
        })
      )
      const p = yield* openai()
      const result = yield* p.embed!({
        model: "text-embedding-3-small",
        input: ["a", "b"],
        dimensions: 2,
        timeouts: Timeouts.hosted
      })
      expect(result).toEqual({
        model: "text-embedding-3-small",
        provider: "openai",
        embeddings: [[0.1, 0.2], [0.3, 0.4]],
        usage: { inputTokens: 8, outputTokens: 0, totalTokens: 8 }
      })
      const sent = server.requests[server.requests.length - 1]!
      expect(sent.path).toBe("/v1/embeddings")
      expect(sent.body).toEqual({ model: "text-embedding-3-small", input: ["a", "b"], dimensions: 2 })
      expect(sent.headers.authorization).toBe(`Bearer ${secret}`)
    }).pipe(Effect.provide(Http)))

  it.effect("errors and malformed embeddings responses", () =>
    Effect.gen(function*() {
      const p = yield* openai()
      const embed = p.embed!({ model: "text-embedding-3-small", input: ["a"], timeouts: Timeouts.hosted })
      server.handle(() => json({ error: { message: "bad model" } }, 404))
      expect((yield* Effect.flip(embed))._tag).toBe("NotFoundError")
      server.handle(() => json({ data: [{ index: 0 }] }))
      expect((yield* Effect.flip(embed))._tag).toBe("ProtocolError")
      server.handle(() => json({ data: [] }))
      expect((yield* Effect.flip(embed))._tag).toBe("ProtocolError")
    }).pipe(Effect.provide(Http)))

  it.effect("through LlmClient.embed", () =>
    Effect.gen(function*() {
      server.handle(() => json({ data: [{ index: 0, embedding: [1, 2, 3] }], usage: { prompt_tokens: 1 } }))
      const result = yield* LlmClient.embed({ model: "text-embedding-3-small", input: "hello" })
      expect(result.embeddings).toEqual([[1, 2, 3]])
      expect(result.model).toBe("text-embedding-3-small")
    }).pipe(Effect.provide(LlmClient.layerWith(OpenAI.layer({ apiKey: secret, baseUrl: `${server.url}/v1` })))))
})

describe("layers and configuration", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.effect("layerConfig reads OPENAI_API_KEY and OPENAI_BASE_URL", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "ping" }).pipe(
        Effect.provide(LlmClient.layerWith(OpenAI.layerConfig())),
        withEnv({ OPENAI_API_KEY: "sk-from-env", OPENAI_BASE_URL: `${server.url}/v1`, OPENAI_PROJECT_ID: "p-env" })
      )
      expect(result.text).toBe("pong")
      expect(result.provider).toBe("openai")
      const sent = server.requests[server.requests.length - 1]!
      expect(sent.headers.authorization).toBe("Bearer sk-from-env")
      expect(sent.headers["openai-project"]).toBe("p-env")
    }))

  it.effect("layerConfig takes the user's own Config values", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const layer = OpenAI.layerConfig({
        apiKey: Config.redacted("MY_KEY"),
        baseUrl: Config.string("MY_URL"),
        name: "corp"
      })
      const result = yield* LlmClient.chat({ model: "corp:gpt-4o-mini", messages: "ping" }).pipe(
        Effect.provide(LlmClient.layerWith(layer)),
        withEnv({ MY_KEY: "sk-mine", MY_URL: `${server.url}/v1` })
      )
      expect(result.provider).toBe("corp")
      expect(server.requests[server.requests.length - 1]!.headers.authorization).toBe("Bearer sk-mine")
      const missing = yield* Effect.flip(
        LlmClient.chat({ model: "corp:x", messages: "ping" }).pipe(
          Effect.provide(LlmClient.layerWith(layer)),
          withEnv({})
        )
      )
      expect(missing._tag).toBe("ConfigError")
    }))

  it.effect("compatible servers route by name, send max_tokens and no Authorization", () =>
    Effect.gen(function*() {
      server.handle(() => sse(okStream))
      const events = yield* Stream.runCollect(
        LlmClient.chatStream({ model: "vllm:Qwen/Qwen3-8B", messages: "ping", maxTokens: 7 })
      )
      const result = StreamEvent.accumulateAll(events)
      expect(result.text).toBe("pong")
      expect(result.provider).toBe("vllm")
      const sent = server.requests[server.requests.length - 1]!
      expect(sent.path).toBe("/vllm/v1/chat/completions")
      expect(sent.body.model).toBe("Qwen/Qwen3-8B")
      expect(sent.body.max_tokens).toBe(7)
      expect(sent.body.max_completion_tokens).toBeUndefined()
      expect(sent.headers.authorization).toBeUndefined()
    }).pipe(Effect.provide(LlmClient.layerWith(OpenAI.compatible({ name: "vllm", baseUrl: `${server.url}/vllm/v1` })))))

  it("ollamaApiUrl adds /v1 to a bare server URL", () => {
    expect(OpenAI.ollamaApiUrl("http://localhost:11434")).toBe("http://localhost:11434/v1")
    expect(OpenAI.ollamaApiUrl("http://localhost:11434/")).toBe("http://localhost:11434/v1")
    expect(OpenAI.ollamaApiUrl("http://gpu:11434/v1/")).toBe("http://gpu:11434/v1")
    expect(OpenAI.ollamaApiUrl("https://proxy.example.com/ollama/v1")).toBe("https://proxy.example.com/ollama/v1")
  })

  it.effect("ollama() reads OLLAMA_BASE_URL", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const result = yield* LlmClient.chat({ model: "ollama:llama3.2", messages: "ping" }).pipe(
        Effect.provide(LlmClient.layerWith(OpenAI.ollama())),
        withEnv({ OLLAMA_BASE_URL: server.url })
      )
      expect(result.provider).toBe("ollama")
      expect(server.requests[server.requests.length - 1]!.path).toBe("/v1/chat/completions")
      expect(server.requests[server.requests.length - 1]!.body.model).toBe("llama3.2")
    }))
})

describe("plugin", () => {
  const names = (settings: Record<string, unknown> | undefined, env: Record<string, string>) =>
    Effect.gen(function*() {
      const registry = ProviderRegistry.make()
      yield* Layer.build(plugin.layer(settings)).pipe(
        Effect.provide(Layer.succeed(ProviderRegistry.ProviderRegistry, registry)),
        Effect.provide(Http),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
      return registry.names()
    }).pipe(Effect.scoped)

  it.effect("registers openai only with a key or a base URL; ollama always", () =>
    Effect.gen(function*() {
      expect(plugin.name).toBe("openai")
      expect(yield* names(undefined, {})).toEqual(["ollama"])
      const both = ["ollama", "openai", "openai-responses"]
      expect([...(yield* names(undefined, { OPENAI_API_KEY: "sk" }))].sort()).toEqual(both)
      expect([...(yield* names(undefined, { OPENAI_BASE_URL: "http://x/v1" }))].sort()).toEqual(both)
      expect([...(yield* names({ apiKey: "sk" }, {}))].sort()).toEqual(both)
      // the Responses API mode comes with openai unless turned off
      expect([...(yield* names({ responses: false }, { OPENAI_API_KEY: "sk" }))].sort()).toEqual(["ollama", "openai"])
      expect(yield* names({ apiKey: false }, { OPENAI_API_KEY: "sk" })).toEqual(["ollama"])
      expect(yield* names({ openai: false }, { OPENAI_API_KEY: "sk" })).toEqual(["ollama"])
      expect(yield* names({ ollama: false }, {})).toEqual([])
      expect(yield* names({ OPENAI_API_KEY: "" }, { OPENAI_API_KEY: "" })).toEqual(["ollama"])
      expect(
        [
          ...(yield* names({
            compatible: [{ name: "vllm", baseUrl: "http://gpu/v1" }, { name: "lmstudio", baseUrl: "http://l/v1" }]
          }, {}))
        ].sort()
      ).toEqual(["lmstudio", "ollama", "vllm"])
    }))

  it.effect("bad settings are a ConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(names({ compatible: [{ name: "x" }] }, {}))
      expect(error._op).toBe("InvalidData")
      expect(String(error)).toContain("compatible[0]")
      expect((yield* Effect.flip(names({ baseUrl: 42 }, {})))._op).toBe("InvalidData")
    }))

  it.effect("LlmClient.layerFromEnv loads the plugin by package name", () =>
    Effect.gen(function*() {
      server.handle(() => json(okBody))
      const client = yield* LlmClient.LlmClient
      expect([...client.providers()].sort()).toEqual(["ollama", "openai", "openai-responses"])
      const result = yield* client.chat({ model: "gpt-4o-mini", messages: "ping" })
      expect(result.text).toBe("pong")
      expect(server.requests[server.requests.length - 1]!.headers.authorization).toBe("Bearer sk-env-plugin")
      server.handle(() => sse(okStream))
      const streamed = yield* StreamEvent.accumulate(client.chatStream({ model: "ollama:qwen3", messages: "ping" }))
      expect(streamed.provider).toBe("ollama")
      const sent = server.requests[server.requests.length - 1]!
      // OLLAMA_BASE_URL without a path gets /v1
      expect(sent.path).toBe("/v1/chat/completions")
      expect(sent.body.model).toBe("qwen3")
      expect(sent.headers.authorization).toBeUndefined()
      // openai-responses:<model> selects the Responses API with the same key and base URL
      server.handle(() => json(responseBody))
      const viaResponses = yield* client.chat({ model: "openai-responses:gpt-4.1", messages: "ping" })
      expect(viaResponses.provider).toBe("openai-responses")
      expect(viaResponses.text).toBe("pong")
      const sentResponses = server.requests[server.requests.length - 1]!
      expect(sentResponses.path).toBe("/v1/responses")
      expect(sentResponses.body.model).toBe("gpt-4.1")
      expect(sentResponses.headers.authorization).toBe("Bearer sk-env-plugin")
    }).pipe(
      Effect.provide(LlmClient.layerFromEnv()),
      Effect.provide(RetryPolicy.layerDisabled),
      Effect.withConfigProvider(ConfigProvider.fromMap(
        new Map([
          ["OPENAI_API_KEY", "sk-env-plugin"],
          ["OPENAI_BASE_URL", `${server.url}/v1`],
          ["OLLAMA_BASE_URL", server.url]
        ])
      ))
    ))
})
