/**
 * A tiny OTLP/HTTP receiver for tests and examples: a real HTTP server on a loopback port
 * that accepts `POST /v1/traces`, `/v1/metrics` and `/v1/logs`, answers 200, and keeps
 * every request — so a test can check what really left the process, without an
 * OpenTelemetry Collector.
 *
 * JSON payloads (what `Otel.layer` sends) are parsed and flattened into `SpanRecord`s and
 * `Otel.MetricPoint`s; other payloads (protobuf) are kept as raw bytes only. Gzip bodies
 * are decompressed.
 *
 * @example
 * ```ts
 * import { Otel, OtlpReceiver } from "@llm-fiber/otel"
 *
 * const receiver = await OtlpReceiver.start()
 * // … run a program with Otel.layer({ serviceName: "test", endpoint: receiver.url }) …
 * console.log(receiver.spans().map((s) => s.name)) // ["llm.attempt", "llm.chat"]
 * await receiver.close()
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Zlib from "node:zlib"
import type * as Otel from "./Otel.js"

/**
 * One request the receiver got.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedRequest {
  /** `/v1/traces`, `/v1/metrics`, … */
  readonly path: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The body as sent (decompressed). */
  readonly body: Uint8Array
  /** The body as UTF-8 text (for protobuf, mostly noise — but a string in it is still found). */
  readonly text: string
  /** The parsed body, for JSON payloads. */
  readonly json: unknown
}

/**
 * A span as it arrived, flattened: attribute values as plain JavaScript values.
 *
 * @since 0.1.0
 * @category models
 */
export interface SpanRecord {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  /** The parent's span id (`undefined` for a root span). */
  readonly parentSpanId: string | undefined
  /** OTLP `SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number
  readonly attributes: Readonly<Record<string, unknown>>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Readonly<Record<string, unknown>> }>
  /** OTLP `StatusCode`: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string | undefined }
  /** The attributes of the resource that sent it (`service.name`, …). */
  readonly resource: Readonly<Record<string, unknown>>
}

/**
 * A running receiver.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  /** The base URL to give an exporter (`http://127.0.0.1:PORT`, no trailing slash). */
  readonly url: string
  /** Every request so far, oldest first. */
  readonly requests: ReadonlyArray<ReceivedRequest>
  /** Every span of every JSON trace export so far. */
  readonly spans: () => ReadonlyArray<SpanRecord>
  /**
   * The data points of each JSON metric export so far, one array per export. Exports carry
   * cumulative values: the last one of a process holds its current totals.
   */
  readonly metricExports: () => ReadonlyArray<ReadonlyArray<Otel.MetricPoint>>
  /** The data points of the last JSON metric export (empty before the first). */
  readonly metrics: () => ReadonlyArray<Otel.MetricPoint>
  /** Forget every request. */
  readonly reset: () => void
  /** Stop listening and drop open connections. */
  readonly close: () => Promise<void>
}

/**
 * Options of `start`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `0`: a free port. */
  readonly port?: number | undefined
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
}

// -----------------------------------------------------------------------------
// OTLP JSON
// -----------------------------------------------------------------------------

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const arrayOf = (u: unknown): ReadonlyArray<unknown> => (Array.isArray(u) ? u : [])
const numberOf = (u: unknown): number => (typeof u === "number" ? u : typeof u === "string" ? Number(u) : NaN)

const anyValue = (value: unknown): unknown => {
  if (!isObject(value)) return undefined
  if ("stringValue" in value) return value.stringValue
  if ("boolValue" in value) return value.boolValue
  if ("intValue" in value) return numberOf(value.intValue)
  if ("doubleValue" in value) return numberOf(value.doubleValue)
  if ("arrayValue" in value) return arrayOf(isObject(value.arrayValue) ? value.arrayValue.values : []).map(anyValue)
  if ("kvlistValue" in value) return attributesOf(isObject(value.kvlistValue) ? value.kvlistValue.values : [])
  if ("bytesValue" in value) return value.bytesValue
  return undefined
}

const attributesOf = (list: unknown): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const item of arrayOf(list)) {
    if (isObject(item) && typeof item.key === "string") out[item.key] = anyValue(item.value)
  }
  return out
}

const idOf = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

