// `npm run bench` (full, ~15–20 min) and `npm run bench:quick` (a smoke test, < 2 min): the
// side-by-side benchmark of llm-fiber, raw undici and the peer SDKs (issue 8).
//
//   node bench/run.mjs [--quick] [--reps N] [--write | --no-write] [--adapters a,b]
//                      [--scenarios s1,s2] [--no-wrk] [--no-import] [--out file.json]
//
// - The bench server (bench/server.mjs) runs pinned to CPU 0, every client to CPU 1 (with
//   `taskset`, when it exists); its ceiling is measured first with `wrk`.
// - Full run: every (adapter, wire format, scenario) is a fresh client process; adapters
//   are interleaved within each scenario, the order rotated each repetition; medians of the
//   repetitions; ratios against raw undici on the same wire format.
// - Quick run: one client process per adapter runs every wire format and scenario with small
//   sizes, one repetition — it checks that every adapter completes and prints the tables.
//   It fails only when an adapter fails, never on timings.
// - The full run writes its report into bench/RESULTS.md between the markers
//   `<!-- bench:begin -->` and `<!-- bench:end -->` (the rest of the file is kept).
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { adapters, pipelineVariants } from "./adapters/index.mjs"
import { specs as importSpecs } from "./import.mjs"
import { scenarioNames, scenarios } from "./scenarios.mjs"
import { wire } from "./wire.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..")
const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}
const quick = args.includes("--quick")
const reps = Number(opt("--reps", quick ? "1" : "3"))
const importReps = quick ? 1 : Math.max(5, reps)
const write = args.includes("--write") || (!quick && !args.includes("--no-write"))
const onlyAdapters = opt("--adapters")?.split(",")
const onlyScenarios = opt("--scenarios")?.split(",") ?? scenarioNames
const outJson = opt("--out")
const started = Date.now()
const log = (line) => process.stderr.write(line + "\n")

// --- the machine -------------------------------------------------------------------------------
const has = (cmd, argv) => {
  try {
    execFileSync(cmd, argv, { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}
const hasTaskset = has("taskset", ["-c", "0", "true"])
const hasWrk = !args.includes("--no-wrk") && (fs.existsSync("/usr/bin/wrk") || has("sh", ["-c", "command -v wrk"]))
const pinned = (cpu, argv) => (hasTaskset ? ["taskset", ["-c", String(cpu), ...argv]] : [argv[0], argv.slice(1)])
const busiest = () => {
  try {
    return execFileSync("ps", ["-eo", "pcpu=,comm=", "--sort=-pcpu"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter(([pcpu]) => Number(pcpu) >= 5)
      .slice(0, 6)
      .map(([pcpu, comm]) => `${comm} ${pcpu}%`)
  } catch {
    return []
  }
}
/** The newest modification time of the built llm-fiber packages (to notice a rebuild during the run). */
const distStamp = () => {
  let newest = 0
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (entry.name.endsWith(".js")) newest = Math.max(newest, fs.statSync(file).mtimeMs)
    }
  }
  for (const pkg of fs.readdirSync(path.join(root, "packages"))) {
    const dist = path.join(root, "packages", pkg, "dist")
    if (fs.existsSync(dist)) walk(dist)
  }
  return newest
}
const distAtStart = distStamp()
const machine = {
  cpu: os.cpus()[0]?.model ?? "?",
  cores: os.cpus().length,
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  kernel: `${os.type()} ${os.release()}`,
  loadStart: os.loadavg(),
  busyStart: busiest()
}

// --- versions ----------------------------------------------------------------------------------
const versionOf = (pkg) => {
  for (const dir of [path.join(here, "node_modules"), path.join(root, "node_modules")]) {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, pkg, "package.json"), "utf8")).version
    } catch { /* next */ }
  }
  return "not installed"
}

