/**
 * A tolerant, incremental JSON parser: feed text as it arrives, read the best-effort value
 * of the text so far at any point.
 *
 * Semantics of a partial value (what `Parser.value` returns before the text is complete):
 * - open arrays and objects are closed: `[1, {"a": "x` reads `[1, { a: "x" }]`;
 * - an unterminated string is kept as far as it goes (an escape sequence cut in the middle
 *   is left out until it is whole);
 * - a number appears only once something ends it (`,`, `]`, `}`, whitespace, or `end()`
 *   for a number at the top level): `[12` reads `[]`, `[12,` reads `[12]` — so a partial
 *   number is never shown and then changed;
 * - `true`, `false` and `null` appear once they are whole;
 * - an object key appears once its value has started (`{"a":` reads `{}`, `{"a": "` reads
 *   `{ a: "" }`).
 *
 * So the successive values of one text are monotone: each one *extends* the previous (see
 * `extendsValue`). Once the top-level value is complete, `value` is exactly what
 * `JSON.parse` gives for it. The parser never throws: bad input moves it to an error state
 * (`error`), keeping the last good value.
 *
 * Cost: every character is looked at once (a string's characters are copied in runs, not
 * one by one); `value` copies the open containers only (completed values are shared) and
 * is cached until the value changes (`revision`).
 */

const NONE: unique symbol = Symbol("none")

// what the parser expects next
const VALUE = 0 // a value (top level, after `:`, after `,` in an array)
const FIRST_VALUE = 1 // a value or `]` (just after `[`)
const AFTER_VALUE = 2 // `,` or the closing bracket of the container
const KEY = 3 // `"` of a key (after `,` in an object)
const FIRST_KEY = 4 // `"` of a key or `}` (just after `{`)
const COLON = 5
const STRING = 6
const NUMBER = 7
const LITERAL = 8
const DONE = 9
const ERROR = 10

type State =
  | typeof VALUE
  | typeof FIRST_VALUE
  | typeof AFTER_VALUE
  | typeof KEY
  | typeof FIRST_KEY
  | typeof COLON
  | typeof STRING
  | typeof NUMBER
  | typeof LITERAL
  | typeof DONE
  | typeof ERROR

interface ArrayFrame {
  readonly array: true
  readonly items: Array<unknown>
}

interface ObjectFrame {
  readonly array: false
  readonly object: Record<string, unknown>
  /** The key whose value is being read (set once the key is complete). */
  key: string | undefined
}

type Frame = ArrayFrame | ObjectFrame

const numberPattern = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

const literals: ReadonlyArray<readonly [string, unknown]> = [["true", true], ["false", false], ["null", null]]

const escapes: Readonly<Record<string, string>> = {
  "\"": "\"",
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t"
}

/** Set a key as `JSON.parse` does (an own `__proto__` property stays data, not a prototype). */
const setKey = (object: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true })
  } else {
    object[key] = value
  }
}

const copyObject = (object: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(object)) setKey(out, key, object[key])
  return out
}

const isWhitespace = (code: number): boolean => code === 32 || code === 10 || code === 13 || code === 9

const describe = (char: string): string => JSON.stringify(char)

/**
 * The incremental parser of one JSON text.
 */
export class Parser {
  private state: State = VALUE
  private readonly stack: Array<Frame> = []
  /** The completed top-level value. */
  private root: unknown = NONE
  /** The string being read (a key or a value), without the run not yet copied. */
  private buffer = ""
  private isKey = false
  /** 0: no escape; 1: after `\`; 2…5: reading the hex digits of `\u`. */
  private escape = 0
  private hex = ""
  private literal = ""
  private literalValue: unknown = null
  private literalPos = 0
  private position = 0
  private rev = 0
  private cacheRev = -1
  private cache: unknown = undefined
  private failure: string | undefined = undefined
  private ended = false

  /** Increases each time `value` changes. */
  get revision(): number {
    return this.rev
  }

  /** The top-level value is complete: `value` is what `JSON.parse` gives for it. */
  get complete(): boolean {
    return this.root !== NONE
  }

  /** Why the text is not JSON (set once; later text is ignored). */
  get error(): string | undefined {
    return this.failure
  }

  /** How many characters were consumed (where the parser stopped on an error). */
  get consumed(): number {
    return this.position
  }

  /** The best-effort value of the text so far (`undefined` before any value started). */
  get value(): unknown {
    if (this.root !== NONE) return this.root
    if (this.cacheRev === this.rev) return this.cache
    this.cache = this.snapshot()
    this.cacheRev = this.rev
    return this.cache
  }

