/**
 * Per-request controls of the mock server: parsed from the query-string part of the
 * request's model (`mock?chunks=5&fault=429&times=2`), from `x-mock-*` headers (which win
 * over the model), and from a scripted response (which wins over both).
 */

export const faults = [
  "429",
  "500",
  "503",
  "529",
  "401",
  "403",
  "400-context",
  "reset-before-headers",
  "reset-mid-stream",
  "stall",
  "stall-mid-stream",
  "malformed-json",
  "malformed-sse",
  "no-done",
  "wrong-content-type",
  "huge-body",
  "error-event"
] as const

export type Fault = typeof faults[number]

const faultSet: ReadonlySet<string> = new Set(faults)

export const isFault = (u: unknown): u is Fault => typeof u === "string" && faultSet.has(u)

export interface Controls {
  chunks?: number
  fault?: Fault
  times?: number
  delayMs?: number
  chunkDelayMs?: number
  retryAfterMs?: number
  hugeBytes?: number
}

export type Parsed = { readonly ok: true; readonly controls: Controls } | {
  readonly ok: false
  readonly message: string
}

type NumericKey = Exclude<keyof Controls, "fault">

/** Query keys of the model string and the control each sets (`retryAfter` is in seconds). */
const modelKeys: Record<string, NumericKey | "fault" | "retryAfter"> = {
  chunks: "chunks",
  fault: "fault",
  times: "times",
  delayMs: "delayMs",
  chunkDelayMs: "chunkDelayMs",
  retryAfterMs: "retryAfterMs",
  retryAfter: "retryAfter",
  hugeBytes: "hugeBytes"
}

/** Header names and the control each sets (`x-mock-retry-after` is in seconds, like `Retry-After`). */
const headerKeys: ReadonlyArray<readonly [string, NumericKey | "fault" | "retryAfter"]> = [
  ["x-mock-chunks", "chunks"],
  ["x-mock-fault", "fault"],
  ["x-mock-times", "times"],
  ["x-mock-delay-ms", "delayMs"],
  ["x-mock-chunk-delay-ms", "chunkDelayMs"],
  ["x-mock-retry-after", "retryAfter"],
  ["x-mock-retry-after-ms", "retryAfterMs"],
  ["x-mock-huge-bytes", "hugeBytes"]
]

const minimum: Record<NumericKey, number> = {
  chunks: 1,
  times: 0,
  delayMs: 0,
  chunkDelayMs: 0,
  retryAfterMs: 0,
  hugeBytes: 0
}

/** Set one control from its text; returns an error message when the value is bad. */
const set = (
  out: Controls,
  key: NumericKey | "fault" | "retryAfter",
  raw: string,
  where: string
): string | undefined => {
  if (key === "fault") {
    if (!isFault(raw)) return `${where}: unknown fault "${raw}" (known: ${faults.join(", ")})`
    out.fault = raw
    return undefined
  }
  const n = Number(raw)
  if (key === "retryAfter") {
    if (raw.trim() === "" || !Number.isFinite(n) || n < 0) return `${where}: retry-after must be seconds >= 0`
    out.retryAfterMs = Math.round(n * 1000)
    return undefined
  }
  if (raw.trim() === "" || !Number.isInteger(n) || n < minimum[key]) {
    return `${where}: ${key} must be an integer >= ${minimum[key]} (got "${raw}")`
  }
  out[key] = n
  return undefined
}

/** The model without its `?controls` part. */
export const baseModel = (model: string): string => {
  const q = model.indexOf("?")
  return q < 0 ? model : model.slice(0, q)
}

export const parse = (
  model: string | undefined,
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
): Parsed => {
  const controls: Controls = {}
  const q = model === undefined ? -1 : model.indexOf("?")
  if (model !== undefined && q >= 0) {
    for (const [name, value] of new URLSearchParams(model.slice(q + 1))) {
      const key = modelKeys[name]
      if (key === undefined) {
        return { ok: false, message: `model "${model}": unknown mock control "${name}"` }
      }
      const error = set(controls, key, value, `model "${model}"`)
      if (error !== undefined) return { ok: false, message: error }
    }
  }
  for (const [header, key] of headerKeys) {
    const value = headers[header]
    if (value === undefined) continue
    const error = set(controls, key, typeof value === "string" ? value : value.join(","), header)
    if (error !== undefined) return { ok: false, message: error }
  }
  return { ok: true, controls }
}

