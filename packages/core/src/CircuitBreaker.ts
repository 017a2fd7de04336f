/**
 * A circuit breaker per provider and model: after repeated failures calls fail fast with `CircuitOpenError` until a probe succeeds.
 *
 * This module defines the pipeline slot; the default passes every call straight
 * through. Provide `CircuitBreaker.layer(middleware)` to switch a circuit breaker on.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Middleware from "./Middleware.js"

/**
 * The circuit breaker in use (a pass-through unless a layer provides one).
 *
 * @since 0.1.0
 * @category tags
 */
export class CircuitBreaker extends Context.Reference<CircuitBreaker>()("@llm-fiber/core/CircuitBreaker", {
  defaultValue: (): Middleware.Middleware => Middleware.passthrough
}) {}

/**
 * Use a middleware as the circuit breaker.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (middleware: Middleware.Middleware): Layer.Layer<CircuitBreaker> =>
  Layer.succeed(CircuitBreaker, middleware)

/**
 * Switch the circuit breaker off (pass every call through).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<CircuitBreaker> = Layer.succeed(CircuitBreaker, Middleware.passthrough)
