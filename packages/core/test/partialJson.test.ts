// The tolerant incremental JSON parser behind `streamObject`: the meaning of partial values,
// every prefix of recorded real outputs (../shared/fixtures) and of generated JSON, and the
// properties — never throws, the whole text gives `JSON.parse`, successive values extend
// each other.
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { isDeepStrictEqual } from "node:util"
import { sharedDir } from "../../../test-support/shared.js"
import { extendsValue, extract, Locator, parseComplete, parsePartial, Parser } from "../src/internal/partialJson.js"

// located like every fixture test (LLM_FIBER_SHARED, <repo>/../shared, /work/shared)
const fixtures = path.join(sharedDir(), "fixtures", "vercel-ai")

const files = (dir: string, suffix: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The JSON a model wrote in a recorded stream, in its real chunks: text deltas and tool-call
 * argument deltas (Anthropic, OpenAI Chat Completions, Responses; Gemini's whole `args`),
 * grouped per content block / tool call, kept when the whole is a JSON object or array.
 */
const modelOutputs = (): Array<{ readonly name: string; readonly chunks: ReadonlyArray<string> }> => {
  const out: Array<{ name: string; chunks: Array<string> }> = []
  for (const file of files(fixtures, ".chunks.txt")) {
    const streams = new Map<string, Array<string>>()
    const add = (key: string, piece: unknown) => {
      if (typeof piece !== "string" || piece === "") return
      const list = streams.get(key) ?? []
      list.push(piece)
      streams.set(key, list)
    }
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      let event: unknown
      try {
        event = JSON.parse(line)
      } catch {
        continue
      }
      if (!isRecord(event)) continue
      // Anthropic
      if (event.type === "content_block_delta" && isRecord(event.delta)) {
        add(`block${String(event.index)}`, event.delta.partial_json ?? event.delta.text)
      }
      // Responses
      if (event.type === "response.output_text.delta" || event.type === "response.function_call_arguments.delta") {
        add(`item${String(event.item_id)}`, event.delta)
      }
      // Chat Completions
      if (Array.isArray(event.choices)) {
        for (const choice of event.choices) {
          if (!isRecord(choice) || !isRecord(choice.delta)) continue
          add("text", choice.delta.content)
          if (Array.isArray(choice.delta.tool_calls)) {
            for (const call of choice.delta.tool_calls) {
              if (isRecord(call) && isRecord(call.function)) add(`call${String(call.index)}`, call.function.arguments)
            }
          }
        }
      }
      // Gemini: whole arguments per function call
      if (Array.isArray(event.candidates)) {
        for (const candidate of event.candidates) {
          const parts = isRecord(candidate) && isRecord(candidate.content) ? candidate.content.parts : undefined
          if (!Array.isArray(parts)) continue
          for (const part of parts) {
            if (isRecord(part) && isRecord(part.functionCall)) {
              add(`fn${streams.size}`, JSON.stringify(part.functionCall.args ?? {}))
            }
          }
        }
      }
    }
    for (const [key, chunks] of streams) {
      const whole = chunks.join("")
      try {
        const value: unknown = JSON.parse(whole)
        if (typeof value === "object" && value !== null) {
          out.push({ name: `${path.relative(fixtures, file)}#${key}`, chunks })
        }
      } catch {
        // prose, not JSON
      }
    }
  }
  return out
}

/** Feed chunks; the value after each one. Checks the monotone order as it goes. */
const feed = (chunks: ReadonlyArray<string>): { readonly values: Array<unknown>; readonly parser: Parser } => {
  const parser = new Parser()
  const values: Array<unknown> = []
  let previous: unknown = undefined
  for (const chunk of chunks) {
    parser.push(chunk)
    const value = parser.value
    if (!extendsValue(previous, value)) {
      throw new Error(
        `not monotone after ${JSON.stringify(chunk)}: ${JSON.stringify(previous)} → ${JSON.stringify(value)}`
      )
    }
    values.push(value)
    previous = value
  }
  parser.end()
  return { values, parser }
}

/**
 * One character at a time, reading the value after each; each value also equals a fresh
 * parse of that prefix (when `fresh`). The order is checked between successive values — on
 * long texts between every `step`-th one (it is transitive; checking each pair would make
 * the test, not the parser, quadratic).
 */
const everyPrefix = (text: string, fresh: boolean): void => {
  const parser = new Parser()
  const step = Math.max(1, Math.ceil(text.length / 400))
  let previous: unknown = undefined
  for (let i = 0; i < text.length; i++) {
    parser.push(text[i]!)
    const value = parser.value
    if (i % step === 0 || i === text.length - 1) {
      if (!extendsValue(previous, value)) {
        throw new Error(`not monotone at ${i}: ${JSON.stringify(previous)} → ${JSON.stringify(value)}`)
      }
      previous = value
    }
    if (fresh && !isDeepStrictEqual(parsePartial(text.slice(0, i + 1)), value)) {
      throw new Error(`prefix ${i}: a fresh parse differs from the incremental one`)
    }
  }
  parser.end()
  expect(parser.error).toBeUndefined()
  expect(parser.value).toStrictEqual(JSON.parse(text))
}

describe("partial values", () => {
  it.each([
    ["", undefined],
    ["  ", undefined],
    ["{", {}],
    ["{\"na", {}],
    ["{\"name\"", {}],
    ["{\"name\":", {}],
    ["{\"name\": \"", { name: "" }],
    ["{\"name\": \"Ada Lo", { name: "Ada Lo" }],
    ["{\"name\": \"Ada\\", { name: "Ada" }],
    ["{\"name\": \"Ada\\u00", { name: "Ada" }],
    ["{\"name\": \"Ada\\u00e9", { name: "Adaé" }],
    ["{\"name\": \"Ada\\n", { name: "Ada\n" }],
    ["{\"age\": 3", {}],
    ["{\"age\": 36", {}],
    ["{\"age\": 36,", { age: 36 }],
    ["{\"age\": 36 ", { age: 36 }],
    ["{\"age\": 36}", { age: 36 }],
    ["{\"ok\": tr", {}],
    ["{\"ok\": true", { ok: true }],
    ["{\"x\": nul", {}],
    ["{\"x\": null", { x: null }],
    ["[", []],
    ["[1", []],
    ["[1, 2", [1]],
    ["[1, 2]", [1, 2]],
    ["[{\"a\": [\"b", [{ a: ["b"] }]],
    ["[[[", [[[]]]],
    ["\"abc", "abc"],
    ["42", undefined],
    ["-", undefined],
    ["{\"a\": {\"b\": {\"c\": -1.5e", { a: { b: {} } }]
  ])("%j reads %j", (text, expected) => {
    expect(parsePartial(text)).toStrictEqual(expected)
  })

  it("a top-level number is complete at end()", () => {
    expect(parseComplete("42")).toStrictEqual({ complete: true, value: 42, error: undefined })
    expect(parseComplete("-0.5e2 ")).toStrictEqual({ complete: true, value: -50, error: undefined })
  })

  it("an own __proto__ key stays a data property, as with JSON.parse", () => {
    const text = "{\"__proto__\": {\"polluted\": true}, \"a\": 1}"
    const { value } = parseComplete(text)
    expect(value).toStrictEqual(JSON.parse(text))
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value as object)).toStrictEqual(["__proto__", "a"])
    const partial = parsePartial("{\"__proto__\": {\"x\": \"y")
    expect(Object.getPrototypeOf(partial)).toBe(Object.prototype)
    expect(Object.keys(partial as object)).toStrictEqual(["__proto__"])
  })

  it("bad input: no throw, an error with the position, the last good value kept", () => {
    const parser = new Parser()
    parser.push("{\"a\": [1, 2], \"b\": ")
    parser.push("tru")
    parser.push("x, \"c\": 3}")
    expect(parser.error).toBe("invalid literal: expected \"e\", got \"x\" at character 22")
    expect(parser.value).toStrictEqual({ a: [1, 2] })
    parser.push("more")
    expect(parser.value).toStrictEqual({ a: [1, 2] })
    for (
      const [text, error] of [
        ["{a: 1}", "expected a property name in double quotes, got \"a\" at character 1"],
        ["[1 2]", "expected \",\" or \"]\" after an array item, got \"2\" at character 3"],
        ["[01]", "invalid number \"01\" at character 3"],
        ["\"a\tb\"", "unescaped control character in a string at character 2"],
        ["\"\\x\"", "invalid escape \"\\x\" in a string at character 2"],
        ["{} {}", "unexpected text after the JSON value, got \"{\" at character 3"],
        ["[1,", "the JSON text ended early (unclosed array)"],
        ["\"abc", "the JSON text ended early (unterminated string)"],
        ["", "no JSON value"]
      ] as const
    ) {
      expect(parseComplete(text).error).toBe(error)
      expect(parseComplete(text).complete).toBe(false)
    }
  })

  it("the value is cached until it changes; completed parts are shared, not copied", () => {
    const parser = new Parser()
    parser.push("{\"done\": {\"x\": 1}, \"open\": [\"a")
    const first = parser.value as { done: unknown; open: Array<string> }
    expect(parser.value).toBe(first)
    const revision = parser.revision
    parser.push(" ") // inside the string: a change
    expect(parser.revision).toBeGreaterThan(revision)
    parser.push("\",") // closes the string: no change
    const second = parser.value as { done: unknown; open: Array<string> }
    expect(second).toStrictEqual({ done: { x: 1 }, open: ["a "] })
    expect(second.done).toBe(first.done)
    const unchanged = parser.revision
    parser.push("  \n 1") // whitespace and an unfinished number: no change
    expect(parser.revision).toBe(unchanged)
    expect(first).toStrictEqual({ done: { x: 1 }, open: ["a"] }) // earlier values are never mutated
  })
})

