// A fast mock provider server for the benchmarks (plain node:http). Unlike the bundled mock
// server of @llm-fiber/testing (faults, scripts, recording, tool calls), it answers from
// response bytes precomputed per (wire format, model, chunk count), so a request costs it
// little more than node:http itself. `run.mjs` pins it to CPU 0 and measures its ceiling
// with `wrk`.
//
//   node bench/server.mjs [--port 0] [--host 127.0.0.1]   → prints "listening on http://…"
//
// Routes (POST): /v1/chat/completions (OpenAI Chat Completions), /v1/responses (OpenAI
// Responses), /v1/messages (Anthropic Messages), /{v1beta|v1}/models/{model}:generateContent
// and :streamGenerateContent?alt=sse (Gemini). Streaming when the body says
// `"stream": true` (Gemini: the `:streamGenerateContent` method).
//
// The model name carries the answer: `bench-<n>[-<mode>]` — `n` text deltas (the stream has
// one SSE event per delta, plus the format's head and tail) — or the `x-bench-chunks` /
// `x-bench-mode` headers, or `?chunks=` / `&mode=` in the URL. Stream modes:
//   burst   (default) every event in one write
//   trickle one SSE event per socket write, a `setImmediate` turn (or `drain`) between two,
//           so that each network read of the client holds about one event — as long as the
//           client reads faster than this one core writes; `trickle<ms>` (`bench-500-trickle1`,
//           or `x-bench-pace-ms` / `&pace=`) waits that many ms between two events instead
//           (real token streams are ~10–50 ms per event)
//   hold    the head and the first text delta, then nothing until `POST /__bench/release`
//           (or 120 s): streams held open, for memory measurements
// Control: GET /__bench/health, GET /__bench/stats, POST /__bench/release.
import { once } from "node:events"
import * as http from "node:http"
import { setImmediate as turn, setTimeout as sleep } from "node:timers/promises"
import { fileURLToPath } from "node:url"
import { streamEvents, wire } from "./wire.mjs"

const modelPattern = /"model"\s*:\s*"([^"]*)"/
const streamPattern = /"stream"\s*:\s*true/
const usagePattern = /"include_usage"\s*:\s*true/
const benchModel = /^bench-(\d+)(?:-(burst|trickle|hold)(\d*))?$/
const geminiRoute = /^\/(?:v1beta|v1|v1alpha)\/models\/([^:/?]+):(generateContent|streamGenerateContent)/
const HOLD_LIMIT_MS = 120_000

const jsonHeaders = (length) => [
  "content-type",
  "application/json",
  "content-length",
  String(length),
  "x-request-id",
  "req_bench"
]
const sseHeaders = [
  "content-type",
  "text/event-stream; charset=utf-8",
  "cache-control",
  "no-cache",
  "x-request-id",
  "req_bench"
]

