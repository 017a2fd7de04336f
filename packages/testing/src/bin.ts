#!/usr/bin/env node
/**
 * `llm-fiber-mock [--port N] [--host 127.0.0.1]`: run the mock provider server until
 * SIGINT/SIGTERM. Prints exactly one line on stdout once listening:
 * `llm-fiber mock server listening on http://127.0.0.1:PORT`.
 *
 * @example
 * ```sh
 * node packages/testing/dist/bin.js --port 0
 * # llm-fiber mock server listening on http://127.0.0.1:41234
 * OPENAI_BASE_URL=http://127.0.0.1:41234/v1 OPENAI_API_KEY=sk-mock llm-fiber ask "hi" --model "gpt-4o-mini?chunks=3"
 * ```
 *
 * @since 0.1.0
 */
import * as MockServer from "./MockServer.js"

const usage = "usage: llm-fiber-mock [--port N] [--host 127.0.0.1] [--no-record]"

const fail = (message: string): never => {
  process.stderr.write(`${message}\n${usage}\n`)
  process.exit(2)
}

const parseArgs = (args: ReadonlyArray<string>): MockServer.Options => {
  let port = 0
  let host = "127.0.0.1"
  let record = true
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const eq = arg.indexOf("=")
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    const value = () => (eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : args[++i])
    switch (flag) {
      case "--port": {
        const raw = value()
        const n = Number(raw)
        if (raw === undefined || raw.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) {
          fail(`--port needs a port number (0 for a free one), got ${JSON.stringify(raw)}`)
        }
        port = n
        break
      }
      case "--host": {
        const raw = value()
        if (raw === undefined || raw === "") fail("--host needs an address")
        host = raw!
        break
      }
      case "--no-record":
        record = false
        break
      case "-h":
      case "--help":
        process.stdout.write(`${usage}\n`)
        process.exit(0)
        break
      default:
        fail(`unknown argument ${JSON.stringify(arg)}`)
    }
  }
  return { port, host, record }
}

const main = async () => {
  const options = parseArgs(process.argv.slice(2))
  // handlers first, so that a signal arriving right after the line is printed is ours
  let server: MockServer.Handle | undefined = undefined
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    if (server === undefined) return
    server.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
  server = await MockServer.start(options)
  if (stopping) {
    await server.close()
    process.exit(0)
  }
  process.stdout.write(`llm-fiber mock server listening on ${server.url}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`llm-fiber-mock: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
