/**
 * `--mcp "COMMAND ARGS"` (repeatable) and `--max-steps N`: MCP servers started over stdio,
 * their tools given to the model through the tool loop (`ToolLoop`).
 *
 * - The command lines are split while the command line is parsed (`Mcp.stdioCommand`: words,
 *   quotes, backslash escapes; no shell runs them): an empty line or an unterminated quote
 *   is a usage error. `@llm-fiber/mcp` (and the MCP SDK) are imported only when `--mcp` is
 *   given.
 * - The servers are started when the command runs, concurrently, and stopped when it ends
 *   (a `chat` keeps them for the whole conversation). A server inherits only a few
 *   environment variables (`PATH`, `HOME`, …) — never the API keys.
 * - Each server is named after its command (`server-memory` for
 *   `npx -y @modelcontextprotocol/server-memory`), as errors show it.
 * - `--verbose` prints every tool call and its result (shortened) on stderr.
 */
import {
  type ChatRequest,
  type ChatResult,
  type LlmError,
  type Message,
  StreamEvent,
  type Tool,
  Toolkit,
  type ToolLoop,
  Usage
} from "@llm-fiber/core"
import type * as Mcp from "@llm-fiber/mcp/Mcp"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Concerns from "./concerns.js"

/** The default of `--max-steps`. */
export const defaultMaxSteps = 8

/** One `--mcp` server: its name and how to start it. */
export interface ServerSpec {
  readonly name: string
  readonly transport: Mcp.StdioTransport
}

const loadMcp = Concerns.importOptional("@llm-fiber/mcp", "--mcp", () => import("@llm-fiber/mcp"))

/** Programs that run a server named by their first argument. */
const runners: ReadonlySet<string> = new Set([
  "node",
  "nodejs",
  "npx",
  "bunx",
  "bun",
  "deno",
  "uvx",
  "uv",
  "pipx",
  "python",
  "python3",
  "pnpm",
  "pnpx",
  "npm",
  "yarn",
  "docker",
  "podman"
])

/** Folders that say nothing about what a script is (`…/server-everything/dist/index.js`). */
const plainFolders: ReadonlySet<string> = new Set(["dist", "build", "lib", "src", "bin", "out", "esm", "cjs"])

/** The short name of a word: a package without scope and version, a script by its file or folder. */
const shortName = (word: string): string => {
  const unversioned = word.replace(/(.)@[^/@]*$/, "$1")
  const parts = unversioned.split(/[\\/]/).filter((part) => part !== "" && part !== "." && part !== "..")
  let name = (parts.pop() ?? "").replace(/\.(m?[jt]s|cjs|py|exe)$/i, "")
  if (/^(index|main|server|cli)$/i.test(name)) {
    let folder = parts.pop()
    while (folder !== undefined && plainFolders.has(folder.toLowerCase())) folder = parts.pop()
    if (folder !== undefined && !folder.startsWith("@")) name = folder
  }
  return name
}

/** A short name for a server: the package or program it runs. */
const nameOf = (transport: Mcp.StdioTransport): string => {
  const program = shortName(transport.command)
  if (!runners.has(program.toLowerCase())) return program || "mcp"
  const subject = (transport.args ?? []).find((arg) => !arg.startsWith("-") && !["run", "exec", "x"].includes(arg))
  return (subject === undefined ? "" : shortName(subject)) || program
}

/**
 * Split the `--mcp` command lines into servers (names made unique: `memory`, `memory-2`);
 * the error is the usage message.
 */
