/**
 * The Redis connection the other modules of `@llm-fiber/redis` share: one ioredis client
 * for the lifetime of a scope, configured so that an unreachable server makes every command
 * fail fast instead of hanging.
 *
 * **When to use**: provide `Redis.layer(...)` (or `Redis.layerFromUrl(url)`) below
 * `RedisCache`, `RedisRateLimiter` and `RedisBudget`; build it once at the edge of the
 * application, like any layer.
 *
 * **Details**
 * - The layer connects when it is built and fails with a `RedisError` when the server
 *   cannot be reached within `connectTimeoutMs` (set `lazyConnect: true` to start anyway
 *   and connect in the background). It quits the connection when its scope closes.
 * - Fail fast: no offline queue (a command sent while disconnected fails at once), no
 *   resending of commands after a reconnect (a Lua script is never run twice), and every
 *   command fails after `commandTimeoutMs` without a reply (a frozen server or a dead
 *   network path). The client reconnects in the background (back-off up to 2 s), so
 *   commands work again as soon as the server is back.
 * - Secrets: the password (from `password` or the URL) is never part of an error message,
 *   a log line or `target`; error causes are stripped to their message.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { RateLimiter } from "@llm-fiber/core"
 * import { Redis, RedisRateLimiter } from "@llm-fiber/redis"
 *
 * const SharedLimits = RateLimiter.layerDefault({ rules: [{ rpm: 500 }] }).pipe(
 *   Layer.provide(RedisRateLimiter.layerStore),
 *   Layer.provide(Redis.layerFromUrl("redis://127.0.0.1:6379"))
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { Redis as IORedis, type RedisOptions } from "ioredis"
import type { ConnectionOptions } from "node:tls"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Redis could not be reached, or a command failed. Its message names the server
 * (`redis://host:port/db`), never the password.
 *
 * @since 0.1.0
 * @category errors
 */
export class RedisError extends Data.TaggedError("RedisError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A connection: the ioredis client and a way to run commands on it as effects.
 *
 * @since 0.1.0
 * @category models
 */
export interface Connection {
  /** The client (its `keyPrefix`, if any, applies to every key of every command). */
  readonly client: IORedis
  /** The server as `redis://host:port/db` (`rediss://` with TLS), without credentials. */
  readonly target: string
  /**
   * Run commands; a rejection becomes a `RedisError` whose message says what failed
   * (and, while disconnected, the last connection error).
   */
  readonly use: <A>(f: (client: IORedis) => Promise<A>) => Effect.Effect<A, RedisError>
}

/**
 * The Redis connection in use.
 *
 * @since 0.1.0
 * @category tags
 */
export class Redis extends Context.Tag("@llm-fiber/redis/Redis")<Redis, Connection>() {}

/**
 * How to reach the server: a `url`, or `host` / `port` (default `127.0.0.1:6379`) and the
 * other fields. Fields given next to a `url` override its parts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `redis://[user[:password]@]host[:port][/db]`, or `rediss://…` for TLS. */
  readonly url?: string | Redacted.Redacted<string> | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly db?: number | undefined
  readonly username?: string | undefined
  readonly password?: string | Redacted.Redacted<string> | undefined
  /** TLS: `true` for defaults, or Node's TLS options (CA, client certificate…). */
  readonly tls?: boolean | ConnectionOptions | undefined
  /** Prefix of every key this connection touches (e.g. `"myapp:"`); default none. */
  readonly keyPrefix?: string | undefined
  /** How long to wait for the TCP/TLS connection, and when building the layer for the server to be ready (default 5,000). */
  readonly connectTimeoutMs?: number | undefined
  /** A command without a reply after this long fails (default 1,000). */
  readonly commandTimeoutMs?: number | undefined
  /** Do not wait for (nor fail on) the first connection when the layer is built (default false). */
  readonly lazyConnect?: boolean | undefined
  /**
   * More ioredis options (e.g. `connectionName`, `keepAlive`). The fail-fast settings
   * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`,
   * `autoResendUnfulfilledCommands: false`) always apply.
   */
  readonly ioredis?: Omit<RedisOptions, "enableOfflineQueue" | "maxRetriesPerRequest" | "autoResendUnfulfilledCommands">
}

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

