/**
 * Embeddings request and response mapping.
 *
 * @internal
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Provider from "@llm-fiber/core/Provider"
import * as Either from "effect/Either"
import type * as OpenAiWire from "../OpenAiWire.js"
import { type Context, inBandError, isObject, nonEmpty } from "./response.js"

/** The body of `POST /embeddings`. */
export const buildEmbeddingBody = (call: Provider.EmbedCall): OpenAiWire.EmbeddingRequest =>
  call.dimensions !== undefined ?
    { model: call.model, input: call.input, dimensions: call.dimensions } :
    { model: call.model, input: call.input }

const fail = (context: Context, message: string) =>
  Either.left(
    new LlmError.ProtocolError({
      provider: context.provider,
      model: context.model,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      message: `${context.provider}: ${message}`
    }, true)
  )

/** Map an embeddings response: vectors in input order (by `index`), usage as input tokens. */
export const mapEmbeddings = (
  json: unknown,
  context: Context,
  inputs: number
): Either.Either<Provider.EmbedResult, LlmError.LlmError> => {
  if (!isObject(json)) return fail(context, "the embeddings response is not a JSON object")
  if (isObject(json.error)) return Either.left(inBandError(json, context, {}))
  const data = json.data
  if (!Array.isArray(data)) return fail(context, "the embeddings response has no \"data\"")
  const embeddings = new Array<ReadonlyArray<number>>(data.length)
  for (let i = 0; i < data.length; i++) {
    const item: unknown = data[i]
    if (!isObject(item) || !Array.isArray(item.embedding)) {
      return fail(context, `data[${i}] of the embeddings response has no "embedding" array`)
    }
    const index = typeof item.index === "number" ? item.index : i
    if (index < 0 || index >= data.length || embeddings[index] !== undefined) {
      return fail(context, `data[${i}] of the embeddings response has a bad index ${index}`)
    }
    embeddings[index] = item.embedding as ReadonlyArray<number>
  }
  if (data.length !== inputs) {
    return fail(context, `the embeddings response holds ${data.length} vectors for ${inputs} inputs`)
  }
  const usage = isObject(json.usage) ? json.usage : {}
  const input = typeof usage.prompt_tokens === "number" ? usage.prompt_tokens : 0
  const total = typeof usage.total_tokens === "number" ? usage.total_tokens : input
  return Either.right({
    model: nonEmpty(json.model) ?? context.model,
    provider: context.provider,
    embeddings,
    usage: { inputTokens: input, outputTokens: 0, totalTokens: total }
  })
}
