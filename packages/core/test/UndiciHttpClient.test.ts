import { HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { UndiciHttpClient } from "@llm-fiber/core"
import { Chunk, Duration, Effect, Either, Stream } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

/** A loopback server whose handler the test chooses; counts connections closed by the client. */
const withServer = <A, E, R>(
  handler: http.RequestListener,
  f: (url: string, closed: () => number) => Effect.Effect<A, E, R>
) =>
  Effect.acquireUseRelease(
    Effect.async<{ server: http.Server; closed: { count: number } }>((resume) => {
      const closed = { count: 0 }
      const server = http.createServer((req, res) => {
        res.on("close", () => {
          if (!res.writableFinished) closed.count++
        })
        handler(req, res)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, closed })))
    }),
    ({ closed, server }) => f(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, () => closed.count),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const client = HttpClient.HttpClient
const Http = UndiciHttpClient.layer()

describe("UndiciHttpClient", () => {
  it.live("sends method, headers and body; reads status, headers and JSON", () =>
    withServer((req, res) => {
      let body = ""
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        res.writeHead(201, { "content-type": "application/json", "x-request-id": "req_1" })
        res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, body: JSON.parse(body) }))
      })
    }, (url) =>
      Effect.gen(function*() {
        const c = yield* client
        const response = yield* c.execute(
          HttpClientRequest.post(url + "/x").pipe(
            HttpClientRequest.bearerToken("tok"),
            HttpClientRequest.bodyUnsafeJson({ a: 1 })
          )
        )
        expect(response.status).toBe(201)
        expect(response.headers["x-request-id"]).toBe("req_1")
        expect(yield* response.json).toEqual({ method: "POST", auth: "Bearer tok", body: { a: 1 } })
      }).pipe(Effect.provide(Http))))

  it.live("connection refused is a transport RequestError", () =>
    Effect.gen(function*() {
      const c = yield* client
      const result = yield* Effect.either(c.execute(HttpClientRequest.get("http://127.0.0.1:1/")))
      expect(Either.isLeft(result) && result.left._tag).toBe("RequestError")
    }).pipe(Effect.provide(Http)))

  // Regression: a Readable's own `return()` waits behind a pending read, so interrupting a
  // stream stalled mid-body used to hang forever.
  it.live("interrupting a body stream stalled mid-response finishes and closes the connection", () =>
    withServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" })
      res.write("data: first\n\n")
      // then silence
    }, (url, closed) =>
      Effect.gen(function*() {
        const c = yield* client
        const response = yield* c.execute(HttpClientRequest.post(url))
        const got = yield* response.stream.pipe(
          Stream.timeoutFail(() => "idle" as const, Duration.millis(200)),
          Stream.runCollect,
          Effect.either,
          Effect.timeout(Duration.seconds(5))
        )
        expect(Either.isLeft(got) && got.left).toBe("idle")
        // the server sees the client close the connection
        yield* Effect.sleep(Duration.millis(100))
        expect(closed()).toBe(1)
      }).pipe(Effect.provide(Http))))

  it.live("reads a streamed body chunk by chunk", () =>
    withServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" })
      let i = 0
      const tick = setInterval(() => {
        res.write(`part${i}\n`)
        if (++i === 5) {
          clearInterval(tick)
          res.end()
        }
      }, 5)
    }, (url) =>
      Effect.gen(function*() {
        const c = yield* client
        const response = yield* c.execute(HttpClientRequest.get(url))
        const chunks = yield* Stream.runCollect(response.stream)
        const text = Chunk.toArray(chunks).map((b) => new TextDecoder().decode(b)).join("")
        expect(text).toBe("part0\npart1\npart2\npart3\npart4\n")
      }).pipe(Effect.provide(Http))))
})
