/**
 * Client-side rate limits (requests and tokens per minute), waiting or failing with a local `RateLimitError`.
 *
 * This module defines the pipeline slot; the default passes every call straight
 * through. Provide `RateLimiter.layer(middleware)` to switch a rate limiter on.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Middleware from "./Middleware.js"

/**
 * The rate limiter in use (a pass-through unless a layer provides one).
 *
 * @since 0.1.0
 * @category tags
 */
export class RateLimiter extends Context.Reference<RateLimiter>()("@llm-fiber/core/RateLimiter", {
  defaultValue: (): Middleware.Middleware => Middleware.passthrough
}) {}

/**
 * Use a middleware as the rate limiter.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (middleware: Middleware.Middleware): Layer.Layer<RateLimiter> =>
  Layer.succeed(RateLimiter, middleware)

/**
 * Switch the rate limiter off (pass every call through).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<RateLimiter> = Layer.succeed(RateLimiter, Middleware.passthrough)
