/**
 * `llm-fiber costs <usage-log.jsonl>`: the totals of a usage log (`UsageLog.summarize`) by
 * model, provider and day, as tables (or `--json`: the summary as one JSON object).
 */
import type { UsageLog } from "@llm-fiber/core"

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })

/** USD with six decimals (the log's totals are summed in micro-USD). */
export const usd = (value: number): string => `$${value.toFixed(6)}`

const plural = (n: number, word: string) => `${integer.format(n)} ${word}${n === 1 ? "" : "s"}`

const columns = ["CALLS", "ERRORS", "INPUT", "OUTPUT", "CACHED", "COST", "UNPRICED"] as const

const cells = (totals: UsageLog.Totals): ReadonlyArray<string> => [
  integer.format(totals.calls),
  integer.format(totals.errors),
  integer.format(totals.inputTokens),
  integer.format(totals.outputTokens),
  integer.format(totals.cachedInputTokens),
  usd(totals.costUsd),
  integer.format(totals.unpricedCalls)
]

/** One table: the key column left-aligned, the numbers right-aligned. */
const table = (title: string, groups: ReadonlyArray<UsageLog.Group>): string => {
  const rows = [[title, ...columns], ...groups.map((g) => [g.key, ...cells(g)])]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  return rows.map((row) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd()
  ).join("\n") + "\n"
}

/** The text report of a summary. */
export const render = (file: string, summary: UsageLog.Summary): string => {
  const t = summary.total
  const head = `${file}: ${plural(t.calls, "call")} (${plural(t.errors, "error")}), ` +
    `${integer.format(t.inputTokens)} input + ${integer.format(t.outputTokens)} output tokens, ` +
    `${usd(t.costUsd)}` + (t.unpricedCalls > 0 ? ` (+ ${plural(t.unpricedCalls, "unpriced call")})` : "") + "\n"
  if (t.calls === 0) return head
  return [
    head,
    table("MODEL", summary.byModel),
    table("PROVIDER", summary.byProvider),
    table("DAY (UTC)", summary.byDay)
  ].join("\n")
}
