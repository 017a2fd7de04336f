#!/usr/bin/env node
// Committed launcher so that `npm ci` links the command before the first build; the program
// itself is dist/bin.js (built by `npm run build`).
import("../dist/bin.js").catch((error) => {
  if (error && error.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/bin.js")) {
    console.error("This package is not built yet: run `npm run build` at the repository root.")
    process.exit(1)
  }
  throw error
})
