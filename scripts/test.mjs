// `npm test`: the whole suite, as CI runs it — type-check (which also builds dist/), lint,
// import-cycle check, unit + wire tests, and every example against the mock server.
// Services later tests need (Redis) are started here and stopped after.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { step } from "./lib.mjs"

const npx = process.platform === "win32" ? "npx.cmd" : "npx"

await step("type-check and build (tsc -b)", npx, ["tsc", "-b", "tsconfig.json"])
await step("type-check examples and bench", npx, ["tsc", "-p", "examples/tsconfig.json"])
await step("lint (eslint + dprint format)", npx, ["eslint", ".", "--max-warnings", "0"])
const sources = fs.readdirSync("packages").map((name) => `packages/${name}/src`).filter((dir) => fs.existsSync(dir))
await step("no import cycles (madge)", npx, ["madge", "--circular", "--extensions", "ts", ...sources])
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
