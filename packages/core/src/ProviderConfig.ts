/**
 * Small helpers every provider package needs to read its settings: base URLs, API keys
 * (kept `Redacted`), optional `Config` values.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * A URL without its trailing slashes (`https://api.openai.com/v1/` → `…/v1`).
 *
 * @since 0.1.0
 * @category utils
 */
export const trimSlash = (url: string): string => {
  let end = url.length
  while (end > 0 && url.charCodeAt(end - 1) === 47 /* / */) end--
  return end === url.length ? url : url.slice(0, end)
}

/**
 * The value when it is a string with something other than spaces in it.
 *
 * @since 0.1.0
 * @category utils
 */
export const nonEmptyString = (u: unknown): string | undefined =>
  typeof u === "string" && u.trim() !== "" ? u : undefined

/**
 * An API key as a `Redacted`, or `undefined` when none (or a blank one) was given.
 *
 * @since 0.1.0
 * @category utils
 */
export const redactedKey = (key: Redacted.Redacted | string | undefined): Redacted.Redacted | undefined => {
  if (key === undefined) return undefined
  if (typeof key === "string") return key.trim() === "" ? undefined : Redacted.make(key)
  return Redacted.value(key).trim() === "" ? undefined : key
}

/**
 * A `Config` that yields `undefined` when the value is missing.
 *
 * @since 0.1.0
 * @category utils
 */
export const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.map(Config.option(config), Option.getOrUndefined)
