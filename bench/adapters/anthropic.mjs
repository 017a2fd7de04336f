// The official `@anthropic-ai/sdk`: `messages.create`, streams with `stream: true` (the raw
// event iterator — lighter than the accumulating `messages.stream()` helper).
import Anthropic from "@anthropic-ai/sdk"
import { deltaCounter, keys, prompt } from "./common.mjs"

export const name = "anthropic"

export const create = async ({ baseUrl }) => {
  const client = new Anthropic({ apiKey: keys.anthropic, baseURL: baseUrl, maxRetries: 0 })
  const messages = [{ role: "user", content: prompt }]
  return {
    async chat(model) {
      const r = await client.messages.create({ model, max_tokens: 4096, messages })
      return r.content[0].text.length
    },
    async stream(model, onFirst) {
      const counter = deltaCounter(onFirst)
      const stream = await client.messages.create({ model, max_tokens: 4096, messages, stream: true })
      for await (const event of stream) {
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") counter.hit()
      }
      return counter.count
    },
    close: async () => {}
  }
}
