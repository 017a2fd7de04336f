/**
 * OpenAI Chat Completions — and any server that speaks it (Ollama, vLLM, llama.cpp,
 * LM Studio, Groq, DeepSeek, Mistral, xAI, OpenRouter, Azure-style gateways) — as an
 * llm-fiber provider.
 *
 * `layer` / `layerConfig` register the `openai` provider (`POST {baseUrl}/chat/completions`,
 * `POST {baseUrl}/embeddings`); `responses` / `responsesConfig` register `openai-responses`,
 * the Responses API (`POST {baseUrl}/responses`, selected with `openai-responses:gpt-4.1`);
 * `compatible` and `ollama` register an OpenAI-compatible server under a name of your
 * choice, so `ollama:llama3.2` or `vllm:qwen3` resolve to it.
 *
 * **Details**
 * - The base URL includes the API version path, as in the official SDKs:
 *   `https://api.openai.com/v1`, `http://localhost:11434/v1`.
 * - Without an API key no `Authorization` header is sent (local servers).
 * - The key stays `Redacted` until the header is set and never appears in errors.
 * - `apiKeys` (or `OPENAI_API_KEYS=sk-a,sk-b`) spreads requests over several keys or
 *   deployments, skipping a key that got a 429 while it cools down (see `KeyPool`).
 * - `maxTokens` is sent as `max_completion_tokens` to OpenAI (reasoning models reject the
 *   deprecated `max_tokens`) and as `max_tokens` to compatible servers.
 * - `providerOptions[<provider name>]` is merged into the request body last.
 * - Compatible servers that reject `stream_options` (HTTP 400) get the stream request again
 *   without it, and are not sent it again.
 * - Slow local models: `OpenAI.ollama({ timeouts: Timeouts.localModels })` gives one provider
 *   longer deadlines; `Timeouts.layer(Timeouts.localModels)` changes them for every provider.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { LlmClient, ProviderRegistry, UndiciHttpClient } from "@llm-fiber/core"
 * import { OpenAI } from "@llm-fiber/openai"
 *
 * const Providers = Layer.mergeAll(
 *   OpenAI.layerConfig(), // OPENAI_API_KEY, OPENAI_BASE_URL
 *   OpenAI.compatible({ name: "vllm", baseUrl: "http://gpu-box:8000/v1" })
 * )
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(Providers),
 *   Layer.provide([ProviderRegistry.layer, UndiciHttpClient.layer()])
 * )
 *
 * const program = LlmClient.chat({ model: "vllm:Qwen/Qwen3-8B", messages: "Say hi", maxTokens: 50 })
 * Effect.runPromise(Effect.provide(program, Live))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as KeyPool from "@llm-fiber/core/KeyPool"
import type * as LlmClient from "@llm-fiber/core/LlmClient"
import * as LlmError from "@llm-fiber/core/LlmError"
import * as Provider from "@llm-fiber/core/Provider"
import * as ProviderConfig from "@llm-fiber/core/ProviderConfig"
import * as ProviderHttp from "@llm-fiber/core/ProviderHttp"
import * as ProviderRegistry from "@llm-fiber/core/ProviderRegistry"
import type * as StreamEvent from "@llm-fiber/core/StreamEvent"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { buildEmbeddingBody, mapEmbeddings } from "./internal/embeddings.js"
import { buildChatBody } from "./internal/request.js"
import { mapChatCompletion } from "./internal/response.js"
import { buildResponsesBody } from "./internal/responsesRequest.js"
import { mapResponse } from "./internal/responsesResponse.js"
import { ResponsesStreamState } from "./internal/responsesStream.js"
import { ChatStreamState } from "./internal/stream.js"

/**
 * The base URL of the OpenAI API (it includes `/v1`).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "https://api.openai.com/v1"

/**
 * The base URL of a local Ollama server's OpenAI-compatible API.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultOllamaBaseUrl = "http://localhost:11434/v1"

/**
 * What the OpenAI provider supports (prompt caching is automatic on OpenAI's side).
 *
 * @since 0.1.0
 * @category constants
 */
