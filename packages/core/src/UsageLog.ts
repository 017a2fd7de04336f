/**
 * A usage log: one JSON line per call (JSONL) with what it used and cost — never its
 * prompt, its completion or a key — and `summarize`, the totals by model, provider and day
 * (`llm-fiber costs usage.jsonl` prints them).
 *
 * **When to use**: you want a durable, greppable record of spend, per call, that outlives
 * the process (metrics are aggregates; the log says which call, which user, which day).
 * The `Budget` middleware writes the lines: give it a writer (`Budget.make({ usageLog })`),
 * or provide `UsageLog.layerFile(path)` where the budget is built. A budget with no limits
 * and only a usage log is fine.
 *
 * **Details**
 * - One line per call that reached the budget (a response-cache hit never does: it costs
 *   nothing). A call a budget rejected is logged too, with its error as `status` and zero
 *   tokens. Each model of a fallback chain is a call of its own.
 * - Fields: `timestamp` (ISO 8601, UTC, when the call ended), `provider`, `model`,
 *   `operation` (`chat` | `stream`), `inputTokens`, `outputTokens`, `cachedInputTokens`,
 *   `costUsd` (`null` when the model has no price), `latencyMs`, `status` (`ok`, the error's
 *   tag, `interrupted` or `defect`), and when known `userId`, `tags`, `requestId`.
 * - The file is opened once per layer (append mode) and closed when the layer's scope
 *   ends; each line is one write, and writes are serialized, so concurrent calls never
 *   interleave or lose lines. A failed write is logged as a warning and never fails a call.
 * - `summarize` skips lines that are not entries — a last line cut short by a crash, a
 *   stray line — and counts them in `skippedLines`.
 *
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { Budget, LlmClient, UsageLog } from "@llm-fiber/core"
 *
 * // every call's usage appended to usage.jsonl
 * const Logged = LlmClient.layer.pipe(
 *   Layer.provide(Budget.layerMemory({ limits: [] })),
 *   Layer.provide(UsageLog.layerFile("usage.jsonl")),
 *   Layer.provide(NodeFileSystem.layer)
 * )
 *
 * // later: totals by model, provider and day
 * const totals = UsageLog.summarizeFile("usage.jsonl")
 * ```
 *
 * @since 0.1.0
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * One call in the log.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  /** When the call ended (ISO 8601, UTC). */
  readonly timestamp: string
  readonly provider: string
  readonly model: string
  readonly operation: "chat" | "stream"
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens: number
  /** `null` when the model has no price in the catalog. */
  readonly costUsd: number | null
  readonly latencyMs: number
  /** `ok`, the error's tag (`RateLimitError`, `BudgetExceededError`, …), `interrupted` or `defect`. */
  readonly status: string
  readonly userId?: string | undefined
  readonly tags?: ReadonlyArray<string> | undefined
  /** The provider's request id. */
  readonly requestId?: string | undefined
}

/**
 * Where entries go.
 *
 * @since 0.1.0
 * @category models
 */
export interface Writer {
  /** Append one entry (never fails: a failed write is logged as a warning). */
  readonly write: (entry: Entry) => Effect.Effect<void>
}

/**
 * The usage log the `Budget` writes to when its options name none.
 *
 * @since 0.1.0
 * @category tags
 */
export class UsageLog extends Context.Tag("@llm-fiber/core/UsageLog")<UsageLog, Writer>() {}

// -----------------------------------------------------------------------------
// encoding
// -----------------------------------------------------------------------------

