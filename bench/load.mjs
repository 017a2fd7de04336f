// `npm run bench:load` (builds first): the load run of docs/reliability.md ("Load run").
//
// 10 000 requests at concurrency 256 through one `LlmClient` (from `LlmClient.layerFromEnv()`)
// against the bundled mock server, over every wire format (OpenAI Chat Completions, OpenAI
// Responses, Anthropic, Gemini), half `chat` and half `chatStream`, with 10 % of the requests
// carrying a random fault of the mock server (half of them `times=1`, so a retry can succeed).
// Then a few `huge-body` requests, one at a time. The mock server runs in a child process
// pinned to CPU 0; this process re-executes itself pinned to CPU 1 (when `taskset` exists)
// and with `--expose-gc` (needed for the heap check).
//
//   node --expose-gc bench/load.mjs [--seed N|random] [--requests N] [--concurrency N]
//                                   [--fault-rate 0.1] [--watchdog-ms 30000] [--no-huge]
//
// Exit code 0 only when: every request ended with a success or a typed `LlmError` (no defect,
// no interruption, no unknown rejection), no request hung (watchdog), no unhandled rejection or
// uncaught exception, every success carried exactly the expected text, no request with a
// persistent fault succeeded, every huge-body request ended in a `ProtocolError`, and the
// sockets and heap came back near their baselines (tolerances below, and in the docs).
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..")
const self = fileURLToPath(import.meta.url)

// --- tolerances (documented in docs/reliability.md, "Load run") -------------------------------
/** Heap used after the run (after gc) may exceed the warmed-up baseline by at most this. */
const HEAP_TOLERANCE_BYTES = 16 * 1024 * 1024
/** After the client is disposed, the client's TCP sockets must be back to the baseline within this. */
const SOCKET_SETTLE_MS = 3_000

// --- pinning and --expose-gc: re-execute once -------------------------------------------------
const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()
if (process.env.LLM_FIBER_LOAD_CHILD !== "1" && (hasTaskset || typeof globalThis.gc !== "function")) {
  const execArgv = process.execArgv.includes("--expose-gc") ? process.execArgv : [...process.execArgv, "--expose-gc"]
  const argv = [process.execPath, ...execArgv, self, ...process.argv.slice(2)]
  const [cmd, args] = hasTaskset ? ["taskset", ["-c", "1", ...argv]] : [argv[0], argv.slice(1)]
  const child = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, LLM_FIBER_LOAD_CHILD: "1" } })
  process.exit(child.status ?? 1)
}

// --- options ---------------------------------------------------------------------------------
const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}
const seedArg = opt("--seed", "20250904")
const seed = seedArg === "random" ? (Math.random() * 2 ** 32) >>> 0 : Number(seedArg) >>> 0
const REQUESTS = Number(opt("--requests", "10000"))
const CONCURRENCY = Number(opt("--concurrency", "256"))
const FAULT_RATE = Number(opt("--fault-rate", "0.1"))
const WATCHDOG_MS = Number(opt("--watchdog-ms", "30000"))
const HUGE = !args.includes("--no-huge")
const TIMEOUTS = { connectMs: 1_000, firstByteMs: 500, idleMs: 500, totalMs: 2_000 }
const RETRY_SPACING = "5 millis"

const log = (...parts) => process.stderr.write(parts.join(" ") + "\n")

// --- unhandled rejections / uncaught exceptions -----------------------------------------------
const unhandled = []
process.on("unhandledRejection", (reason) => {
  unhandled.push({ kind: "unhandledRejection", reason: String(reason?.stack ?? reason) })
})
process.on("uncaughtException", (error) => {
  unhandled.push({ kind: "uncaughtException", reason: String(error?.stack ?? error) })
})

