// llm-fiber through its Promise facade: `createLlmClient` from `@llm-fiber/core/promise`
// (configured like an application would: base URLs and keys as environment settings,
// `maxRetries: 0`; its log level is `none` by default), `chat` and `for await` over
// `chatStream`.
import { createLlmClient } from "@llm-fiber/core/promise"
import { deltaCounter, keys, prefixes, prompt } from "./common.mjs"

export const name = "fiber-promise"

export const create = async ({ baseUrl, format }) => {
  const llm = createLlmClient({
    env: {
      OPENAI_BASE_URL: baseUrl + "/v1",
      OPENAI_API_KEY: keys.openai,
      ANTHROPIC_BASE_URL: baseUrl,
      ANTHROPIC_API_KEY: keys.anthropic,
      GEMINI_BASE_URL: baseUrl,
      GEMINI_API_KEY: keys.gemini
    },
    providers: { openai: { ollama: false } },
    maxRetries: 0
  })
  const prefix = prefixes[format]
  return {
    async chat(model) {
      return (await llm.chat({ model: prefix + model, messages: prompt })).text.length
    },
    async stream(model, onFirst) {
      const counter = deltaCounter(onFirst)
      for await (const event of llm.chatStream({ model: prefix + model, messages: prompt })) {
        if (event._tag === "TextDelta") counter.hit()
      }
      return counter.count
    },
    close: () => llm.dispose()
  }
}