/**
 * One entry as its JSON line (no newline). Only the fields of `Entry` are written, in a
 * fixed order, whatever else the object carries; `costUsd` is rounded to 12 decimals.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (entry: Entry): string => {
  const out: Record<string, unknown> = {
    timestamp: entry.timestamp,
    provider: entry.provider,
    model: entry.model,
    operation: entry.operation,
    inputTokens: entry.inputTokens,
    outputTokens: entry.outputTokens,
    cachedInputTokens: entry.cachedInputTokens,
    // at most 12 decimals: a sum of prices is not written as 0.0000025499999999999997
    costUsd: entry.costUsd === null ? null : Math.round(entry.costUsd * 1e12) / 1e12,
    latencyMs: entry.latencyMs,
    status: entry.status
  }
  if (entry.userId !== undefined) out.userId = entry.userId
  if (entry.tags !== undefined && entry.tags.length > 0) out.tags = entry.tags
  if (entry.requestId !== undefined) out.requestId = entry.requestId
  return JSON.stringify(out)
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isCount = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u) && u >= 0

/**
 * Parse one line; `undefined` when it is not an entry (blank, cut short, another shape).
 *
 * @since 0.1.0
 * @category encoding
 */
export const decode = (line: string): Entry | undefined => {
  const text = line.trim()
  if (text === "") return undefined
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(json)) return undefined
  const { costUsd, latencyMs, operation, requestId, tags, timestamp, userId } = json
  if (
    typeof timestamp !== "string" || Number.isNaN(Date.parse(timestamp)) ||
    typeof json.provider !== "string" || typeof json.model !== "string" ||
    (operation !== "chat" && operation !== "stream") || typeof json.status !== "string" ||
    !isCount(json.inputTokens) || !isCount(json.outputTokens) ||
    !(costUsd === null || costUsd === undefined || isCount(costUsd))
  ) return undefined
  return {
    timestamp,
    provider: json.provider,
    model: json.model,
    operation,
    inputTokens: json.inputTokens,
    outputTokens: json.outputTokens,
    cachedInputTokens: isCount(json.cachedInputTokens) ? json.cachedInputTokens : 0,
    costUsd: costUsd ?? null,
    latencyMs: isCount(latencyMs) ? latencyMs : 0,
    status: json.status,
    ...(typeof userId === "string" ? { userId } : {}),
    ...(Array.isArray(tags) && tags.every((t) => typeof t === "string") ? { tags: tags as Array<string> } : {}),
    ...(typeof requestId === "string" ? { requestId } : {})
  }
}

// -----------------------------------------------------------------------------
// writers
// -----------------------------------------------------------------------------

const encoder = new TextEncoder()

/**
 * A writer appending to a file: opened once (append mode, created when missing) and
 * closed when the scope ends; one write per line, serialized.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFile = (
  path: string
): Effect.Effect<Writer, PlatformError.PlatformError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = yield* fs.open(path, { flag: "a" })
    const lock = yield* Effect.makeSemaphore(1)
    return {
      write: (entry) =>
        lock.withPermits(1)(file.writeAll(encoder.encode(encode(entry) + "\n"))).pipe(
          Effect.catchAll((error) => Effect.logWarning(`UsageLog: cannot append to ${path}`, error))
        )
    }
  })

/**
 * The usage log in a file (see `makeFile`), for the lifetime of the layer. Needs a
 * `FileSystem` (`NodeFileSystem.layer` from `@effect/platform-node`); fails when the file
 * cannot be opened.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (path: string): Layer.Layer<UsageLog, PlatformError.PlatformError, FileSystem.FileSystem> =>
  Layer.scoped(UsageLog, makeFile(path))

/**
 * A writer keeping its lines in memory, and reading them back (tests, in-process reports).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Writer & { readonly lines: Effect.Effect<ReadonlyArray<string>> }> = Effect
  .sync(() => {
    const lines: Array<string> = []
    return {
      write: (entry) => Effect.sync(() => void lines.push(encode(entry))),
      lines: Effect.sync(() => [...lines])
    }
  })

/**
 * Use a writer of your own as the usage log.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (writer: Writer): Layer.Layer<UsageLog> => Layer.succeed(UsageLog, writer)

// -----------------------------------------------------------------------------
// summaries
// -----------------------------------------------------------------------------

/**
 * Totals of a group of calls.
 *
 * @since 0.1.0
 * @category models
 */