export const createBenchServer = () => {
  const cache = new Map()
  const held = new Set()
  let requests = 0

  /** The precomputed answer of (format, model, n, stream, usage). */
  const answer = (format, model, n, stream, usage) => {
    const key = `${format}|${model}|${n}|${stream ? 1 : 0}|${usage ? 1 : 0}`
    let entry = cache.get(key)
    if (entry === undefined) {
      if (stream) {
        const { events, firstContent, whole } = streamEvents(format, model, n, usage)
        const split = Math.min(events.length, firstContent + 1)
        entry = {
          events,
          whole,
          holdHead: Buffer.concat(events.slice(0, split)),
          holdRest: Buffer.concat(events.slice(split))
        }
      } else {
        const body = Buffer.from(wire[format].json(model, n))
        entry = { body, headers: jsonHeaders(body.length) }
      }
      cache.set(key, entry)
    }
    return entry
  }

  const notFound = (res, message) => {
    const body = JSON.stringify({ error: { message, type: "invalid_request_error" } })
    res.writeHead(404, jsonHeaders(Buffer.byteLength(body)))
    res.end(body)
  }

  const trickle = async (res, events, paceMs) => {
    res.writeHead(200, sseHeaders)
    for (const event of events) {
      if (res.destroyed) return
      const flushed = res.write(event)
      if (!flushed) await once(res, "drain")
      if (paceMs > 0) await sleep(paceMs)
      else if (flushed) await turn()
    }
    res.end()
  }

  const hold = (res, entry) => {
    res.writeHead(200, sseHeaders)
    res.write(entry.holdHead)
    const item = { res, rest: entry.holdRest, timer: undefined }
    item.timer = setTimeout(() => release(item), HOLD_LIMIT_MS)
    item.timer.unref()
    held.add(item)
    res.on("close", () => {
      clearTimeout(item.timer)
      held.delete(item)
    })
  }
  const release = (item) => {
    clearTimeout(item.timer)
    held.delete(item)
    if (!item.res.destroyed) item.res.end(item.rest)
  }

  const control = (req, res, path) => {
    let body
    if (path === "/__bench/release" && req.method === "POST") {
      const n = held.size
      for (const item of [...held]) release(item)
      body = JSON.stringify({ released: n })
    } else if (path === "/__bench/stats") {
      const cpu = process.cpuUsage()
      body = JSON.stringify({ requests, held: held.size, cached: cache.size, cpuUs: cpu.user + cpu.system })
    } else if (path === "/__bench/health") body = "{\"ok\":true}"
    else return notFound(res, `unknown control ${req.method} ${path}`)
    res.writeHead(200, jsonHeaders(Buffer.byteLength(body)))
    res.end(body)
  }

  const respond = (req, res, bodyText) => {
    requests++
    const target = req.url ?? "/"
    const q = target.indexOf("?")
    const path = q < 0 ? target : target.slice(0, q)
    let format
    let model
    let stream = false
    if (path === "/v1/chat/completions") format = "openai-chat"
    else if (path === "/v1/responses") format = "openai-responses"
    else if (path === "/v1/messages") format = "anthropic"
    else if (path.startsWith("/__bench/")) return control(req, res, path)
    else {
      const match = geminiRoute.exec(path)
      if (match === null) return notFound(res, `Unknown request URL: ${req.method} ${path}`)
      format = "gemini"
      model = decodeURIComponent(match[1])
      stream = match[2] === "streamGenerateContent"
    }
    if (format !== "gemini") {
      const match = modelPattern.exec(bodyText)
      model = match === null ? "bench" : match[1]
      stream = streamPattern.test(bodyText)
    }
    const query = q < 0 ? undefined : new URLSearchParams(target.slice(q + 1))
    const named = benchModel.exec(model)
    const n = Number(
      req.headers["x-bench-chunks"] ?? query?.get("chunks") ?? (named === null ? undefined : named[1]) ?? 8
    ) || 1
    const mode = req.headers["x-bench-mode"] ?? query?.get("mode") ?? named?.[2] ?? "burst"
    const pace = Number(req.headers["x-bench-pace-ms"] ?? query?.get("pace") ?? named?.[3]) || 0
    const usage = format === "openai-chat" && stream && usagePattern.test(bodyText)
    const entry = answer(format, model, n, stream, usage)
    if (!stream) {
      res.writeHead(200, entry.headers)
      res.end(entry.body)
    } else if (mode === "trickle") {
      trickle(res, entry.events, pace).catch(() => res.destroy())
    } else if (mode === "hold") {
      hold(res, entry)
    } else {
      res.writeHead(200, sseHeaders)
      res.end(entry.whole)
    }
  }

  const server = http.createServer({ noDelay: true, keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const chunks = []
    req.on("data", (chunk) => chunks.push(chunk))
    req.on("end", () => {
      const text = chunks.length === 0
        ? ""
        : chunks.length === 1
        ? chunks[0].toString("latin1")
        : Buffer.concat(chunks).toString("latin1")
      respond(req, res, text)
    })
  })
  server.headersTimeout = 0
  server.maxRequestsPerSocket = 0
  return {
    server,
    held: () => held.size,
    releaseAll: () => {
      for (const item of [...held]) release(item)
    }
  }
}

/** Start the server on `host:port` (port 0: a free one); resolves with its URL. */
export const startBenchServer = async ({ host = "127.0.0.1", port = 0 } = {}) => {
  const bench = createBenchServer()
  bench.server.listen(port, host)
  await once(bench.server, "listening")
  const address = bench.server.address()
  return {
    ...bench,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        bench.releaseAll()
        bench.server.closeAllConnections()
        bench.server.close(() => resolve())
      })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const opt = (name, fallback) => {
    const i = args.indexOf(name)
    return i === -1 ? fallback : args[i + 1]
  }
  const started = await startBenchServer({ host: opt("--host", "127.0.0.1"), port: Number(opt("--port", "0")) })
  console.log(`listening on ${started.url}`)
  const stop = () => started.close().then(() => process.exit(0))
  process.on("SIGTERM", stop)
  process.on("SIGINT", stop)
}