export const capabilities: Provider.Capabilities = Provider.allCapabilities

/**
 * What an OpenAI-compatible server is assumed to support (per model it varies; the
 * `Idempotency-Key` header is still sent when a request has one, but few servers honour it).
 *
 * @since 0.1.0
 * @category constants
 */
export const compatibleCapabilities: Provider.Capabilities = { ...capabilities, idempotency: false }

/**
 * Options of `make` / `layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends KeyPool.ProviderOptions {
  /** The API key; without one no `Authorization` header is sent. */
  readonly apiKey?: Redacted.Redacted | string | undefined
  /** Default `https://api.openai.com/v1` (the path includes the version). */
  readonly baseUrl?: string | undefined
  /** Sent as `OpenAI-Organization`. */
  readonly organization?: string | undefined
  /** Sent as `OpenAI-Project`. */
  readonly project?: string | undefined
  /** The registry name (default `openai`); also the `providerOptions` / `providerMetadata` key. */
  readonly name?: string | undefined
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Where `maxTokens` goes: `max_completion_tokens` (default) or the legacy `max_tokens`. */
  readonly maxTokensField?: "max_completion_tokens" | "max_tokens" | undefined
  /**
   * Where the request's `user` (the end user's id) goes: `safety_identifier` (default for
   * OpenAI), the legacy `user` (default for compatible servers), or `false` (not sent).
   */
  readonly userField?: "safety_identifier" | "user" | false | undefined
  /**
   * Send `stream_options: { include_usage: true }` on streams (default true). A server that
   * answers 400 mentioning `stream_options` gets the request again without it, and this
   * provider instance stops sending it; a stream without a usage chunk finishes without usage.
   */
  readonly includeStreamUsage?: boolean | undefined
  /**
   * Accept a stream that ends without `data: [DONE]` once a `finish_reason` arrived
   * (default false: a missing terminator is a `ProtocolError`).
   */
  readonly lenientStreamEnd?: boolean | undefined
  /** The largest JSON response accepted, in bytes (default 64 MiB; larger is a `ProtocolError`). */
  readonly maxBodyBytes?: number | undefined
  /** The largest single SSE event accepted, in characters (default 32 MiB; larger is a `ProtocolError`). */
  readonly maxEventBytes?: number | undefined
  /** Override the advertised capabilities. */
  readonly capabilities?: Partial<Provider.Capabilities> | undefined
  /** Transform the `HttpClient` (proxies, extra logging, tracing). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  /**
   * This provider's own deadlines, over the client's `Timeouts` (a request's `timeout` still
   * wins). For a model on a CPU: `timeouts: Timeouts.localModels`.
   */
  readonly timeouts?: Partial<Provider.ResolvedTimeouts> | undefined
}

/**
 * Build the provider (the `HttpClient` is taken from context once).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Provider.Provider, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (base) =>
    KeyPool.makeProvider(
      options.name ?? "openai",
      options,
      (connection) => makeWith(base, connection === undefined ? options : { ...options, ...connection })
    ))

/** What both OpenAI modes share: the configured `HttpClient`, URLs, error wording, embeddings. */
interface Shared {
  readonly name: string
  readonly baseUrl: string
  readonly client: HttpClient.HttpClient
  readonly explain: (<E extends LlmError.LlmError>(error: E) => E) | undefined
  readonly embed: (call: Provider.EmbedCall) => Effect.Effect<Provider.EmbedResult, LlmError.LlmError>
}

const noHeaders: Record<string, string> = {}

const idempotencyHeaders = (call: Provider.Call): Record<string, string> =>
  call.request.idempotencyKey !== undefined ? { "idempotency-key": call.request.idempotencyKey } : noHeaders

