/**
 * Quick start for plain async code: no Effect types in sight.
 *
 * Run: npx tsx examples/promise.ts  (with OPENAI_API_KEY set, or OPENAI_BASE_URL at the mock server)
 */
import { createLlmClient } from "@llm-fiber/core/promise"

const model = process.env.LLM_FIBER_MODEL ?? "gpt-4o-mini"
const llm = createLlmClient({ timeouts: { totalMs: 60_000 }, maxRetries: 2 })

try {
  const result = await llm.chat({ model, messages: "Say hello in French." })
  console.log(result.text, result.usage)

  // stream; breaking out of the loop aborts the HTTP request
  let deltas = 0
  for await (const event of llm.chatStream({ model, messages: "Write a long poem." })) {
    if (event._tag === "TextDelta") {
      process.stdout.write(event.text)
      if (++deltas === 3) break
    }
  }
  console.log("\n(stopped after 3 deltas)")

  // rejections are the typed errors themselves
  await llm.chat({ model, messages: "hi", temperature: 7 }).catch((error: { _tag: string; message: string }) => {
    console.log(`${error._tag}: ${error.message}`)
  })
} finally {
  await llm.dispose()
}
