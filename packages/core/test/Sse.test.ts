import { describe, expect, it } from "@effect/vitest"
import { Sse } from "@llm-fiber/core"
import { Chunk, Effect, Stream } from "effect"
import * as fc from "fast-check"

// -----------------------------------------------------------------------------
// helpers
// -----------------------------------------------------------------------------

const utf8 = new TextEncoder()
const bytes = (s: string): Uint8Array => utf8.encode(s)

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Split `input` at the given offsets (any order, duplicates and out-of-range ignored). */
const splitAt = (input: Uint8Array, points: ReadonlyArray<number>): Array<Uint8Array> => {
  const cuts = [...new Set(points.filter((p) => p > 0 && p < input.length))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let prev = 0
  for (const cut of cuts) {
    out.push(input.subarray(prev, cut))
    prev = cut
  }
  out.push(input.subarray(prev))
  return out
}

const oneByteChunks = (input: Uint8Array): Array<Uint8Array> =>
  Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1))

interface Decoded {
  readonly events: Array<Sse.SseEvent>
  readonly pending: boolean
}

const decodeChunks = (chunks: Iterable<Uint8Array>, options?: Sse.DecoderOptions): Decoded => {
  const decoder = new Sse.Decoder(options)
  const events: Array<Sse.SseEvent> = []
  for (const chunk of chunks) events.push(...decoder.push(chunk))
  return { events, pending: decoder.end() }
}

const decodeTexts = (chunks: Iterable<string>): Decoded => {
  const decoder = new Sse.Decoder()
  const events: Array<Sse.SseEvent> = []
  for (const chunk of chunks) events.push(...decoder.pushText(chunk))
  return { events, pending: decoder.end() }
}

const ev = (data: string, fields: { event?: string; id?: string; retry?: number } = {}): Sse.SseEvent =>
  fields.retry === undefined
    ? { event: fields.event ?? "message", data, id: fields.id ?? "" }
    : { event: fields.event ?? "message", data, id: fields.id ?? "", retry: fields.retry }

/**
 * A deliberately naive decoder written from the WHATWG text: decode the whole body as
 * UTF-8 (which drops one leading BOM), cut it into lines at CRLF, LF or CR, drop the
 * unterminated last line, then interpret each line.
 */
const reference = (input: Uint8Array): Array<Sse.SseEvent> => {
  const text = new TextDecoder("utf-8").decode(input)
  const lines: Array<string> = []
  let current = ""
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "\r") {
      lines.push(current)
      current = ""
      if (text[i + 1] === "\n") i++
    } else if (c === "\n") {
      lines.push(current)
      current = ""
    } else {
      current += c
    }
  }
  const events: Array<Sse.SseEvent> = []
  let dataBuffer = ""
  let eventType = ""
  let lastEventId = ""
  let retry: number | undefined
  for (const line of lines) {
    if (line === "") {
      if (dataBuffer === "") {
        eventType = ""
        continue
      }
      const data = dataBuffer.endsWith("\n") ? dataBuffer.slice(0, -1) : dataBuffer
      events.push(
        ev(data, {
          event: eventType === "" ? "message" : eventType,
          id: lastEventId,
          ...(retry !== undefined ? { retry } : {})
        })
      )
      dataBuffer = ""
      eventType = ""
      retry = undefined
      continue
    }
    if (line.startsWith(":")) continue
    const colon = line.indexOf(":")
    let field = line
    let value = ""
    if (colon !== -1) {
      field = line.slice(0, colon)
      value = line.slice(colon + 1)
      if (value.startsWith(" ")) value = value.slice(1)
    }
    if (field === "event") eventType = value
    else if (field === "data") dataBuffer += value + "\n"
    else if (field === "id") {
      if (!value.includes("\u0000")) lastEventId = value
    } else if (field === "retry") {
      if (/^[0-9]+$/.test(value)) retry = Number(value)
    }
  }
  return events
}

