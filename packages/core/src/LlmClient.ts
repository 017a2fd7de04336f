/**
 * The client: one typed API for chat and streaming across providers.
 *
 * Each call runs the pipeline, in order:
 * 1. normalize the request (`ChatRequest.make`) and resolve the model to a provider
 *    (`ModelRegistry`);
 * 2. open the span `llm.chat` / `llm.chat_stream`;
 * 3. `ResponseCache` → 4. `Budget` → 5. `RateLimiter`, `CircuitBreaker` (pass-through
 *    until you provide them);
 * 6. the provider call under `Timeouts`, retried by `RetryPolicy`;
 * 7. cost from the `Catalog`, metrics; on failure, the next model of `fallback`, or the
 *    typed error.
 *
 * A stream is retried (or falls back) only while none of its content has reached the
 * caller; after that a failure ends it with an error carrying the partial output.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { LlmClient, ProviderRegistry, UndiciHttpClient } from "@llm-fiber/core"
 * import { OpenAI } from "@llm-fiber/openai"
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(OpenAI.layerConfig()),
 *   Layer.provide([ProviderRegistry.layer, UndiciHttpClient.layer()])
 * )
 *
 * const program = Effect.gen(function*() {
 *   const result = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "Say hi" })
 *   console.log(result.text, result.usage, result.cost)
 * })
 *
 * Effect.runPromise(Effect.provide(program, Live))
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS
} from "@opentelemetry/semantic-conventions/incubating"
import * as Cause from "effect/Cause"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as Budget from "./Budget.js"
import * as CallContext from "./CallContext.js"
import * as Catalog from "./Catalog.js"
import * as ChatRequest from "./ChatRequest.js"
import * as ChatResult from "./ChatResult.js"
import * as CircuitBreaker from "./CircuitBreaker.js"
import * as Call from "./internal/call.js"
import * as ChatStream from "./internal/chatStream.js"
import * as Deadline from "./internal/deadline.js"
import * as StructuredOutput from "./internal/structuredOutput.js"
import * as ToolLoop from "./internal/toolLoop.js"
import * as LlmError from "./LlmError.js"
import * as Metrics from "./Metrics.js"
import type * as Middleware from "./Middleware.js"
import * as ModelRegistry from "./ModelRegistry.js"
import type * as Provider from "./Provider.js"
import * as ProviderRegistry from "./ProviderRegistry.js"
import * as RateLimiter from "./RateLimiter.js"
import * as ResponseCache from "./ResponseCache.js"
import * as RetryPolicy from "./RetryPolicy.js"
import type * as StreamEvent from "./StreamEvent.js"
import * as Telemetry from "./Telemetry.js"
import * as Timeouts from "./Timeouts.js"
import * as UndiciHttpClient from "./UndiciHttpClient.js"

/**
 * An embeddings request.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmbedRequest {
  readonly model: string
  readonly provider?: string | undefined
  readonly input: string | ReadonlyArray<string>
  readonly dimensions?: number | undefined
}

/**
 * A model name resolved to a registered provider.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolution extends ModelRegistry.Resolved {
  readonly implementation: Provider.Provider
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Send a chat request and wait for the whole answer. */
  readonly chat: (
    request: ChatRequest.Input | ChatRequest.ChatRequest
  ) => Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  /** Send a chat request and stream the answer as events (ending with `Finish`). */
  readonly chatStream: (
    request: ChatRequest.Input | ChatRequest.ChatRequest
  ) => Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  /**
   * Ask for a value of a `Schema` (the provider's native JSON-schema mode, forced tool use,
   * or a prompt instruction), decoded and repaired (see `StructuredOutput`).
   */
  readonly generateObject: <A, I>(
    options: StructuredOutput.Options<A, I>
  ) => Effect.Effect<StructuredOutput.Result<A>, LlmError.LlmError>
  /** Stream partial values of a `Schema` as the JSON arrives, then the decoded value. */
  readonly streamObject: <A, I>(
    options: StructuredOutput.Options<A, I>
  ) => Stream.Stream<StructuredOutput.StreamPart<A>, LlmError.LlmError>
  /**
   * Run the tool loop: send the request with a toolkit, run the tools the model calls
   * (under the `Approval` policy), send the results back, until the model answers or
   * `maxSteps` (see `ToolLoop`).
   */
  readonly runTools: <R>(options: ToolLoop.Options<R>) => Effect.Effect<ToolLoop.Result, LlmError.LlmError, R>
  /** The tool loop as a stream: each step's events, tool results, then the final `Finish`. */
  readonly streamTools: <R>(options: ToolLoop.Options<R>) => Stream.Stream<ToolLoop.Event, LlmError.LlmError, R>
  /** Embed one or more texts. */
  readonly embed: (request: EmbedRequest) => Effect.Effect<Provider.EmbedResult, LlmError.LlmError>
  /** Which provider would serve a model (without calling it). */
  readonly resolve: (model: string, provider?: string) => Either.Either<Resolution, LlmError.UnknownModelError>
  /** Names of the registered providers. */
  readonly providers: () => ReadonlyArray<string>
  /** Every model name and alias this client's registry knows. */
  readonly knownModels: () => ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class LlmClient extends Context.Tag("@llm-fiber/core/LlmClient")<LlmClient, Service>() {}

