// The Vercel AI SDK: `generateText` / `streamText` (`textStream`) from `ai`, with
// `@ai-sdk/openai` (`.chat()` for Chat Completions, `.responses()` for Responses),
// `@ai-sdk/anthropic` and `@ai-sdk/google`, base URLs on the bench server, `maxRetries: 0`.
import { createAnthropic } from "@ai-sdk/anthropic"
import { createGoogleGenerativeAI } from "@ai-sdk/google"
import { createOpenAI } from "@ai-sdk/openai"
import { generateText, streamText } from "ai"
import { deltaCounter, keys, prompt } from "./common.mjs"

// the "unknown model" warnings would print once per model name
globalThis.AI_SDK_LOG_WARNINGS = false

export const name = "ai-sdk"

export const create = async ({ baseUrl, format }) => {
  const provider = format === "anthropic"
    ? createAnthropic({ apiKey: keys.anthropic, baseURL: baseUrl + "/v1" })
    : format === "gemini"
    ? createGoogleGenerativeAI({ apiKey: keys.gemini, baseURL: baseUrl + "/v1beta" })
    : createOpenAI({ apiKey: keys.openai, baseURL: baseUrl + "/v1" })
  const model = format === "openai-chat"
    ? (id) => provider.chat(id)
    : format === "openai-responses"
    ? (id) => provider.responses(id)
    : (id) => provider(id)
  const models = new Map()
  const modelOf = (id) => {
    let m = models.get(id)
    if (m === undefined) models.set(id, m = model(id))
    return m
  }
  return {
    async chat(id) {
      const r = await generateText({ model: modelOf(id), prompt, maxRetries: 0 })
      return r.text.length
    },
    async stream(id, onFirst) {
      const counter = deltaCounter(onFirst)
      let failure
      const result = streamText({
        model: modelOf(id),
        prompt,
        maxRetries: 0,
        onError: ({ error }) => {
          failure = error
        }
      })
      for await (const text of result.textStream) if (text !== "") counter.hit()
      if (failure !== undefined) throw failure
      return counter.count
    },
    close: async () => {}
  }
}
