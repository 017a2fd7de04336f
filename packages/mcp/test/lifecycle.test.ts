/**
 * Connection lifecycle against real processes: connect timeouts, servers that cannot start,
 * scope close stopping the child, a server killed mid-session (typed error, no hang), and
 * reconnecting with bounded attempts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Mcp } from "@llm-fiber/mcp"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import { everything, everythingBin, flakyEverything, isRunning, kill, runTool, tempDir } from "./servers.js"

const pidOf = (server: Mcp.McpServer) =>
  Effect.flatMap(server.pid, (pid) => Option.isSome(pid) ? Effect.succeed(pid.value) : Effect.dieMessage("no pid"))

/**
 * The flaky server (it refuses to start while the marker file exists), reconnecting up to
 * `maxAttempts` times; and the marker's path (in a fresh temporary directory).
 */
const connectFlaky = (maxAttempts: number) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const marker = path.join(dir, "fail")
    const server = yield* Mcp.connect({
      name: "flaky",
      transport: Mcp.stdio(process.execPath, [flakyEverything], { env: { MCP_TEST_FAIL_MARKER: marker } }),
      timeoutMs: 20_000,
      reconnect: { maxAttempts }
    })
    return { marker, server }
  })

describe("connecting", () => {
  it.scopedLive("times out on a command that never speaks MCP, and stops it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const pidFile = path.join(dir, "pid")
      const error = yield* Effect.flip(Mcp.connect({
        name: "silent",
        transport: Mcp.stdio(process.execPath, [
          "-e",
          "require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)",
          pidFile
        ]),
        timeoutMs: 1_000
      }))
      expect(error).toBeInstanceOf(Mcp.McpError)
      expect(error).toMatchObject({ server: "silent", reason: "Timeout", method: "initialize" })
      expect(error.message).toBe("MCP server \"silent\": no answer to initialize within 1000 ms")
      const pid = Number(fs.readFileSync(pidFile, "utf8"))
      expect(pid).toBeGreaterThan(0)
      expect(isRunning(pid)).toBe(false)
    }))

  it.scopedLive("a server that exits at once: Connect, quoting its stderr", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Mcp.connect({
        name: "crashy",
        transport: Mcp.stdio(process.execPath, ["-e", "console.error('cannot open database'); process.exit(3)"])
      }))
      expect(error).toMatchObject({ server: "crashy", reason: "Connect", method: "initialize" })
      expect(error.message).toContain("exited before the handshake completed")
      expect(error.message).toContain("cannot open database")
    }))

  it.scopedLive("a command that does not exist: Connect", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Mcp.connect({
        name: "missing",
        transport: Mcp.stdio("/nonexistent/mcp-server-binary", ["--token", "s3cret-arg"])
      }))
      expect(error).toMatchObject({ server: "missing", reason: "Connect" })
      expect(error.message).toContain("could not start \"/nonexistent/mcp-server-binary\"")
      // arguments may carry secrets: they are not quoted
      expect(error.message).not.toContain("s3cret-arg")
    }))

  it.effect("invalid options: Config", () =>
    Effect.gen(function*() {
      const noName = yield* Effect.flip(Effect.scoped(Mcp.connect({ ...everything(), name: "" })))
      expect(noName).toMatchObject({ reason: "Config" })
      const badTimeout = yield* Effect.flip(Effect.scoped(Mcp.connect(everything({ timeoutMs: -1 }))))
      expect(badTimeout.message).toContain("timeoutMs must be a positive number")
      const badUrl = yield* Effect.flip(
        Effect.scoped(Mcp.connect({ name: "x", transport: Mcp.http("ftp://127.0.0.1/mcp") }))
      )
      expect(badUrl.message).toContain("http: or https: URL")
    }))
})