// -----------------------------------------------------------------------------
// internals of one call
// -----------------------------------------------------------------------------

interface Concerns {
  readonly registry: ProviderRegistry.Service
  readonly models: ModelRegistry.Service
  readonly catalog: Catalog.Service
  readonly retry: RetryPolicy.Service
  readonly timeouts: Provider.ResolvedTimeouts
  readonly cache: Middleware.Middleware
  readonly budget: Middleware.Middleware
  readonly rateLimiter: Middleware.Middleware
  readonly breaker: Middleware.Middleware
  readonly logContent: Telemetry.LogContentSettings
}

const chatSpanOptions = {
  kind: "client",
  attributes: { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT },
  captureStackTrace: false
} as const

/**
 * Build the client from the registered providers and the concern services in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, ProviderRegistry.ProviderRegistry> = Effect.gen(function*() {
  const concerns: Concerns = {
    registry: yield* ProviderRegistry.ProviderRegistry,
    models: yield* ModelRegistry.ModelRegistry,
    catalog: yield* Catalog.Catalog,
    retry: yield* RetryPolicy.RetryPolicy,
    timeouts: yield* Timeouts.Timeouts,
    cache: yield* ResponseCache.ResponseCache,
    budget: yield* Budget.Budget,
    rateLimiter: yield* RateLimiter.RateLimiter,
    breaker: yield* CircuitBreaker.CircuitBreaker,
    logContent: yield* Telemetry.LogContent
  }
  return makeWith(concerns)
})

const makeWith = (c: Concerns): Service => {
  const resolve: Service["resolve"] = (model, provider) => {
    const registered = c.registry.names()
    const resolved = c.models.resolve(model, { provider, registered })
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    const implementation = c.registry.get(resolved.right.provider)
    if (implementation === undefined) {
      return Either.left(
        new LlmError.UnknownModelError({
          message: `provider "${resolved.right.provider}" is not registered`,
          model,
          provider: resolved.right.provider
        }, true)
      )
    }
    return Either.right({ ...resolved.right, implementation })
  }

  const callInfo = (
    operation: "chat" | "stream",
    request: ChatRequest.ChatRequest,
    resolution: Resolution,
    state: Call.CallState
  ): Middleware.CallInfo => ({
    operation,
    request,
    provider: resolution.provider,
    model: resolution.model,
    implementation: resolution.implementation,
    context: state.context,
    metrics: Metrics.forCall(resolution.provider, resolution.model, state.context.metricLabels),
    reportCache: (outcome) => {
      state.cache = outcome
    }
  })

  // ---------------------------------------------------------------------------
  // chat
  // ---------------------------------------------------------------------------

  /** A result with its cost from the `Catalog` (when it has none and the model is priced). */
  const priced = (info: Middleware.CallInfo, result: ChatResult.ChatResult): ChatResult.ChatResult => {
    if (result.cost !== undefined) return result
    const cost = Call.priceOf(c.catalog, result.model, info.model, result.usage, result.providerMetadata, info.provider)
    return cost === undefined ? result : Call.withFields(result, { cost })
  }

  /**
   * The provider call, timed out and retried; priced here when middleware sees the result
   * (`pricing.here`), else by `chatModel` together with the timing (one construction).
   */
  const providerChat = (
    info: Middleware.CallInfo,
    state: Call.CallState,
    pricing: { here: boolean }
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> => {
    const timeouts = Timeouts.forCall(c.timeouts, info.implementation, info.request.timeout)
    const maxRetries = info.request.maxRetries ?? c.retry.maxRetries
    const metrics = info.metrics
    const driver: Call.Driver = { current: undefined }
    const implementation = info.implementation
    // a provider on llm-fiber's undici transport enforces the total deadline itself (one
    // timer in the request) and parents its request spans to the attempt span it is given
    // (`ProviderHttp.declareCall`); otherwise: a race through the fiber's Clock, and the
    // attempt span made current
    const direct = Deadline.enforcesTotal(implementation) && state.clock === Deadline.liveClock
    const onTimeout = () => Deadline.timeoutError("total", timeouts.totalMs, info)
    const retry = (n: number) => (error: LlmError.LlmError) =>
      Effect.flatMap(
        Call.shouldRetry(c.retry, maxRetries, n, error, driver, metrics, state.span),
        (again) => again ? attempt(n + 1) : Effect.fail(error)
      )
    const attempt = (n: number): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> => {
      const call: Provider.Call = { request: info.request, model: info.model, timeouts, attempt: n }
      const parent = Option.getOrUndefined(state.span)
      if (direct) {
        // the attempt span made and ended by hand (the call's exit ends it when interrupted)
        return Effect.flatMap(Call.makeAttemptSpan(info, n, parent), (span) => {
          state.attempts++
          state.attemptSpan = span
          Deadline.setAttemptSpan(call, span)
          return Effect.matchCauseEffect(implementation.chat(call), {
            onSuccess: (result) => {
              Call.endSpan(span, state, Exit.succeed(result))
              state.attemptSpan = undefined
              return Effect.succeed(result)
            },
            onFailure: (cause) => {
              Call.endSpan(span, state, Exit.failCause(cause))
              state.attemptSpan = undefined
              const failure = Cause.failureOption(cause)
              return Option.isSome(failure) ? retry(n)(failure.value) : Effect.failCause(cause)
            }
          })
        })
      }
      const run = Effect.suspend(() => {
        state.attempts++
        return implementation.chat(call)
      })
      return Effect.catchAll(
        Effect.withSpan(
          Deadline.timeoutFail(run, state.clock, timeouts.totalMs, onTimeout),
          Telemetry.attemptSpan,
          Call.attemptSpanOptions(info, n, parent)
        ),
        retry(n)
      )
    }
    return Effect.map(attempt(1), (result) => (pricing.here ? priced(info, result) : result))
  }

  const pipelineChat = (info: Middleware.CallInfo, next: Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>) =>
    c.cache.chat(info, c.budget.chat(info, c.rateLimiter.chat(info, c.breaker.chat(info, next))))

  /** One model of the chain: resolve, run the pipeline, record metrics. */
  const chatModel = (
    request: ChatRequest.ChatRequest,
    model: string,
    start: number,
    state: Call.CallState,
    span: Tracer.Span
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> => {
    const resolution = resolve(model, request.provider)
    if (Either.isLeft(resolution)) return Effect.fail(resolution.left)
    const r = resolution.right
    state.provider = r.provider
    state.model = r.model
    const info = callInfo("chat", request, r, state)
    const m = info.metrics
    const pricing = { here: true }
    const inner = providerChat(info, state, pricing)
    const piped = pipelineChat(info, inner)
    // no middleware in the way: price and time the result in one construction; else the
    // middleware runs under the call's span
    const direct = piped === inner
    if (direct) pricing.here = false
    const run = direct ? inner : Effect.withParentSpan(piped, span)
    return Effect.withFiberRuntime((fiber) => {
      const labels = Call.labelsOf(fiber)
      m.requests.unsafeUpdate(1, labels)
      return Effect.flatMap(Effect.exit(run), (exit) => {
        const end = state.clock.unsafeCurrentTimeMillis()
        if (Exit.isSuccess(exit)) {
          const value = exit.value
          const cost = pricing.here || value.cost !== undefined
            ? undefined
            : Call.priceOf(c.catalog, value.model, info.model, value.usage, value.providerMetadata, info.provider)
          const ttfbMs = value.timing.ttfbMs
          const timing = ttfbMs !== undefined ? { latencyMs: end - start, ttfbMs } : { latencyMs: end - start }
          const result = Call.withFields(value, cost !== undefined ? { cost, timing } : { timing })
          Call.recordSuccess(m, result, end - start, labels)
          state.result = result
          return Effect.succeed(result)
        }
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure)) {
          const error = LlmError.withContext(failure.value, { provider: r.provider, model: r.model })
          Call.recordError(m, error, labels)
          return Effect.fail(error)
        }
        return Effect.failCause(exit.cause as Cause.Cause<never>)
      })
    })
  }

  // a fresh state each time the returned effect runs (it may be retried or repeated). The
  // `llm.chat` span is made and ended here, not through `Effect.withSpan`: it is the
  // explicit parent of the attempt spans, and the current span only where middleware runs
  // (see `chatModel`) — which spares a context copy and a few dozen steps per call.
  const chat: Service["chat"] = (input) =>
    Effect.flatMap(Effect.makeSpan("llm.chat", chatSpanOptions), (span) =>
      Effect.withFiberRuntime((fiber) => {
        const context = Context.get(fiber.currentContext, CallContext.CurrentCallContext)
        const state = Call.newCallState(context)
        Call.startOn(state, fiber)
        state.span = Option.some(span)
        return Effect.onExit(chatWith(CallContext.applyTo(context, input), state, span), (exit) => {
          // the span attributes and log fields (a request that did not validate has none)
          if (state.request !== undefined) {
            Call.finish("chat", state.request, state, state.start ?? 0, state.span, exit, c.logContent)
          }
          // an attempt cut short (interrupted) ends with the call
          if (state.attemptSpan !== undefined) Call.endSpan(state.attemptSpan, state, exit)
          Call.endSpan(span, state, exit)
          // the log line is written after the span has ended (else the tracer copies it onto the span)
          return Call.logCall(state)
        })
      }))

  const chatWith = (
    input: ChatRequest.Input | ChatRequest.ChatRequest,
    state: Call.CallState,
    span: Tracer.Span
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
    Effect.suspend(() => {
      const normalized = ChatRequest.make(input)
      if (Either.isLeft(normalized)) return Effect.fail(normalized.left)
      const request = normalized.right
      const chain = request.fallback === undefined ? [request.model] : [request.model, ...request.fallback]
      const start = state.clock.unsafeCurrentTimeMillis()
      state.start = start
      state.request = request
      const failed: Array<ChatResult.FallbackAttempt> = []
      const loop = (index: number): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
        Effect.matchEffect(chatModel(request, chain[index]!, start, state, span), {
          onFailure: (error) => {
            if (index + 1 >= chain.length || !Call.fallsBack(request, error)) return Effect.fail(error)
            failed.push(Call.attemptOf(chain[index]!, error))
            return loop(index + 1)
          },
          onSuccess: (result) =>
            Effect.succeed(
              failed.length === 0 ? result : new ChatResult.ChatResult({ ...result, fallbacks: failed }, true)
            )
        })
      return loop(0)
    })

  // ---------------------------------------------------------------------------
  // chatStream: one source per call (internal/chatStream.ts)
  // ---------------------------------------------------------------------------

  const chatStream: Service["chatStream"] = ChatStream.make({
    resolve,
    callInfo: (request, resolution, state) => callInfo("stream", request, resolution, state),
    middleware: (info, next) =>
      c.cache.chatStream(
        info,
        c.budget.chatStream(info, c.rateLimiter.chatStream(info, c.breaker.chatStream(info, next)))
      ),
    retry: c.retry,
    timeouts: c.timeouts,
    catalog: c.catalog,
    logContent: c.logContent
  })

  // ---------------------------------------------------------------------------
  // embed
  // ---------------------------------------------------------------------------

  const embed: Service["embed"] = (request) =>
    Effect.suspend(() => {
      const resolution = resolve(request.model, request.provider)
      if (Either.isLeft(resolution)) return Effect.fail(resolution.left)
      const r = resolution.right
      if (r.implementation.embed === undefined) {
        return Effect.fail(
          new LlmError.InvalidRequestError({
            message: `provider "${r.provider}" does not support embeddings`,
            provider: r.provider,
            model: r.model
          }, true)
        )
      }
      const input = typeof request.input === "string" ? [request.input] : request.input
      const timeouts = Timeouts.resolve(c.timeouts, r.implementation.timeouts)
      return Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
        if (Option.isSome(span)) {
          span.value.attribute(ATTR_GEN_AI_PROVIDER_NAME, r.provider)
          span.value.attribute(ATTR_GEN_AI_SYSTEM, r.provider)
          span.value.attribute(ATTR_GEN_AI_REQUEST_MODEL, r.model)
        }
        return r.implementation.embed!({ model: r.model, input, dimensions: request.dimensions, timeouts }).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(timeouts.totalMs),
            onTimeout: () => Deadline.timeoutError("total", timeouts.totalMs, r)
          }),
          Effect.tapBoth({
            onFailure: (error) =>
              Effect.sync(() => {
                if (Option.isSome(span)) span.value.attribute(ATTR_ERROR_TYPE, error._tag)
              }),
            onSuccess: (result) =>
              Effect.sync(() => {
                if (Option.isSome(span)) {
                  span.value.attribute(ATTR_GEN_AI_RESPONSE_MODEL, result.model)
                  span.value.attribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, result.usage.inputTokens)
                }
              })
          })
        )
      })
    }).pipe(Effect.withSpan("llm.embed", {
      kind: "client",
      attributes: { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS },
      captureStackTrace: false
    }))

  const service: Service = {
    chat,
    chatStream,
    generateObject: (options) => StructuredOutput.generateObject(service, options),
    streamObject: (options) => StructuredOutput.streamObject(service, options),
    runTools: (options) => ToolLoop.run(service, options),
    streamTools: (options) => ToolLoop.stream(service, options),
    embed,
    resolve,
    providers: () => c.registry.names(),
    knownModels: () => c.models.knownNames()
  }
  return service
}

