// The official `@google/genai` SDK (Gemini API): `models.generateContent` and
// `models.generateContentStream`; retries off (`retryOptions.attempts: 1`).
import { GoogleGenAI } from "@google/genai"
import { deltaCounter, keys, prompt } from "./common.mjs"

export const name = "genai"

export const create = async ({ baseUrl }) => {
  const client = new GoogleGenAI({
    apiKey: keys.gemini,
    httpOptions: { baseUrl, apiVersion: "v1beta", retryOptions: { attempts: 1 } }
  })
  return {
    async chat(model) {
      const r = await client.models.generateContent({ model, contents: prompt })
      return r.text.length
    },
    async stream(model, onFirst) {
      const counter = deltaCounter(onFirst)
      const stream = await client.models.generateContentStream({ model, contents: prompt })
      for await (const chunk of stream) if (chunk.text) counter.hit()
      return counter.count
    },
    close: async () => {}
  }
}
