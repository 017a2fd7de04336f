/**
 * The registry view of `llm-fiber models`: the configured providers, and every model the
 * catalog prices or the registry knows by name — with the provider the registry resolves
 * it to (given the configured providers), whether that provider is configured, its
 * capabilities, prices per million tokens, context window, and where the prices come from.
 */
import { Catalog, LlmClient, type Provider } from "@llm-fiber/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"

/** A configured provider. */
export interface ProviderRow {
  readonly name: string
  readonly api: string
  readonly capabilities: Provider.Capabilities
}

/** A known model. Prices are USD per 1M tokens; absent when the catalog does not price it. */
export interface ModelRow {
  readonly model: string
  /** The provider a call would go to (the catalog's provider when the registry cannot tell). */
  readonly provider: string
  /** Whether that provider is configured (a call would be sent). */
  readonly configured: boolean
  /** Several configured providers can serve it and no preference decides: a call fails as ambiguous. */
  readonly candidates?: ReadonlyArray<string> | undefined
  readonly kind?: "chat" | "embedding" | undefined
  readonly capabilities?: Catalog.Capabilities | undefined
  readonly contextWindow?: number | undefined
  readonly maxOutputTokens?: number | undefined
  readonly inputPerMTok?: number | undefined
  readonly outputPerMTok?: number | undefined
  readonly cachedInputPerMTok?: number | undefined
  readonly cacheWritePerMTok?: number | undefined
  readonly cacheWrite1hPerMTok?: number | undefined
  readonly longContext?: Catalog.LongContextPrice | undefined
  readonly aliases?: ReadonlyArray<string> | undefined
  readonly source?: string | undefined
  readonly checked?: string | undefined
}

/** What `models` shows (and prints with `--json`). */
export interface View {
  readonly catalog: { readonly version: string; readonly updated: string }
  readonly providers: ReadonlyArray<ProviderRow>
  readonly models: ReadonlyArray<ModelRow>
}

type Where = Pick<ModelRow, "provider" | "configured" | "candidates">

/** Collect the view from the client (its registry) and the catalog in context. */
export const view: Effect.Effect<View, never, LlmClient.LlmClient> = Effect.gen(function*() {
  const client = yield* LlmClient.LlmClient
  const catalog = yield* Catalog.Catalog
  const configured = client.providers()
  const providers = configured.flatMap((name): Array<ProviderRow> => {
    const resolved = client.resolve("*", name)
    return Either.isRight(resolved)
      ? [{ name, api: resolved.right.implementation.api, capabilities: resolved.right.implementation.capabilities }]
      : []
  })

  /** Where a call for `model` would go, as the client's registry resolves it. */
  const where = (model: string, fallback: string | undefined): Where | undefined => {
    const resolved = client.resolve(model)
    if (Either.isRight(resolved)) return { provider: resolved.right.provider, configured: true }
    const error = resolved.left
    if (error.provider === undefined && error.candidates !== undefined && error.candidates.length > 1) {
      // ambiguous: every candidate is configured, none is preferred
      return { provider: fallback ?? error.candidates[0]!, configured: true, candidates: error.candidates }
    }
    if (error.provider !== undefined) return { provider: error.provider, configured: false }
    return fallback === undefined ? undefined : { provider: fallback, configured: configured.includes(fallback) }
  }

  const rows = new Map<string, ModelRow>()
  for (const [model, info] of catalog.all()) {
    const at = where(model, info.provider)
    if (at === undefined) continue
    const price = Catalog.priceOf(info)
    rows.set(model, {
      model,
      ...at,
      ...(info.kind !== undefined ? { kind: info.kind } : {}),
      ...(info.capabilities !== undefined ? { capabilities: catalog.capabilities(model) } : {}),
      ...(info.contextWindow !== undefined ? { contextWindow: info.contextWindow } : {}),
      ...(info.maxOutputTokens !== undefined ? { maxOutputTokens: info.maxOutputTokens } : {}),
      inputPerMTok: price.inputPerMTok,
      outputPerMTok: price.outputPerMTok,
      cachedInputPerMTok: price.cachedInputPerMTok,
      cacheWritePerMTok: price.cacheWritePerMTok,
      ...(info.cacheWrite1hPerMTok !== undefined ? { cacheWrite1hPerMTok: info.cacheWrite1hPerMTok } : {}),
      ...(info.longContext !== undefined ? { longContext: info.longContext } : {}),
      ...(info.aliases !== undefined && info.aliases.length > 0 ? { aliases: info.aliases } : {}),
      ...(info.source !== undefined ? { source: info.source } : {}),
      ...(info.checked !== undefined ? { checked: info.checked } : {})
    })
  }
  const aliases = new Set([...catalog.all().values()].flatMap((info) => info.aliases ?? []))
  for (const model of client.knownModels()) {
    if (rows.has(model) || aliases.has(model)) continue
    const at = where(model, undefined)
    if (at !== undefined) rows.set(model, { model, ...at })
  }
  const models = [...rows.values()].sort((a, b) => a.provider.localeCompare(b.provider))
  return { catalog: { version: catalog.version, updated: catalog.updated }, providers, models }
})

const price = (usd: number | undefined): string => {
  if (usd === undefined) return "-"
  const fixed = usd.toFixed(4).replace(/0+$/, "")
  const decimals = fixed.length - fixed.indexOf(".") - 1
  return `$${decimals < 2 ? usd.toFixed(2) : fixed}`
}

const count = (n: number | undefined): string => (n === undefined ? "-" : n.toLocaleString("en-US"))

const flags: ReadonlyArray<readonly [keyof Catalog.Capabilities, string]> = [
  ["tools", "tools"],
  ["vision", "vision"],
  ["jsonSchema", "json"],
  ["promptCaching", "cache"],
  ["reasoning", "reason"]
]

const capabilities = (m: ModelRow): string => {
  if (m.kind === "embedding") return "embedding"
  if (m.capabilities === undefined) return "?"
  const on = flags.filter(([flag]) => m.capabilities?.[flag] === true).map(([, label]) => label)
  return on.length === 0 ? "-" : on.join(",")
}

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/** The view as text: the providers, then a table of models, then what the columns mean. */
export const render = (v: View): string => {
  const providers = v.providers.length === 0
    ? "Providers: none configured (set OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY or OLLAMA_BASE_URL)"
    : `Providers: ${v.providers.map((p) => `${p.name} (${p.api})`).join(", ")}`
  const rows = v.models.map((m) => [
    m.model,
    m.candidates !== undefined ? `ambiguous: ${m.candidates.join("|")}` : m.provider,
    count(m.contextWindow),
    price(m.inputPerMTok),
    price(m.outputPerMTok),
    price(m.cachedInputPerMTok),
    price(m.cacheWritePerMTok),
    m.configured ? "yes" : "no",
    capabilities(m)
  ])
  return [
    providers,
    "",
    table(
      ["MODEL", "PROVIDER", "CONTEXT", "INPUT/1M", "OUTPUT/1M", "CACHED/1M", "WRITE/1M", "CONFIGURED", "CAPABILITIES"],
      rows
    ),
    "",
    `Catalog ${v.catalog.version} (updated ${v.catalog.updated}). Prices in USD per million tokens: CACHED = cached input read,`,
    "WRITE = cache write (Anthropic: 5-minute TTL; --json has the 1-hour price, long-context prices and sources).",
    "Capabilities: tools, vision, json (JSON-schema output), cache (prompt caching), reason (reasoning); ? = not in the catalog.",
    "Any other model: provider:model (e.g. ollama:llama3.2)."
  ].join("\n") + "\n"
}
