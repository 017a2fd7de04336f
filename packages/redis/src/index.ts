/**
 * @llm-fiber/redis — the response cache store, the rate limiter's windows and the budget
 * ledger on Redis, so that several processes share one cache, one set of rate limits and
 * one budget. Every operation that must be atomic is one Lua script on the server.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Redis from "./Redis.js"
/** @since 0.1.0 */
export * as RedisBudget from "./RedisBudget.js"
/** @since 0.1.0 */
export * as RedisCache from "./RedisCache.js"
/** @since 0.1.0 */
export * as RedisRateLimiter from "./RedisRateLimiter.js"
