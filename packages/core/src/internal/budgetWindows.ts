/**
 * Calendar windows of budgets (UTC) and money in integer micro-USD.
 *
 * @internal
 */

/** @internal */
export type Window = "minute" | "hour" | "day" | "month" | "total"

/** @internal */
export const windows: ReadonlyArray<Window> = ["minute", "hour", "day", "month", "total"]

/** @internal */
export interface Period {
  /** `2026-11-22T10:31`, `2026-11-22T10`, `2026-11-22`, `2026-11`, or `total`. */
  readonly id: string
  /** When the period ends (epoch ms); `undefined` for `total`. */
  readonly end: number | undefined
  /** How long a counter of this period should live after a change: to its end plus a margin. */
  readonly ttlMs: number
}

const minuteMs = 60_000
const hourMs = 3_600_000

/** A `total` counter never ends: it lives ten years after its last change. */
export const totalTtlMs = 10 * 365 * 24 * hourMs

/** @internal */
export const periodOf = (window: Window, now: number): Period => {
  const iso = new Date(now).toISOString()
  switch (window) {
    case "minute": {
      const end = Math.floor(now / minuteMs) * minuteMs + minuteMs
      return { id: iso.slice(0, 16), end, ttlMs: end - now + minuteMs }
    }
    case "hour": {
      const end = Math.floor(now / hourMs) * hourMs + hourMs
      return { id: iso.slice(0, 13), end, ttlMs: end - now + hourMs }
    }
    case "day": {
      const date = new Date(now)
      const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
      return { id: iso.slice(0, 10), end, ttlMs: end - now + hourMs }
    }
    case "month": {
      const date = new Date(now)
      const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)
      return { id: iso.slice(0, 7), end, ttlMs: end - now + hourMs }
    }
    case "total":
      return { id: "total", end: undefined, ttlMs: totalTtlMs }
  }
}

/**
 * USD → micro-USD, rounded up (a cost is never under-counted), except for the binary
 * noise of an exact value (`0.3 * 1e6 = 300000.00000000006` is 300,000).
 *
 * @internal
 */
export const microUp = (usd: number): number => {
  const micro = usd * 1e6
  const rounded = Math.round(micro)
  return Math.abs(micro - rounded) < 1e-6 ? rounded : Math.ceil(micro)
}

/**
 * USD → micro-USD, rounded down (a limit is never over-stated).
 *
 * @internal
 */
export const microDown = (usd: number): number => {
  const micro = usd * 1e6
  const rounded = Math.round(micro)
  return Math.abs(micro - rounded) < 1e-6 ? rounded : Math.floor(micro)
}

/** USD for messages: at most 6 decimals, no trailing zeros. @internal */
export const formatUsd = (usd: number): string => String(Number(usd.toPrecision(6)))

/** Tokens for messages: `12,345`. @internal */
export const formatTokens = (tokens: number): string => Math.round(tokens).toLocaleString("en-US")