// --- processes ---------------------------------------------------------------------------------
const startServer = () =>
  new Promise((resolve, reject) => {
    const [cmd, argv] = pinned(0, [process.execPath, path.join(here, "server.mjs"), "--port", "0"])
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (data) => {
      out += data
      const match = /listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve({ child, url: match[1] })
    })
    child.on("exit", (code) => reject(new Error(`bench server exited with ${code}`)))
  })

/** Run a pinned child; resolves with its `@@result` lines (parsed), exit code and stderr tail. */
const runChild = (argv, cpu = 1) =>
  new Promise((resolve) => {
    const [cmd, a] = pinned(cpu, [process.execPath, ...argv])
    const child = spawn(cmd, a, { stdio: ["ignore", "pipe", "pipe"], cwd: here })
    let out = ""
    let err = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (err = (err + d).slice(-4000)))
    child.on("exit", (code, signal) => {
      const results = out.split("\n").filter((l) => l.startsWith("@@result ")).map((l) => JSON.parse(l.slice(9)))
      resolve({ code: code ?? (signal ? 1 : 0), results, stderr: err })
    })
  })

/** The first error line of a child's stderr (or its last line). */
const firstError = (stderr) => {
  const lines = stderr.trim().split("\n").map((l) => l.trim()).filter((l) => l !== "")
  return (lines.find((l) => /^[A-Za-z]*Error\b|Error:|ERR_/.test(l)) ?? lines.at(-1) ?? "").slice(0, 300)
}

const median = (values) => {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return undefined
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

// --- the matrix ---------------------------------------------------------------------------------
const formats = Object.keys(wire)
const pairs = []
for (const format of formats) {
  for (const [name, meta] of Object.entries(adapters)) {
    if (onlyAdapters !== undefined && !onlyAdapters.includes(name) && name !== "undici-raw") continue
    if (meta.formats.includes(format)) pairs.push({ adapter: name, format, variant: meta.variant })
  }
}
/** The pipeline split: fiber-effect variants on OpenAI Chat Completions, for these scenarios. */
const pipelineScenarios = ["chat-c1", "chat-c64", "stream-c1"]
const pipelinePairs = onlyAdapters === undefined || onlyAdapters.includes("fiber-effect")
  ? pipelineVariants.map((variant) => ({ adapter: "fiber-effect", format: "openai-chat", variant, pipeline: true }))
  : []
const label = (p) => `${p.adapter}${p.pipeline ? `[${p.variant}]` : ""}/${p.format}`
const keyOf = (p) => `${p.adapter}|${p.pipeline ? p.variant : ""}|${p.format}`

const results = new Map() // key|scenario → array of result objects
const failures = []
const record = (pair, r) => {
  const k = `${keyOf(pair)}|${r.scenario}`
  if (!results.has(k)) results.set(k, [])
  if (r.ok) results.get(k).push(r)
  else failures.push({ pair: label(pair), scenario: r.scenario, error: r.error })
}

const server = await startServer()
log(
  `bench server ${server.url} (pinned to CPU 0: ${hasTaskset ? "yes" : "no"}) · ${
    quick ? "quick" : "full"
  } run, ${reps} rep(s)`
)
const stats = async () => (await fetch(server.url + "/__bench/stats")).json()

// --- the server's ceiling (wrk) ------------------------------------------------------------------
const wrkRuns = []
if (hasWrk) {
  const duration = quick ? "1s" : "5s"
  for (
    const [name, script, chunks] of [["non-streaming POST", "chat.lua", 0], ["1,000-chunk stream", "stream.lua", 1000]]
  ) {
    const argv = ["-t1", "-c64", `-d${duration}`, "-s", path.join(here, "wrk", script), server.url]
    const s0 = await stats()
    const t0 = Date.now()
    let out = ""
    try {
      const [cmd, a] = pinned(1, ["wrk", ...argv])
      out = execFileSync(cmd, a, { encoding: "utf8" })
    } catch (error) {
      log(`wrk failed: ${error}`)
      continue
    }
    const wallMs = Date.now() - t0
    const s1 = await stats()
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
    const latency = /Latency\s+(\S+)/.exec(out)?.[1]
    const errors = /Non-2xx|Socket errors/.test(out)
    wrkRuns.push({
      name,
      command: `taskset -c 1 wrk ${argv.slice(0, 3).join(" ")} -s bench/wrk/${script} <url>`,
      rps,
      chunksPerSec: chunks ? rps * chunks : undefined,
      latency,
      serverCpuPct: (100 * (s1.cpuUs - s0.cpuUs)) / (wallMs * 1000),
      errors
    })
    log(`wrk ${name}: ${rps} req/s${chunks ? ` (${Math.round(rps * chunks)} chunks/s)` : ""}, latency avg ${latency}`)
  }
}

// --- the client runs -------------------------------------------------------------------------------
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length])
const clientArgs = (group, scenarioList) => [
  path.join(here, "client.mjs"),
  "--adapter",
  group[0].adapter,
  "--format",
  group.map((p) => p.format).join(","),
  "--url",
  server.url,
  ...(group[0].variant !== undefined ? ["--variant", group[0].variant] : []),
  "--scenarios",
  scenarioList.join(","),
  ...(quick ? ["--quick"] : [])
]
/** Run one client process for `group` (pairs of one adapter and variant; one pair in a full run). */
const runPair = async (group, scenarioList, rep) => {
  const t0 = Date.now()
  const { code, results: rs, stderr } = await runChild(clientArgs(group, scenarioList))
  const took = `${((Date.now() - t0) / 1000).toFixed(1)} s`
  for (const pair of group) {
    for (const r of rs.filter((r) => r.format === pair.format)) {
      record(pair, r)
      const m = scenarios.find((s) => s.name === r.scenario)
      const summary = r.ok
        ? m.metrics.map((x) => `${x.key} ${fmt(r[x.key])}`).join(", ")
        : `FAILED: ${r.error}`
      log(`[rep ${rep}/${reps}] ${r.scenario} ${label(pair)}: ${summary} (${took})`)
    }
    const missing = scenarioList.filter((s) => !rs.some((r) => r.format === pair.format && r.scenario === s))
    for (const s of missing) {
      const error = `client exited with ${code} without a result: ${firstError(stderr)}`
      failures.push({ pair: label(pair), scenario: s, error })
      log(`[rep ${rep}/${reps}] ${s} ${label(pair)}: FAILED: ${error}`)
    }
  }
}