export interface Totals {
  readonly calls: number
  /** Calls whose status is not `ok`. */
  readonly errors: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens: number
  /** The sum of the priced calls' costs. */
  readonly costUsd: number
  /** Calls without a price (`costUsd: null`). */
  readonly unpricedCalls: number
}

/**
 * Totals of the calls sharing a `key`: a model (`provider:model`), a provider, or a day
 * (`YYYY-MM-DD`, UTC).
 *
 * @since 0.1.0
 * @category models
 */
export interface Group extends Totals {
  readonly key: string
}

/**
 * What `summarize` found.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly total: Totals
  /** By `provider:model`, most expensive first. */
  readonly byModel: ReadonlyArray<Group>
  /** By provider, most expensive first. */
  readonly byProvider: ReadonlyArray<Group>
  /** By day (UTC), oldest first. */
  readonly byDay: ReadonlyArray<Group>
  /** Lines that were not entries (e.g. a last line cut short); blank lines are not counted. */
  readonly skippedLines: number
}

interface Accumulator {
  calls: number
  errors: number
  inputTokens: number
  outputTokens: number
  cachedInputTokens: number
  /** nano-USD, summed as integers so that totals do not drift (a cheap call costs a few micro-USD) */
  nanoUsd: number
  unpricedCalls: number
}

const newAccumulator = (): Accumulator => ({
  calls: 0,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  nanoUsd: 0,
  unpricedCalls: 0
})

const add = (acc: Accumulator, entry: Entry) => {
  acc.calls++
  if (entry.status !== "ok") acc.errors++
  acc.inputTokens += entry.inputTokens
  acc.outputTokens += entry.outputTokens
  acc.cachedInputTokens += entry.cachedInputTokens
  if (entry.costUsd === null) acc.unpricedCalls++
  else acc.nanoUsd += Math.round(entry.costUsd * 1e9)
}

const totals = ({ nanoUsd, ...rest }: Accumulator): Totals => ({ ...rest, costUsd: nanoUsd / 1e9 })

const groups = (
  map: Map<string, Accumulator>,
  order: (a: Group, b: Group) => number
): ReadonlyArray<Group> => [...map].map(([key, acc]) => ({ key, ...totals(acc) })).sort(order)

const byCost = (a: Group, b: Group) => b.costUsd - a.costUsd || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
const byKey = (a: Group, b: Group) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

const splitLines = (input: string | Iterable<string>): Iterable<string> =>
  typeof input === "string" ? input.split("\n") : input

/**
 * Totals by model, provider and day of a usage log: its text, or its lines.
 *
 * @since 0.1.0
 * @category summaries
 */
export const summarize = (input: string | Iterable<string>): Summary => {
  const total = newAccumulator()
  const models = new Map<string, Accumulator>()
  const providers = new Map<string, Accumulator>()
  const days = new Map<string, Accumulator>()
  const into = (map: Map<string, Accumulator>, key: string, entry: Entry) => {
    let acc = map.get(key)
    if (acc === undefined) map.set(key, acc = newAccumulator())
    add(acc, entry)
  }
  let skippedLines = 0
  for (const line of splitLines(input)) {
    if (line.trim() === "") continue
    const entry = decode(line)
    if (entry === undefined) {
      skippedLines++
      continue
    }
    add(total, entry)
    into(models, `${entry.provider}:${entry.model}`, entry)
    into(providers, entry.provider, entry)
    into(days, new Date(entry.timestamp).toISOString().slice(0, 10), entry)
  }
  return {
    total: totals(total),
    byModel: groups(models, byCost),
    byProvider: groups(providers, byCost),
    byDay: groups(days, byKey),
    skippedLines
  }
}

/**
 * Read a usage log file and `summarize` it.
 *
 * @since 0.1.0
 * @category summaries
 */
export const summarizeFile = (
  path: string
): Effect.Effect<Summary, PlatformError.PlatformError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => Effect.map(fs.readFileString(path), summarize))
