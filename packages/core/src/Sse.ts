/**
 * A fast, spec-compliant Server-Sent Events decoder over byte chunks.
 *
 * Follows the WHATWG "event stream interpretation" rules: lines end in `\n`, `\r\n` or
 * `\r` (a `\r\n` may be split across chunks); `data:` lines of one event are joined with
 * `\n`; lines starting with `:` are comments; `event:`, `id:` and `retry:` fields are
 * kept; a single space after the colon is removed; a leading BOM is dropped; an event is
 * dispatched on an empty line, and an unterminated event at the end of the stream is not
 * dispatched (`Decoder.end` reports it). UTF-8 sequences split across chunks decode
 * correctly.
 *
 * The decoder scans with `indexOf` (no regex), keeps a partial line as a list of pieces
 * (no quadratic concatenation when one line spans many chunks) and bounds the size of an
 * event.
 *
 * @example
 * ```ts
 * import { Sse } from "@llm-fiber/core"
 *
 * const decoder = new Sse.Decoder()
 * const events = decoder.push(new TextEncoder().encode("data: hello\n\n"))
 * // [{ event: "message", data: "hello", id: "" }]
 * ```
 *
 * @since 0.1.0
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"

/**
 * One dispatched event. `event` is `"message"` when the stream gave no `event:` field;
 * `id` is the last event id seen (`""` when none).
 *
 * @since 0.1.0
 * @category models
 */
export interface SseEvent {
  readonly event: string
  readonly data: string
  readonly id: string
  readonly retry?: number | undefined
}

/**
 * Raised by the decoder when an event grows past `maxEventBytes`.
 *
 * @since 0.1.0
 * @category errors
 */
export class SseTooLargeError extends Error {
  readonly _tag = "SseTooLargeError"
  constructor(readonly limit: number) {
    super(`an SSE event exceeded ${limit} characters`)
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DecoderOptions {
  /** The largest event (in characters) the decoder accepts. Default 32 MiB. */
  readonly maxEventBytes?: number | undefined
}

const LF = 10

/**
 * The incremental decoder: `push` bytes, get the events completed by them.
 *
 * @since 0.1.0
 * @category constructors
 */
export class Decoder {
  /**
   * `ignoreBOM: true` keeps a leading BOM in the decoded text, so that exactly one is
   * dropped (below) for bytes and text alike; a second BOM is part of the first line
   * (the WHATWG "double BOM" case).
   */
  private readonly text = new TextDecoder("utf-8", { ignoreBOM: true })
  private readonly maxEventBytes: number
  /** pieces of the current, unterminated line */
  private partial: Array<string> = []
  private partialLength = 0
  /** the previous chunk ended in `\r`: a leading `\n` in the next one belongs to it */
  private skipLF = false
  private first = true
  /** the first `data` line of the event (most events have exactly one) */
  private data0: string | undefined = undefined
  /** `data` lines after the first */
  private dataMore: Array<string> | undefined = undefined
  private dataLength = 0
  private eventType = ""
  private lastEventId = ""
  private retry: number | undefined = undefined
  private sawField = false

  constructor(options?: DecoderOptions) {
    this.maxEventBytes = options?.maxEventBytes ?? 32 * 1024 * 1024
  }

  /** Decode a chunk of bytes; returns the events it completed (often none). */
  push(bytes: Uint8Array): Array<SseEvent> {
    return this.pushText(this.text.decode(bytes, { stream: true }))
  }

  /** Decode a chunk of already-decoded text. */
  pushText(chunk: string): Array<SseEvent> {
    const out: Array<SseEvent> = []
    let start = 0
    const length = chunk.length
    if (length === 0) return out
    if (this.first) {
      this.first = false
      if (chunk.charCodeAt(0) === 0xFEFF) start = 1
    }
    if (this.skipLF) {
      this.skipLF = false
      if (start < length && chunk.charCodeAt(start) === LF) start++
    }
    // next known positions of \n and \r; -1 means "none left in this chunk", so each
    // terminator kind is scanned for at most once per position (linear per chunk)
    let lf = -2
    let cr = -2
    while (start < length) {
      if (lf !== -1 && lf < start) lf = chunk.indexOf("\n", start)
      if (cr !== -1 && cr < start) cr = chunk.indexOf("\r", start)
      if (lf === -1 && cr === -1) break
      let end: number
      let next: number
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr
        if (cr + 1 < length) {
          next = chunk.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1
        } else {
          next = cr + 1
          this.skipLF = true
        }
      } else {
        end = lf
        next = lf + 1
      }
      if (this.partial.length > 0) {
        this.partial.push(chunk.slice(start, end))
        const line = this.partial.join("")
        this.partial = []
        this.partialLength = 0
        this.line(line, out)
      } else if (end === start) {
        this.dispatch(out)
      } else if (chunk.startsWith("data: ", start) && end - start >= 6) {
        // the overwhelmingly common line: one slice, no line string (builtins only: fast
        // before the JIT has warmed up)
        this.data(chunk.slice(start + 6, end))
      } else if (chunk.startsWith("data:", start) && end - start >= 5) {
        this.data(chunk.slice(start + 5, end))
      } else {
        this.line(chunk.slice(start, end), out)
      }
      start = next
    }
    if (start < length) {
      const rest = start === 0 ? chunk : chunk.slice(start)
      this.partial.push(rest)
      this.partialLength += rest.length
      if (this.partialLength + this.dataLength > this.maxEventBytes) throw new SseTooLargeError(this.maxEventBytes)
    }
    return out
  }

  /**
   * The stream ended. Returns `true` when an event was left unterminated (it is not
   * dispatched, as the spec requires); callers decide whether that is an error.
   */
  end(): boolean {
    const tail = this.text.decode()
    const pendingLine = this.partial.length > 0 || tail.length > 0
    return pendingLine || this.data0 !== undefined || this.sawField
  }

  private line(line: string, out: Array<SseEvent>): void {
    const length = line.length
    if (length === 0) {
      this.dispatch(out)
      return
    }
    const c0 = line.charCodeAt(0)
    if (c0 === 58 /* : */) return
    // fast path for the overwhelmingly common "data: ..." line
    if (
      c0 === 100 /* d */ && length >= 5 && line.charCodeAt(1) === 97 && line.charCodeAt(2) === 116 &&
      line.charCodeAt(3) === 97 && line.charCodeAt(4) === 58
    ) {
      this.data(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5))
      return
    }
    const colon = line.indexOf(":")
    let field: string
    let value: string
    if (colon === -1) {
      field = line
      value = ""
    } else {
      field = line.slice(0, colon)
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1)
    }
    switch (field) {
      case "data":
        this.data(value)
        break
      case "event":
        this.eventType = value
        this.sawField = true
        break
      case "id":
        if (value.indexOf("\u0000") === -1) this.lastEventId = value
        this.sawField = true
        break
      case "retry":
        if (value.length > 0 && isDigits(value)) this.retry = Number(value)
        this.sawField = true
        break
      default:
        break
    }
  }

  private data(value: string): void {
    if (this.data0 === undefined) this.data0 = value
    else if (this.dataMore === undefined) this.dataMore = [value]
    else this.dataMore.push(value)
    this.dataLength += value.length + 1
    if (this.dataLength > this.maxEventBytes) throw new SseTooLargeError(this.maxEventBytes)
  }

  private dispatch(out: Array<SseEvent>): void {
    this.sawField = false
    const data0 = this.data0
    if (data0 === undefined) {
      this.eventType = ""
      return
    }
    const data = this.dataMore === undefined ? data0 : data0 + "\n" + this.dataMore.join("\n")
    const event: SseEvent = this.retry === undefined
      ? { event: this.eventType === "" ? "message" : this.eventType, data, id: this.lastEventId }
      : { event: this.eventType === "" ? "message" : this.eventType, data, id: this.lastEventId, retry: this.retry }
    out.push(event)
    this.data0 = undefined
    this.dataMore = undefined
    this.dataLength = 0
    this.eventType = ""
    this.retry = undefined
  }
}

