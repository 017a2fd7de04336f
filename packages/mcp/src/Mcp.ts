/**
 * An MCP (Model Context Protocol) client: tools, resources and prompts of MCP servers as
 * typed Effects, and a server's tools as a `Toolkit` the model can call.
 *
 * - `connect(options)`: a scoped connection to one server — a command run over stdio
 *   (`stdio(...)`) or a Streamable HTTP endpoint (`http(...)`). It connects within
 *   `timeoutMs` (a server that never answers fails with a `Timeout`, it does not hang) and
 *   closes when its scope ends (the stdio child is stopped: stdin closed, then `SIGTERM`,
 *   then `SIGKILL`).
 * - `McpServer`: `listTools`, `callTool`, `toolkit` (every tool as a `Tool.dynamic`),
 *   `listResources` / `readResource`, `listPrompts` / `getPrompt` (as core `Message`s).
 * - `layer([...])`: several servers for the lifetime of a layer, as the `McpClients`
 *   service with one merged toolkit.
 *
 * Failures are `McpError`s (with the server's name and a `reason`); inside a toolkit, a
 * tool result with `isError: true` and any `McpError` become a `ToolError` carrying the
 * server's message.
 *
 * **Server death.** When a stdio server exits (or an HTTP server ends the session), calls
 * in flight fail at once with an `McpError` of reason `Closed`. Later calls fail the same
 * way, fast — unless `reconnect` is on: then the next call starts a new connection first
 * (one attempt per call; after `maxAttempts` failed attempts in a row the server stays
 * failed). A call that was in flight when the server died is never repeated (tools may
 * have side effects).
 *
 * @example
 * ```ts
 * import { Mcp } from "@llm-fiber/mcp"
 * import { Effect } from "effect"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function*() {
 *     const memory = yield* Mcp.connect({
 *       name: "memory",
 *       transport: Mcp.stdio("npx", ["-y", "@modelcontextprotocol/server-memory"])
 *     })
 *     const tools = yield* memory.listTools
 *     const graph = yield* memory.callTool("read_graph", {})
 *     return { tools: tools.map((t) => t.name), graph: graph.structuredContent }
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as LlmError from "@llm-fiber/core/LlmError"
import type * as Message from "@llm-fiber/core/Message"
import * as Tool from "@llm-fiber/core/Tool"
import * as Toolkit from "@llm-fiber/core/Toolkit"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js"
import * as McpTypes from "@modelcontextprotocol/sdk/types.js"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Connection from "./internal/connection.js"
import * as Content from "./internal/content.js"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Run a command and speak MCP over its stdin/stdout.
 *
 * The child inherits only a few environment variables (`HOME`, `LOGNAME`, `PATH`, `SHELL`,
 * `TERM`, `USER` — not your API keys), plus `env`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StdioTransport {
  readonly _tag: "stdio"
  /** The executable (looked up on `PATH`; no shell is involved). */
  readonly command: string
  readonly args?: ReadonlyArray<string> | undefined
  /** Variables added to the few the child inherits. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** The working directory (default: this process's). */
  readonly cwd?: string | undefined
  /**
   * The child's stderr: `capture` (the default) keeps its last 2 KB in memory and quotes
   * the end of it in the error when the server fails to start or exits; `inherit` passes
   * it to this process's stderr; `ignore` drops it.
   */
  readonly stderr?: "capture" | "inherit" | "ignore" | undefined
}

/**
 * Speak MCP over Streamable HTTP to `url` (e.g. `http://127.0.0.1:3001/mcp`).
 *
 * `headers` are sent with every request (give tokens as `Redacted` values); they never
 * appear in errors. The URL is not quoted in errors either (it may carry a key).
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpTransport {
  readonly _tag: "http"
  readonly url: string | URL
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
}

/**
 * How to reach a server.
 *
 * @since 0.1.0
 * @category models
 */
export type Transport = StdioTransport | HttpTransport