const shared = (base: HttpClient.HttpClient, options: Options, defaultName: string): Shared => {
  const name = options.name ?? defaultName
  const baseUrl = ProviderConfig.trimSlash(ProviderConfig.nonEmptyString(options.baseUrl) ?? defaultBaseUrl)
  const embeddingsUrl = `${baseUrl}/embeddings`
  const apiKey = ProviderConfig.redactedKey(options.apiKey)
  const staticHeaders: Record<string, string> = {}
  if (options.organization !== undefined) staticHeaders["openai-organization"] = options.organization
  if (options.project !== undefined) staticHeaders["openai-project"] = options.project
  if (options.headers !== undefined) {
    for (const key in options.headers) staticHeaders[key.toLowerCase()] = options.headers[key]!
  }
  let client = ProviderHttp.withHeaders(base, {
    headers: staticHeaders,
    secrets: apiKey !== undefined ? { authorization: Redacted.make(`Bearer ${Redacted.value(apiKey)}`) } : undefined
  })
  if (options.transformClient !== undefined) client = options.transformClient(client)
  // a 401 from OpenAI itself while no key is configured: say which variable to set
  const explain = apiKey === undefined && baseUrl === defaultBaseUrl ?
    <E extends LlmError.LlmError>(error: E): E =>
      error._tag === "AuthenticationError" ?
        LlmError.annotate(error, {
          message: `${error.message}; no API key is configured: set OPENAI_API_KEY or pass apiKey`
        }) :
        error :
    undefined

  const embed = (call: Provider.EmbedCall) =>
    ProviderHttp.postJson(client, {
      provider: name,
      model: call.model,
      url: embeddingsUrl,
      headers: noHeaders,
      body: buildEmbeddingBody(call),
      maxBodyBytes: options.maxBodyBytes
    }).pipe(
      Effect.flatMap((response) =>
        mapEmbeddings(
          response.json,
          { provider: name, model: call.model, requestId: response.requestId },
          call.input.length
        )
      )
    )
  return { name, baseUrl, client, explain, embed }
}

/** Apply `explain` to every operation of a provider. */
const explained = (provider: Provider.Provider, explain: Shared["explain"]): Provider.Provider => {
  if (explain === undefined) return provider
  const { chat, chatStream, embed } = provider
  return {
    ...provider,
    chat: (call) => Effect.mapError(chat(call), explain),
    chatStream: (call) => ProviderHttp.mapStreamError(chatStream(call), explain),
    embed: embed === undefined ? undefined : (call) => Effect.mapError(embed(call), explain)
  }
}

/** A 400 that names `stream_options`: a compatible server that does not know the field. */
const rejectsStreamOptions = (error: LlmError.LlmError): boolean =>
  error._tag === "InvalidRequestError" && error.status === 400 &&
  (error.message.includes("stream_options") || error.param === "stream_options")

