// The cost of the llm-fiber pipeline itself: LlmClient.chat against a provider that answers
// at once (no HTTP), in µs per call — `node bench/pipeline.mjs` after `npm run build`.
import { LlmClient, ProviderRegistry, StreamEvent } from "@llm-fiber/core"
import { Effect, Layer, ManagedRuntime } from "effect"
import { performance } from "node:perf_hooks"
import { provider } from "./instant.mjs"

const runtime = ManagedRuntime.make(LlmClient.layer.pipe(
  Layer.provide(ProviderRegistry.register(Effect.succeed(provider))),
  Layer.provide(ProviderRegistry.layer)
))
const client = await runtime.runPromise(LlmClient.LlmClient)
const request = { model: "gpt-4o-mini", messages: "Hello there, how are you?" }

const measure = async (label, n, f) => {
  for (let i = 0; i < 2000; i++) await f()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await f()
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  console.log(
    `${label.padEnd(44)} ${((cpu.user + cpu.system) / n).toFixed(1).padStart(7)} µs CPU/call  ${
      (wall * 1000 / n).toFixed(1).padStart(7)
    } µs wall/call`
  )
}
const n = Number(process.argv[2] ?? 20000)
await measure("runPromise(Effect.void) (floor)", n, () => runtime.runPromise(Effect.void))
await measure("runPromise(chat)", n, () => runtime.runPromise(client.chat(request)))
await measure(
  "runPromise(accumulate(chatStream))",
  n,
  () => runtime.runPromise(StreamEvent.accumulate(client.chatStream(request)))
)
await runtime.dispose()