/** Tally how much scanning / copying the decoder does, by wrapping the string and array primitives it uses. */
const measureWork = (run: () => void): { scanned: number; copied: number; joined: number } => {
  const indexOf = String.prototype.indexOf
  const slice = String.prototype.slice
  const join = Array.prototype.join
  const tally = { scanned: 0, copied: 0, joined: 0 }
  String.prototype.indexOf = function(this: string, search: string, from?: number) {
    const start = from ?? 0
    const found = indexOf.call(this, search, start)
    tally.scanned += (found === -1 ? this.length : found + search.length) - Math.min(start, this.length)
    return found
  }
  String.prototype.slice = function(this: string, start?: number, end?: number) {
    const result = slice.call(this, start, end)
    tally.copied += result.length
    return result
  }
  Array.prototype.join = function(this: Array<unknown>, separator?: string) {
    const result = join.call(this, separator)
    tally.joined += result.length
    return result
  }
  try {
    run()
  } finally {
    String.prototype.indexOf = indexOf
    String.prototype.slice = slice
    Array.prototype.join = join
  }
  return tally
}

// -----------------------------------------------------------------------------
// examples
// -----------------------------------------------------------------------------

describe("Sse.Decoder line endings", () => {
  const expected = [ev("a"), ev("b")]

  it("LF", () => {
    expect(Sse.decodeAll("data: a\n\ndata: b\n\n")).toEqual(expected)
  })

  it("CRLF", () => {
    expect(Sse.decodeAll("data: a\r\n\r\ndata: b\r\n\r\n")).toEqual(expected)
  })

  it("CR", () => {
    expect(Sse.decodeAll("data: a\r\rdata: b\r\r")).toEqual(expected)
  })

  it("mixed in one stream", () => {
    expect(Sse.decodeAll("data: a\r\n\ndata: b\r\r\n")).toEqual(expected)
    expect(Sse.decodeAll("data: x\rdata: y\ndata: z\r\n\r")).toEqual([ev("x\ny\nz")])
  })

  it("\\r\\r is two line endings, \\n\\r is two, \\r\\n is one", () => {
    // "data: a" CR CR -> data line + blank line -> dispatched
    expect(Sse.decodeAll("data: a\r\r")).toEqual([ev("a")])
    // LF CR -> two endings -> dispatched
    expect(Sse.decodeAll("data: a\n\r")).toEqual([ev("a")])
    // CRLF only -> one ending -> not dispatched
    expect(Sse.decodeAll("data: a\r\n")).toEqual([])
  })

  it("a \\r ending one chunk and a \\n starting the next are ONE line ending", () => {
    const decoder = new Sse.Decoder()
    expect(decoder.pushText("data: a\r")).toEqual([])
    // if the \n were a second ending, "a" would be dispatched here
    expect(decoder.pushText("\ndata: b\r")).toEqual([])
    expect(decoder.pushText("\n\r")).toEqual([ev("a\nb")])
    expect(decoder.pushText("\n")).toEqual([])
    expect(decoder.end()).toBe(false)
  })

  it("the \\r/\\n split also holds for bytes and survives empty chunks in between", () => {
    const { events } = decodeChunks([bytes("data: a\r"), new Uint8Array(0), bytes("\n"), bytes("\r\n")])
    expect(events).toEqual([ev("a")])
  })

  it("a \\r at the end of a chunk ends the line at once (no waiting for the next chunk)", () => {
    const decoder = new Sse.Decoder()
    expect(decoder.pushText("data: a\r\r")).toEqual([ev("a")])
    // the next chunk starts with \n: it belongs to the last \r, so no extra (empty) line
    expect(decoder.pushText("\ndata: b\n\n")).toEqual([ev("b")])
  })
})