const fmt = (n) =>
  n === undefined || !Number.isFinite(n)
    ? "–"
    : Math.abs(n) >= 1000
    ? Math.round(n).toLocaleString("en-US")
    : Math.abs(n) >= 100
    ? n.toFixed(0)
    : Math.abs(n) >= 10
    ? n.toFixed(1)
    : n.toFixed(2)

const activeScenarios = scenarios.filter((s) => onlyScenarios.includes(s.name))
for (let rep = 1; rep <= reps; rep++) {
  if (quick) {
    // one process per adapter (and variant), every format and scenario in it
    const groups = new Map()
    for (const pair of [...pairs, ...pipelinePairs]) {
      const k = `${pair.adapter}|${pair.pipeline ? pair.variant : ""}`
      if (!groups.has(k)) groups.set(k, [])
      groups.get(k).push(pair)
    }
    for (const group of groups.values()) {
      const list = activeScenarios.map((s) => s.name).filter((s) => !group[0].pipeline || pipelineScenarios.includes(s))
      if (list.length > 0) await runPair(group, list, rep)
    }
  } else {
    for (const scenario of activeScenarios) {
      const list = [...pairs, ...(pipelineScenarios.includes(scenario.name) ? pipelinePairs : [])]
      for (const pair of rotate(list, rep - 1)) await runPair([pair], [scenario.name], rep)
    }
  }
}

