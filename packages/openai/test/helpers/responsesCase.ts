/** The shape of one expected Responses fixture result (see `responsesExpected.ts`). */
import type { ChatResult, Usage } from "@llm-fiber/core"

export interface TextExpectation {
  readonly length: number
  readonly sha256: string
  readonly head: string
}

export interface ResponsesCase {
  readonly file: string
  /** `stream`: one step of a `*.chunks.txt` file (some hold several responses in a row). */
  readonly kind: "stream" | "json"
  readonly step?: number
  readonly steps?: number
  readonly id: string
  readonly model: string
  readonly text: TextExpectation | undefined
  readonly reasoning: TextExpectation | undefined
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly rawArguments: string }>
  readonly finishReason: ChatResult.FinishReason
  readonly usage: Usage.Usage | null
  /** Output item types we do not model (skipped, listed in providerMetadata). */
  readonly skipped: ReadonlyArray<string>
}
