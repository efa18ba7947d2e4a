#!/usr/bin/env node
// Run after `npm install` whenever package-lock.json changes: `node tools/lock/complete-lock.mjs`.
//
// The registry these machines reach serves only this platform's native binaries (another
// platform's, e.g. @rollup/rollup-darwin-arm64, answers 404), so npm records only the linux-x64
// optional binaries in package-lock.json, and `npm ci` (npm >= 11.6.2) then refuses the lock as
// out of sync. This adds each missing optional binary as a version-only entry with the os and cpu
// its name declares: `npm ci` accepts the lock and skips them here as unsupported platforms. No
// entry gets a resolved URL or an integrity hash, so nothing is ever fetched on their strength.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"

const lockFile = new URL("../../package-lock.json", import.meta.url)

const missing = () => {
  try {
    execFileSync("npm", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"], { stdio: "pipe", encoding: "utf8" })
    return []
  } catch (error) {
    const out = `${error.stdout ?? ""}${error.stderr ?? ""}`
    // npm names the package but often not the version ("Missing: @rollup/rollup-darwin-arm64@ from lock file").
    return [...out.matchAll(/Missing: (@?[^@\s]+)@(\S*) from lock file/g)].map(([, name, version]) => ({ name, version }))
  }
}

const oses = ["android", "darwin", "freebsd", "linux", "win32", "openharmony", "openbsd", "netbsd", "sunos", "aix"]
const cpus = ["arm64", "arm", "x64", "ia32", "riscv64", "s390x", "loong64", "ppc64", "mips64el"]

/** `@rollup/rollup-linux-arm-gnueabihf` → { os: ["linux"], cpu: ["arm"] } */
const platformOf = (name) => {
  const parts = name.split("/").pop().split("-")
  const os = parts.find((p) => oses.includes(p))
  const cpu = parts.find((p) => cpus.includes(p))
  if (os === undefined || cpu === undefined) throw new Error(`cannot tell the platform of ${name}: add it by hand`)
  return { os: [os], cpu: [cpu] }
}

const wanted = missing()
if (wanted.length === 0) {
  console.log("package-lock.json is complete")
  process.exit(0)
}
const lock = JSON.parse(fs.readFileSync(lockFile, "utf8"))
/** The version the package that wants this binary asks for, e.g. rollup's `optionalDependencies`. */
const requested = (name) => {
  for (const entry of Object.values(lock.packages)) {
    const spec = entry.optionalDependencies?.[name]
    if (spec !== undefined) return spec.replace(/^[\^~=]/, "")
  }
  throw new Error(`no package in the lock asks for ${name}`)
}
for (const { name, version } of wanted) {
  lock.packages[`node_modules/${name}`] = { version: version || requested(name), dev: true, optional: true, ...platformOf(name) }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))))
fs.writeFileSync(lockFile, JSON.stringify(lock, null, 2) + "\n")
const left = missing()
console.log(`added ${wanted.length} optional platform entries; ${left.length === 0 ? "npm ci now accepts the lock" : `still missing: ${left.map((m) => m.name).join(", ")}`}`)
process.exit(left.length === 0 ? 0 : 1)
