/**
 * Response caching: a hit answers a chat call or a stream without calling the provider
 * (and without spending anything), from memory, files on disk or any `Store` (Redis:
 * `@llm-fiber/redis`).
 *
 * The default slot passes every call straight through; `ResponseCache.layerMemory()`,
 * `ResponseCache.layerFile({ directory })` or `ResponseCache.layerStore(store)` switch a
 * cache on, `ResponseCache.layer(middleware)` installs any other one.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { LlmClient, ResponseCache } from "@llm-fiber/core"
 *
 * const Cached = LlmClient.layer.pipe(
 *   Layer.provide(ResponseCache.layerMemory({ ttlMs: 60 * 60_000, maxEntries: 10_000 }))
 * )
 *
 * const program = Effect.gen(function*() {
 *   const first = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "Say hi", temperature: 0 })
 *   const second = yield* LlmClient.chat({ model: "gpt-4o-mini", messages: "Say hi", temperature: 0 })
 *   console.log(first.fromCache, second.fromCache) // undefined true
 * })
 * ```
 *
 * **When to use**: repeated identical requests — evaluations and test suites re-run over
 * the same prompts, batch jobs resumed after a crash, deterministic (`temperature: 0`)
 * lookups many users ask — where an earlier answer is as good as a new one.
 *
 * **Details**
 * - The key (`ResponseCache.key`) is `${namespace}v1:${sha256}` of the canonical JSON of
 *   what the provider sees: provider and resolved model, messages, `temperature`,
 *   `maxTokens`, `topP`, `stop`, `seed`, `tools`, `toolChoice`, `responseFormat`,
 *   `providerOptions` and the prompt-cache hint `cache`. Not `metadata`, `user`,
 *   `idempotencyKey`, `timeout`, `fallback`, `fallbackOn`, `maxRetries`, `costCeilingUsd`
 *   nor `responseCache`. A chat call and a stream of the same request share one entry:
 *   either can answer the other.
 * - Policies (`policy` option, per call `request.responseCache.policy`): `read_through`
 *   (default: read; on a miss call the provider and write), `write_through` and `refresh`
 *   (always call the provider, then write — overwriting), `off`.
 * - A hit is a `ChatResult` with `fromCache: true` and the original `usage`, `cost`, `id`,
 *   text and tool calls; a replayed stream ends with a `Finish` whose `fromCache` is true.
 *   Metrics do not count a hit's tokens or cost again, and `Budget` never sees it.
 * - Only complete answers are written: a chat result, or a stream that ended with its
 *   `Finish` (not one that failed, was interrupted or was cut short by its consumer); never
 *   one whose finish reason is `error`.
 * - Fail-open: a store that fails or does not answer within `storeTimeoutMs` is logged
 *   (a warning naming the store and the error, never the request) and counted in
 *   `llm_cache_errors_total`; the call goes on as if there were no cache.
 * - `coalesce: true`: identical concurrent chat calls share one provider call (streams are
 *   not coalesced).
 * - Metrics: `llm_cache_{hits,misses,writes,errors}_total` (`provider`, `model`),
 *   `llm_cache_evictions_total` (`store`); the call's span attribute and log field `cache`
 *   say `hit`, `miss` or (policy `off`) `none`.
 *
 * **Gotchas**
 * - The cache is shared by every caller of the client: `user` and `metadata` are not in the
 *   key. Give tenants their own `namespace` (their own layer) when answers must not cross.
 * - `LlmClient` reads the cache when its layer is built: provide the cache's layer to
 *   `LlmClient.layer`.
 * - Time comes from `Clock` (`TestClock` drives expiry in tests).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ChatRequest from "./ChatRequest.js"
import * as ChatResult from "./ChatResult.js"
import * as CacheKey from "./internal/cacheKey.js"
import * as FileStore from "./internal/fileStore.js"
import * as Lru from "./internal/lruStore.js"
import type * as LlmError from "./LlmError.js"
import * as Metrics from "./Metrics.js"
import * as Middleware from "./Middleware.js"
import * as StreamEvent from "./StreamEvent.js"

// -----------------------------------------------------------------------------
// the pipeline slot
// -----------------------------------------------------------------------------

/**
 * The cache in use (a pass-through unless a layer provides one).
 *
 * @since 0.1.0
 * @category tags
 */
