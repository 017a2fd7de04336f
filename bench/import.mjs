// Cold import time: `node bench/import.mjs <spec>` imports the modules of one spec in this
// fresh process and prints `@@result {"spec", "importMs", "sinceStartMs"}` — `importMs` from
// just before the first `import()` to just after the last, `sinceStartMs` since the process
// started (Node's own start-up included). run.mjs runs each spec several times, interleaved.
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

export const specs = {
  effect: ["effect"],
  undici: ["undici"],
  "llm-fiber": ["@llm-fiber/core", "@llm-fiber/openai"],
  "llm-fiber-promise": ["@llm-fiber/core/promise", "@llm-fiber/openai"],
  openai: ["openai"],
  anthropic: ["@anthropic-ai/sdk"],
  genai: ["@google/genai"],
  "ai-sdk": ["ai", "@ai-sdk/openai"],
  "effect-ai": ["@effect/ai", "@effect/ai-openai", "@effect/platform-node"]
}

const name = process.argv[2]
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const modules = specs[name]
  if (modules === undefined) throw new Error(`unknown import spec ${name}`)
  const t0 = performance.now()
  for (const module of modules) await import(module)
  const importMs = performance.now() - t0
  console.log(`@@result ${JSON.stringify({ spec: name, importMs, sinceStartMs: performance.now() })}`)
}
