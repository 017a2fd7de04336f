// The adapters of the benchmark (metadata only: importing this loads no SDK). Each `file`
// exports `create({ baseUrl, format, variant })` (see common.mjs for the interface).
export const adapters = {
  "undici-raw": {
    file: "undici-raw.mjs",
    formats: ["openai-chat", "openai-responses", "anthropic", "gemini"],
    packages: ["undici"],
    role: "floor",
    about: "`undici.request` (keep-alive Agent), minimal SSE split, one `JSON.parse` per event"
  },
  "fetch-raw": {
    file: "fetch-raw.mjs",
    formats: ["openai-chat", "openai-responses", "anthropic", "gemini"],
    packages: [],
    role: "transport",
    about: "Node's global `fetch`, the same minimal SSE split and `JSON.parse` per event"
  },
  openai: {
    file: "openai.mjs",
    formats: ["openai-chat", "openai-responses"],
    packages: ["openai"],
    role: "peer",
    about: "`chat.completions.create` / `responses.create` (`stream: true` iterators), `maxRetries: 0`"
  },
  anthropic: {
    file: "anthropic.mjs",
    formats: ["anthropic"],
    packages: ["@anthropic-ai/sdk"],
    role: "peer",
    about: "`messages.create` (`stream: true` raw event iterator), `maxRetries: 0`"
  },
  genai: {
    file: "genai.mjs",
    formats: ["gemini"],
    packages: ["@google/genai"],
    role: "peer",
    about: "`models.generateContent` / `generateContentStream`, `retryOptions.attempts: 1`"
  },
  "ai-sdk": {
    file: "ai-sdk.mjs",
    formats: ["openai-chat", "openai-responses", "anthropic", "gemini"],
    packages: ["ai", "@ai-sdk/openai", "@ai-sdk/anthropic", "@ai-sdk/google"],
    role: "peer",
    about: "`generateText` / `streamText().textStream`, `maxRetries: 0`"
  },
  "effect-ai": {
    file: "effect-ai.mjs",
    formats: ["openai-responses", "anthropic"],
    packages: ["@effect/ai", "@effect/ai-openai", "@effect/ai-anthropic", "@effect/platform-node"],
    role: "peer",
    about:
      "`LanguageModel.generateText` / `streamText` (`@effect/ai-openai` speaks Responses), `NodeHttpClient.layerUndici`"
  },
  "fiber-effect": {
    file: "fiber-effect.mjs",
    formats: ["openai-chat", "openai-responses", "anthropic", "gemini"],
    packages: ["@llm-fiber/core", "@llm-fiber/openai", "@llm-fiber/anthropic", "@llm-fiber/gemini"],
    role: "fiber",
    variant: "bare",
    about: "llm-fiber Effect API (`LlmClient`), bare pipeline: retries off, log line silenced"
  },
  "fiber-full": {
    file: "fiber-effect.mjs",
    formats: ["openai-chat", "openai-responses", "anthropic", "gemini"],
    packages: ["@llm-fiber/core", "@llm-fiber/otel"],
    role: "fiber",
    variant: "full",
    about:
      "llm-fiber Effect API, full default pipeline: default retry policy, timeouts, OpenTelemetry spans + metrics (in memory), memory cache (misses)"
  },
  "fiber-promise": {
    file: "fiber-promise.mjs",
    formats: ["openai-chat", "openai-responses", "anthropic", "gemini"],
    packages: ["@llm-fiber/core"],
    role: "fiber",
    about: "llm-fiber Promise facade (`createLlmClient`), `maxRetries: 0`"
  }
}

/** Variants of `fiber-effect` measured on top of `bare` and `full`, to split the pipeline's cost. */
export const pipelineVariants = ["retry", "otel", "cache"]