export class ResponseCache extends Context.Reference<ResponseCache>()("@llm-fiber/core/ResponseCache", {
  defaultValue: (): Middleware.Middleware => Middleware.passthrough
}) {}

/**
 * Use a middleware as the cache.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (middleware: Middleware.Middleware): Layer.Layer<ResponseCache> =>
  Layer.succeed(ResponseCache, middleware)

/**
 * Switch the cache off (pass every call through).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<ResponseCache> = Layer.succeed(ResponseCache, Middleware.passthrough)

// -----------------------------------------------------------------------------
// stores
// -----------------------------------------------------------------------------

/**
 * A store failed (unreachable Redis, a full disk…). The cache fails open: the error is
 * logged and counted (`llm_cache_errors_total`) and the call goes to the provider.
 *
 * @since 0.1.0
 * @category errors
 */
export class CacheStoreError extends Data.TaggedError("CacheStoreError")<{
  readonly store: string
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Where entries live: string values under string keys, with a TTL. The cache serializes
 * entries itself (versioned JSON), so a store only moves strings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  /** `memory`, `file`, `redis`… (the `store` label of the eviction metric, log lines). */
  readonly name: string
  /** The value under `key`, or none (missing or expired). */
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, CacheStoreError>
  /** Write `value` under `key`, expiring after `ttlMs` (never when undefined). */
  readonly set: (key: string, value: string, ttlMs: number | undefined) => Effect.Effect<void, CacheStoreError>
  /** Remove `key` (no error when it is missing). */
  readonly delete: (key: string) => Effect.Effect<void, CacheStoreError>
}

/** Stores whose operations are synchronous (no timeout needed around them). */
const synchronousStores = new WeakSet<Store>()

/**
 * Options of the memory store.
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryStoreOptions {
  /** The most entries kept (default 1 000); the least recently used go first. */
  readonly maxEntries?: number | undefined
  /** The most bytes kept, UTF-8 size of keys and values (default 64 MiB). */
  readonly maxBytes?: number | undefined
}

/**
 * An in-memory LRU store, bounded by entry count and total size, with expiry through
 * `Clock` (so `TestClock` drives it). Every live entry it drops to stay within its bounds
 * counts in `llm_cache_evictions_total{store="memory"}`; an expired entry is dropped when
 * read. Its operations never fail.
 *
 * @since 0.1.0
 * @category stores
 */
export const makeMemoryStore = (options?: MemoryStoreOptions): Effect.Effect<Store> =>
  Effect.suspend(() => {
    const maxEntries = options?.maxEntries ?? defaults.maxEntries
    const maxBytes = options?.maxBytes ?? defaults.maxBytes
    if (!Number.isInteger(maxEntries) || maxEntries <= 0) {
      return Effect.dieMessage(`ResponseCache.makeMemoryStore: maxEntries must be a positive integer`)
    }
    if (!(maxBytes > 0)) return Effect.dieMessage(`ResponseCache.makeMemoryStore: maxBytes must be positive`)
    return Effect.sync(() => {
      const lru = new Lru.Lru(maxEntries, maxBytes)
      const evictions = Metrics.cacheEvictions.pipe(Metric.tagged("store", "memory"))
      const store: Store = {
        name: "memory",
        get: (key) => Effect.map(Clock.currentTimeMillis, (now) => Option.fromNullable(lru.get(key, now))),
        set: (key, value, ttlMs) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const evicted = lru.set(key, value, ttlMs === undefined ? Infinity : now + ttlMs, now)
            return evicted > 0 ? Metric.incrementBy(evictions, evicted) : Effect.void
          }),
        delete: (key) => Effect.sync(() => lru.delete(key))
      }
      synchronousStores.add(store)
      return store
    })
  })

/**
 * Options of the filesystem store.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileStoreOptions {
  /** The directory of the entries (created when needed). */
  readonly directory: string
  /** Compress entries with gzip (default false; reading handles both). */
  readonly gzip?: boolean | undefined
  /** Spread files over 256 subdirectories by the first byte of their hash (default true). */
  readonly shard?: boolean | undefined
}

