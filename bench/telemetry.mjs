// The cost of telemetry: LlmClient.chat and chatStream against a provider that answers at
// once (no HTTP), in µs of CPU per call,
//   (a) with Effect's default tracer (spans are made but go nowhere),
//   (b) with the OpenTelemetry SDK behind @effect/opentelemetry (Otel.layerInMemory: every
//       span exported into memory through a SimpleSpanProcessor, metrics readable by an SDK
//       reader) — no global context manager, so no context propagation (the default),
//   (c) the same with propagateContext: true — what a registered global context manager
//       (@opentelemetry/sdk-node, auto-instrumentation) adds at every fiber step.
// The per-call log line is silenced in all. Several alternating reps; medians.
//
//   npx tsc -b tsconfig.build.json && node bench/telemetry.mjs [calls per rep] [reps]
import { LlmClient, ProviderRegistry, StreamEvent } from "@llm-fiber/core"
import { Otel } from "@llm-fiber/otel"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { performance } from "node:perf_hooks"
import { provider } from "./instant.mjs"

const client = LlmClient.layer.pipe(
  Layer.provide(ProviderRegistry.register(Effect.succeed(provider))),
  Layer.provide(ProviderRegistry.layer),
  Layer.provide(Logger.minimumLogLevel(LogLevel.None))
)

const plain = ManagedRuntime.make(Layer.merge(client, Logger.minimumLogLevel(LogLevel.None)))
const tracedWith = (options) =>
  ManagedRuntime.make(Layer.mergeAll(client, Logger.minimumLogLevel(LogLevel.None), Otel.layerInMemory(options)))
const traced = tracedWith({ serviceName: "bench" })
const propagating = tracedWith({ serviceName: "bench", propagateContext: true })
const resetSpans = Effect.flatMap(Otel.InMemoryTelemetry, (t) => t.reset)
const request = { model: "gpt-4o-mini", messages: "Hello there, how are you?" }

const setups = {
  "no tracer": { runtime: plain, client: await plain.runPromise(LlmClient.LlmClient), reset: Effect.void },
  "OpenTelemetry (in memory)": {
    runtime: traced,
    client: await traced.runPromise(LlmClient.LlmClient),
    reset: resetSpans
  },
  "OpenTelemetry + context propagation": {
    runtime: propagating,
    client: await propagating.runPromise(LlmClient.LlmClient),
    reset: resetSpans
  }
}

const calls = {
  chat: (s) => s.runtime.runPromise(s.client.chat(request)),
  chatStream: (s) => s.runtime.runPromise(StreamEvent.accumulate(s.client.chatStream(request)))
}

/** CPU µs per call of `n` calls. */
const measure = async (n, f) => {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await f()
  const cpu = process.cpuUsage(cpu0)
  return { cpu: (cpu.user + cpu.system) / n, wall: (performance.now() - t0) * 1000 / n }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

const n = Number(process.argv[2] ?? 5000)
const reps = Number(process.argv[3] ?? 7)
console.log(`node ${process.version}, ${n} calls per rep, ${reps} reps (alternating), medians of CPU µs per call\n`)

const rows = []
for (const [callName, call] of Object.entries(calls)) {
  const samples = Object.fromEntries(Object.keys(setups).map((k) => [k, []]))
  for (const setup of Object.values(setups)) for (let i = 0; i < 1000; i++) await call(setup) // warm-up
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, setup] of Object.entries(setups)) {
      await setup.runtime.runPromise(setup.reset)
      samples[name].push(await measure(n, () => call(setup)))
    }
  }
  // proof that (b) really exported spans: those of its last rep
  const spans = await traced.runPromise(Effect.flatMap(Otel.InMemoryTelemetry, (t) => t.spans))
  if (spans.length < n) throw new Error(`expected the traced run to export spans, got ${spans.length}`)
  const base = median(samples["no tracer"].map((s) => s.cpu))
  for (const [name, list] of Object.entries(samples)) {
    const cpu = median(list.map((s) => s.cpu))
    const row = {
      call: callName,
      setup: name,
      cpu: cpu.toFixed(1),
      wall: median(list.map((s) => s.wall)).toFixed(1),
      overhead: name === "no tracer" ? "" : `+${(cpu - base).toFixed(1)} µs (${((cpu / base - 1) * 100).toFixed(0)}%)`
    }
    rows.push(row)
    console.log(
      `${row.call.padEnd(11)} ${row.setup.padEnd(36)} ${row.cpu.padStart(8)} µs CPU/call ${
        row.wall.padStart(8)
      } µs wall/call  ${row.overhead}`
    )
  }
}
console.log("\n| call | setup | CPU per call (median) | overhead |\n|---|---|---|---|")
for (const r of rows) console.log(`| \`${r.call}\` | ${r.setup} | ${r.cpu} µs | ${r.overhead || "—"} |`)
await plain.dispose()
await traced.dispose()
await propagating.dispose()
