/**
 * `npm run encompass -- serve`, exactly as the README starts it, stops on SIGTERM sent to the
 * process the README starts (npm): the whole process tree exits and nothing is left serving. A
 * service manager signals that process only, so a node left behind would keep the gateway running.
 * While it serves, its embedded database is refused to a second process.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cliRoot, encompass } from "./Run.js"

const workspace = path.resolve(cliRoot, "../..")
const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-signals-"))

/** Every descendant of `pid`, from /proc (Linux), so a re-parented child is still known by its pid. */
const descendants = (pid: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The command name is in parentheses and may hold spaces; the parent pid follows the state.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // The process ended while the table was read.
    }
  }
  const found: Array<number> = []
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      found.push(child)
      walk(child)
    }
  }
  walk(pid)
  return found
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return !fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")
  } catch {
    return false
  }
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

describe("npm run encompass -- serve", () => {
  it.each([
    ["SIGTERM to the process the README starts", false],
    // A terminal sends it to the whole foreground group, and npm forwards it again.
    ["Ctrl-C: SIGINT to its process group", true]
  ] as const)("exits cleanly with its whole process tree on %s", async (_signal, group) => {
    const demo = path.join(cliRoot, "demo")
    fs.rmSync(path.join(work, "pgdata"), { recursive: true, force: true })
    fs.writeFileSync(path.join(work, "relay.json"), fs.readFileSync(path.join(workspace, "apps/gateway/examples/relay.json")))
    const region = path.join(work, "region.yaml")
    fs.writeFileSync(region, [
      "version: 1",
      "region: thames-valley",
      "dataDir: ./pgdata",
      "masterKeyFile: ./master.key",
      `agreement: ${path.join(workspace, "libs/isa-policy/agreements/tvp-schools.yaml")}`,
      `directory: ${path.join(demo, "directory.csv")}`,
      "sources:",
      "  - id: niche-rms",
      "channels:",
      "  - id: secure-email",
      "    settings: ./relay.json",
      `    passwords: ${path.join(demo, "passwords.json")}`,
      "http:",
      "  port: 0",
      ""
    ].join("\n"))
    const { DATABASE_URL: _server, ...env } = process.env
    const npm = spawn("npm", ["run", "encompass", "--", "serve", "--config", region], {
      cwd: workspace,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: group
    })
    let output = ""
    npm.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    npm.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)))

    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 120_000)
      npm.stdout.on("data", () => {
        const started = /"gateway started".*"http":"127\.0\.0\.1:(\d+)"/.exec(output)
        if (started !== null) {
          clearTimeout(timer)
          resolve(Number(started[1]))
        }
      })
    })
    const tree = descendants(npm.pid ?? 0)
    expect(tree.length).toBeGreaterThan(0)
    expect(await accepts(port)).toBe(true)

    // Its embedded database is its own while it runs: an operator command on it is refused.
    const refused = await encompass(["outbox", "list", "--config", region], { DATABASE_URL: "" })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(new RegExp(`the embedded database ${path.join(work, "pgdata")} is in use by another encompass process \\(pid (${tree.join("|")})\\)`))

    if (group) process.kill(-(npm.pid ?? 0), "SIGINT")
    else npm.kill("SIGTERM")
    const code = await exited
    const orphans = tree.filter(alive)
    // Orphans of a failing run are not left serving on the machine.
    for (const pid of orphans) process.kill(pid, "SIGKILL")
    expect(code).toBe(0)
    // Nothing the command started outlives it.
    expect(orphans).toEqual([])
    expect(await accepts(port)).toBe(false)
    expect(output).toContain("gateway stopped")
  }, 180_000)
})