/**
 * A store keeping one file per key in a directory — shared by every process that uses
 * the same directory, surviving restarts.
 *
 * - File name: the sha256 of the key (`ab/ab12….entry`), never the key itself.
 * - Content: `{ v: 1, key, expiresAt, value }` as JSON, gzip-compressed with `gzip: true`;
 *   the expiry is inside the entry (`Clock` time), checked when read.
 * - Writes are atomic: a temporary file in the same directory, then `rename`; a reader
 *   sees the old entry or the new one, never a part, and concurrent writers leave one of
 *   their entries whole.
 * - An expired, corrupted or truncated file is a miss, and is deleted.
 * - Nothing bounds the directory's size: expired entries are deleted when read (use a TTL,
 *   and a periodic clean-up of old files if keys are rarely repeated).
 *
 * @since 0.1.0
 * @category stores
 */
export const makeFileStore = (options: FileStoreOptions): Effect.Effect<Store> =>
  Effect.sync(() => {
    const layout: FileStore.Layout = {
      directory: options.directory,
      gzip: options.gzip ?? false,
      shard: options.shard ?? true
    }
    const attempt = <A>(what: string, run: () => Promise<A>) =>
      Effect.tryPromise({
        try: run,
        catch: (cause) =>
          new CacheStoreError({
            store: "file",
            message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
            cause
          })
      })
    const remove = (file: string) => attempt("delete failed", () => FileStore.remove(file))
    return {
      name: "file",
      get: (key) =>
        Effect.gen(function*() {
          const file = FileStore.pathOf(layout, key)
          const bytes = yield* attempt("read failed", () => FileStore.read(file))
          if (bytes === undefined) return Option.none()
          const envelope = yield* Effect.promise(() => FileStore.decode(bytes))
          if (envelope === undefined) {
            yield* remove(file)
            return Option.none()
          }
          // a different key under the same hash: not ours, leave it
          if (envelope.key !== key) return Option.none()
          if (envelope.expiresAt !== null && envelope.expiresAt <= (yield* Clock.currentTimeMillis)) {
            yield* remove(file)
            return Option.none()
          }
          return Option.some(envelope.value)
        }),
      // interrupting a write abandons the Promise, which still ends whole: renamed, or its
      // temporary file removed
      set: (key, value, ttlMs) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const envelope: FileStore.Envelope = {
            v: 1,
            key,
            expiresAt: ttlMs === undefined ? null : now + ttlMs,
            value
          }
          return attempt("write failed", async () => {
            const bytes = await FileStore.encode(envelope, layout.gzip)
            await FileStore.writeAtomic(FileStore.pathOf(layout, key), bytes)
          })
        }),
      delete: (key) => remove(FileStore.pathOf(layout, key))
    }
  })

// -----------------------------------------------------------------------------
// entries
// -----------------------------------------------------------------------------

const ChatEntry = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal("chat"),
  result: ChatResult.ChatResult
})

const StreamEntry = Schema.Struct({
  v: Schema.Literal(1),
  kind: Schema.Literal("stream"),
  events: Schema.Array(StreamEvent.StreamEvent)
})

/**
 * What the cache stores under a key, as versioned JSON: a chat result
 * (`{ v: 1, kind: "chat", result }`, the `ChatResult` encoded with its schema) or the
 * events of a complete stream (`{ v: 1, kind: "stream", events }`).
 *
 * @since 0.1.0
 * @category models
 */
export const Entry = Schema.Union(ChatEntry, StreamEntry)

/**
 * @since 0.1.0
 * @category models
 */
export type Entry = typeof Entry.Type

const EntryJson = Schema.parseJson(Entry)
const encodeJson = Schema.encodeEither(EntryJson)
const decodeJson = Schema.decodeUnknownEither(EntryJson)

/**
 * Serialize an entry (the string a `Store` keeps).
 *
 * @since 0.1.0
 * @category entries
 */
export const encodeEntry = (entry: Entry): Either.Either<string, ParseResult.ParseError> => encodeJson(entry)