  /** Feed more text. */
  push(chunk: string): void {
    if (this.failure !== undefined || this.ended) return
    const length = chunk.length
    let i = 0
    while (i < length) {
      const state: State = this.state
      if (state === STRING) {
        i = this.readString(chunk, i)
        continue
      }
      if (this.failure !== undefined) break
      const code = chunk.charCodeAt(i)
      if (state === NUMBER) {
        // digits, sign, dot and exponent continue a number; anything else ends it
        if ((code >= 48 && code <= 57) || code === 45 || code === 43 || code === 46 || code === 101 || code === 69) {
          const start = i
          i++
          while (i < length) {
            const c = chunk.charCodeAt(i)
            if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69) i++
            else break
          }
          this.buffer += chunk.slice(start, i)
          continue
        }
        if (!this.endNumber(i)) break
        continue // the character is read again in the new state
      }
      if (state === LITERAL) {
        const expected = this.literal.charCodeAt(this.literalPos)
        if (code !== expected) {
          this.fail(`invalid literal: expected ${describe(this.literal[this.literalPos]!)}`, i, chunk[i])
          break
        }
        i++
        this.literalPos++
        if (this.literalPos === this.literal.length) this.emit(this.literalValue, true)
        continue
      }
      if (isWhitespace(code)) {
        i++
        continue
      }
      const char = chunk[i]!
      switch (state) {
        case VALUE:
        case FIRST_VALUE: {
          if (code === 93 && state === FIRST_VALUE) { // ]
            this.close(i)
          } else {
            this.startValue(code, char, i)
          }
          break
        }
        case AFTER_VALUE: {
          const frame = this.stack[this.stack.length - 1]!
          if (code === 44) { // ,
            this.state = frame.array ? VALUE : KEY
          } else if (code === (frame.array ? 93 : 125)) {
            this.close(i)
          } else {
            this.fail(
              `expected "," or "${frame.array ? "]" : "}"}" after ${
                frame.array ? "an array item" : "a property value"
              }`,
              i,
              char
            )
          }
          break
        }
        case KEY:
        case FIRST_KEY: {
          if (code === 34) { // "
            this.state = STRING
            this.isKey = true
            this.buffer = ""
          } else if (code === 125 && state === FIRST_KEY) { // }
            this.close(i)
          } else {
            this.fail("expected a property name in double quotes", i, char)
          }
          break
        }
        case COLON: {
          if (code === 58) this.state = VALUE
          else this.fail("expected \":\" after a property name", i, char)
          break
        }
        case DONE: {
          this.fail("unexpected text after the JSON value", i, char)
          break
        }
      }
      if (this.failure !== undefined) break
      i++
    }
    if (this.failure === undefined) this.position += length
  }

  /**
   * The end of the text: a number at the top level is complete now. Sets `error` when the
   * value is incomplete.
   */
  end(): void {
    if (this.ended || this.state === ERROR) return
    if (this.state === NUMBER && this.stack.length === 0) this.endNumber(0)
    this.ended = true
    if (this.root === NONE && this.failure === undefined) {
      this.failure = this.state === VALUE && this.stack.length === 0
        ? "no JSON value"
        : `the JSON text ended early (${this.openDescription()})`
    }
  }

  private openDescription(): string {
    if (this.state === STRING) return "unterminated string"
    const frame = this.stack[this.stack.length - 1]
    return frame === undefined ? "incomplete value" : frame.array ? "unclosed array" : "unclosed object"
  }

  private fail(message: string, index: number, char?: string): void {
    const at = this.position + index
    this.failure = `${message}${char !== undefined ? `, got ${describe(char)}` : ""} at character ${at}`
    this.position = at
    this.state = ERROR
  }

  private startValue(code: number, char: string, i: number): void {
    switch (code) {
      case 123: // {
        this.stack.push({ array: false, object: {}, key: undefined })
        this.state = FIRST_KEY
        this.rev++
        return
      case 91: // [
        this.stack.push({ array: true, items: [] })
        this.state = FIRST_VALUE
        this.rev++
        return
      case 34: // "
        this.state = STRING
        this.isKey = false
        this.buffer = ""
        this.rev++
        return
      case 116: // t
      case 102: // f
      case 110: { // n
        const [word, value] = literals[code === 116 ? 0 : code === 102 ? 1 : 2]!
        this.state = LITERAL
        this.literal = word
        this.literalValue = value
        this.literalPos = 1
        return
      }
      default:
        if (code === 45 || (code >= 48 && code <= 57)) {
          this.state = NUMBER
          this.buffer = char
          return
        }
        this.fail("expected a JSON value", i, char)
    }
  }

  /** End the number in `buffer`; `false` when it is not a valid number. */
  private endNumber(i: number): boolean {
    const text = this.buffer
    this.buffer = ""
    if (!numberPattern.test(text)) {
      this.fail(`invalid number ${describe(text)}`, i)
      return false
    }
    this.emit(Number(text), true)
    return true
  }

  /** Read string characters from `i`; returns where reading stopped. */
  private readString(chunk: string, i: number): number {
    const length = chunk.length
    let start = i
    while (i < length) {
      if (this.escape !== 0) {
        const char = chunk[i]!
        if (this.escape === 1) {
          if (char === "u") {
            this.escape = 2
            this.hex = ""
          } else {
            const replacement = escapes[char]
            if (replacement === undefined) {
              this.fail(`invalid escape "\\${char}" in a string`, i)
              return length
            }
            this.append(replacement)
            this.escape = 0
          }
        } else {
          const code = chunk.charCodeAt(i)
          const isHex = (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102)
          if (!isHex) {
            this.fail("invalid \\u escape in a string", i, char)
            return length
          }
          this.hex += char
          if (this.hex.length === 4) {
            this.append(String.fromCharCode(parseInt(this.hex, 16)))
            this.escape = 0
          }
        }
        i++
        start = i
        continue
      }
      const code = chunk.charCodeAt(i)
      if (code === 34) { // "
        if (i > start) this.append(chunk.slice(start, i))
        this.endString()
        return i + 1
      }
      if (code === 92) { // \
        if (i > start) this.append(chunk.slice(start, i))
        this.escape = 1
        i++
        start = i
        continue
      }
      if (code < 32) {
        if (i > start) this.append(chunk.slice(start, i))
        this.fail("unescaped control character in a string", i)
        return length
      }
      i++
    }
    if (i > start) this.append(chunk.slice(start, i))
    return i
  }

  private append(text: string): void {
    this.buffer += text
    if (!this.isKey) this.rev++
  }

  private endString(): void {
    const text = this.buffer
    this.buffer = ""
    if (this.isKey) {
      const frame = this.stack[this.stack.length - 1] as ObjectFrame
      frame.key = text
      this.state = COLON
    } else {
      this.emit(text, false)
    }
  }

  /** A value is complete: add it to its container (or make it the top-level value). */
  private emit(value: unknown, changes: boolean): void {
    if (changes) this.rev++
    const frame = this.stack[this.stack.length - 1]
    if (frame === undefined) {
      this.root = value
      this.state = DONE
      return
    }
    if (frame.array) {
      frame.items.push(value)
    } else {
      setKey(frame.object, frame.key!, value)
      frame.key = undefined
    }
    this.state = AFTER_VALUE
  }

  private close(_i: number): void {
    const frame = this.stack.pop()!
    this.emit(frame.array ? frame.items : frame.object, false)
  }

  /** Copies of the open containers, innermost first, each holding the next one. */
  private snapshot(): unknown {
    let child: unknown = this.state === STRING && !this.isKey ? this.buffer : NONE
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const frame = this.stack[i]!
      if (frame.array) {
        const items = frame.items.slice()
        if (child !== NONE) items.push(child)
        child = items
      } else {
        const object = copyObject(frame.object)
        if (child !== NONE && frame.key !== undefined) setKey(object, frame.key, child)
        child = object
      }
    }
    return child === NONE ? undefined : child
  }
}

