import { describe, expect, it } from "@effect/vitest"
import { Catalog, LlmClient, ModelRegistry, Provider, ProviderRegistry } from "@llm-fiber/core"
import { Effect, Layer, Stream } from "effect"
import * as Models from "../src/internal/models.js"

/** A provider that is only listed, never called. */
const listed = (name: string): Provider.Provider => ({
  name,
  api: "openai-chat",
  capabilities: Provider.noCapabilities,
  chat: () => Effect.dieMessage("not called"),
  chatStream: () => Stream.dieMessage("not called")
})

const client = (names: ReadonlyArray<string>, registry: ModelRegistry.Options) =>
  LlmClient.layer.pipe(
    Layer.provide(
      names.reduce(
        (all, name) => Layer.merge(all, ProviderRegistry.register(Effect.succeed(listed(name)))),
        Layer.empty as Layer.Layer<never, never, ProviderRegistry.ProviderRegistry>
      )
    ),
    Layer.provide(ProviderRegistry.layer),
    Layer.provide(ModelRegistry.layer(registry))
  )

const viewWith = (names: ReadonlyArray<string>, registry: ModelRegistry.Options) =>
  Effect.provide(Models.view, client(names, registry))

const row = (view: Models.View, model: string) => view.models.find((m) => m.model === model)

const gateway = { providers: { openrouter: { prefixes: ["gpt-"] } } }

describe("models view: the provider as the registry resolves it", () => {
  it.effect("a gateway that claims gpt-* and is preferred serves the gpt rows", () =>
    Effect.gen(function*() {
      const view = yield* viewWith(["openai", "openrouter"], { ...gateway, preferences: ["openrouter", "openai"] })
      expect(row(view, "gpt-4o")).toMatchObject({ provider: "openrouter", configured: true })
      expect(row(view, "gpt-4o")?.candidates).toBeUndefined()
      // not claimed by the gateway: still OpenAI's
      expect(row(view, "o3")).toMatchObject({ provider: "openai", configured: true })
      expect(row(view, "claude-haiku-4-5")).toMatchObject({ provider: "anthropic", configured: false })
    }))

  it.effect("no preference between two configured providers: the row says ambiguous, with the candidates", () =>
    Effect.gen(function*() {
      const view = yield* viewWith(["openai", "openrouter"], gateway)
      expect(row(view, "gpt-4.1")).toMatchObject({
        provider: "openai",
        configured: true,
        candidates: ["openai", "openrouter"]
      })
      expect(Models.render(view)).toMatch(/\ngpt-4\.1\s+ambiguous: openai\|openrouter\s+1,047,576\s+\$2\.00/)
    }))

  it.effect("only the gateway configured: it serves what it claims; the rest is not configured", () =>
    Effect.gen(function*() {
      const view = yield* viewWith(["openrouter"], gateway)
      expect(view.providers.map((p) => p.name)).toEqual(["openrouter"])
      expect(row(view, "gpt-5")).toMatchObject({ provider: "openrouter", configured: true, inputPerMTok: 1.25 })
      expect(row(view, "o4-mini")).toMatchObject({ provider: "openai", configured: false })
    }))

  it.effect("your aliases are listed with the provider they resolve to", () =>
    Effect.gen(function*() {
      // the names come from the registry in the view's context (the client does not expose its own)
      const options = { aliases: { fast: "ollama:llama3.2" } }
      const view = yield* viewWith(["ollama"], options).pipe(Effect.provide(ModelRegistry.layer(options)))
      expect(row(view, "fast")).toEqual({ model: "fast", provider: "ollama", configured: true })
    }))

  it.effect("the catalog in context: your rows, and its version", () =>
    Effect.gen(function*() {
      const view = yield* viewWith(["openai"], {}).pipe(
        Effect.provide(Catalog.layer({
          mode: "replace",
          version: "acme-1",
          updated: "2026-11-01",
          models: { "gpt-4o": { provider: "openai", inputPerMTok: 1, outputPerMTok: 2 } }
        }))
      )
      expect(view.catalog).toEqual({ version: "acme-1", updated: "2026-11-01" })
      expect(row(view, "gpt-4o")).toEqual({
        model: "gpt-4o",
        provider: "openai",
        configured: true,
        inputPerMTok: 1,
        outputPerMTok: 2,
        cachedInputPerMTok: 1,
        cacheWritePerMTok: 1
      })
      // without capabilities in the row, the table says so
      expect(Models.render(view)).toMatch(/\ngpt-4o\s+openai\s+-\s+\$1\.00\s+\$2\.00\s+\$1\.00\s+\$1\.00\s+yes\s+\?\n/)
    }))
})
