/**
 * The built-in model table: one row per model, prices in USD per 1M tokens.
 *
 * Plain data on purpose: no imports, so both `Catalog` (prices, capabilities) and
 * `ModelRegistry` (known names, for routing and suggestions) can read it without importing
 * each other. `Catalog.make` checks every row against `Catalog.ModelInfo` at compile time,
 * and a test decodes every row through the same schema users' JSON tables go through.
 *
 * Updating: change the rows, bump `version` and `updated`, set `checked` on the rows you
 * verified, and say in `note` what could not be verified. Never guess a price: leave the
 * model out (it is then unpriced: no `cost`, never a silent 0).
 *
 * @internal
 */

/** Version of the built-in table (date-based; bump on every change). */
export const version = "2026.11.22"

/** When the built-in table was last reviewed as a whole. */
export const updated = "2026-11-22"

const openai = "https://platform.openai.com/docs/pricing"
const anthropic = "https://docs.anthropic.com/en/docs/about-claude/pricing"
const gemini = "https://ai.google.dev/gemini-api/docs/pricing"
const checked = "2026-11-22"

const openaiNote =
  "Standard tier list price. The official page could not be read from this offline checkout; the numbers are OpenAI's published standard-tier prices and match third-party snapshots of the page (deploybase.ai 2026-03, tokenmath.io 2026-06-21). Batch/flex/priority tiers are not modelled."
const anthropicNote =
  "Base list price (US inference). The official page could not be read from this offline checkout; cache write = 1.25x input (5m TTL), 1h write = 2x input, cache hit = 0.1x input, as Anthropic documents, and corroborated by third-party snapshots (docs.rs synaps pricing module, verified 2026-10-10)."
const geminiNote =
  "Paid tier, text/image/video input (audio input costs more and is not modelled). The official page could not be read from this offline checkout; numbers corroborated by third-party snapshots (deploybase.ai 2026-01/03, hivebook.wiki). Context-cache storage (per token-hour) is billed separately and not modelled."

const full = { tools: true, vision: true, jsonSchema: true, promptCaching: true, reasoning: true }
const noReasoning = { tools: true, vision: true, jsonSchema: true, promptCaching: true, reasoning: false }
const embedding = { tools: false, vision: false, jsonSchema: false, promptCaching: false, reasoning: false }