// --- seeded PRNG (mulberry32) -----------------------------------------------------------------
const mulberry32 = (a) => () => {
  a |= 0
  a = (a + 0x6d2b79f5) | 0
  let t = Math.imul(a ^ (a >>> 15), 1 | a)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const rand = mulberry32(seed)
const pick = (list) => list[Math.floor(rand() * list.length)]

// --- the request plan (drawn up front: the plan depends on the seed only) ----------------------
const FORMATS = ["openai", "openai-responses", "anthropic", "gemini"]
const FAULTS = [
  "429",
  "500",
  "503",
  "529",
  "reset-before-headers",
  "reset-mid-stream",
  "stall",
  "stall-mid-stream",
  "malformed-json",
  "malformed-sse",
  "no-done",
  "wrong-content-type",
  "error-event"
]
const expectedText = (chunks) => {
  let s = ""
  for (let k = 1; k <= chunks; k++) s += `tok${k} `
  return s
}
const plan = Array.from({ length: REQUESTS }, (_, i) => {
  const format = pick(FORMATS)
  const mode = rand() < 0.5 ? "chat" : "stream"
  const chunks = 1 + Math.floor(rand() * 24)
  let fault
  let once = false
  if (rand() < FAULT_RATE) {
    fault = pick(FAULTS)
    once = rand() < 0.5
  }
  // `times=1` counts per model string: a name unique to the request gives it its own counter
  const name = once ? `load-${i}` : "load"
  const controls = `chunks=${chunks}${fault ? `&fault=${fault}` : ""}${once ? "&times=1" : ""}`
  return { i, format, mode, chunks, fault, once, model: `${format}:${name}?${controls}` }
})

// --- the mock server, pinned to CPU 0 -----------------------------------------------------------
const startServer = () =>
  new Promise((resolve, reject) => {
    const argv = [process.execPath, path.join(root, "packages/testing/dist/bin.js"), "--port", "0", "--no-record"]
    const [cmd, a] = hasTaskset ? ["taskset", ["-c", "0", ...argv]] : [argv[0], argv.slice(1)]
    const child = spawn(cmd, a, { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (data) => {
      out += data
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve({ child, url: match[1] })
    })
    child.on("exit", (code) => reject(new Error(`mock server exited with ${code}`)))
  })

/** Sockets the server process holds (Linux: /proc/<pid>/fd), the listening one included. */
const serverSockets = (pid) => {
  try {
    let n = 0
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++
      } catch { /* closed meanwhile */ }
    }
    return n
  } catch {
    return undefined
  }
}
/** Client TCP sockets that keep the loop alive (undici unrefs idle keep-alive sockets: they do not show here). */
const clientSockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length
/** Every socket fd of this process (idle keep-alive connections and the child's stdio included). */
const clientSocketFds = () => serverSockets(process.pid)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const heapAfterGc = async () => {
  for (let k = 0; k < 3; k++) {
    globalThis.gc()
    await sleep(20)
  }
  return process.memoryUsage().heapUsed
}
const mib = (bytes) => (bytes / 2 ** 20).toFixed(1)

const server = await startServer()
const serverSocketsBaseline = serverSockets(server.child.pid)
const clientSocketsBaseline = clientSockets()
const clientFdsBaseline = clientSocketFds()
log(`seed ${seed} · ${REQUESTS} requests · concurrency ${CONCURRENCY} · fault rate ${FAULT_RATE} · mock ${server.url}`)
log(`pinned: server CPU 0, client CPU 1: ${hasTaskset ? "yes" : "no (no taskset)"}`)

process.env.OPENAI_BASE_URL = server.url + "/v1"
process.env.OPENAI_API_KEY = "sk-load"
process.env.ANTHROPIC_BASE_URL = server.url
process.env.ANTHROPIC_API_KEY = "sk-ant-load"
process.env.GEMINI_BASE_URL = server.url
process.env.GEMINI_API_KEY = "gemini-load"

const { Cause, Effect, Exit, Layer, ManagedRuntime, Metric, Option, Schedule, Stream } = await import("effect")
const { LlmClient, LlmError, RetryPolicy, Timeouts } = await import("@llm-fiber/core")

const Live = LlmClient.layerFromEnv({ providers: { openai: { ollama: false } } }).pipe(
  Layer.provide(Layer.merge(
    RetryPolicy.layer({ schedule: Schedule.spaced(RETRY_SPACING) }),
    Timeouts.layer(TIMEOUTS)
  ))
)
const runtime = ManagedRuntime.make(Live)
const client = await runtime.runPromise(LlmClient.LlmClient)

// --- one request ------------------------------------------------------------------------------
const messages = "Hello there, how are you?"
const requestEffect = (spec) =>
  spec.mode === "chat"
    ? Effect.map(client.chat({ model: spec.model, messages }), (r) => ({ text: r.text, finish: r.finishReason }))
    : Effect.map(
      Stream.runFold(client.chatStream({ model: spec.model, messages }), { text: "", finish: undefined }, (acc, e) => {
        if (e._tag === "TextDelta") acc.text += e.text
        else if (e._tag === "Finish") acc.finish = e.finishReason ?? "finish"
        return acc
      }),
      (acc) => acc
    )

