/**
 * The Google Gemini API (`generateContent`, `streamGenerateContent`, `batchEmbedContents`)
 * as an llm-fiber provider, in its `v1beta` (default) and `v1` versions.
 *
 * `layer` / `layerConfig` register the `gemini` provider, so `gemini-2.5-flash` (the
 * `gemini-` prefix rule) and `gemini:<model>` resolve to it. Requests go to
 * `POST {baseUrl}/{apiVersion}/models/{model}:generateContent` and
 * `…:streamGenerateContent?alt=sse`.
 *
 * **Details**
 * - The base URL has no version path, as in Google's SDKs:
 *   `https://generativelanguage.googleapis.com`.
 * - The key travels in the `x-goog-api-key` header only (never in the URL), stays
 *   `Redacted` until the header is set, and never appears in errors.
 * - `apiKeys` (or `GEMINI_API_KEYS=k1,k2`) spreads requests over several keys or
 *   deployments, skipping a key that got a 429 while it cools down (see `KeyPool`).
 * - Gemini names no tool calls: ids are generated, stable for a response
 *   (`{responseId}_call_{n}`). Tool results go back as `functionResponse` with the
 *   function's name — taken from the tool-result part's `name`, else from the assistant
 *   tool call with that id earlier in the conversation.
 * - Thought signatures (Gemini 3 requires them back with function calls) are kept on the
 *   result message's reasoning part and sent back on the next turn.
 * - `providerOptions.gemini` is merged last: `generationConfig` fields (`thinkingConfig`,
 *   `topK`, …) into `generationConfig`, anything else (`safetySettings`,
 *   `cachedContent`, …) at the top level.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { LlmClient, ProviderRegistry, UndiciHttpClient } from "@llm-fiber/core"
 * import { Gemini } from "@llm-fiber/gemini"
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(Gemini.layerConfig()), // GEMINI_API_KEY (or GOOGLE_API_KEY), GEMINI_BASE_URL, GEMINI_API_VERSION
 *   Layer.provide([ProviderRegistry.layer, UndiciHttpClient.layer()])
 * )
 *
 * const program = LlmClient.chat({ model: "gemini-2.5-flash", messages: "Say hi", maxTokens: 50 })
 * Effect.runPromise(Effect.provide(program, Live))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as KeyPool from "@llm-fiber/core/KeyPool"
import type * as LlmClient from "@llm-fiber/core/LlmClient"
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Provider from "@llm-fiber/core/Provider"
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
import type * as Stream from "effect/Stream"
import { mapEmbeddings } from "./internal/embeddings.js"
import { buildEmbedBody, buildGenerateContentBody } from "./internal/request.js"
import { mapGenerateContent } from "./internal/response.js"
import { GenerateStreamState } from "./internal/stream.js"

/**
 * The base URL of the Gemini API (without a version path).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "https://generativelanguage.googleapis.com"

/**
 * The API versions the provider speaks.
 *
 * @since 0.1.0
 * @category models
 */
export type ApiVersion = "v1beta" | "v1"

/**
 * The API versions the provider speaks (`v1beta` is the default: newer features —
 * thinking, `responseJsonSchema`, `cachedContent` — appear there first).
 *
 * @since 0.1.0
 * @category constants
 */
export const apiVersions: ReadonlyArray<ApiVersion> = ["v1beta", "v1"]

/**
 * What the Gemini provider supports (no idempotency keys; prompt caching is implicit, or
 * explicit through `providerOptions.gemini.cachedContent`).
 *
 * @since 0.1.0
 * @category constants
 */
export const capabilities: Provider.Capabilities = {
  streaming: true,
  tools: true,
  vision: true,
  jsonSchema: true,
  embeddings: true,
  promptCaching: true,
  reasoning: true,
  idempotency: false
}