/** The rows. */
export const rows = [
  // ---------------------------------------------------------------------------------------
  // OpenAI
  // ---------------------------------------------------------------------------------------
  {
    model: "gpt-5",
    provider: "openai",
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    capabilities: full,
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cachedInputPerMTok: 0.125,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "gpt-5-mini",
    provider: "openai",
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    capabilities: full,
    inputPerMTok: 0.25,
    outputPerMTok: 2,
    cachedInputPerMTok: 0.025,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "gpt-5-nano",
    provider: "openai",
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    capabilities: full,
    inputPerMTok: 0.05,
    outputPerMTok: 0.4,
    cachedInputPerMTok: 0.005,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "gpt-5-pro",
    provider: "openai",
    contextWindow: 400_000,
    maxOutputTokens: 272_000,
    capabilities: { ...full, promptCaching: false },
    inputPerMTok: 15,
    outputPerMTok: 120,
    source: openai,
    checked,
    note: `${openaiNote} Responses API only; no cached-input price is published.`
  },
  {
    model: "gpt-4.1",
    provider: "openai",
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    capabilities: noReasoning,
    inputPerMTok: 2,
    outputPerMTok: 8,
    cachedInputPerMTok: 0.5,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "gpt-4.1-mini",
    provider: "openai",
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    capabilities: noReasoning,
    inputPerMTok: 0.4,
    outputPerMTok: 1.6,
    cachedInputPerMTok: 0.1,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "gpt-4.1-nano",
    provider: "openai",
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    capabilities: noReasoning,
    inputPerMTok: 0.1,
    outputPerMTok: 0.4,
    cachedInputPerMTok: 0.025,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "gpt-4o",
    provider: "openai",
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    capabilities: noReasoning,
    inputPerMTok: 2.5,
    outputPerMTok: 10,
    cachedInputPerMTok: 1.25,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    // the first gpt-4o snapshot kept its launch price; later ones cost what "gpt-4o" costs
    model: "gpt-4o-2024-05-13",
    provider: "openai",
    contextWindow: 128_000,
    maxOutputTokens: 4_096,
    capabilities: { ...noReasoning, jsonSchema: false, promptCaching: false },
    inputPerMTok: 5,
    outputPerMTok: 15,
    source: openai,
    checked,
    note: `${openaiNote} Predates Structured Outputs and prompt caching.`
  },
  {
    model: "gpt-4o-mini",
    provider: "openai",
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    capabilities: noReasoning,
    inputPerMTok: 0.15,
    outputPerMTok: 0.6,
    cachedInputPerMTok: 0.075,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "o3",
    provider: "openai",
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    capabilities: full,
    inputPerMTok: 2,
    outputPerMTok: 8,
    cachedInputPerMTok: 0.5,
    source: openai,
    checked,
    note: `${openaiNote} Price after the June 2025 reduction.`
  },
  {
    model: "o3-pro",
    provider: "openai",
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    capabilities: { ...full, promptCaching: false },
    inputPerMTok: 20,
    outputPerMTok: 80,
    source: openai,
    checked,
    note: `${openaiNote} Responses API only; no cached-input price is published.`
  },
  {
    model: "o3-mini",
    provider: "openai",
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    capabilities: { ...full, vision: false },
    inputPerMTok: 1.1,
    outputPerMTok: 4.4,
    cachedInputPerMTok: 0.55,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "o4-mini",
    provider: "openai",
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    capabilities: full,
    inputPerMTok: 1.1,
    outputPerMTok: 4.4,
    cachedInputPerMTok: 0.275,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "o1",
    provider: "openai",
    contextWindow: 200_000,
    maxOutputTokens: 100_000,
    capabilities: full,
    inputPerMTok: 15,
    outputPerMTok: 60,
    cachedInputPerMTok: 7.5,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "text-embedding-3-small",
    provider: "openai",
    kind: "embedding",
    contextWindow: 8_191,
    capabilities: embedding,
    inputPerMTok: 0.02,
    outputPerMTok: 0,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "text-embedding-3-large",
    provider: "openai",
    kind: "embedding",
    contextWindow: 8_191,
    capabilities: embedding,
    inputPerMTok: 0.13,
    outputPerMTok: 0,
    source: openai,
    checked,
    note: openaiNote
  },
  {
    model: "text-embedding-ada-002",
    provider: "openai",
    kind: "embedding",
    contextWindow: 8_191,
    capabilities: embedding,
    inputPerMTok: 0.1,
    outputPerMTok: 0,
    source: openai,
    checked,
    note: openaiNote
  },
  // ---------------------------------------------------------------------------------------
  // Anthropic (dated ids such as claude-sonnet-4-5-20250929 resolve to these rows)
  // jsonSchema: native structured outputs (beta since 2025-11 on Sonnet 4.5, Opus 4.1,
  // Opus 4.5, Haiku 4.5); on the other models structured output goes through tool use.
  // ---------------------------------------------------------------------------------------
  {
    model: "claude-opus-4-5",
    provider: "anthropic",
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    capabilities: full,
    inputPerMTok: 5,
    outputPerMTok: 25,
    cachedInputPerMTok: 0.5,
    cacheWritePerMTok: 6.25,
    cacheWrite1hPerMTok: 10,
    source: anthropic,
    checked,
    note: anthropicNote
  },
  {
    model: "claude-opus-4-1",
    provider: "anthropic",
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    capabilities: full,
    inputPerMTok: 15,
    outputPerMTok: 75,
    cachedInputPerMTok: 1.5,
    cacheWritePerMTok: 18.75,
    cacheWrite1hPerMTok: 30,
    source: anthropic,
    checked,
    note: anthropicNote
  },
  {
    model: "claude-opus-4",
    provider: "anthropic",
    aliases: ["claude-opus-4-0"],
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    capabilities: { ...full, jsonSchema: false },
    inputPerMTok: 15,
    outputPerMTok: 75,
    cachedInputPerMTok: 1.5,
    cacheWritePerMTok: 18.75,
    cacheWrite1hPerMTok: 30,
    source: anthropic,
    checked,
    note: anthropicNote
  },
  {
    model: "claude-sonnet-4-5",
    provider: "anthropic",
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    capabilities: full,
    inputPerMTok: 3,
    outputPerMTok: 15,
    cachedInputPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    cacheWrite1hPerMTok: 6,
    // with the 1M-context beta, a request over 200K input tokens is billed entirely at these
    longContext: {
      thresholdTokens: 200_000,
      inputPerMTok: 6,
      outputPerMTok: 22.5,
      cachedInputPerMTok: 0.6,
      cacheWritePerMTok: 7.5
    },
    source: anthropic,
    checked,
    note: `${anthropicNote} 1M context window with the context-1m beta (long-context prices above 200K input tokens).`
  },
  {
    model: "claude-sonnet-4",
    provider: "anthropic",
    aliases: ["claude-sonnet-4-0"],
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    capabilities: { ...full, jsonSchema: false },
    inputPerMTok: 3,
    outputPerMTok: 15,
    cachedInputPerMTok: 0.3,
    cacheWritePerMTok: 3.75,
    cacheWrite1hPerMTok: 6,
    longContext: {
      thresholdTokens: 200_000,
      inputPerMTok: 6,
      outputPerMTok: 22.5,
      cachedInputPerMTok: 0.6,
      cacheWritePerMTok: 7.5
    },
    source: anthropic,
    checked,
    note: `${anthropicNote} 1M context window with the context-1m beta (long-context prices above 200K input tokens).`
  },
  {
    model: "claude-haiku-4-5",
    provider: "anthropic",
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    capabilities: full,
    inputPerMTok: 1,
    outputPerMTok: 5,
    cachedInputPerMTok: 0.1,
    cacheWritePerMTok: 1.25,
    cacheWrite1hPerMTok: 2,
    source: anthropic,
    checked,
    note: anthropicNote
  },
  {
    model: "claude-3-5-haiku",
    provider: "anthropic",
    aliases: ["claude-3-5-haiku-latest"],
    contextWindow: 200_000,
    maxOutputTokens: 8_192,
    capabilities: { tools: true, vision: false, jsonSchema: false, promptCaching: true, reasoning: false },
    inputPerMTok: 0.8,
    outputPerMTok: 4,
    cachedInputPerMTok: 0.08,
    cacheWritePerMTok: 1,
    cacheWrite1hPerMTok: 1.6,
    source: anthropic,
    checked,
    note: `${anthropicNote} Deprecated by Anthropic; check that it is still served.`
  },
  {
    model: "claude-3-haiku",
    provider: "anthropic",
    contextWindow: 200_000,
    maxOutputTokens: 4_096,
    capabilities: { tools: true, vision: true, jsonSchema: false, promptCaching: true, reasoning: false },
    inputPerMTok: 0.25,
    outputPerMTok: 1.25,
    cachedInputPerMTok: 0.03,
    cacheWritePerMTok: 0.3,
    cacheWrite1hPerMTok: 0.5,
    source: anthropic,
    checked,
    note: `${anthropicNote} Legacy model; check that it is still served.`
  },
  // ---------------------------------------------------------------------------------------
  // Gemini (no cache-write surcharge: cacheWritePerMTok defaults to the input price)
  // ---------------------------------------------------------------------------------------
  {
    model: "gemini-2.5-pro",
    provider: "gemini",
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    capabilities: full,
    inputPerMTok: 1.25,
    outputPerMTok: 10,
    cachedInputPerMTok: 0.125,
    // a prompt over 200K tokens is billed entirely at these
    longContext: { thresholdTokens: 200_000, inputPerMTok: 2.5, outputPerMTok: 15, cachedInputPerMTok: 0.25 },
    source: gemini,
    checked,
    note: geminiNote
  },
  {
    model: "gemini-2.5-flash",
    provider: "gemini",
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    capabilities: full,
    inputPerMTok: 0.3,
    outputPerMTok: 2.5,
    cachedInputPerMTok: 0.03,
    source: gemini,
    checked,
    note: geminiNote
  },
  {
    model: "gemini-2.5-flash-lite",
    provider: "gemini",
    contextWindow: 1_048_576,
    maxOutputTokens: 65_536,
    capabilities: full,
    inputPerMTok: 0.1,
    outputPerMTok: 0.4,
    cachedInputPerMTok: 0.01,
    source: gemini,
    checked,
    note: geminiNote
  },
  {
    model: "gemini-2.0-flash",
    provider: "gemini",
    contextWindow: 1_048_576,
    maxOutputTokens: 8_192,
    capabilities: noReasoning,
    inputPerMTok: 0.1,
    outputPerMTok: 0.4,
    cachedInputPerMTok: 0.025,
    source: gemini,
    checked,
    note: `${geminiNote} Google has announced the retirement of the 2.0 models; check that it is still served.`
  },
  {
    model: "gemini-2.0-flash-lite",
    provider: "gemini",
    contextWindow: 1_048_576,
    maxOutputTokens: 8_192,
    capabilities: { ...noReasoning, promptCaching: false },
    inputPerMTok: 0.075,
    outputPerMTok: 0.3,
    source: gemini,
    checked,
    note: `${geminiNote} Google has announced the retirement of the 2.0 models; check that it is still served.`
  },
  {
    model: "gemini-embedding-001",
    provider: "gemini",
    kind: "embedding",
    contextWindow: 2_048,
    capabilities: embedding,
    inputPerMTok: 0.15,
    outputPerMTok: 0,
    source: gemini,
    checked,
    note: geminiNote
  }
] as const
