/**
 * Deterministic pseudo-embeddings: the same text and dimension count always give the
 * same unit-length vector (FNV-1a hash seeding a xorshift generator).
 */

const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

export const embedding = (text: string, dimensions: number): Array<number> => {
  let state = fnv1a(text) || 0x9e3779b9
  const out = new Array<number>(dimensions)
  let norm = 0
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    const value = ((state >>> 0) / 0xffffffff) * 2 - 1
    out[i] = value
    norm += value * value
  }
  const scale = norm === 0 ? 0 : 1 / Math.sqrt(norm)
  for (let i = 0; i < dimensions; i++) out[i] = Math.round(out[i]! * scale * 1e6) / 1e6
  return out
}

/** Rough token estimate: a quarter of the characters, rounded up. */
export const estimateTokens = (chars: number): number => Math.ceil(chars / 4)