describe("Sse.Decoder fields", () => {
  it("joins multi-line data with \\n", () => {
    expect(Sse.decodeAll("data: one\ndata: two\ndata:three\n\n")).toEqual([ev("one\ntwo\nthree")])
  })

  it("keeps empty data lines", () => {
    expect(Sse.decodeAll("data\ndata\n\n")).toEqual([ev("\n")])
    expect(Sse.decodeAll("data:\n\n")).toEqual([ev("")])
    expect(Sse.decodeAll("data: \n\n")).toEqual([ev("")])
    expect(Sse.decodeAll("data: a\ndata:\ndata: b\n\n")).toEqual([ev("a\n\nb")])
  })

  it("ignores comments, also between data lines and as keep-alives", () => {
    expect(Sse.decodeAll(": keep-alive\n\n:\ndata: a\n: in between\ndata: b\n\n")).toEqual([ev("a\nb")])
    expect(Sse.decodeAll(":data: not data\n\n")).toEqual([])
  })

  it("strips exactly one space after the colon", () => {
    expect(Sse.decodeAll("data:  two spaces\n\n")).toEqual([ev(" two spaces")])
    expect(Sse.decodeAll("data:no space\n\n")).toEqual([ev("no space")])
    expect(Sse.decodeAll("data:\tTab\n\n")).toEqual([ev("\tTab")])
    expect(Sse.decodeAll("event:  spaced\ndata: x\n\n")).toEqual([ev("x", { event: " spaced" })])
  })

  it("splits at the first colon only", () => {
    expect(Sse.decodeAll("data: a: b:c\n\n")).toEqual([ev("a: b:c")])
  })

  it("a field without a colon has an empty value", () => {
    expect(Sse.decodeAll("data\n\n")).toEqual([ev("")])
    expect(Sse.decodeAll("event\ndata: x\n\n")).toEqual([ev("x")])
    expect(Sse.decodeAll("id: 1\ndata: a\n\nid\ndata: b\n\n")).toEqual([ev("a", { id: "1" }), ev("b", { id: "" })])
  })

  it("field names are case-sensitive and unknown fields are ignored", () => {
    expect(Sse.decodeAll("Data: no\nDATA: no\nfoo: bar\ndata : no\ndata: yes\n\n")).toEqual([ev("yes")])
  })

  it("event: sets the type of the next event only", () => {
    expect(Sse.decodeAll("event: ping\ndata: 1\n\ndata: 2\n\n")).toEqual([ev("1", { event: "ping" }), ev("2")])
    expect(Sse.decodeAll("event: a\nevent: b\ndata: x\n\n")).toEqual([ev("x", { event: "b" })])
  })

  it("an event with only event: (no data) is not dispatched, and its type does not leak", () => {
    expect(Sse.decodeAll("event: lonely\n\ndata: x\n\n")).toEqual([ev("x")])
  })

  it("id: persists across events until changed, also through events that are not dispatched", () => {
    const stream = "id: 7\ndata: a\n\ndata: b\n\nid: 8\n\ndata: c\n\nid\ndata: d\n\n"
    expect(Sse.decodeAll(stream)).toEqual([
      ev("a", { id: "7" }),
      ev("b", { id: "7" }),
      ev("c", { id: "8" }),
      ev("d", { id: "" })
    ])
  })

  it("an id: containing NUL is ignored", () => {
    expect(Sse.decodeAll("id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n")).toEqual([
      ev("a", { id: "1" }),
      ev("b", { id: "1" })
    ])
  })

  it("retry: accepts ASCII digits only", () => {
    expect(Sse.decodeAll("retry: 1500\ndata: a\n\n")).toEqual([ev("a", { retry: 1500 })])
    for (const bad of ["1.5", "-1", "15s", " 15", "1e3", "", "١٢"]) {
      expect(Sse.decodeAll(`retry: ${bad}\ndata: a\n\n`), bad).toEqual([ev("a")])
    }
    expect(Sse.decodeAll("retry:007\ndata: a\n\n")).toEqual([ev("a", { retry: 7 })])
  })

  it("retry: belongs to the next dispatched event, then is cleared", () => {
    expect(Sse.decodeAll("retry: 10\n\ndata: a\n\ndata: b\n\n")).toEqual([ev("a", { retry: 10 }), ev("b")])
  })

  it("drops one leading BOM (text and bytes, also split across chunks)", () => {
    expect(Sse.decodeAll("\uFEFFdata: a\n\n")).toEqual([ev("a")])
    expect(Sse.decodeAll(bytes("\uFEFFdata: a\n\n"))).toEqual([ev("a")])
    const withBom = concat([new Uint8Array([0xEF, 0xBB, 0xBF]), bytes("data: a\n\n")])
    expect(decodeChunks(oneByteChunks(withBom)).events).toEqual([ev("a")])
    // the WHATWG BOM-split case: the first byte alone, then the rest
    expect(decodeChunks(splitAt(withBom, [1])).events).toEqual([ev("a")])
  })

  it("drops only ONE BOM: a second one makes the first field name unknown", () => {
    // WHATWG web-platform test eventsource/format-bom-2: message "1" must not arrive
    const doubleBom = "\uFEFF\uFEFFdata: 1\n\ndata: 2\n\n"
    expect(Sse.decodeAll(doubleBom)).toEqual([ev("2")])
    expect(Sse.decodeAll(bytes(doubleBom))).toEqual([ev("2")])
    expect(decodeChunks(oneByteChunks(bytes(doubleBom))).events).toEqual([ev("2")])
  })

  it("a BOM later in the stream is not dropped", () => {
    expect(Sse.decodeAll("data: 1\n\n\uFEFFdata: 2\n\ndata: \uFEFF3\n\n")).toEqual([ev("1"), ev("\uFEFF3")])
    const decoder = new Sse.Decoder()
    expect(decoder.pushText("data: 1\n\n")).toEqual([ev("1")])
    expect(decoder.pushText("\uFEFFdata: 2\n\n")).toEqual([])
  })
})