/**
 * Options of `make` / `layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends KeyPool.ProviderOptions {
  /** The API key (sent as `x-goog-api-key`); without one no key header is sent. */
  readonly apiKey?: Redacted.Redacted | string | undefined
  /** Default `https://generativelanguage.googleapis.com` (no version path). */
  readonly baseUrl?: string | undefined
  /** `v1beta` (default) or `v1`. */
  readonly apiVersion?: ApiVersion | undefined
  /** The registry name (default `gemini`); also the `providerOptions` / `providerMetadata` key. */
  readonly name?: string | undefined
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * How JSON Schemas (tool parameters, `responseFormat` json_schema) are sent:
   * `openapi` (default) converts them to Gemini's `Schema` (`parameters`,
   * `responseSchema`; works on every model and version); `jsonSchema` sends them unchanged
   * as `parametersJsonSchema` / `responseJsonSchema` (v1beta, Gemini 2.5+).
   */
  readonly schemaMode?: "openapi" | "jsonSchema" | undefined
  /** The largest JSON response accepted, in bytes (default 64 MiB). */
  readonly maxBodyBytes?: number | undefined
  /** The largest single SSE event accepted, in characters (default 32 MiB). */
  readonly maxEventBytes?: number | undefined
  /** Override the advertised capabilities. */
  readonly capabilities?: Partial<Provider.Capabilities> | undefined
  /** Transform the `HttpClient` (proxies, extra logging, tracing). */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

const versionError = (value: unknown, path: ReadonlyArray<string>) =>
  ConfigError.InvalidData(
    [...path],
    `Gemini API version must be one of ${apiVersions.join(", ")} (got ${JSON.stringify(value)})`
  )

/**
 * Check an API version (`v1beta` or `v1`, case-insensitive, surrounding spaces ignored).
 *
 * @since 0.1.0
 * @category utils
 */
export const parseApiVersion = (value: unknown): ApiVersion | undefined => {
  if (typeof value !== "string") return undefined
  const v = value.trim().toLowerCase()
  return v === "v1beta" || v === "v1" ? v : undefined
}

/**
 * The path of a model under the version: `models/{model}` (the id URL-encoded), or a
 * resource name as given (`tunedModels/my-model`, `models/gemini-2.5-flash`).
 *
 * @since 0.1.0
 * @category utils
 */
export const modelPath = (model: string): string => {
  const slash = model.indexOf("/")
  if (slash < 0) return `models/${encodeURIComponent(model)}`
  return `${model.slice(0, slash)}/${encodeURIComponent(model.slice(slash + 1))}`
}

