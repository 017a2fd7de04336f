// Runs every example in examples/ against the bundled mock provider server (CI does this).
import * as fs from "node:fs"
import * as path from "node:path"
import { root, run, startMockServer } from "./lib.mjs"

const server = await startMockServer()
const env = {
  ...process.env,
  OPENAI_BASE_URL: server.openaiBaseUrl,
  OPENAI_API_KEY: "sk-mock-key",
  ANTHROPIC_BASE_URL: server.url,
  ANTHROPIC_API_KEY: "sk-ant-mock-key",
  GEMINI_BASE_URL: server.url,
  GEMINI_API_KEY: "mock-gemini-key",
  OLLAMA_BASE_URL: server.openaiBaseUrl,
  LLM_FIBER_DEMO_MOCK: "1"
}
const examples = fs.readdirSync(path.join(root, "examples")).filter((f) => f.endsWith(".ts")).sort()
let failed = 0
for (const file of examples) {
  console.log(`\n── examples/${file}`)
  const code = await run(process.execPath, ["--import", "tsx", path.join("examples", file)], { env })
  if (code !== 0) {
    failed++
    console.error(`✖ examples/${file} exited with ${code}`)
  }
}
await server.close()
if (failed > 0) process.exit(1)
console.log(`\n✔ ${examples.length} examples ran against the mock server`)
