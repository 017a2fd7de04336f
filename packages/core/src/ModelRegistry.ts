/**
 * Which provider serves a model name.
 *
 * Resolution order:
 * 1. an explicit `provider` on the request;
 * 2. `provider:model`, when the part before the first `:` is a provider name
 *    (`ollama:llama3.2:1b` works);
 * 3. your exact names (`models`) — final, nothing competes with them;
 * 4. built-in exact names (every model of the built-in `Catalog`, and its aliases);
 * 5. aliases (`fast` → `ollama:llama3.2`), resolved again from the top;
 * 6. a likely typo of a known name (`gpt-4o-mnii`) is an `UnknownModelError` suggesting it;
 * 7. rules: your prefix/pattern rules, then the built-in ones (`gpt-`, `/^o\d/`, `chatgpt-`,
 *    `text-embedding-`, `ft:` → openai, `claude-` → anthropic, `gemini-`, `gemma-` → gemini);
 * 8. provider claims: a provider declared in `providers` with the `models` / `prefixes` /
 *    `patterns` it serves (an OpenAI-compatible gateway serving `gpt-`);
 * 9. the `defaultProvider`, if one is set.
 *
 * Steps 4, 7 and 8 give candidates rather than an answer: the home provider of the name
 * (built-in name or rule) plus every provider whose claims match it. Only registered
 * candidates count; one left is the answer; several are decided by `preferences`, and with
 * no preference between them the result is an ambiguity (`UnknownModelError` with
 * `candidates`). None registered: an `UnknownModelError` naming the variable to set.
 *
 * @example
 * ```ts
 * import { ModelRegistry } from "@llm-fiber/core"
 *
 * const Registry = ModelRegistry.layer({
 *   aliases: { fast: "ollama:llama3.2" },
 *   // an OpenAI-compatible gateway registered as "openrouter" also serves gpt-*
 *   providers: { openrouter: { prefixes: ["gpt-"] } },
 *   // when both are configured, prefer OpenAI itself
 *   preferences: ["openai", "openrouter"]
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as CatalogData from "./internal/catalogData.js"
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
 * A pattern rule: model names matching `pattern` go to `provider`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PatternRule {
  readonly pattern: RegExp
  readonly provider: string
}

/**
 * @since 0.1.0
 * @category models
 */
export type Rule = PrefixRule | PatternRule

/**
 * The models a provider declares it serves, on top of the built-in knowledge (a gateway,
 * a self-hosted server). A claim only matters when that provider is registered.
 *
 * @since 0.1.0
 * @category models
 */
export interface Claims {
  /** Exact model names. */
  readonly models?: ReadonlyArray<string> | undefined
  /** Name prefixes (`"gpt-"`, `"llama"`). */
  readonly prefixes?: ReadonlyArray<string> | undefined
  /** Name patterns (`/^qwen\d/`). */
  readonly patterns?: ReadonlyArray<RegExp> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Exact model names and their provider (final: no claim or preference overrides them). */
  readonly models?: Readonly<Record<string, string>> | undefined
  /** Alias → target (`"fast"` → `"ollama:llama3.2"` or a model name). */
  readonly aliases?: Readonly<Record<string, string>> | undefined
  /** Extra prefix or pattern rules, checked before the built-in ones (longest prefix first, then patterns). */
  readonly rules?: ReadonlyArray<Rule> | undefined
  /** Providers and the models they (also) serve. */
  readonly providers?: Readonly<Record<string, Claims>> | undefined
  /** Which provider wins when several registered providers can serve a model, best first. */
  readonly preferences?: ReadonlyArray<string> | undefined
  /** Where names that match nothing go (off by default). */
  readonly defaultProvider?: string | undefined
  /** More names to suggest and to check typos against (e.g. your catalog's model ids); no routing. */
  readonly knownModels?: Iterable<string> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Resolve a model name, given the names of the registered providers (used for
   * `provider:model`, claims and preferences, and for the error message when the provider
   * is not configured).
   */
  readonly resolve: (
    model: string,
    options: { readonly provider?: string | undefined; readonly registered: ReadonlyArray<string> }
  ) => Either.Either<Resolved, UnknownModelError>
  /** Every exact name, alias and known model (for listings and suggestions). */
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
 * The built-in rules.
 *
 * `gemma-` goes to Gemini: hyphenated `gemma-3-27b-it` is the Gemini API's spelling (Ollama
 * writes `gemma3:4b`, which no rule matches — write `ollama:gemma3:4b`).
 *
 * @since 0.1.0
 * @category models
 */
