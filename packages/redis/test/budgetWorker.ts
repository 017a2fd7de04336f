/**
 * A child process of the "two processes share one budget" test (run with
 * `node --import tsx`, TSX_TSCONFIG_PATH=worker.tsconfig.json): connects, prints `ready`,
 * waits for `go` on stdin, then fires COUNT reservations at once — each on the shared key
 * and on this worker's own key — and prints one JSON line with what happened.
 */
import * as Effect from "effect/Effect"
import * as readline from "node:readline"
import * as Redis from "../src/Redis.js"
import * as RedisBudget from "../src/RedisBudget.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`budgetWorker: ${name} is not set`)
  return value
}

const count = Number(env("COUNT"))
const amount = { microUsd: Number(env("MICRO_USD")), tokens: Number(env("TOKENS")) }
const shared = { key: env("SHARED_KEY"), limitMicroUsd: Number(env("SHARED_LIMIT")), ttlMs: 600_000 }
const own = { key: env("OWN_KEY"), limitMicroUsd: Number(env("OWN_LIMIT")), ttlMs: 600_000 }

const go = new Promise<void>((resolve) => {
  const lines = readline.createInterface({ input: process.stdin })
  lines.on("line", (line) => {
    if (line.trim() === "go") {
      lines.close()
      resolve()
    }
  })
})

const program = Effect.gen(function*() {
  const ledger = yield* RedisBudget.makeLedger
  yield* Effect.sync(() => process.stdout.write("ready\n"))
  yield* Effect.promise(() => go)
  const results = yield* Effect.forEach(
    Array.from({ length: count }),
    () => Effect.either(ledger.reserve([shared, own], amount)),
    { concurrency: "unbounded" }
  )
  let reserved = 0
  let rejected = 0
  const errors: Array<string> = []
  for (const result of results) {
    if (result._tag === "Left") errors.push(result.left.message)
    else if (result.right._tag === "Reserved") reserved++
    else rejected++
  }
  yield* Effect.sync(() => process.stdout.write(JSON.stringify({ reserved, rejected, errors }) + "\n"))
}).pipe(Effect.provide(Redis.layer({ url: env("REDIS_URL"), keyPrefix: env("KEY_PREFIX"), commandTimeoutMs: 10_000 })))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`budgetWorker: ${String(error)}\n`)
    process.exit(1)
  }
)
