/**
 * The wire format of the Gemini API (`generateContent`, `streamGenerateContent`,
 * `batchEmbedContents`), as TypeScript types, camelCase as the REST API writes it.
 *
 * These types describe what `@llm-fiber/gemini` sends (`GenerateContentRequest`,
 * `BatchEmbedContentsRequest`). Responses are read with small hand-written guards (no
 * per-chunk `Schema` decoding on the hot path), so they are not typed here.
 *
 * Use them to type `providerOptions.gemini` passthrough values.
 *
 * @example
 * ```ts
 * import type { GeminiWire } from "@llm-fiber/gemini"
 *
 * const extra: GeminiWire.ProviderOptions = {
 *   thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
 *   safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" }]
 * }
 * const request = { model: "gemini-2.5-flash", messages: "hi", providerOptions: { gemini: extra } }
 * ```
 *
 * @since 0.1.0
 */

/**
 * One part of a content.
 *
 * @since 0.1.0
 * @category request
 */
export interface Part {
  readonly text?: string
  readonly thought?: boolean
  readonly thoughtSignature?: string
  readonly inlineData?: { readonly mimeType: string; readonly data: string }
  readonly fileData?: { readonly fileUri: string; readonly mimeType?: string }
  readonly functionCall?: { readonly name: string; readonly args: Readonly<Record<string, unknown>> }
  readonly functionResponse?: { readonly name: string; readonly response: Readonly<Record<string, unknown>> }
}

/**
 * A turn of the conversation (`user` or `model`).
 *
 * @since 0.1.0
 * @category request
 */
export interface Content {
  readonly role?: "user" | "model"
  readonly parts: ReadonlyArray<Part>
}

/**
 * The OpenAPI-style schema subset of `parameters` / `responseSchema` (types upper-case).
 *
 * @since 0.1.0
 * @category request
 */
export interface Schema {
  readonly type?: "STRING" | "NUMBER" | "INTEGER" | "BOOLEAN" | "ARRAY" | "OBJECT" | "NULL"
  readonly [key: string]: unknown
}

/**
 * A function the model may call.
 *
 * @since 0.1.0
 * @category request
 */
export interface FunctionDeclaration {
  readonly name: string
  readonly description: string
  readonly parameters?: Schema
  readonly parametersJsonSchema?: unknown
}

/**
 * Generation parameters.
 *
 * @since 0.1.0
 * @category request
 */
export interface GenerationConfig {
  readonly temperature?: number
  readonly maxOutputTokens?: number
  readonly topP?: number
  readonly topK?: number
  readonly stopSequences?: ReadonlyArray<string>
  readonly seed?: number
  readonly candidateCount?: number
  readonly presencePenalty?: number
  readonly frequencyPenalty?: number
  readonly responseMimeType?: string
  readonly responseSchema?: Schema
  readonly responseJsonSchema?: unknown
  readonly responseModalities?: ReadonlyArray<string>
  readonly thinkingConfig?: {
    readonly thinkingBudget?: number
    readonly includeThoughts?: boolean
    readonly thinkingLevel?: string
  }
  readonly [key: string]: unknown
}

/**
 * `toolConfig.functionCallingConfig`.
 *
 * @since 0.1.0
 * @category request
 */
export interface FunctionCallingConfig {
  readonly mode: "AUTO" | "ANY" | "NONE" | "VALIDATED"
  readonly allowedFunctionNames?: ReadonlyArray<string>
}

/**
 * A safety setting.
 *
 * @since 0.1.0
 * @category request
 */
export interface SafetySetting {
  readonly category: string
  readonly threshold: string
}

/**
 * The body of `POST /{version}/models/{model}:generateContent` (the model travels in the path).
 *
 * @since 0.1.0
 * @category request
 */
export interface GenerateContentRequest {
  readonly contents: ReadonlyArray<Content>
  readonly systemInstruction?: Content
  readonly generationConfig?: GenerationConfig
  readonly tools?: ReadonlyArray<{ readonly functionDeclarations?: ReadonlyArray<FunctionDeclaration> }>
  readonly toolConfig?: { readonly functionCallingConfig?: FunctionCallingConfig }
  readonly safetySettings?: ReadonlyArray<SafetySetting>
  readonly cachedContent?: string
}

/**
 * What `providerOptions.gemini` may hold: top-level request fields (`safetySettings`,
 * `cachedContent`, `toolConfig`, `tools`, …), `generationConfig` (merged into ours) and
 * any `generationConfig` field given at the top level (`thinkingConfig`, `topK`, …).
 *
 * @since 0.1.0
 * @category request
 */
export interface ProviderOptions extends Omit<GenerationConfig, "thinkingConfig"> {
  readonly cachedContent?: string
  readonly safetySettings?: ReadonlyArray<SafetySetting>
  readonly generationConfig?: GenerationConfig
  readonly thinkingConfig?: GenerationConfig["thinkingConfig"]
}

/**
 * The body of `POST /{version}/models/{model}:batchEmbedContents`.
 *
 * @since 0.1.0
 * @category request
 */
export interface BatchEmbedContentsRequest {
  readonly requests: ReadonlyArray<{
    readonly model: string
    readonly content: Content
    readonly outputDimensionality?: number
  }>
}
