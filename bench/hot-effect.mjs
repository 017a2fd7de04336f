// What Effect primitives cost on this machine (runPromise of each, CPU µs per run, minus
// nothing): the building blocks the hot paths are chosen from.
//
//   node bench/hot-effect.mjs [runs = 20000]
import { ChatResult, Metrics } from "@llm-fiber/core"
import { Clock, Duration, Effect, Logger, LogLevel, ManagedRuntime, Metric, Stream } from "effect"

const runtime = ManagedRuntime.make(Logger.minimumLogLevel(LogLevel.None))
await runtime.runPromise(Effect.void)
const m = Metrics.forCall("openai", "gpt-4o-mini")
const fields = {
  id: "x",
  model: "gpt-4o-mini",
  provider: "openai",
  text: "hello",
  message: ChatResult.assistantMessage("hello", []),
  toolCalls: [],
  finishReason: "stop",
  usage: { inputTokens: 10, outputTokens: 2, totalTokens: 12 },
  timing: { latencyMs: 0, ttfbMs: 0 }
}
const cases = {
  "void": Effect.void,
  "10 × flatMap": Array.from({ length: 10 }).reduce((e) => Effect.flatMap(e, () => Effect.void), Effect.void),
  "gen, 3 yields": Effect.gen(function*() {
    yield* Effect.void
    yield* Effect.void
    yield* Effect.void
  }),
  "withSpan": Effect.withSpan(Effect.void, "x", { captureStackTrace: false }),
  "timeoutFail": Effect.timeoutFail(Effect.void, { duration: Duration.seconds(10), onTimeout: () => "t" }),
  "timeout": Effect.timeout(Effect.void, Duration.seconds(10)),
  "async (setImmediate)": Effect.async((resume) => {
    setImmediate(() => resume(Effect.void))
  }),
  "promise (setImmediate)": Effect.promise(() => new Promise((r) => setImmediate(r))),
  "fork + join": Effect.flatMap(Effect.fork(Effect.void), (f) => f.await),
  "annotateLogs(logInfo) silenced": Effect.annotateLogs(Effect.logInfo("x"), { a: 1, b: 2 }),
  "Metric.increment": Metric.increment(m.requests),
  "6 metric updates (all)": Effect.all([
    Metric.update(m.latency, 5),
    Metric.update(m.ttfb, 5),
    Metric.incrementBy(m.inputTokens, 10),
    Metric.incrementBy(m.outputTokens, 10),
    Metric.incrementBy(m.costUsd, 0.1),
    Metric.increment(m.requests)
  ], { discard: true }),
  "Clock.currentTimeMillis": Clock.currentTimeMillis,
  "option(currentSpan)": Effect.option(Effect.currentSpan),
  "new ChatResult": Effect.sync(() => new ChatResult.ChatResult(fields, true)),
  "ensuring": Effect.ensuring(Effect.void, Effect.void),
  "onExit": Effect.onExit(Effect.void, () => Effect.void),
  "Stream.runDrain(empty)": Stream.runDrain(Stream.empty),
  "Stream.runDrain(fromIterable 5)": Stream.runDrain(Stream.fromIterable([1, 2, 3, 4, 5])),
  "Stream.toPull scoped, 1 pull": Effect.scoped(Effect.flatMap(Stream.toPull(Stream.make(1)), (pull) => pull))
}
const only = process.env.HOT_ONLY
const n = Number(process.argv[2] ?? 20000)
for (const [label, effect] of Object.entries(cases)) {
  if (only !== undefined && !label.includes(only)) continue
  for (let i = 0; i < 2000; i++) await runtime.runPromise(effect)
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < n; i++) await runtime.runPromise(effect)
  const cpu = process.cpuUsage(cpu0)
  console.log(`${label.padEnd(36)} ${((cpu.user + cpu.system) / n).toFixed(2).padStart(8)} µs`)
}
await runtime.dispose()