/**
 * The client, reading its concern services (`RetryPolicy`, `Timeouts`, `ResponseCache`,
 * `Budget`, `RateLimiter`, `CircuitBreaker`, `ModelRegistry`, `Catalog`) from context —
 * each falls back to its default when not provided.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<LlmClient, never, ProviderRegistry.ProviderRegistry> = Layer.effect(LlmClient, make)

/**
 * Register the given provider layers, then build the client with its own registry and
 * an undici `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = <E, R>(
  providers: Layer.Layer<never, E, R>
): Layer.Layer<
  LlmClient,
  E,
  Exclude<R, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient>
> =>
  layer.pipe(
    Layer.provide(providers),
    Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer()))
  ) as Layer.Layer<LlmClient, E, Exclude<R, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient>>

// -----------------------------------------------------------------------------
// from the environment
// -----------------------------------------------------------------------------

/**
 * What a provider package exports as `plugin` so that `layerFromEnv` and the Promise
 * facade can load it by name: a layer that registers its providers from environment
 * variables (through `Config`) or from explicit settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plugin {
  readonly name: string
  readonly layer: (
    settings?: Readonly<Record<string, unknown>> | undefined
  ) => Layer.Layer<never, ConfigError.ConfigError, ProviderRegistry.ProviderRegistry | HttpClient.HttpClient>
}

/**
 * The provider packages `layerFromEnv` looks for.
 *
 * @since 0.1.0
 * @category models
 */
