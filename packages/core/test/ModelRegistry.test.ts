import { describe, expect, it } from "@effect/vitest"
import { LlmError, ModelRegistry } from "@llm-fiber/core"
import { Effect, Either } from "effect"

const allProviders = ["openai", "openai-responses", "anthropic", "gemini", "ollama", "groq"]

const registry = ModelRegistry.make({
  models: { "my-model": "anthropic", "gpt-4o-mini": "groq" },
  aliases: {
    fast: "ollama:llama3.2",
    smart: "claude-sonnet-4-5",
    chain: "smart",
    "gpt-4o": "ollama:shadowed", // an exact name beats an alias
    "gpt-fast": "ollama:qwen3" // an alias beats a prefix rule
  },
  rules: [{ prefix: "llama", provider: "ollama" }, { prefix: "gpt-oss", provider: "ollama" }]
})

const withDefault = ModelRegistry.make({ defaultProvider: "ollama" })

const resolve = (
  model: string,
  options: { provider?: string; registered?: ReadonlyArray<string>; from?: ModelRegistry.Service } = {}
) =>
  (options.from ?? registry).resolve(model, {
    registered: options.registered ?? allProviders,
    ...(options.provider !== undefined ? { provider: options.provider } : {})
  })

const resolved = (model: string, options: Parameters<typeof resolve>[1] = {}): ModelRegistry.Resolved => {
  const result = resolve(model, options)
  if (Either.isLeft(result)) throw new Error(`expected ${model} to resolve: ${result.left.message}`)
  return result.right
}

const failed = (model: string, options: Parameters<typeof resolve>[1] = {}): LlmError.UnknownModelError => {
  const result = resolve(model, options)
  if (Either.isRight(result)) throw new Error(`expected ${model} to fail, got ${JSON.stringify(result.right)}`)
  expect(result.left).toBeInstanceOf(LlmError.UnknownModelError)
  expect(result.left.retryable).toBe(false)
  return result.left
}

interface Case {
  readonly name: string
  readonly model: string
  readonly provider?: string
  readonly from?: ModelRegistry.Service
  readonly expected: ModelRegistry.Resolved
}

