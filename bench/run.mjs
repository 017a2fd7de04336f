// `npm run bench` (after `npm run build`): llm-fiber against raw undici on the bundled mock
// provider server. The server is pinned to CPU 0 and each client run — a fresh process —
// to CPU 1 (when `taskset` exists). Adapters are interleaved over several repetitions and
// the medians are written to bench/RESULTS.md.
//
//   node bench/run.mjs [--reps N] [--quick] [--no-write]
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..")
const args = process.argv.slice(2)
const quick = args.includes("--quick")
const reps = Number(args[args.indexOf("--reps") + 1]) || (quick ? 1 : 5)
const write = !args.includes("--no-write")

const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"])
    return true
  } catch {
    return false
  }
})()
const pinned = (cpu, argv) => (hasTaskset ? ["taskset", ["-c", String(cpu), ...argv]] : [argv[0], argv.slice(1)])

const startServer = () =>
  new Promise((resolve, reject) => {
    const [cmd, argv] = pinned(0, [process.execPath, path.join(root, "packages/testing/dist/bin.js"), "--port", "0"])
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (data) => {
      out += data
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve({ child, url: match[1] })
    })
    child.on("exit", (code) => reject(new Error(`mock server exited with ${code}`)))
  })

const runClient = (adapter, scenario, baseUrl, count) =>
  new Promise((resolve, reject) => {
    const [cmd, argv] = pinned(1, [
      process.execPath,
      path.join(here, "client.mjs"),
      adapter,
      scenario,
      baseUrl,
      String(count ?? 0)
    ])
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"], cwd: root })
    let out = ""
    child.stdout.on("data", (data) => (out += data))
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${adapter} ${scenario} exited with ${code}`))
      resolve(JSON.parse(out.trim().split("\n").at(-1)))
    })
  })

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const adapters = ["undici-raw", "fiber-effect", "fiber-promise", "fiber-effect-fetch"]
const scenarios = [
  { name: "chat-c1", count: quick ? 500 : 3000, metrics: ["p50Ms", "p99Ms", "cpuUsPerRequest"] },
  { name: "chat-c64", count: quick ? 1280 : 12800, metrics: ["reqPerSec", "cpuUsPerRequest"] },
  { name: "stream-10k", count: 10_000, metrics: ["chunksPerSec", "cpuUsPerChunk"] }
]

const server = await startServer()
const baseUrl = server.url + "/v1"
const results = {}
try {
  for (let rep = 1; rep <= reps; rep++) {
    for (const scenario of scenarios) {
      for (const adapter of adapters) {
        const r = await runClient(adapter, scenario.name, baseUrl, scenario.count)
        ;((results[scenario.name] ??= {})[adapter] ??= []).push(r)
        process.stderr.write(`rep ${rep}/${reps} ${scenario.name} ${adapter}: ${JSON.stringify(r)}\n`)
      }
    }
  }
} finally {
  server.child.kill("SIGTERM")
}

const fmt = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))
const labels = {
  p50Ms: "p50 latency (ms)",
  p99Ms: "p99 latency (ms)",
  cpuUsPerRequest: "client CPU per request (µs)",
  reqPerSec: "requests/s",
  chunksPerSec: "chunks/s",
  cpuUsPerChunk: "client CPU per chunk (µs)"
}
const lines = []
for (const scenario of scenarios) {
  lines.push(`\n### ${scenario.name}\n`)
  lines.push(`| adapter | ${scenario.metrics.map((m) => labels[m]).join(" | ")} |`)
  lines.push(`|---|${scenario.metrics.map(() => "---").join("|")}|`)
  const base = Object.fromEntries(
    scenario.metrics.map((m) => [m, median(results[scenario.name]["undici-raw"].map((r) => r[m]))])
  )
  for (const adapter of adapters) {
    const cells = scenario.metrics.map((m) => {
      const value = median(results[scenario.name][adapter].map((r) => r[m]))
      return adapter === "undici-raw" ? fmt(value) : `${fmt(value)} (${(value / base[m]).toFixed(2)}×)`
    })
    lines.push(`| ${adapter} | ${cells.join(" | ")} |`)
  }
}
const versions = (name) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version
  } catch {
    return "?"
  }
}
const report = [
  `## Run of ${new Date().toISOString().slice(0, 10)}`,
  "",
  `Command: \`node bench/run.mjs${quick ? " --quick" : ""}${
    reps !== (quick ? 1 : 5) ? ` --reps ${reps}` : ""
  }\` (after \`npm run build\`).`,
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${
    Math.round(os.totalmem() / 2 ** 30)
  } GiB, Node ${process.version}, ` +
  `undici ${versions("undici")}, effect ${versions("effect")}. Mock server pinned to CPU 0, clients to CPU 1: ${
    hasTaskset ? "yes" : "no (no taskset)"
  }.`,
  `Medians of ${reps} repetition(s); ratios against raw undici (for latency and CPU lower is better, for throughput higher is better).`,
  ...lines
].join("\n")
console.log(report)
if (write && !quick) {
  const file = path.join(here, "RESULTS.md")
  const head = fs.existsSync(file)
    ? fs.readFileSync(file, "utf8").split("\n## Run of")[0].trimEnd()
    : "# Benchmark results"
  fs.writeFileSync(file, `${head}\n\n${report}\n`)
}
