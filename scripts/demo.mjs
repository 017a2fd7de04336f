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
  if (!process.env.ANTHROPIC_API_KEY) env.ANTHROPIC_BASE_URL = server.url
  if (!process.env.GEMINI_API_KEY && !process.env.GOOGLE_API_KEY) env.GEMINI_BASE_URL = server.url
  if (!process.env.OLLAMA_BASE_URL) env.OLLAMA_BASE_URL = server.openaiBaseUrl
  env.LLM_FIBER_DEMO_MOCK = "1"
  console.log(`No OPENAI_API_KEY: using the bundled mock provider server at ${server.url}`)
}
// `npm run demo -- providers` runs examples/providers.ts instead
const example = process.argv[2] ?? "quickstart"
const code = await run(process.execPath, ["--import", "tsx", `examples/${example}.ts`], { cwd: root, env })
await server?.close()
process.exit(code)