describe("Sse.Decoder end of stream", () => {
  it("a trailing unterminated event is not dispatched but reported by end()", () => {
    for (const tail of ["data: partial", "data: whole line\n", "event: x\n", "id: 3\n", "retry: 5\n", "data: a\r"]) {
      const decoder = new Sse.Decoder()
      expect(decoder.pushText(`data: done\n\n${tail}`), tail).toEqual([ev("done")])
      expect(decoder.end(), tail).toBe(true)
    }
  })

  it("end() is false after a clean end (also after comments and \\r\\n)", () => {
    for (const stream of ["", "data: a\n\n", "data: a\r\n\r\n", ": ping\n", "data: a\n\n: bye\n"]) {
      const decoder = new Sse.Decoder()
      decoder.pushText(stream)
      expect(decoder.end(), JSON.stringify(stream)).toBe(false)
    }
  })

  it("end() reports a multi-byte character cut off at the end", () => {
    const decoder = new Sse.Decoder()
    expect(decoder.push(bytes("data: a\n\n"))).toEqual([ev("a")])
    decoder.push(bytes("😀").subarray(0, 2))
    expect(decoder.end()).toBe(true)
  })
})

describe("Sse.Decoder UTF-8", () => {
  const text = "data: héllo 😀 中文 ﬀ 𝄞\nevent: 表情😀\nid: ü\n\ndata: 👩‍👩‍👧‍👦\n\n"
  const expected = [ev("héllo 😀 中文 ﬀ 𝄞", { event: "表情😀", id: "ü" }), ev("👩‍👩‍👧‍👦", { id: "ü" })]

  it("decodes multi-byte characters in one piece", () => {
    expect(Sse.decodeAll(bytes(text))).toEqual(expected)
  })

  it("decodes multi-byte characters split at every byte boundary", () => {
    const input = bytes(text)
    // 1-byte chunks
    expect(decodeChunks(oneByteChunks(input))).toEqual({ events: expected, pending: false })
    // every single split point
    for (let i = 1; i < input.length; i++) {
      expect(decodeChunks(splitAt(input, [i])).events, `split at ${i}`).toEqual(expected)
    }
  })

  it("replaces invalid bytes with U+FFFD instead of failing", () => {
    const input = concat([bytes("data: a"), new Uint8Array([0xFF, 0xC3]), bytes("\n\n")])
    expect(Sse.decodeAll(input)).toEqual([ev("a\uFFFD\uFFFD")])
  })
})

