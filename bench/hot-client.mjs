// The one-process benchmark client of the hot-path tuning (a frozen copy of the first
// bench/client.mjs): `node bench/hot-client.mjs <adapter> <scenario> <baseUrl> [count]`.
import { performance } from "node:perf_hooks"

const [adapterName, scenario, baseUrl, countArg] = process.argv.slice(2)
const count = Number(countArg ?? 0)

const body = (model, stream) =>
  JSON.stringify({
    model,
    messages: [{ role: "user", content: "Hello there, how are you?" }],
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {})
  })

// --- adapters: each exposes chat(model) -> Promise<text length>, stream(model) -> Promise<#text deltas>
const adapters = {
  // the floor: undici.request, a minimal SSE line split, one JSON.parse per event
  async "undici-raw"() {
    const undici = await import("undici")
    const agent = new undici.Agent({ keepAliveTimeout: 30_000 })
    const url = new URL(baseUrl + "/chat/completions")
    const headers = { "content-type": "application/json", authorization: "Bearer sk-bench" }
    return {
      async chat(model) {
        const res = await agent.request({
          origin: url.origin,
          path: url.pathname,
          method: "POST",
          headers,
          body: body(model, false)
        })
        const json = await res.body.json()
        return json.choices[0].message.content.length
      },
      async stream(model) {
        const res = await agent.request({
          origin: url.origin,
          path: url.pathname,
          method: "POST",
          headers,
          body: body(model, true)
        })
        const decoder = new TextDecoder()
        let buffer = ""
        let deltas = 0
        for await (const bytes of res.body) {
          buffer += decoder.decode(bytes, { stream: true })
          let index
          while ((index = buffer.indexOf("\n\n")) !== -1) {
            const frame = buffer.slice(0, index)
            buffer = buffer.slice(index + 2)
            if (!frame.startsWith("data: ")) continue
            const data = frame.slice(6)
            if (data === "[DONE]") continue
            const chunk = JSON.parse(data)
            if (chunk.choices?.[0]?.delta?.content) deltas++
          }
        }
        return deltas
      },
      close: () => agent.close()
    }
  },
  async "fiber-effect"() {
    return fiberEffect("undici")
  },
  async "fiber-effect-fetch"() {
    return fiberEffect("fetch")
  },
  async "fiber-promise"() {
    const { createLlmClient } = await import("@llm-fiber/core/promise")
    const llm = createLlmClient({ env: { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: "sk-bench" }, maxRetries: 0 })
    return {
      async chat(model) {
        return (await llm.chat({ model: "openai:" + model, messages: "Hello there, how are you?" })).text.length
      },
      async stream(model) {
        let deltas = 0
        for await (const event of llm.chatStream({ model: "openai:" + model, messages: "Hello there, how are you?" })) {
          if (event._tag === "TextDelta") deltas++
        }
        return deltas
      },
      close: () => llm.dispose()
    }
  }
}

async function fiberEffect(transport) {
  const { Effect, Layer, Logger, LogLevel, ManagedRuntime, Stream } = await import("effect")
  const { FetchHttpClient } = await import("@effect/platform")
  const { LlmClient, ProviderRegistry, UndiciHttpClient, RetryPolicy } = await import("@llm-fiber/core")
  const { OpenAI } = await import("@llm-fiber/openai")
  const http = transport === "fetch" ? FetchHttpClient.layer : UndiciHttpClient.layer()
  const layer = LlmClient.layer.pipe(
    Layer.provide(OpenAI.layer({ apiKey: "sk-bench", baseUrl })),
    Layer.provide(Layer.mergeAll(ProviderRegistry.layer, http, RetryPolicy.layer({ maxRetries: 0 })))
  )
  // the per-call log line is silenced, as the Promise facade does by default
  const runtime = ManagedRuntime.make(Layer.merge(layer, Logger.minimumLogLevel(LogLevel.None)))
  const client = await runtime.runPromise(LlmClient.LlmClient)
  return {
    chat: (model) =>
      runtime.runPromise(
        Effect.map(
          client.chat({ model: "openai:" + model, messages: "Hello there, how are you?" }),
          (r) => r.text.length
        )
      ),
    stream: (model) =>
      runtime.runPromise(
        Stream.runFold(
          client.chatStream({ model: "openai:" + model, messages: "Hello there, how are you?" }),
          0,
          (n, e) => e._tag === "TextDelta" ? n + 1 : n
        )
      ),
    close: () => runtime.dispose()
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

const adapter = await adapters[adapterName]()
const result = { adapter: adapterName, scenario }

if (scenario === "chat-c1") {
  const n = count || 2000
  for (let i = 0; i < 300; i++) await adapter.chat("mock")
  const latencies = new Array(n)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await adapter.chat("mock")
    latencies[i] = performance.now() - start
  }
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  latencies.sort((a, b) => a - b)
  Object.assign(result, {
    requests: n,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuUsPerRequest: (cpu.user + cpu.system) / n,
    reqPerSec: n / (wall / 1000)
  })
} else if (scenario === "chat-c64") {
  const n = count || 6400
  const concurrency = 64
  const run = async (total) => {
    let next = 0
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < total) await adapter.chat("mock")
    }))
  }
  await run(640)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await run(n)
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  Object.assign(result, { requests: n, reqPerSec: n / (wall / 1000), cpuUsPerRequest: (cpu.user + cpu.system) / n })
} else if (scenario === "stream-10k") {
  const chunks = count || 10_000
  await adapter.stream("mock?chunks=1000")
  await adapter.stream("mock?chunks=1000")
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deltas = await adapter.stream(`mock?chunks=${chunks}`)
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  if (deltas !== chunks) throw new Error(`${adapterName}: expected ${chunks} deltas, got ${deltas}`)
  Object.assign(result, {
    chunks,
    chunksPerSec: chunks / (wall / 1000),
    cpuUsPerChunk: (cpu.user + cpu.system) / chunks
  })
} else if (scenario === "stream-small-c16") {
  // the fixed cost of a stream, 16 at a time (the CPU stays busy): CPU per stream
  const n = count || 3200
  const run = async (total) => {
    let next = 0
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next++ < total) {
        const deltas = await adapter.stream("mock?chunks=5")
        if (deltas !== 5) throw new Error(`${adapterName}: expected 5 deltas, got ${deltas}`)
      }
    }))
  }
  await run(640)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await run(n)
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  Object.assign(result, { streams: n, streamsPerSec: n / (wall / 1000), cpuUsPerStream: (cpu.user + cpu.system) / n })
} else if (scenario === "stream-small") {
  // the fixed cost of a stream: sequential 5-chunk streams, CPU per stream
  const n = count || 2000
  for (let i = 0; i < 300; i++) await adapter.stream("mock?chunks=5")
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const deltas = await adapter.stream("mock?chunks=5")
    if (deltas !== 5) throw new Error(`${adapterName}: expected 5 deltas, got ${deltas}`)
  }
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  Object.assign(result, { streams: n, cpuUsPerStream: (cpu.user + cpu.system) / n, wallUsPerStream: (wall * 1000) / n })
} else {
  throw new Error(`unknown scenario ${scenario}`)
}
await adapter.close()
console.log(JSON.stringify(result))