/**
 * Options of `connect` (and each server of `layer`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The server's name, used in errors and by `toolPrefix: true`. */
  readonly name: string
  readonly transport: Transport
  /** Deadline for starting and initializing the connection, in ms (default 10 000). */
  readonly timeoutMs?: number | undefined
  /** Deadline for each request (list, call, read, get), in ms (default 60 000). */
  readonly requestTimeoutMs?: number | undefined
  /**
   * Prefix of the tool names in `toolkit`: a string (`"fs_"`), or `true` for the server's
   * name and `_`. Use it when two servers offer tools of the same name.
   */
  readonly toolPrefix?: string | boolean | undefined
  /**
   * Reconnect on the next call after the server died: `true` (at most 3 failed attempts in
   * a row) or `{ maxAttempts }`. Default `false`: a dead server stays failed.
   */
  readonly reconnect?: boolean | { readonly maxAttempts?: number | undefined } | undefined
  /** What this client calls itself in the handshake (default `llm-fiber` `0.1.0`). */
  readonly clientInfo?: { readonly name: string; readonly version: string } | undefined
  /**
   * Which tools go into `toolkit` (by their names on the server): a list — the toolkit
   * follows its order, and connecting fails (reason `Config`) when the server lacks one —
   * or a predicate. Default: every tool. Offer the model only what it needs.
   */
  readonly tools?: ReadonlyArray<string> | ((tool: ToolInfo) => boolean) | undefined
  /**
   * The value a successful tool call gives the model (default `toolResultValue`:
   * `structuredContent` when present, else the text of the content).
   */
  readonly toolResult?: ((result: CallToolResult) => unknown) | undefined
}

/**
 * A tool as the server describes it (the MCP `Tool`).
 *
 * @since 0.1.0
 * @category models
 */
export type ToolInfo = McpTypes.Tool

/**
 * The result of a tool call (the MCP `CallToolResult`): `content`, optional
 * `structuredContent`, and `isError` when the tool failed.
 *
 * @since 0.1.0
 * @category models
 */
export type CallToolResult = McpTypes.CallToolResult

/**
 * A resource the server lists.
 *
 * @since 0.1.0
 * @category models
 */
export type Resource = McpTypes.Resource

/**
 * A resource template (a URI template, RFC 6570).
 *
 * @since 0.1.0
 * @category models
 */
export type ResourceTemplate = McpTypes.ResourceTemplate

/**
 * The contents of a resource (`text` or base64 `blob` per entry).
 *
 * @since 0.1.0
 * @category models
 */
export type ReadResourceResult = McpTypes.ReadResourceResult

/**
 * A prompt (template) the server offers, with its arguments.
 *
 * @since 0.1.0
 * @category models
 */
export type Prompt = McpTypes.Prompt

/**
 * The server's name and version, from the handshake.
 *
 * @since 0.1.0
 * @category models
 */
export type Implementation = McpTypes.Implementation

/**
 * What the server supports (`tools`, `resources`, `prompts`, …), from the handshake.
 *
 * @since 0.1.0
 * @category models
 */
export type ServerCapabilities = McpTypes.ServerCapabilities

/**
 * A prompt filled in: its messages as core `Message`s, and the server's answer as it was.
 *
 * @since 0.1.0
 * @category models
 */
export interface PromptResult {
  readonly description: string | undefined
  readonly messages: ReadonlyArray<Message.Message>
  readonly result: McpTypes.GetPromptResult
}

/**
 * The state of a connection: `connected`, `disconnected` (the server died or the session
 * ended; the next call reconnects when `reconnect` is on) or `closed` (the scope ended).
 *
 * @since 0.1.0
 * @category models
 */
export type Status = "connected" | "disconnected" | "closed"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * Why an MCP operation failed.
 *
 * - `Connect`: the server could not be started or reached, or the handshake failed
 * - `Timeout`: no answer within `timeoutMs` (connect) or `requestTimeoutMs` (a request)
 * - `Closed`: the connection is gone — the server exited, the session ended, the scope
 *   closed, or reconnecting gave up
 * - `Protocol`: the server answered with an error (its JSON-RPC `code` is kept), or with
 *   something that is not valid MCP
 * - `Config`: invalid options (an empty name, two servers of one name, colliding tool names)
 *
 * @since 0.1.0
 * @category models
 */
export const Reason = Schema.Literal("Connect", "Timeout", "Closed", "Protocol", "Config")

/**
 * @since 0.1.0
 * @category models
 */
export type Reason = typeof Reason.Type

/**
 * An MCP operation failed. `message` starts with the server's name; `method` is the MCP
 * method (`tools/call`, `resources/read`, …) and `code` the server's JSON-RPC error code,
 * when known. Never carries HTTP headers.
 *
 * @since 0.1.0
 * @category errors
 */