const spansOf = (payload: unknown): Array<SpanRecord> => {
  const out: Array<SpanRecord> = []
  if (!isObject(payload)) return out
  for (const rs of arrayOf(payload.resourceSpans)) {
    if (!isObject(rs)) continue
    const resource = attributesOf(isObject(rs.resource) ? rs.resource.attributes : [])
    for (const ss of arrayOf(rs.scopeSpans)) {
      if (!isObject(ss)) continue
      for (const span of arrayOf(ss.spans)) {
        if (!isObject(span)) continue
        const status = isObject(span.status) ? span.status : {}
        out.push({
          name: String(span.name),
          traceId: String(span.traceId),
          spanId: String(span.spanId),
          parentSpanId: idOf(span.parentSpanId),
          kind: numberOf(span.kind),
          attributes: attributesOf(span.attributes),
          events: arrayOf(span.events).filter(isObject).map((e) => ({
            name: String(e.name),
            attributes: attributesOf(e.attributes)
          })),
          status: {
            code: status.code === undefined ? 0 : numberOf(status.code),
            message: typeof status.message === "string" ? status.message : undefined
          },
          resource
        })
      }
    }
  }
  return out
}

const metricPointsOf = (payload: unknown): Array<Otel.MetricPoint> => {
  const out: Array<Otel.MetricPoint> = []
  if (!isObject(payload)) return out
  for (const rm of arrayOf(payload.resourceMetrics)) {
    if (!isObject(rm)) continue
    for (const sm of arrayOf(rm.scopeMetrics)) {
      if (!isObject(sm)) continue
      for (const metric of arrayOf(sm.metrics)) {
        if (!isObject(metric)) continue
        const name = String(metric.name)
        for (const type of ["sum", "gauge"] as const) {
          const data = metric[type]
          if (!isObject(data)) continue
          for (const point of arrayOf(data.dataPoints).filter(isObject)) {
            out.push({
              name,
              type,
              attributes: attributesOf(point.attributes),
              value: numberOf(point.asDouble ?? point.asInt)
            })
          }
        }
        if (isObject(metric.histogram)) {
          for (const point of arrayOf(metric.histogram.dataPoints).filter(isObject)) {
            const bounds = arrayOf(point.explicitBounds).map(numberOf)
            out.push({
              name,
              type: "histogram",
              attributes: attributesOf(point.attributes),
              count: numberOf(point.count),
              sum: point.sum === undefined ? 0 : numberOf(point.sum),
              buckets: arrayOf(point.bucketCounts).map((count, i) => [bounds[i] ?? Infinity, numberOf(count)] as const)
            })
          }
        }
      }
    }
  }
  return out
}

// -----------------------------------------------------------------------------
// the server
// -----------------------------------------------------------------------------

const decode = (body: Buffer, encoding: string | undefined): Buffer => {
  try {
    if (encoding === "gzip") return Zlib.gunzipSync(body)
    if (encoding === "deflate") return Zlib.inflateSync(body)
  } catch {
    // keep the bytes as they came
  }
  return body
}

/**
 * Start a receiver (on `127.0.0.1` and a free port unless told otherwise).
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options?: Options): Promise<Handle> =>
  new Promise((resolve, reject) => {
    const requests: Array<ReceivedRequest> = []
    const sockets = new Set<Net.Socket>()
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const path = (req.url ?? "/").split("?")[0] ?? "/"
        if (req.method !== "POST") {
          res.writeHead(405).end()
          return
        }
        const body = decode(Buffer.concat(chunks), req.headers["content-encoding"])
        const text = body.toString("utf8")
        let json: unknown = undefined
        if ((req.headers["content-type"] ?? "").includes("json")) {
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
        }
        requests.push({ path, headers: { ...req.headers }, body: new Uint8Array(body), text, json })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    server.on("error", reject)
    server.listen(options?.port ?? 0, options?.host ?? "127.0.0.1", () => {
      const address = server.address() as Net.AddressInfo
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address
      const of = (path: string) => requests.filter((r) => r.path === path && r.json !== undefined)
      resolve({
        url: `http://${host}:${address.port}`,
        requests,
        spans: () => of("/v1/traces").flatMap((r) => spansOf(r.json)),
        metricExports: () => of("/v1/metrics").map((r) => metricPointsOf(r.json)),
        metrics: () => {
          const last = of("/v1/metrics").at(-1)
          return last === undefined ? [] : metricPointsOf(last.json)
        },
        reset: () => {
          requests.length = 0
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          })
      })
    })
  })

/**
 * A receiver for the lifetime of a scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Handle, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(options)),
    (handle) => Effect.promise(() => handle.close())
  )