/**
 * Run one request under the watchdog. Resolves with { kind, tag?, detail? }:
 * kind "success" | "typed" (an LlmError) | "untyped" (defect, interruption, other failure) | "hang".
 */
const runOne = (spec) =>
  new Promise((resolve) => {
    const controller = new AbortController()
    let settled = false
    const watchdog = setTimeout(() => {
      if (settled) return
      settled = true
      controller.abort()
      resolve({ kind: "hang", detail: `no outcome within ${WATCHDOG_MS} ms` })
    }, WATCHDOG_MS)
    runtime.runPromiseExit(requestEffect(spec), { signal: controller.signal }).then(
      (exit) => {
        clearTimeout(watchdog)
        if (settled) return
        settled = true
        if (Exit.isSuccess(exit)) {
          const { text, finish } = exit.value
          const expected = expectedText(spec.chunks)
          if (text !== expected || finish === undefined) {
            resolve({
              kind: "bad-success",
              detail: `text ${JSON.stringify(text.slice(0, 80))} (expected ${
                JSON.stringify(expected.slice(0, 80))
              }), finish ${finish}`
            })
          } else resolve({ kind: "success" })
          return
        }
        const cause = exit.cause
        const failure = Cause.failureOption(cause)
        if (Option.isSome(failure) && LlmError.isLlmError(failure.value) && !Cause.isDie(cause)) {
          resolve({ kind: "typed", tag: failure.value._tag, error: failure.value })
        } else {
          resolve({
            kind: "untyped",
            detail: Cause.pretty(cause).slice(0, 2000)
          })
        }
      },
      (error) => {
        clearTimeout(watchdog)
        if (settled) return
        settled = true
        resolve({ kind: "untyped", detail: `runPromiseExit rejected: ${String(error?.stack ?? error)}` })
      }
    )
  })

const runPlan = async (specs, concurrency, onResult) => {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, specs.length) }, async () => {
    while (next < specs.length) {
      const spec = specs[next++]
      const start = performance.now()
      const outcome = await runOne(spec)
      onResult(spec, outcome, performance.now() - start)
    }
  }))
}

const retriesTotal = async () => {
  const pairs = await runtime.runPromise(Metric.snapshot)
  let retries = 0
  let requests = 0
  for (const pair of pairs) {
    if (pair.metricKey.name === "llm_retries_total") retries += pair.metricState.count
    if (pair.metricKey.name === "llm_requests_total") requests += pair.metricState.count
  }
  return { retries, requests }
}

// --- warm-up: clean requests of every format and mode; then the baselines -------------------------
const warm = []
for (let k = 0; k < 512; k++) {
  const format = FORMATS[k % FORMATS.length]
  const chunks = 1 + (k % 7)
  warm.push({ i: -1, format, mode: k % 8 < 4 ? "chat" : "stream", chunks, model: `${format}:load?chunks=${chunks}` })
}
const warmBad = []
await runPlan(warm, 64, (spec, outcome) => {
  if (outcome.kind !== "success") warmBad.push({ spec, outcome })
})
if (warmBad.length > 0) {
  log(`warm-up: ${warmBad.length} clean requests did not succeed, e.g.`, JSON.stringify(warmBad[0], null, 1))
}
await sleep(200)
const heapBaseline = await heapAfterGc()
const clientSocketsWarm = clientSockets()
const metricsBefore = await retriesTotal()
log(
  `baseline: heap ${
    mib(heapBaseline)
  } MiB, client sockets ${clientSocketsBaseline} (idle pool after warm-up: ${clientSocketsWarm}), server sockets ${serverSocketsBaseline}`
)

