import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { ViteUserConfig } from "vitest/config"

const root = path.dirname(fileURLToPath(import.meta.url))
const pkg = (name: string) => path.join(root, "packages", name, "src")

/** Shared vitest settings: tests import `@llm-fiber/*` straight from `src`, so no build is needed. */
const config: ViteUserConfig = {
  esbuild: { target: "es2022" },
  resolve: {
    alias: [
      { find: /^@llm-fiber\/core\/promise$/, replacement: path.join(pkg("core"), "promise.ts") },
      { find: /^@llm-fiber\/([a-z-]+)$/, replacement: path.join(root, "packages", "$1", "src", "index.ts") },
      { find: /^@llm-fiber\/([a-z-]+)\/(.*)$/, replacement: path.join(root, "packages", "$1", "src", "$2.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fakeTimers: { toFake: undefined },
    sequence: { concurrent: false }
  }
}

export default config
