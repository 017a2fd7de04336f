// `npm run demo`: runs examples/quickstart.ts — against the real providers when their API
// keys are set, otherwise against the bundled mock provider server on a loopback port.
import { root, run, startMockServer } from "./lib.mjs"

const real = Boolean(process.env.OPENAI_API_KEY) && !process.env.OPENAI_BASE_URL
let server
const env = { ...process.env }
if (real) {
  console.log("OPENAI_API_KEY is set: the demo talks to the real provider.")
} else {
  server = await startMockServer()
  env.OPENAI_BASE_URL = server.openaiBaseUrl
  env.LLM_FIBER_DEMO_MOCK = "1"
  console.log(`No OPENAI_API_KEY: using the bundled mock provider server at ${server.url}`)
}
const code = await run(process.execPath, ["--import", "tsx", "examples/quickstart.ts"], { cwd: root, env })
await server?.close()
process.exit(code)