// --- cold imports ----------------------------------------------------------------------------------
const importResults = {}
if (!args.includes("--no-import")) {
  for (let rep = 1; rep <= importReps; rep++) {
    for (const spec of rotate(Object.keys(importSpecs), rep - 1)) {
      const { code, results: rs, stderr } = await runChild([path.join(here, "import.mjs"), spec])
      if (code !== 0 || rs.length === 0) {
        failures.push({ pair: `import ${spec}`, scenario: "import", error: firstError(stderr) })
        continue
      }
      ;(importResults[spec] ??= []).push(rs[0])
    }
    log(`[import rep ${rep}/${importReps}] done`)
  }
}

server.child.kill("SIGTERM")
machine.loadEnd = os.loadavg()
const distAtEnd = distStamp()
const rebuiltDuringRun = distAtEnd > distAtStart
machine.busyEnd = busiest()
const elapsedS = (Date.now() - started) / 1000

// --- aggregation -------------------------------------------------------------------------------------
const valueOf = (pair, scenario, metric) =>
  median((results.get(`${keyOf(pair)}|${scenario}`) ?? []).map((r) => r[metric]))
const countOf = (pair, scenario) => (results.get(`${keyOf(pair)}|${scenario}`) ?? []).length
const rawOf = (format) => ({ adapter: "undici-raw", format })
const ratioOf = (pair, scenario, metric) => {
  const v = valueOf(pair, scenario, metric)
  const base = valueOf(rawOf(pair.format), scenario, metric)
  return v === undefined || base === undefined || base === 0 ? undefined : v / base
}
const importMs = (spec) => median((importResults[spec] ?? []).map((r) => r.importMs))
const x = (r) => (r === undefined ? "–" : `${r.toFixed(2)}×`)