describe("recorded real outputs", () => {
  const outputs = modelOutputs()

  it("has model-written JSON in the fixtures (Anthropic JSON tool and output format, tool arguments)", () => {
    const names = outputs.map((o) => o.name)
    expect(names.some((n) => n.startsWith("anthropic/anthropic-json-tool.1"))).toBe(true)
    expect(names.some((n) => n.startsWith("anthropic/anthropic-json-output-format.1"))).toBe(true)
    expect(outputs.length).toBeGreaterThanOrEqual(10)
  })

  it("fed in their recorded chunks: every value extends the previous, the whole gives JSON.parse", () => {
    for (const output of outputs) {
      const { parser, values } = feed(output.chunks)
      expect(parser.error, output.name).toBeUndefined()
      expect(values.at(-1), output.name).toStrictEqual(JSON.parse(output.chunks.join("")))
    }
  })

  it("every prefix of every model output equals a fresh parse of it, and extends the previous one", () => {
    for (const output of outputs) everyPrefix(output.chunks.join(""), true)
  })

  it("every prefix of every recorded response body (JSON documents up to 430 kB in all)", () => {
    const bodies = files(fixtures, ".json")
    expect(bodies.length).toBeGreaterThan(50)
    for (const file of bodies) {
      const text = fs.readFileSync(file, "utf8")
      everyPrefix(text, text.length <= 4_000)
    }
  })

  it("each recorded SSE payload line, one character at a time", () => {
    let lines = 0
    for (const file of files(fixtures, ".chunks.txt")) {
      for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        try {
          JSON.parse(line)
        } catch {
          continue // a deliberately broken payload (fault fixtures)
        }
        everyPrefix(line, false)
        lines++
      }
    }
    expect(lines).toBeGreaterThan(1000)
  })
})

