import { describe, expect, it } from "@effect/vitest"
import { Budget } from "@llm-fiber/core"
import { RedisBudget } from "@llm-fiber/redis"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as path from "node:path"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import * as Helpers from "./helpers.js"

const setup = Effect.gen(function*() {
  const { connection, prefix } = yield* Helpers.make()
  return { ledger: RedisBudget.makeLedgerWith(connection), connection, prefix }
})

const day = (limitMicroUsd?: number, limitTokens?: number): Budget.LedgerEntry => ({
  key: "budget:global:day",
  limitMicroUsd,
  limitTokens,
  ttlMs: 60_000
})
const user = (limitMicroUsd?: number, limitTokens?: number): Budget.LedgerEntry => ({
  key: "budget:user:u-42:day",
  limitMicroUsd,
  limitTokens,
  ttlMs: 30_000
})

describe("RedisBudget: one process", () => {
  it.scoped("is a Budget.Ledger named redis; read of a missing key is zero", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      const typed: Budget.Ledger = ledger
      expect(typed.name).toBe("redis")
      expect(yield* ledger.read("nothing")).toEqual({ microUsd: 0, tokens: 0 })
    }))

  it.scoped("reserve adds the amount to every entry; an exact fit is reserved", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      expect(yield* ledger.reserve([day(100), user(60)], { microUsd: 40, tokens: 7 })).toEqual({ _tag: "Reserved" })
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 40, tokens: 7 })
      expect(yield* ledger.read("budget:user:u-42:day")).toEqual({ microUsd: 40, tokens: 7 })
      expect(yield* ledger.reserve([day(100), user(60)], { microUsd: 20, tokens: 1 })).toEqual({ _tag: "Reserved" })
      expect(yield* ledger.read("budget:user:u-42:day")).toEqual({ microUsd: 60, tokens: 8 })
    }))

  it.scoped("a reservation that does not fit one entry is rejected with that key and what it held; nothing changes", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      yield* ledger.reserve([day(1_000), user(50)], { microUsd: 30, tokens: 3 })
      const result = yield* ledger.reserve([day(1_000), user(50)], { microUsd: 30, tokens: 3 })
      expect(result).toEqual({ _tag: "Rejected", key: "budget:user:u-42:day", used: { microUsd: 30, tokens: 3 } })
      // the global entry (which had room, and comes first) was not charged either
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 30, tokens: 3 })
      expect(yield* ledger.read("budget:user:u-42:day")).toEqual({ microUsd: 30, tokens: 3 })
    }))

  it.scoped("token limits and micro-USD limits bound independently; a missing limit does not bound", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      expect(yield* ledger.reserve([day(undefined, 10)], { microUsd: 1_000_000_000, tokens: 10 })).toEqual({
        _tag: "Reserved"
      })
      expect(yield* ledger.reserve([day(undefined, 10)], { microUsd: 0, tokens: 1 })).toEqual({
        _tag: "Rejected",
        key: "budget:global:day",
        used: { microUsd: 1_000_000_000, tokens: 10 }
      })
      expect(yield* ledger.reserve([user()], { microUsd: 9_007_199_254_740_000, tokens: 1 })).toEqual({
        _tag: "Reserved"
      })
      // the key that cannot fit is named (not the first entry)
      const rejected = yield* ledger.reserve([user(), day(undefined, 10)], { microUsd: 0, tokens: 1 })
      expect(rejected._tag === "Rejected" && rejected.key).toBe("budget:global:day")
    }))

  it.scoped("an amount larger than an empty entry's limit is rejected (unlike a rate limit)", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      expect(yield* ledger.reserve([day(100)], { microUsd: 101, tokens: 0 })).toEqual({
        _tag: "Rejected",
        key: "budget:global:day",
        used: { microUsd: 0, tokens: 0 }
      })
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 0, tokens: 0 })
    }))

  it.scoped("a key listed twice takes the amount twice", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      expect((yield* ledger.reserve([day(100), day(100)], { microUsd: 60, tokens: 0 }))._tag).toBe("Rejected")
      expect((yield* ledger.reserve([day(100), day(100)], { microUsd: 50, tokens: 0 }))._tag).toBe("Reserved")
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 100, tokens: 0 })
    }))

  it.scoped("adjust adds a delta to each key (negative to settle below the reservation), stopping at zero", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      yield* ledger.reserve([day(1_000), user(1_000)], { microUsd: 500, tokens: 100 })
      const keys = [{ key: "budget:global:day", ttlMs: 60_000 }, { key: "budget:user:u-42:day", ttlMs: 30_000 }]
      yield* ledger.adjust(keys, { microUsd: -200, tokens: -40 })
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 300, tokens: 60 })
      expect(yield* ledger.read("budget:user:u-42:day")).toEqual({ microUsd: 300, tokens: 60 })
      yield* ledger.adjust(keys.slice(0, 1), { microUsd: 25, tokens: 5 })
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 325, tokens: 65 })
      // like the in-memory ledger, a counter never goes below zero
      yield* ledger.adjust([{ key: "fresh", ttlMs: 1_000 }], { microUsd: -5, tokens: 3 })
      expect(yield* ledger.read("fresh")).toEqual({ microUsd: 0, tokens: 3 })
      yield* ledger.adjust(keys.slice(0, 1), { microUsd: -10_000, tokens: -10_000 })
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 0, tokens: 0 })
      // the capacity given back can be reserved again
      expect((yield* ledger.reserve([user(1_000)], { microUsd: 700, tokens: 0 }))._tag).toBe("Reserved")
    }))

  it.scoped("reserve and adjust (re)set each key's TTL; a zero delta changes nothing", () =>
    Effect.gen(function*() {
      const { connection, ledger } = yield* setup
      const pttl = (key: string) => connection.use((client) => client.pttl(key))
      yield* ledger.reserve([day(100), user(100)], { microUsd: 1, tokens: 1 })
      const global = yield* pttl("budget:global:day")
      expect(global).toBeGreaterThan(50_000)
      expect(global).toBeLessThanOrEqual(60_000)
      const own = yield* pttl("budget:user:u-42:day")
      expect(own).toBeGreaterThan(20_000)
      expect(own).toBeLessThanOrEqual(30_000)
      yield* ledger.adjust([{ key: "budget:user:u-42:day", ttlMs: 90_000 }], { microUsd: 1, tokens: 0 })
      expect(yield* pttl("budget:user:u-42:day")).toBeGreaterThan(80_000)
      yield* ledger.adjust([{ key: "budget:user:u-42:day", ttlMs: 1_000 }], { microUsd: 0, tokens: 0 })
      expect(yield* pttl("budget:user:u-42:day")).toBeGreaterThan(80_000)
      yield* ledger.reserve([{ key: "forever", ttlMs: Infinity }], { microUsd: 1, tokens: 0 })
      expect(yield* pttl("forever")).toBe(-1)
    }))

  it.scopedLive("a counter is gone once its TTL has passed", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      yield* ledger.reserve([{ key: "short", limitMicroUsd: 10, ttlMs: 100 }], { microUsd: 10, tokens: 0 })
      expect(
        (yield* ledger.reserve([{ key: "short", limitMicroUsd: 10, ttlMs: 100 }], { microUsd: 1, tokens: 0 }))._tag
      )
        .toBe("Rejected")
      yield* Effect.sleep("300 millis")
      expect(yield* ledger.read("short")).toEqual({ microUsd: 0, tokens: 0 })
      expect(
        (yield* ledger.reserve([{ key: "short", limitMicroUsd: 10, ttlMs: 100 }], { microUsd: 1, tokens: 0 }))._tag
      )
        .toBe("Reserved")
    }))

  it.scoped("amounts must be integers; invalid TTLs and foreign keys are LedgerErrors", () =>
    Effect.gen(function*() {
      const { connection, ledger } = yield* setup
      const fractional = yield* Effect.flip(ledger.reserve([day(100)], { microUsd: 1.5, tokens: 0 }))
      expect(fractional).toBeInstanceOf(Budget.LedgerError)
      expect(fractional.ledger).toBe("redis")
      expect(fractional.message).toContain("integer")
      expect(yield* Effect.flip(ledger.adjust([{ key: "k", ttlMs: 1 }], { microUsd: 0, tokens: Number.NaN })))
        .toBeInstanceOf(Budget.LedgerError)
      expect(yield* Effect.flip(ledger.reserve([{ key: "k", ttlMs: 0 }], { microUsd: 1, tokens: 0 })))
        .toBeInstanceOf(Budget.LedgerError)
      yield* connection.use((client) => client.set("a-string", "x"))
      const wrongType = yield* Effect.flip(ledger.read("a-string"))
      expect(wrongType).toBeInstanceOf(Budget.LedgerError)
      expect(wrongType.message).toContain("WRONGTYPE")
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: 0, tokens: 0 })
    }))

  it.scoped("concurrent reservations in one process never pass the limit", () =>
    Effect.gen(function*() {
      const { ledger } = yield* setup
      const results = yield* Effect.all(
        Array.from({ length: 200 }, () => ledger.reserve([day(1_000)], { microUsd: 7, tokens: 1 })),
        { concurrency: "unbounded" }
      )
      const reserved = results.filter((r) => r._tag === "Reserved").length
      expect(reserved).toBe(Math.floor(1_000 / 7))
      expect(yield* ledger.read("budget:global:day")).toEqual({ microUsd: reserved * 7, tokens: reserved })
    }))
})

