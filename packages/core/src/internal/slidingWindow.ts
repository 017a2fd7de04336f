/**
 * The sliding-window log behind the in-memory `RateLimiterStore`: plain, synchronous
 * TypeScript, so one store operation is one atomic step (nothing yields in between).
 * A Redis store runs the same algorithm in one Lua script.
 *
 * A window holds the reservations (time, cost) of the last `windowMs`, plus those booked
 * in the future by waiting calls, in time order. A new reservation is booked at the
 * earliest time `t`, no earlier than now and than the window's last reservation (first
 * come, first served), at which the costs recorded in `(t - windowMs, t]` plus its own
 * fit the limit (a cost above the limit fits an empty window). Because bookings never go
 * back in time, checking the window that ends at `t` is enough: any later window that
 * holds `t` holds a subset of it.
 *
 * @internal
 */

/** @internal */
export interface Entry {
  readonly id: string
  readonly time: number
  cost: number
}

/** @internal */
export interface Window {
  /** In time order; `head` is the first live one. */
  entries: Array<Entry>
  head: number
  windowMs: number
}

/** @internal */
export interface Limit {
  readonly key: string
  readonly limit: number
  readonly windowMs: number
  readonly cost: number
}

/** @internal */
export type Outcome =
  | { readonly _tag: "Reserved"; readonly waitMs: number }
  | { readonly _tag: "Rejected"; readonly retryAfterMs: number }

/** Drop the entries that left the window by `now`. */
const prune = (window: Window, now: number, windowMs: number): void => {
  const entries = window.entries
  let head = window.head
  while (head < entries.length && entries[head]!.time <= now - windowMs) head++
  if (head > 64 && head * 2 > entries.length) {
    window.entries = entries.slice(head)
    head = 0
  }
  window.head = head
}

/** The earliest time at or after `now` a reservation of `cost` fits this window. */
const earliest = (window: Window, now: number, limit: Limit): number => {
  const entries = window.entries
  // the last live booking (a cancelled one, cost 0, holds no one back)
  let last = now
  for (let i = entries.length - 1; i >= window.head; i--) {
    if (entries[i]!.cost > 0) {
      last = entries[i]!.time
      break
    }
  }
  const base = Math.max(now, last)
  let sum = 0
  for (let i = window.head; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.time > base - limit.windowMs) sum += entry.cost
  }
  if (sum <= 0 || sum + limit.cost <= limit.limit) return base
  for (let i = window.head; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.time <= base - limit.windowMs) continue
    sum -= entry.cost
    const time = entry.time + limit.windowMs
    // entries booked at the same instant leave the window together
    const next = entries[i + 1]
    if (next !== undefined && next.time === entry.time) continue
    if (sum <= 0 || sum + limit.cost <= limit.limit) return time
  }
  return base
}

/** @internal */
export class Store {
  private readonly windows = new Map<string, Window>()
  private operations = 0

  reserve(now: number, id: string, limits: ReadonlyArray<Limit>, maxWaitMs: number): Outcome {
    if (++this.operations % 10_000 === 0) this.sweep(now)
    let at = now
    const windows: Array<Window> = []
    for (const limit of limits) {
      let window = this.windows.get(limit.key)
      if (window === undefined) {
        window = { entries: [], head: 0, windowMs: limit.windowMs }
        this.windows.set(limit.key, window)
      }
      window.windowMs = limit.windowMs
      prune(window, now, limit.windowMs)
      windows.push(window)
      at = Math.max(at, earliest(window, now, limit))
    }
    const waitMs = at - now
    if (waitMs > maxWaitMs) return { _tag: "Rejected", retryAfterMs: waitMs }
    for (let i = 0; i < limits.length; i++) {
      // in time order: a booking may land before a cancelled (cost 0) later one
      const window = windows[i]!
      const entries = window.entries
      let j = entries.length
      while (j > window.head && entries[j - 1]!.time > at) j--
      if (j === entries.length) entries.push({ id, time: at, cost: limits[i]!.cost })
      else entries.splice(j, 0, { id, time: at, cost: limits[i]!.cost })
    }
    return { _tag: "Reserved", waitMs }
  }

  update(id: string, costs: ReadonlyArray<{ readonly key: string; readonly cost: number }>): void {
    for (const change of costs) {
      const window = this.windows.get(change.key)
      if (window === undefined) continue
      const entries = window.entries
      for (let i = entries.length - 1; i >= window.head; i--) {
        const entry = entries[i]!
        if (entry.id === id) {
          entry.cost = change.cost
          break
        }
      }
    }
  }

  /** Forget windows with no live entry (called now and then to bound memory). */
  sweep(now: number): void {
    for (const [key, window] of this.windows) {
      prune(window, now, window.windowMs)
      if (window.head >= window.entries.length) this.windows.delete(key)
    }
  }

  get size(): number {
    return this.windows.size
  }
}
