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
