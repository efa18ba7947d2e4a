/**
 * A PostgreSQL server of the test's own: `initdb` into a temporary folder, `postgres` on a free
 * loopback port, so a test may stop and restart it without disturbing any other database (the
 * shared `DATABASE_URL` server included). initdb and postgres refuse to run as root: as root the
 * tools run as the `postgres` user, on a folder it owns.
 */
import { execFile, execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

// Debian's layout, /usr/lib/postgresql/<major>/bin: the newest major installed.
const versions = fs.existsSync("/usr/lib/postgresql") ? fs.readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v)) : []
const bin = path.join("/usr/lib/postgresql", versions.sort((a, b) => Number(b) - Number(a))[0] ?? "15", "bin")
const tools = ["initdb", "pg_ctl"].map((tool) => path.join(bin, tool))
export const missing = tools.filter((tool) => !fs.existsSync(tool))
// Skipped only on a developer machine without the server binaries; in CI their absence fails the test.
export const available = missing.length === 0 || process.env["CI"] === "true"
/** A suite title that says when, and why, the suite is skipped. */
export const titled = (name: string) =>
  available ? name : `${name} — SKIPPED: ${missing.join(", ")} not installed (apt-get install postgresql)`

const asRoot = process.getuid?.() === 0
const idOf = (flag: "-u" | "-g") => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())

const run = (tool: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) => {
    const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args]] : [path.join(bin, tool), args]
    execFile(file, argv, { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) =>
      error === null ? resolve(stdout) : reject(new Error(`${tool} ${args.join(" ")} failed: ${stderr || error.message}`)))
  })

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust authentication. */
  readonly url: string
  /** Stops the server (`fast`: every session is told, then closed) and waits until it is down. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and waits until it accepts connections. */
  readonly start: () => Promise<void>
  /** Stops and removes everything. */
  readonly destroy: () => Promise<void>
}

export const create = async (): Promise<ThrowawayPostgres> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-pg-"))
  const data = path.join(root, "data")
  fs.chmodSync(root, 0o755)
  // The server runs as `postgres`: the folder (its socket and log go there too) must be its own.
  if (asRoot) fs.chownSync(root, idOf("-u"), idOf("-g"))
  await run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
  const port = await freePort()
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`
  const start = () => run("pg_ctl", ["-D", data, "-l", path.join(root, "server.log"), "-o", options, "-w", "-t", "60", "start"]).then(() => undefined)
  const stop = () => run("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]).then(() => undefined)
  await start()
  let destroyed = false
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    destroy: async () => {
      if (destroyed) return
      destroyed = true
      await stop().catch(() => undefined)
      fs.rmSync(root, { recursive: true, force: true })
    }
  }
}
