/**
 * Budgets and cost ceilings: a call that cannot fit is rejected before anything is sent; the real cost settles the reservation.
 *
 * This module defines the pipeline slot; the default passes every call straight
 * through. Provide `Budget.layer(middleware)` to switch a budget on.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Middleware from "./Middleware.js"

/**
 * The budget in use (a pass-through unless a layer provides one).
 *
 * @since 0.1.0
 * @category tags
 */
export class Budget extends Context.Reference<Budget>()("@llm-fiber/core/Budget", {
  defaultValue: (): Middleware.Middleware => Middleware.passthrough
}) {}

/**
 * Use a middleware as the budget.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (middleware: Middleware.Middleware): Layer.Layer<Budget> => Layer.succeed(Budget, middleware)

/**
 * Switch the budget off (pass every call through).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDisabled: Layer.Layer<Budget> = Layer.succeed(Budget, Middleware.passthrough)
