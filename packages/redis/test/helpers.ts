/**
 * Shared pieces of the redis tests: the suite's server URL (from globalSetup), a connection
 * layer with a fresh key prefix per test (its keys are deleted when the test ends), and a
 * plain ioredis client to look at what the adapters wrote.
 */
import { Redis } from "@llm-fiber/redis"
import { Effect, Layer } from "effect"
import { Redis as IORedis } from "ioredis"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"

/** The Redis the suite runs against. */
export const redisUrl: string = inject("redisUrl")

/** A key prefix no other test uses. */
export const freshPrefix = (): string => `llm-fiber-test:${randomUUID()}:`

/** Delete every key under `prefix` (the connection adds its own `keyPrefix` to keys, so strip it first). */
const cleanup = (connection: Redis.Connection, prefix: string) =>
  connection.use(async (client) => {
    let cursor = "0"
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
      cursor = next
      if (keys.length > 0) await client.del(...keys.map((key) => key.slice(prefix.length)))
    } while (cursor !== "0")
  }).pipe(Effect.ignore)

/** A connection to the suite's server with a fresh `keyPrefix`, cleaned up when its scope closes. */
export const make = (options: Omit<Redis.Options, "url" | "keyPrefix"> = {}) =>
  Effect.gen(function*() {
    const prefix = freshPrefix()
    const connection = yield* Redis.make({ url: redisUrl, keyPrefix: prefix, ...options })
    yield* Effect.addFinalizer(() => cleanup(connection, prefix))
    return { connection, prefix }
  })

/** `make` as a layer. */
export const layer = (
  options: Omit<Redis.Options, "url" | "keyPrefix"> = {}
): Layer.Layer<Redis.Redis, Redis.RedisError> =>
  Layer.scoped(Redis.Redis, Effect.map(make(options), ({ connection }) => connection))

/** A plain client without a key prefix, closed with the scope. */
export const raw = (url: string = redisUrl) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0 })
      await client.connect()
      return client
    }),
    (client) => Effect.sync(() => client.disconnect())
  )

/** Milliseconds since `start` (for "does not hang" bounds only, never for speed). */
export const elapsedSince = (start: number): number => Date.now() - start