/**
 * The best-effort value of a (possibly incomplete) JSON text.
 */
export const parsePartial = (text: string): unknown => {
  const parser = new Parser()
  parser.push(text)
  return parser.value
}

/**
 * Parse a whole JSON text; `complete` is false when it ended early or is not JSON.
 */
export const parseComplete = (
  text: string
): { readonly complete: boolean; readonly value: unknown; readonly error: string | undefined } => {
  const parser = new Parser()
  parser.push(text)
  parser.end()
  return { complete: parser.complete && parser.error === undefined, value: parser.value, error: parser.error }
}

/**
 * Does `next` extend `previous`? The order on partial values: `undefined` is extended by
 * anything; a string by any string it is a prefix of; a number, boolean or `null` only by
 * itself; an array by an array at least as long whose items extend its items; an object
 * by an object with at least its keys whose values extend its values.
 */
export const extendsValue = (previous: unknown, next: unknown): boolean => {
  if (previous === undefined) return true
  if (typeof previous === "string") return typeof next === "string" && next.startsWith(previous)
  if (previous === null || typeof previous !== "object") return Object.is(previous, next)
  if (Array.isArray(previous)) {
    if (!Array.isArray(next) || next.length < previous.length) return false
    for (let i = 0; i < previous.length; i++) {
      if (!extendsValue(previous[i], next[i])) return false
    }
    return true
  }
  if (next === null || typeof next !== "object" || Array.isArray(next)) return false
  const before = previous as Record<string, unknown>
  const after = next as Record<string, unknown>
  for (const key of Object.keys(before)) {
    if (!Object.prototype.hasOwnProperty.call(after, key) || !extendsValue(before[key], after[key])) return false
  }
  return true
}

