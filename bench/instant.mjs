// A provider that answers at once (no HTTP), shared by the pipeline benchmarks.
import { ChatResult, Provider, StreamEvent } from "@llm-fiber/core"
import { Effect, Stream } from "effect"

/** The fixed result every call returns. */
export const result = new ChatResult.ChatResult({
  id: "x",
  model: "gpt-4o-mini",
  provider: "openai",
  text: "hello",
  message: ChatResult.assistantMessage("hello", []),
  toolCalls: [],
  finishReason: "stop",
  usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 },
  timing: { latencyMs: 0, ttfbMs: 0 }
})

/** The result as stream events. */
export const events = StreamEvent.fromResult(result)

/** The provider, registered as `openai`. */
export const provider = {
  name: "openai",
  api: "test",
  capabilities: Provider.noCapabilities,
  chat: () => Effect.succeed(result),
  chatStream: () => Stream.fromIterable(events)
}
