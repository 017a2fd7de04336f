/**
 * The mock provider HTTP server: plain `node:http`, small per-request work, faults.
 *
 * Routing is by method and path to a handler; chat routes hand a `ChatFormat` (the wire
 * format) to one shared `chat` handler that owns scripts, controls, `times` counters,
 * delays and faults: OpenAI `POST /v1/chat/completions` and `POST /v1/responses`,
 * Anthropic `POST /v1/messages`,
 * Gemini `POST /{v1beta|v1}/models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`.
 */
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Anthropic from "./anthropic.js"
import * as Controls from "./controls.js"
import { type ChatFormat, type ErrorKind, hugePlaceholder, type ResponseContext, type SseFrames } from "./format.js"
import * as Gemini from "./gemini.js"
import * as OpenAI from "./openai.js"
import * as Plan from "./plan.js"
import * as Responses from "./responses.js"

export interface RecordedRequest {
  readonly method: string
  /** The request target: path and query string (`/v1/chat/completions`). */
  readonly path: string
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The parsed JSON body; the raw text when it is not JSON; `undefined` when empty. */
  readonly body: unknown
}

export interface Options {
  readonly port?: number | undefined
  readonly host?: string | undefined
  readonly record?: boolean | undefined
  readonly maxRecorded?: number | undefined
  readonly allowRemote?: boolean | undefined
}

export interface Handle {
  readonly url: string
  readonly port: number
  readonly openaiBaseUrl: string
  readonly anthropicBaseUrl: string
  readonly geminiBaseUrl: string
  readonly requests: ReadonlyArray<RecordedRequest>
  readonly closedConnections: () => number
  readonly waitForClientClose: (timeoutMs?: number) => Promise<void>
  readonly script: (responses: ReadonlyArray<Controls.ScriptItem>) => void
  readonly reset: () => void
  readonly close: () => Promise<void>
}

/** One request/response pair in flight. */
interface Exchange {
  readonly req: Http.IncomingMessage
  readonly res: Http.ServerResponse
  readonly requestId: string
  /** The header that carries `requestId` (set by the wire format of the route). */
  requestIdHeader: string
  /** The server ended the connection on purpose (a reset fault or `close()`). */
  serverClosed: boolean
}

type Finish = "end" | "destroy" | "stall"

const loopback = (host: string) => host === "localhost" || host === "::1" || host.startsWith("127.")

const maxRequestBytes = 64 * 1024 * 1024
const hugeBlock = Buffer.alloc(1 << 20, 0x78) // 1 MiB of "x"
const hugeToken = JSON.stringify(hugePlaceholder)
const defaultRetryAfterMs = 10
const defaultHugeBytes = 50 * 1024 * 1024

