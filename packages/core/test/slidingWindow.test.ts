// The in-memory sliding-window store: regression for a booking placed earlier than a
// cancelled (cost 0) later booking — the window must stay in time order, or a cost
// restored later on the cancelled booking is checked in the wrong place.
import { describe, expect, it } from "@effect/vitest"
import { RateLimiter } from "@llm-fiber/core"
import { Duration, Effect, TestClock } from "effect"

const limits = (cost: number) => [{ key: "w", limit: 10, windowMs: 60_000, cost }]

describe("RateLimiter.makeStoreMemory", () => {
  it.effect("keeps bookings in time order when one lands before a cancelled later booking", () =>
    Effect.gen(function*() {
      const store = yield* RateLimiter.makeStoreMemory
      const reserve = (id: string, cost: number) => store.reserve({ id, limits: limits(cost), maxWaitMs: Infinity })
      expect(yield* reserve("a", 5)).toEqual({ _tag: "Reserved", waitMs: 0 })
      // b does not fit until a leaves the window
      expect(yield* reserve("b", 10)).toEqual({ _tag: "Reserved", waitMs: 60_000 })
      yield* store.update({ id: "b", costs: [{ key: "w", cost: 0 }] }) // cancelled (an estimate of 0)…
      yield* TestClock.adjust(Duration.millis(1_000))
      expect(yield* reserve("c", 3)).toEqual({ _tag: "Reserved", waitMs: 0 })
      yield* store.update({ id: "b", costs: [{ key: "w", cost: 10 }] }) // …then corrected to its real cost
      yield* TestClock.adjust(Duration.millis(1_000))
      // d (8) fits only once b (10, booked at 60 s) has left the window: at 120 s
      expect(yield* reserve("d", 8)).toEqual({ _tag: "Reserved", waitMs: 118_000 })
    }))
})
