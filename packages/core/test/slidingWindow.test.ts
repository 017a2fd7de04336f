// The in-memory sliding-window store: regression for a booking placed earlier than a
// cancelled (cost 0) later booking — the window must stay in time order, or a cost
// restored later on the cancelled booking is checked in the wrong place.
import { describe, expect, it } from "@effect/vitest"
import { Store } from "../src/internal/slidingWindow.js"

const limit = (cost: number) => [{ key: "w", limit: 10, windowMs: 60_000, cost }]

describe("slidingWindow.Store", () => {
  it("keeps bookings in time order when one lands before a cancelled later booking", () => {
    const store = new Store()
    expect(store.reserve(0, "a", limit(5), Infinity)).toEqual({ _tag: "Reserved", waitMs: 0 })
    // b does not fit until a leaves the window
    expect(store.reserve(0, "b", limit(10), Infinity)).toEqual({ _tag: "Reserved", waitMs: 60_000 })
    store.update("b", [{ key: "w", cost: 0 }]) // cancelled (e.g. an estimate of 0)…
    expect(store.reserve(1_000, "c", limit(3), Infinity)).toEqual({ _tag: "Reserved", waitMs: 0 })
    store.update("b", [{ key: "w", cost: 10 }]) // …then corrected to its real cost
    // d (8) fits only once b (10, booked at 60 s) has left the window: at 120 s
    expect(store.reserve(2_000, "d", limit(8), Infinity)).toEqual({ _tag: "Reserved", waitMs: 118_000 })
  })
})
