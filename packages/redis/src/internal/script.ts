/**
 * Lua scripts run with EVALSHA, falling back to EVAL when the server does not have the
 * script cached yet (first use, a restart, SCRIPT FLUSH). The server caches it on EVAL, so
 * later calls send only the SHA1.
 *
 * Private to the package (`exports` hides `internal/*`).
 */
import type * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import type * as Redis from "../Redis.js"

export interface Script {
  readonly lua: string
  readonly sha: string
}

export const make = (lua: string): Script => ({ lua, sha: createHash("sha1").update(lua).digest("hex") })

const noScript = (error: unknown): boolean => error instanceof Error && error.message.startsWith("NOSCRIPT")

/**
 * Run `script` with `keys` (the connection's `keyPrefix` is added to them) and `args`.
 */
export const run = (
  connection: Redis.Connection,
  script: Script,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string>
): Effect.Effect<unknown, Redis.RedisError> =>
  connection.use((client) =>
    client.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: unknown) =>
      noScript(error) ? client.eval(script.lua, keys.length, ...keys, ...args) : Promise.reject(error)
    )
  )