describe("Sse.Decoder maxEventBytes", () => {
  it("fails with SseTooLargeError when one event's data grows past the limit", () => {
    const decoder = new Sse.Decoder({ maxEventBytes: 100 })
    let thrown: unknown
    try {
      for (let i = 0; i < 20; i++) decoder.pushText("data: 0123456789\n")
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(Sse.SseTooLargeError)
    expect((thrown as Sse.SseTooLargeError).limit).toBe(100)
    expect((thrown as Sse.SseTooLargeError)._tag).toBe("SseTooLargeError")
    expect((thrown as Error).message).toContain("100")
  })

  it("fails when one unterminated line grows past the limit, even in 1-byte chunks", () => {
    const decoder = new Sse.Decoder({ maxEventBytes: 64 })
    expect(() => {
      for (let i = 0; i < 1000; i++) decoder.push(bytes("x"))
    }).toThrow(Sse.SseTooLargeError)
  })

  it("bounds comment and unknown-field lines too (no unbounded buffer)", () => {
    expect(() => new Sse.Decoder({ maxEventBytes: 64 }).pushText(":" + "c".repeat(200))).toThrow(
      Sse.SseTooLargeError
    )
    expect(() => new Sse.Decoder({ maxEventBytes: 64 }).pushText("foo: " + "c".repeat(200))).toThrow(
      Sse.SseTooLargeError
    )
  })

  it("the limit is per event: many events below it pass", () => {
    const decoder = new Sse.Decoder({ maxEventBytes: 64 })
    const events: Array<Sse.SseEvent> = []
    for (let i = 0; i < 1000; i++) events.push(...decoder.pushText("data: 0123456789012345678901234567890\n\n"))
    expect(events).toHaveLength(1000)
  })

  it("an event well under the limit passes", () => {
    expect(Sse.decodeAll("data: " + "a".repeat(50) + "\n\n", { maxEventBytes: 100 })).toEqual([ev("a".repeat(50))])
  })
})

describe("Sse.Decoder cost is linear", () => {
  it("a 1 MB single data: line fed in 1-byte chunks completes and is exact", () => {
    const size = 1024 * 1024
    const decoder = new Sse.Decoder()
    const one = bytes("x")
    expect(decoder.push(bytes("data: "))).toEqual([])
    for (let i = 0; i < size; i++) decoder.push(one)
    const events = decoder.push(bytes("\n\n"))
    expect(events).toHaveLength(1)
    expect(events[0]!.data.length).toBe(size)
    expect(events[0]!.data === "x".repeat(size)).toBe(true)
    expect(decoder.end()).toBe(false)
  })

  it("scans and copies O(n) characters for a line arriving one character at a time", () => {
    const work = (n: number) => {
      let events: Array<Sse.SseEvent> = []
      const tally = measureWork(() => {
        const decoder = new Sse.Decoder()
        decoder.pushText("data: ")
        for (let i = 0; i < n; i++) decoder.pushText("y")
        events = decoder.pushText("\n\n")
      })
      expect(events[0]!.data.length).toBe(n)
      return tally
    }
    const n = 20_000
    const w = work(n)
    // every character is looked at a bounded number of times (2 terminator scans, one slice, one join)
    expect(w.scanned).toBeLessThanOrEqual(2 * n + 64)
    expect(w.copied).toBeLessThanOrEqual(2 * n + 64)
    expect(w.joined).toBeLessThanOrEqual(2 * n + 64)
    // and doubling the input doubles the work
    const w2 = work(2 * n)
    expect(w2.scanned + w2.copied + w2.joined).toBeLessThanOrEqual(2 * (w.scanned + w.copied + w.joined) + 256)
  })

  it("does not rescan for the other terminator: many \\n lines with one \\r at the very end", () => {
    const lines = 10_000
    const chunk = "data: abcdefgh\n".repeat(lines) + "\r"
    let events: Array<Sse.SseEvent> = []
    const w = measureWork(() => {
      events = new Sse.Decoder().pushText(chunk + "\n")
    })
    expect(events).toHaveLength(1)
    expect(w.scanned).toBeLessThanOrEqual(3 * chunk.length)
  })

  it("does not rescan for the other terminator: many \\r lines with one \\n at the very end", () => {
    const lines = 10_000
    // the last \r\n is the blank line that dispatches the event
    const chunk = "data: abcdefgh\r".repeat(lines) + "\r\n"
    let events: Array<Sse.SseEvent> = []
    const w = measureWork(() => {
      events = new Sse.Decoder().pushText(chunk)
    })
    expect(events).toHaveLength(1)
    expect(w.scanned).toBeLessThanOrEqual(3 * chunk.length)
  })

  it("many events in many chunks: work stays proportional to the input", () => {
    const body = "event: e\nid: 1\ndata: {\"a\":1}\r\n\r\n".repeat(5_000)
    const input = bytes(body)
    const chunks = splitAt(input, Array.from({ length: 2_000 }, (_, i) => i * 97))
    let decoded: Decoded = { events: [], pending: true }
    const w = measureWork(() => {
      decoded = decodeChunks(chunks)
    })
    expect(decoded.events).toHaveLength(5_000)
    expect(w.scanned + w.copied + w.joined).toBeLessThanOrEqual(6 * body.length)
  })
})

// -----------------------------------------------------------------------------
// properties
// -----------------------------------------------------------------------------

const lineEnding = fc.constantFrom("\n", "\r\n", "\r")

/** Text without line breaks: graphemes (emoji, CJK, combining marks…) and some awkward ASCII. */
const lineText = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
    { weight: 2, arbitrary: fc.constantFrom(" ", ":", ": ", "data", "id", "\u0000", "\uFEFF", "😀", "中文", "é", "\t") }
  ),
  { maxLength: 6 }
).map((parts) => parts.join("").replace(/[\r\n]/g, ""))