const isDigits = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/**
 * Decode a whole body at once (tests, recorded fixtures).
 *
 * @since 0.1.0
 * @category utils
 */
export const decodeAll = (input: string | Uint8Array, options?: DecoderOptions): Array<SseEvent> => {
  const decoder = new Decoder(options)
  const events = typeof input === "string" ? decoder.pushText(input) : decoder.push(input)
  decoder.end()
  return events
}

/**
 * How a decoding stream reacts to the end of the byte stream and to decoder failures.
 *
 * @since 0.1.0
 * @category models
 */
export interface PipeOptions<E> extends DecoderOptions {
  /** Build the error for an event over the size limit. */
  readonly onTooLarge: (error: SseTooLargeError) => E
}

/**
 * A channel turning chunks of bytes into chunks of events, one output chunk per input
 * chunk that completed at least one event (so a network read costs one step, not one
 * per event).
 *
 * @since 0.1.0
 * @category combinators
 */
export const decodeStream = <E, R, E2>(
  self: Stream.Stream<Uint8Array, E, R>,
  options: PipeOptions<E2>
): Stream.Stream<SseEvent, E | E2, R> => {
  const make = (): Channel.Channel<Chunk.Chunk<SseEvent>, Chunk.Chunk<Uint8Array>, E | E2, E, unknown, unknown> => {
    const decoder = new Decoder(options)
    const loop: Channel.Channel<Chunk.Chunk<SseEvent>, Chunk.Chunk<Uint8Array>, E | E2, E, unknown, unknown> = Channel
      .readWithCause({
        onInput: (input: Chunk.Chunk<Uint8Array>) => {
          let events: Array<SseEvent> | undefined
          try {
            for (const bytes of input) {
              const got = decoder.push(bytes)
              if (got.length > 0) {
                if (events === undefined) events = got
                else for (const e of got) events.push(e)
              }
            }
          } catch (e) {
            if (e instanceof SseTooLargeError) {
              // the events completed before the oversized one still reach the consumer
              const failure = Channel.fail(options.onTooLarge(e))
              return events === undefined
                ? failure
                : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(events)), failure)
            }
            throw e
          }
          return events === undefined ? loop : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(events)), loop)
        },
        onFailure: (cause) => Channel.failCause(cause),
        onDone: () => Channel.void
      })
    return loop
  }
  return Stream.pipeThroughChannelOrFail(self, Channel.suspend(make))
}
