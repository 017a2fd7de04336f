/**
 * A `RateLimiter.RateLimiterStore` on Redis: the rate limiter's sliding windows shared by
 * every process that uses the same server, so limits hold across all of them.
 *
 * **When to use**: several processes (workers, replicas, batch jobs) share one provider
 * account and its RPM / TPM limits. Give each API key its own `account` in the limiter's
 * options so that processes using different keys do not share windows.
 *
 * **Details**
 * - Each store operation is one Lua script, atomic on the server: `reserve` runs the same
 *   sliding-window algorithm as the in-memory store (drop the bookings that left the
 *   window, find the earliest time every window has room, book there or reject), `update`
 *   replaces a booking's cost (0 cancels it: the booking stays, holding nothing, until it leaves the window).
 * - Time is the Redis server's clock (`TIME`), so processes with skewed clocks agree.
 *   Waiting itself happens in the calling process (`Clock`), `waitMs` after the reply.
 * - A window is a sorted set `key` (member: reservation id, score: booked time in ms) and
 *   a hash `key:cost` (id → cost); both expire once their last booking has left the window.
 * - A Redis failure is a `RateLimiterStoreError`: the rate limiter then logs a warning and
 *   lets the call through (a broken limiter does not stop every call).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { LlmClient } from "@llm-fiber/core"
 * import { Redis, RedisRateLimiter } from "@llm-fiber/redis"
 *
 * const Client = LlmClient.layer.pipe(
 *   Layer.provide(RedisRateLimiter.layer({ rules: [{ scope: "model", rpm: 500, tpm: 200_000 }], account: "prod-key-1" })),
 *   Layer.provide(Redis.layerFromUrl("redis://127.0.0.1:6379"))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@llm-fiber/core/RateLimiter"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Store from "./internal/rateLimiterStore.js"
import * as Redis from "./Redis.js"

/**
 * A store over the `Redis` connection in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStore: Effect.Effect<RateLimiter.Store, never, Redis.Redis> = Effect.map(
  Redis.Redis,
  (connection) => Store.make(connection)
)

/**
 * A store over a given connection.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreWith = (connection: Redis.Connection): RateLimiter.Store => Store.make(connection)

/**
 * The store as the `RateLimiter.RateLimiterStore` service (`RateLimiter.layerDefault` picks it up).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore: Layer.Layer<RateLimiter.RateLimiterStore, never, Redis.Redis> = Layer.effect(
  RateLimiter.RateLimiterStore,
  makeStore
)

/**
 * A rate limiter with `options` whose windows live in Redis.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: RateLimiter.Options): Layer.Layer<RateLimiter.RateLimiter, never, Redis.Redis> =>
  RateLimiter.layerDefault(options).pipe(Layer.provide(layerStore))
