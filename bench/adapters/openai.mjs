// The official `openai` SDK: Chat Completions (`chat.completions.create`) and Responses
// (`responses.create`), streams through `stream: true` (the SDK's async iterator of events).
import OpenAI from "openai"
import { deltaCounter, keys, prompt } from "./common.mjs"

export const name = "openai"

export const create = async ({ baseUrl, format }) => {
  const client = new OpenAI({ apiKey: keys.openai, baseURL: baseUrl + "/v1", maxRetries: 0 })
  const messages = [{ role: "user", content: prompt }]
  if (format === "openai-chat") {
    return {
      async chat(model) {
        const r = await client.chat.completions.create({ model, messages })
        return r.choices[0].message.content.length
      },
      async stream(model, onFirst) {
        const counter = deltaCounter(onFirst)
        const stream = await client.chat.completions.create({
          model,
          messages,
          stream: true,
          stream_options: { include_usage: true }
        })
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) counter.hit()
        return counter.count
      },
      close: async () => {}
    }
  }
  return {
    async chat(model) {
      const r = await client.responses.create({ model, input: prompt })
      return r.output_text.length
    },
    async stream(model, onFirst) {
      const counter = deltaCounter(onFirst)
      const stream = await client.responses.create({ model, input: prompt, stream: true })
      for await (const event of stream) if (event.type === "response.output_text.delta") counter.hit()
      return counter.count
    },
    close: async () => {}
  }
}