// --- targets ---------------------------------------------------------------------------------------
const judged = "fiber-full"
const fiberPairs = (adapter) => formats.map((format) => ({ adapter, format, variant: adapters[adapter].variant }))
const targetDefs = [
  { title: "non-streaming c=1 p50 latency", scenario: "chat-c1", metric: "p50Ms", op: "≤", bar: 1.3 },
  { title: "non-streaming c=64 throughput", scenario: "chat-c64", metric: "reqPerSec", op: "≥", bar: 0.5 },
  {
    title: "streaming CPU/chunk, burst (10,000 chunks)",
    scenario: "stream-10k",
    metric: "cpuUsPerChunk",
    op: "≤",
    bar: 1.5
  },
  {
    title: "streaming CPU/chunk, trickled (16 streams)",
    scenario: "trickle-c16",
    metric: "cpuUsPerChunk",
    op: "≤",
    bar: 1.5
  },
  { title: "time to first chunk at c=16", scenario: "stream-c16", metric: "ttfcMs", op: "≤", bar: 1.5 },
  { title: "peak RSS, 500 open streams", scenario: "rss-500", metric: "hwmMb", op: "≤", bar: 1.3 }
]
const passes = (op, ratio, bar) => ratio !== undefined && (op === "≤" ? ratio <= bar : ratio >= bar)
const worst = (op, ratios) => {
  const v = ratios.filter((r) => r !== undefined)
  return v.length === 0 ? undefined : op === "≤" ? Math.max(...v) : Math.min(...v)
}
const targets = targetDefs.map((t) => {
  const primary = ratioOf({ adapter: judged, format: "openai-chat", variant: "full" }, t.scenario, t.metric)
  return {
    ...t,
    full: primary,
    fullWorst: worst(t.op, fiberPairs(judged).map((p) => ratioOf(p, t.scenario, t.metric))),
    bare: ratioOf({ adapter: "fiber-effect", format: "openai-chat", variant: "bare" }, t.scenario, t.metric),
    promise: ratioOf({ adapter: "fiber-promise", format: "openai-chat" }, t.scenario, t.metric),
    pass: passes(t.op, primary, t.bar)
  }
})
{
  const effectMs = importMs("effect")
  const r = (spec) => (importMs(spec) === undefined || !effectMs ? undefined : importMs(spec) / effectMs)
  targets.push({
    title: "cold import, core + one provider vs `import(\"effect\")`",
    op: "≤",
    bar: 1.3,
    full: r("llm-fiber"),
    fullWorst: r("llm-fiber"),
    bare: r("llm-fiber"),
    promise: r("llm-fiber-promise"),
    pass: passes("≤", r("llm-fiber"), 1.3)
  })
}
/** Every peer, every scenario (primary metric), every format: is llm-fiber (`adapter`) better? */
const peerComparisons = (adapter) => {
  const out = []
  for (const s of scenarios) {
    const metric = s.metrics.find((m) => m.key === s.primary)
    for (const format of formats) {
      const fiber = valueOf({ adapter, format }, s.name, metric.key)
      for (const [peer, meta] of Object.entries(adapters)) {
        if (meta.role !== "peer" || !meta.formats.includes(format)) continue
        const other = valueOf({ adapter: peer, format }, s.name, metric.key)
        if (fiber === undefined || other === undefined) continue
        const better = metric.better === "lower" ? fiber < other : fiber > other
        out.push({ scenario: s.name, format, peer, metric: metric.key, fiber, other, better })
      }
    }
  }
  const fiberImport = importMs("llm-fiber")
  for (const peer of ["openai", "anthropic", "genai", "ai-sdk", "effect-ai"]) {
    const other = importMs(peer)
    if (fiberImport === undefined || other === undefined) continue
    out.push({
      scenario: "import",
      format: "–",
      peer,
      metric: "importMs",
      fiber: fiberImport,
      other,
      better: fiberImport < other
    })
  }
  return out
}
const comparisonsFull = peerComparisons(judged)
const comparisonsBare = peerComparisons("fiber-effect")
const lostFull = comparisonsFull.filter((c) => !c.better)
targets.push({
  title: "better than every peer on every scenario",
  op: "",
  bar: undefined,
  count: `${comparisonsFull.length - lostFull.length}/${comparisonsFull.length}`,
  countBare: `${comparisonsBare.filter((c) => c.better).length}/${comparisonsBare.length}`,
  pass: comparisonsFull.length > 0 && lostFull.length === 0
})

// --- the report ------------------------------------------------------------------------------------
const lines = []
const push = (...l) => lines.push(...l)
const today = new Date().toISOString().slice(0, 10)
const commandLine = `node bench/run.mjs${args.length > 0 ? " " + args.join(" ") : ""}`
push(
  `## ${quick ? "Quick run (smoke test)" : "Full run"} of ${today}`,
  "",
  `Command: \`${quick ? "npm run bench:quick" : "npm run bench"}\` (= \`npm run build && ${commandLine}\`), ${
    Math.round(elapsedS)
  } s.`,
  "",
  `**Machine**: ${machine.cores} × ${machine.cpu}, ${machine.memGiB} GiB, ${machine.kernel}, Node ${machine.node}. ` +
    `Server pinned to CPU 0 and each client process to CPU 1 with \`taskset\`: ${
      hasTaskset ? "yes" : "no (no taskset)"
    }. ` +
    `Load average (1/5/15 min) at the start ${machine.loadStart.map((l) => l.toFixed(2)).join(" / ")}, at the end ${
      machine.loadEnd.map((l) => l.toFixed(2)).join(" / ")
    }` +
    (machine.loadStart[0] > 1 || machine.loadEnd[0] > 1
      ? ` — **the machine was busy** (other processes shared the two cores${
        machine.busyStart.length > 0 ? `; at the start: ${machine.busyStart.join(", ")}` : ""
      }): absolute figures are noisy, ratios within one run are the signal.`
      : "."),
  "",
  ...(rebuiltDuringRun
    ? [
      `**The llm-fiber packages were rebuilt during the run** (their \`dist/\` changed at ${
        new Date(distAtEnd).toISOString().slice(11, 19)
      } UTC, after the start): llm-fiber's figures mix builds.`,
      ""
    ]
    : []),
  `Medians of ${reps} repetition(s) (cold imports: ${importReps}); ratios against raw undici on the same wire format ` +
    `(latency, CPU and memory: lower is better; throughput: higher is better).`,
  ""
)