// -----------------------------------------------------------------------------
// finding JSON in free text
// -----------------------------------------------------------------------------

const fencePattern = /```[\w-]*[^\S\r\n]*\r?\n([\s\S]*?)```/g

/** How many `{` / `[` positions `extract` tries before giving up. */
const maxCandidates = 32

/**
 * Find the JSON value in a model's text: the whole text, else the first Markdown code
 * fence holding JSON, else the first complete JSON object or array starting at a `{` or
 * `[` (leading prose and anything after the value are ignored).
 */
export const extract = (
  text: string
): { readonly _tag: "Found"; readonly value: unknown } | { readonly _tag: "NotFound"; readonly message: string } => {
  const whole = parseComplete(text)
  if (whole.complete) return { _tag: "Found", value: whole.value }
  for (const match of text.matchAll(fencePattern)) {
    const inner = parseComplete(match[1]!)
    if (inner.complete) return { _tag: "Found", value: inner.value }
  }
  let firstError: string | undefined
  let from = 0
  for (let tries = 0; tries < maxCandidates; tries++) {
    const brace = text.indexOf("{", from)
    const bracket = text.indexOf("[", from)
    const start = brace < 0 ? bracket : bracket < 0 ? brace : Math.min(brace, bracket)
    if (start < 0) break
    const parser = new Parser()
    parser.push(start === 0 ? text : text.slice(start))
    if (parser.complete) return { _tag: "Found", value: parser.value }
    const truncated = parser.error === undefined
    parser.end()
    if (firstError === undefined) firstError = parser.error
    // JSON cut off at the end is the answer (a truncated one), not the prose before an inner `{`
    if (truncated) break
    // the next candidate starts after the text this one read (not inside it)
    from = start + Math.max(1, parser.consumed)
  }
  if (text.trim() === "") return { _tag: "NotFound", message: "the output is empty (no JSON value)" }
  return {
    _tag: "NotFound",
    message: firstError === undefined
      ? `the output is not JSON: ${whole.error}`
      : `the output is not valid JSON: ${firstError}`
  }
}

/** How many times a `Locator` starts over after a false start. */
const maxRestarts = 8

/**
 * Finds the JSON in streamed free text and parses it as it arrives: skips leading prose (and
 * the opening line of a Markdown code fence) up to the first `{` or `[`, then feeds a
 * `Parser`; once the value is complete, later text (a closing fence, prose) is ignored. A
 * false start (`{` in prose that is not JSON) makes it start over at the next `{` or `[`
 * (a few times at most) — the one case where successive values do not extend each other.
 */
export class Locator {
  private parser = new Parser()
  private text = ""
  /** Where the current parser started in `text` (-1: not started). */
  private start = -1
  /** Where to look for the next start. */
  private scanned = 0
  private restarts = 0
  private parserRevision = 0
  private rev = 0

  /** Increases each time `value` changes. */
  get revision(): number {
    return this.rev
  }

  /** The best-effort value so far (`undefined` before the JSON started). */
  get value(): unknown {
    return this.start < 0 ? undefined : this.parser.value
  }

  /** The JSON value is complete. */
  get complete(): boolean {
    return this.start >= 0 && this.parser.complete
  }

  /** Feed more text. */
  push(chunk: string): void {
    if (chunk === "") return
    this.text += chunk
    if (this.start >= 0) {
      if (this.parser.complete) return
      this.parser.push(chunk)
      if (this.parser.complete || this.parser.error === undefined || this.restarts >= maxRestarts) {
        return this.sync(false)
      }
      this.restarts++
      this.scanned = this.start + Math.max(1, this.parser.consumed)
      this.start = -1
    }
    this.seek()
  }

  private seek(): void {
    const text = this.text
    let i = this.scanned
    while (i < text.length) {
      const code = text.charCodeAt(i)
      i++
      if (code !== 123 && code !== 91) continue
      const parser = new Parser()
      parser.push(i === 1 ? text : text.slice(i - 1))
      if (parser.error !== undefined && !parser.complete && this.restarts < maxRestarts) {
        this.restarts++
        i += Math.max(0, parser.consumed - 1)
        continue
      }
      this.parser = parser
      this.start = i - 1
      this.scanned = i
      return this.sync(true)
    }
    this.scanned = i
  }

  private sync(replaced: boolean): void {
    if (replaced || this.parser.revision !== this.parserRevision) {
      this.parserRevision = this.parser.revision
      this.rev++
    }
  }
}
