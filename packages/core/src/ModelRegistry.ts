/**
 * Which provider serves a model name.
 *
 * Resolution order: an explicit `provider` on the request; then `provider:model` (when the
 * part before the first `:` is a provider name — `ollama:llama3.2:1b` works); then exact
 * names; then aliases; then prefix rules (`gpt-`, `o1`, `o3`, `o4`, `chatgpt-`, `ft:` → openai,
 * `claude-` → anthropic, `gemini-` → gemini); then the `defaultProvider` if one is set.
 * Anything else is an `UnknownModelError` with the closest known names — and so is a name
 * that is one letter typo away from a known one (`gpt-4o-mnii`), before any prefix rule
 * sends it to a provider that would answer 404 (write `openai:gpt-4o-mnii` to send it anyway).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ModelRegistry } from "@llm-fiber/core"
 *
 * // route "fast" to a local model, and unknown names to Ollama
 * const Registry = ModelRegistry.layer({
 *   aliases: { fast: "ollama:llama3.2" },
 *   defaultProvider: "ollama"
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { UnknownModelError } from "./LlmError.js"

/**
 * A resolved model: the provider name and the model name that provider understands.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved {
  readonly provider: string
  readonly model: string
}

/**
 * A prefix rule: model names starting with `prefix` go to `provider`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PrefixRule {
  readonly prefix: string
  readonly provider: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Exact model names and their provider. */
  readonly models?: Readonly<Record<string, string>> | undefined
  /** Alias → target (`"fast"` → `"ollama:llama3.2"` or a model name). */
  readonly aliases?: Readonly<Record<string, string>> | undefined
  /** Extra prefix rules, checked before the built-in ones (longest prefix wins). */
  readonly rules?: ReadonlyArray<PrefixRule> | undefined
  /** Where names that match nothing go (off by default). */
  readonly defaultProvider?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Resolve a model name, given the names of the registered providers (used for
   * `provider:model` and for the error message when the provider is not configured).
   */
  readonly resolve: (
    model: string,
    options: { readonly provider?: string | undefined; readonly registered: ReadonlyArray<string> }
  ) => Either.Either<Resolved, UnknownModelError>
  /** Every exact name and alias known to the registry (for listings and suggestions). */
  readonly knownNames: () => ReadonlyArray<string>
}

/**
 * The provider names the registry knows even before they are registered.
 *
 * @since 0.1.0
 * @category models
 */
export const knownProviders: ReadonlyArray<string> = ["openai", "openai-responses", "anthropic", "gemini", "ollama"]

/**
 * The built-in prefix rules.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultRules: ReadonlyArray<PrefixRule> = [
  { prefix: "gpt-", provider: "openai" },
  { prefix: "o1", provider: "openai" },
  { prefix: "o3", provider: "openai" },
  { prefix: "o4", provider: "openai" },
  { prefix: "chatgpt-", provider: "openai" },
  { prefix: "ft:", provider: "openai" },
  { prefix: "text-embedding-", provider: "openai" },
  { prefix: "claude-", provider: "anthropic" },
  { prefix: "gemini-", provider: "gemini" }
]

/**
 * Exact names known out of the box (used for suggestions).
 *
 * @since 0.1.0
 * @category models
 */
export const defaultModels: Readonly<Record<string, string>> = {
  "gpt-4o": "openai",
  "gpt-4o-mini": "openai",
  "gpt-4.1": "openai",
  "gpt-4.1-mini": "openai",
  "gpt-4.1-nano": "openai",
  "gpt-5": "openai",
  "gpt-5-mini": "openai",
  "gpt-5-nano": "openai",
  "o3": "openai",
  "o3-mini": "openai",
  "o4-mini": "openai",
  "text-embedding-3-small": "openai",
  "text-embedding-3-large": "openai",
  "claude-sonnet-4-5": "anthropic",
  "claude-haiku-4-5": "anthropic",
  "claude-opus-4-1": "anthropic",
  "gemini-2.5-pro": "gemini",
  "gemini-2.5-flash": "gemini",
  "gemini-2.5-flash-lite": "gemini"
}

/** Levenshtein distance, bounded work for short model names. */
const distance = (a: string, b: string): number => {
  if (a === b) return 0
  const prev = new Array<number>(b.length + 1)
  for (let j = 0; j <= b.length; j++) prev[j] = j
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!
    prev[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return prev[b.length]!
}

const isLetter = (c: string | undefined) => c !== undefined && c >= "a" && c <= "z"

/**
 * Is `typed` a likely typo of `known`: the same length, and either two adjacent letters
 * swapped (`gpt-4o-mnii`) or one letter replaced by another (`gpt-4o-mimi`)? Digits never
 * count (`gpt-6`, `o5-mini` are new models, not typos), nor do insertions and deletions
 * (`gpt-4` is a model of its own, not a typo of `gpt-4o`).
 *
 * @since 0.1.0
 * @category utils
 */
export const isTypoOf = (typed: string, known: string): boolean => {
  if (typed.length !== known.length || typed === known) return false
  const diffs: Array<number> = []
  for (let i = 0; i < typed.length; i++) {
    if (typed[i] !== known[i]) {
      diffs.push(i)
      if (diffs.length > 2) return false
    }
  }
  const [i, j] = diffs
  if (i === undefined) return false
  if (j === undefined) return isLetter(typed[i]) && isLetter(known[i])
  return j === i + 1 && typed[i] === known[j] && typed[j] === known[i] && isLetter(typed[i]) && isLetter(typed[j])
}

/**
 * The closest names to `model`, best first (at most `limit`).
 *
 * @since 0.1.0
 * @category utils
 */
export const closest = (model: string, names: Iterable<string>, limit = 3): Array<string> => {
  const target = model.toLowerCase()
  const scored: Array<[string, number]> = []
  for (const name of names) {
    const lower = name.toLowerCase()
    const d = distance(target, lower)
    const contains = lower.includes(target) || target.includes(lower)
    if (d <= Math.max(3, Math.floor(name.length / 3)) || contains) scored.push([name, contains ? d - 2 : d])
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))
  return scored.slice(0, limit).map((x) => x[0])
}