const makeWith = (base: HttpClient.HttpClient, options: Options): Provider.Provider => {
  const { client, embed, explain, name, baseUrl } = shared(base, options, "openai")
  const chatUrl = `${baseUrl}/chat/completions`
  const maxTokensField = options.maxTokensField ?? "max_completion_tokens"
  // switched off for good once the server rejected `stream_options`
  let includeStreamUsage = options.includeStreamUsage ?? true
  const lenientEnd = options.lenientStreamEnd ?? false

  const spec = (call: Provider.Call, stream: boolean, includeUsage: boolean): ProviderHttp.RequestSpec => ({
    provider: name,
    model: call.model,
    url: chatUrl,
    headers: idempotencyHeaders(call),
    call,
    body: buildChatBody(call.request, call.model, stream, {
      providerName: name,
      maxTokensField,
      includeStreamUsage: includeUsage,
      userField: options.userField ?? "safety_identifier"
    }),
    maxBodyBytes: options.maxBodyBytes,
    maxEventBytes: options.maxEventBytes
  })

  const chat = (call: Provider.Call) =>
    Effect.flatMap(ProviderHttp.postJson(client, spec(call, false, false)), (response) =>
      mapChatCompletion(
        response.json,
        { provider: name, model: call.model, requestId: response.requestId },
        { latencyMs: response.latencyMs, ttfbMs: response.ttfbMs },
        response.headers
      ))

  const attemptStream = (call: Provider.Call, includeUsage: boolean, answered: { ok: boolean }) =>
    ProviderHttp.postSse(client, spec(call, true, includeUsage), (info, events) => {
      answered.ok = true
      const state = new ChatStreamState(
        { provider: name, model: call.model, requestId: info.requestId },
        { lenientEnd, headers: info.headers }
      )
      return ProviderHttp.mapEvents<StreamEvent.StreamEvent>(
        events,
        (event, out) => state.onEvent(event, out),
        (out) => state.onEnd(out)
      )
    })

  const chatStream = (call: Provider.Call) =>
    ProviderHttp.unwrapStream(Effect.sync(() => {
      const answered = { ok: false }
      if (!includeStreamUsage) return attemptStream(call, false, answered)
      // only a rejection of the request itself (non-2xx, before any event) is retried
      return ProviderHttp.catchStreamStart(attemptStream(call, true, answered), (error) => {
        if (answered.ok || !rejectsStreamOptions(error)) return undefined
        includeStreamUsage = false
        return attemptStream(call, false, answered)
      })
    }))

  return ProviderHttp.declareCall(
    client,
    explained({
      name,
      api: "openai-chat",
      capabilities: { ...capabilities, ...options.capabilities },
      chat,
      chatStream,
      embed,
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {})
    }, explain)
  )
}

/**
 * Register an OpenAI provider (default name `openai`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, never, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  ProviderRegistry.register(make(options))

// -----------------------------------------------------------------------------
// Responses API
// -----------------------------------------------------------------------------

/**
 * Options of `makeResponses` / `responses`: the same connection options as Chat
 * Completions.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponsesOptions
  extends Omit<Options, "maxTokensField" | "includeStreamUsage" | "lenientStreamEnd" | "name">
{
  /** The registry name (default `openai-responses`); also the `providerOptions` / `providerMetadata` key. */
  readonly name?: string | undefined
  /**
   * The `store` value sent (default `false`: llm-fiber sends the whole conversation every
   * time, so nothing needs to be kept on OpenAI's side). `providerOptions` can override it
   * per call, e.g. to use `previous_response_id`.
   */
  readonly store?: boolean | undefined
}

/**
 * Build the OpenAI Responses API provider (`POST {baseUrl}/responses`; the `HttpClient`
 * is taken from context once).
 *
 * **Details**
 * - Leading system messages become `instructions`; later ones stay in place as
 *   `system` messages. `maxTokens` is `max_output_tokens`, `responseFormat` is `text.format`.
 * - `stop` is not supported by the Responses API (an `InvalidRequestError`); `seed` is not sent.
 * - Only `function_call` output items become tool calls; server-side tool items (web search,
 *   file search, code interpreter, MCP, …) are skipped and listed in
 *   `providerMetadata["openai-responses"].skippedOutputItems`.
 * - `providerOptions["openai-responses"]` is merged into the body last (`reasoning`,
 *   `include`, `prompt_cache_key`, `previous_response_id`, …).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeResponses = (
  options: ResponsesOptions = {}
): Effect.Effect<Provider.Provider, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (base) =>
    KeyPool.makeProvider(
      options.name ?? "openai-responses",
      options,
      (connection) => makeResponsesWith(base, connection === undefined ? options : { ...options, ...connection })
    ))

const makeResponsesWith = (base: HttpClient.HttpClient, options: ResponsesOptions): Provider.Provider => {
  const { baseUrl, client, embed, explain, name } = shared(base, options, "openai-responses")
  const url = `${baseUrl}/responses`
  const build = { providerName: name, store: options.store ?? false } as const

  const spec = (call: Provider.Call, stream: boolean) =>
    Either.map(buildResponsesBody(call.request, call.model, stream, build), (body): ProviderHttp.RequestSpec => ({
      provider: name,
      model: call.model,
      url,
      headers: idempotencyHeaders(call),
      call,
      body,
      maxBodyBytes: options.maxBodyBytes,
      maxEventBytes: options.maxEventBytes
    }))

  const chat = (call: Provider.Call) =>
    Effect.flatMap(
      spec(call, false),
      (request) =>
        Effect.flatMap(ProviderHttp.postJson(client, request), (response) =>
          mapResponse(
            response.json,
            { provider: name, model: call.model, requestId: response.requestId },
            { latencyMs: response.latencyMs, ttfbMs: response.ttfbMs },
            response.headers
          ))
    )

  const chatStream = (call: Provider.Call) =>
    ProviderHttp.unwrapStream(
      Effect.map(spec(call, true), (request) =>
        ProviderHttp.postSse(client, request, (info, events) => {
          const state = new ResponsesStreamState(
            { provider: name, model: call.model, requestId: info.requestId },
            info.headers
          )
          return ProviderHttp.mapEvents<StreamEvent.StreamEvent>(
            events,
            (event, out) => state.onEvent(event, out),
            (out) => state.onEnd(out)
          )
        }))
    )

  return ProviderHttp.declareCall(
    client,
    explained({
      name,
      api: "openai-responses",
      capabilities: { ...capabilities, ...options.capabilities },
      chat,
      chatStream,
      embed,
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {})
    }, explain)
  )
}

/**
 * Register the OpenAI Responses API provider (default name `openai-responses`, so
 * `openai-responses:gpt-4.1` routes here).
 *
 * @since 0.1.0
 * @category layers
 */
