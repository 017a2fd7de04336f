// One benchmark client process (run.mjs starts a fresh one per measurement, pinned to CPU 1):
//
//   node bench/client.mjs --adapter <name> --format <wire format>[,…] --url <server URL>
//                         [--variant <v>] [--scenarios a,b,…] [--quick]
//
// Prints one line `@@result {json}` per scenario (other output may go to stdout too: SDKs
// print warnings). Exits non-zero when an adapter fails or returns a wrong count.
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { adapters } from "./adapters/index.mjs"
import { scenarioNames, settings } from "./scenarios.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}
const adapterName = opt("--adapter")
const formatList = opt("--format").split(",")
const baseUrl = opt("--url")
const quick = args.includes("--quick")
const meta = adapters[adapterName]
if (meta === undefined) throw new Error(`unknown adapter ${adapterName}`)
const variant = opt("--variant", meta.variant)
const scenarios = opt("--scenarios", scenarioNames.join(",")).split(",")
const params = settings(quick)
const WATCHDOG_MS = quick ? 150_000 : 300_000

const watchdog = setTimeout(() => {
  process.stderr.write(`${adapterName}/${formatList}: no result within ${WATCHDOG_MS} ms\n`)
  process.exit(3)
}, WATCHDOG_MS)
watchdog.unref()

// --- helpers ---------------------------------------------------------------------------------
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
const sortNum = (values) => Float64Array.from(values).sort()
const cpuNow = () => {
  const c = process.cpuUsage()
  return c.user + c.system
}
/** A control request to the bench server, over node:http (not the adapter's client). */
const control = (method, p) =>
  new Promise((resolve, reject) => {
    const req = http.request(baseUrl + p, { method, agent: false }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (d) => (body += d))
      res.on("end", () => resolve(JSON.parse(body)))
    })
    req.on("error", reject)
    req.end()
  })
const serverCpu = async () => (await control("GET", "/__bench/stats")).cpuUs

/**
 * Run `task` on `concurrency` workers until `stop()` says so (checked before each new task;
 * each worker runs at least `minPerWorker` tasks).
 */
const workers = (concurrency, stop, task, minPerWorker = 1) =>
  Promise.all(Array.from({ length: concurrency }, async () => {
    for (let k = 0; k < minPerWorker || !stop(); k++) await task()
  }))

/** Measure a window: CPU of this process, wall time, and the server's CPU. */
const measure = async (body) => {
  const server0 = await serverCpu()
  const cpu0 = cpuNow()
  const t0 = performance.now()
  const extra = await body()
  const wallMs = performance.now() - t0
  const cpuUs = cpuNow() - cpu0
  const serverUs = (await serverCpu()) - server0
  return { wallMs, cpuUs, serverCpuPct: (100 * serverUs) / (wallMs * 1000), ...extra }
}

const check = (what, got, expected) => {
  if (got !== expected) throw new Error(`${adapterName}: ${what}: expected ${expected}, got ${got}`)
}
const expectedChatLength = (n) => "tok ".length * n

// --- scenarios -------------------------------------------------------------------------------
const chatModel = `bench-${params.chatChunks}`
const chatLength = expectedChatLength(params.chatChunks)

const chatScenario = (concurrency, s) => async (adapter) => {
  // warm up until both `warmupRequests` requests and `warmupMs` have passed (at most `warmupMaxMs`):
  // the heavier clients need thousands of calls before the JIT has compiled their hot paths
  const warmStart = performance.now()
  let warm = 0
  await workers(concurrency, () => {
    const elapsed = performance.now() - warmStart
    return (warm >= s.warmupRequests && elapsed > s.warmupMs) || elapsed > s.warmupMaxMs
  }, async () => {
    check("text length", await adapter.chat(chatModel), chatLength)
    warm++
  }, 2)
  const latencies = []
  let deadline = 0
  const m = await measure(async () => {
    deadline = performance.now() + s.measureMs
    await workers(concurrency, () => performance.now() > deadline && latencies.length >= s.minRequests, async () => {
      const start = performance.now()
      const length = await adapter.chat(chatModel)
      latencies.push(performance.now() - start)
      check("text length", length, chatLength)
    })
  })
  const sorted = sortNum(latencies)
  return {
    requests: latencies.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    reqPerSec: latencies.length / (m.wallMs / 1000),
    cpuUsPerRequest: m.cpuUs / latencies.length,
    serverCpuPct: m.serverCpuPct
  }
}