push("### Targets (issue 8)", "")
push(
  `Judged on **llm-fiber with the full default pipeline** (\`${judged}\`: default retry policy, timeouts, OpenTelemetry spans + metrics, a memory-cache miss per call) over OpenAI Chat Completions; also shown: the worst of the four wire formats (full pipeline), the bare pipeline (\`fiber-effect\`, retries off) and the Promise facade (\`fiber-promise\`).`,
  ""
)
push(
  "| target | bar | llm-fiber full (OpenAI chat) | full, worst format | bare | Promise facade | result |",
  "|---|---|---|---|---|---|---|"
)
for (const t of targets) {
  if (t.count !== undefined) {
    push(
      `| ${t.title} | all | ${t.count} comparisons won | – | ${t.countBare} won | – | ${
        t.pass ? "✅ pass" : "❌ miss"
      } |`
    )
  } else {
    push(
      `| ${t.title} | ${t.op} ${t.bar}× | ${x(t.full)} | ${x(t.fullWorst)} | ${x(t.bare)} | ${x(t.promise)} | ${
        t.pass ? "✅ pass" : "❌ miss"
      } |`
    )
  }
}
push("")
if (lostFull.length > 0) {
  const byPeer = {}
  for (const c of lostFull) (byPeer[c.peer] ??= []).push(`${c.scenario}${c.format !== "–" ? ` (${c.format})` : ""}`)
  push(
    `Comparisons lost by \`${judged}\` (primary metric of each scenario): ${
      Object.entries(byPeer).map(([peer, l]) => `**${peer}** ${l.length} — ${l.join(", ")}`).join("; ")
    }.`,
    ""
  )
}

push("### Overview: primary metric of each scenario, ratio against raw undici", "")
push(
  `| wire format | adapter | ${
    activeScenarios.map((s) => `${s.name} ${s.metrics.find((m) => m.key === s.primary).label}`).join(" | ")
  } |`,
  `|---|---|${activeScenarios.map(() => "---").join("|")}|`
)
for (const pair of pairs) {
  const cells = activeScenarios.map((s) => {
    if (countOf(pair, s.name) === 0) {
      return failures.some((f) => f.pair === label(pair) && f.scenario === s.name)
        ? "failed"
        : "–"
    }
    const v = valueOf(pair, s.name, s.primary)
    return pair.adapter === "undici-raw" ? `**${fmt(v)}**` : `${fmt(v)} (${x(ratioOf(pair, s.name, s.primary))})`
  })
  push(`| ${pair.format} | ${pair.adapter} | ${cells.join(" | ")} |`)
}
push("")

for (const s of activeScenarios) {
  push(`### ${s.title} (\`${s.name}\`)`, "", s.about + ".", "")
  push(
    `| wire format | adapter | ${s.metrics.map((m) => m.label).join(" | ")} | server CPU | runs |`,
    `|---|---|${s.metrics.map(() => "---").join("|")}|---|---|`
  )
  const list = [...pairs, ...(pipelineScenarios.includes(s.name) ? pipelinePairs : [])]
  for (const pair of list) {
    const n = countOf(pair, s.name)
    const cells = s.metrics.map((m) => {
      const v = valueOf(pair, s.name, m.key)
      if (v === undefined) return n === 0 ? "failed" : "–"
      return pair.adapter === "undici-raw" || m.ratio === false
        ? fmt(v)
        : `${fmt(v)} (${x(ratioOf(pair, s.name, m.key))})`
    })
    const cpu = valueOf(pair, s.name, "serverCpuPct")
    push(
      `| ${pair.format} | ${pair.pipeline ? `fiber-effect [${pair.variant}]` : pair.adapter} | ${cells.join(" | ")} | ${
        cpu === undefined ? "–" : `${cpu.toFixed(0)}%`
      } | ${n} |`
    )
  }
  if (s.name === "trickle-c16") {
    const epr = formats.map((f) => `${f} ${fmt(valueOf(rawOf(f), s.name, "eventsPerRead"))}`).join(", ")
    push("", `SSE events per network read seen by raw undici (≈1 is the intended shape): ${epr}.`)
  }
  push("")
}

