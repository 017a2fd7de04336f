/**
 * `Mcp.layer`: several real servers for the lifetime of a layer, their merged toolkit, and
 * tool-name collisions.
 */
import { describe, expect, it } from "@effect/vitest"
import { Mcp } from "@llm-fiber/mcp"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import { everything, flakyEverything, isRunning, memory, runTool, tempDir } from "./servers.js"

describe("Mcp.layer", () => {
  it.scopedLive("two servers, one merged toolkit that calls each of them", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const clients = yield* Mcp.McpClients
        expect(clients.servers.map((s) => s.name)).toEqual(["everything", "memory"])
        const names = clients.toolkit.tools.map((t) => t.name)
        expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "create_entities", "read_graph"]))
        expect(yield* runTool(clients.toolkit, "echo", { message: "merged" })).toBe("Echo: merged")
        yield* runTool(clients.toolkit, "create_entities", {
          entities: [{ name: "Margaret", entityType: "person", observations: ["Apollo"] }]
        })
        expect(yield* runTool(clients.toolkit, "read_graph", {})).toMatchObject({
          entities: [{ name: "Margaret" }]
        })
        const memoryServer = clients.server("memory")
        expect(Option.isSome(memoryServer)).toBe(true)
        expect(Option.isNone(clients.server("nope"))).toBe(true)
        for (const server of clients.servers) {
          const pid = yield* server.pid
          if (Option.isSome(pid)) pids.push(pid.value)
        }
      }).pipe(Effect.provide(Mcp.layer([everything(), memory(dir)])))
      // the layer's scope closed: both children are stopped
      expect(pids).toHaveLength(2)
      for (const pid of pids) expect(isRunning(pid)).toBe(false)
    }))

  it.scopedLive("two servers offering the same tool name: a Config error, unless one has a toolPrefix", () =>
    Effect.gen(function*() {
      const collision = yield* Effect.flip(
        Layer.build(Mcp.layer([everything({ name: "a" }), everything({ name: "b" })]))
      )
      expect(collision).toMatchObject({ reason: "Config", server: "b" })
      expect(collision.message).toMatch(/tool "echo" is also offered by MCP server "a": give one of them a toolPrefix/)

      yield* Effect.gen(function*() {
        const clients = yield* Mcp.McpClients
        expect(clients.toolkit.byName.has("echo")).toBe(true)
        expect(yield* runTool(clients.toolkit, "b_echo", { message: "from b" })).toBe("Echo: from b")
      }).pipe(Effect.provide(Mcp.layer([everything({ name: "a" }), everything({ name: "b", toolPrefix: true })])))
    }))

  it.scopedLive("two servers of one name: a Config error before anything starts", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(Mcp.layer([everything(), everything()])))
      expect(error).toMatchObject({ reason: "Config", server: "everything" })
    }))

  it.scopedLive("one server failing to connect fails the layer (and stops the others)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const pidFile = path.join(dir, "pid")
      const error = yield* Effect.flip(Layer.build(Mcp.layer([
        {
          name: "healthy",
          transport: Mcp.stdio(process.execPath, [flakyEverything], { env: { MCP_TEST_PID_FILE: pidFile } }),
          timeoutMs: 20_000
        },
        // fails once the healthy one is up
        {
          name: "broken",
          transport: Mcp.stdio(process.execPath, [
            "-e",
            "const f = require('fs'); const t = setInterval(() => { if (f.existsSync(process.argv[1])) process.exit(1) }, 20)",
            pidFile
          ])
        }
      ])))
      expect(error).toMatchObject({ reason: "Connect", server: "broken" })
      const pid = Number(fs.readFileSync(pidFile, "utf8"))
      expect(pid).toBeGreaterThan(0)
      expect(isRunning(pid)).toBe(false)
    }))
})
