// Helpers shared by the repo scripts (demo, examples, test).
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Run a command, inheriting stdio; resolves with the exit code. */
export const run = (command, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit", cwd: root, ...options })
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)))
    child.on("error", (error) => {
      console.error(error)
      resolve(1)
    })
  })

/** Run a command or exit with its code. */
export const step = async (title, command, args, options) => {
  const started = Date.now()
  console.log(`\n▶ ${title}`)
  const code = await run(command, args, options)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  if (code !== 0) {
    console.error(`✖ ${title} failed (exit ${code}, ${seconds} s)`)
    process.exit(code)
  }
  console.log(`✔ ${title} (${seconds} s)`)
}

/** Start the bundled mock provider server (built package) on a free loopback port. */
export const startMockServer = async () => {
  const { MockServer } = await import(path.join(root, "packages/testing/dist/index.js"))
  return MockServer.start({ port: 0 })
}