/**
 * Build the provider (the `HttpClient` is taken from context once). Fails with a
 * `ConfigError` when `apiVersion` is neither `v1beta` nor `v1`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Provider.Provider, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Effect.flatMap(HttpClient.HttpClient, (base) => {
    const version = options.apiVersion === undefined ? "v1beta" : parseApiVersion(options.apiVersion)
    return version === undefined ?
      Effect.fail(versionError(options.apiVersion, ["apiVersion"])) :
      Effect.sync(() =>
        KeyPool.makeProvider(
          options.name ?? "gemini",
          options,
          (connection) => makeWith(base, connection === undefined ? options : { ...options, ...connection }, version)
        )
      )
  })

const makeWith = (base: HttpClient.HttpClient, options: Options, version: ApiVersion): Provider.Provider => {
  const name = options.name ?? "gemini"
  const baseUrl = ProviderConfig.trimSlash(ProviderConfig.nonEmptyString(options.baseUrl) ?? defaultBaseUrl)
  const root = `${baseUrl}/${version}/`
  const apiKey = ProviderConfig.redactedKey(options.apiKey)
  const staticHeaders: Record<string, string> = {}
  if (options.headers !== undefined) {
    for (const key in options.headers) staticHeaders[key.toLowerCase()] = options.headers[key]!
  }
  // spans of the HTTP client redact the key header too
  let client = ProviderHttp.withHeaders(base, {
    headers: staticHeaders,
    secrets: apiKey !== undefined ? { "x-goog-api-key": apiKey } : undefined,
    redact: ["x-goog-api-key"]
  })
  if (options.transformClient !== undefined) client = options.transformClient(client)

  const build = { providerName: name, schemaMode: options.schemaMode ?? "openapi" } as const
  // an auth failure against Google itself while no key is configured: say which variable to set
  const explain = apiKey === undefined && baseUrl === defaultBaseUrl ?
    <E extends LlmError.LlmError>(error: E): E =>
      error._tag === "AuthenticationError" ?
        LlmError.annotate(error, {
          message: `${error.message}; no API key is configured: set GEMINI_API_KEY (or GOOGLE_API_KEY) or pass apiKey`
        }) :
        error :
    undefined
  const noHeaders: Record<string, string> = {}

  const spec = (call: Provider.Call, stream: boolean, body: unknown): ProviderHttp.RequestSpec => ({
    provider: name,
    model: call.model,
    url: `${root}${modelPath(call.model)}${stream ? ":streamGenerateContent?alt=sse" : ":generateContent"}`,
    headers: noHeaders,
    call,
    body,
    maxBodyBytes: options.maxBodyBytes,
    maxEventBytes: options.maxEventBytes
  })

  const withCallContext = <E extends LlmError.LlmError>(error: E, call: Provider.Call): E =>
    LlmError.withContext(error, { provider: name, model: call.model })

  const chat = (call: Provider.Call) =>
    Effect.flatMap(
      Effect.mapError(buildGenerateContentBody(call.request, build), (e) => withCallContext(e, call)),
      (body) =>
        Effect.flatMap(ProviderHttp.postJson(client, spec(call, false, body)), (response) =>
          mapGenerateContent(
            response.json,
            { provider: name, model: call.model, requestId: response.requestId },
            { latencyMs: response.latencyMs, ttfbMs: response.ttfbMs },
            response.headers
          ))
    )

  const chatStream = (call: Provider.Call): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
    ProviderHttp.unwrapStream(Effect.map(
      Effect.mapError(buildGenerateContentBody(call.request, build), (e) => withCallContext(e, call)),
      (body) =>
        ProviderHttp.postSse(client, spec(call, true, body), (info, events) => {
          const state = new GenerateStreamState(
            { provider: name, model: call.model, requestId: info.requestId },
            info.headers
          )
          return ProviderHttp.mapEvents<StreamEvent.StreamEvent>(
            events,
            (event, out) => state.onEvent(event, out),
            (out) => state.onEnd(out)
          )
        })
    ))

  const embed = (call: Provider.EmbedCall) => {
    const path = modelPath(call.model)
    return ProviderHttp.postJson(client, {
      provider: name,
      model: call.model,
      url: `${root}${path}:batchEmbedContents`,
      headers: noHeaders,
      body: buildEmbedBody(call, call.model.includes("/") ? call.model : `models/${call.model}`),
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
  }

  return ProviderHttp.declareCall(client, {
    name,
    api: "gemini",
    capabilities: { ...capabilities, ...options.capabilities },
    chat: explain === undefined ? chat : (call) => Effect.mapError(chat(call), explain),
    chatStream: explain === undefined ? chatStream : (call) => ProviderHttp.mapStreamError(chatStream(call), explain),
    embed: explain === undefined ? embed : (call) => Effect.mapError(embed(call), explain)
  })
}

/**
 * Register a Gemini provider (default name `gemini`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  ProviderRegistry.register(make(options))

/**
 * `Config` values for `layerConfig`; each falls back to the environment variables of
 * Google's SDKs.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions extends Omit<Options, "apiKey" | "apiKeys" | "baseUrl" | "apiVersion"> {
  /** Default: `GEMINI_API_KEY`, else `GOOGLE_API_KEY` (optional). */
  readonly apiKey?: Config.Config<Redacted.Redacted | undefined> | undefined
  /** Default: `GEMINI_API_KEYS`, comma-separated (optional); when set it wins over `apiKey`. */
  readonly apiKeys?: Config.Config<ReadonlyArray<KeyPool.KeyEntry>> | undefined
  /** Default: `GEMINI_BASE_URL`, else `https://generativelanguage.googleapis.com`. */
  readonly baseUrl?: Config.Config<string | undefined> | undefined
  /** Default: `GEMINI_API_VERSION` (`v1beta` or `v1`), else `v1beta`. */
  readonly apiVersion?: Config.Config<string | undefined> | undefined
}

const envKey: Config.Config<Redacted.Redacted | undefined> = Config.map(
  Config.all([
    ProviderConfig.optional(Config.redacted("GEMINI_API_KEY")),
    ProviderConfig.optional(Config.redacted("GOOGLE_API_KEY"))
  ]),
  ([gemini, google]) => ProviderConfig.redactedKey(gemini) ?? ProviderConfig.redactedKey(google)
)

const envVersion = (config: Config.Config<string | undefined>, path: ReadonlyArray<string>) =>
  Config.mapOrFail(config, (value): Either.Either<ApiVersion | undefined, ConfigError.ConfigError> => {
    if (value === undefined || value.trim() === "") return Either.right(undefined)
    const version = parseApiVersion(value)
    return version === undefined ? Either.left(versionError(value, path)) : Either.right(version)
  })

