/**
 * Node module hooks that resolve `@llm-fiber/<package>` (and `@llm-fiber/<package>/<module>`)
 * to the TypeScript sources in `packages/<package>/src`, the way the shared vitest config
 * aliases them. Together with tsx this runs the CLI from source, with no build:
 *
 *   node --import tsx --import ./packages/cli/test/support/register.mjs packages/cli/src/bin.ts ask hi
 *
 * (The workspace symlinks in node_modules point at package folders whose `exports` name
 * `dist/`, which only exists after `npm run build`.)
 */
import { existsSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const pattern = /^@llm-fiber\/([a-z-]+)(?:\/(.+))?$/

export async function resolve(specifier, context, nextResolve) {
  const match = pattern.exec(specifier)
  if (match !== null) {
    const file = path.join(packages, match[1], "src", `${match[2] ?? "index"}.ts`)
    // hand the file on to the next hook (tsx), which knows how to load TypeScript
    if (existsSync(file)) return nextResolve(pathToFileURL(file).href, context)
  }
  return nextResolve(specifier, context)
}