// --- the load run -------------------------------------------------------------------------------
const byOutcome = {} // "success" | tag | "untyped" | "hang" | "bad-success"
const byFault = {} // `${fault}${once ? " ×1" : ""}` -> { outcome -> n }
const byFormat = {} // format/mode -> { outcome -> n }
const problems = [] // untyped / hang / bad-success / unexpected success, with reproduction
const latencies = []
let done = 0
let peakClientSockets = 0
let peakServerSockets = 0
let peakClientFds = 0
const loopDelay = monitorEventLoopDelay({ resolution: 10 })
loopDelay.enable()
const sampler = setInterval(() => {
  peakClientSockets = Math.max(peakClientSockets, clientSockets())
  peakClientFds = Math.max(peakClientFds, clientSocketFds() ?? 0)
  peakServerSockets = Math.max(peakServerSockets, serverSockets(server.child.pid) ?? 0)
}, 100)
const progress = setInterval(() => log(`  … ${done}/${REQUESTS}`), 2_000)
const bump = (table, key, outcome) => {
  const row = (table[key] ??= {})
  row[outcome] = (row[outcome] ?? 0) + 1
}
const cpu0 = process.cpuUsage()
const t0 = performance.now()
await runPlan(plan, CONCURRENCY, (spec, outcome, ms) => {
  done++
  latencies.push(ms)
  const label = outcome.kind === "typed" ? outcome.tag : outcome.kind
  byOutcome[label] = (byOutcome[label] ?? 0) + 1
  bump(
    byFault,
    spec.fault ? `${spec.fault}${spec.once ? " (times=1)" : ""}, ${spec.mode}` : `none, ${spec.mode}`,
    label
  )
  bump(byFormat, `${spec.format} ${spec.mode}`, label)
  const repro = { seed, index: spec.i, model: spec.model, mode: spec.mode }
  if (outcome.kind === "untyped" || outcome.kind === "hang" || outcome.kind === "bad-success") {
    problems.push({ problem: outcome.kind, ...repro, detail: outcome.detail })
  } else if (outcome.kind === "success" && spec.fault && !spec.once) {
    problems.push({ problem: "persistent fault succeeded", ...repro })
  }
})
const wallMs = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
clearInterval(sampler)
clearInterval(progress)
loopDelay.disable()
const metricsAfter = await retriesTotal()

// --- after: health check on the idle pool, heap, sockets ---------------------------------------------
await sleep(500)
const clientSocketsIdle = clientSockets()
const clientFdsIdle = clientSocketFds()
const serverSocketsIdle = serverSockets(server.child.pid)
const health = []
await runPlan(warm.slice(0, 256), CONCURRENCY, (spec, outcome) => {
  if (outcome.kind !== "success") health.push({ spec, outcome })
})
await sleep(200)
const heapAfter = await heapAfterGc()

// --- huge bodies: one at a time, each must end in a ProtocolError --------------------------------------
const huge = []
if (HUGE) {
  const jsonBytes = 70 * 2 ** 20 // over the 64 MiB JSON body limit
  const cases = [
    { format: "openai", mode: "stream" },
    { format: "openai", mode: "chat", bytes: jsonBytes },
    { format: "openai-responses", mode: "stream" },
    { format: "openai-responses", mode: "chat", bytes: jsonBytes },
    { format: "anthropic", mode: "stream" },
    { format: "anthropic", mode: "chat", bytes: jsonBytes },
    { format: "gemini", mode: "stream" },
    { format: "gemini", mode: "chat", bytes: jsonBytes }
  ]
  for (const c of cases) {
    const model = `${c.format}:load-huge?fault=huge-body${c.bytes ? `&hugeBytes=${c.bytes}` : ""}`
    const rssBefore = process.memoryUsage().rss
    let peakRss = rssBefore
    const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20)
    const start = performance.now()
    // no retries: one huge body per case (a ProtocolError is not retried anyway, but be explicit)
    const outcome = await runOne({ mode: c.mode, chunks: 1, model, i: -1 })
    clearInterval(rssSampler)
    const ms = performance.now() - start
    const ok = outcome.kind === "typed" && outcome.tag === "ProtocolError"
    huge.push({
      ...c,
      bytes: c.bytes ?? 50 * 2 ** 20,
      outcome: outcome.kind === "typed" ? outcome.tag : outcome.kind,
      message: outcome.error?.message?.slice(0, 160) ?? outcome.detail?.slice(0, 300),
      ms,
      peakRssDeltaMiB: (peakRss - rssBefore) / 2 ** 20,
      ok
    })
    if (!ok) problems.push({ problem: "huge-body not a ProtocolError", seed, model, mode: c.mode, detail: outcome })
    log(`  huge-body ${c.format} ${c.mode}: ${huge.at(-1).outcome} in ${ms.toFixed(0)} ms`)
  }
}
const heapAfterHuge = HUGE ? await heapAfterGc() : undefined

