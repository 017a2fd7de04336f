/**
 * `batchEmbedContents` response mapping.
 *
 * @internal
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Provider from "@llm-fiber/core/Provider"
import * as Either from "effect/Either"
import { type Context, inBandError, isObject } from "./response.js"

const fail = (context: Context, message: string) =>
  Either.left(
    new LlmError.ProtocolError({
      provider: context.provider,
      model: context.model,
      ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
      message: `${context.provider}: ${message}`
    }, true)
  )

/**
 * Map `{ embeddings: [{ values }] }` (one per input, in input order). Gemini reports no
 * token counts for embeddings: usage is zero.
 */
export const mapEmbeddings = (
  json: unknown,
  context: Context,
  inputs: number
): Either.Either<Provider.EmbedResult, LlmError.LlmError> => {
  if (!isObject(json)) return fail(context, "the embeddings response is not a JSON object")
  if (isObject(json.error)) return Either.left(inBandError(json, context, {}))
  const list = json.embeddings
  if (!Array.isArray(list)) return fail(context, "the embeddings response has no \"embeddings\"")
  if (list.length !== inputs) {
    return fail(context, `the embeddings response holds ${list.length} vectors for ${inputs} inputs`)
  }
  const embeddings: Array<ReadonlyArray<number>> = []
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i]
    if (!isObject(item) || !Array.isArray(item.values)) {
      return fail(context, `embeddings[${i}] of the embeddings response has no "values" array`)
    }
    embeddings.push(item.values as ReadonlyArray<number>)
  }
  return Either.right({
    model: context.model,
    provider: context.provider,
    embeddings,
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }
  })
}
