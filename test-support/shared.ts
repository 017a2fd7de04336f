/**
 * Locate the shared test data (`fixtures/`, `specs/`): `LLM_FIBER_SHARED`, else
 * `<repo>/../shared`, else `/work/shared`. Fails loudly when none exists — the fixture
 * tests must never be skipped silently.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
/** test-support → the repository root */
const repo = path.resolve(here, "..")

const candidates = (): Array<string> => {
  const out: Array<string> = []
  const env = process.env.LLM_FIBER_SHARED
  if (env !== undefined && env !== "") out.push(path.resolve(env))
  out.push(path.resolve(repo, "..", "shared"))
  out.push("/work/shared")
  return out
}

let cached: string | undefined

/** The shared directory (throws with every place it looked when there is none). */
export const sharedDir = (): string => {
  if (cached !== undefined) return cached
  const tried = candidates()
  for (const dir of tried) {
    if (fs.existsSync(path.join(dir, "fixtures")) && fs.existsSync(path.join(dir, "specs"))) {
      cached = dir
      return dir
    }
  }
  throw new Error(
    `shared test data not found (looked in: ${tried.join(", ")}); set LLM_FIBER_SHARED to the directory ` +
      "that holds fixtures/ and specs/"
  )
}

/** A path under `fixtures/vercel-ai/`. */
export const fixturePath = (relative: string): string => {
  const file = path.join(sharedDir(), "fixtures", "vercel-ai", relative)
  if (!fs.existsSync(file)) throw new Error(`fixture not found: ${file}`)
  return file
}

/** The text of a fixture file. */
export const readFixture = (relative: string): string => fs.readFileSync(fixturePath(relative), "utf8")

/** The files of a fixture folder (relative to `fixtures/vercel-ai/`). */
export const listFixtures = (folder: string): Array<string> => {
  const dir = path.join(sharedDir(), "fixtures", "vercel-ai", folder)
  if (!fs.existsSync(dir)) throw new Error(`fixture folder not found: ${dir}`)
  return fs.readdirSync(dir).sort().map((name) => `${folder}/${name}`)
}

/** A path under `specs/`. */
export const specPath = (name: string): string => {
  const file = path.join(sharedDir(), "specs", name)
  if (!fs.existsSync(file)) throw new Error(`spec not found: ${file}`)
  return file
}

/**
 * Rebuild the SSE wire of a `*.chunks.txt` fixture: `data: <line>\n\n` per line, then
 * `data: [DONE]\n\n`.
 */
export const chunksToSse = (text: string, options?: { readonly done?: boolean }): string => {
  const parts: Array<string> = []
  for (const line of text.split("\n")) {
    if (line.trim() !== "") parts.push(`data: ${line}\n\n`)
  }
  if (options?.done !== false) parts.push("data: [DONE]\n\n")
  return parts.join("")
}
