// `@effect/ai` (v3 line) with `@effect/ai-openai` (its language model speaks the OpenAI
// Responses API) and `@effect/ai-anthropic`, over `@effect/platform-node`'s undici client.
// One `ManagedRuntime`; `LanguageModel.generateText` / `streamText`, one LanguageModel
// service per model name (built once and cached).
import { LanguageModel } from "@effect/ai"
import { AnthropicClient, AnthropicLanguageModel } from "@effect/ai-anthropic"
import { OpenAiClient, OpenAiLanguageModel } from "@effect/ai-openai"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import { deltaCounter, keys, prompt } from "./common.mjs"

export const name = "effect-ai"

export const create = async ({ baseUrl, format }) => {
  const client = format === "anthropic"
    ? AnthropicClient.layer({ apiKey: Redacted.make(keys.anthropic), apiUrl: baseUrl })
    : OpenAiClient.layer({ apiKey: Redacted.make(keys.openai), apiUrl: baseUrl + "/v1" })
  const runtime = ManagedRuntime.make(client.pipe(Layer.provide(NodeHttpClient.layerUndici)))
  const makeModel = format === "anthropic"
    ? (model) => AnthropicLanguageModel.make({ model, config: { max_tokens: 4096 } })
    : (model) => OpenAiLanguageModel.make({ model })
  const services = new Map()
  const serviceOf = async (model) => {
    let service = services.get(model)
    if (service === undefined) services.set(model, service = await runtime.runPromise(makeModel(model)))
    return service
  }
  return {
    async chat(model) {
      const service = await serviceOf(model)
      const response = await runtime.runPromise(
        LanguageModel.generateText({ prompt }).pipe(Effect.provideService(LanguageModel.LanguageModel, service))
      )
      return response.text.length
    },
    async stream(model, onFirst) {
      const service = await serviceOf(model)
      const counter = deltaCounter(onFirst)
      await runtime.runPromise(
        LanguageModel.streamText({ prompt }).pipe(
          Stream.runForEachChunk((parts) =>
            Effect.sync(() => {
              for (const part of parts) if (part.type === "text-delta") counter.hit()
            })
          ),
          Effect.provideService(LanguageModel.LanguageModel, service)
        )
      )
      return counter.count
    },
    close: () => runtime.dispose()
  }
}