/**
 * Register a Gemini provider configured through `Config` (by default from
 * `GEMINI_API_KEY` / `GOOGLE_API_KEY`, `GEMINI_BASE_URL`, `GEMINI_API_VERSION`). An API
 * version other than `v1beta` / `v1` is a `ConfigError`.
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
        apiKey: options.apiKey ?? envKey,
        apiKeys: options.apiKeys ?? KeyPool.configKeys("GEMINI_API_KEYS"),
        baseUrl: options.baseUrl ?? ProviderConfig.optional(Config.string("GEMINI_BASE_URL")),
        apiVersion: envVersion(options.apiVersion ?? ProviderConfig.optional(Config.string("GEMINI_API_VERSION")), [
          "GEMINI_API_VERSION"
        ])
      }),
      (values) =>
        layer({ ...options, ...values, ...KeyPool.preferPool(values.apiKey, values.apiKeys, options.keyPool) })
    )
  )

// -----------------------------------------------------------------------------
// plugin
// -----------------------------------------------------------------------------

/**
 * The settings `LlmClient.layerFromEnv({ providers: { gemini: settings } })` passes to the
 * plugin. Every field is optional; environment variables fill the gaps.
 *
 * @since 0.1.0
 * @category models
 */
export interface PluginSettings {
  /** The key (else `GEMINI_API_KEY`, else `GOOGLE_API_KEY`); `false` turns the provider off. */
  readonly apiKey?: string | false | undefined
  /** The base URL (else `GEMINI_BASE_URL`). */
  readonly baseUrl?: string | undefined
  /** `v1beta` or `v1` (else `GEMINI_API_VERSION`, else `v1beta`). */
  readonly apiVersion?: string | undefined
}

const settingError = (path: string, message: string) =>
  ConfigError.InvalidData(["gemini", path], `gemini plugin setting "${path}": ${message}`)

const optionalString = (settings: Readonly<Record<string, unknown>>, key: string) => {
  const value = settings[key]
  if (value === undefined || value === null) return Effect.succeed(undefined)
  return typeof value === "string" ?
    Effect.succeed(ProviderConfig.nonEmptyString(value)) :
    Effect.fail(settingError(key, `expected a string, got ${typeof value}`))
}

const pluginLayer = (
  settings: Readonly<Record<string, unknown>> = {}
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    if (settings.apiKey === false) return Layer.empty
    const apiKeySetting = yield* optionalString(settings, "apiKey")
    const baseUrlSetting = yield* optionalString(settings, "baseUrl")
    const versionSetting = yield* optionalString(settings, "apiVersion")
    const env = yield* Config.all({
      apiKey: envKey,
      apiKeys: KeyPool.configKeys("GEMINI_API_KEYS"),
      baseUrl: ProviderConfig.optional(Config.string("GEMINI_BASE_URL")),
      apiVersion: envVersion(ProviderConfig.optional(Config.string("GEMINI_API_VERSION")), ["GEMINI_API_VERSION"])
    })
    let apiVersion = env.apiVersion
    if (versionSetting !== undefined) {
      apiVersion = parseApiVersion(versionSetting)
      if (apiVersion === undefined) {
        return yield* Effect.fail(settingError("apiVersion", `expected v1beta or v1, got "${versionSetting}"`))
      }
    }
    // an explicit key setting wins over GEMINI_API_KEYS, which wins over GEMINI_API_KEY / GOOGLE_API_KEY
    const apiKeys = apiKeySetting === undefined && env.apiKeys.length > 0 ? env.apiKeys : undefined
    const apiKey = apiKeys !== undefined
      ? undefined
      : apiKeySetting !== undefined
      ? Redacted.make(apiKeySetting)
      : env.apiKey
    const baseUrl = baseUrlSetting ?? ProviderConfig.nonEmptyString(env.baseUrl)
    if (apiKey === undefined && apiKeys === undefined && baseUrl === undefined) return Layer.empty
    return layer({ apiKey, apiKeys, baseUrl, apiVersion })
  }))

/**
 * The plugin `LlmClient.layerFromEnv` loads from this package: registers `gemini` when
 * `GEMINI_API_KEY`, `GOOGLE_API_KEY` or `GEMINI_BASE_URL` is set (or settings give
 * `apiKey` / `baseUrl`); `apiKey: false` turns it off.
 *
 * @since 0.1.0
 * @category plugin
 */
export const plugin: LlmClient.Plugin = {
  name: "gemini",
  layer: pluginLayer
}