export const responses = (
  options: ResponsesOptions = {}
): Layer.Layer<never, never, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  ProviderRegistry.register(makeResponses(options))

/**
 * `Config` values for `responsesConfig` (the same variables as `layerConfig`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponsesConfigOptions
  extends Omit<ResponsesOptions, "apiKey" | "apiKeys" | "baseUrl" | "organization" | "project">
{
  /** Default: `OPENAI_API_KEY` (optional). */
  readonly apiKey?: Config.Config<Redacted.Redacted | undefined> | undefined
  /** Default: `OPENAI_API_KEYS`, comma-separated (optional); when set it wins over `apiKey`. */
  readonly apiKeys?: Config.Config<ReadonlyArray<KeyPool.KeyEntry>> | undefined
  /** Default: `OPENAI_BASE_URL`, else `https://api.openai.com/v1`. */
  readonly baseUrl?: Config.Config<string | undefined> | undefined
  /** Default: `OPENAI_ORG_ID` (optional). */
  readonly organization?: Config.Config<string | undefined> | undefined
  /** Default: `OPENAI_PROJECT_ID` (optional). */
  readonly project?: Config.Config<string | undefined> | undefined
}

/**
 * Register the OpenAI Responses API provider configured through `Config` (by default from
 * `OPENAI_API_KEY` or `OPENAI_API_KEYS`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`).
 *
 * @since 0.1.0
 * @category layers
 */
export const responsesConfig = (
  options: ResponsesConfigOptions = {}
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({
        apiKey: options.apiKey ?? ProviderConfig.optional(Config.redacted("OPENAI_API_KEY")),
        apiKeys: options.apiKeys ?? KeyPool.configKeys("OPENAI_API_KEYS"),
        baseUrl: options.baseUrl ?? ProviderConfig.optional(Config.string("OPENAI_BASE_URL")),
        organization: options.organization ?? ProviderConfig.optional(Config.string("OPENAI_ORG_ID")),
        project: options.project ?? ProviderConfig.optional(Config.string("OPENAI_PROJECT_ID"))
      }),
      (values) =>
        responses({ ...options, ...values, ...KeyPool.preferPool(values.apiKey, values.apiKeys, options.keyPool) })
    )
  )