/** Streams of `chunks` deltas on `concurrency` workers for a time window: chunks/s, TTFC, CPU per chunk. */
const streamScenario = (concurrency, s) => async (adapter) => {
  const model = `bench-${s.chunks}${s.mode ? `-${s.mode}` : ""}`
  const warmModel = `bench-${s.warmupChunks}${s.mode ? `-${s.mode}` : ""}`
  await workers(concurrency, () => true, async () => {
    check("deltas", await adapter.stream(warmModel), s.warmupChunks)
  }, s.warmupStreams ?? 1)
  const ttfc = []
  let streams = 0
  const before = adapter.stats?.()
  let deadline = 0
  const m = await measure(async () => {
    deadline = performance.now() + s.measureMs
    await workers(concurrency, () => performance.now() > deadline || streams >= s.maxStreams, async () => {
      const start = performance.now()
      const n = await adapter.stream(model, () => ttfc.push(performance.now() - start))
      check("deltas", n, s.chunks)
      streams++
    }, s.minStreamsPerWorker ?? 1)
  })
  const after = adapter.stats?.()
  const chunks = streams * s.chunks
  const sorted = sortNum(ttfc)
  return {
    streams,
    chunks,
    chunksPerSec: chunks / (m.wallMs / 1000),
    ttfcMs: percentile(sorted, 50),
    ttfcP99Ms: percentile(sorted, 99),
    cpuUsPerChunk: m.cpuUs / chunks,
    serverCpuPct: m.serverCpuPct,
    ...(before !== undefined
      ? { eventsPerRead: (after.events - before.events) / Math.max(1, after.reads - before.reads) }
      : {})
  }
}

const vmHwmMb = () => {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))
    return match === null ? undefined : Number(match[1]) / 1024
  } catch {
    return undefined
  }
}

/** `count` streams held open by the server (each has its first delta); RSS while they are open. */
const rssScenario = (count, s) => async (adapter) => {
  for (let i = 0; i < 3; i++) {
    check("text length", await adapter.chat(chatModel), chatLength)
    check("deltas", await adapter.stream(`bench-${s.chunks}`), s.chunks)
  }
  const baseRss = process.memoryUsage().rss
  let peakRss = baseRss
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
  }, 10)
  const t0 = performance.now()
  let opened = 0
  let allOpen
  const allOpened = new Promise((resolve) => (allOpen = resolve))
  const streams = Array.from({ length: count }, () =>
    adapter.stream(`bench-${s.chunks}-hold`, () => {
      if (++opened === count) allOpen()
    }).then((n) => check("deltas", n, s.chunks)))
  const failed = Promise.all(streams).then(() => {
    throw new Error(`streams ended before all were open (${opened}/${count})`)
  })
  await Promise.race([allOpened, failed])
  const openMs = performance.now() - t0
  // let the open streams settle, sampling RSS
  await new Promise((resolve) => setTimeout(resolve, s.holdMs))
  const openRss = process.memoryUsage().rss
  peakRss = Math.max(peakRss, openRss)
  const released = await control("POST", "/__bench/release")
  await Promise.all(streams)
  clearInterval(sampler)
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  const mb = (b) => b / 2 ** 20
  return {
    streams: count,
    released: released.released,
    openMs,
    baseRssMb: mb(baseRss),
    openRssMb: mb(openRss),
    peakRssMb: mb(peakRss),
    hwmMb: vmHwmMb() ?? mb(peakRss),
    deltaMb: mb(openRss - baseRss)
  }
}

const runners = {
  "chat-c1": chatScenario(1, params["chat-c1"]),
  "chat-c64": chatScenario(64, params["chat-c64"]),
  "stream-c1": streamScenario(1, params["stream-c1"]),
  "stream-c16": streamScenario(16, params["stream-c16"]),
  "stream-10k": streamScenario(1, params["stream-10k"]),
  "trickle-c16": streamScenario(16, params["trickle-c16"]),
  "rss-100": rssScenario(params.rss.counts["rss-100"], params.rss),
  "rss-500": rssScenario(params.rss.counts["rss-500"], params.rss)
}

// --- main ------------------------------------------------------------------------------------
const { create } = await import(path.join(here, "adapters", meta.file))
let failed = false
// one format per process in a full run; --quick passes several (fewer process start-ups)
for (const format of formatList) {
  const adapter = await create({ baseUrl, format, variant })
  for (const scenario of scenarios) {
    const runner = runners[scenario]
    if (runner === undefined) throw new Error(`unknown scenario ${scenario}`)
    try {
      const result = await runner(adapter, format)
      process.stdout.write(
        `@@result ${JSON.stringify({ adapter: adapterName, format, variant, scenario, ok: true, ...result })}\n`
      )
    } catch (error) {
      failed = true
      process.stderr.write(`${adapterName}/${format} ${scenario}: ${error?.stack ?? error}\n`)
      process.stdout.write(
        `@@result ${
          JSON.stringify({
            adapter: adapterName,
            format,
            variant,
            scenario,
            ok: false,
            error: String(error?.message ?? error)
          })
        }\n`
      )
    }
  }
  await adapter.close()
}
process.exit(failed ? 1 : 0)