/**
 * Read a stored string: none when it is not an entry of this version (corrupt, truncated,
 * written by another version) — a miss.
 *
 * @since 0.1.0
 * @category entries
 */
export const decodeEntry = (value: string): Option.Option<Entry> => Either.getRight(decodeJson(value))

/**
 * The result an entry answers a chat call with (`fromCache: true`, the original usage and
 * cost, timing zero).
 *
 * @since 0.1.0
 * @category entries
 */
export const resultOf = (entry: Entry): ChatResult.ChatResult =>
  asHit(entry.kind === "chat" ? entry.result : StreamEvent.accumulateAll(entry.events))

/**
 * The events an entry answers a stream with (its `Finish` with `fromCache: true`). A
 * chat entry is replayed with `StreamEvent.fromResult` (its text as one delta).
 *
 * @since 0.1.0
 * @category entries
 */
export const eventsOf = (entry: Entry): Array<StreamEvent.StreamEvent> => {
  const events = entry.kind === "chat" ? StreamEvent.fromResult(entry.result) : [...entry.events]
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!
    if (event._tag === "Finish") {
      events[i] = { ...event, fromCache: true }
      break
    }
  }
  return events
}

const asHit = (result: ChatResult.ChatResult): ChatResult.ChatResult =>
  new ChatResult.ChatResult({ ...result, fromCache: true, timing: { latencyMs: 0 } }, true)

// -----------------------------------------------------------------------------
// keys
// -----------------------------------------------------------------------------

/**
 * The default namespace of keys.
 *
 * @since 0.1.0
 * @category keys
 */
export const defaultNamespace = "llm-fiber:cache:"

/**
 * What a key is computed from: the resolved provider and model, and the normalized
 * request (`ChatRequest.make`). A `Middleware.CallInfo` is one.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyInput {
  /** The resolved provider (`openai`, `anthropic`, …). */
  readonly provider: string
  /** The model name the provider understands (after the registry resolved aliases). */
  readonly model: string
  readonly request: ChatRequest.ChatRequest
}

/**
 * The cache key of a request: `${namespace}v1:${sha256 hex}` of the canonical JSON (keys
 * sorted, `undefined` left out) of `{ provider, model, messages, temperature, maxTokens,
 * topP, stop, seed, tools, toolChoice, responseFormat, providerOptions, cache }`.
 * Chat calls and streams of the same request have the same key.
 *
 * @example
 * ```ts
 * import { Either } from "effect"
 * import { ChatRequest, ResponseCache } from "@llm-fiber/core"
 *
 * const request = Either.getOrThrow(ChatRequest.make({ model: "gpt-4o-mini", messages: "hi" }))
 * const key = ResponseCache.key({ provider: "openai", model: "gpt-4o-mini", request })
 * // "llm-fiber:cache:v1:3f0c…"
 * ```
 *
 * @since 0.1.0
 * @category keys
 */
export const key = (input: KeyInput, namespace: string = defaultNamespace): string =>
  namespace + CacheKey.version + ":" + CacheKey.hash(input.provider, input.model, input.request)

// -----------------------------------------------------------------------------
// the cache
// -----------------------------------------------------------------------------

/**
 * Options of the cache.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The policy of calls that do not set `responseCache.policy` (default `read_through`). */
  readonly policy?: ChatRequest.CachePolicy | undefined
  /** Time to live of entries (ms) when a call sets no `responseCache.ttlMs` (default: none). */
  readonly ttlMs?: number | undefined
  /** Prefix of every key (default `llm-fiber:cache:`). */
  readonly namespace?: string | undefined
  /** Share one provider call among identical concurrent chat calls (default false). */
  readonly coalesce?: boolean | undefined
  /**
   * How long a store operation may take before the cache gives up on it and the call goes
   * on without it (default 2 000 ms; the memory store is never timed out).
   */
  readonly storeTimeoutMs?: number | undefined
}

