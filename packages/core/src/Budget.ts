/**
 * Budgets and cost ceilings: a call that cannot fit is rejected before anything is sent; the real cost settles the reservation.
 *
 * This module defines the pipeline slot; the default passes every call straight
 * through. Provide `Budget.layer(middleware)` to switch a budget on.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
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

// -----------------------------------------------------------------------------
// ledgers
// -----------------------------------------------------------------------------

/**
 * A ledger failed (e.g. Redis is unreachable).
 *
 * @since 0.1.0
 * @category errors
 */
export class LedgerError extends Data.TaggedError("LedgerError")<{
  readonly ledger: string
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * An amount in a ledger, in integers so that sums are exact: micro-USD (1 USD =
 * 1,000,000) and tokens.
 *
 * @since 0.1.0
 * @category models
 */
export interface Amount {
  readonly microUsd: number
  readonly tokens: number
}

/**
 * One counter a reservation must fit: the amount spent and reserved under `key` (a scope
 * and window, e.g. `llm-fiber:budget:user:u-42:day:2026-11-22`) plus the new amount may
 * not pass the limits it has (a missing limit does not bound that unit).
 *
 * @since 0.1.0
 * @category models
 */
export interface LedgerEntry {
  readonly key: string
  readonly limitMicroUsd?: number | undefined
  readonly limitTokens?: number | undefined
  /** How long the counter lives after its last change (its window plus a margin). */
  readonly ttlMs: number
}

/**
 * What `reserve` decided: reserved under every key, or rejected (nothing recorded) with
 * the first key that could not fit and what it already held.
 *
 * @since 0.1.0
 * @category models
 */
export type ReserveResult =
  | { readonly _tag: "Reserved" }
  | { readonly _tag: "Rejected"; readonly key: string; readonly used: Amount }

/**
 * Where budget counters live. Each operation is atomic across all its keys, so a ledger
 * shared by several processes (Redis: one Lua script per operation) never lets them
 * overspend together.
 *
 * @since 0.1.0
 * @category models
 */
export interface Ledger {
  /** `memory`, `redis`… (log lines). */
  readonly name: string
  /** Atomically: when `amount` fits every entry, add it to each; otherwise change nothing. */
  readonly reserve: (
    entries: ReadonlyArray<LedgerEntry>,
    amount: Amount
  ) => Effect.Effect<ReserveResult, LedgerError>
  /** Add `delta` (may be negative: settling below the reservation) to each key. */
  readonly adjust: (
    keys: ReadonlyArray<{ readonly key: string; readonly ttlMs: number }>,
    delta: Amount
  ) => Effect.Effect<void, LedgerError>
  /** What a key holds (spent plus reserved); zero when it does not exist. */
  readonly read: (key: string) => Effect.Effect<Amount, LedgerError>
}