export const defaultRules: ReadonlyArray<Rule> = [
  { prefix: "gpt-", provider: "openai" },
  { prefix: "chatgpt-", provider: "openai" },
  { prefix: "ft:", provider: "openai" },
  { prefix: "text-embedding-", provider: "openai" },
  { prefix: "claude-", provider: "anthropic" },
  { prefix: "gemini-", provider: "gemini" },
  { prefix: "gemma-", provider: "gemini" },
  // o1, o3, o4-mini, and later o-series models
  { pattern: /^o\d/, provider: "openai" }
]

/**
 * Exact names known out of the box: every model of the built-in catalog and its aliases,
 * plus Gemini's older embedding model (whose name would otherwise match OpenAI's
 * `text-embedding-` rule).
 *
 * @since 0.1.0
 * @category models
 */
export const defaultModels: Readonly<Record<string, string>> = (() => {
  const out: Record<string, string> = {}
  for (const row of CatalogData.rows) {
    out[row.model] = row.provider
    if ("aliases" in row) { for (const alias of row.aliases) out[alias] = row.provider }
  }
  out["text-embedding-004"] = "gemini"
  return out
})()

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

/** A rule with a fresh, stateless RegExp (a `g` or `y` flag would make `test` stateful). */
const compileRule = (rule: Rule): (model: string) => boolean => {
  if ("prefix" in rule) return (model) => model.startsWith(rule.prefix)
  const pattern = new RegExp(rule.pattern.source, rule.pattern.flags.replace(/[gy]/g, ""))
  return (model) => pattern.test(model)
}

/** Prefix rules longest first (stable: earlier wins a tie), then pattern rules in order. */
const orderRules = (rules: ReadonlyArray<Rule>): Array<Rule> => [
  ...rules.filter((r): r is PrefixRule => "prefix" in r).sort((a, b) => b.prefix.length - a.prefix.length),
  ...rules.filter((r): r is PatternRule => "pattern" in r)
]

const quoted = (names: ReadonlyArray<string>, join = ", ") => names.map((n) => `"${n}"`).join(join)

