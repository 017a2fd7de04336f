/**
 * State shared by several processes through Redis (`@llm-fiber/redis`): one response cache,
 * one set of rate limits and one budget for every replica. Two clients, each with its own
 * Redis connection, stand for two processes here.
 *
 * Needs a Redis at LLM_FIBER_REDIS_URL (npm test starts one; without it the example says
 * so and exits). Run against the mock server: scripts/run-examples.mjs, or
 * LLM_FIBER_REDIS_URL=redis://127.0.0.1:6379 OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 npx tsx examples/redis.ts
 */
import { Budget, LlmClient } from "@llm-fiber/core"
import { Redis, RedisBudget, RedisCache, RedisRateLimiter } from "@llm-fiber/redis"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"
import { randomUUID } from "node:crypto"

const url = process.env.LLM_FIBER_REDIS_URL
if (url === undefined || url === "") {
  console.log("skipped: set LLM_FIBER_REDIS_URL to a Redis server (npm test starts one)")
  process.exit(0)
}

const model = process.env.LLM_FIBER_MODEL ?? "gpt-4o-mini"

// a fresh key prefix per run, so this example never meets other data (its keys all expire)
const connection = Redis.layerFromUrl(url, { keyPrefix: `llm-fiber-example:${randomUUID()}:` })

const Shared = Layer.mergeAll(
  // answers cached for 10 minutes, for every replica
  RedisCache.layer({ ttlMs: 10 * 60_000 }),
  // 3 requests per minute per model across all replicas; fail at once rather than wait
  RedisRateLimiter.layer({ rules: [{ scope: "model", rpm: 3 }], mode: "fail", account: "example-key" }),
  // at most $1 a day for all replicas together
  RedisBudget.layer({ limits: [{ scope: "client", window: "day", usd: 1 }] })
).pipe(Layer.provide(connection))

/** One process: a client (and its budget, for `Budget.usage`) over its own connection to the shared Redis. */
const replica = LlmClient.layerFromEnv().pipe(Layer.provideMerge(Shared))

const ask = (messages: string) => LlmClient.chat({ model, messages, maxTokens: 50, temperature: 0 })

const check = (condition: boolean, message: string) => condition ? Effect.void : Effect.dieMessage(message)

const program = Effect.gen(function*() {
  // 1. replica A asks; replica B asks the same and is answered from the shared cache
  const first = yield* Effect.provide(ask("In one sentence: why share a cache?"), replica)
  const second = yield* Effect.provide(ask("In one sentence: why share a cache?"), replica)
  yield* Console.log(`1. A: fromCache ${first.fromCache ?? false} · B: fromCache ${second.fromCache}`)
  yield* check(second.fromCache === true, "replica B should be served from the shared cache")

  // 2. the budget's counters are shared: B sees what A spent
  const [spent] = yield* Effect.provide(Budget.usage("client"), replica)
  yield* Console.log(
    `2. spent today (seen by B): $${spent?.usedUsd.toFixed(6)} of $${spent?.limitUsd} (${spent?.usedTokens} tokens)`
  )
  yield* check(spent !== undefined && spent.usedUsd > 0, "B should see A's spend")

  // 3. the rate limit is shared: A's call counts for B (a cache hit counts for nobody)
  yield* Effect.provide(ask("Name one Redis data type."), replica)
  yield* Effect.provide(ask("Name another Redis data type."), replica)
  const limited = yield* Effect.provide(ask("And a third one?"), replica).pipe(Effect.flip)
  yield* Console.log(
    `3. 4th provider call in a minute → ${limited._tag}${
      limited._tag === "RateLimitError" ? ` (${limited.source}, retry in ${limited.retryAfterMs} ms)` : ""
    }`
  )
  yield* check(limited._tag === "RateLimitError", "the shared limit of 3 requests per minute should hold")
})

Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.None))).catch((error) => {
  console.error(error)
  process.exit(1)
})