// -----------------------------------------------------------------------------
// two processes
// -----------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url))

interface WorkerResult {
  readonly reserved: number
  readonly rejected: number
  readonly errors: ReadonlyArray<string>
}

interface Worker {
  readonly ready: Promise<void>
  readonly go: () => void
  readonly done: Promise<WorkerResult>
}

const startWorker = (env: Record<string, string>): Worker => {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "budgetWorker.ts")], {
    env: { ...process.env, ...env, TSX_TSCONFIG_PATH: path.join(here, "worker.tsconfig.json") },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  const lines = readline.createInterface({ input: child.stdout })
  let onReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
  })
  let result: WorkerResult | undefined
  lines.on("line", (line) => {
    if (line === "ready") onReady()
    else if (line.startsWith("{")) result = JSON.parse(line) as WorkerResult
  })
  const done = new Promise<WorkerResult>((resolve, reject) => {
    child.on("exit", (code) => {
      if (code === 0 && result !== undefined) resolve(result)
      else reject(new Error(`budget worker exited with ${code}: ${stderr}`))
    })
  })
  return {
    ready: Promise.race([ready, done.then(() => undefined)]),
    go: () => child.stdin.write("go\n"),
    done
  }
}

describe("RedisBudget: two processes sharing one budget", () => {
  it.scopedLive("hundreds of concurrent reservations from two processes never overspend", () =>
    Effect.gen(function*() {
      const { ledger, prefix } = yield* setup
      const sharedLimit = 1_000_000
      const ownLimit = 600_000
      const common = {
        REDIS_URL: Helpers.redisUrl,
        KEY_PREFIX: prefix,
        COUNT: "300",
        SHARED_KEY: "budget:shared",
        SHARED_LIMIT: String(sharedLimit),
        OWN_LIMIT: String(ownLimit)
      }
      const a = startWorker({ ...common, OWN_KEY: "budget:worker-a", MICRO_USD: "7000", TOKENS: "3" })
      const b = startWorker({ ...common, OWN_KEY: "budget:worker-b", MICRO_USD: "11000", TOKENS: "5" })
      yield* Effect.promise(() => Promise.all([a.ready, b.ready]))
      a.go()
      b.go()
      const [ra, rb] = yield* Effect.promise(() => Promise.all([a.done, b.done]))
      expect(ra.errors).toEqual([])
      expect(rb.errors).toEqual([])
      expect(ra.reserved + ra.rejected).toBe(300)
      expect(rb.reserved + rb.rejected).toBe(300)
      // 600 × ~9,000 µUSD is far over the limit: both saw rejections
      expect(ra.rejected).toBeGreaterThan(0)
      expect(rb.rejected).toBeGreaterThan(0)

      const shared = yield* ledger.read("budget:shared")
      const ownA = yield* ledger.read("budget:worker-a")
      const ownB = yield* ledger.read("budget:worker-b")
      // every success is counted, in every key, and nothing else
      expect(ownA).toEqual({ microUsd: ra.reserved * 7_000, tokens: ra.reserved * 3 })
      expect(ownB).toEqual({ microUsd: rb.reserved * 11_000, tokens: rb.reserved * 5 })
      expect(shared).toEqual({ microUsd: ownA.microUsd + ownB.microUsd, tokens: ownA.tokens + ownB.tokens })
      // never past a limit
      expect(shared.microUsd).toBeLessThanOrEqual(sharedLimit)
      expect(ownA.microUsd).toBeLessThanOrEqual(ownLimit)
      expect(ownB.microUsd).toBeLessThanOrEqual(ownLimit)
      // and nothing was refused that would have fitted at the end (counters only grow)
      expect(Math.min(sharedLimit - shared.microUsd, ownLimit - ownA.microUsd)).toBeLessThan(7_000)
      expect(Math.min(sharedLimit - shared.microUsd, ownLimit - ownB.microUsd)).toBeLessThan(11_000)
    }), { timeout: 60_000 })
})