export const knownPlugins: ReadonlyArray<string> = ["@llm-fiber/openai", "@llm-fiber/anthropic", "@llm-fiber/gemini"]

const isPlugin = (u: unknown): u is Plugin =>
  typeof u === "object" && u !== null && typeof (u as Plugin).name === "string" &&
  typeof (u as Plugin).layer === "function"

/**
 * Import the installed provider packages (those not installed are skipped).
 *
 * @since 0.1.0
 * @category constructors
 */
export const loadPlugins = (
  packages: ReadonlyArray<string> = knownPlugins
): Effect.Effect<ReadonlyArray<Plugin>> =>
  Effect.map(
    Effect.forEach(packages, (name) =>
      Effect.promise(() =>
        import(/* @vite-ignore */ name).then(
          (module: Record<string, unknown>) => (isPlugin(module.plugin) ? module.plugin : undefined),
          () => undefined
        )
      ), { concurrency: "unbounded" }),
    (plugins) => plugins.filter((p): p is Plugin => p !== undefined)
  )

/**
 * Options of `layerFromEnv`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FromEnvOptions {
  /** Settings per provider package name (`openai`, `anthropic`, …); `false` turns one off. */
  readonly providers?: Readonly<Record<string, Readonly<Record<string, unknown>> | false>> | undefined
  /** Extra plugins (e.g. a provider package of your own). */
  readonly plugins?: ReadonlyArray<Plugin> | undefined
  /** Transport options of the undici client. */
  readonly http?: UndiciHttpClient.Options | undefined
}

