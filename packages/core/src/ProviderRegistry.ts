/**
 * The providers a client can route to, by name.
 *
 * Provider layers (`OpenAI.layer`, `FakeProvider.layer`, …) register themselves here when
 * they are built; `LlmClient` looks providers up per call, so the order in which layers
 * are built does not matter. Registering a name twice replaces the earlier provider
 * (that is how `FakeProvider.layer({ name: "openai" })` stands in for the real one).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { LlmClient, ProviderRegistry } from "@llm-fiber/core"
 * import { OpenAI } from "@llm-fiber/openai"
 *
 * const Live = LlmClient.layer.pipe(
 *   Layer.provide(OpenAI.layerConfig()),
 *   Layer.provide(ProviderRegistry.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Provider from "./Provider.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Add (or replace) a provider under its name. */
  readonly register: (provider: Provider.Provider) => Effect.Effect<void>
  /** Remove a provider. */
  readonly unregister: (name: string) => Effect.Effect<void>
  /** The provider registered under a name. */
  readonly get: (name: string) => Provider.Provider | undefined
  /** Names of all registered providers, in registration order. */
  readonly names: () => ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ProviderRegistry extends Context.Tag("@llm-fiber/core/ProviderRegistry")<ProviderRegistry, Service>() {}

/**
 * A new, empty registry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (providers: ReadonlyArray<Provider.Provider> = []): Service => {
  const byName = new Map<string, Provider.Provider>()
  for (const provider of providers) byName.set(provider.name, provider)
  return {
    register: (provider) => Effect.sync(() => void byName.set(provider.name, provider)),
    unregister: (name) => Effect.sync(() => void byName.delete(name)),
    get: (name) => byName.get(name),
    names: () => [...byName.keys()]
  }
}

/**
 * An empty registry that provider layers fill.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ProviderRegistry> = Layer.sync(ProviderRegistry, () => make())

/**
 * A layer that registers a provider for as long as it is alive (the building block of
 * every provider package's `layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const register = <E, R>(
  provider: Effect.Effect<Provider.Provider, E, R>
): Layer.Layer<never, E, R | ProviderRegistry> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const registry = yield* ProviderRegistry
    const p = yield* provider
    yield* registry.register(p)
    yield* Effect.addFinalizer(() => registry.get(p.name) === p ? registry.unregister(p.name) : Effect.void)
  }))