const cases: ReadonlyArray<Case> = [
  // 1. an explicit provider beats everything
  {
    name: "explicit provider over an exact name",
    model: "gpt-4o",
    provider: "anthropic",
    expected: { provider: "anthropic", model: "gpt-4o" }
  },
  {
    name: "explicit provider over provider:model",
    model: "openai:gpt-4o",
    provider: "groq",
    expected: { provider: "groq", model: "openai:gpt-4o" }
  },
  {
    name: "explicit provider with its own prefix in the name",
    model: "ollama:llama3.2:1b",
    provider: "ollama",
    expected: { provider: "ollama", model: "llama3.2:1b" }
  },
  // 2. provider:model beats exact names, aliases and rules
  {
    name: "provider:model with a colon in the model",
    model: "ollama:llama3.2:1b",
    expected: { provider: "ollama", model: "llama3.2:1b" }
  },
  {
    name: "provider:model naming a known model",
    model: "openai:gpt-4o-mini",
    expected: { provider: "openai", model: "gpt-4o-mini" }
  },
  {
    name: "openai-responses:",
    model: "openai-responses:o3",
    expected: { provider: "openai-responses", model: "o3" }
  },
  {
    name: "a registered, non-built-in provider prefix",
    model: "groq:llama-3.3-70b",
    expected: { provider: "groq", model: "llama-3.3-70b" }
  },
  {
    name: "provider:model beats an alias of the same text",
    model: "anthropic:claude-x",
    expected: { provider: "anthropic", model: "claude-x" }
  },
  // 3. exact names (user names override the built-in ones)
  {
    name: "a built-in exact name",
    model: "claude-haiku-4-5",
    expected: { provider: "anthropic", model: "claude-haiku-4-5" }
  },
  { name: "a user exact name", model: "my-model", expected: { provider: "anthropic", model: "my-model" } },
  {
    name: "a user name overriding a built-in",
    model: "gpt-4o-mini",
    expected: { provider: "groq", model: "gpt-4o-mini" }
  },
  { name: "exact beats alias", model: "gpt-4o", expected: { provider: "openai", model: "gpt-4o" } },
  // 4. aliases
  { name: "alias to provider:model", model: "fast", expected: { provider: "ollama", model: "llama3.2" } },
  { name: "alias to an exact name", model: "smart", expected: { provider: "anthropic", model: "claude-sonnet-4-5" } },
  { name: "alias to an alias", model: "chain", expected: { provider: "anthropic", model: "claude-sonnet-4-5" } },
  { name: "alias beats a prefix rule", model: "gpt-fast", expected: { provider: "ollama", model: "qwen3" } },
  // 5. prefix rules
  { name: "gpt- prefix", model: "gpt-6-turbo", expected: { provider: "openai", model: "gpt-6-turbo" } },
  { name: "dated snapshot", model: "gpt-4o-2024-08-06", expected: { provider: "openai", model: "gpt-4o-2024-08-06" } },
  { name: "o1 prefix", model: "o1-preview", expected: { provider: "openai", model: "o1-preview" } },
  { name: "o4 prefix", model: "o4-mini-high", expected: { provider: "openai", model: "o4-mini-high" } },
  { name: "chatgpt- prefix", model: "chatgpt-4o-latest", expected: { provider: "openai", model: "chatgpt-4o-latest" } },
  {
    name: "text-embedding- prefix",
    model: "text-embedding-ada-002",
    expected: { provider: "openai", model: "text-embedding-ada-002" }
  },
  {
    name: "an OpenAI fine-tune",
    model: "ft:gpt-4o-mini-2024-07-18:acme::abc123",
    expected: { provider: "openai", model: "ft:gpt-4o-mini-2024-07-18:acme::abc123" }
  },
  { name: "claude- prefix", model: "claude-opus-9", expected: { provider: "anthropic", model: "claude-opus-9" } },
  { name: "gemini- prefix", model: "gemini-3-pro", expected: { provider: "gemini", model: "gemini-3-pro" } },
  { name: "a user rule", model: "llama3.1:8b", expected: { provider: "ollama", model: "llama3.1:8b" } },
  { name: "the longest prefix wins", model: "gpt-oss:20b", expected: { provider: "ollama", model: "gpt-oss:20b" } },
  // 6. the default provider, last
  {
    name: "default provider for an unknown name",
    model: "mistral-large",
    from: withDefault,
    expected: { provider: "ollama", model: "mistral-large" }
  },
  {
    name: "a prefix rule beats the default provider",
    model: "claude-x",
    from: withDefault,
    expected: { provider: "anthropic", model: "claude-x" }
  },
  {
    name: "an exact name beats the default provider",
    model: "gemini-2.5-pro",
    from: withDefault,
    expected: { provider: "gemini", model: "gemini-2.5-pro" }
  }
]

describe("ModelRegistry.resolve precedence", () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(
        resolved(c.model, {
          ...(c.provider !== undefined ? { provider: c.provider } : {}),
          ...(c.from ? { from: c.from } : {})
        })
      ).toEqual(c.expected)
    })
  }
})