const fieldLine = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom("data:", "data: ", "data:  "), lineText).map(([f, v]) => f + v) },
  { weight: 1, arbitrary: lineText.map((v) => `event: ${v}`) },
  { weight: 1, arbitrary: lineText.map((v) => `id: ${v}`) },
  { weight: 1, arbitrary: fc.oneof(fc.nat().map(String), lineText).map((v) => `retry: ${v}`) },
  { weight: 1, arbitrary: lineText.map((v) => `:${v}`) },
  { weight: 1, arbitrary: fc.constantFrom("data", "event", "id", "retry", "foo: bar", "x") }
)

/** A stream of events: blocks of field lines each ended by a blank line, each line with its own ending. */
const eventStream = fc.record({
  bom: fc.boolean(),
  blocks: fc.array(fc.tuple(fc.array(fc.tuple(fieldLine, lineEnding), { maxLength: 6 }), lineEnding), {
    maxLength: 8
  }),
  tail: fc.option(fieldLine, { nil: undefined })
}).map(({ blocks, bom, tail }) =>
  (bom ? "\uFEFF" : "") +
  blocks.map(([lines, end]) => lines.map(([line, e]) => line + e).join("") + end).join("") +
  (tail ?? "")
)

/** Split points for a byte array of a given length (including 1-byte chunkings). */
const chunkings = (input: Uint8Array) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constant(Array.from({ length: input.length }, (_, i) => i)) }
  )

