/**
 * The real `llm-fiber` executable as a child process, from its TypeScript sources
 * (`node --import tsx --import test/support/register.mjs src/bin.ts`), with exactly the
 * given environment (plus PATH, HOME and TMPDIR) and stdin.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
export const root = path.resolve(here, "../../../..")
const bin = path.resolve(here, "../../src/bin.ts")
const register = path.resolve(here, "register.mjs")

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Everything the runs printed, to check for secrets. */
export const printed: Array<string> = []

/** Run `llm-fiber …`. */
export const cli = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Readonly<Record<string, string>>; readonly input?: string; readonly cwd?: string } = {}
): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--import", register, bin, ...args], {
      cwd: options.cwd ?? root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...(process.env.TMPDIR !== undefined ? { TMPDIR: process.env.TMPDIR } : {}),
        ...options.env
      },
      stdio: ["pipe", "pipe", "pipe"]
    })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk))
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk))
    child.on("error", reject)
    child.on("close", (code) => {
      const run = { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }
      printed.push(run.stdout, run.stderr)
      resolve(run)
    })
    child.stdin.end(options.input ?? "")
  })

/** The non-empty lines of a text. */
export const lines = (text: string): Array<string> => text.split("\n").filter((line) => line !== "")
