/**
 * Response caching: a hit answers without calling the provider (memory, filesystem and Redis stores come in their own layers).
 *
 * This module defines the pipeline slot; the default passes every call straight
 * through. Provide `ResponseCache.layer(middleware)` to switch a cache on.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Middleware from "./Middleware.js"

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
