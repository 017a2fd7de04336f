/**
 * Real `redis-server` processes for the test suite: find the binary (or fail with what to
 * install), start a throwaway server on a free loopback port (no persistence, daemonized,
 * with a pidfile), wait until it answers PING, and stop it (also synchronously, for exit
 * handlers). Used by the redis package's vitest globalSetup, by tests that need a server of
 * their own (stopping it mid-run), and by `scripts/test.mjs` (through tsx).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** The variable that points the suite at an already running Redis. */
export const urlVariable = "LLM_FIBER_REDIS_URL"

/** What to do when there is no `redis-server`. */
export const installHint = "install it — Debian/Ubuntu: `apt-get install redis-server` (npm test does this when it " +
  "runs as root with apt-get), macOS: `brew install redis` — or put it on PATH " +
  "(LLM_FIBER_REDIS_SERVER=/path/to/redis-server)"

const candidates = (): Array<string> => {
  const explicit = process.env.LLM_FIBER_REDIS_SERVER
  if (explicit !== undefined && explicit !== "") return [explicit]
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "")
  return [...dirs, "/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin"].map((dir) =>
    path.join(dir, "redis-server")
  )
}

/** The `redis-server` binary, or `undefined`. */
export const findRedisServer = (): string | undefined => {
  for (const file of candidates()) {
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

/** The `redis-server` binary (throws saying what to install when there is none). */
export const redisServerBinary = (): string => {
  const found = findRedisServer()
  if (found === undefined) throw new Error(`redis-server not found: ${installHint}`)
  return found
}

/** A free TCP port on 127.0.0.1 (free when asked; the server start retries on a clash). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port)
        else reject(new Error("no port"))
      })
    })
  })

/** Send one inline command and resolve with the first reply line (or reject after `timeoutMs`). */
const ask = (port: number, command: string, timeoutMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let data = ""
    const done = (error: Error | undefined, value?: string) => {
      socket.destroy()
      if (error !== undefined) reject(error)
      else resolve(value ?? "")
    }
    socket.setTimeout(timeoutMs, () => done(new Error("timeout")))
    socket.on("error", (error) => done(error))
    socket.on("connect", () => socket.write(command + "\r\n"))
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8")
      const end = data.indexOf("\r\n")
      if (end >= 0) done(undefined, data.slice(0, end))
    })
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Whether `pid` runs (a zombie, waiting for a slow init to reap it, counts as gone). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return true // no /proc (macOS): trust kill(0)
  }
}

/** Send `signal` to `pid`, unless it is gone already. */
const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name)
  } catch {
    // gone
  }
}

/** Wait until `pid` is gone, at most `ms`. */
const gone = async (pid: number, ms: number): Promise<boolean> => {
  const until = Date.now() + ms
  while (alive(pid)) {
    if (Date.now() > until) return false
    await sleep(20)
  }
  return true
}

/** A running throwaway server. */
export interface RedisServer {
  readonly url: string
  readonly port: number
  readonly pid: number
  /** Stop it (SIGTERM, then SIGKILL after 5 s) and remove its files. */
  readonly stop: () => Promise<void>
  /** Stop it at once (synchronous, for exit handlers; also run when this process exits): SIGKILL, files removed. */
  readonly stopSync: () => void
  /** Freeze it (SIGSTOP): connections stay open, nothing is answered. */
  readonly pause: () => void
  /** Unfreeze it (SIGCONT). */
  readonly resume: () => void
}

/** Options of `startRedisServer`. */
export interface StartOptions {
  /** Listen on this port (default: a free one). */
  readonly port?: number
  /** More `redis-server` arguments, e.g. `["--requirepass", "secret"]`. */
  readonly args?: ReadonlyArray<string>
  /** A password the server requires (used by the readiness check, never printed). */
  readonly password?: string
}

const startOnce = async (binary: string, port: number, options: StartOptions): Promise<RedisServer> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llm-fiber-redis-"))
  const pidfile = path.join(dir, "redis.pid")
  const logfile = path.join(dir, "redis.log")
  const started = spawnSync(binary, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "yes",
    "--pidfile",
    pidfile,
    "--logfile",
    logfile,
    "--dir",
    dir,
    ...(options.args ?? [])
  ], { encoding: "utf8", timeout: 10_000 })
  const log = () => (fs.existsSync(logfile) ? fs.readFileSync(logfile, "utf8").split("\n").slice(-10).join("\n") : "")
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true })
  if (started.error !== undefined || started.status !== 0) {
    const detail = started.error?.message ?? `${started.stderr}${started.stdout}`.trim()
    cleanup()
    throw new Error(`redis-server did not start on port ${port}: ${detail}`)
  }
  const deadline = Date.now() + 10_000
  let pid: number | undefined
  for (;;) {
    if (pid === undefined && fs.existsSync(pidfile)) {
      const parsed = Number(fs.readFileSync(pidfile, "utf8").trim())
      if (Number.isInteger(parsed) && parsed > 0) pid = parsed
    }
    if (pid !== undefined) {
      const command = options.password !== undefined ? `AUTH ${options.password}\r\nPING` : "PING"
      const reply = await ask(port, command, 1_000).catch(() => "")
      // (and it is ours: a server that lost the port to another one has exited)
      if ((reply === "+PONG" || reply === "+OK") && alive(pid)) break
    }
    if (Date.now() > deadline || (pid !== undefined && !alive(pid))) {
      if (pid !== undefined) signal(pid, "SIGKILL")
      const detail = log()
      cleanup()
      throw new Error(`redis-server on port ${port} did not answer PING in time\n${detail}`)
    }
    await sleep(25)
  }
  const serverPid = pid
  let stopped = false
  // a daemon outlives its starter: stop it when this process exits, whatever happened
  const stopSync = () => {
    if (stopped) return
    stopped = true
    process.removeListener("exit", stopSync)
    signal(serverPid, "SIGCONT")
    signal(serverPid, "SIGKILL")
    cleanup()
  }
  process.on("exit", stopSync)
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: serverPid,
    stop: async () => {
      if (stopped) return
      stopped = true
      process.removeListener("exit", stopSync)
      signal(serverPid, "SIGCONT")
      signal(serverPid, "SIGTERM")
      if (!(await gone(serverPid, 5_000))) {
        signal(serverPid, "SIGKILL")
        await gone(serverPid, 5_000)
      }
      cleanup()
    },
    stopSync,
    pause: () => signal(serverPid, "SIGSTOP"),
    resume: () => signal(serverPid, "SIGCONT")
  }
}

/**
 * Start `redis-server` on a free loopback port (or `options.port`) with no persistence and
 * resolve once it answers PING. Throws with what to install when there is no binary.
 */
export const startRedisServer = async (options: StartOptions = {}): Promise<RedisServer> => {
  const binary = redisServerBinary()
  let lastError: unknown
  for (let attempt = 0; attempt < (options.port === undefined ? 3 : 1); attempt++) {
    const port = options.port ?? await freePort()
    try {
      return await startOnce(binary, port, options)
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}
