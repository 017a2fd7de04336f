/**
 * The Anthropic Messages API (`POST {baseUrl}/v1/messages`) as an llm-fiber provider:
 * chat and streaming, tools, images, extended thinking, and prompt caching.
 *
 * `layer` / `layerConfig` register the `anthropic` provider, so `claude-…` models (and
 * `anthropic:<model>`) route to it.
 *
 * **Details**
 * - The base URL does not include `/v1`, as in the official SDKs: `https://api.anthropic.com`.
 * - The key is sent as `x-api-key`; it stays `Redacted` until the header is set and never
 *   appears in errors. `anthropic-version: 2023-06-01` is sent on every request,
 *   `anthropic-beta` when `betas` (option or `providerOptions.anthropic.betas`) name any.
 * - `apiKeys` (or `ANTHROPIC_API_KEYS=k1,k2`) spreads requests over several keys or
 *   deployments, skipping a key that got a 429 while it cools down (see `KeyPool`).
 * - `max_tokens` is required by Anthropic: the request's `maxTokens`, else the catalog's
 *   `maxOutputTokens` for the model, else `defaultMaxTokens` (4096).
 * - Cache hints (`cache` on a part, a message, a tool or the request) become
 *   `cache_control` breakpoints; at most 4 are sent (the first 4 in prompt order: tools,
 *   system, messages, then the request-level one); the others are logged at warning level
 *   and listed in `providerMetadata.anthropic.droppedCacheBreakpoints`.
 * - `seed` and `responseFormat` have no Anthropic field and are not sent.
 * - `providerOptions.anthropic` is merged into the body last (`thinking`, `metadata`, `top_k`, …).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { LlmClient, ProviderRegistry, UndiciHttpClient } from "@llm-fiber/core"
 * import { Anthropic } from "@llm-fiber/anthropic"
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(Anthropic.layerConfig()), // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
 *   Layer.provide([ProviderRegistry.layer, UndiciHttpClient.layer()])
 * )
 *
 * const program = LlmClient.chat({
 *   model: "claude-sonnet-4-5",
 *   messages: [{ role: "system", content: "You are terse.", cache: {} }, ["user", "Say hi"]],
 *   maxTokens: 100
 * })
 * Effect.runPromise(Effect.provide(program, Live))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Catalog from "@llm-fiber/core/Catalog"
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
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { buildMessagesBody, defaultMaxTokens as resolveMaxTokens, maxCacheBreakpoints } from "./internal/request.js"
import { mapMessage } from "./internal/response.js"
import { MessagesStreamState } from "./internal/stream.js"

/**
 * The base URL of the Anthropic API (without `/v1`).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "https://api.anthropic.com"

/**
 * The `anthropic-version` header sent by default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultVersion = "2023-06-01"

/**
 * `max_tokens` when neither the request nor the catalog gives one.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxTokens = 4096

/**
 * What the Anthropic provider supports (no native JSON-schema output, no embeddings, no
 * idempotency keys).
 *
 * @since 0.1.0
 * @category constants
 */
export const capabilities: Provider.Capabilities = {
  ...Provider.noCapabilities,
  streaming: true,
  tools: true,
  vision: true,
  promptCaching: true,
  reasoning: true
}

