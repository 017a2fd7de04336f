/**
 * One MCP connection (a child process or an HTTP session) and how to stop it.
 *
 * @internal
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { stripErrorPrefix } from "./content.js"

/** How to reach a server (the shape of `Mcp.Transport`). */
export type Transport =
  | {
    readonly _tag: "stdio"
    readonly command: string
    readonly args?: ReadonlyArray<string> | undefined
    readonly env?: Readonly<Record<string, string>> | undefined
    readonly cwd?: string | undefined
    readonly stderr?: "capture" | "inherit" | "ignore" | undefined
  }
  | {
    readonly _tag: "http"
    readonly url: string | URL
    readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
  }

const stderrLimit = 2_048

/** One connection (one child process or one HTTP session). */
export interface Live {
  readonly client: Client
  readonly transport: StdioClientTransport | StreamableHTTPClientTransport
  pid: number | undefined
  alive: boolean
  /** Why the connection is gone, once it is. */
  lost: string | undefined
  /** Resolves when the transport has closed (for stdio: the child has exited). */
  readonly closed: Promise<void>
  readonly stderrTail: () => string
}

/** A real-time delay (for shutdown, which must not depend on a test clock). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

/** An error's message without the SDK's `MCP error <code>: ` prefixes. */
export const describe = (cause: unknown): string =>
  cause instanceof Error ? stripErrorPrefix(cause.message) : String(cause)

/** ` (stderr: "…")` with the end of the captured stderr, or nothing. */
export const tailText = (live: Live): string => {
  const tail = live.stderrTail().trim()
  if (tail === "") return ""
  const short = tail.length > 500 ? "…" + tail.slice(-500) : tail
  return ` (stderr: ${JSON.stringify(short)})`
}

const headerValues = (
  headers: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(headers ?? {})) {
    out[key] = Redacted.isRedacted(value) ? Redacted.value(value) : value
  }
  return out
}

/** The SDK transport for a `Transport`, and the captured stderr (stdio, `capture`). */
export const makeTransport = (transport: Transport): {
  readonly transport: StdioClientTransport | StreamableHTTPClientTransport
  readonly stderrTail: () => string
} => {
  if (transport._tag === "http") {
    const url = typeof transport.url === "string" ? new URL(transport.url) : transport.url
    return {
      transport: new StreamableHTTPClientTransport(url, { requestInit: { headers: headerValues(transport.headers) } }),
      stderrTail: () => ""
    }
  }
  const mode = transport.stderr ?? "capture"
  const stdioTransport = new StdioClientTransport({
    command: transport.command,
    args: [...(transport.args ?? [])],
    ...(transport.env !== undefined ? { env: { ...transport.env } } : {}),
    ...(transport.cwd !== undefined ? { cwd: transport.cwd } : {}),
    stderr: mode === "capture" ? "pipe" : mode
  })
  let tail = ""
  if (mode === "capture") {
    stdioTransport.stderr?.on("data", (chunk: Buffer | string) => {
      tail = (tail + chunk.toString()).slice(-stderrLimit)
    })
  }
  return { transport: stdioTransport, stderrTail: () => tail }
}

/** Stop a connection: end the HTTP session, close the transport, wait for the child to exit. */
export const shutdown = (live: Live): Effect.Effect<void> =>
  Effect.promise(async () => {
    const transport = live.transport
    if (transport instanceof StreamableHTTPClientTransport && live.alive && transport.sessionId !== undefined) {
      await Promise.race([transport.terminateSession().catch(() => undefined), sleep(1_000)])
    }
    if (live.alive) {
      live.alive = false
      live.lost = "the connection was closed by this client"
    }
    await live.client.close().catch(() => undefined)
    // the SDK escalates to SIGTERM after 2 s and SIGKILL after 4 s
    await Promise.race([live.closed, sleep(6_000)])
  })