describe("properties (fast-check)", () => {
  const texts = fc.tuple(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(undefined, 2, "\t")).map(([value, indent]) =>
    JSON.stringify(value, null, indent)
  )

  it("any prefix of any JSON text: never throws; the values extend each other; the whole gives JSON.parse", () => {
    fc.assert(
      fc.property(texts, (text) => {
        everyPrefix(text, text.length <= 400)
      }),
      { numRuns: 300 }
    )
  })

  it("any chunking gives, at each chunk boundary, the value of that prefix", () => {
    fc.assert(
      fc.property(texts, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
        const chunks: Array<string> = []
        let from = 0
        for (const point of [...points, text.length]) {
          chunks.push(text.slice(from, point))
          from = point
        }
        const { parser, values } = feed(chunks)
        let offset = 0
        chunks.forEach((chunk, i) => {
          offset += chunk.length
          expect(values[i]).toStrictEqual(parsePartial(text.slice(0, offset)))
        })
        expect(parser.value).toStrictEqual(JSON.parse(text))
      }),
      { numRuns: 300 }
    )
  })

  it("arbitrary text never throws, and is complete only when JSON.parse accepts it", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(..."{}[]\",:0123456789.eE+-tfnrul \\") })), (
        text
      ) => {
        const result = parseComplete(text)
        let parsed: { value: unknown } | undefined
        try {
          parsed = { value: JSON.parse(text) }
        } catch {
          parsed = undefined
        }
        expect(result.complete).toBe(parsed !== undefined)
        if (parsed !== undefined) expect(result.value).toStrictEqual(parsed.value)
        else expect(typeof result.error).toBe("string")
      }),
      { numRuns: 2000 }
    )
  })
})

