/**
 * The cost and cache flags as concern layers of the client:
 *
 * - `--cache off|memory|file:DIR|redis://HOST:PORT` → `ResponseCache.layerMemory`,
 *   `ResponseCache.layerFile({ directory })` or `RedisCache.layer` over `Redis.layerFromUrl`
 *   (`@llm-fiber/redis`, imported only when a Redis URL is given);
 * - `--usage-log FILE` → a `Budget` (no limits) writing every call to `UsageLog.layerFile`.
 *
 * `--max-cost-usd` needs no layer: it is the request's `costCeilingUsd`, which every budget
 * (the default slot included) enforces before anything is sent.
 *
 * Every layer here is provided to the client's layer, which reads its concerns when it is
 * built — once per run, so a memory cache lives as long as the command (a `chat` session).
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import { Budget, ResponseCache, UsageLog } from "@llm-fiber/core"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Os from "node:os"
import * as Path from "node:path"

/** Where `--cache` keeps answers. */
export type CacheSpec =
  | { readonly _tag: "Off" }
  | { readonly _tag: "Memory" }
  | { readonly _tag: "File"; readonly directory: string }
  | { readonly _tag: "Redis"; readonly url: string }

/** What `--cache` accepts, for messages. */
export const cacheForms = "off, memory, file:DIR or redis://HOST:PORT"

/** `~/x` → the home directory's `x` (a shell does not expand `~` after `file:`). */
const expandHome = (path: string): string =>
  path === "~" ? Os.homedir() : path.startsWith("~/") ? Path.join(Os.homedir(), path.slice(2)) : path

/**
 * Parse a `--cache` value; the error is the message (it never quotes a Redis URL, which
 * may carry a password).
 */
export const parseCache = (raw: string): Either.Either<CacheSpec, string> => {
  const text = raw.trim()
  const lower = text.toLowerCase()
  if (lower === "off" || lower === "none") return Either.right({ _tag: "Off" })
  if (lower === "memory") return Either.right({ _tag: "Memory" })
  if (lower.startsWith("file:")) {
    const directory = text.slice("file:".length).replace(/^\/\/(?=\/)/, "")
    return directory.trim() === ""
      ? Either.left("--cache file: needs a directory, e.g. file:.llm-cache")
      : Either.right({ _tag: "File", directory: Path.resolve(expandHome(directory)) })
  }
  if (lower.startsWith("redis://") || lower.startsWith("rediss://")) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return Either.left("--cache: not a valid Redis URL (expected redis://HOST:PORT, redis://HOST:PORT/DB)")
    }
    if (url.hostname === "") return Either.left("--cache: the Redis URL has no host (expected redis://HOST:PORT)")
    const db = url.pathname.replace(/^\//, "")
    if (db !== "" && !/^\d+$/.test(db)) {
      return Either.left("--cache: the Redis URL's path must be a database number (redis://HOST:PORT/DB)")
    }
    return Either.right({ _tag: "Redis", url: text })
  }
  // a value with credentials in it is not echoed
  const shown = text.includes("@") ? "a value that is none of them" : `'${raw}'`
  return Either.left(`--cache expects ${cacheForms}, got ${shown}`)
}

/** An optional package the flag needs is not installed. */
export class MissingPackageError extends Data.TaggedError("MissingPackageError")<{ readonly message: string }> {}

/** Import an optional package, or fail saying which flag needs it. */
export const importOptional = <A>(
  name: string,
  flag: string,
  load: () => Promise<A>
): Effect.Effect<A, MissingPackageError> =>
  Effect.tryPromise({
    try: load,
    catch: (cause) =>
      new MissingPackageError({
        message: `${flag} needs the ${name} package (${
          cause instanceof Error ? cause.message.split("\n")[0] : String(cause)
        }); install it next to @llm-fiber/cli`
      })
  })

/** The cache layer of a `--cache` value (none for `off`). */
export const cacheLayer = (
  spec: CacheSpec
): Option.Option<Layer.Layer<ResponseCache.ResponseCache, unknown>> => {
  switch (spec._tag) {
    case "Off":
      return Option.none()
    case "Memory":
      return Option.some(ResponseCache.layerMemory())
    case "File":
      return Option.some(ResponseCache.layerFile({ directory: spec.directory }))
    case "Redis":
      return Option.some(Layer.unwrapEffect(
        Effect.map(
          importOptional("@llm-fiber/redis", "--cache redis://", () => import("@llm-fiber/redis")),
          ({ Redis, RedisCache }) => RedisCache.layer().pipe(Layer.provide(Redis.layerFromUrl(spec.url)))
        )
      ))
  }
}

/** The settings of this module, as parsed from the command line. */
export interface Settings {
  readonly cache: Option.Option<CacheSpec>
  readonly usageLog: Option.Option<string>
}

/**
 * The concern layers the flags ask for (empty when none): the cache, and the budget that
 * writes the usage log (it needs a `FileSystem`). What they provide are `Context.Reference`s
 * the client reads when its layer is built, hence the output type `never`.
 */
export const layer = (settings: Settings): Layer.Layer<never, unknown, FileSystem.FileSystem> => {
  const cache: Layer.Layer<never, unknown> = Option.getOrElse(
    Option.flatMap(settings.cache, cacheLayer),
    () => Layer.empty
  )
  const budget: Layer.Layer<never, unknown, FileSystem.FileSystem> = Option.match(settings.usageLog, {
    onNone: () => Layer.empty,
    onSome: (path) => Budget.layerMemory().pipe(Layer.provide(UsageLog.layerFile(path)))
  })
  return Layer.merge(cache, budget)
}