/**
 * Options of `make` / `layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends KeyPool.ProviderOptions {
  /** The API key (`x-api-key`); without one no key header is sent (gateways that add it). */
  readonly apiKey?: Redacted.Redacted | string | undefined
  /** Default `https://api.anthropic.com` (without `/v1`). */
  readonly baseUrl?: string | undefined
  /** The registry name (default `anthropic`); also the `providerOptions` / `providerMetadata` key. */
  readonly name?: string | undefined
  /** The `anthropic-version` header (default `2023-06-01`). */
  readonly version?: string | undefined
  /** Beta features sent in `anthropic-beta` on every request. */
  readonly betas?: ReadonlyArray<string> | undefined
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** `max_tokens` when neither the request nor the catalog gives one (default 4096). */
  readonly defaultMaxTokens?: number | undefined
  /**
   * Accept a stream that ends without `message_stop` once the stop reason arrived
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
}

const joinBetas = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): string | undefined => {
  const all: Array<string> = []
  for (const list of [a, b]) {
    for (const name of list) {
      const trimmed = name.trim()
      if (trimmed !== "" && !all.includes(trimmed)) all.push(trimmed)
    }
  }
  return all.length === 0 ? undefined : all.join(",")
}

/**
 * Build the provider (the `HttpClient` and the `Catalog` are taken from context once).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Provider.Provider, never, HttpClient.HttpClient> =>
  Effect.zipWith(HttpClient.HttpClient, Catalog.Catalog, (base, catalog) =>
    KeyPool.makeProvider(
      options.name ?? "anthropic",
      options,
      (connection) => makeWith(base, catalog, connection === undefined ? options : { ...options, ...connection })
    ))

const makeWith = (base: HttpClient.HttpClient, catalog: Catalog.Service, options: Options): Provider.Provider => {
  const name = options.name ?? "anthropic"
  const baseUrl = ProviderConfig.trimSlash(ProviderConfig.nonEmptyString(options.baseUrl) ?? defaultBaseUrl)
  const url = `${baseUrl}/v1/messages`
  const apiKey = ProviderConfig.redactedKey(options.apiKey)
  const staticHeaders: Record<string, string> = { "anthropic-version": options.version ?? defaultVersion }
  if (options.headers !== undefined) {
    for (const key in options.headers) staticHeaders[key.toLowerCase()] = options.headers[key]!
  }
  const optionBetas = options.betas ?? []
  let client = ProviderHttp.withHeaders(base, {
    headers: staticHeaders,
    secrets: apiKey !== undefined ? { "x-api-key": apiKey } : undefined
  })
  if (options.transformClient !== undefined) client = options.transformClient(client)
  const fallbackMax = options.defaultMaxTokens ?? defaultMaxTokens
  const lenientEnd = options.lenientStreamEnd ?? false
  // a 401 from Anthropic itself while no key is configured: say which variable to set
  const explain = apiKey === undefined && baseUrl === defaultBaseUrl ?
    <E extends LlmError.LlmError>(error: E): E =>
      error._tag === "AuthenticationError" ?
        LlmError.annotate(error, {
          message: `${error.message}; no API key is configured: set ANTHROPIC_API_KEY or pass apiKey`
        }) :
        error :
    undefined

  const prepare = (call: Provider.Call, stream: boolean) => {
    const built = buildMessagesBody(call.request, call.model, stream, {
      providerName: name,
      defaultMaxTokens: resolveMaxTokens(call.request, name, catalog.get(call.model)?.maxOutputTokens, fallbackMax)
    })
    const beta = joinBetas(optionBetas, built.betas)
    const spec: ProviderHttp.RequestSpec = {
      provider: name,
      model: call.model,
      url,
      call,
      headers: beta !== undefined ? { "anthropic-beta": beta } : {},
      body: built.body,
      maxBodyBytes: options.maxBodyBytes,
      maxEventBytes: options.maxEventBytes
    }
    const dropped = built.droppedCacheBreakpoints
    const warn = dropped.length === 0 ?
      Effect.void :
      Effect.logWarning(
        `${name}: more than ${maxCacheBreakpoints} prompt-cache breakpoints; kept the first ${maxCacheBreakpoints} ` +
          `(tools, system, messages, then the request), dropped: ${dropped.join(", ")}`
      ).pipe(Effect.annotateLogs({ provider: name, model: call.model }))
    return { spec, dropped, warn }
  }

  const chat = (call: Provider.Call) =>
    Effect.suspend(() => {
      const { dropped, spec, warn } = prepare(call, false)
      return Effect.zipRight(
        warn,
        Effect.flatMap(ProviderHttp.postJson(client, spec), (response) =>
          mapMessage(
            response.json,
            { provider: name, model: call.model, requestId: response.requestId },
            { latencyMs: response.latencyMs, ttfbMs: response.ttfbMs },
            response.headers,
            dropped
          ))
      )
    })

  const chatStream = (call: Provider.Call) =>
    ProviderHttp.unwrapStream(Effect.suspend(() => {
      const { dropped, spec, warn } = prepare(call, true)
      return Effect.as(
        warn,
        ProviderHttp.postSse(client, spec, (info, events) => {
          const state = new MessagesStreamState(
            { provider: name, model: call.model, requestId: info.requestId },
            { lenientEnd, headers: info.headers, droppedCacheBreakpoints: dropped }
          )
          return ProviderHttp.mapEvents<StreamEvent.StreamEvent>(
            events,
            (event, out) => state.onEvent(event, out),
            (out) => state.onEnd(out)
          )
        })
      )
    }))

  return ProviderHttp.declareCall(client, {
    name,
    api: "anthropic",
    capabilities: { ...capabilities, ...options.capabilities },
    chat: explain === undefined ? chat : (call) => Effect.mapError(chat(call), explain),
    chatStream: explain === undefined ? chatStream : (call) => ProviderHttp.mapStreamError(chatStream(call), explain)
  })
}

/**
 * Register an Anthropic provider (default name `anthropic`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, never, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  ProviderRegistry.register(make(options))

/**
 * `Config` values for `layerConfig`; each falls back to the environment variable of the
 * official SDK.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions extends Omit<Options, "apiKey" | "apiKeys" | "baseUrl"> {
  /** Default: `ANTHROPIC_API_KEY` (optional). */
  readonly apiKey?: Config.Config<Redacted.Redacted | undefined> | undefined
  /** Default: `ANTHROPIC_API_KEYS`, comma-separated (optional); when set it wins over `apiKey`. */
  readonly apiKeys?: Config.Config<ReadonlyArray<KeyPool.KeyEntry>> | undefined
  /** Default: `ANTHROPIC_BASE_URL`, else `https://api.anthropic.com`. */
  readonly baseUrl?: Config.Config<string | undefined> | undefined
}