export const start = (options: Options = {}): Promise<Handle> => {
  const host = options.host ?? "127.0.0.1"
  if (!loopback(host) && options.allowRemote !== true) {
    return Promise.reject(
      new Error(`llm-fiber mock server: refusing to bind "${host}" (not loopback); pass allowRemote: true to do so`)
    )
  }
  const record = options.record ?? true
  const maxRecorded = Math.max(1, options.maxRecorded ?? 10_000)

  let requests: Array<RecordedRequest> = []
  let script: Array<Controls.ScriptItem> = []
  let counters = new Map<string, number>()
  let responseIds = 0
  let callIds = 0
  let requestIds = 0
  let clientCloses = 0
  let consumedWaits = 0
  let closing = false
  const waiters: Array<() => void> = []
  const sockets = new Set<Net.Socket>()
  const timers = new Set<NodeJS.Timeout>()

  // ---------------------------------------------------------------------------
  // plumbing
  // ---------------------------------------------------------------------------

  const later = (ex: Exchange, ms: number, f: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (!ex.res.destroyed) f()
    }, ms)
    timers.add(timer)
  }

  const onClientClose = () => {
    clientCloses++
    const waiter = waiters.shift()
    if (waiter !== undefined) {
      consumedWaits++
      waiter()
    }
  }

  const destroy = (ex: Exchange, reset: boolean) => {
    ex.serverClosed = true
    const socket = ex.req.socket
    if (reset && typeof socket.resetAndDestroy === "function") socket.resetAndDestroy()
    else socket.destroy()
  }

  const send = (ex: Exchange, status: number, contentType: string, body: string, extra?: Http.OutgoingHttpHeaders) => {
    ex.res.writeHead(status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      [ex.requestIdHeader]: ex.requestId,
      ...extra
    })
    ex.res.end(body)
  }

  const sendJson = (ex: Exchange, status: number, body: string, extra?: Http.OutgoingHttpHeaders) =>
    send(ex, status, "application/json", body, extra)

  const sendError = (ex: Exchange, format: ChatFormat, kind: ErrorKind, message?: string) => {
    const error = format.error(kind, { message })
    sendJson(ex, error.status, error.body, error.headers)
  }

  const finishWith = (ex: Exchange, data: string, finish: Finish) => {
    const res = ex.res
    switch (finish) {
      case "end":
        res.end(data)
        break
      case "stall":
        if (data !== "") res.write(data)
        break
      case "destroy":
        if (data === "") destroy(ex, false)
        else res.write(data, () => destroy(ex, false))
        break
    }
  }

  /** Write frames: at once (one write), or one per `chunkDelayMs`. */
  const writeFrames = (
    ex: Exchange,
    frames: ReadonlyArray<string>,
    chunkDelayMs: number | undefined,
    finish: Finish
  ) => {
    if (chunkDelayMs === undefined || chunkDelayMs <= 0 || frames.length <= 1) {
      return finishWith(ex, frames.join(""), finish)
    }
    let i = 0
    const step = () => {
      if (i === frames.length - 1) return finishWith(ex, frames[i]!, finish)
      ex.res.write(frames[i++]!)
      later(ex, chunkDelayMs, step)
    }
    step()
  }

  /** Write `before`, a JSON string of `bytes` "x" characters, then `after`, with backpressure. */
  const writeHuge = (ex: Exchange, before: string, bytes: number, after: string) => {
    const res = ex.res
    res.write(before + "\"")
    let remaining = bytes
    const pump = (): void => {
      while (remaining > 0) {
        if (res.destroyed) return
        const size = Math.min(remaining, hugeBlock.length)
        remaining -= size
        if (!res.write(size === hugeBlock.length ? hugeBlock : hugeBlock.subarray(0, size))) {
          res.once("drain", pump)
          return
        }
      }
      res.end("\"" + after)
    }
    pump()
  }

  const splitHuge = (text: string): [string, string] => {
    const at = text.indexOf(hugeToken)
    return [text.slice(0, at), text.slice(at + hugeToken.length)]
  }

  /** The fault that applies to this request (`times` counts per model string and fault). */
  const activeFault = (model: string, controls: Controls.Controls): Controls.Fault | undefined => {
    if (controls.fault === undefined) return undefined
    if (controls.times === undefined) return controls.fault
    const key = `${model}\u0000${controls.fault}`
    const seen = counters.get(key) ?? 0
    counters.set(key, seen + 1)
    return seen < controls.times ? controls.fault : undefined
  }

  /** Faults that do not depend on JSON vs SSE; true when handled. */
  const commonFault = (
    ex: Exchange,
    format: ChatFormat,
    fault: Controls.Fault,
    controls: Controls.Controls
  ): boolean => {
    switch (fault) {
      case "429":
      case "503":
      case "529": {
        const retryAfterMs = controls.retryAfterMs ?? (fault === "429" ? defaultRetryAfterMs : undefined)
        const error = format.error(fault, { retryAfterMs })
        sendJson(ex, error.status, error.body, error.headers)
        return true
      }
      case "500":
      case "401":
      case "403":
      case "400-context":
        sendError(ex, format, fault)
        return true
      case "reset-before-headers":
        destroy(ex, true)
        return true
      case "stall":
        return true
      case "wrong-content-type":
        send(
          ex,
          200,
          "text/html; charset=utf-8",
          "<!DOCTYPE html><html><head><title>Gateway</title></head><body><h1>Welcome to the gateway</h1></body></html>"
        )
        return true
      default:
        return false
    }
  }

  const malformedSse = (content: ReadonlyArray<string>, eol: string): Array<string> => {
    const frame = content[1] ?? content[0] ?? `data: {}${eol}${eol}`
    // a line that is no SSE field, then a data line whose event is never terminated
    return [`this is not an SSE frame${eol}`, frame.slice(0, -eol.length)]
  }

  /** A JSON answer (chat without `stream`, embeddings), with the faults that cut or corrupt it. */
  const respondJson = (
    ex: Exchange,
    body: string,
    fault: Controls.Fault | undefined,
    controls: Controls.Controls,
    huge: () => [string, string],
    format: ChatFormat,
    errorJson?: () => string
  ) => {
    const res = ex.res
    switch (fault) {
      case "reset-mid-stream":
      case "stall-mid-stream": {
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          [ex.requestIdHeader]: ex.requestId
        })
        finishWith(ex, body.slice(0, Math.floor(body.length / 2)), fault === "reset-mid-stream" ? "destroy" : "stall")
        return
      }
      case "malformed-json":
        return sendJson(ex, 200, body.slice(0, Math.floor(body.length / 2)))
      case "malformed-sse":
        return send(ex, 200, "text/event-stream; charset=utf-8", malformedSse([], format.eol).join(""))
      case "error-event":
        // the error the stream would carry, as a 200 body
        return sendJson(ex, 200, errorJson !== undefined ? errorJson() : format.errorEvent.body)
      case "huge-body": {
        const [before, after] = huge()
        const bytes = controls.hugeBytes ?? defaultHugeBytes
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(before) + bytes + 2 + Buffer.byteLength(after),
          [ex.requestIdHeader]: ex.requestId
        })
        return writeHuge(ex, before, bytes, after)
      }
      default:
        return sendJson(ex, 200, body)
    }
  }

  /** A streamed answer, with the faults that cut or corrupt it. */
  const respondSse = (
    ex: Exchange,
    format: ChatFormat,
    frames: SseFrames,
    fault: Controls.Fault | undefined,
    controls: Controls.Controls,
    context: ResponseContext,
    huge: () => SseFrames
  ) => {
    ex.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      [ex.requestIdHeader]: ex.requestId
    })
    const { content, head, tail, terminator } = frames
    const delay = controls.chunkDelayMs
    const cut = Math.max(1, Math.floor(content.length / 2))
    switch (fault) {
      case "reset-mid-stream":
        return writeFrames(ex, [...head, ...content.slice(0, cut)], delay, "destroy")
      case "stall-mid-stream":
        return writeFrames(ex, [...head, ...content.slice(0, cut)], delay, "stall")
      case "malformed-json":
        return writeFrames(ex, [...head, ...content.slice(0, 1), format.brokenFrame(context), terminator], delay, "end")
      case "malformed-sse":
        return writeFrames(ex, [...head, ...content.slice(0, 1), ...malformedSse(content, format.eol)], delay, "end")
      case "error-event":
        return writeFrames(
          ex,
          [...head, ...content.slice(0, cut), frames.errorFrame?.(cut) ?? format.errorEvent.frame],
          delay,
          "end"
        )
      case "no-done":
        return writeFrames(ex, [...head, ...content], delay, "end")
      case "huge-body": {
        const big = huge()
        const [before, after] = splitHuge(big.content[0] ?? "")
        ex.res.write(big.head.join(""))
        return writeHuge(ex, before, controls.hugeBytes ?? defaultHugeBytes, after + big.tail.join("") + big.terminator)
      }
      default:
        return writeFrames(ex, [...head, ...content, ...tail, terminator], delay, "end")
    }
  }

  // ---------------------------------------------------------------------------
  // handlers
  // ---------------------------------------------------------------------------

  const chat = (ex: Exchange, format: ChatFormat, target: string, body: unknown) => {
    ex.requestIdHeader = format.requestIdHeader
    if (body === invalidJson) {
      return sendError(ex, format, "bad-request", "We could not parse the JSON body of your request.")
    }
    const intent = format.parse(body, target)
    if (typeof intent === "string") return sendError(ex, format, "bad-request", intent)
    const parsed = Controls.parse(intent.model, ex.req.headers)
    if (!parsed.ok) return sendError(ex, format, "bad-request", `llm-fiber mock: ${parsed.message}`)
    const scripted = takeScripted(Controls.baseModel(intent.model))
    const controls = Controls.withScript(parsed.controls, scripted)
    const fault = activeFault(intent.model, controls)
    const context: ResponseContext = {
      id: format.idPrefix + ++responseIds,
      model: Controls.baseModel(intent.model),
      created: Math.floor(Date.now() / 1000)
    }
    const answer = () => {
      if (fault !== undefined && commonFault(ex, format, fault, controls)) return
      const nextCallId = () => format.callIdPrefix + ++callIds
      const made = Plan.make(intent, controls, scripted, nextCallId)
      // a stream cut short never says why it stopped (Gemini carries the reason on its last content chunk)
      const plan = fault === "no-done" || (intent.stream && fault !== undefined && cutFaults.has(fault))
        ? { ...made, finishReason: null }
        : made
      const errorJson = format.errorJson
      const hugePlan = (): Plan.Plan => ({ ...plan, text: hugePlaceholder, deltas: [hugePlaceholder], toolCalls: [] })
      if (intent.stream) {
        respondSse(
          ex,
          format,
          format.sse(plan, context, intent),
          fault,
          controls,
          context,
          () => format.sse(hugePlan(), context, intent)
        )
      } else {
        respondJson(
          ex,
          format.json(plan, context, intent),
          fault,
          controls,
          () => splitHuge(format.json(hugePlan(), context, intent)),
          format,
          errorJson !== undefined ? () => errorJson(context, intent) : undefined
        )
      }
    }
    if (controls.delayMs !== undefined && controls.delayMs > 0) later(ex, controls.delayMs, answer)
    else answer()
  }

  /** An embeddings request of any format: controls and faults as for chat, no scripts. */
  const embed = (
    ex: Exchange,
    format: ChatFormat,
    model: string | undefined,
    body: unknown,
    answerBody: () => string | { readonly error: string },
    huge: () => [string, string]
  ) => {
    ex.requestIdHeader = format.requestIdHeader
    if (body === invalidJson) {
      return sendError(ex, format, "bad-request", "We could not parse the JSON body of your request.")
    }
    const parsed = Controls.parse(model, ex.req.headers)
    if (!parsed.ok) return sendError(ex, format, "bad-request", `llm-fiber mock: ${parsed.message}`)
    const controls = parsed.controls
    const fault = activeFault(model ?? "", controls)
    const answer = () => {
      if (fault !== undefined && commonFault(ex, format, fault, controls)) return
      const result = answerBody()
      if (typeof result !== "string") return sendError(ex, format, "bad-request", result.error)
      respondJson(ex, result, fault, controls, huge, format)
    }
    if (controls.delayMs !== undefined && controls.delayMs > 0) later(ex, controls.delayMs, answer)
    else answer()
  }

  const embeddings = (ex: Exchange, body: unknown) => {
    const model = typeof body === "object" && body !== null && "model" in body && typeof body.model === "string"
      ? body.model
      : undefined
    embed(ex, OpenAI.chat, model, body, () => OpenAI.embeddings(body), () => {
      const text = OpenAI.embeddings({
        ...(body as Record<string, unknown>),
        input: hugePlaceholder,
        dimensions: 1,
        encoding_format: "base64"
      }) as string
      // the base64 vector is the one string of the body: make it the huge one
      const at = text.indexOf("\"embedding\":\"") + 12
      const end = text.indexOf("\"", at + 1)
      return [text.slice(0, at), text.slice(end + 1)]
    })
  }

  /** Gemini's routes: chat (`:generateContent`, `:streamGenerateContent`) and embeddings. */
  const gemini = (ex: Exchange, target: string, route: Gemini.Route, body: unknown) => {
    if (route.method === "generateContent" || route.method === "streamGenerateContent") {
      return chat(ex, Gemini.generateContent, target, body)
    }
    // huge-body: the vector is numbers, so the huge string is an extra field
    embed(ex, Gemini.generateContent, route.model, body, () => Gemini.embeddings(route.method, body), () => [
      route.method === "embedContent"
        ? "{\"embedding\":{\"values\":[0],\"mockPadding\":"
        : "{\"embeddings\":[{\"values\":[0],\"mockPadding\":",
      route.method === "embedContent" ? "}}" : "}]}"
    ])
  }

  /** The next scripted response for a model: the first item without a `model`, or with this one. */
  const takeScripted = (model: string): Controls.ScriptItem | undefined => {
    const at = script.findIndex((item) => item.model === undefined || item.model === model)
    return at < 0 ? undefined : script.splice(at, 1)[0]
  }

  const recorded = (): ReadonlyArray<RecordedRequest> =>
    requests.length > maxRecorded ? requests.slice(requests.length - maxRecorded) : requests

  const control = (ex: Exchange, method: string, path: string, body: unknown) => {
    if (method === "GET" && path === "/__mock/requests") return sendJson(ex, 200, JSON.stringify(recorded()))
    if (method === "GET" && path === "/__mock/health") return sendJson(ex, 200, "{\"ok\":true}")
    if (method === "POST" && path === "/__mock/reset") {
      reset()
      return sendJson(ex, 200, "{\"ok\":true}")
    }
    if (method === "POST" && path === "/__mock/script") {
      const parsed = Controls.parseScript(body === invalidJson ? undefined : body)
      if (!parsed.ok) return sendError(ex, OpenAI.chat, "bad-request", `llm-fiber mock: ${parsed.message}`)
      script.push(...parsed.items)
      return sendJson(ex, 200, JSON.stringify({ ok: true, queued: script.length }))
    }
    return sendError(ex, OpenAI.chat, "not-found", `Unknown mock control: ${method} ${path}`)
  }

  const dispatch = (ex: Exchange, raw: Buffer) => {
    const req = ex.req
    const method = req.method ?? "GET"
    const target = req.url ?? "/"
    const q = target.indexOf("?")
    const path = q < 0 ? target : target.slice(0, q)
    const body = parseBody(raw)
    if (path.startsWith("/__mock/")) return control(ex, method, path, body)
    if (record) {
      // bounded: trimmed in batches so that a long benchmark run stays O(1) per request
      if (requests.length >= maxRecorded * 2) requests = requests.slice(requests.length - maxRecorded)
      requests.push({
        method,
        path: target,
        headers: req.headers,
        body: body === invalidJson ? raw.toString("utf8") : body
      })
    }
    if (method === "POST") {
      switch (path) {
        case "/v1/chat/completions":
          return chat(ex, OpenAI.chat, target, body)
        case "/v1/responses":
          return chat(ex, Responses.responses, target, body)
        case "/v1/messages":
          return chat(ex, Anthropic.messages, target, body)
        case "/v1/embeddings":
          return embeddings(ex, body)
      }
      const route = Gemini.route(target)
      if (typeof route === "string") {
        ex.requestIdHeader = Gemini.generateContent.requestIdHeader
        return sendError(ex, Gemini.generateContent, "bad-request", route)
      }
      if (route !== undefined) return gemini(ex, target, route, body)
    } else if (method === "GET" && path === "/v1/models") {
      return sendJson(ex, 200, OpenAI.models(Math.floor(Date.now() / 1000)))
    }
    if (path.startsWith("/v1beta/") || (path.startsWith("/v1/models/") && path.includes(":"))) {
      return sendError(ex, Gemini.generateContent, "not-found", `Unknown request URL: ${method} ${path}.`)
    }
    return sendError(ex, OpenAI.chat, "not-found", `Unknown request URL: ${method} ${path}.`)
  }

  const onRequest = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const ex: Exchange = {
      req,
      res,
      requestId: `req_mock_${++requestIds}`,
      requestIdHeader: "x-request-id",
      serverClosed: false
    }
    res.on("close", () => {
      if (!res.writableFinished && !ex.serverClosed && !closing) onClientClose()
    })
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxRequestBytes) chunks.push(chunk)
    })
    req.on("error", () => {})
    req.on("end", () => {
      if (size > maxRequestBytes) {
        return sendError(ex, OpenAI.chat, "bad-request", `request body over ${maxRequestBytes} bytes`)
      }
      dispatch(ex, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
    })
  }

  // ---------------------------------------------------------------------------
  // the handle
  // ---------------------------------------------------------------------------

  const reset = () => {
    requests = []
    script = []
    counters = new Map()
    responseIds = 0
    callIds = 0
    requestIds = 0
    clientCloses = 0
    consumedWaits = 0
  }

  const server = Http.createServer(onRequest)
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  server.on("clientError", (_error, socket) => socket.destroy())

  let closed: Promise<void> = Promise.resolve()
  const close = (): Promise<void> => {
    if (closing) return closed
    closing = true
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
    closed = new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
    })
    return closed
  }

  return new Promise<Handle>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject)
      const address = server.address() as Net.AddressInfo
      const port = address.port
      const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`
      resolve({
        url,
        port,
        openaiBaseUrl: `${url}/v1`,
        anthropicBaseUrl: url,
        geminiBaseUrl: url,
        get requests() {
          return recorded()
        },
        closedConnections: () => clientCloses,
        waitForClientClose: (timeoutMs = 5_000) => {
          if (clientCloses > consumedWaits) {
            consumedWaits++
            return Promise.resolve()
          }
          return new Promise<void>((ok, fail) => {
            const waiter = () => {
              clearTimeout(timer)
              ok()
            }
            const timer = setTimeout(() => {
              const at = waiters.indexOf(waiter)
              if (at >= 0) waiters.splice(at, 1)
              fail(new Error(`llm-fiber mock server: no client closed a connection within ${timeoutMs} ms`))
            }, timeoutMs)
            waiters.push(waiter)
          })
        },
        script: (responses) => {
          const parsed = Controls.parseScript(responses)
          if (!parsed.ok) throw new Error(`llm-fiber mock server: ${parsed.message}`)
          script.push(...parsed.items)
        },
        reset,
        close
      })
    })
  })
}

const invalidJson: unique symbol = Symbol("invalidJson")

/** Faults that cut a stream before its end: its frames carry no finish reason. */
const cutFaults: ReadonlySet<Controls.Fault> = new Set<Controls.Fault>([
  "reset-mid-stream",
  "stall-mid-stream",
  "malformed-json",
  "malformed-sse",
  "no-done",
  "error-event"
])

const parseBody = (raw: Buffer): unknown => {
  if (raw.length === 0) return undefined
  try {
    return JSON.parse(raw.toString("utf8"))
  } catch {
    return invalidJson
  }
}