/**
 * The client with every installed provider package configured from environment variables
 * (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OLLAMA_BASE_URL`, `ANTHROPIC_API_KEY`, …), an
 * undici `HttpClient` and the default concerns.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (options?: FromEnvOptions): Layer.Layer<LlmClient, ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(loadPlugins(), (loaded) => {
    const plugins = [...loaded, ...(options?.plugins ?? [])]
    const layers = plugins.flatMap((plugin) => {
      const settings = options?.providers?.[plugin.name]
      return settings === false ? [] : [plugin.layer(settings)]
    })
    const providers = layers.length === 0 ? Layer.empty : Layer.mergeAll(...(layers as [typeof layers[number]]))
    return layer.pipe(
      Layer.provide(providers),
      Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer(options?.http)))
    )
  }))

// -----------------------------------------------------------------------------
// accessors
// -----------------------------------------------------------------------------

/**
 * Bind a context (user id, tags, metadata, metric labels, request defaults) to every call
 * an effect makes — `CallContext.bind` under the client's name.
 *
 * @since 0.1.0
 * @category context
 */
export const withContext: (
  context: CallContext.CallContext
) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = CallContext.bind

/**
 * Bind a context to every call a stream makes (`CallContext.bindStream`).
 *
 * @since 0.1.0
 * @category context
 */