export const parseCommands = (
  lines: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<ServerSpec>, string> =>
  lines.length === 0 ? Effect.succeed([]) : Effect.gen(function*() {
    const { Mcp } = yield* Effect.mapError(loadMcp, (error) => error.message)
    const specs: Array<ServerSpec> = []
    const used = new Map<string, number>()
    for (const line of lines) {
      const parsed = Mcp.stdioCommand(line)
      if (parsed._tag === "Left") {
        return yield* Effect.fail(`--mcp: ${parsed.left.message.replace(/^MCP server "[^"]*": /, "")}`)
      }
      const base = nameOf(parsed.right)
      const count = (used.get(base) ?? 0) + 1
      used.set(base, count)
      specs.push({ name: count === 1 ? base : `${base}-${count}`, transport: parsed.right })
    }
    return specs
  })

/**
 * Start the servers (for the lifetime of the scope) and merge their tools into one
 * toolkit. Fails when one cannot start, or when two offer a tool of the same name.
 */
export const connect = (
  specs: ReadonlyArray<ServerSpec>
): Effect.Effect<Toolkit.Toolkit, Mcp.McpError | Concerns.MissingPackageError, Scope.Scope> =>
  Effect.gen(function*() {
    const { Mcp } = yield* loadMcp
    const servers = yield* Effect.forEach(
      specs,
      (spec) => Mcp.connect({ name: spec.name, transport: spec.transport, timeoutMs: 30_000 }),
      { concurrency: "unbounded" }
    )
    return yield* Mcp.mergeToolkits(servers)
  })

// -----------------------------------------------------------------------------
// printing
// -----------------------------------------------------------------------------

const shorten = (text: string, max: number): string => {
  const line = text.replace(/\s*[\r\n]+\s*/g, " ").trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

const render = (value: unknown): string => {
  if (typeof value === "string") return value
  try {
    return JSON.stringify(value) ?? "null"
  } catch {
    return String(value)
  }
}

/** The `--verbose` line of a tool call. */
export const callLine = (name: string, args: unknown): string =>
  `llm-fiber: tool ${name} ${shorten(render(args), 300)}\n`

/** The `--verbose` line of a tool result. */
export const resultLine = (name: string, outcome: string, result: unknown): string =>
  outcome === "success"
    ? `llm-fiber: tool ${name} → ${shorten(render(result), 500)}\n`
    : `llm-fiber: tool ${name} ${outcome}: ${shorten(render(result), 500)}\n`

/**
 * The toolkit with each handler announcing its call and its result through `print` (for
 * `ask`, whose loop runs with `ToolLoop.run` and has no events).
 */
export const traced = <R>(
  toolkit: Toolkit.Toolkit<R>,
  print: (line: string) => Effect.Effect<void>
): Toolkit.Toolkit<R> =>
  Toolkit.make(...toolkit.tools.map((tool): Tool.Any => ({
    ...tool,
    handler: (params: never) =>
      Effect.zipRight(
        print(callLine(tool.name, params)),
        tool.handler(params).pipe(
          Effect.tapBoth({
            onFailure: (error: LlmError.ToolError) => print(resultLine(tool.name, "tool_error", error.message)),
            onSuccess: (value) => print(resultLine(tool.name, "success", value))
          })
        )
      )
  }))) as Toolkit.Toolkit<R>

// -----------------------------------------------------------------------------
// a loop's stream, folded
// -----------------------------------------------------------------------------

/**
 * Folds the events of `ToolLoop.stream` into what a conversation keeps: every step's
 * assistant message and the tool message answering its calls, and the last step's result.
 */
export class Transcript {
  private acc: StreamEvent.Accumulator | undefined = undefined
  private results: Array<ToolLoop.ToolResultEvent> = []
  private last: ChatResult.ChatResult | undefined = undefined
  /** The messages of the finished steps (assistant, tool, assistant, …). */
  readonly messages: Array<Message.Message> = []
  /** Steps started. */
  steps = 0
  /** Usage over the steps (those answered by the response cache spent nothing). */
  usage: Usage.Usage = Usage.empty
  /** Cost over the priced steps. */
  cost: Usage.Cost | undefined = undefined

  push(event: ToolLoop.Event): void {
    switch (event._tag) {
      case "StepStart":
        this.close()
        this.steps = event.step
        this.acc = new StreamEvent.Accumulator()
        break
      case "ToolResult":
        this.closeModel()
        this.results.push(event)
        break
      default:
        this.acc?.push(event)
    }
  }

  /** End the step's model part: its assistant message. */
  private closeModel(timing: ChatResult.Timing = { latencyMs: 0 }): void {
    if (this.acc === undefined) return
    const result = this.acc.result(timing)
    this.last = result
    this.messages.push(result.message)
    this.acc = undefined
    if (result.fromCache === true) return
    this.usage = Usage.add(this.usage, result.usage)
    if (result.cost !== undefined) {
      this.cost = this.cost === undefined ? result.cost : {
        inputUsd: this.cost.inputUsd + result.cost.inputUsd,
        outputUsd: this.cost.outputUsd + result.cost.outputUsd,
        totalUsd: this.cost.totalUsd + result.cost.totalUsd
      }
    }
  }

  /** End the step: its assistant message, then the tool message of its results. */
  private close(timing?: ChatResult.Timing): void {
    this.closeModel(timing)
    if (this.results.length === 0) return
    this.messages.push({
      role: "tool",
      content: this.results.map((r) => ({
        type: "tool-result" as const,
        toolCallId: r.id,
        name: r.name,
        result: r.result,
        ...(r.isError ? { isError: true } : {})
      }))
    })
    this.results = []
  }

  /** Close the last step; the last model result (with `timing`, when its step was still open). */
  finish(timing: ChatResult.Timing): ChatResult.ChatResult | undefined {
    this.close(timing)
    return this.last
  }
}

/** The options of a loop from a request, its toolkit and `--max-steps`. */
export const loopOptions = <R>(
  request: ChatRequest.Input,
  toolkit: Toolkit.Toolkit<R>,
  maxSteps: number
): ToolLoop.Options<R> => ({
  ...request,
  toolkit,
  maxSteps,
  // a CLI user should know the loop was cut short, not get an empty answer
  onMaxSteps: "fail"
})
