// `npm test`: the whole suite, as CI runs it — type-check (which also builds dist/), lint,
// import-cycle check, unit + wire tests, and every example against the mock server.
// Services later tests need (Redis) are started here and stopped after.
import { step } from "./lib.mjs"

const npx = process.platform === "win32" ? "npx.cmd" : "npx"

await step("type-check and build (tsc -b)", npx, ["tsc", "-b", "tsconfig.json"])
await step("type-check examples and bench", npx, ["tsc", "-p", "examples/tsconfig.json"])
await step("lint (eslint + dprint format)", npx, ["eslint", ".", "--max-warnings", "0"])
await step("no import cycles (madge)", npx, [
  "madge",
  "--circular",
  "--extensions",
  "ts",
  "packages/core/src",
  "packages/openai/src",
  "packages/testing/src",
  "packages/cli/src"
])
await step("tests (vitest)", npx, ["vitest", "run"])
await step("examples against the mock server", process.execPath, ["scripts/run-examples.mjs"])
console.log("\nAll checks passed.")