describe("ModelRegistry.resolve errors", () => {
  const notConfigured: ReadonlyArray<[string, string, string]> = [
    ["claude-sonnet-4-5", "anthropic", "ANTHROPIC_API_KEY"],
    ["gpt-4.1", "openai", "OPENAI_API_KEY"],
    ["openai-responses:o3", "openai-responses", "OPENAI_API_KEY"],
    ["gemini-2.5-flash", "gemini", "GEMINI_API_KEY"],
    ["ollama:llama3.2", "ollama", "OLLAMA_BASE_URL"]
  ]
  for (const [model, provider, variable] of notConfigured) {
    it(`${model}: provider ${provider} not configured says to set ${variable}`, () => {
      const e = failed(model, { registered: ["groq"], from: ModelRegistry.make() })
      expect(e.provider).toBe(provider)
      expect(e.model).toBe(model)
      expect(e.message).toContain(`"${provider}"`)
      expect(e.message).toContain(`set ${variable}`)
      expect(e.message).toContain("configured: groq")
    })
  }

  it("with nothing configured it says so", () => {
    expect(failed("gpt-4o", { registered: [] }).message).toContain("configured: none")
  })

  it("an explicit, unconfigured provider", () => {
    const e = failed("llama3", { provider: "ollama", registered: ["openai"] })
    expect(e.provider).toBe("ollama")
    expect(e.message).toContain("OLLAMA_BASE_URL")
  })

  it("an unknown name suggests the closest known ones", () => {
    const e = failed("claud-sonnet-4-5")
    expect(e.suggestions[0]).toBe("claude-sonnet-4-5")
    expect(e.message).toContain("did you mean \"claude-sonnet-4-5\"")
    expect(e.message).toContain("ollama:claud-sonnet-4-5")
    expect(e.model).toBe("claud-sonnet-4-5")
  })

  it("gpt-4o-mnii suggests gpt-4o-mini, instead of being sent to OpenAI for a 404", () => {
    const e = failed("gpt-4o-mnii", { from: ModelRegistry.make() })
    expect(e.suggestions).toEqual(["gpt-4o-mini"])
    expect(e.message).toContain("did you mean \"gpt-4o-mini\"")
    expect(e.message).toContain("openai:gpt-4o-mnii")
    // the way out: say which provider
    expect(resolved("openai:gpt-4o-mnii")).toEqual({ provider: "openai", model: "gpt-4o-mnii" })
  })

  it("one swapped or replaced letter is a typo; digits, insertions and deletions are not", () => {
    const from = ModelRegistry.make()
    // only a-z letters count: a non-ASCII letter is left to the provider
    expect(resolved("claude-haikü-4-5", { from })).toEqual({ provider: "anthropic", model: "claude-haikü-4-5" })
    expect(failed("gemini-2.5-falsh", { from }).suggestions).toEqual(["gemini-2.5-flash"])
    expect(failed("gpt-5-nanp", { from }).suggestions).toEqual(["gpt-5-nano"])
    // new models, not typos
    expect(resolved("gpt-6", { from })).toEqual({ provider: "openai", model: "gpt-6" })
    expect(resolved("o3-pro", { from })).toEqual({ provider: "openai", model: "o3-pro" })
    expect(resolved("o1-mini", { from })).toEqual({ provider: "openai", model: "o1-mini" })
    expect(resolved("gpt-4", { from })).toEqual({ provider: "openai", model: "gpt-4" })
    expect(resolved("gpt-4o-mini-tts", { from })).toEqual({ provider: "openai", model: "gpt-4o-mini-tts" })
    expect(resolved("gpt-5-pro", { from })).toEqual({ provider: "openai", model: "gpt-5-pro" })
  })

  it("nothing close: no suggestions, still a helpful message", () => {
    const e = failed("zzzzzzzzzzzzzzzzzzzzzzzz")
    expect(e.suggestions).toEqual([])
    expect(e.message).toContain("unknown model \"zzzzzzzzzzzzzzzzzzzzzzzz\"")
    expect(e.message).toContain("provider:model")
  })

  it("a circular alias fails instead of overflowing the stack", () => {
    const looped = ModelRegistry.make({ aliases: { a: "b", b: "c", c: "a" } })
    const e = failed("a", { from: looped })
    expect(e.message).toContain("circular")
    expect(e.message).toContain("\"a\" → \"b\" → \"c\" → \"a\"")
    // a self-alias is harmless: it falls through to the other rules
    expect(resolved("gpt-x", { from: ModelRegistry.make({ aliases: { "gpt-x": "gpt-x" } }) })).toEqual({
      provider: "openai",
      model: "gpt-x"
    })
  })

  it("an alias to an unknown model reports the target", () => {
    const e = failed("mine", { from: ModelRegistry.make({ aliases: { mine: "nothing-like-it" } }) })
    expect(e.message).toContain("nothing-like-it")
  })
})

