// `npm test`: the whole suite, as CI runs it — type-check (which also builds dist/), lint,
// import-cycle check, unit + wire tests, and every example against the mock server.
// Services later tests need (Redis) are started here and stopped after.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { tsImport } from "tsx/esm/api"
import { step } from "./lib.mjs"

const npx = process.platform === "win32" ? "npx.cmd" : "npx"

/** @type {typeof import("../test-support/redis.ts")} */
const Redis = await tsImport("../test-support/redis.ts", import.meta.url)

// redis-server (the Redis tests run against a real one): from Debian's packages when it is
// missing and this is root with apt-get (CI), else say what to install.
if (Redis.findRedisServer() === undefined) {
  const root = typeof process.getuid === "function" && process.getuid() === 0
  const apt = spawnSync("sh", ["-c", "command -v apt-get"], { encoding: "utf8" }).status === 0
  if (!root || !apt) {
    console.error(`✖ redis-server not found: ${Redis.installHint}`)
    process.exit(1)
  }
  await step("install redis-server (apt-get)", "sh", [
    "-c",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server"
  ])
  if (Redis.findRedisServer() === undefined) {
    console.error("✖ apt-get installed redis-server, but it is not on PATH")
    process.exit(1)
  }
}

await step("type-check and build (tsc -b)", npx, ["tsc", "-b", "tsconfig.json"])
await step("type-check examples and bench", npx, ["tsc", "-p", "examples/tsconfig.json"])
await step("lint (eslint + dprint format)", npx, ["eslint", ".", "--max-warnings", "0"])
const sources = fs.readdirSync("packages").map((name) => `packages/${name}/src`).filter((dir) => fs.existsSync(dir))
await step("no import cycles (madge)", npx, ["madge", "--circular", "--extensions", "ts", ...sources])

// one Redis for the tests and the examples (LLM_FIBER_REDIS_URL, inherited by every step),
// stopped when this process exits — also when a step fails (process.exit) or on Ctrl-C
if (!process.env[Redis.urlVariable]) {
  const redis = await Redis.startRedisServer()
  process.env[Redis.urlVariable] = redis.url
  console.log(`\n▶ redis-server ${redis.url} (pid ${redis.pid}) for the tests and examples`)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      redis.stopSync()
      process.exit(130)
    })
  }
}

const report = path.join(os.tmpdir(), `llm-fiber-vitest-${process.pid}.json`)
await step("tests (vitest)", npx, [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`
])
const counts = JSON.parse(fs.readFileSync(report, "utf8"))
fs.rmSync(report, { force: true })
await step("examples against the mock server", process.execPath, ["scripts/run-examples.mjs"])
console.log("\nAll checks passed.")
console.log(
  `Tests: ${counts.numPassedTests} passed, ${counts.numFailedTests} failed, ${counts.numPendingTests} skipped`
)
