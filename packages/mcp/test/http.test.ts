/**
 * The Streamable HTTP transport against the real server-everything in its HTTP mode, bound
 * to 127.0.0.1 on a free port (its own code binds every interface: a preload forces
 * loopback), plus HTTP failures: a server that never answers, one that goes away, and
 * headers that must never show up in errors.
 */
import { describe, expect, it } from "@effect/vitest"
import { Mcp } from "@llm-fiber/mcp"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as net from "node:net"
import { everythingHttp, kill, runTool } from "./servers.js"

const secret = "Bearer mcp-secret-token-0123456789"

/** A TCP server on loopback that accepts connections and never answers. */
const silentServer = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly close: () => Promise<void> }>((resume) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    const close = () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        if (!server.listening) return resolve()
        server.close(() => resolve())
      })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(Effect.succeed({ port: typeof address === "object" && address !== null ? address.port : 0, close }))
    })
  }),
  ({ close }) => Effect.promise(close)
)

describe("Streamable HTTP", () => {
  it.scopedLive("server-everything over HTTP on 127.0.0.1: tools, resources, prompts", () =>
    Effect.gen(function*() {
      const http = yield* everythingHttp
      expect(http.address).toBe("127.0.0.1")
      const server = yield* Mcp.connect({
        name: "everything-http",
        transport: Mcp.http(http.url, { headers: { authorization: Redacted.make(secret) } }),
        timeoutMs: 20_000
      })
      expect(server.serverInfo.name).toBe("mcp-servers/everything")
      expect((yield* server.listTools).map((t) => t.name)).toEqual(expect.arrayContaining(["echo", "get-sum"]))
      expect(Mcp.resultText(yield* server.callTool("get-sum", { a: 20, b: 22 }))).toBe("The sum of 20 and 22 is 42.")
      expect(yield* runTool(server.toolkit, "echo", { message: "over http" })).toBe("Echo: over http")
      const doc = yield* server.readResource("demo://resource/dynamic/text/3")
      expect(doc.contents[0]).toMatchObject({ uri: "demo://resource/dynamic/text/3" })
      const prompt = yield* server.getPrompt("args-prompt", { city: "Lyon" })
      expect(prompt.messages).toEqual([{ role: "user", content: [{ type: "text", text: "What's weather in Lyon?" }] }])
    }))

  it.scopedLive("the HTTP server goes away: calls fail with a typed error, not a hang", () =>
    Effect.gen(function*() {
      const http = yield* everythingHttp
      const server = yield* Mcp.connect({
        name: "everything-http",
        transport: Mcp.http(http.url, { headers: { authorization: secret } }),
        timeoutMs: 20_000,
        requestTimeoutMs: 600_000
      })
      expect(yield* kill(http.pid)).toBe(true)
      const error = yield* Effect.flip(server.callTool("echo", { message: "hello?" }))
      expect(error).toBeInstanceOf(Mcp.McpError)
      expect(error).toMatchObject({ server: "everything-http", reason: "Connect", method: "tools/call" })
      expect(JSON.stringify(error)).not.toContain("mcp-secret-token")
      expect(error.message).not.toContain("mcp-secret-token")
    }))

  it.scopedLive("connect times out against an endpoint that never answers", () =>
    Effect.gen(function*() {
      const { port } = yield* silentServer
      const error = yield* Effect.flip(Mcp.connect({
        name: "silent-http",
        transport: Mcp.http(`http://127.0.0.1:${port}/mcp?key=url-secret`, { headers: { "x-api-key": secret } }),
        timeoutMs: 500
      }))
      expect(error).toMatchObject({ server: "silent-http", reason: "Timeout", method: "initialize" })
      expect(error.message).not.toContain("url-secret")
      expect(error.message).not.toContain("mcp-secret-token")
    }))

  it.scopedLive("connection refused: Connect, without the headers or the URL", () =>
    Effect.gen(function*() {
      const { close, port } = yield* silentServer
      yield* Effect.promise(close)
      const error = yield* Effect.flip(Mcp.connect({
        name: "gone-http",
        transport: Mcp.http(`http://127.0.0.1:${port}/mcp?key=url-secret`, {
          headers: { authorization: Redacted.make(secret) }
        }),
        timeoutMs: 5_000
      }))
      expect(error).toMatchObject({ server: "gone-http", reason: "Connect" })
      const everything = JSON.stringify(error) + error.message + String(error.cause)
      expect(everything).not.toContain("mcp-secret-token")
      expect(everything).not.toContain("url-secret")
    }))
})