/**
 * `Config` values for `layerConfig`; each falls back to the environment variable of the
 * official SDK.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions extends Omit<Options, "apiKey" | "apiKeys" | "baseUrl" | "organization" | "project"> {
  /** Default: `OPENAI_API_KEY` (optional). */
  readonly apiKey?: Config.Config<Redacted.Redacted | undefined> | undefined
  /** Default: `OPENAI_API_KEYS`, comma-separated (optional); when set it wins over `apiKey`. */
  readonly apiKeys?: Config.Config<ReadonlyArray<KeyPool.KeyEntry>> | undefined
  /** Default: `OPENAI_BASE_URL`, else `https://api.openai.com/v1`. */
  readonly baseUrl?: Config.Config<string | undefined> | undefined
  /** Default: `OPENAI_ORG_ID` (optional). */
  readonly organization?: Config.Config<string | undefined> | undefined
  /** Default: `OPENAI_PROJECT_ID` (optional). */
  readonly project?: Config.Config<string | undefined> | undefined
}

/**
 * Register an OpenAI provider configured through `Config` (by default from
 * `OPENAI_API_KEY` or `OPENAI_API_KEYS`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({
        apiKey: options.apiKey ?? ProviderConfig.optional(Config.redacted("OPENAI_API_KEY")),
        apiKeys: options.apiKeys ?? KeyPool.configKeys("OPENAI_API_KEYS"),
        baseUrl: options.baseUrl ?? ProviderConfig.optional(Config.string("OPENAI_BASE_URL")),
        organization: options.organization ?? ProviderConfig.optional(Config.string("OPENAI_ORG_ID")),
        project: options.project ?? ProviderConfig.optional(Config.string("OPENAI_PROJECT_ID"))
      }),
      (values) =>
        layer({ ...options, ...values, ...KeyPool.preferPool(values.apiKey, values.apiKeys, options.keyPool) })
    )
  )

/**
 * Options of `compatible`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompatibleOptions extends Omit<Options, "name" | "baseUrl"> {
  /** The registry name: `ollama`, `vllm`, `groq`, … (`<name>:<model>` then routes here). */
  readonly name: string
  /** The server's OpenAI API root, including `/v1` (e.g. `http://localhost:8000/v1`). */
  readonly baseUrl: string
}

/**
 * Register an OpenAI-compatible server under `name`. Defaults differ from OpenAI's:
 * `maxTokens` is sent as `max_tokens`, and the advertised capabilities do not include
 * idempotency.
 *
 * **Gotchas**
 * - A model on a CPU can take minutes to answer: pass `timeouts: Timeouts.localModels`
 *   (or your own `{ firstByteMs, idleMs, totalMs }`); the client-wide default stays
 *   `Timeouts.hosted` for the other providers.
 * - `stream_options` is sent on streams; a server that rejects it with a 400 gets the
 *   request again without it (once per provider instance).
 *
 * @since 0.1.0
 * @category layers
 */
export const compatible = (
  options: CompatibleOptions
): Layer.Layer<never, never, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  ProviderRegistry.register(
    make({
      ...options,
      maxTokensField: options.maxTokensField ?? "max_tokens",
      userField: options.userField ?? "user",
      capabilities: { ...compatibleCapabilities, ...options.capabilities }
    })
  )

/**
 * An Ollama base URL with the `/v1` path added when it has no path at all
 * (`http://localhost:11434` → `http://localhost:11434/v1`), as `OLLAMA_BASE_URL` is often
 * set to the server root.
 *
 * @since 0.1.0
 * @category utils
 */
export const ollamaApiUrl = (url: string): string => {
  const trimmed = ProviderConfig.trimSlash(url.trim())
  try {
    const parsed = new URL(trimmed)
    return parsed.pathname === "/" || parsed.pathname === "" ? `${trimmed}/v1` : trimmed
  } catch {
    return trimmed
  }
}

/**
 * Options of `ollama`.
 *
 * @since 0.1.0
 * @category models
 */
