import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../../..")
const bin = path.resolve(here, "../src/bin.ts")

const launch = (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (data) => (stdout += String(data)))
  child.stderr.on("data", (data) => (stderr += String(data)))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const firstLine = new Promise<string>((resolve, reject) => {
    const onData = () => {
      const at = stdout.indexOf("\n")
      if (at >= 0) resolve(stdout.slice(0, at))
    }
    child.stdout.on("data", onData)
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)))
  })
  firstLine.catch(() => undefined)
  return { child, exited, firstLine, output: () => ({ stdout, stderr }) }
}

describe("llm-fiber-mock", () => {
  it("prints one line with the URL, serves, and exits cleanly on SIGTERM", async () => {
    const run = launch(["--port", "0"])
    const line = await run.firstLine
    const match = /^llm-fiber mock server listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line)
    expect(match).not.toBeNull()
    const res = await fetch(`${match![1]}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "mock?chunks=2", messages: [{ role: "user", content: "hi" }] })
    })
    expect(((await res.json()) as any).choices[0].message.content).toBe("tok1 tok2 ")
    run.child.kill("SIGTERM")
    expect(await run.exited).toBe(0)
    expect(run.output().stdout).toBe(line + "\n")
  })

  it("exits cleanly on SIGINT", async () => {
    const run = launch(["--port=0", "--host", "127.0.0.1"])
    await run.firstLine
    run.child.kill("SIGINT")
    expect(await run.exited).toBe(0)
  })

  it("rejects bad arguments with a usage line", async () => {
    const run = launch(["--port", "nope"])
    expect(await run.exited).toBe(2)
    expect(run.output().stderr).toContain("usage: llm-fiber-mock")
    expect(run.output().stdout).toBe("")
  })
})
