/**
 * The response cache's key: a sha256 of the canonical JSON of the semantic request.
 *
 * Canonical JSON is `JSON.stringify` with object keys sorted (by UTF-16 code units) at
 * every level, properties whose value is `undefined` (or a function, a symbol) left out,
 * non-finite numbers written as `null`, `toJSON` honoured, bigints written as strings and a
 * cycle written as `"[Circular]"` — so equal requests give equal text whatever the order
 * their objects were built in, and no value makes the computation throw.
 *
 * @internal
 */
import * as Crypto from "node:crypto"
import type * as ChatRequest from "../ChatRequest.js"

/** The version of the key's content; bump it when the semantic request changes. @internal */
export const version = "v1"

type Out = Array<string>

const omitted = (value: unknown): boolean =>
  value === undefined || typeof value === "function" || typeof value === "symbol"

const prepare = (value: unknown): unknown => {
  if (typeof value === "object" && value !== null) {
    const toJSON = (value as { readonly toJSON?: unknown }).toJSON
    if (typeof toJSON === "function") return (toJSON as () => unknown).call(value)
  }
  return value
}

const write = (raw: unknown, out: Out, seen: Set<object>): void => {
  const value = prepare(raw)
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value))
      return
    case "number":
      out.push(Number.isFinite(value) ? JSON.stringify(value) : "null")
      return
    case "boolean":
      out.push(value ? "true" : "false")
      return
    case "bigint":
      out.push(JSON.stringify(value.toString()))
      return
    case "undefined":
    case "function":
    case "symbol":
      out.push("null")
      return
  }
  if (value === null) {
    out.push("null")
    return
  }
  const object = value as object
  if (seen.has(object)) {
    out.push("\"[Circular]\"")
    return
  }
  seen.add(object)
  if (Array.isArray(object)) {
    out.push("[")
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out.push(",")
      write(object[i], out, seen)
    }
    out.push("]")
  } else {
    const record = object as Record<string, unknown>
    const keys = Object.keys(record).sort()
    out.push("{")
    let first = true
    for (const key of keys) {
      const field = prepare(record[key])
      if (omitted(field)) continue
      out.push(first ? JSON.stringify(key) + ":" : "," + JSON.stringify(key) + ":")
      first = false
      write(field, out, seen)
    }
    out.push("}")
  }
  seen.delete(object)
}

/** Canonical JSON of a value (see the module comment). @internal */
export const canonicalJson = (value: unknown): string => {
  const out: Out = []
  write(value, out, new Set())
  return out.join("")
}

/** What the key covers: the request as the provider sees it. @internal */
export const semanticRequest = (
  provider: string,
  model: string,
  request: ChatRequest.ChatRequest
): Record<string, unknown> => ({
  provider,
  model,
  messages: request.messages,
  temperature: request.temperature,
  maxTokens: request.maxTokens,
  topP: request.topP,
  stop: request.stop,
  seed: request.seed,
  tools: request.tools,
  toolChoice: request.toolChoice,
  responseFormat: request.responseFormat,
  providerOptions: request.providerOptions,
  cache: request.cache
})

/** The hex sha256 of the canonical JSON of the semantic request. @internal */
export const hash = (provider: string, model: string, request: ChatRequest.ChatRequest): string =>
  Crypto.createHash("sha256").update(canonicalJson(semanticRequest(provider, model, request))).digest("hex")

/** The hex sha256 of a string (file names of the filesystem store). @internal */
export const sha256 = (text: string): string => Crypto.createHash("sha256").update(text).digest("hex")
