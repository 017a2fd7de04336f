/**
 * The registry view of `llm-fiber models`: the configured providers, and every model the
 * catalog prices or the registry knows by name, with its provider, context window and
 * prices per million tokens.
 */
import { Catalog, LlmClient, ModelRegistry, type Provider } from "@llm-fiber/core"
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
  readonly provider: string
  /** Whether its provider is configured (a call would be sent). */
  readonly configured: boolean
  readonly contextWindow?: number | undefined
  readonly maxOutputTokens?: number | undefined
  readonly inputPerMTok?: number | undefined
  readonly outputPerMTok?: number | undefined
  readonly cachedInputPerMTok?: number | undefined
}

/** What `models` shows (and prints with `--json`). */
export interface View {
  readonly providers: ReadonlyArray<ProviderRow>
  readonly models: ReadonlyArray<ModelRow>
}

/** Collect the view from the client, the catalog and the model registry in context. */
export const view: Effect.Effect<View, never, LlmClient.LlmClient> = Effect.gen(function*() {
  const client = yield* LlmClient.LlmClient
  const catalog = yield* Catalog.Catalog
  const registry = yield* ModelRegistry.ModelRegistry
  const configured = client.providers()
  const providers = configured.flatMap((name): Array<ProviderRow> => {
    const resolved = client.resolve("*", name)
    return Either.isRight(resolved)
      ? [{ name, api: resolved.right.implementation.api, capabilities: resolved.right.implementation.capabilities }]
      : []
  })
  const rows = new Map<string, ModelRow>()
  for (const [model, info] of catalog.all()) {
    rows.set(model, {
      model,
      provider: info.provider,
      configured: configured.includes(info.provider),
      ...(info.contextWindow !== undefined ? { contextWindow: info.contextWindow } : {}),
      ...(info.maxOutputTokens !== undefined ? { maxOutputTokens: info.maxOutputTokens } : {}),
      inputPerMTok: info.inputPerMTok,
      outputPerMTok: info.outputPerMTok,
      ...(info.cachedInputPerMTok !== undefined ? { cachedInputPerMTok: info.cachedInputPerMTok } : {})
    })
  }
  for (const model of registry.knownNames()) {
    if (rows.has(model)) continue
    const resolved = registry.resolve(model, { registered: ModelRegistry.knownProviders })
    if (Either.isLeft(resolved)) continue
    rows.set(model, {
      model,
      provider: resolved.right.provider,
      configured: configured.includes(resolved.right.provider)
    })
  }
  const models = [...rows.values()].sort((a, b) => a.provider.localeCompare(b.provider))
  return { providers, models }
})

const price = (usd: number | undefined): string => {
  if (usd === undefined) return "-"
  const fixed = usd.toFixed(4).replace(/0+$/, "")
  const decimals = fixed.length - fixed.indexOf(".") - 1
  return `$${decimals < 2 ? usd.toFixed(2) : fixed}`
}

const count = (n: number | undefined): string => (n === undefined ? "-" : n.toLocaleString("en-US"))

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/** The view as text: the providers, then a table of models. */
export const render = (v: View): string => {
  const providers = v.providers.length === 0
    ? "Providers: none configured (set OPENAI_API_KEY, OPENAI_BASE_URL or OLLAMA_BASE_URL)"
    : `Providers: ${v.providers.map((p) => `${p.name} (${p.api})`).join(", ")}`
  const rows = v.models.map((m) => [
    m.model,
    m.provider,
    count(m.contextWindow),
    price(m.inputPerMTok),
    price(m.outputPerMTok),
    price(m.cachedInputPerMTok),
    m.configured ? "yes" : "no"
  ])
  return [
    providers,
    "",
    table(["MODEL", "PROVIDER", "CONTEXT", "INPUT/1M", "OUTPUT/1M", "CACHED/1M", "CONFIGURED"], rows),
    "",
    "Prices in USD per million tokens. Any other model: provider:model (e.g. ollama:llama3.2)."
  ].join("\n") + "\n"
}