export class McpError extends Schema.TaggedError<McpError>("@llm-fiber/McpError")("McpError", {
  server: Schema.String,
  reason: Reason,
  message: Schema.String,
  method: Schema.optional(Schema.String),
  code: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * Whether trying again may help (`Timeout`, `Closed` with `reconnect` on, `Connect`).
   *
   * @since 0.1.0
   */
  get retryable(): boolean {
    return this.reason === "Timeout" || this.reason === "Closed" || this.reason === "Connect"
  }
}

const mcpError = (
  server: string,
  reason: Reason,
  detail: string,
  extra?: { readonly method?: string | undefined; readonly code?: number | undefined; readonly cause?: unknown }
): McpError =>
  new McpError({
    server,
    reason,
    message: `MCP server "${server}": ${detail}`,
    ...(extra?.method !== undefined ? { method: extra.method } : {}),
    ...(extra?.code !== undefined ? { code: extra.code } : {}),
    ...(extra?.cause !== undefined ? { cause: extra.cause } : {})
  }, true)

// -----------------------------------------------------------------------------
// the server
// -----------------------------------------------------------------------------

/**
 * A connected MCP server (valid until the scope of `connect` ends).
 *
 * @since 0.1.0
 * @category models
 */
export interface McpServer {
  readonly name: string
  /** The server's name and version, from the first handshake. */
  readonly serverInfo: Implementation
  /** What the server supports, from the first handshake. */
  readonly capabilities: ServerCapabilities
  /** The server's usage instructions for the model, if it sent any. */
  readonly instructions: string | undefined
  /**
   * The server's tools as `Tool.dynamic` tools (as listed at connect time; names prefixed
   * by `toolPrefix` and made safe for providers; tools that only run as tasks left out).
   * Results: `structuredContent`, else the text of the content; `isError` results and
   * failures: a `ToolError` with the server's message.
   */
  readonly toolkit: Toolkit.Toolkit
  /** List the tools again and build a fresh toolkit (after the server's tools changed). */
  readonly loadToolkit: Effect.Effect<Toolkit.Toolkit, McpError>
  /** Every tool (all pages); empty when the server offers no tools. */
  readonly listTools: Effect.Effect<ReadonlyArray<ToolInfo>, McpError>
  /**
   * Call a tool by its server-side name. A result with `isError: true` is a success here
   * (the tool ran and reported an error); protocol failures are `McpError`s.
   */
  readonly callTool: (
    name: string,
    args?: Readonly<Record<string, unknown>> | undefined,
    options?: { readonly timeoutMs?: number | undefined } | undefined
  ) => Effect.Effect<CallToolResult, McpError>
  /** Every resource (all pages); empty when the server offers no resources. */
  readonly listResources: Effect.Effect<ReadonlyArray<Resource>, McpError>
  /** Every resource template (all pages). */
  readonly listResourceTemplates: Effect.Effect<ReadonlyArray<ResourceTemplate>, McpError>
  /** Read one resource. */
  readonly readResource: (uri: string) => Effect.Effect<ReadResourceResult, McpError>
  /** Every prompt (all pages); empty when the server offers no prompts. */
  readonly listPrompts: Effect.Effect<ReadonlyArray<Prompt>, McpError>
  /** Fill in a prompt; its messages come back as core `Message`s. */
  readonly getPrompt: (
    name: string,
    args?: Readonly<Record<string, string>> | undefined
  ) => Effect.Effect<PromptResult, McpError>
  /** The connection's state (`connected`, `disconnected`, `closed`). */
  readonly status: Effect.Effect<Status>
  /** The process id of the stdio server while it is connected. */
  readonly pid: Effect.Effect<Option.Option<number>>
}

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * A stdio transport: run `command` with `args`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const stdio = (
  command: string,
  args?: ReadonlyArray<string>,
  options?: Omit<StdioTransport, "_tag" | "command" | "args">
): StdioTransport => ({ _tag: "stdio", command, ...(args !== undefined ? { args } : {}), ...options })

/**
 * A stdio transport from one command line, as a shell would split it (no shell runs it):
 * words separated by spaces, `'…'` and `"…"` quoting, backslash escapes —
 * `"npx -y @modelcontextprotocol/server-memory"`. Fails (reason `Config`) on an empty line
 * or an unterminated quote. For a `--mcp "COMMAND ARGS"` flag.
 *
 * @since 0.1.0
 * @category constructors
 */
export const stdioCommand = (
  line: string,
  options?: Omit<StdioTransport, "_tag" | "command" | "args">
): Either.Either<StdioTransport, McpError> => {
  const words = Content.splitCommandLine(line)
  // the line is not quoted in errors: its arguments may carry secrets
  if (typeof words === "string") return Either.left(mcpError("(command line)", "Config", words))
  const [command, ...args] = words
  if (command === undefined) return Either.left(mcpError("(command line)", "Config", "the command line is empty"))
  return Either.right(stdio(command, args, options))
}

/**
 * A Streamable HTTP transport to `url`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const http = (url: string | URL, options?: Omit<HttpTransport, "_tag" | "url">): HttpTransport => ({
  _tag: "http",
  url,
  ...options
})

/**
 * The default value of a successful tool call for the model: `structuredContent` when the
 * result has it, else the text of its content blocks joined by newlines (images, audio and
 * binary resources as short placeholders such as `[image image/png]`, never base64).
 *
 * @since 0.1.0
 * @category utils
 */
export const toolResultValue: (result: CallToolResult) => unknown = Content.toolResultValue

/**
 * The text of a result's content blocks, joined by newlines.
 *
 * @since 0.1.0
 * @category utils
 */
export const resultText = (result: CallToolResult): string => Content.contentText(result.content)

/**
 * MCP prompt messages as core `Message`s: text as text, a user's image as an image part,
 * an embedded text resource as its text, anything else as a short placeholder.
 *
 * @since 0.1.0
 * @category utils
 */
export const promptMessages = (result: McpTypes.GetPromptResult): ReadonlyArray<Message.Message> =>
  result.messages.map(Content.promptMessage)

// -----------------------------------------------------------------------------
// connection internals
// -----------------------------------------------------------------------------

const defaultTimeoutMs = 10_000
const defaultRequestTimeoutMs = 60_000
const defaultMaxAttempts = 3
const maxPages = 1_000

/** One page of a list. */
interface Page<T> {
  readonly items: ReadonlyArray<T>
  readonly nextCursor?: string | undefined
}

// -----------------------------------------------------------------------------
// connect
// -----------------------------------------------------------------------------

const checkOptions = (options: Options): McpError | undefined => {
  const name = typeof options.name === "string" ? options.name : ""
  const bad = (detail: string) => mcpError(name, "Config", detail)
  if (name.trim() === "") return bad("options.name must be a non-empty string")
  for (const key of ["timeoutMs", "requestTimeoutMs"] as const) {
    const value = options[key]
    if (value !== undefined && !(typeof value === "number" && value > 0 && Number.isFinite(value))) {
      return bad(`options.${key} must be a positive number of milliseconds`)
    }
  }
  const transport: unknown = options.transport
  if (!Predicate.isRecord(transport) || (transport._tag !== "stdio" && transport._tag !== "http")) {
    return bad(`options.transport must be { _tag: "stdio", command, … } or { _tag: "http", url, … }`)
  }
  if (transport._tag === "stdio" && (typeof transport.command !== "string" || transport.command === "")) {
    return bad("options.transport.command must be a non-empty string")
  }
  if (transport._tag === "http") {
    try {
      const url = typeof transport.url === "string" ? new URL(transport.url) : transport.url
      if (!(url instanceof URL) || (url.protocol !== "http:" && url.protocol !== "https:")) {
        return bad("options.transport.url must be an http: or https: URL")
      }
    } catch {
      return bad("options.transport.url is not a valid URL")
    }
  }
  const reconnect = options.reconnect
  if (Predicate.isRecord(reconnect) && reconnect.maxAttempts !== undefined) {
    const n = reconnect.maxAttempts
    if (!(typeof n === "number" && Number.isInteger(n) && n >= 1)) {
      return bad("options.reconnect.maxAttempts must be a positive integer")
    }
  }
  return undefined
}

/**
 * Connect to an MCP server for the lifetime of the scope: start it (stdio) or reach it
 * (HTTP), initialize within `timeoutMs`, list its tools, and build its `toolkit`. The
 * connection — and the stdio child — is closed when the scope ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (options: Options): Effect.Effect<McpServer, McpError, Scope.Scope> =>
  Effect.gen(function*() {
    const invalid = checkOptions(options)
    if (invalid !== undefined) return yield* invalid
    const name = options.name
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs
    const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs
    const reconnect = options.reconnect === undefined || options.reconnect === false ?
      undefined :
      {
        maxAttempts: options.reconnect === true
          ? defaultMaxAttempts
          : options.reconnect.maxAttempts ?? defaultMaxAttempts
      }
    const clientInfo = options.clientInfo ?? { name: "llm-fiber", version: "0.1.0" }
    const mapResult = options.toolResult ?? Content.toolResultValue
    const prefix = options.toolPrefix === true ? `${Content.safeName(name)}_` : options.toolPrefix || ""
    const what = options.transport._tag === "stdio" ?
      `the server process ("${options.transport.command}")` :
      "the HTTP server"

    const state: {
      live: Connection.Live | undefined
      closed: boolean
      failures: number
      lastError: McpError | undefined
    } = { live: undefined, closed: false, failures: 0, lastError: undefined }
    const lock = yield* Effect.makeSemaphore(1)

    const closedError = (method?: string) =>
      mcpError(name, "Closed", "the connection is closed (its scope has ended)", { method })

    // --- opening one connection --------------------------------------------------------

    const connectError = (live: Connection.Live, cause: unknown): McpError => {
      if (cause instanceof McpTypes.McpError && cause.code === McpTypes.ErrorCode.RequestTimeout) {
        return mcpError(name, "Timeout", `no answer to initialize within ${timeoutMs} ms${Connection.tailText(live)}`, {
          method: "initialize"
        })
      }
      if (!live.alive) {
        return mcpError(name, "Connect", `${what} exited before the handshake completed${Connection.tailText(live)}`, {
          method: "initialize",
          cause
        })
      }
      if (cause instanceof McpTypes.McpError) {
        return mcpError(name, "Connect", `initialize failed: ${Connection.describe(cause)}`, {
          method: "initialize",
          code: cause.code
        })
      }
      const start = options.transport._tag === "stdio" ?
        `could not start "${options.transport.command}"` :
        "could not connect"
      return mcpError(name, "Connect", `${start}: ${Connection.describe(cause)}${Connection.tailText(live)}`, {
        method: "initialize",
        cause
      })
    }

    const open: Effect.Effect<Connection.Live, McpError> = Effect.suspend(() => {
      const made = Connection.makeTransport(options.transport)
      const client = new Client(
        { name: clientInfo.name, version: clientInfo.version },
        { capabilities: {} }
      )
      let onClosed: () => void = () => {}
      const live: Connection.Live = {
        client,
        transport: made.transport,
        pid: undefined,
        alive: true,
        lost: undefined,
        closed: new Promise<void>((resolve) => {
          onClosed = resolve
        }),
        stderrTail: made.stderrTail
      }
      client.onclose = () => {
        if (live.alive) {
          live.alive = false
          live.lost = `${what} exited${Connection.tailText(live)}`
        }
        onClosed()
      }
      // failures surface through the requests; transport noise has no one to tell
      client.onerror = () => {}
      return Effect.tryPromise({
        try: (signal) => client.connect(made.transport, { timeout: timeoutMs, signal }),
        catch: (cause) => connectError(live, cause)
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(timeoutMs),
          onTimeout: () =>
            mcpError(name, "Timeout", `no answer to initialize within ${timeoutMs} ms${Connection.tailText(live)}`, {
              method: "initialize"
            })
        }),
        Effect.onError(() => Connection.shutdown(live)),
        Effect.map(() => {
          if (made.transport instanceof StdioClientTransport) live.pid = made.transport.pid ?? undefined
          return live
        })
      )
    })

    // --- the current connection ----------------------------------------------------------

    const deadError = (method: string): McpError => {
      const lost = state.live?.lost ?? `${what} is gone`
      return mcpError(name, "Closed", `not connected: ${lost}${reconnect === undefined ? " (reconnect is off)" : ""}`, {
        method
      })
    }

    const ensure = (method: string): Effect.Effect<Connection.Live, McpError> =>
      Effect.suspend(() => {
        if (state.closed) return Effect.fail(closedError(method))
        const live = state.live
        if (live !== undefined && live.alive) return Effect.succeed(live)
        if (reconnect === undefined) return Effect.fail(deadError(method))
        return lock.withPermits(1)(Effect.suspend(() => {
          if (state.closed) return Effect.fail(closedError(method))
          const current = state.live
          if (current !== undefined && current.alive) return Effect.succeed(current)
          if (state.failures >= reconnect.maxAttempts) {
            const last = state.lastError !== undefined ? `; last: ${state.lastError.message}` : ""
            return Effect.fail(
              mcpError(
                name,
                "Closed",
                `not connected: gave up after ${state.failures} failed reconnection attempts${last}`,
                { method }
              )
            )
          }
          const old = current
          return Effect.uninterruptibleMask((restore) =>
            (old !== undefined ? Connection.shutdown(old) : Effect.void).pipe(
              Effect.zipRight(restore(open)),
              Effect.tapError((error) =>
                Effect.sync(() => {
                  state.failures++
                  state.lastError = error
                })
              ),
              Effect.flatMap((fresh) => {
                if (state.closed) return Effect.zipRight(Connection.shutdown(fresh), Effect.fail(closedError(method)))
                state.live = fresh
                state.failures = 0
                state.lastError = undefined
                return Effect.succeed(fresh)
              })
            )
          )
        }))
      })

    const requestError = (live: Connection.Live, method: string, cause: unknown): McpError => {
      if (!live.alive) {
        return mcpError(name, "Closed", `${live.lost ?? `${what} is gone`} (during ${method})`, { method })
      }
      if (cause instanceof McpTypes.McpError) {
        if (cause.code === McpTypes.ErrorCode.RequestTimeout) {
          return mcpError(name, "Timeout", `no answer to ${method} in time`, { method })
        }
        return mcpError(name, "Protocol", `${method} failed: ${Connection.describe(cause)}`, {
          method,
          code: cause.code
        })
      }
      if (cause instanceof StreamableHTTPError) {
        if (cause.code === 404) {
          // the session is gone (the server restarted or expired it): a new one is needed
          live.alive = false
          live.lost = "the HTTP server ended the session (HTTP 404)"
          return mcpError(name, "Closed", `${live.lost} (during ${method})`, { method })
        }
        return mcpError(name, "Connect", `${method} failed: ${Connection.describe(cause)}`, { method })
      }
      if (cause instanceof Error && cause.message === "Not connected") {
        live.alive = false
        return mcpError(name, "Closed", `${live.lost ?? `${what} is gone`} (during ${method})`, { method })
      }
      return mcpError(name, "Connect", `${method} failed: ${Connection.describe(cause)}`, { method, cause })
    }

    /** Run one request on the current connection, within the deadline. */
    const request = <A>(
      method: string,
      f: (client: Client, options: RequestOptions) => Promise<A>,
      deadlineMs: number = requestTimeoutMs
    ): Effect.Effect<A, McpError> =>
      Effect.flatMap(ensure(method), (live) =>
        Effect.tryPromise({
          try: (signal) => f(live.client, { signal, timeout: deadlineMs }),
          catch: (cause) => requestError(live, method, cause)
        }).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(deadlineMs),
            onTimeout: () => mcpError(name, "Timeout", `no answer to ${method} within ${deadlineMs} ms`, { method })
          })
        ))

    /** Every page of a list; empty when the server lacks the capability. */
    const paginate = <T>(
      method: string,
      capability: "tools" | "resources" | "prompts",
      page: (client: Client, cursor: string | undefined, options: RequestOptions) => Promise<Page<T>>
    ): Effect.Effect<ReadonlyArray<T>, McpError> =>
      Effect.gen(function*() {
        const out: Array<T> = []
        const seen = new Set<string>()
        let cursor: string | undefined = undefined
        for (let i = 0; i < maxPages; i++) {
          const at: string | undefined = cursor
          const result: Page<T> | undefined = yield* request(method, (client, requestOptions): Promise<
            Page<T> | undefined
          > =>
            client.getServerCapabilities()?.[capability] === undefined ?
              Promise.resolve(undefined) :
              page(client, at, requestOptions))
          if (result === undefined) return out
          out.push(...result.items)
          const next: string | undefined = result.nextCursor
          if (next === undefined || seen.has(next)) return out
          seen.add(next)
          cursor = next
        }
        return out
      })

    // --- operations ------------------------------------------------------------------------

    const listTools = paginate<ToolInfo>("tools/list", "tools", async (client, cursor, requestOptions) => {
      const result = await client.listTools(cursor !== undefined ? { cursor } : undefined, requestOptions)
      return { items: result.tools, nextCursor: result.nextCursor }
    })

    const callTool = (
      tool: string,
      args?: Readonly<Record<string, unknown>>,
      callOptions?: { readonly timeoutMs?: number | undefined }
    ): Effect.Effect<CallToolResult, McpError> =>
      request(
        "tools/call",
        async (client, requestOptions) =>
          Content.normalizeCallResult(
            await client.callTool({ name: tool, arguments: { ...args } }, undefined, requestOptions)
          ),
        callOptions?.timeoutMs ?? requestTimeoutMs
      )

    const listResources = paginate<Resource>("resources/list", "resources", async (client, cursor, requestOptions) => {
      const result = await client.listResources(cursor !== undefined ? { cursor } : undefined, requestOptions)
      return { items: result.resources, nextCursor: result.nextCursor }
    })

    const listResourceTemplates = paginate<ResourceTemplate>(
      "resources/templates/list",
      "resources",
      async (client, cursor, requestOptions) => {
        const result = await client.listResourceTemplates(cursor !== undefined ? { cursor } : undefined, requestOptions)
        return { items: result.resourceTemplates, nextCursor: result.nextCursor }
      }
    )

    const readResource = (uri: string): Effect.Effect<ReadResourceResult, McpError> =>
      request("resources/read", (client, requestOptions) => client.readResource({ uri }, requestOptions))

    const listPrompts = paginate<Prompt>("prompts/list", "prompts", async (client, cursor, requestOptions) => {
      const result = await client.listPrompts(cursor !== undefined ? { cursor } : undefined, requestOptions)
      return { items: result.prompts, nextCursor: result.nextCursor }
    })

    const getPrompt = (
      prompt: string,
      args?: Readonly<Record<string, string>>
    ): Effect.Effect<PromptResult, McpError> =>
      request(
        "prompts/get",
        (client, requestOptions) =>
          client.getPrompt({ name: prompt, ...(args !== undefined ? { arguments: { ...args } } : {}) }, requestOptions)
      ).pipe(Effect.map((result) => ({ description: result.description, messages: promptMessages(result), result })))

    // --- the toolkit -----------------------------------------------------------------------

    const toolError = (exposed: string, message: string, code: string, cause?: unknown) =>
      new LlmError.ToolError({
        message,
        toolName: exposed,
        code,
        ...(cause !== undefined ? { cause } : {})
      }, true)

    const runTool = (tool: string, exposed: string) => (args: unknown): Effect.Effect<unknown, LlmError.ToolError> => {
      const params = args === undefined || args === null ? {} : args
      if (!Predicate.isRecord(params)) {
        return Effect.fail(
          toolError(exposed, `MCP server "${name}", tool "${tool}": arguments must be a JSON object`, "mcp_arguments")
        )
      }
      return callTool(tool, params).pipe(
        Effect.mapError((error) => toolError(exposed, error.message, `mcp_${error.reason.toLowerCase()}`, error)),
        Effect.flatMap((result) =>
          result.isError === true ?
            Effect.fail(
              toolError(
                exposed,
                `MCP server "${name}", tool "${tool}" failed: ${Content.contentText(result.content)}`,
                "mcp_tool_error"
              )
            ) :
            Effect.try({
              try: () => mapResult(result),
              catch: (cause) =>
                toolError(exposed, `MCP server "${name}", tool "${tool}": toolResult threw`, "mcp_result", cause)
            })
        )
      )
    }

    const select = (listed: ReadonlyArray<ToolInfo>): Either.Either<ReadonlyArray<ToolInfo>, McpError> => {
      const wanted = options.tools
      if (wanted === undefined) return Either.right(listed)
      if (typeof wanted === "function") return Either.right(listed.filter(wanted))
      const byName = new Map(listed.map((tool) => [tool.name, tool] as const))
      const missing = wanted.filter((tool) => !byName.has(tool))
      if (missing.length > 0) {
        return Either.left(
          mcpError(
            name,
            "Config",
            `options.tools names ${missing.map((tool) => `"${tool}"`).join(", ")}, which the server does not offer`,
            { method: "tools/list" }
          )
        )
      }
      return Either.right(wanted.map((tool) => byName.get(tool)!))
    }

    const buildToolkit = (listed: ReadonlyArray<ToolInfo>): Toolkit.Toolkit => {
      // a tool that only runs as a task (`execution.taskSupport: "required"`) cannot be called plainly
      const tools = listed.filter((tool) => tool.execution?.taskSupport !== "required")
      const names = Content.exposedNames(prefix, tools.map((tool) => tool.name))
      return Toolkit.make(...tools.map((tool, i) => {
        const exposed = names[i] ?? Content.safeName(prefix + tool.name)
        return Tool.dynamic({
          name: exposed,
          description: tool.description ?? tool.title ?? tool.annotations?.title,
          parameters: Content.parametersOf(tool),
          handler: runTool(tool.name, exposed)
        })
      }))
    }

    // --- lifetime --------------------------------------------------------------------------

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        state.closed = true
        const live = state.live
        state.live = undefined
        return live !== undefined ? Connection.shutdown(live) : Effect.void
      })
    )
    const first = yield* Effect.uninterruptibleMask((restore) =>
      restore(open).pipe(Effect.tap((live) => Effect.sync(() => (state.live = live))))
    )
    const loadToolkit = listTools.pipe(Effect.flatMap(select), Effect.map(buildToolkit))
    const toolkit = yield* loadToolkit

    const server: McpServer = {
      name,
      serverInfo: first.client.getServerVersion() ?? { name, version: "unknown" },
      capabilities: first.client.getServerCapabilities() ?? {},
      instructions: first.client.getInstructions(),
      toolkit,
      loadToolkit,
      listTools,
      callTool,
      listResources,
      listResourceTemplates,
      readResource,
      listPrompts,
      getPrompt,
      status: Effect.sync(() =>
        state.closed ? "closed" : state.live !== undefined && state.live.alive ? "connected" : "disconnected"
      ),
      pid: Effect.sync(() =>
        !state.closed && state.live !== undefined && state.live.alive ?
          Option.fromNullable(state.live.pid) :
          Option.none()
      )
    }
    return server
  })