describe("Sse.Decoder properties", () => {
  it("any chunking of the bytes gives the events of decoding them in one piece", () => {
    fc.assert(
      fc.property(
        eventStream.chain((text) => {
          const input = bytes(text)
          return fc.tuple(fc.constant(input), chunkings(input))
        }),
        ([input, points]) => {
          const whole = decodeChunks([input])
          const chunked = decodeChunks(splitAt(input, points))
          expect(chunked).toEqual(whole)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("the same holds for text chunks (pushText), including splits between \\r and \\n", () => {
    fc.assert(
      fc.property(
        eventStream.chain((text) =>
          fc.tuple(fc.constant(text), fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 30 }))
        ),
        ([text, points]) => {
          const cuts = [...new Set(points)].sort((a, b) => a - b)
          const pieces: Array<string> = []
          let prev = 0
          for (const cut of cuts) {
            pieces.push(text.slice(prev, cut))
            prev = cut
          }
          pieces.push(text.slice(prev))
          expect(decodeTexts(pieces)).toEqual(decodeTexts([text]))
        }
      ),
      { numRuns: 300 }
    )
  })

  /** Inputs for the reference comparison: structured streams, token soup, or raw (possibly invalid) bytes. */
  const anyInput = fc.oneof(
    { weight: 3, arbitrary: eventStream.map(bytes) },
    {
      weight: 3,
      arbitrary: fc.array(
        fc.constantFrom(
          "data",
          "event",
          "id",
          "retry",
          ":",
          " ",
          "\r",
          "\n",
          "\r\n",
          "x",
          "42",
          "\u0000",
          "\uFEFF",
          "😀",
          "中",
          "é"
        ),
        { maxLength: 60 }
      ).map((tokens) => bytes(tokens.join("")))
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }) },
    {
      weight: 2,
      arbitrary: fc.tuple(eventStream, fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.nat()).map(
        ([text, junk, at]) => {
          const input = bytes(text)
          const cut = input.length === 0 ? 0 : at % input.length
          return concat([input.subarray(0, cut), junk, input.subarray(cut)])
        }
      )
    }
  )

  it("agrees with a naive reference implementation of the spec", () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        expect(decodeChunks([input]).events).toEqual(reference(input))
      }),
      { numRuns: 500 }
    )
  })

  it("agrees with the reference under any chunking", () => {
    fc.assert(
      fc.property(
        anyInput.chain((input) => fc.tuple(fc.constant(input), chunkings(input))),
        ([input, points]) => {
          expect(decodeChunks(splitAt(input, points)).events).toEqual(reference(input))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("the reference itself is right on hand-written cases", () => {
    expect(reference(bytes("\uFEFF\uFEFFdata: 1\n\ndata: 2\r\n\r\nid: 5\rdata:  x\r\r"))).toEqual([
      ev("2"),
      ev(" x", { id: "5" })
    ])
  })

  const noBreak = fc.string({ unit: "grapheme", maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, ""))
  const eventValue = fc.record({
    event: fc.option(noBreak, { nil: undefined }),
    data: fc.array(noBreak, { minLength: 1, maxLength: 4 }).map((lines) => lines.join("\n")),
    id: fc.option(noBreak.map((s) => s.replace(/\u0000/g, "")), { nil: undefined }),
    retry: fc.option(fc.nat(), { nil: undefined }),
    comment: fc.option(noBreak, { nil: undefined })
  })

  it("round-trip: encoded events decode back to themselves", () => {
    fc.assert(
      fc.property(
        fc.array(eventValue, { maxLength: 10 }),
        fc.infiniteStream(lineEnding),
        fc.array(fc.nat(), { maxLength: 20 }),
        (values, endings, points) => {
          const ending = endings[Symbol.iterator]()
          let previous = ""
          const line = (s: string) => {
            let end = ending.next().value!
            // "\r" then an empty line ended by "\n" would read as ONE "\r\n": a correct encoder avoids it
            if (previous === "\r" && s === "" && end === "\n") end = "\r\n"
            previous = end
            return s + end
          }
          let wire = ""
          for (const v of values) {
            if (v.comment !== undefined) wire += line(`:${v.comment}`)
            if (v.event !== undefined) wire += line(`event: ${v.event}`)
            if (v.id !== undefined) wire += line(`id: ${v.id}`)
            if (v.retry !== undefined) wire += line(`retry: ${v.retry}`)
            for (const d of v.data.split("\n")) wire += line(`data: ${d}`)
            wire += line("")
          }
          let lastId = ""
          const expected = values.map((v) => {
            if (v.id !== undefined) lastId = v.id
            return ev(v.data, {
              event: v.event === undefined || v.event === "" ? "message" : v.event,
              id: lastId,
              ...(v.retry !== undefined ? { retry: v.retry } : {})
            })
          })
          const input = bytes(wire)
          const decoded = decodeChunks(splitAt(input, points.map((p) => p % (input.length + 1))))
          expect(decoded).toEqual({ events: expected, pending: false })
        }
      ),
      { numRuns: 300 }
    )
  })
})

// -----------------------------------------------------------------------------
// Sse.decodeStream
// -----------------------------------------------------------------------------

class TooLarge {
  readonly _tag = "TooLarge"
  constructor(readonly limit: number) {}
}

class Upstream {
  readonly _tag = "Upstream"
}

describe("Sse.decodeStream", () => {
  const onTooLarge = (e: Sse.SseTooLargeError) => new TooLarge(e.limit)

  it.effect("decodes a stream of byte chunks, whatever the chunking", () =>
    Effect.gen(function*() {
      const wire = bytes("event: a\ndata: 1\n\n: ping\r\ndata: 😀\r\ndata: 中\r\r\nid: 9\ndata: x\n\n")
      const expected = [ev("1", { event: "a" }), ev("😀\n中"), ev("x", { id: "9" })]
      for (const chunks of [[wire], oneByteChunks(wire), splitAt(wire, [3, 9, 20, 21, 27, 28])]) {
        const events = yield* Stream.fromIterable(chunks).pipe(
          (s) => Sse.decodeStream(s, { onTooLarge }),
          Stream.runCollect
        )
        expect(Chunk.toReadonlyArray(events)).toEqual(expected)
      }
    }))

  it.effect("emits one output chunk per input chunk that completed events", () =>
    Effect.gen(function*() {
      const input = Stream.fromChunks(
        Chunk.make(bytes("data: a\n\ndata: b\n\n")),
        Chunk.make(bytes("data: c")),
        Chunk.make(bytes("\n\n"), bytes("data: d\n\n"))
      )
      const chunks = yield* Sse.decodeStream(input, { onTooLarge }).pipe(Stream.chunks, Stream.runCollect)
      expect(Chunk.toReadonlyArray(chunks).map((c) => Chunk.toReadonlyArray(c).map((e) => e.data))).toEqual([
        ["a", "b"],
        ["c", "d"]
      ])
    }))

  it.effect("an oversized event fails the stream with the caller's error", () =>
    Effect.gen(function*() {
      const input = Stream.fromIterable([bytes("data: ok\n\n"), bytes("data: " + "z".repeat(500) + "\n\n")])
      const seen: Array<string> = []
      const error = yield* Sse.decodeStream(input, { maxEventBytes: 100, onTooLarge }).pipe(
        Stream.runForEach((e) => Effect.sync(() => seen.push(e.data))),
        Effect.flip
      )
      expect(error).toBeInstanceOf(TooLarge)
      expect(error).toEqual(new TooLarge(100))
      expect(seen).toEqual(["ok"])
    }))

  it.effect("an upstream failure passes through unchanged, after the events before it", () =>
    Effect.gen(function*() {
      const failure = new Upstream()
      const input = Stream.concat(Stream.fromIterable([bytes("data: 1\n\ndata: 2")]), Stream.fail(failure))
      const seen: Array<string> = []
      const error = yield* Sse.decodeStream(input, { onTooLarge }).pipe(
        Stream.runForEach((e) => Effect.sync(() => seen.push(e.data))),
        Effect.flip
      )
      expect(error).toBe(failure)
      expect(seen).toEqual(["1"])
    }))

  it.effect("each run gets a fresh decoder (no state shared between runs)", () =>
    Effect.gen(function*() {
      const stream = Sse.decodeStream(Stream.fromIterable([bytes("id: 1\ndata: a\n\ndata: trailing")]), {
        onTooLarge
      })
      const first = yield* Stream.runCollect(stream)
      const second = yield* Stream.runCollect(stream)
      expect(Chunk.toReadonlyArray(first)).toEqual([ev("a", { id: "1" })])
      expect(Chunk.toReadonlyArray(second)).toEqual([ev("a", { id: "1" })])
    }))
})