interface Resolved {
  readonly options: RedisOptions
  readonly target: string
  readonly password: string | undefined
}

const invalidUrl = "the Redis URL is not valid (expected redis://[user[:password]@]host[:port][/db] or rediss://…)"

const resolve = (options: Options): Resolved | string => {
  let host = "127.0.0.1"
  let port = 6379
  let db = 0
  let username: string | undefined
  let password: string | undefined
  let tls: ConnectionOptions | undefined
  if (options.url !== undefined) {
    const raw = Redacted.isRedacted(options.url) ? Redacted.value(options.url) : options.url
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return invalidUrl
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") return invalidUrl
    if (url.hostname !== "") host = url.hostname.replace(/^\[(.*)\]$/, "$1")
    if (url.port !== "") port = Number(url.port)
    const path = url.pathname.replace(/^\//, "")
    if (path !== "") {
      db = Number(path)
      if (!Number.isInteger(db) || db < 0) return invalidUrl
    }
    if (url.username !== "") username = decodeURIComponent(url.username)
    if (url.password !== "") password = decodeURIComponent(url.password)
    if (url.protocol === "rediss:") tls = { servername: host }
  }
  if (options.host !== undefined) host = options.host
  if (options.port !== undefined) port = options.port
  if (options.db !== undefined) db = options.db
  if (options.username !== undefined) username = options.username
  if (options.password !== undefined) {
    password = Redacted.isRedacted(options.password) ? Redacted.value(options.password) : options.password
  }
  if (options.tls !== undefined) {
    tls = options.tls === false ? undefined : options.tls === true ? { servername: host } : options.tls
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return `the Redis port must be 1-65535 (got ${port})`
  if (!Number.isInteger(db) || db < 0) return `the Redis database must be a non-negative integer (got ${db})`
  const connectTimeout = options.connectTimeoutMs ?? 5_000
  const commandTimeout = options.commandTimeoutMs ?? 1_000
  if (!(connectTimeout > 0)) return "connectTimeoutMs must be > 0"
  if (!(commandTimeout > 0)) return "commandTimeoutMs must be > 0"
  const display = host.includes(":") ? `[${host}]` : host
  return {
    target: `${tls !== undefined ? "rediss" : "redis"}://${display}:${port}/${db}`,
    password,
    options: {
      ...options.ioredis,
      host,
      port,
      db,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(tls !== undefined ? { tls } : {}),
      ...(options.keyPrefix !== undefined && options.keyPrefix !== "" ? { keyPrefix: options.keyPrefix } : {}),
      connectTimeout,
      commandTimeout,
      lazyConnect: true,
      // fail fast: nothing waits for a connection that may never come back
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: options.ioredis?.retryStrategy ??
        ((times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000))
    }
  }
}

const offline = /enableOfflineQueue|^Connection is closed/

/** An error's message with the password (and its URL-encoded form) masked. */
const scrubber = (password: string | undefined) => (text: string): string => {
  if (password === undefined || password.length < 3) return text
  let out = text.split(password).join("<redacted>")
  const encoded = encodeURIComponent(password)
  if (encoded !== password) out = out.split(encoded).join("<redacted>")
  return out
}

/** A cause stripped to its name, message and code: ioredis errors carry command arguments (keys, cached values). */
const safeCause = (cause: unknown, scrub: (text: string) => string): Error => {
  if (cause instanceof Error) {
    const error = new Error(scrub(cause.message))
    error.name = cause.name
    const code = (cause as { readonly code?: unknown }).code
    if (typeof code === "string") Object.assign(error, { code })
    return error
  }
  return new Error(scrub(String(cause)))
}

/**
 * A connection for the lifetime of the scope (quit when it closes).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Connection, RedisError, Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = resolve(options)
    if (typeof resolved === "string") return yield* Effect.fail(new RedisError({ message: resolved }))
    const { target } = resolved
    const scrub = scrubber(resolved.password)
    const runtime = yield* Effect.runtime<never>()
    const log = (effect: Effect.Effect<void>) =>
      Runtime.runFork(runtime)(Effect.annotateLogs(effect, { "redis.target": target }))

    let lastError: string | undefined
    let wasReady = false
    let reportedDown = false
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const client = new IORedis(resolved.options)
        client.on("error", (error: unknown) => {
          lastError = scrub(error instanceof Error ? error.message : String(error))
          if (wasReady && !reportedDown) {
            reportedDown = true
            log(Effect.logWarning(`Redis: connection to ${target} lost (${lastError}); reconnecting`))
          }
        })
        client.on("ready", () => {
          if (reportedDown) log(Effect.logInfo(`Redis: reconnected to ${target}`))
          wasReady = true
          reportedDown = false
          lastError = undefined
        })
        return client
      }),
      (client) =>
        Effect.gen(function*() {
          // finalizers are uninterruptible: bound the waits with timers, not interruption
          const boundMs = resolved.options.commandTimeout ?? 1_000
          const open = client.status === "ready" || client.status === "connect" || client.status === "connecting"
          const ended = new Promise<void>((resolve) => {
            if (!open) return resolve()
            const timer = setTimeout(resolve, boundMs)
            client.once("end", () => {
              clearTimeout(timer)
              resolve()
            })
          })
          if (client.status === "ready") {
            // QUIT has the command timeout: it cannot hang on a frozen server
            yield* Effect.promise(() => client.quit().catch(() => undefined))
          }
          client.disconnect()
          yield* Effect.promise(() => ended)
        })
    )

    const describe = (cause: unknown): string => {
      const message = scrub(cause instanceof Error ? cause.message : String(cause))
      if (client.status === "ready") return `Redis ${target}: ${message}`
      const state = `${client.status}${lastError !== undefined ? `; last error: ${lastError}` : ""}`
      // ioredis's own words for "not connected" add nothing to the state
      return offline.test(message)
        ? `Redis ${target} is unavailable (${state})`
        : `Redis ${target} is unavailable (${state}): ${message}`
    }

    const use = <A>(f: (client: IORedis) => Promise<A>): Effect.Effect<A, RedisError> =>
      Effect.tryPromise({
        try: () => f(client),
        catch: (cause) => new RedisError({ message: describe(cause), cause: safeCause(cause, scrub) })
      })

    if (options.lazyConnect !== true) {
      const connectTimeoutMs = resolved.options.connectTimeout ?? 5_000
      yield* Effect.tryPromise({
        try: () => client.connect(),
        catch: (cause) =>
          new RedisError({
            message: `Redis: cannot connect to ${target}: ${lastError ?? scrub(String(cause))}`,
            cause: safeCause(cause, scrub)
          })
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(connectTimeoutMs + (resolved.options.commandTimeout ?? 1_000)),
          onTimeout: () => new RedisError({ message: `Redis: ${target} was not ready within ${connectTimeoutMs} ms` })
        }),
        Effect.tapError(() => Effect.sync(() => client.disconnect()))
      )
    } else {
      client.connect().catch(() => undefined)
    }
    return { client, target, use }
  })

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * A connection as a layer (connected when built, quit when released).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Redis, RedisError> => Layer.scoped(Redis, make(options))

/**
 * A connection to `url` (`redis://[user[:password]@]host[:port][/db]`, `rediss://` for TLS).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromUrl = (
  url: string | Redacted.Redacted<string>,
  options: Omit<Options, "url"> = {}
): Layer.Layer<Redis, RedisError> => layer({ ...options, url })

/**
 * A connection whose options come from `Config`, e.g.
 * `Redis.layerConfig(Config.map(Config.redacted("REDIS_URL"), (url) => ({ url })))`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Options>
): Layer.Layer<Redis, RedisError | ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(config, layer))
