/**
 * Token counts before a call is sent, for budgets and rate limits: exact for OpenAI models
 * (their own BPE encodings, from `gpt-tokenizer`), a conservative estimate for the others.
 *
 * **When to use**: you rarely call it yourself — `Budget` and `RateLimiter` count every
 * request with the `Tokenizer` in context. Provide `Tokenizer.layerEstimate` to never load
 * an encoding, or `Tokenizer.layer(service)` to plug in your own counter (e.g. a provider's
 * token-counting endpoint).
 *
 * **Details**
 * - OpenAI-family models (`gpt-4o*`, `gpt-4.1*`, `gpt-4.5*`, `gpt-5*`, `o1*`, `o3*`, `o4*`,
 *   `chatgpt-4o*`: `o200k_base`; `gpt-4*`, `gpt-3.5*`: `cl100k_base`; also behind a prefix
 *   such as OpenRouter's `openai/` or a fine-tune's `ft:`) are counted with the model's
 *   encoding. The count is `exact` when the provider is `openai` (Chat Completions) and the
 *   conversation is text only: it then equals the `prompt_tokens` OpenAI reports (3 tokens
 *   around each message plus its role and content, 3 to prime the reply). Images (1,600
 *   tokens each), tool calls and results, tool definitions and JSON schemas are counted from
 *   their JSON text plus a margin (`exact: false`), as is any request to another provider.
 * - Other models get the estimate of the rate limiter: characters / 4 of the text, tool
 *   calls, results, definitions and schemas, 1,600 tokens per image and 4 per message
 *   (`exact: false`). It is conservative for English prose and code (most tokenizers
 *   average 4+ characters per token there) but not an upper bound for every text:
 *   languages written without spaces can take more tokens than characters / 4. The real
 *   usage always settles budgets and rate limits after the call.
 * - `gpt-tokenizer` is loaded with a dynamic `import()` the first time an exact count is
 *   needed (one encoding at a time, once per process; about 100–150 ms), so importing
 *   `@llm-fiber/core` stays cheap. Should the import fail (a bundle without the package),
 *   the count falls back to the estimate and a warning is logged once.
 *
 * @example
 * ```ts
 * import { Effect, Either } from "effect"
 * import { ChatRequest, Tokenizer } from "@llm-fiber/core"
 *
 * const program = Effect.gen(function*() {
 *   const tokenizer = yield* Tokenizer.Tokenizer
 *   const request = ChatRequest.make({ model: "gpt-4o", messages: "Hello!" }).pipe(Either.getOrThrow)
 *   const count = yield* tokenizer.countRequest(request, { provider: "openai", model: "gpt-4o" })
 *   // { inputTokens: 9, exact: true }
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as ChatRequest from "./ChatRequest.js"
import * as ChatTokens from "./internal/chatTokens.js"
import * as TokenEstimate from "./internal/tokenEstimate.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Which provider and model a count is for (the provider's registry name and the model
 * name the provider understands, as in `Middleware.CallInfo`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Target {
  readonly provider: string
  readonly model: string
}

/**
 * The input tokens of a request; `exact` when they equal what the provider will report.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestCount {
  readonly inputTokens: number
  readonly exact: boolean
}

/**
 * The tokens of a text; `exact` when counted with the model's own encoding.
 *
 * @since 0.1.0
 * @category models
 */
export interface TextCount {
  readonly tokens: number
  readonly exact: boolean
}

/**
 * A token counter.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `default`, `estimate`, or your own (log lines). */
  readonly name: string
  /** The input tokens of a request (messages, tool definitions, schema). */
  readonly countRequest: (request: ChatRequest.ChatRequest, target: Target) => Effect.Effect<RequestCount>
  /** The tokens of a text (e.g. streamed output). */
  readonly countText: (text: string, target: Target) => Effect.Effect<TextCount>
}

/**
 * A BPE encoding `gpt-tokenizer` provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Encoding = "o200k_base" | "cl100k_base"

/**
 * Options of the estimate (for models without a known encoding).
 *
 * @since 0.1.0
 * @category models
 */
export interface EstimateOptions {
  /** Characters per token of text and JSON (default 4). */
  readonly charsPerToken?: number | undefined
  /** Tokens per image part (default 1,600). */
  readonly tokensPerImage?: number | undefined
}

// -----------------------------------------------------------------------------
// encodings
// -----------------------------------------------------------------------------

const o200k =
  /^(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|codex-mini|computer-use|gpt-realtime|gpt-audio)(?:$|[-.:])/
const cl100k = /^(?:gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)(?:$|[-.:])/

/**
 * The encoding of an OpenAI-family model, or `undefined` for any other model. A prefix
 * `openai/` (OpenRouter and other gateways) or `ft:` (fine-tunes) is looked through.
 *
 * @since 0.1.0
 * @category encodings
 */
export const encodingFor = (model: string): Encoding | undefined => {
  let name = model.toLowerCase()
  if (name.startsWith("ft:")) name = name.slice(3)
  if (name.startsWith("openai/")) name = name.slice(7)
  if (o200k.test(name)) return "o200k_base"
  if (cl100k.test(name)) return "cl100k_base"
  return undefined
}

