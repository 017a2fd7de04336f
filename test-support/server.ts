/**
 * A tiny loopback HTTP server for provider tests: records every request and answers
 * with whatever the current handler says (JSON, an SSE body written in uneven pieces,
 * an error status, or a connection reset).
 */
import * as Effect from "effect/Effect"
import * as http from "node:http"
import type { AddressInfo, Socket } from "node:net"

export interface Recorded {
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: any
}

export interface Reply {
  readonly status?: number
  readonly headers?: Record<string, string>
  /** The whole body. */
  readonly body?: string
  /** Write the body in pieces of these sizes (bytes, cycled) to split lines and UTF-8 sequences. */
  readonly pieces?: ReadonlyArray<number>
  /** Destroy the socket after writing this many bytes of the body (after the headers). */
  readonly resetAfter?: number
}

export type Handler = (request: Recorded) => Reply

export interface TestServer {
  readonly url: string
  readonly requests: Array<Recorded>
  handle(handler: Handler): void
  close(): Promise<void>
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

export const sse = (body: string, pieces?: ReadonlyArray<number>): Reply => ({
  status: 200,
  headers: { "content-type": "text/event-stream; charset=utf-8" },
  body,
  ...(pieces !== undefined ? { pieces } : {})
})

export const startServer = (): Promise<TestServer> =>
  new Promise((resolve) => {
    let handler: Handler = () => ({ status: 500, body: "no handler" })
    const requests: Array<Recorded> = []
    const sockets = new Set<Socket>()
    const server = http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let body: unknown = text
        try {
          body = text === "" ? undefined : JSON.parse(text)
        } catch {
          // keep the text
        }
        const recorded: Recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body }
        requests.push(recorded)
        const reply = handler(recorded)
        const bytes = Buffer.from(reply.body ?? "", "utf8")
        res.writeHead(reply.status ?? 200, reply.headers ?? {})
        if (reply.resetAfter !== undefined) {
          res.write(bytes.subarray(0, reply.resetAfter), () => {
            setTimeout(() => res.socket?.destroy(), 10)
          })
          return
        }
        if (reply.pieces === undefined || reply.pieces.length === 0) {
          res.end(bytes)
          return
        }
        let offset = 0
        let i = 0
        while (offset < bytes.length) {
          const size = Math.max(1, reply.pieces[i % reply.pieces.length]!)
          res.write(bytes.subarray(offset, offset + size))
          offset += size
          i++
        }
        res.end()
      })
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        handle: (h) => {
          handler = h
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })

/** The server as a scoped resource. */
export const scopedServer = Effect.acquireRelease(
  Effect.promise(() => startServer()),
  (server) => Effect.promise(() => server.close())
)
