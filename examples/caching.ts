/**
 * Response caching as a Layer: the second identical call is answered from the cache — no
 * provider request, nothing spent — for chat and for streams; a per-call policy; and a
 * file cache shared by two clients (as two processes would share it).
 *
 * Run against the mock server: scripts/run-examples.mjs (sets OPENAI_BASE_URL), or
 * OPENAI_BASE_URL=http://127.0.0.1:PORT/v1 OPENAI_API_KEY=sk-… npx tsx examples/caching.ts
 */
import { LlmClient, ResponseCache, StreamEvent } from "@llm-fiber/core"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const onMock = process.env.LLM_FIBER_DEMO_MOCK === "1"
// on the mock server a model name carries controls: answer after 300 ms, like a real model
const model = onMock ? "gpt-4o-mini?delayMs=300" : (process.env.LLM_FIBER_MODEL ?? "gpt-4o-mini")
const baseUrl = process.env.OPENAI_BASE_URL ?? "http://127.0.0.1:8080/v1"

/** How many requests the mock server has received (what the provider saw). */
const providerRequests: Effect.Effect<number | undefined> = onMock
  ? Effect.promise(() =>
    fetch(new URL("/__mock/requests", baseUrl)).then((r) => r.json()).then((list: unknown) =>
      Array.isArray(list) ? list.length : undefined
    )
  )
  : Effect.succeed(undefined)

/** Run `call`, and say how many provider requests it made. */
const counted = <A, E, R>(call: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* providerRequests
    const value = yield* call
    const after = yield* providerRequests
    return [value, before === undefined || after === undefined ? "?" : String(after - before)] as const
  })

const check = (condition: boolean, message: string) => condition ? Effect.void : Effect.dieMessage(message)

const request = { model, messages: "In one sentence: why cache LLM responses?", temperature: 0 }

const memoryDemo = Effect.gen(function*() {
  const llm = yield* LlmClient.LlmClient

  // 1. chat: a miss goes to the provider, the same request again is a hit
  const [miss, missRequests] = yield* counted(llm.chat(request))
  yield* Console.log(
    `1. miss → fromCache: ${miss.fromCache ?? false}, ${miss.timing.latencyMs} ms, provider requests: ${missRequests}`
  )
  const [hit, hitRequests] = yield* counted(llm.chat({ ...request, metadata: { attempt: "2" } }))
  yield* Console.log(
    `   hit  → fromCache: ${hit.fromCache}, ${hit.timing.latencyMs} ms, provider requests: ${hitRequests}, ` +
      `original usage: ${hit.usage.totalTokens} tokens`
  )
  yield* check(hit.fromCache === true && hit.text === miss.text, "the second call should be a cache hit")
  yield* check(hitRequests === "0" || hitRequests === "?", "a hit must not reach the provider")

  // 2. streams: a complete stream is stored as its events and replayed in order
  const streamRequest = { model, messages: "Count from one to five." }
  const [streamed] = yield* counted(StreamEvent.accumulate(llm.chatStream(streamRequest)))
  const [replayed, replayRequests] = yield* counted(StreamEvent.accumulate(llm.chatStream(streamRequest)))
  yield* Console.log(
    `2. stream replay → fromCache: ${replayed.fromCache}, same text: ${
      replayed.text === streamed.text
    }, provider requests: ${replayRequests}`
  )
  yield* check(replayed.fromCache === true, "the second stream should be replayed from the cache")

  // 3. a per-call policy: "off" skips the cache, "refresh" calls and overwrites
  const [fresh, freshRequests] = yield* counted(llm.chat({ ...request, responseCache: { policy: "off" } }))
  yield* Console.log(`3. policy off → fromCache: ${fresh.fromCache ?? false}, provider requests: ${freshRequests}`)
})

const fileDemo = (directory: string) =>
  Effect.gen(function*() {
    // two clients over one directory, as two processes (or two runs) would be
    const clientA = LlmClient.layerFromEnv().pipe(Layer.provide(ResponseCache.layerFile({ directory, gzip: true })))
    const clientB = LlmClient.layerFromEnv().pipe(Layer.provide(ResponseCache.layerFile({ directory, gzip: true })))
    const ask = LlmClient.chat({ ...request, messages: "Name one benefit of a file cache." })
    const [first] = yield* counted(Effect.provide(ask, clientA))
    const [second, requests] = yield* counted(Effect.provide(ask, clientB))
    yield* Console.log(
      `4. file cache → first fromCache: ${first.fromCache ?? false}, other client fromCache: ${second.fromCache}, ` +
        `provider requests: ${requests}`
    )
    yield* check(second.fromCache === true, "the other client should read the entry from disk")
  })

const program = Effect.gen(function*() {
  yield* Console.log(`model: ${model}${onMock ? " (mock server)" : ""}\n`)
  yield* Effect.provide(
    memoryDemo,
    // entries live one hour; at most 1 000 of them (least recently used go first)
    LlmClient.layerFromEnv().pipe(Layer.provide(ResponseCache.layerMemory({ ttlMs: 60 * 60_000, maxEntries: 1_000 })))
  )
  yield* Effect.acquireUseRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "llm-fiber-cache-example-"))),
    fileDemo,
    (directory) => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true }))
  )
})

Effect.runPromise(
  // every call also logs one structured line (with `cache=hit|miss|none`): drop the next
  // line to see them
  program.pipe(Logger.withMinimumLogLevel(LogLevel.None))
).catch((error) => {
  console.error(error)
  process.exit(1)
})