export interface OllamaOptions extends Omit<CompatibleOptions, "name" | "baseUrl"> {
  /** Default `ollama`. */
  readonly name?: string | undefined
  /** Default: `OLLAMA_BASE_URL`, else `http://localhost:11434/v1`. */
  readonly baseUrl?: Config.Config<string | undefined> | string | undefined
}

/**
 * Register a local Ollama server (name `ollama`, base URL from `OLLAMA_BASE_URL` or
 * `http://localhost:11434/v1`).
 *
 * @since 0.1.0
 * @category layers
 */
export const ollama = (
  options: OllamaOptions = {}
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> => {
  const baseUrl = options.baseUrl
  const config: Config.Config<string | undefined> = typeof baseUrl === "string" ?
    Config.succeed(baseUrl) :
    baseUrl ?? ProviderConfig.optional(Config.string("OLLAMA_BASE_URL"))
  return Layer.unwrapEffect(Effect.map(config, (url) =>
    compatible({
      ...options,
      name: options.name ?? "ollama",
      baseUrl: ollamaApiUrl(ProviderConfig.nonEmptyString(url) ?? defaultOllamaBaseUrl)
    })))
}

// -----------------------------------------------------------------------------
// plugin
// -----------------------------------------------------------------------------

/**
 * The settings `LlmClient.layerFromEnv({ providers: { openai: settings } })` passes to the
 * plugin. Every field is optional; environment variables fill the gaps.
 *
 * @since 0.1.0
 * @category models
 */
export interface PluginSettings {
  /** The OpenAI key (else `OPENAI_API_KEY`); `false` turns the `openai` provider off. */
  readonly apiKey?: string | false | undefined
  /** The OpenAI base URL (else `OPENAI_BASE_URL`). */
  readonly baseUrl?: string | undefined
  readonly organization?: string | undefined
  readonly project?: string | undefined
  /** `false` turns the `openai` provider off even when `OPENAI_API_KEY` is set. */
  readonly openai?: boolean | undefined
  /**
   * `false` turns the `openai-responses` provider (the Responses API, registered with the
   * same key and base URL whenever `openai` is) off.
   */
  readonly responses?: boolean | undefined
  /** `false` turns the `ollama` provider off. */
  readonly ollama?: boolean | undefined
  /** The Ollama base URL (else `OLLAMA_BASE_URL`, else `http://localhost:11434/v1`). */
  readonly ollamaBaseUrl?: string | undefined
  /** More OpenAI-compatible servers to register. */
  readonly compatible?:
    | ReadonlyArray<{ readonly name: string; readonly baseUrl: string; readonly apiKey?: string | undefined }>
    | undefined
}

const settingError = (path: string, message: string) =>
  ConfigError.InvalidData(["openai", path], `openai plugin setting "${path}": ${message}`)

const optionalString = (settings: Readonly<Record<string, unknown>>, key: string) => {
  const value = settings[key]
  if (value === undefined || value === null) return Effect.succeed(undefined)
  return typeof value === "string" ?
    Effect.succeed(ProviderConfig.nonEmptyString(value)) :
    Effect.fail(settingError(key, `expected a string, got ${typeof value}`))
}

const parseCompatible = (
  value: unknown
): Effect.Effect<ReadonlyArray<CompatibleOptions>, ConfigError.ConfigError> => {
  if (value === undefined || value === null) return Effect.succeed([])
  if (!Array.isArray(value)) return Effect.fail(settingError("compatible", "expected a list of { name, baseUrl }"))
  const out: Array<CompatibleOptions> = []
  for (let i = 0; i < value.length; i++) {
    const entry: unknown = value[i]
    if (typeof entry !== "object" || entry === null) {
      return Effect.fail(settingError(`compatible[${i}]`, "expected { name, baseUrl, apiKey? }"))
    }
    const { apiKey, baseUrl, name } = entry as Record<string, unknown>
    if (ProviderConfig.nonEmptyString(name) === undefined || ProviderConfig.nonEmptyString(baseUrl) === undefined) {
      return Effect.fail(settingError(`compatible[${i}]`, "needs a non-empty \"name\" and \"baseUrl\""))
    }
    if (apiKey !== undefined && typeof apiKey !== "string") {
      return Effect.fail(settingError(`compatible[${i}].apiKey`, "expected a string"))
    }
    out.push({
      name: name as string,
      baseUrl: baseUrl as string,
      ...(typeof apiKey === "string" ? { apiKey } : {})
    })
  }
  return Effect.succeed(out)
}

const pluginLayer = (
  settings: Readonly<Record<string, unknown>> = {}
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const openaiOff = settings.openai === false || settings.apiKey === false
    const apiKeySetting = settings.apiKey === false ? undefined : yield* optionalString(settings, "apiKey")
    const baseUrlSetting = yield* optionalString(settings, "baseUrl")
    const organization = yield* optionalString(settings, "organization")
    const project = yield* optionalString(settings, "project")
    const ollamaBaseUrl = yield* optionalString(settings, "ollamaBaseUrl")
    const extra = yield* parseCompatible(settings.compatible)
    const env = yield* Config.all({
      apiKey: ProviderConfig.optional(Config.redacted("OPENAI_API_KEY")),
      apiKeys: KeyPool.configKeys("OPENAI_API_KEYS"),
      baseUrl: ProviderConfig.optional(Config.string("OPENAI_BASE_URL")),
      organization: ProviderConfig.optional(Config.string("OPENAI_ORG_ID")),
      project: ProviderConfig.optional(Config.string("OPENAI_PROJECT_ID")),
      ollama: ProviderConfig.optional(Config.string("OLLAMA_BASE_URL"))
    })
    const names = new Set(extra.map((c) => c.name))
    const layers: Array<Layer.Layer<never, never, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient>> = []
    if (!openaiOff && !names.has("openai")) {
      // an explicit key setting wins over OPENAI_API_KEYS, which wins over OPENAI_API_KEY;
      // `openai` and `openai-responses` share one pool (and so its cooldowns)
      const keyPool = apiKeySetting === undefined && env.apiKeys.length > 0 ?
        yield* KeyPool.make({ keys: env.apiKeys, name: "openai" }) :
        undefined
      const apiKey = keyPool !== undefined ?
        undefined :
        apiKeySetting !== undefined ?
        Redacted.make(apiKeySetting) :
        ProviderConfig.redactedKey(env.apiKey)
      const baseUrl = baseUrlSetting ?? ProviderConfig.nonEmptyString(env.baseUrl)
      if (apiKey !== undefined || keyPool !== undefined || baseUrl !== undefined) {
        const connection = {
          apiKey,
          keyPool,
          baseUrl,
          organization: organization ?? ProviderConfig.nonEmptyString(env.organization),
          project: project ?? ProviderConfig.nonEmptyString(env.project)
        }
        layers.push(layer(connection))
        if (settings.responses !== false && !names.has("openai-responses")) layers.push(responses(connection))
      }
    }
    if (settings.ollama !== false && !names.has("ollama")) {
      layers.push(compatible({
        name: "ollama",
        baseUrl: ollamaApiUrl(ollamaBaseUrl ?? ProviderConfig.nonEmptyString(env.ollama) ?? defaultOllamaBaseUrl)
      }))
    }
    for (const options of extra) layers.push(compatible(options))
    return layers.length === 0 ? Layer.empty : Layer.mergeAll(...(layers as [typeof layers[number]]))
  }))

/**
 * The plugin `LlmClient.layerFromEnv` loads from this package: registers `openai` (and,
 * unless `responses: false`, `openai-responses` with the same connection) when
 * `OPENAI_API_KEY`, `OPENAI_API_KEYS` or `OPENAI_BASE_URL` is set (or settings give `apiKey` / `baseUrl`),
 * `ollama` always (unless `ollama: false`), and every `compatible` server of the settings.
 *
 * @since 0.1.0
 * @category plugin
 */
export const plugin: LlmClient.Plugin = {
  name: "openai",
  layer: pluginLayer
}
