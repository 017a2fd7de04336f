/**
 * The LRU behind the response cache's memory store: plain, synchronous TypeScript (one
 * operation is one atomic step), bounded by entry count and by total size (UTF-8 bytes of
 * keys and values), with an expiry time per entry. Time is passed in by the caller (which
 * reads it from `Clock`).
 *
 * A `Map` keeps insertion order: a read moves the entry to the end, so the first entry
 * is always the least recently used.
 *
 * @internal
 */

interface Entry {
  readonly value: string
  readonly bytes: number
  /** `Infinity` when the entry never expires. */
  readonly expiresAt: number
}

/** @internal */
export class Lru {
  private readonly entries = new Map<string, Entry>()
  /** Total size of the entries (UTF-8 bytes of keys and values). */
  bytes = 0

  constructor(readonly maxEntries: number, readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size
  }

  /** The live value under `key` (an expired entry is removed). */
  get(key: string, now: number): string | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    if (entry.expiresAt <= now) {
      this.bytes -= entry.bytes
      return undefined
    }
    this.entries.set(key, entry)
    return entry.value
  }

  /**
   * Store `value` under `key` until `expiresAt`, then drop least recently used entries
   * until both bounds hold. Returns how many live entries were evicted (expired ones
   * dropped on the way do not count). A value larger than `maxBytes` is not stored.
   */
  set(key: string, value: string, expiresAt: number, now: number): number {
    this.delete(key)
    const bytes = Buffer.byteLength(key, "utf8") + Buffer.byteLength(value, "utf8")
    if (bytes > this.maxBytes || this.maxEntries <= 0) return 0
    this.entries.set(key, { value, bytes, expiresAt })
    this.bytes += bytes
    let evicted = 0
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next()
      if (oldest.done === true) break
      const entry = this.entries.get(oldest.value)!
      this.entries.delete(oldest.value)
      this.bytes -= entry.bytes
      if (entry.expiresAt > now) evicted++
    }
    return evicted
  }

  delete(key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }

  /** The keys, least recently used first. */
  keys(): Array<string> {
    return [...this.entries.keys()]
  }
}
