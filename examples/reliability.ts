/**
 * Reliability as Layers: retries, timeouts, a circuit breaker, client-side rate limits,
 * a key pool and a fallback chain — each configured (or replaced) by providing a Layer.
 *
 * Run against the mock server: scripts/run-examples.mjs (sets OPENAI_BASE_URL), or
 * OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 npx tsx examples/reliability.ts
 */
import {
  CircuitBreaker,
  LlmClient,
  ProviderRegistry,
  RateLimiter,
  RetryPolicy,
  Timeouts,
  UndiciHttpClient
} from "@llm-fiber/core"
import { OpenAI } from "@llm-fiber/openai"
import { Console, Effect, Layer, Logger, LogLevel, Schedule } from "effect"

const baseUrl = process.env.OPENAI_BASE_URL ?? "http://127.0.0.1:8080/v1"

const Reliability = Layer.mergeAll(
  // 3 retries, 100 ms apart (any Schedule works); Retry-After is honoured up to 10 s
  RetryPolicy.layer({ maxRetries: 3, schedule: Schedule.spaced("100 millis"), maxRetryAfterMs: 10_000 }),
  // deadlines for hosted APIs; Timeouts.localModels for a model on a CPU
  Timeouts.layer({ firstByteMs: 20_000, idleMs: 20_000, totalMs: 120_000 }),
  // open a provider+model circuit after 3 consecutive failures, probe again after 5 s
  CircuitBreaker.layerDefault({ failureThreshold: 3, cooldownMs: 5_000 }),
  // at most 120 requests and 200k tokens per minute per model; wait rather than fail
  RateLimiter.layerMemory({ rules: [{ scope: "model", rpm: 120, tpm: 200_000 }], mode: "wait" })
)

// two keys (or deployments), used in turn; a key that gets a 429 cools down for its Retry-After
const Providers = OpenAI.layer({ baseUrl, apiKeys: ["sk-key-one", "sk-key-two"], keyStrategy: "round-robin" })

const Live = LlmClient.layer.pipe(
  Layer.provide(Providers),
  Layer.provideMerge(Reliability),
  Layer.provide(Layer.merge(ProviderRegistry.layer, UndiciHttpClient.layer()))
)

const program = Effect.gen(function*() {
  const llm = yield* LlmClient.LlmClient
  // a 503 on the first attempt: retried, then served
  const retried = yield* llm.chat({ model: "openai:mock?fault=503&times=1", messages: "hello" })
  yield* Console.log(`retried → ${retried.text}`)
  // the primary keeps failing: the next model of the chain serves the call, and says so
  const fellBack = yield* llm.chat({
    model: "openai:mock?fault=500",
    fallback: ["gpt-4o-mini"],
    maxRetries: 0,
    messages: "hello"
  })
  yield* Console.log(`fallback → ${fellBack.model}, after: ${fellBack.fallbacks?.map((f) => f.error).join(", ")}`)
  // a stalled stream ends with a typed TimeoutError naming its phase
  yield* llm.chat({ model: "openai:mock?fault=stall", messages: "hello", maxRetries: 0, timeout: { totalMs: 200 } })
    .pipe(
      Effect.catchTag("TimeoutError", (e) => Console.log(`timeout → phase ${e.phase} after ${e.timeoutMs} ms`))
    )
  const circuits = yield* CircuitBreaker.snapshot
  yield* Console.log(`circuits: ${circuits.map((c) => `${c.provider}:${c.model}=${c.state}`).join(", ")}`)
})

Effect.runPromise(
  // every call also logs one structured line (info on success, warning on failure): drop the
  // next line to see them, or set Logger.minimumLogLevel to taste
  program.pipe(Effect.provide(Live), Logger.withMinimumLogLevel(LogLevel.None))
).catch((error) => {
  console.error(error)
  process.exit(1)
})