// -----------------------------------------------------------------------------
// several servers
// -----------------------------------------------------------------------------

/**
 * The tools of several servers in one toolkit. Fails with a `Config` error naming both
 * servers when two offer a tool of the same name (give one a `toolPrefix`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const mergeToolkits = (servers: ReadonlyArray<McpServer>): Effect.Effect<Toolkit.Toolkit, McpError> =>
  Effect.suspend(() => {
    const owner = new Map<string, string>()
    for (const server of servers) {
      for (const tool of server.toolkit.tools) {
        const other = owner.get(tool.name)
        if (other !== undefined) {
          return Effect.fail(
            mcpError(
              server.name,
              "Config",
              `tool "${tool.name}" is also offered by MCP server "${other}": give one of them a toolPrefix`
            )
          )
        }
        owner.set(tool.name, server.name)
      }
    }
    return Effect.succeed(Toolkit.merge(...servers.map((server) => server.toolkit)))
  })

/**
 * Several connected servers and their merged toolkit.
 *
 * @since 0.1.0
 * @category models
 */
export interface Clients {
  /** The servers, in the order they were given. */
  readonly servers: ReadonlyArray<McpServer>
  /** A server by name. */
  readonly server: (name: string) => Option.Option<McpServer>
  /** Every server's tools (names are unique: see `toolPrefix`). */
  readonly toolkit: Toolkit.Toolkit
}

/**
 * The servers of `layer`.
 *
 * @since 0.1.0
 * @category tags
 */
export class McpClients extends Context.Tag("@llm-fiber/mcp/McpClients")<McpClients, Clients>() {}

/**
 * Connect to several servers (concurrently) for the lifetime of the layer. Fails when one
 * cannot connect (the others are closed again), when two share a name, or when their tool
 * names collide.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (servers: ReadonlyArray<Options>): Layer.Layer<McpClients, McpError> =>
  Layer.scoped(
    McpClients,
    Effect.gen(function*() {
      const seen = new Set<string>()
      for (const options of servers) {
        if (seen.has(options.name)) {
          return yield* mcpError(options.name, "Config", "two servers of layer have this name")
        }
        seen.add(options.name)
      }
      const connected = yield* Effect.forEach(servers, connect, { concurrency: "unbounded" })
      const toolkit = yield* mergeToolkits(connected)
      const byName = new Map(connected.map((server) => [server.name, server] as const))
      return { servers: connected, server: (name: string) => Option.fromNullable(byName.get(name)), toolkit }
    })
  )
