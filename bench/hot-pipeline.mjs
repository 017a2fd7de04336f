// The fixed cost of the llm-fiber pipeline, no HTTP: a provider that answers at once, the
// per-call log line silenced (as the Promise facade does by default). CPU µs per call,
// median of `reps` alternating rounds.
//
//   node bench/hot-pipeline.mjs [calls per round = 5000] [rounds = 5]
//
// (after `npx tsc -b tsconfig.build.json`; pin it with `taskset -c 1` for stable figures)
import { LlmClient, Provider, ProviderRegistry, StreamEvent } from "@llm-fiber/core"
import { Chunk, Effect, Layer, Logger, LogLevel, ManagedRuntime, Stream } from "effect"
import { events, result } from "./instant.mjs"
// internal modules (bench only, absent before the tuning): the sources under the native streams
// of the HTTP providers, and the mark of a provider that enforces its own total deadline (as
// the HTTP providers do)
const internal = async (name) => import(`../packages/core/dist/internal/${name}.js`).catch(() => undefined)
const Deadline = await internal("deadline")
const Source = await internal("source")

// a long stream in chunks of 50 events (as a network read of a fast stream would give)
const long = []
for (let i = 0; i < 100; i++) {
  const chunk = []
  for (let j = 0; j < 50; j++) chunk.push(StreamEvent.textDelta("x"))
  long.push(chunk)
}
const longChunks = [[StreamEvent.start("x", "long", "openai")], ...long, [StreamEvent.finish("stop", {})]]
const provider = {
  name: "openai",
  api: "test",
  capabilities: Provider.noCapabilities,
  chat: () => Effect.succeed(result),
  chatStream: (call) =>
    call.model === "long"
      ? Stream.fromChunks(...longChunks.map((c) => Chunk.unsafeFromArray(c)))
      : call.model === "native" && Source !== undefined
      // as an HTTP provider's stream: native, pulled without a Stream run
      ? Source.native(Effect.sync(() => Source.fromChunks([events.slice(0, 2), events.slice(2)])))
      : Stream.fromIterable(events)
}
// HOT_GENERIC=1 measures a provider that does not enforce its deadline (a fiber per attempt)
if (process.env.HOT_GENERIC === undefined) Deadline?.markEnforcesTotal(provider)
const runtime = ManagedRuntime.make(
  Layer.merge(
    LlmClient.layer.pipe(
      Layer.provide(ProviderRegistry.register(Effect.succeed(provider))),
      Layer.provide(ProviderRegistry.layer)
    ),
    Logger.minimumLogLevel(LogLevel.None)
  )
)
const client = await runtime.runPromise(LlmClient.LlmClient)
const request = { model: "gpt-4o-mini", messages: "Hello there, how are you?" }
const longRequest = { model: "openai:long", messages: "Hello there, how are you?" }
const nativeRequest = { model: "openai:native", messages: "Hello there, how are you?" }
// what the Promise facade does: open the call's source, pull it to the end (no Stream run)
const pullAll = (stream) =>
  Effect.acquireUseRelease(Source.openOf(stream), (source) => {
    let n = 0
    const loop = Effect.flatMap(source.pull, (items) => {
      if (items === undefined) return Effect.succeed(n)
      n += items.length
      return loop
    })
    return loop
  }, (source, exit) => source.close(exit))

const calls = Number(process.argv[2] ?? 5000)
const rounds = Number(process.argv[3] ?? 5)

const cases = [
  ["runPromise(Effect.void) (floor)", () => runtime.runPromise(Effect.void), 1],
  ["chat", () => runtime.runPromise(client.chat(request)), 1],
  ["chat, tracer off", () => runtime.runPromise(Effect.withTracerEnabled(client.chat(request), false)), 1],
  [
    "accumulate(chatStream) (5 events)",
    () => runtime.runPromise(StreamEvent.accumulate(client.chatStream(request))),
    1
  ],
  ...(Source === undefined ? [] : [
    [
      "accumulate(chatStream), native provider stream",
      () => runtime.runPromise(StreamEvent.accumulate(client.chatStream(nativeRequest))),
      1
    ],
    [
      "pull chatStream to the end (as the facade), native",
      () => runtime.runPromise(pullAll(client.chatStream(nativeRequest))),
      1
    ]
  ]),
  [
    "runDrain(chatStream) 5,000 deltas, per delta",
    () => runtime.runPromise(Stream.runDrain(client.chatStream(longRequest))),
    5000
  ]
]

// HOT_ONLY=<regexp> keeps the matching cases (e.g. for a `node --cpu-prof` run)
const only = process.env.HOT_ONLY
if (only !== undefined) cases.splice(0, cases.length, ...cases.filter(([label]) => new RegExp(only).test(label)))
const samples = new Map(cases.map(([label]) => [label, []]))
for (const [, f, per] of cases) for (let i = 0; i < Math.max(200, 2000 / per); i++) await f()
for (let round = 0; round < rounds; round++) {
  for (const [label, f, per] of cases) {
    const n = Math.max(20, Math.round(calls / per * 5))
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < n; i++) await f()
    const cpu = process.cpuUsage(cpu0)
    samples.get(label).push((cpu.user + cpu.system) / n / per)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const [label] of cases) {
  console.log(`${label.padEnd(48)} ${median(samples.get(label)).toFixed(2).padStart(9)} µs CPU`)
}
await runtime.dispose()