/**
 * Register an Anthropic provider configured through `Config` (by default from
 * `ANTHROPIC_API_KEY` or `ANTHROPIC_API_KEYS`, and `ANTHROPIC_BASE_URL`).
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
        apiKey: options.apiKey ?? ProviderConfig.optional(Config.redacted("ANTHROPIC_API_KEY")),
        apiKeys: options.apiKeys ?? KeyPool.configKeys("ANTHROPIC_API_KEYS"),
        baseUrl: options.baseUrl ?? ProviderConfig.optional(Config.string("ANTHROPIC_BASE_URL"))
      }),
      (values) =>
        layer({ ...options, ...values, ...KeyPool.preferPool(values.apiKey, values.apiKeys, options.keyPool) })
    )
  )

// -----------------------------------------------------------------------------
// plugin
// -----------------------------------------------------------------------------

/**
 * The settings `LlmClient.layerFromEnv({ providers: { anthropic: settings } })` passes to
 * the plugin. Every field is optional; environment variables fill the gaps.
 *
 * @since 0.1.0
 * @category models
 */
export interface PluginSettings {
  /** The key (else `ANTHROPIC_API_KEY`); `false` turns the provider off. */
  readonly apiKey?: string | false | undefined
  /** The base URL (else `ANTHROPIC_BASE_URL`). */
  readonly baseUrl?: string | undefined
  /** Beta features sent in `anthropic-beta`. */
  readonly betas?: ReadonlyArray<string> | undefined
}

const settingError = (path: string, message: string) =>
  ConfigError.InvalidData(["anthropic", path], `anthropic plugin setting "${path}": ${message}`)

const optionalString = (settings: Readonly<Record<string, unknown>>, key: string) => {
  const value = settings[key]
  if (value === undefined || value === null) return Effect.succeed(undefined)
  return typeof value === "string" ?
    Effect.succeed(ProviderConfig.nonEmptyString(value)) :
    Effect.fail(settingError(key, `expected a string, got ${typeof value}`))
}

const parseBetas = (value: unknown): Effect.Effect<ReadonlyArray<string> | undefined, ConfigError.ConfigError> => {
  if (value === undefined || value === null) return Effect.succeed(undefined)
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return Effect.succeed(value as Array<string>)
  return Effect.fail(settingError("betas", "expected a list of strings"))
}

const pluginLayer = (
  settings: Readonly<Record<string, unknown>> = {}
): Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    if (settings.apiKey === false) return Layer.empty
    const apiKeySetting = yield* optionalString(settings, "apiKey")
    const baseUrlSetting = yield* optionalString(settings, "baseUrl")
    const betas = yield* parseBetas(settings.betas)
    const env = yield* Config.all({
      apiKey: ProviderConfig.optional(Config.redacted("ANTHROPIC_API_KEY")),
      apiKeys: KeyPool.configKeys("ANTHROPIC_API_KEYS"),
      baseUrl: ProviderConfig.optional(Config.string("ANTHROPIC_BASE_URL"))
    })
    // an explicit key setting wins over ANTHROPIC_API_KEYS, which wins over ANTHROPIC_API_KEY
    const apiKeys = apiKeySetting === undefined && env.apiKeys.length > 0 ? env.apiKeys : undefined
    const apiKey = apiKeys !== undefined ?
      undefined :
      apiKeySetting !== undefined ?
      Redacted.make(apiKeySetting) :
      ProviderConfig.redactedKey(env.apiKey)
    const baseUrl = baseUrlSetting ?? ProviderConfig.nonEmptyString(env.baseUrl)
    if (apiKey === undefined && apiKeys === undefined && baseUrl === undefined) return Layer.empty
    return layer({ apiKey, apiKeys, baseUrl, betas })
  }))

/**
 * The plugin `LlmClient.layerFromEnv` loads from this package: registers `anthropic` when
 * `ANTHROPIC_API_KEY` or `ANTHROPIC_BASE_URL` is set (or the settings give `apiKey` /
 * `baseUrl`); `apiKey: false` turns it off.
 *
 * @since 0.1.0
 * @category plugin
 */
export const plugin: LlmClient.Plugin = {
  name: "anthropic",
  layer: pluginLayer
}