/** A scripted response (`POST /__mock/script`, `Handle.script`). */
export interface ScriptItem {
  /** Serve this item only to a request for this model (without its `?controls`); others pass it by. */
  readonly model?: string | undefined
  readonly text?: string | undefined
  readonly toolCalls?:
    | ReadonlyArray<{ readonly name: string; readonly arguments?: unknown; readonly id?: string }>
    | undefined
  readonly finishReason?: string | undefined
  readonly usage?: Readonly<Record<string, unknown>> | undefined
  readonly fault?: Fault | undefined
  readonly chunks?: number | undefined
  readonly delayMs?: number | undefined
  readonly chunkDelayMs?: number | undefined
  readonly retryAfterMs?: number | undefined
  readonly hugeBytes?: number | undefined
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Validate scripted responses; returns the items or an error message. */
export const parseScript = (
  input: unknown
): { readonly ok: true; readonly items: Array<ScriptItem> } | { readonly ok: false; readonly message: string } => {
  const list = isRecord(input) && Array.isArray(input.responses) ? input.responses : input
  if (!Array.isArray(list)) return { ok: false, message: "a script is a JSON array of responses" }
  const items: Array<ScriptItem> = []
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i]
    const where = `script[${i}]`
    if (!isRecord(item)) return { ok: false, message: `${where} must be an object` }
    if (item.model !== undefined && (typeof item.model !== "string" || item.model === "")) {
      return { ok: false, message: `${where}.model must be a non-empty string` }
    }
    if (item.text !== undefined && typeof item.text !== "string") {
      return { ok: false, message: `${where}.text must be a string` }
    }
    if (item.toolCalls !== undefined) {
      if (!Array.isArray(item.toolCalls) || item.toolCalls.some((c) => !isRecord(c) || typeof c.name !== "string")) {
        return { ok: false, message: `${where}.toolCalls must be a list of { name, arguments }` }
      }
    }
    if (item.fault !== undefined && !isFault(item.fault)) {
      return {
        ok: false,
        message: `${where}.fault: unknown fault "${String(item.fault)}" (known: ${faults.join(", ")})`
      }
    }
    if (item.finishReason !== undefined && typeof item.finishReason !== "string") {
      return { ok: false, message: `${where}.finishReason must be a string` }
    }
    if (item.usage !== undefined && !isRecord(item.usage)) {
      return { ok: false, message: `${where}.usage must be an object` }
    }
    for (const key of ["chunks", "delayMs", "chunkDelayMs", "retryAfterMs", "hugeBytes"] as const) {
      const v = item[key]
      if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < (key === "chunks" ? 1 : 0))) {
        return { ok: false, message: `${where}.${key} must be a non-negative integer` }
      }
    }
    items.push(item as ScriptItem)
  }
  return { ok: true, items }
}

/**
 * Controls of a request answered by a scripted response: the item's fault replaces the
 * request's (and `times`); its other fields win over the request's.
 */
export const withScript = (controls: Controls, item: ScriptItem | undefined): Controls => {
  if (item === undefined) return controls
  const out: Controls = { ...controls }
  // a scripted response decides the fault alone (none when it has none); `times` does not apply
  delete out.fault
  delete out.times
  if (item.fault !== undefined) out.fault = item.fault
  if (item.chunks !== undefined) out.chunks = item.chunks
  if (item.delayMs !== undefined) out.delayMs = item.delayMs
  if (item.chunkDelayMs !== undefined) out.chunkDelayMs = item.chunkDelayMs
  if (item.retryAfterMs !== undefined) out.retryAfterMs = item.retryAfterMs
  if (item.hugeBytes !== undefined) out.hugeBytes = item.hugeBytes
  return out
}