// --- dispose the client: every socket must close ----------------------------------------------------
await runtime.dispose()
const settleStart = performance.now()
let clientSocketsFinal = clientSockets()
let clientFdsFinal = clientSocketFds()
let serverSocketsFinal = serverSockets(server.child.pid)
while (
  performance.now() - settleStart < SOCKET_SETTLE_MS &&
  (clientSocketsFinal > clientSocketsBaseline ||
    (clientFdsFinal !== undefined && clientFdsFinal > clientFdsBaseline) ||
    (serverSocketsFinal !== undefined && serverSocketsFinal > serverSocketsBaseline))
) {
  await sleep(50)
  clientSocketsFinal = clientSockets()
  clientFdsFinal = clientSocketFds()
  serverSocketsFinal = serverSockets(server.child.pid)
}
const heapFinal = await heapAfterGc()
server.child.kill("SIGTERM")

// --- report ------------------------------------------------------------------------------------------
latencies.sort((a, b) => a - b)
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]
const count = (kind) => problems.filter((p) => p.problem === kind).length
const faultsInjected = {}
for (const spec of plan) {
  if (spec.fault) {
    const row = (faultsInjected[spec.fault] ??= { plain: 0, once: 0 })
    row[spec.once ? "once" : "plain"]++
  }
}
const heapGrowth = heapAfter - heapBaseline
const checks = [
  ["no request hung (watchdog " + WATCHDOG_MS + " ms)", count("hang") === 0],
  ["every failure a typed LlmError (no defect / interruption / unknown rejection)", count("untyped") === 0],
  ["no unhandled rejection / uncaught exception", unhandled.length === 0],
  ["every success carried exactly the expected text and a finish", count("bad-success") === 0],
  ["no persistent (plain) fault ended in a success", count("persistent fault succeeded") === 0],
  ["every huge-body request ended in a ProtocolError", huge.every((h) => h.ok)],
  ["post-run health check: 256 clean requests on the same pool all succeeded", health.length === 0],
  [
    `heap after the run within ${mib(HEAP_TOLERANCE_BYTES)} MiB of the baseline`,
    heapGrowth <= HEAP_TOLERANCE_BYTES
  ],
  [
    `client TCP sockets back to baseline (${clientSocketsBaseline}) within ${SOCKET_SETTLE_MS} ms of dispose`,
    clientSocketsFinal <= clientSocketsBaseline
  ],
  [
    `server sockets back to baseline (${serverSocketsBaseline}) within ${SOCKET_SETTLE_MS} ms of dispose`,
    serverSocketsFinal === undefined || serverSocketsFinal <= serverSocketsBaseline
  ],
  [
    `client socket fds back to baseline (${clientFdsBaseline}) within ${SOCKET_SETTLE_MS} ms of dispose`,
    clientFdsFinal === undefined || clientFdsFinal <= clientFdsBaseline
  ]
]
const passed = checks.every(([, ok]) => ok)