export const withContextStream: (
  context: CallContext.CallContext
) => <A, E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<A, E, R> = CallContext.bindStream

/**
 * `chat` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chat = (
  request: ChatRequest.Input | ChatRequest.ChatRequest
): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError, LlmClient> =>
  Effect.flatMap(LlmClient, (client) => client.chat(request))

/**
 * `chatStream` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const chatStream = (
  request: ChatRequest.Input | ChatRequest.ChatRequest
): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError, LlmClient> =>
  Stream.unwrap(Effect.map(LlmClient, (client) => client.chatStream(request)))

/**
 * `generateObject` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const generateObject = <A, I>(
  options: StructuredOutput.Options<A, I>
): Effect.Effect<StructuredOutput.Result<A>, LlmError.LlmError, LlmClient> =>
  Effect.flatMap(LlmClient, (client) => client.generateObject(options))

/**
 * `streamObject` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const streamObject = <A, I>(
  options: StructuredOutput.Options<A, I>
): Stream.Stream<StructuredOutput.StreamPart<A>, LlmError.LlmError, LlmClient> =>
  Stream.unwrap(Effect.map(LlmClient, (client) => client.streamObject(options)))

/**
 * `runTools` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const runTools = <R>(
  options: ToolLoop.Options<R>
): Effect.Effect<ToolLoop.Result, LlmError.LlmError, LlmClient | R> =>
  Effect.flatMap(LlmClient, (client) => client.runTools(options))

/**
 * `streamTools` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const streamTools = <R>(
  options: ToolLoop.Options<R>
): Stream.Stream<ToolLoop.Event, LlmError.LlmError, LlmClient | R> =>
  Stream.unwrap(Effect.map(LlmClient, (client) => client.streamTools(options)))

/**
 * `embed` on the client in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const embed = (request: EmbedRequest): Effect.Effect<Provider.EmbedResult, LlmError.LlmError, LlmClient> =>
  Effect.flatMap(LlmClient, (client) => client.embed(request))
