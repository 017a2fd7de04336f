/**
 * Response caching: a hit answers without calling the provider (memory, filesystem and Redis stores come in their own layers).
 *
 * This module defines the pipeline slot; the default passes every call straight
 * through. Provide `ResponseCache.layer(middleware)` to switch a cache on.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
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
