/**
 * A `ResponseCache.Store` on Redis: cached responses shared by every process that uses the
 * same server and prefix, expiring on the server.
 *
 * **Details**
 * - An entry is one string key: the cache's key (`llm-fiber:cache:v1:<sha256>` with the
 *   default namespace), after the connection's `keyPrefix` and this store's `prefix` (default
 *   none): `GET`, `SET … PX ttl` (a plain `SET` without a TTL), `DEL`. The cache serializes
 *   entries itself (versioned JSON); the store only moves strings.
 * - Expiry is Redis's (`PX`): entries disappear on the server, so the cache's `ttlMs` holds
 *   for every process, and Redis's `maxmemory-policy` (e.g. `allkeys-lru` or `volatile-lru`)
 *   bounds the size.
 * - Any Redis failure (unreachable server, timeout) is a `CacheStoreError`; the response
 *   cache then fails open — the call goes to the provider and the error is logged and counted.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { LlmClient } from "@llm-fiber/core"
 * import { Redis, RedisCache } from "@llm-fiber/redis"
 *
 * const Cached = LlmClient.layer.pipe(
 *   Layer.provide(RedisCache.layer({ ttlMs: 24 * 60 * 60_000 })),
 *   // the same as: ResponseCache.layerStore(RedisCache.makeStore(), { ttlMs: … })
 *   Layer.provide(Redis.layerFromUrl("redis://127.0.0.1:6379"))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as ResponseCache from "@llm-fiber/core/ResponseCache"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redis from "./Redis.js"

/**
 * Options of the Redis cache store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Put before every key (default none: the cache's keys already begin with its
   * `namespace`, `llm-fiber:cache:` by default).
   */
  readonly prefix?: string | undefined
}

/**
 * Options of `layer`: the cache's (`ttlMs`, `policy`, `namespace`…) and the store's.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions extends ResponseCache.Options, Options {}

/**
 * A store over the `Redis` connection in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStore = (options: Options = {}): Effect.Effect<ResponseCache.Store, never, Redis.Redis> =>
  Effect.map(Redis.Redis, (connection) => makeStoreWith(connection, options))

/**
 * A store over a given connection.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreWith = (connection: Redis.Connection, options: Options = {}): ResponseCache.Store => {
  const prefix = options.prefix ?? ""
  const fail = (operation: string) => (error: Redis.RedisError) =>
    new ResponseCache.CacheStoreError({
      store: "redis",
      message: `${operation} failed: ${error.message}`,
      cause: error
    })
  return {
    name: "redis",
    get: (key) =>
      connection.use((client) => client.get(prefix + key)).pipe(
        Effect.map(Option.fromNullable),
        Effect.mapError(fail("GET"))
      ),
    set: (key, value, ttlMs) => {
      if (ttlMs === undefined || ttlMs === Number.POSITIVE_INFINITY) {
        return connection.use((client) => client.set(prefix + key, value)).pipe(
          Effect.asVoid,
          Effect.mapError(fail("SET"))
        )
      }
      // an entry that expires at once (or an invalid TTL) is not stored, and replaces nothing
      if (!(ttlMs > 0)) {
        return connection.use((client) => client.del(prefix + key)).pipe(Effect.asVoid, Effect.mapError(fail("DEL")))
      }
      return connection.use((client) => client.set(prefix + key, value, "PX", Math.ceil(ttlMs))).pipe(
        Effect.asVoid,
        Effect.mapError(fail("SET"))
      )
    },
    delete: (key) =>
      connection.use((client) => client.del(prefix + key)).pipe(Effect.asVoid, Effect.mapError(fail("DEL")))
  }
}

/**
 * A response cache (`ResponseCache.layerStore`) whose entries live in Redis.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: LayerOptions = {}): Layer.Layer<ResponseCache.ResponseCache, never, Redis.Redis> =>
  ResponseCache.layerStore(makeStore(options), options)
