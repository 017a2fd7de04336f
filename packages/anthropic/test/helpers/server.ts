export * from "../../../../test-support/server.js"

/**
 * Rebuild the Anthropic SSE wire of `*.chunks.txt` lines: `event: <payload.type>\n` then
 * `data: <line>\n\n` per line.
 */
export const anthropicSse = (lines: ReadonlyArray<string>): string => {
  const parts: Array<string> = []
  for (const line of lines) {
    if (line.trim() === "") continue
    const type = (JSON.parse(line) as { type: string }).type
    parts.push(`event: ${type}\ndata: ${line}\n\n`)
  }
  return parts.join("")
}

/** The wire of stream events given as objects. */
export const eventsToSse = (
  events: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>
): string => anthropicSse(events.map((e) => JSON.stringify(e)))

/**
 * The responses of a recording: split after each `message_stop` (multi-step recordings
 * hold one HTTP response per message).
 */
export const segmentsOf = (text: string): Array<Array<string>> => {
  const segments: Array<Array<string>> = [[]]
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue
    segments[segments.length - 1]!.push(line)
    if ((JSON.parse(line) as { type: string }).type === "message_stop") segments.push([])
  }
  return segments.filter((s) => s.length > 0)
}
