/**
 * The process's standard streams as a service, so that commands write through one place
 * (and tests can capture everything a command prints).
 *
 * - `out` / `err` resolve once the text has been handed to the stream (so a streamed
 *   delta is flushed before the next one is requested, and nothing is lost at exit);
 * - `lines` opens a line reader on stdin: with a prompt and line editing when stdin and
 *   stdout are terminals, plain line splitting when stdin is piped.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Readline from "node:readline"

/** Lines of stdin, one at a time. */
export interface LineReader {
  /** The next line (without its line break), or `None` at end of input (EOF, Ctrl-D, Ctrl-C). */
  readonly next: Effect.Effect<Option.Option<string>>
}

/** The standard streams. */
export interface Service {
  readonly out: (text: string) => Effect.Effect<void>
  readonly err: (text: string) => Effect.Effect<void>
  /** stdin and stdout are both terminals: show prompts, keep going after a failed turn. */
  readonly interactive: boolean
  /** Read stdin line by line; `prompt` is shown before each line when interactive. */
  readonly lines: (prompt: string) => Effect.Effect<LineReader, never, Scope.Scope>
  /** All of stdin as text. */
  readonly readAll: Effect.Effect<string>
}

const write = (stream: NodeJS.WriteStream) => (text: string): Effect.Effect<void> =>
  text === ""
    ? Effect.void
    : Effect.async<void>((resume) => {
      // the callback fires once the data is flushed (or the write failed, e.g. EPIPE)
      stream.write(text, () => resume(Effect.void))
    })

const openLines = (prompt: string): Effect.Effect<LineReader, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true
        const rl = Readline.createInterface({
          input: process.stdin,
          ...(terminal ? { output: process.stdout } : {}),
          terminal,
          prompt,
          crlfDelay: Infinity
        })
        // In raw mode Ctrl-C reaches readline, not the process: end the input and pass the
        // signal on to whoever handles it (the runtime interrupts the program).
        rl.on("SIGINT", () => {
          rl.close()
          if (process.listenerCount("SIGINT") > 0) process.emit("SIGINT", "SIGINT")
        })
        return { rl, iterator: rl[Symbol.asyncIterator](), terminal }
      }),
      ({ rl }) => Effect.sync(() => rl.close())
    ),
    ({ iterator, rl, terminal }): LineReader => ({
      next: Effect.map(
        Effect.promise(() => {
          if (terminal) rl.prompt()
          return iterator.next()
        }),
        (result) => (result.done === true ? Option.none() : Option.some(result.value))
      )
    })
  )

const readAll: Effect.Effect<string> = Effect.promise(async () => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString("utf8")
})

/** The real standard streams. */
export const node = (): Service => ({
  out: write(process.stdout),
  err: write(process.stderr),
  interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
  lines: openLines,
  readAll
})

/** The streams in use (the process's own unless provided). */
export class Io extends Context.Reference<Io>()("@llm-fiber/cli/Io", { defaultValue: node }) {}