push("### The cost of each concern of the pipeline (llm-fiber Effect API, OpenAI Chat Completions)", "")
push(
  "`bare`: retries off, timeouts on (they always are). Each other row adds one concern to `bare`; `full` has them all.",
  "",
  "| pipeline | c=1 p50 (ms) | c=1 CPU/req (µs) | c=64 req/s | c=64 CPU/req (µs) | stream c=1 CPU/chunk (µs) |",
  "|---|---|---|---|---|---|"
)
const pipelineRows = [
  ["bare", { adapter: "fiber-effect", format: "openai-chat", variant: "bare" }],
  ...pipelineVariants.map((
    v
  ) => [
    `+ ${
      v === "otel"
        ? "OpenTelemetry (spans + metrics, in memory)"
        : v === "cache"
        ? "memory cache (miss)"
        : "default retry policy"
    }`,
    { adapter: "fiber-effect", format: "openai-chat", variant: v, pipeline: true }
  ]),
  ["full", { adapter: judged, format: "openai-chat", variant: "full" }]
]
const bareRef = pipelineRows[0][1]
for (const [name, pair] of pipelineRows) {
  const cell = (scenario, metric) => {
    const v = valueOf(pair, scenario, metric)
    const base = valueOf(bareRef, scenario, metric)
    return v === undefined ? "–" : pair === bareRef || !base ? fmt(v) : `${fmt(v)} (${x(v / base)} bare)`
  }
  push(
    `| ${name} | ${cell("chat-c1", "p50Ms")} | ${cell("chat-c1", "cpuUsPerRequest")} | ${
      cell("chat-c64", "reqPerSec")
    } | ${cell("chat-c64", "cpuUsPerRequest")} | ${cell("stream-c1", "cpuUsPerChunk")} |`
  )
}
push("")

