// Non-streaming calls at concurrency 64 in successive windows of 1,000 calls: CPU µs per call
// in each window — how the cost falls while the JIT warms up, and where it settles (CPU per
// call and calls/s of the last windows).
//
//   node bench/hot-steady.mjs <undici-raw | fiber-effect | fiber-promise> <baseUrl> [windows = 14]
//
// (after `npx tsc -b tsconfig.build.json`; pin it with `taskset -c 1`, the mock server with
// `taskset -c 0`)
const [adapter, baseUrl, windowsArg] = process.argv.slice(2)
const windows = Number(windowsArg ?? 14)
const prompt = "Hello there, how are you?"

const make = async () => {
  if (adapter === "undici-raw") {
    const undici = await import("undici")
    const agent = new undici.Agent({ keepAliveTimeout: 30_000 })
    const url = new URL(baseUrl + "/chat/completions")
    const headers = { "content-type": "application/json", authorization: "Bearer sk-bench" }
    return {
      chat: async () => {
        const res = await agent.request({
          origin: url.origin,
          path: url.pathname,
          method: "POST",
          headers,
          body: JSON.stringify({ model: "mock", messages: [{ role: "user", content: prompt }] })
        })
        return (await res.body.json()).choices[0].message.content.length
      },
      close: () => agent.close()
    }
  }
  if (adapter === "fiber-promise") {
    const { createLlmClient } = await import("@llm-fiber/core/promise")
    const llm = createLlmClient({ env: { OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: "sk-bench" }, maxRetries: 0 })
    return {
      chat: async () => (await llm.chat({ model: "openai:mock", messages: prompt })).text.length,
      close: () => llm.dispose()
    }
  }
  const { Effect, Layer, Logger, LogLevel, ManagedRuntime } = await import("effect")
  const { LlmClient, ProviderRegistry, RetryPolicy, UndiciHttpClient } = await import("@llm-fiber/core")
  const { OpenAI } = await import("@llm-fiber/openai")
  const layer = LlmClient.layer.pipe(
    Layer.provide(OpenAI.layer({ apiKey: "sk-bench", baseUrl })),
    Layer.provide(
      Layer.mergeAll(ProviderRegistry.layer, UndiciHttpClient.layer(), RetryPolicy.layer({ maxRetries: 0 }))
    )
  )
  const runtime = ManagedRuntime.make(Layer.merge(layer, Logger.minimumLogLevel(LogLevel.None)))
  const client = await runtime.runPromise(LlmClient.LlmClient)
  return {
    chat: () =>
      runtime.runPromise(Effect.map(client.chat({ model: "openai:mock", messages: prompt }), (r) => r.text.length)),
    close: () => runtime.dispose()
  }
}

const client = await make()
const run = async (total) => {
  let next = 0
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next++ < total) await client.chat()
  }))
}
const out = []
const rates = []
for (let w = 0; w < windows; w++) {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await run(1000)
  const cpu = process.cpuUsage(cpu0)
  rates.push(1000 / ((performance.now() - t0) / 1000))
  out.push(((cpu.user + cpu.system) / 1000).toFixed(0))
}
const median6 = (xs) => {
  const last = xs.slice(-6).map(Number).sort((a, b) => a - b)
  return (last[2] + last[3]) / 2
}
console.log(
  `${adapter.padEnd(14)} ${out.join(" ")}  | last 6 windows (medians): ${median6(out).toFixed(0)} µs CPU/call, ${
    median6(rates).toFixed(0)
  } calls/s`
)
await client.close()
