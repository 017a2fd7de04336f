import { tsImport } from "tsx/esm/api"
import { spawnSync } from "node:child_process"
const R = await tsImport("../test-support/redis.ts", import.meta.url)
console.log("start redis"); const s = await R.startRedisServer()
process.on("exit", () => s.stopSync())
const lib = await import("/work/main/scripts/lib.mjs")
console.log("start mock"); const server = await lib.startMockServer()
const env = { ...process.env, OPENAI_BASE_URL: server.openaiBaseUrl, OPENAI_API_KEY: "sk-mock", LLM_FIBER_DEMO_MOCK: "1", LLM_FIBER_REDIS_URL: s.url }
console.log("run", s.url); const r = spawnSync(process.execPath, ["--import", "tsx", "examples/redis.ts"], { env, stdio: "inherit", cwd: "/work/main" })
await server.close()
console.log("exit", r.status)