const tableOf = (rows, columns) => {
  const lines = [`| | ${columns.join(" | ")} |`, `|---|${columns.map(() => "---:").join("|")}|`]
  for (const [key, row] of rows) lines.push(`| ${key} | ${columns.map((c) => row[c] ?? "").join(" | ")} |`)
  return lines.join("\n")
}
const outcomeColumns = Object.keys(byOutcome).sort((
  a,
  b
) => (a === "success" ? -1 : b === "success" ? 1 : a < b ? -1 : 1))
const out = []
out.push(`Seed ${seed}; ${REQUESTS} requests at concurrency ${CONCURRENCY}; fault rate ${FAULT_RATE}.`)
out.push(
  `Machine: ${os.cpus().length} × ${
    os.cpus()[0]?.model ?? "?"
  }, Node ${process.version}; server pinned to CPU 0, client to CPU 1: ${hasTaskset ? "yes" : "no"}.`
)
out.push(
  `Client: \`LlmClient.layerFromEnv()\` with \`RetryPolicy.layer({ schedule: Schedule.spaced("${RETRY_SPACING}") })\` (2 retries) and \`Timeouts.layer(${
    JSON.stringify(TIMEOUTS)
  })\`; watchdog ${WATCHDOG_MS} ms per request.`
)
out.push("")
out.push("| | |")
out.push("|---|---|")
out.push(`| requests / concurrency | ${REQUESTS} / ${CONCURRENCY} |`)
out.push(`| wall time | ${(wallMs / 1000).toFixed(2)} s |`)
out.push(`| requests/s | ${(REQUESTS / (wallMs / 1000)).toFixed(0)} |`)
out.push(
  `| client CPU | ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (${
    ((cpu.user + cpu.system) / REQUESTS).toFixed(0)
  } µs/request) |`
)
out.push(
  `| latency p50 / p99 / max | ${pct(50).toFixed(1)} / ${pct(99).toFixed(1)} / ${latencies.at(-1).toFixed(1)} ms |`
)
out.push(
  `| event-loop delay p50 / p99 / max (client) | ${(loopDelay.percentile(50) / 1e6).toFixed(0)} / ${
    (loopDelay.percentile(99) / 1e6).toFixed(0)
  } / ${(loopDelay.max / 1e6).toFixed(0)} ms |`
)
out.push(`| requests with a fault | ${plan.filter((s) => s.fault).length} |`)
out.push(
  `| outcomes | ${outcomeColumns.map((c) => `${c} ${byOutcome[c]}`).join(", ")} |`
)
out.push(
  `| retries (\`llm_retries_total\`) | ${metricsAfter.retries - metricsBefore.retries} (\`llm_requests_total\` +${
    metricsAfter.requests - metricsBefore.requests
  }) |`
)
out.push(
  `| client TCP sockets: baseline / idle pool after warm-up / peak / idle after run / after dispose | ${clientSocketsBaseline} / ${clientSocketsWarm} / ${peakClientSockets} / ${clientSocketsIdle} / ${clientSocketsFinal} |`
)
out.push(
  `| client socket fds (all sockets of the process): baseline / peak / idle after run / after dispose | ${clientFdsBaseline} / ${peakClientFds} / ${clientFdsIdle} / ${clientFdsFinal} |`
)
out.push(
  `| server sockets (listening one included): baseline / peak / idle after run / after client dispose | ${serverSocketsBaseline} / ${peakServerSockets} / ${serverSocketsIdle} / ${serverSocketsFinal} |`
)
out.push(
  `| heap used after gc: baseline / after run / after huge bodies / after dispose | ${mib(heapBaseline)} / ${
    mib(heapAfter)
  } (${heapGrowth >= 0 ? "+" : ""}${mib(heapGrowth)}) / ${heapAfterHuge === undefined ? "–" : mib(heapAfterHuge)} / ${
    mib(heapFinal)
  } MiB |`
)
out.push(`| unhandled rejections / uncaught exceptions | ${unhandled.length} |`)
out.push(
  `| hangs / untyped failures / wrong successes | ${count("hang")} / ${count("untyped")} / ${
    count("bad-success") + count("persistent fault succeeded")
  } |`
)
out.push("")
out.push("Faults injected (plain = on every attempt; times=1 = first attempt only):")
out.push("")
out.push(tableOf(Object.entries(faultsInjected).sort(), ["plain", "once"]))
out.push("")
out.push("Outcome by fault and mode:")
out.push("")
out.push(tableOf(Object.entries(byFault).sort(), outcomeColumns))
out.push("")
out.push("Outcome by format and mode:")
out.push("")
out.push(tableOf(Object.entries(byFormat).sort(), outcomeColumns))
if (HUGE) {
  out.push("")
  out.push("Huge bodies (one at a time):")
  out.push("")
  out.push("| format | mode | body | outcome | time | peak RSS growth | message |")
  out.push("|---|---|---:|---|---:|---:|---|")
  for (const h of huge) {
    out.push(
      `| ${h.format} | ${h.mode} | ${mib(h.bytes)} MiB | ${h.outcome} | ${h.ms.toFixed(0)} ms | ${
        h.peakRssDeltaMiB.toFixed(0)
      } MiB | ${(h.message ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ")} |`
    )
  }
}
out.push("")
out.push("Checks:")
out.push("")
for (const [name, ok] of checks) out.push(`- ${ok ? "PASS" : "FAIL"} — ${name}`)
if (warmBad.length > 0) out.push(`- NOTE — ${warmBad.length} warm-up requests did not succeed`)
if (problems.length > 0 || unhandled.length > 0 || health.length > 0) {
  out.push("")
  out.push("Problems (reproduce with the seed and the request index / model string):")
  out.push("")
  for (const p of problems.slice(0, 40)) out.push("- " + JSON.stringify(p).slice(0, 1500))
  if (problems.length > 40) out.push(`- … ${problems.length - 40} more`)
  for (const u of unhandled.slice(0, 10)) out.push("- " + JSON.stringify(u).slice(0, 1500))
  for (const h of health.slice(0, 10)) out.push("- health: " + JSON.stringify(h).slice(0, 1500))
}
out.push("")
out.push(passed ? "RESULT: PASS" : "RESULT: FAIL")
console.log(out.join("\n"))
process.exit(passed ? 0 : 1)