/** What we use of an encoding module of `gpt-tokenizer`. */
interface EncodingModule {
  readonly countTokens: (text: string, options: { readonly disallowedSpecial: Set<string> }) => number
}

type Loaded = { readonly _tag: "Loaded"; readonly count: (text: string) => number } | { readonly _tag: "Failed" }

const loading = new Map<Encoding, Promise<Loaded>>()

// special tokens in user text are plain text to the API: never throw on `<|endoftext|>`
const asText = { disallowedSpecial: new Set<string>() }

const importEncoding = (encoding: Encoding): Promise<EncodingModule> =>
  encoding === "o200k_base"
    ? import("gpt-tokenizer/encoding/o200k_base")
    : import("gpt-tokenizer/encoding/cl100k_base")

/** Load an encoding once per process (concurrent callers share the import). */
const load = (encoding: Encoding): Effect.Effect<Loaded> =>
  Effect.suspend(() => {
    let promise = loading.get(encoding)
    if (promise === undefined) {
      promise = importEncoding(encoding).then(
        (module): Loaded => ({ _tag: "Loaded", count: (text) => text === "" ? 0 : module.countTokens(text, asText) }),
        (): Loaded => ({ _tag: "Failed" })
      )
      loading.set(encoding, promise)
      return Effect.tap(
        Effect.promise(() => promise!),
        (loaded) =>
          loaded._tag === "Failed"
            ? Effect.logWarning(`Tokenizer: cannot load gpt-tokenizer (${encoding}); estimating token counts instead`)
            : Effect.void
      )
    }
    return Effect.promise(() => promise!)
  })

/**
 * Load `gpt-tokenizer`'s encodings now rather than at the first count (e.g. while your
 * app starts), so that the first budgeted call does not wait for the import.
 *
 * @since 0.1.0
 * @category encodings
 */
export const preload = (
  encodings: ReadonlyArray<Encoding> = ["o200k_base", "cl100k_base"]
): Effect.Effect<void> => Effect.asVoid(Effect.forEach(encodings, load, { concurrency: "unbounded" }))

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * The estimate alone (no encoding is ever loaded): characters / `charsPerToken` of the
 * text and JSON of a request, `tokensPerImage` per image, 4 per message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeEstimate = (options?: EstimateOptions): Service => {
  const charsPerToken = options?.charsPerToken ?? TokenEstimate.defaults.charsPerToken
  return {
    name: "estimate",
    countRequest: (request) =>
      Effect.sync(() => ({ inputTokens: TokenEstimate.inputTokens(request, options), exact: false })),
    countText: (text) => Effect.sync(() => ({ tokens: Math.ceil(text.length / charsPerToken), exact: false }))
  }
}

/**
 * The default counter: exact for OpenAI-family models (loading `gpt-tokenizer` lazily),
 * the estimate for every other model.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: EstimateOptions): Service => {
  const estimate = makeEstimate(options)
  const tokensPerImage = options?.tokensPerImage ?? TokenEstimate.defaults.tokensPerImage
  return {
    name: "default",
    countRequest: (request, target) => {
      const encoding = encodingFor(target.model)
      if (encoding === undefined) return estimate.countRequest(request, target)
      return Effect.flatMap(load(encoding), (loaded) =>
        loaded._tag === "Failed"
          ? estimate.countRequest(request, target)
          : Effect.sync(() =>
            ChatTokens.countRequest(request, loaded.count, {
              exactFraming: target.provider === "openai",
              tokensPerImage
            })
          ))
    },
    countText: (text, target) => {
      const encoding = encodingFor(target.model)
      if (encoding === undefined) return estimate.countText(text, target)
      return Effect.flatMap(load(encoding), (loaded) =>
        loaded._tag === "Failed"
          ? estimate.countText(text, target)
          : Effect.sync(() => ({ tokens: loaded.count(text), exact: true })))
    }
  }
}

// -----------------------------------------------------------------------------
// tags and layers
// -----------------------------------------------------------------------------

/**
 * The counter in use (`make()`, exact for OpenAI models, unless a layer provides another).
 * `Budget` and `RateLimiter` read it when they are built.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokenizer extends Context.Reference<Tokenizer>()("@llm-fiber/core/Tokenizer", {
  defaultValue: (): Service => defaultService
}) {}

const defaultService: Service = make()

/**
 * The default counter (exact for OpenAI models, the estimate for the others).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault: Layer.Layer<Tokenizer> = Layer.succeed(Tokenizer, defaultService)

/**
 * The estimate only: `gpt-tokenizer` is never loaded.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEstimate: Layer.Layer<Tokenizer> = Layer.succeed(Tokenizer, makeEstimate())

/**
 * Use your own counter.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (service: Service): Layer.Layer<Tokenizer> => Layer.succeed(Tokenizer, service)

// -----------------------------------------------------------------------------
// accessors
// -----------------------------------------------------------------------------

/**
 * Count a request with the counter in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const countRequest = (request: ChatRequest.ChatRequest, target: Target): Effect.Effect<RequestCount> =>
  Effect.flatMap(Tokenizer, (tokenizer) => tokenizer.countRequest(request, target))

/**
 * Count a text with the counter in context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const countText = (text: string, target: Target): Effect.Effect<TextCount> =>
  Effect.flatMap(Tokenizer, (tokenizer) => tokenizer.countText(text, target))
