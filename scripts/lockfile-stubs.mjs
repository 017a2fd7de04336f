// Our npm registry serves only the Linux builds of some platform-specific optional packages
// (rollup's and msgpackr-extract's native binaries for other systems answer 404), so
// `npm install` leaves them out of package-lock.json — and `npm ci` then refuses the lock
// file as out of sync. This adds the entries a full registry would have written (version,
// optional, os/cpu/libc, no tarball), which `npm ci` skips on this platform.
// Run after any `npm install` that rewrites package-lock.json: node scripts/lockfile-stubs.mjs
import * as fs from "node:fs"
import * as path from "node:path"
import { root } from "./lib.mjs"

const file = path.join(root, "package-lock.json")
const lock = JSON.parse(fs.readFileSync(file, "utf8"))
const packages = lock.packages
const systems = ["android", "darwin", "freebsd", "linux", "openbsd", "openharmony", "win32", "sunos", "netbsd", "aix"]
const cpus = ["arm64", "arm", "x64", "ia32", "loong64", "ppc64", "riscv64", "s390x", "mips64el"]

const platformOf = (name) => {
  const parts = name.split("/").pop().split("-")
  const os = parts.find((p) => systems.includes(p))
  const cpu = parts.find((p) => cpus.includes(p))
  if (!os || !cpu) return undefined
  const libc = parts.includes("musl") || parts.includes("musleabihf")
    ? ["musl"]
    : parts.includes("gnu") || parts.includes("gnueabihf")
    ? ["glibc"]
    : undefined
  return { os: [os], cpu: [cpu], ...(libc && os === "linux" ? { libc } : {}) }
}

let added = 0
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = location === "" ? "" : location + "/"
    const nested = `${base}node_modules/${name}`
    const hoisted = `node_modules/${name}`
    if (packages[nested] || packages[hoisted]) continue
    const platform = platformOf(name)
    const version = range.replace(/^[\^~=]/, "")
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue
    packages[hoisted] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform }
    added++
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)))
)
lock.packages = sorted
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n")
console.log(`lockfile-stubs: added ${added} platform entries`)
