// Response-cache benchmark: a provider call on the mock server vs a memory-cache hit vs a
// Redis-cache hit, and the effect of coalescing 100 identical concurrent requests.
//
//   npm run build && node bench/cache.mjs [calls=2000]
//
// Redis: uses LLM_FIBER_REDIS_URL when set, else starts `redis-server` on a free loopback
// port (and stops it after). Prints a Markdown section for bench/RESULTS.md.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"

const calls = Number(process.argv[2] ?? 2000)

const { Effect, Layer, Logger, LogLevel, ManagedRuntime } = await import("effect")
const { LlmClient, ProviderRegistry, ResponseCache, RetryPolicy, UndiciHttpClient } = await import("@llm-fiber/core")
const { OpenAI } = await import("@llm-fiber/openai")
const { MockServer } = await import("@llm-fiber/testing")
const { Redis, RedisCache } = await import("@llm-fiber/redis")

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on("error", reject)
  })

const startRedis = async () => {
  if (process.env.LLM_FIBER_REDIS_URL) return { url: process.env.LLM_FIBER_REDIS_URL, stop: async () => {} }
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-redis-"))
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir], {
    stdio: "ignore"
  })
  const url = `redis://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end()
        resolve(true)
      })
      socket.on("error", () => resolve(false))
    })
    if (ok) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM")
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

const server = await MockServer.start({ record: true })
const redis = await startRedis()
const quiet = Logger.minimumLogLevel(LogLevel.None)

const clientLayer = (cache) =>
  LlmClient.layer.pipe(
    Layer.provide(OpenAI.layer({ apiKey: "sk-bench", baseUrl: server.openaiBaseUrl })),
    Layer.provide(
      Layer.mergeAll(ProviderRegistry.layer, UndiciHttpClient.layer(), RetryPolicy.layer({ maxRetries: 0 }))
    ),
    Layer.provide(cache)
  )

const request = { model: "openai:gpt-4o-mini", messages: "Hello there, how are you?" }

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const p99 = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]
}

const measure = async (name, cache, { prime }) => {
  const runtime = ManagedRuntime.make(Layer.merge(clientLayer(cache), quiet))
  const client = await runtime.runPromise(LlmClient.LlmClient)
  if (prime) await runtime.runPromise(client.chat(request))
  for (let i = 0; i < 200; i++) await runtime.runPromise(client.chat(request)) // warm-up
  server.reset()
  const latencies = []
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < calls; i++) {
    const t = performance.now()
    await runtime.runPromise(client.chat(request))
    latencies.push(performance.now() - t)
  }
  const cpu = process.cpuUsage(cpu0)
  const providerCalls = server.requests.length
  await runtime.dispose()
  return {
    name,
    p50: median(latencies),
    p99: p99(latencies),
    cpuUs: (cpu.user + cpu.system) / calls,
    providerCalls
  }
}

const coalescing = async (coalesce) => {
  const runtime = ManagedRuntime.make(
    Layer.merge(clientLayer(ResponseCache.layerMemory({ coalesce })), quiet)
  )
  const client = await runtime.runPromise(LlmClient.LlmClient)
  server.reset()
  // a slow provider answer (200 ms before the headers) so all 100 are in flight together
  const slow = { ...request, model: "openai:mock?delayMs=200", messages: `coalesce ${coalesce}` }
  await runtime.runPromise(
    Effect.all(Array.from({ length: 100 }, () => client.chat(slow)), { concurrency: "unbounded" })
  )
  const made = server.requests.length
  await runtime.dispose()
  return made
}

const rows = []
rows.push(await measure("provider call (cache off)", ResponseCache.layerDisabled, { prime: false }))
rows.push(await measure("memory cache hit", ResponseCache.layerMemory(), { prime: true }))
rows.push(
  await measure(
    "Redis cache hit",
    RedisCache.layer().pipe(Layer.provide(Redis.layerFromUrl(redis.url))),
    { prime: true }
  )
)
const withCoalescing = await coalescing(true)
const withoutCoalescing = await coalescing(false)

await server.close()
await redis.stop()

const fmt = (n, d = 3) => n.toFixed(d)
console.log(`## Response cache (\`node bench/cache.mjs ${calls}\`)\n`)
console.log(
  `Mock server (OpenAI chat) in the same process, sequential calls of the Effect API; ${calls} calls each after a warm-up.\n`
)
console.log("| path | p50 latency (ms) | p99 latency (ms) | client CPU per call (µs) | provider requests |")
console.log("|---|---|---|---|---|")
for (const r of rows) {
  console.log(`| ${r.name} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.cpuUs, 0)} | ${r.providerCalls} |`)
}
console.log(
  `\nCoalescing: 100 identical concurrent requests (provider answer delayed 200 ms) made ${withCoalescing} provider request(s) with \`coalesce: true\` and ${withoutCoalescing} without.`
)
