/**
 * The real MCP servers the tests run (from npm, installed as devDependencies), and helpers
 * around their processes.
 */
import type { LlmError, Toolkit } from "@llm-fiber/core"
import { Mcp } from "@llm-fiber/mcp"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))

export const everythingBin = require.resolve("@modelcontextprotocol/server-everything/dist/index.js")
export const memoryBin = require.resolve("@modelcontextprotocol/server-memory/dist/index.js")
export const loopbackPreload = path.join(here, "fixtures", "loopback.mjs")
export const flakyEverything = path.join(here, "fixtures", "flaky-everything.mjs")

/** server-everything over stdio. */
export const everything = (options?: Partial<Mcp.Options>): Mcp.Options => ({
  name: "everything",
  transport: Mcp.stdio(process.execPath, [everythingBin, "stdio"]),
  timeoutMs: 20_000,
  ...options
})

/** A fresh temporary directory, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "llm-fiber-mcp-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** server-memory over stdio, its graph in a file of a temporary directory. */
export const memory = (dir: string, options?: Partial<Mcp.Options>): Mcp.Options => ({
  name: "memory",
  transport: Mcp.stdio(process.execPath, [memoryBin], { env: { MEMORY_FILE_PATH: path.join(dir, "memory.jsonl") } }),
  timeoutMs: 20_000,
  ...options
})

/** Whether a process with this id exists. */
export const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Wait (polling, bounded) until a process is gone; true when it is. */
export const waitUntilGone = (pid: number, timeoutMs = 10_000): Promise<boolean> =>
  new Promise((resolve) => {
    const started = Date.now()
    const check = () => {
      if (!isRunning(pid)) return resolve(true)
      if (Date.now() - started > timeoutMs) return resolve(false)
      setTimeout(check, 20)
    }
    check()
  })

/** Kill a process (SIGKILL) and wait until it is gone. */
export const kill = (pid: number) =>
  Effect.promise(async () => {
    process.kill(pid, "SIGKILL")
    return await waitUntilGone(pid)
  })

/**
 * server-everything in its Streamable HTTP mode, forced onto 127.0.0.1 (it would bind all
 * interfaces) on a free port; killed when the scope closes.
 */
export const everythingHttp = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly address: string; readonly pid: number }, Error>((resume) => {
    const child = spawn(process.execPath, ["--import", loopbackPreload, everythingBin, "streamableHttp"], {
      env: { PATH: process.env.PATH ?? "", PORT: "0" },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    let done = false
    const timer = setTimeout(() => finish(new Error(`server-everything (HTTP) did not start: ${stderr}`)), 20_000)
    const finish = (result: Error | { readonly url: string; readonly address: string; readonly pid: number }) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (result instanceof Error) {
        child.kill("SIGKILL")
        resume(Effect.fail(result))
      } else {
        resume(Effect.succeed(result))
      }
    }
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
      const match = /LOOPBACK_LISTENING (\S+) (\d+)/.exec(stderr)
      if (match !== null && match[1] !== undefined && match[2] !== undefined && child.pid !== undefined) {
        finish({ url: `http://127.0.0.1:${match[2]}/mcp`, address: match[1], pid: child.pid })
      }
    })
    child.on("exit", (code) => finish(new Error(`server-everything (HTTP) exited with ${code}: ${stderr}`)))
    child.on("error", (error) => finish(error))
  }),
  ({ pid }) =>
    Effect.promise(async () => {
      if (isRunning(pid)) {
        process.kill(pid, "SIGKILL")
        await waitUntilGone(pid)
      }
    })
)

/** Run a toolkit tool by name, as the tool loop would (arguments as the model sent them). */
export const runTool = (
  toolkit: Toolkit.Toolkit,
  name: string,
  args: unknown
): Effect.Effect<unknown, LlmError.ToolError> => {
  const tool = toolkit.byName.get(name)
  if (tool === undefined) return Effect.dieMessage(`no tool "${name}" in the toolkit`)
  return (tool.handler as unknown as (args: unknown) => Effect.Effect<unknown, LlmError.ToolError>)(args)
}
