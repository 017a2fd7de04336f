import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Redis } from "@llm-fiber/redis"
import { Cause, Config, ConfigProvider, Effect, Exit, Layer, Redacted } from "effect"
import { freePort, type RedisServer, startRedisServer } from "../../../test-support/redis.js"
import * as Helpers from "./helpers.js"

const secret = "s3cret-Pa55word"

describe("Redis: the connection", () => {
  it.scoped("connects, runs commands, and applies keyPrefix to every key", () =>
    Effect.gen(function*() {
      const { connection, prefix } = yield* Helpers.make()
      expect(yield* connection.use((client) => client.ping())).toBe("PONG")
      yield* connection.use((client) => client.set("k", "v"))
      const raw = yield* Helpers.raw()
      expect(yield* Effect.promise(() => raw.get(`${prefix}k`))).toBe("v")
      expect(connection.target).toMatch(/^redis:\/\/.+:\d+\/0$/)
    }))

  it.scoped("db selects the database; target names it", () =>
    Effect.gen(function*() {
      const { connection, prefix } = yield* Helpers.make({ db: 3 })
      expect(connection.target.endsWith("/3")).toBe(true)
      yield* connection.use((client) => client.set("in-db-3", "x"))
      const raw = yield* Helpers.raw()
      expect(yield* Effect.promise(() => raw.exists(`${prefix}in-db-3`))).toBe(0)
      yield* Effect.promise(() => raw.select(3))
      expect(yield* Effect.promise(() => raw.exists(`${prefix}in-db-3`))).toBe(1)
    }))

  it.scoped("a failing command is a RedisError naming the server", () =>
    Effect.gen(function*() {
      const { connection } = yield* Helpers.make()
      const error = yield* Effect.flip(connection.use((client) => client.call("NO-SUCH-COMMAND")))
      expect(error._tag).toBe("RedisError")
      expect(error.message).toContain(connection.target)
      expect(error.message).toContain("unknown command")
    }))

  it.scoped("the connection is closed when the scope closes", () =>
    Effect.gen(function*() {
      const connection = yield* Effect.scoped(Redis.make({ url: Helpers.redisUrl }))
      expect(connection.client.status).toBe("end")
      const error = yield* Effect.flip(connection.use((client) => client.ping()))
      expect(error._tag).toBe("RedisError")
    }))

  it.live("no server: building the layer fails with a RedisError, without the password", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePort())
      const started = Date.now()
      const exit = yield* Effect.exit(
        Layer.build(Redis.layerFromUrl(`redis://user:${secret}@127.0.0.1:${port}/0`, { connectTimeoutMs: 2_000 }))
          .pipe(Effect.scoped)
      )
      expect(Helpers.elapsedSince(started)).toBeLessThan(10_000) // does not hang
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      expect(error).toBeInstanceOf(Redis.RedisError)
      expect(String((error as Redis.RedisError).message)).toContain(`redis://127.0.0.1:${port}/0`)
      expect(JSON.stringify(error)).not.toContain(secret)
      expect(String(error)).not.toContain(secret)
      expect(Cause.pretty(Exit.isFailure(exit) ? exit.cause : Cause.empty)).not.toContain(secret)
    }))

  it.live("lazyConnect: the layer builds without a server; commands fail fast until there is one", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePort())
      const connection = yield* Redis.make({ url: `redis://127.0.0.1:${port}`, lazyConnect: true })
      const started = Date.now()
      const error = yield* Effect.flip(connection.use((client) => client.get("k")))
      expect(Helpers.elapsedSince(started)).toBeLessThan(5_000)
      expect(error.message).toContain("unavailable")
    }).pipe(Effect.scoped))

  it.effect("an invalid URL fails without echoing it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(Redis.layerFromUrl(`http://x:${secret}@host`)).pipe(Effect.scoped))
      expect(error._tag).toBe("RedisError")
      expect(error.message).toContain("not valid")
      expect(error.message).not.toContain(secret)
      const garbage = yield* Effect.flip(
        Layer.build(Redis.layerFromUrl(`redis://:${secret}@host:99999`)).pipe(Effect.scoped)
      )
      expect(garbage.message).not.toContain(secret)
    }))

  it.scoped("layerConfig reads its options from Config (the URL stays Redacted)", () =>
    Effect.gen(function*() {
      const layer = Redis.layerConfig(Config.map(Config.redacted("REDIS_URL"), (url) => ({ url })))
      const target = yield* Effect.map(Redis.Redis, (connection) => connection.target).pipe(
        Effect.provide(layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["REDIS_URL", Helpers.redisUrl]])))
      )
      expect(target).toMatch(/^redis:\/\//)
    }))
})

describe("Redis: a server with a password", () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedisServer({ args: ["--requirepass", secret], password: secret })
  })
  afterAll(async () => {
    await server?.stop()
  })

  it.scoped("the password from the URL (or a Redacted option) authenticates", () =>
    Effect.gen(function*() {
      const fromUrl = yield* Redis.make({ url: `redis://:${encodeURIComponent(secret)}@127.0.0.1:${server.port}` })
      expect(yield* fromUrl.use((client) => client.ping())).toBe("PONG")
      expect(fromUrl.target).not.toContain(secret)
      const fromOption = yield* Redis.make({ port: server.port, password: Redacted.make(secret) })
      expect(yield* fromOption.use((client) => client.ping())).toBe("PONG")
    }))

  it.live("a wrong or missing password fails with a RedisError that shows no password", () =>
    Effect.gen(function*() {
      const wrong = "wrong-Pa55word"
      const error = yield* Effect.flip(
        Layer.build(Redis.layerFromUrl(`redis://default:${wrong}@127.0.0.1:${server.port}`)).pipe(Effect.scoped)
      )
      expect(error._tag).toBe("RedisError")
      expect(JSON.stringify(error)).not.toContain(wrong)
      expect(error.message).not.toContain(wrong)
      expect(error.message).not.toContain(secret)
      const missing = yield* Redis.make({ port: server.port }).pipe(
        Effect.flatMap((connection) => connection.use((client) => client.ping())),
        Effect.scoped,
        Effect.flip
      )
      expect(missing.message).toMatch(/NOAUTH|Authentication required/i)
    }))
})
