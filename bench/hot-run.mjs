// Hot-path before/after figures: the mock server pinned to CPU 0, each `bench/client.mjs` run
// (a fresh process) pinned to CPU 1, adapters interleaved, medians of N repetitions.
//
//   node bench/hot-run.mjs [--reps N] [--adapters a,b] [--scenarios s,t] [--port P] [--before <root>]
//
// `--before <root>`: a checkout of the code before the tuning (e.g. a `git worktree` with
// its own build and `node_modules` links): each llm-fiber adapter also runs from there, as
// `<adapter>@before`, interleaved with the others, so before and after share the same load.
//
// Prints one table per scenario and the machine load (`uptime`) before and after. Used for
// the "Hot-path tuning" section of bench/RESULTS.md (after `npx tsc -b tsconfig.build.json`).
import { execFileSync, spawn } from "node:child_process"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..")
const args = process.argv.slice(2)
const option = (name, fallback) => {
  const index = args.indexOf(name)
  return index === -1 ? fallback : args[index + 1]
}
const reps = Number(option("--reps", "3"))
const adapters = option("--adapters", "undici-raw,fiber-effect,fiber-promise").split(",")
const scenarios = option("--scenarios", "chat-c1,chat-c64,stream-10k").split(",")
const port = Number(option("--port", "0"))
const before = option("--before", undefined)
if (before !== undefined) {
  for (const a of [...adapters]) if (a.startsWith("fiber-")) adapters.push(`${a}@before`)
}

const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim()

const startServer = () =>
  new Promise((resolve, reject) => {
    const child = spawn("taskset", [
      "-c",
      "0",
      process.execPath,
      path.join(root, "packages/testing/bin/llm-fiber-mock.js"),
      "--port",
      String(port),
      "--no-record"
    ], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (data) => {
      out += data
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve({ child, url: match[1] })
    })
    child.on("exit", (code) => reject(new Error(`mock server exited with ${code}`)))
  })

const runClient = (adapter, scenario, baseUrl) =>
  new Promise((resolve, reject) => {
    const [name, tree] = adapter.split("@")
    const child = spawn("taskset", [
      "-c",
      "1",
      process.execPath,
      tree === "before" ? path.join(before, "bench/hot-client.mjs") : path.join(here, "hot-client.mjs"),
      name,
      scenario,
      baseUrl,
      "0"
    ], { stdio: ["ignore", "pipe", "inherit"], cwd: root })
    let out = ""
    child.stdout.on("data", (data) => (out += data))
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${adapter} ${scenario} exited with ${code}`))
      resolve(JSON.parse(out.trim().split("\n").at(-1)))
    })
  })

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const columns = {
  "chat-c1": ["p50Ms", "p99Ms", "cpuUsPerRequest"],
  "chat-c64": ["reqPerSec", "cpuUsPerRequest"],
  "stream-10k": ["chunksPerSec", "cpuUsPerChunk"],
  "stream-small": ["cpuUsPerStream", "wallUsPerStream"],
  "stream-small-c16": ["streamsPerSec", "cpuUsPerStream"]
}

console.log(`# ${new Date().toISOString()} ${os.cpus().length} × ${os.cpus()[0]?.model}, Node ${process.version}`)
console.log(`# load before: ${uptime()}`)
const server = await startServer()
try {
  for (const scenario of scenarios) {
    const results = Object.fromEntries(adapters.map((a) => [a, []]))
    for (let rep = 0; rep < reps; rep++) {
      for (const adapter of adapters) results[adapter].push(await runClient(adapter, scenario, server.url + "/v1"))
    }
    console.log(`\n## ${scenario} (medians of ${reps})`)
    console.log(`| adapter | ${columns[scenario].join(" | ")} |`)
    const base = Object.fromEntries(columns[scenario].map((c) => [c, median(results[adapters[0]].map((r) => r[c]))]))
    for (const adapter of adapters) {
      const cells = columns[scenario].map((c) => {
        const m = median(results[adapter].map((r) => r[c]))
        const ratio = adapter === adapters[0] ? "" : ` (${(m / base[c]).toFixed(2)}×)`
        return `${m < 10 ? m.toFixed(3) : m < 100 ? m.toFixed(1) : m.toFixed(0)}${ratio}`
      })
      console.log(`| ${adapter} | ${cells.join(" | ")} |`)
    }
  }
} finally {
  server.child.kill()
}
console.log(`\n# load after: ${uptime()}`)