/**
 * Options of `make`: the cache's options and its store.
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions extends Options {
  readonly store: Store
}

/**
 * Options of `layerMemory`.
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryOptions extends Options, MemoryStoreOptions {}

/**
 * Options of `layerFile`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileOptions extends Options, FileStoreOptions {}

/**
 * The defaults of the cache and the memory store.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults = {
  policy: "read_through",
  namespace: defaultNamespace,
  coalesce: false,
  storeTimeoutMs: 2_000,
  maxEntries: 1_000,
  maxBytes: 64 * 1024 * 1024
} as const

const policies: ReadonlyArray<unknown> = ["off", "read_through", "write_through", "refresh"]

const checkOptions = (options: MakeOptions): string | undefined => {
  if (options.policy !== undefined && !policies.includes(options.policy)) {
    return `policy must be "off", "read_through", "write_through" or "refresh" (got ${String(options.policy)})`
  }
  if (options.ttlMs !== undefined && !(Number.isFinite(options.ttlMs) && options.ttlMs > 0)) {
    return `ttlMs must be a positive number of milliseconds (got ${String(options.ttlMs)})`
  }
  if (
    options.storeTimeoutMs !== undefined && !(Number.isFinite(options.storeTimeoutMs) && options.storeTimeoutMs > 0)
  ) {
    return `storeTimeoutMs must be a positive number of milliseconds (got ${String(options.storeTimeoutMs)})`
  }
  return undefined
}

/** What a coalesced leader shares: its outcome, or `undefined` when it was interrupted. */
type Shared = Exit.Exit<ChatResult.ChatResult, LlmError.LlmError> | undefined

/** The leader's outcome: the result, and whether it is new (to be written). */
interface Resolved {
  readonly result: ChatResult.ChatResult
  readonly fresh: boolean
}

const cacheable = (finishReason: ChatResult.FinishReason | undefined): boolean =>
  finishReason !== undefined && finishReason !== "error"

/** A complete stream: its last event is a `Finish` that is no error. */
const completeStream = (events: ReadonlyArray<StreamEvent.StreamEvent>): boolean => {
  const last = events[events.length - 1]
  return last !== undefined && last._tag === "Finish" && cacheable(last.finishReason)
}

const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    return failure.value instanceof CacheStoreError ? failure.value.message : "unexpected failure"
  }
  const defect = Cause.squash(cause)
  return `defect: ${defect instanceof Error ? defect.message : "unexpected defect"}`
}