/**
 * Build a registry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Service => {
  const userModels = new Map(Object.entries(options.models ?? {}))
  const builtIn = new Map(Object.entries(defaultModels))
  const aliases = new Map(Object.entries(options.aliases ?? {}))
  const rules = [...orderRules(options.rules ?? []), ...orderRules(defaultRules)].map((rule) => ({
    provider: rule.provider,
    matches: compileRule(rule)
  }))
  const claims = Object.entries(options.providers ?? {}).map(([provider, c]) => {
    const exact = new Set(c.models ?? [])
    const matchers = [
      ...(c.prefixes ?? []).map((prefix) => compileRule({ prefix, provider })),
      ...(c.patterns ?? []).map((pattern) => compileRule({ pattern, provider }))
    ]
    return { provider, exact, matches: (model: string) => matchers.some((m) => m(model)) }
  })
  const declared = new Set([...knownProviders, ...claims.map((c) => c.provider)])
  const preferences = options.preferences ?? []
  // a name can be both exact and an alias: list it once
  const knownList: ReadonlyArray<string> = [
    ...new Set([
      ...userModels.keys(),
      ...builtIn.keys(),
      ...aliases.keys(),
      ...claims.flatMap((c) => [...c.exact]),
      ...(options.knownModels ?? [])
    ])
  ]

  const ruleFor = (model: string) => rules.find((rule) => rule.matches(model))?.provider
  const claimedExactly = (model: string) => claims.some((c) => c.exact.has(model))
  const claimants = (model: string) =>
    claims.filter((c) => c.exact.has(model) || c.matches(model)).map((c) => c.provider)

  const notConfigured = (model: string, candidates: ReadonlyArray<string>, registered: ReadonlyArray<string>) => {
    const [provider = "provider", ...others] = candidates
    return new UnknownModelError({
      message: `model "${model}" is served by provider "${provider}"${
        others.length > 0 ? ` (or ${quoted(others, " or ")})` : ""
      }, which is not configured${hint(provider)} (configured: ${
        registered.length === 0 ? "none" : registered.join(", ")
      })`,
      model,
      provider,
      suggestions: [],
      ...(others.length > 0 ? { candidates } : {})
    }, true)
  }

  const check = (resolved: Resolved, original: string, registered: ReadonlyArray<string>) =>
    registered.includes(resolved.provider)
      ? Either.right(resolved)
      : Either.left(notConfigured(original, [resolved.provider], registered))

  /** The home provider (if any) and the claimants: registered ones compete, preferences decide. */
  const choose = (
    model: string,
    home: string | undefined,
    registered: ReadonlyArray<string>
  ): Either.Either<Resolved, UnknownModelError> => {
    const candidates = [...new Set([...(home !== undefined ? [home] : []), ...claimants(model)])]
    const live = candidates.filter((p) => registered.includes(p))
    if (live.length === 1) return Either.right({ provider: live[0]!, model })
    if (live.length === 0) {
      // name the preferred candidate first, else the home provider
      const ranked = [...candidates].sort((a, b) => rank(a) - rank(b))
      return Either.left(notConfigured(model, ranked, registered))
    }
    const preferred = preferences.find((p) => live.includes(p))
    if (preferred !== undefined) return Either.right({ provider: preferred, model })
    return Either.left(
      new UnknownModelError({
        message: `model "${model}" is ambiguous: the configured providers ${
          quoted(live)
        } can all serve it; set ModelRegistry preferences (e.g. preferences: ${
          JSON.stringify(live).replace(/,/g, ", ")
        }) or write "${live[0]}:${model}"`,
        model,
        suggestions: [],
        candidates: live
      }, true)
    )
  }
  const rank = (provider: string) => {
    const i = preferences.indexOf(provider)
    return i === -1 ? preferences.length : i
  }

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
      if (registered.includes(prefix) || declared.has(prefix)) {
        return check({ provider: prefix, model: model.slice(colon + 1) }, model, registered)
      }
    }
    const mine = userModels.get(model)
    if (mine !== undefined) return check({ provider: mine, model }, model, registered)
    const exact = builtIn.get(model)
    if (exact !== undefined) return choose(model, exact, registered)
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
    const typoOf = claimedExactly(model) ? [] : knownList.filter((name) => isTypoOf(model, name))
    if (typoOf.length > 0) {
      const target = ruleFor(model) ?? claimants(model)[0] ?? options.defaultProvider ?? "provider"
      return Either.left(
        new UnknownModelError({
          message: `unknown model "${model}"; did you mean ${
            quoted(typoOf)
          }? (write "${target}:${model}" to send this name as it is)`,
          model,
          suggestions: typoOf
        }, true)
      )
    }
    const home = ruleFor(model)
    if (home !== undefined || claimants(model).length > 0) return choose(model, home, registered)
    if (options.defaultProvider !== undefined) {
      return check({ provider: options.defaultProvider, model }, model, registered)
    }
    const suggestions = closest(model, knownList.filter((name) => name !== model))
    return Either.left(
      new UnknownModelError({
        message: `unknown model "${model}"${
          suggestions.length > 0 ? `; did you mean ${quoted(suggestions)}?` : ""
        } (use "provider:model" for a model the registry does not know, e.g. "ollama:${model}")`,
        model,
        suggestions
      }, true)
    )
  }
  return {
    resolve: (model, { provider, registered }) => resolve(model, provider, registered, [model]),
    knownNames: () => knownList
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
      return `: register a provider layer named "${provider}"`
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