describe("extract (JSON in a model's text)", () => {
  it.each([
    ["{\"a\": 1}", { a: 1 }],
    ["  [1, 2]\n", [1, 2]],
    ["\"just a string\"", "just a string"],
    ["```json\n{\"a\": 1}\n```", { a: 1 }],
    ["Here you go:\n\n```json\n{\"a\": [1, 2]}\n```\nAnything else?", { a: [1, 2] }],
    ["```\n[true]\n```", [true]],
    ["Sure! The answer is {\"a\": 1} as requested.", { a: 1 }],
    ["Use {curly braces} for objects: {\"ok\": true}", { ok: true }],
    ["Result: [not json] then {\"x\": \"}\"}", { x: "}" }],
    ["{\"a\": 1}\n{\"b\": 2}", { a: 1 }]
  ])("%j", (text, expected) => {
    expect(extract(text)).toStrictEqual({ _tag: "Found", value: expected })
  })

  it("says why when there is no JSON", () => {
    expect(extract("")).toStrictEqual({ _tag: "NotFound", message: "the output is empty (no JSON value)" })
    expect(extract("I cannot help with that.")).toStrictEqual({
      _tag: "NotFound",
      message: "the output is not JSON: expected a JSON value, got \"I\" at character 0"
    })
    expect(extract("{\"name\": \"Ada\", \"age\": }")).toStrictEqual({
      _tag: "NotFound",
      message: "the output is not valid JSON: expected a JSON value, got \"}\" at character 23"
    })
  })
})

describe("Locator (JSON in streamed text)", () => {
  it("skips prose and the fence line, parses as text arrives, ignores what follows the value", () => {
    const locator = new Locator()
    const seen: Array<unknown> = []
    let revision = locator.revision
    for (
      const chunk of ["Here it is", ":\n``", "`json\n{\"na", "me\": \"Ada", "\", \"tags\": [\"x\"", "]}\n``", "` Bye {"]
    ) {
      locator.push(chunk)
      if (locator.revision !== revision) {
        revision = locator.revision
        seen.push(locator.value)
      }
    }
    expect(seen).toStrictEqual([{}, { name: "Ada" }, { name: "Ada", tags: ["x"] }])
    expect(locator.complete).toBe(true)
    expect(locator.value).toStrictEqual({ name: "Ada", tags: ["x"] })
  })

  it("starts over after a false start in prose", () => {
    const locator = new Locator()
    locator.push("Objects look like {this")
    expect(locator.value).toStrictEqual(undefined)
    locator.push("} or [like] that: {\"a\": [1")
    locator.push(", 2]}")
    expect(locator.complete).toBe(true)
    expect(locator.value).toStrictEqual({ a: [1, 2] })
    // the false start is only seen in a later chunk
    const later = new Locator()
    later.push("Use {")
    expect(later.value).toStrictEqual({})
    later.push("curly} braces: {\"a\": ")
    later.push("true}")
    expect([later.complete, later.value]).toStrictEqual([true, { a: true }])
  })
})