describe("lifetime", () => {
  it.live("closing the scope stops the child process", () =>
    Effect.gen(function*() {
      const { pid, server } = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* Mcp.connect(everything())
        const pid = yield* pidOf(server)
        expect(isRunning(pid)).toBe(true)
        return { pid, server }
      }))
      expect(isRunning(pid)).toBe(false)
      expect(yield* server.status).toBe("closed")
      const after = yield* Effect.flip(server.callTool("echo", { message: "late" }))
      expect(after).toMatchObject({ reason: "Closed", method: "tools/call" })
      expect(after.message).toContain("its scope has ended")
      // and through the toolkit, a ToolError
      const toolError = yield* Effect.flip(runTool(server.toolkit, "echo", { message: "x" }))
      expect(toolError).toMatchObject({ _tag: "ToolError", code: "mcp_closed", toolName: "echo" })
    }))

  it.scopedLive("a server killed mid-call: the call fails with Closed (no hang), later calls fail fast", () =>
    Effect.gen(function*() {
      // a request deadline far beyond the test's timeout: only the death can end the call
      const server = yield* Mcp.connect(everything({ requestTimeoutMs: 600_000 }))
      const pid = yield* pidOf(server)
      const call = yield* Effect.fork(
        server.callTool("trigger-long-running-operation", { duration: 120, steps: 1 })
      )
      yield* Effect.sleep("300 millis")
      expect(yield* kill(pid)).toBe(true)
      const error = yield* Effect.flip(Fiber.join(call))
      expect(error).toBeInstanceOf(Mcp.McpError)
      expect(error).toMatchObject({ server: "everything", reason: "Closed", method: "tools/call" })
      expect(error.message).toContain("exited")
      expect(error.message).toContain("(during tools/call)")
      expect(yield* server.status).toBe("disconnected")
      expect(yield* server.pid).toEqual(Option.none())
      const next = yield* Effect.flip(server.callTool("echo", { message: "anyone?" }))
      expect(next).toMatchObject({ reason: "Closed" })
      expect(next.message).toContain("reconnect is off")
      const listing = yield* Effect.flip(server.listTools)
      expect(listing).toMatchObject({ reason: "Closed", method: "tools/list" })
    }))

  it.scopedLive("reconnect: the next call after the server died starts a new one", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect(everything({ reconnect: true }))
      const first = yield* pidOf(server)
      expect(yield* kill(first)).toBe(true)
      expect(yield* server.status).toBe("disconnected")
      const echoed = yield* server.callTool("echo", { message: "back again" })
      expect(Mcp.resultText(echoed)).toBe("Echo: back again")
      const second = yield* pidOf(server)
      expect(second).not.toBe(first)
      expect(yield* server.status).toBe("connected")
      // the toolkit built at connect time keeps working on the new connection
      expect(yield* runTool(server.toolkit, "get-sum", { a: 1, b: 2 })).toBe(
        "The sum of 1 and 2 is 3."
      )
    }))

  it.scopedLive("reconnect gives up after maxAttempts failed attempts and stays failed", () =>
    Effect.gen(function*() {
      const { marker, server } = yield* connectFlaky(2)
      fs.writeFileSync(marker, "")
      expect(yield* kill(yield* pidOf(server))).toBe(true)
      const attempt1 = yield* Effect.flip(server.callTool("echo", { message: "1" }))
      expect(attempt1).toMatchObject({ reason: "Connect" })
      expect(attempt1.message).toContain("refusing to start")
      const attempt2 = yield* Effect.flip(server.callTool("echo", { message: "2" }))
      expect(attempt2).toMatchObject({ reason: "Connect" })
      // the server could start again now, but the attempts are used up
      fs.rmSync(marker)
      const gaveUp = yield* Effect.flip(server.callTool("echo", { message: "3" }))
      expect(gaveUp).toMatchObject({ reason: "Closed" })
      expect(gaveUp.message).toContain("gave up after 2 failed reconnection attempts")
      expect(yield* server.status).toBe("disconnected")
    }))

  it.scopedLive("a successful reconnect resets the attempt count", () =>
    Effect.gen(function*() {
      const { server } = yield* connectFlaky(1)
      for (let round = 0; round < 3; round++) {
        expect(yield* kill(yield* pidOf(server))).toBe(true)
        const echoed = yield* server.callTool("echo", { message: `round ${round}` })
        expect(Mcp.resultText(echoed)).toBe(`Echo: round ${round}`)
      }
    }))

  it.live("a reconnected child is stopped too when the scope closes", () =>
    Effect.gen(function*() {
      const pids = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* Mcp.connect(everything({ reconnect: true }))
        const first = yield* pidOf(server)
        yield* kill(first)
        yield* server.callTool("echo", { message: "x" })
        return [first, yield* pidOf(server)] as const
      }))
      expect(pids[1]).not.toBe(pids[0])
      expect(isRunning(pids[0])).toBe(false)
      expect(isRunning(pids[1])).toBe(false)
    }))

  it.scopedLive("a server started through the flaky wrapper is server-everything", () =>
    Effect.gen(function*() {
      const server = yield* Mcp.connect({
        name: "wrapped",
        transport: Mcp.stdio(process.execPath, [flakyEverything])
      })
      expect(server.serverInfo.name).toBe("mcp-servers/everything")
      expect(everythingBin).toContain("server-everything")
    }))
})