/**
 * Build a registry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Service => {
  const models = new Map(Object.entries({ ...defaultModels, ...options.models }))
  const aliases = new Map(Object.entries(options.aliases ?? {}))
  const rules = [...(options.rules ?? []), ...defaultRules].sort((a, b) => b.prefix.length - a.prefix.length)
  // a name can be both exact and an alias: list it once
  const knownList: ReadonlyArray<string> = [...new Set([...models.keys(), ...aliases.keys()])]
  const known = () => knownList

  const notConfigured = (model: string, provider: string, registered: ReadonlyArray<string>) =>
    new UnknownModelError({
      message: `model "${model}" is served by provider "${provider}", which is not configured${
        hint(provider)
      } (configured: ${registered.length === 0 ? "none" : registered.join(", ")})`,
      model,
      provider,
      suggestions: []
    }, true)

  const check = (resolved: Resolved, original: string, registered: ReadonlyArray<string>) =>
    registered.includes(resolved.provider)
      ? Either.right(resolved)
      : Either.left(notConfigured(original, resolved.provider, registered))

  const resolve = (
    model: string,
    provider: string | undefined,
    registered: ReadonlyArray<string>,
    via: ReadonlyArray<string>
  ): Either.Either<Resolved, UnknownModelError> => {
    if (provider !== undefined) {
      // `{ provider: "ollama", model: "ollama:llama3.2" }` means the model "llama3.2"
      const bare = model.startsWith(`${provider}:`) ? model.slice(provider.length + 1) : model
      return check({ provider, model: bare }, model, registered)
    }
    const colon = model.indexOf(":")
    if (colon > 0) {
      const prefix = model.slice(0, colon)
      if (registered.includes(prefix) || knownProviders.includes(prefix)) {
        return check({ provider: prefix, model: model.slice(colon + 1) }, model, registered)
      }
    }
    const exact = models.get(model)
    if (exact !== undefined) return check({ provider: exact, model }, model, registered)
    const alias = aliases.get(model)
    if (alias !== undefined && alias !== model) {
      if (via.includes(alias)) {
        return Either.left(
          new UnknownModelError({
            message: `the alias "${via[0]}" is circular (${[...via, alias].map((a) => `"${a}"`).join(" → ")})`,
            model: via[0] ?? model,
            suggestions: []
          }, true)
        )
      }
      return resolve(alias, undefined, registered, [...via, alias])
    }
    const typoOf = knownList.filter((name) => isTypoOf(model, name))
    if (typoOf.length > 0) {
      const target = rules.find((rule) => model.startsWith(rule.prefix))?.provider ?? options.defaultProvider ??
        "provider"
      return Either.left(
        new UnknownModelError({
          message: `unknown model "${model}"; did you mean ${
            typoOf.map((s) => `"${s}"`).join(", ")
          }? (write "${target}:${model}" to send this name as it is)`,
          model,
          suggestions: typoOf
        }, true)
      )
    }
    for (const rule of rules) {
      if (model.startsWith(rule.prefix)) return check({ provider: rule.provider, model }, model, registered)
    }
    if (options.defaultProvider !== undefined) {
      return check({ provider: options.defaultProvider, model }, model, registered)
    }
    const suggestions = closest(model, known())
    return Either.left(
      new UnknownModelError({
        message: `unknown model "${model}"${
          suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?` : ""
        } (use "provider:model" for a model the registry does not know, e.g. "ollama:${model}")`,
        model,
        suggestions
      }, true)
    )
  }
  return {
    resolve: (model, { provider, registered }) => resolve(model, provider, registered, [model]),
    knownNames: known
  }
}

const hint = (provider: string): string => {
  switch (provider) {
    case "openai":
    case "openai-responses":
      return ": set OPENAI_API_KEY"
    case "anthropic":
      return ": set ANTHROPIC_API_KEY"
    case "gemini":
      return ": set GEMINI_API_KEY"
    case "ollama":
      return ": set OLLAMA_BASE_URL"
    default:
      return ""
  }
}

/**
 * The model registry in use (the built-in rules unless a layer provides another).
 *
 * @since 0.1.0
 * @category tags
 */
export class ModelRegistry extends Context.Reference<ModelRegistry>()("@llm-fiber/core/ModelRegistry", {
  defaultValue: () => make()
}) {}

/**
 * A registry with your own names, aliases, rules and default provider on top of the
 * built-in ones.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<ModelRegistry> => Layer.succeed(ModelRegistry, make(options))