describe("ModelRegistry helpers", () => {
  it("closest ranks by edit distance, case-insensitively, best first", () => {
    const names = ["gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "claude-haiku-4-5"]
    expect(ModelRegistry.closest("gpt-4o-mnii", names)[0]).toBe("gpt-4o-mini")
    expect(ModelRegistry.closest("GPT-4O-MINI", names)[0]).toBe("gpt-4o-mini")
    expect(ModelRegistry.closest("Fast", ["fast", "slow"])).toEqual(["fast"])
    expect(ModelRegistry.closest("fast", ["Fast", "slow"])).toEqual(["Fast"])
    expect(ModelRegistry.closest("gpt-4o-mini", names, 1)).toEqual(["gpt-4o-mini"])
    // containment is case-insensitive too (here the edit distance alone is far too large)
    expect(ModelRegistry.closest("mini", ["MY-MINI-MODEL-WITH-A-LONG-NAME"])).toEqual([
      "MY-MINI-MODEL-WITH-A-LONG-NAME"
    ])
    expect(ModelRegistry.closest("qqqqqqqqqqqq", names)).toEqual([])
  })

  it("isTypoOf", () => {
    expect(ModelRegistry.isTypoOf("gpt-4o-mnii", "gpt-4o-mini")).toBe(true)
    expect(ModelRegistry.isTypoOf("gpt-4o-mimi", "gpt-4o-mini")).toBe(true)
    expect(ModelRegistry.isTypoOf("gpt-4o-mini", "gpt-4o-mini")).toBe(false)
    expect(ModelRegistry.isTypoOf("gpt-6", "gpt-5")).toBe(false)
    expect(ModelRegistry.isTypoOf("o5-mini", "o4-mini")).toBe(false)
    expect(ModelRegistry.isTypoOf("gpt-4", "gpt-4o")).toBe(false)
    expect(ModelRegistry.isTypoOf("gpt-4o-mxxi", "gpt-4o-mini")).toBe(false)
    expect(ModelRegistry.isTypoOf("gpt-4o-imni", "gpt-4o-mini")).toBe(true)
    expect(ModelRegistry.isTypoOf("gpt-4o-nimi", "gpt-4o-mini")).toBe(false)
  })

  it("knownNames lists exact names and aliases, each once", () => {
    const names = registry.knownNames()
    expect(names).toContain("gpt-4o-mini")
    expect(names).toContain("my-model")
    expect(names).toContain("fast")
    expect(new Set(names).size).toBe(names.length)
  })

  it.effect("the ModelRegistry reference defaults to the built-in rules; a layer replaces it", () =>
    Effect.gen(function*() {
      const builtIn = yield* ModelRegistry.ModelRegistry
      expect(builtIn.resolve("gpt-4o", { registered: ["openai"] })).toEqual(
        Either.right({ provider: "openai", model: "gpt-4o" })
      )
      const custom = yield* ModelRegistry.ModelRegistry.pipe(
        Effect.provide(ModelRegistry.layer({ aliases: { fast: "ollama:llama3.2" } }))
      )
      expect(custom.resolve("fast", { registered: ["ollama"] })).toEqual(
        Either.right({ provider: "ollama", model: "llama3.2" })
      )
    }))
})

describe("ModelRegistry built-in routing", () => {
  const builtIn = ModelRegistry.make()
  const routes: ReadonlyArray<readonly [string, string]> = [
    // o-series by pattern, today's and tomorrow's
    ["o1", "openai"],
    ["o3-pro", "openai"],
    ["o5-mini", "openai"],
    ["o3-mini-2025-01-31", "openai"],
    ["chatgpt-4o-latest", "openai"],
    ["text-embedding-3-small", "openai"],
    ["ft:gpt-4.1-mini-2025-04-14:acme::x1", "openai"],
    // catalog rows and the ids the providers accept for them
    ["claude-sonnet-4-0", "anthropic"],
    ["claude-3-5-haiku-latest", "anthropic"],
    ["claude-opus-4-1-20250805", "anthropic"],
    ["gemini-2.0-flash-lite", "gemini"],
    // Gemini's embeddings, and Gemma as the Gemini API spells it
    ["text-embedding-004", "gemini"],
    ["gemini-embedding-001", "gemini"],
    ["gemma-3-27b-it", "gemini"]
  ]
  for (const [model, provider] of routes) {
    it(`${model} → ${provider}`, () => {
      expect(resolved(model, { from: builtIn })).toEqual({ provider, model })
    })
  }

  it("an o followed by a letter is not the o-series", () => {
    expect(failed("omni-thing", { from: builtIn }).message).toContain("unknown model \"omni-thing\"")
    // Ollama's spelling of Gemma matches no rule
    expect(failed("gemma3:4b", { from: builtIn }).message).toContain("ollama:gemma3:4b")
  })

  it("knownNames covers the catalog's model ids and aliases", () => {
    const names = builtIn.knownNames()
    for (
      const name of ["claude-opus-4-5", "claude-3-5-haiku-latest", "gemini-2.0-flash-lite", "o3-mini", "gpt-5-pro"]
    ) {
      expect(names).toContain(name)
    }
  })
})

describe("ModelRegistry claims and preferences", () => {
  const gateway = ModelRegistry.make({
    models: { "house-model": "anthropic" },
    aliases: { cheap: "gpt-4o-mini" },
    providers: {
      openrouter: { prefixes: ["gpt-", "anthropic/"], models: ["llama-3.3-70b"] },
      groq: { patterns: [/^llama-/], models: ["house-model"] }
    },
    preferences: ["openai", "openrouter"],
    defaultProvider: "ollama"
  })
  const everything = ["openai", "openrouter", "groq", "anthropic", "ollama"]

  interface ClaimCase {
    readonly name: string
    readonly model: string
    readonly provider?: string
    readonly registered: ReadonlyArray<string>
    readonly expected: ModelRegistry.Resolved
  }
  const claimCases: ReadonlyArray<ClaimCase> = [
    {
      name: "explicit provider beats a preference",
      model: "gpt-4o",
      provider: "openrouter",
      registered: everything,
      expected: { provider: "openrouter", model: "gpt-4o" }
    },
    {
      name: "provider:model beats a preference",
      model: "openrouter:gpt-4o",
      registered: everything,
      expected: { provider: "openrouter", model: "gpt-4o" }
    },
    {
      name: "your exact names are final, whoever else claims them",
      model: "house-model",
      registered: everything,
      expected: { provider: "anthropic", model: "house-model" }
    },
    {
      name: "built-in name claimed by a gateway: the preference decides",
      model: "gpt-4o",
      registered: everything,
      expected: { provider: "openai", model: "gpt-4o" }
    },
    {
      name: "an alias resolves, then the preference decides",
      model: "cheap",
      registered: everything,
      expected: { provider: "openai", model: "gpt-4o-mini" }
    },
    {
      name: "prefix rule and a claim: the preference decides",
      model: "gpt-6",
      registered: everything,
      expected: { provider: "openai", model: "gpt-6" }
    },
    {
      name: "only the claimant is configured: it serves the model",
      model: "gpt-4o",
      registered: ["openrouter"],
      expected: { provider: "openrouter", model: "gpt-4o" }
    },
    {
      name: "only the home provider is configured: claims do not matter",
      model: "gpt-4o",
      registered: ["openai", "groq"],
      expected: { provider: "openai", model: "gpt-4o" }
    },
    {
      name: "a name only a claim knows",
      model: "anthropic/claude-3.5-sonnet",
      registered: everything,
      expected: { provider: "openrouter", model: "anthropic/claude-3.5-sonnet" }
    },
    {
      name: "two claimants, one preferred",
      model: "llama-3.3-70b",
      registered: everything,
      expected: { provider: "openrouter", model: "llama-3.3-70b" }
    },
    {
      name: "a pattern claim",
      model: "llama-3.1-8b-instant",
      registered: everything,
      expected: { provider: "groq", model: "llama-3.1-8b-instant" }
    },
    {
      name: "claims beat the default provider",
      model: "llama-4-scout",
      registered: everything,
      expected: { provider: "groq", model: "llama-4-scout" }
    },
    {
      name: "the default provider is last",
      model: "mistral-small",
      registered: everything,
      expected: { provider: "ollama", model: "mistral-small" }
    }
  ]
  for (const c of claimCases) {
    it(c.name, () => {
      expect(
        resolved(c.model, {
          from: gateway,
          registered: c.registered,
          ...(c.provider !== undefined ? { provider: c.provider } : {})
        })
      ).toEqual(c.expected)
    })
  }

  it("two configured providers and no preference between them: an ambiguity error with the candidates", () => {
    const open = ModelRegistry.make({ providers: { openrouter: { prefixes: ["gpt-"] } } })
    for (const model of ["gpt-4o", "gpt-6"]) {
      const e = failed(model, { from: open, registered: ["openai", "openrouter"] })
      expect(e.candidates).toEqual(["openai", "openrouter"])
      expect(e.provider).toBeUndefined()
      expect(e.suggestions).toEqual([])
      expect(e.message).toBe(
        `model "${model}" is ambiguous: the configured providers "openai", "openrouter" can all serve it; ` +
          `set ModelRegistry preferences (e.g. preferences: ["openai", "openrouter"]) or write "openai:${model}"`
      )
    }
    // a preference that names neither does not decide
    const unrelated = ModelRegistry.make({ providers: { openrouter: { prefixes: ["gpt-"] } }, preferences: ["groq"] })
    expect(failed("gpt-4o", { from: unrelated, registered: ["openai", "openrouter"] }).candidates).toEqual([
      "openai",
      "openrouter"
    ])
  })

  it("two claimants and no home provider: ambiguous too", () => {
    const twins = ModelRegistry.make({ providers: { a: { prefixes: ["x-"] }, b: { patterns: [/^x-\d/] } } })
    expect(failed("x-1", { from: twins, registered: ["a", "b"] }).candidates).toEqual(["a", "b"])
    expect(resolved("x-y", { from: twins, registered: ["a", "b"] })).toEqual({ provider: "a", model: "x-y" })
  })

  it("none of the candidates configured: names the preferred one and the others", () => {
    const e = failed("gpt-4o", {
      from: ModelRegistry.make({ providers: { openrouter: { prefixes: ["gpt-"] } }, preferences: ["openrouter"] }),
      registered: ["groq"]
    })
    expect(e.provider).toBe("openrouter")
    expect(e.candidates).toEqual(["openrouter", "openai"])
    expect(e.message).toBe(
      "model \"gpt-4o\" is served by provider \"openrouter\" (or \"openai\"), which is not configured: " +
        "register a provider layer named \"openrouter\" (configured: groq)"
    )
    // without a preference, the home provider comes first
    const home = failed("gpt-4o", {
      from: ModelRegistry.make({ providers: { openrouter: { prefixes: ["gpt-"] } } }),
      registered: []
    })
    expect(home.provider).toBe("openai")
    expect(home.message).toContain("set OPENAI_API_KEY")
  })

  it("a declared provider works as a provider: prefix before it is registered", () => {
    const e = failed("openrouter:openai/gpt-4o", { from: gateway, registered: [] })
    expect(e.provider).toBe("openrouter")
    expect(e.message).toContain("register a provider layer named \"openrouter\"")
  })

  it("a name a provider claims exactly is never taken for a typo", () => {
    const claimed = ModelRegistry.make({ providers: { groq: { models: ["gpt-4o-mnii"] } } })
    expect(resolved("gpt-4o-mnii", { from: claimed, registered: ["groq"] })).toEqual({
      provider: "groq",
      model: "gpt-4o-mnii"
    })
    expect(claimed.knownNames()).toContain("gpt-4o-mnii")
  })
})

describe("ModelRegistry rules and known models", () => {
  it("your rules come before the built-in ones, even a shorter prefix", () => {
    const mine = ModelRegistry.make({ rules: [{ prefix: "gpt", provider: "ollama" }] })
    expect(resolved("gpt-oss:20b", { from: mine })).toEqual({ provider: "ollama", model: "gpt-oss:20b" })
  })

  it("pattern rules, even with a global flag, match every time", () => {
    const mine = ModelRegistry.make({ rules: [{ pattern: /^qwen\d/g, provider: "ollama" }] })
    for (let i = 0; i < 3; i++) {
      expect(resolved("qwen3:8b", { from: mine })).toEqual({ provider: "ollama", model: "qwen3:8b" })
    }
  })

  it("knownModels feed suggestions and typo checks without routing", () => {
    const mine = ModelRegistry.make({ knownModels: ["acme-large-2"] })
    expect(failed("acme-lareg-2", { from: mine }).suggestions).toEqual(["acme-large-2"])
    expect(failed("acme-larg", { from: mine }).suggestions).toContain("acme-large-2")
    // known, but no route: still unknown
    const known = failed("acme-large-2", { from: mine })
    expect(known.message).toContain("unknown model \"acme-large-2\"")
    expect(known.suggestions).not.toContain("acme-large-2")
    expect(mine.knownNames()).toContain("acme-large-2")
  })
})