if (Object.keys(importResults).length > 0) {
  push(
    "### Cold import",
    "",
    "Fresh process per measurement, pinned to CPU 1; the time of the `import()`s alone, and since the process started (Node's start-up included).",
    ""
  )
  push("| import | modules | import (ms) | vs `effect` | since process start (ms) |", "|---|---|---|---|---|")
  const effectMs = importMs("effect")
  for (const [spec, modules] of Object.entries(importSpecs)) {
    const ms = importMs(spec)
    push(
      `| ${spec} | ${modules.map((m) => `\`${m}\``).join(" + ")} | ${fmt(ms)} | ${
        ms === undefined || !effectMs ? "–" : x(ms / effectMs)
      } | ${fmt(median((importResults[spec] ?? []).map((r) => r.sinceStartMs)))} |`
    )
  }
  push("")
}

push("### The bench server's ceiling", "")
if (wrkRuns.length > 0) {
  push(
    "`wrk` pinned to CPU 1 against the bench server on CPU 0. *Server CPU* is the server's own CPU use during the `wrk` run; *server capacity* extrapolates the rate to 100% of CPU 0 (the single `wrk` thread shares CPU 1 with other work, so it, not the server, sets the measured rate).",
    "",
    "| load | command | req/s | chunks/s | latency avg | server CPU | server capacity (req/s at 100% CPU) |",
    "|---|---|---|---|---|---|---|"
  )
  for (const w of wrkRuns) {
    const capacity = w.serverCpuPct > 0 ? (w.rps * 100) / w.serverCpuPct : undefined
    push(
      `| ${w.name} | \`${w.command}\` | ${fmt(w.rps)} | ${w.chunksPerSec === undefined ? "–" : fmt(w.chunksPerSec)} | ${
        w.latency ?? "–"
      } | ${w.serverCpuPct.toFixed(0)}%${w.errors ? " (errors!)" : ""} | ${fmt(capacity)}${
        w.chunksPerSec === undefined || capacity === undefined
          ? ""
          : ` (${fmt((capacity * w.chunksPerSec) / w.rps)} chunks/s)`
      } |`
    )
  }
  const rawC64 = valueOf(rawOf("openai-chat"), "chat-c64", "reqPerSec")
  const rawCpu = valueOf(rawOf("openai-chat"), "chat-c64", "serverCpuPct")
  let busiestRun
  for (const r of [...results.values()].flat()) {
    if (Number.isFinite(r.serverCpuPct) && (busiestRun === undefined || r.serverCpuPct > busiestRun.serverCpuPct)) {
      busiestRun = r
    }
  }
  if (rawC64 !== undefined && rawCpu !== undefined && busiestRun !== undefined) {
    const b = busiestRun
    push(
      "",
      `The fastest client, raw undici at c=64 (OpenAI chat), made ${fmt(rawC64)} req/s with the server at ${
        rawCpu.toFixed(0)
      }% of CPU 0 (median). The busiest single measurement of the run (${b.scenario}, ${b.adapter}/${b.format}) kept it at ${
        b.serverCpuPct.toFixed(0)
      }%${
        b.serverCpuPct < 90
          ? ": the server is not the bottleneck."
          : ": close to saturation there — read that row with care."
      }`
    )
  }
} else push("`wrk` not found: ceiling not measured.")
push("")

push("### Versions", "", "Read from each package's package.json at run time.", "", "| package | version |", "|---|---|")
const packageSet = new Set(["effect", "@effect/platform", "@effect/opentelemetry"])
for (const meta of Object.values(adapters)) for (const p of meta.packages) packageSet.add(p)
packageSet.add("@llm-fiber/otel")
for (const p of packageSet) push(`| \`${p}\` | ${versionOf(p)} |`)
push(`| Node (\`fetch\` = its bundled undici) | ${process.version} (undici ${process.versions.undici ?? "?"}) |`, "")
push("### Adapters", "", "| adapter | wire formats | what it runs |", "|---|---|---|")
for (const [name, meta] of Object.entries(adapters)) {
  push(`| \`${name}\` | ${meta.formats.join(", ")} | ${meta.about} |`)
}
push("")

if (failures.length > 0) {
  push("### Failures", "")
  for (const f of failures) push(`- ${f.pair} ${f.scenario}: ${f.error}`)
  push("")
}

const report = lines.join("\n")
console.log(report)

if (outJson !== undefined) {
  fs.writeFileSync(
    outJson,
    JSON.stringify(
      { machine, wrkRuns, results: Object.fromEntries(results), importResults, failures, targets },
      null,
      2
    )
  )
}

if (write) {
  const file = path.join(here, "RESULTS.md")
  const begin = "<!-- bench:begin (generated by bench/run.mjs: edit outside these markers) -->"
  const end = "<!-- bench:end -->"
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmark results\n"
  const i = current.indexOf("<!-- bench:begin")
  const j = current.indexOf(end)
  const block = `${begin}\n\n${report}\n${end}`
  const next = i !== -1 && j > i
    ? current.slice(0, i) + block + current.slice(j + end.length)
    : `${current.trimEnd()}\n\n${block}\n`
  fs.writeFileSync(file, next)
  log(`wrote ${path.relative(root, file)}`)
}
log(`done in ${Math.round(elapsedS)} s; ${failures.length} failure(s)`)
process.exit(failures.length > 0 ? 1 : 0)
