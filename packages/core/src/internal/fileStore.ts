/**
 * The file operations of the response cache's filesystem store (Promise-based; the
 * `Store` around them lives in `ResponseCache.ts`).
 *
 * One file per key: `<directory>/<h[0..2]>/<h>.entry` (or `<directory>/<h>.entry` without
 * sharding), where `h` is the sha256 of the key. A file holds the JSON envelope
 * `{ v: 1, key, expiresAt, value }`, gzip-compressed when the store was made with `gzip`
 * (reading sniffs the gzip magic bytes, so either setting reads both). A write goes to a
 * unique temporary file next to the target, then `rename`s it over the target: a reader
 * sees the old file or the new one, never a part.
 *
 * @internal
 */
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as Zlib from "node:zlib"
import { sha256 } from "./cacheKey.js"

const gzip = promisify(Zlib.gzip)
const gunzip = promisify(Zlib.gunzip)

/** @internal */
export interface Layout {
  readonly directory: string
  readonly gzip: boolean
  readonly shard: boolean
}

/** @internal */
export interface Envelope {
  readonly v: 1
  readonly key: string
  /** Epoch milliseconds (`Clock` time); `null` when the entry never expires. */
  readonly expiresAt: number | null
  readonly value: string
}

/** Suffix of entry files. @internal */
export const extension = ".entry"

/** Suffix of temporary files (a crash may leave one behind; it is never read). @internal */
export const tempExtension = ".tmp"

/** The file of a key. @internal */
export const pathOf = (layout: Layout, key: string): string => {
  const h = sha256(key)
  return layout.shard
    ? Path.join(layout.directory, h.slice(0, 2), h + extension)
    : Path.join(layout.directory, h + extension)
}

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && typeof (error as { code?: unknown }).code === "string"
    ? (error as { code: string }).code
    : undefined

/** The file's bytes, or `undefined` when it does not exist. @internal */
export const read = (file: string): Promise<Buffer | undefined> =>
  Fs.readFile(file).then(
    (bytes) => bytes,
    (error: unknown) => {
      if (codeOf(error) === "ENOENT") return undefined
      throw error
    }
  )

const isEnvelope = (u: unknown): u is Envelope => {
  if (typeof u !== "object" || u === null) return false
  const e = u as Record<string, unknown>
  return e.v === 1 && typeof e.key === "string" && typeof e.value === "string" &&
    (e.expiresAt === null || (typeof e.expiresAt === "number" && Number.isFinite(e.expiresAt)))
}

/** The envelope in a file's bytes, or `undefined` when they are not one (corrupt, truncated). @internal */
export const decode = async (bytes: Buffer): Promise<Envelope | undefined> => {
  try {
    const raw = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? await gunzip(bytes) : bytes
    const parsed: unknown = JSON.parse(raw.toString("utf8"))
    return isEnvelope(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** The bytes of an envelope. @internal */
export const encode = async (envelope: Envelope, compress: boolean): Promise<Buffer> => {
  const json = Buffer.from(JSON.stringify(envelope), "utf8")
  return compress ? gzip(json) : json
}

let counter = 0

/**
 * Write `bytes` to `file` atomically: a unique temporary file in the same directory, then
 * `rename` (atomic on POSIX file systems). Creates the directory when needed; removes the
 * temporary file when anything fails.
 *
 * @internal
 */
export const writeAtomic = async (file: string, bytes: Uint8Array): Promise<void> => {
  const temp = `${file}.${process.pid}.${(counter++).toString(36)}.${
    Math.floor(Math.random() * 0x100000000).toString(36)
  }${tempExtension}`
  try {
    try {
      await Fs.writeFile(temp, bytes, { flag: "wx" })
    } catch (error) {
      if (codeOf(error) !== "ENOENT") throw error
      await Fs.mkdir(Path.dirname(file), { recursive: true })
      await Fs.writeFile(temp, bytes, { flag: "wx" })
    }
    await Fs.rename(temp, file)
  } catch (error) {
    await Fs.rm(temp, { force: true }).catch(() => undefined)
    throw error
  }
}

/** Remove a file (no error when it is missing). @internal */
export const remove = (file: string): Promise<void> => Fs.rm(file, { force: true })