/**
 * A cache over `store`, as a pipeline `Middleware`. Dies when an option is out of range.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: MakeOptions): Effect.Effect<Middleware.Middleware> =>
  Effect.suspend(() => {
    const invalid = checkOptions(options)
    return invalid !== undefined
      ? Effect.dieMessage(`ResponseCache.make: ${invalid}`)
      : Effect.sync(() => unsafeMake(options))
  })

const unsafeMake = (options: MakeOptions): Middleware.Middleware => {
  const store = options.store
  const defaultPolicy = options.policy ?? defaults.policy
  const defaultTtl = options.ttlMs
  const namespace = options.namespace ?? defaults.namespace
  const coalesce = options.coalesce ?? defaults.coalesce
  const timeoutMs = options.storeTimeoutMs ?? (synchronousStores.has(store) ? undefined : defaults.storeTimeoutMs)
  const timeout = timeoutMs === undefined ? undefined : Duration.millis(timeoutMs)
  const inflight = new Map<string, Deferred.Deferred<Shared>>()

  const keyOf = (info: Middleware.CallInfo) => key(info, namespace)

  const failOpen = (info: Middleware.CallInfo, operation: string, cause: Cause.Cause<unknown>) =>
    Effect.zipRight(
      Metric.increment(info.metrics.cacheErrors),
      Effect.logWarning(
        `ResponseCache: the ${store.name} store failed to ${operation} (${
          describeFailure(cause)
        }); the call goes on without the cache`
      ).pipe(Effect.annotateLogs({ store: store.name, operation }))
    )

  /** A store operation that never fails: errors, defects and timeouts give `fallback`. */
  const guarded = <A>(
    info: Middleware.CallInfo,
    operation: "get" | "set" | "delete",
    effect: Effect.Effect<A, CacheStoreError>,
    fallback: A
  ): Effect.Effect<A> =>
    (timeout === undefined ? effect : Effect.timeoutFail(effect, {
      duration: timeout,
      onTimeout: () => new CacheStoreError({ store: store.name, message: `no answer within ${timeoutMs} ms` })
    })).pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : Effect.as(failOpen(info, operation, cause), fallback)
      )
    )

  /** The entry under `k`; an undecodable value is a miss (and is deleted). */
  const lookup = (info: Middleware.CallInfo, k: string): Effect.Effect<Option.Option<Entry>> =>
    Effect.flatMap(guarded(info, "get", store.get(k), Option.none()), (value) => {
      if (Option.isNone(value)) return Effect.succeed(Option.none())
      const entry = decodeEntry(value.value)
      return Option.isSome(entry)
        ? Effect.succeed(entry)
        : Effect.as(guarded(info, "delete", store.delete(k), undefined), Option.none())
    })

  const write = (info: Middleware.CallInfo, k: string, ttlMs: number | undefined, entry: Entry) =>
    Effect.suspend(() => {
      const encoded = encodeEntry(entry)
      if (Either.isLeft(encoded)) {
        return failOpen(
          info,
          "set",
          Cause.fail(new CacheStoreError({ store: store.name, message: "entry not encodable" }))
        )
      }
      return Effect.flatMap(
        guarded(info, "set", Effect.as(store.set(k, encoded.right, ttlMs), true), false),
        (written) => (written ? Metric.increment(info.metrics.cacheWrites) : Effect.void)
      )
    })

  const hit = (info: Middleware.CallInfo) =>
    Effect.suspend(() => {
      info.reportCache("hit")
      return Metric.increment(info.metrics.cacheHits)
    })

  const miss = (info: Middleware.CallInfo) =>
    Effect.suspend(() => {
      info.reportCache("miss")
      return Metric.increment(info.metrics.cacheMisses)
    })

  const chatEntry = (result: ChatResult.ChatResult): Entry => ({ v: 1, kind: "chat", result })

  /** Look up; on a miss, call the provider. */
  const resolve = (
    info: Middleware.CallInfo,
    k: string,
    next: Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  ): Effect.Effect<Resolved, LlmError.LlmError> =>
    Effect.flatMap(lookup(info, k), (entry) =>
      Option.isSome(entry)
        ? Effect.as(hit(info), { result: resultOf(entry.value), fresh: false })
        : Effect.zipRight(miss(info), Effect.map(next, (result) => ({ result, fresh: true }))))

  const readThrough = (
    info: Middleware.CallInfo,
    k: string,
    ttlMs: number | undefined,
    next: Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
    Effect.flatMap(resolve(info, k, next), ({ fresh, result }) =>
      fresh && cacheable(result.finishReason)
        ? Effect.as(write(info, k, ttlMs, chatEntry(result)), result)
        : Effect.succeed(result))

  /**
   * Read-through with one in-flight call per key. The first caller (the leader) looks up
   * and, on a miss, calls the provider; callers arriving meanwhile (followers) wait for its
   * outcome — the same result (as a hit) or the same error. A leader that is interrupted
   * shares nothing: its followers elect a new leader among themselves.
   */
  const coalesced = (
    info: Middleware.CallInfo,
    k: string,
    ttlMs: number | undefined,
    next: Effect.Effect<ChatResult.ChatResult, LlmError.LlmError>
  ): Effect.Effect<ChatResult.ChatResult, LlmError.LlmError> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const current = inflight.get(k)
        if (current !== undefined) {
          return restore(Effect.flatMap(Deferred.await(current), (shared) => {
            if (shared === undefined) return coalesced(info, k, ttlMs, next)
            if (Exit.isSuccess(shared)) return Effect.as(hit(info), asHit(shared.value))
            return Effect.zipRight(Effect.sync(() => info.reportCache("miss")), shared)
          }))
        }
        const deferred = Deferred.unsafeMake<Shared>(FiberId.none)
        inflight.set(k, deferred)
        const release = Effect.sync(() => {
          if (inflight.get(k) === deferred) inflight.delete(k)
        })
        return Effect.flatMap(Effect.exit(restore(resolve(info, k, next))), (exit) => {
          if (Exit.isFailure(exit)) {
            // out of the map first, so that woken followers elect a new leader
            const shared: Shared = Cause.isInterruptedOnly(exit.cause) ? undefined : Exit.failCause(exit.cause)
            return release.pipe(
              Effect.zipRight(Deferred.succeed(deferred, shared)),
              Effect.zipRight(Effect.failCause(exit.cause))
            )
          }
          const { fresh, result } = exit.value
          return Deferred.succeed(deferred, Exit.succeed(result)).pipe(
            Effect.zipRight(
              fresh && cacheable(result.finishReason)
                ? restore(write(info, k, ttlMs, chatEntry(result)))
                : Effect.void
            ),
            Effect.ensuring(release),
            Effect.as(result)
          )
        })
      })
    )

  /** The provider's stream, written when it completes. */
  const recording = (
    info: Middleware.CallInfo,
    k: string,
    ttlMs: number | undefined,
    next: Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError>
  ): Stream.Stream<StreamEvent.StreamEvent, LlmError.LlmError> =>
    Stream.suspend(() => {
      const events: Array<StreamEvent.StreamEvent> = []
      return next.pipe(
        Stream.mapChunks((chunk) => {
          for (const event of chunk) events.push(event)
          return chunk
        }),
        Stream.ensuringWith((exit) =>
          Exit.isSuccess(exit) && completeStream(events)
            ? write(info, k, ttlMs, { v: 1, kind: "stream", events })
            : Effect.void
        )
      )
    })

  return {
    chat: (info, next) => {
      const override = info.request.responseCache
      const policy = override?.policy ?? defaultPolicy
      if (policy === "off") return next
      return Effect.suspend(() => {
        const k = keyOf(info)
        const ttlMs = override?.ttlMs ?? defaultTtl
        if (policy === "read_through") {
          return coalesce ? coalesced(info, k, ttlMs, next) : readThrough(info, k, ttlMs, next)
        }
        info.reportCache("miss")
        return Effect.tap(
          next,
          (result) => cacheable(result.finishReason) ? write(info, k, ttlMs, chatEntry(result)) : Effect.void
        )
      })
    },
    chatStream: (info, next) => {
      const override = info.request.responseCache
      const policy = override?.policy ?? defaultPolicy
      if (policy === "off") return next
      return Stream.unwrap(Effect.suspend(() => {
        const k = keyOf(info)
        const ttlMs = override?.ttlMs ?? defaultTtl
        if (policy !== "read_through") {
          info.reportCache("miss")
          return Effect.succeed(recording(info, k, ttlMs, next))
        }
        return Effect.flatMap(lookup(info, k), (entry) =>
          Option.isSome(entry)
            ? Effect.as(hit(info), Stream.fromChunk(Chunk.unsafeFromArray(eventsOf(entry.value))))
            : Effect.as(miss(info), recording(info, k, ttlMs, next)))
      }))
    }
  }
}

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * A cache over a fresh in-memory LRU store (`makeMemoryStore`): entries live in this
 * process, for the lifetime of the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<ResponseCache> =>
  Layer.effect(ResponseCache, Effect.flatMap(makeMemoryStore(options), (store) => make({ ...options, store })))

/**
 * A cache over files in a directory (`makeFileStore`): shared by the processes that use
 * the directory, kept across restarts.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (options: FileOptions): Layer.Layer<ResponseCache> =>
  Layer.effect(ResponseCache, Effect.flatMap(makeFileStore(options), (store) => make({ ...options, store })))

/**
 * A cache over any `Store` (e.g. `RedisCache` of `@llm-fiber/redis`), given as a value or as
 * an effect that builds it (scoped: released with the layer).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore = <E = never, R = never>(
  store: Store | Effect.Effect<Store, E, R>,
  options?: Options
): Layer.Layer<ResponseCache, E, Exclude<R, Scope.Scope>> =>
  Layer.scoped(
    ResponseCache,
    Effect.flatMap(Effect.isEffect(store) ? store : Effect.succeed(store), (s) => make({ ...options, store: s }))
  )
