/**
 * `encompass report` on a region whose relay is down, after one ingest of the demo feed: the
 * compliance report counts the day's notifications as still queued and the withheld decisions by
 * rule, and one run of the deadline watch prints the alerts it raised (that each is raised once
 * is libs/pipeline's DeadlineWatch test). Runs against DATABASE_URL when set, else the embedded
 * store.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliRoot, encompass, freshDatabase } from "./Run.js"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-report-"))
const demo = path.join(cliRoot, "demo")
const region = path.join(work, "region.yaml")
let database: Awaited<ReturnType<typeof freshDatabase>>

const run = (args: ReadonlyArray<string>) => encompass(args, { DATABASE_URL: database.url ?? "", ENCOMPASS_MASTER_KEY: "" })
const report = (...args: ReadonlyArray<string>) => run(["report", ...args, "--config", region])

/** A port nothing listens on: every delivery attempt fails and is left queued for a retry. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

beforeAll(async () => {
  database = await freshDatabase()
  fs.writeFileSync(path.join(work, "email.json"), JSON.stringify({
    host: "127.0.0.1",
    port: await closedPort(),
    from: "Operation Encompass <encompass@police.example>",
    messageIdDomain: "encompass.police.example",
    senderName: "Test Police",
    contact: "encompass@police.example"
  }))
  fs.writeFileSync(region, [
    "version: 1",
    "region: thames-valley",
    "dataDir: ./pgdata",
    "masterKeyFile: ./master.key",
    `agreement: ${path.resolve(cliRoot, "../../libs/isa-policy/agreements/tvp-schools.yaml")}`,
    `directory: ${path.join(demo, "directory.csv")}`,
    "sources:",
    "  - id: niche-rms",
    "channels:",
    "  - id: secure-email",
    "    settings: ./email.json",
    `    passwords: ${path.join(demo, "passwords.json")}`,
    ""
  ].join("\n"))
  const ingested = await run([
    "ingest",
    "--source", "niche-rms",
    "--directory", path.join(demo, "directory.csv"),
    "--email-config", path.join(work, "email.json"),
    "--passwords", path.join(demo, "passwords.json"),
    "--data-dir", path.join(work, "pgdata"),
    "--master-key-file", path.join(work, "master.key"),
    path.join(demo, "niche-feed.csv")
  ])
  expect(ingested.code).toBe(0)
}, 240_000)

afterAll(async () => {
  await database.drop()
  fs.rmSync(work, { recursive: true, force: true })
})

describe("encompass report", () => {
  // Two runs of the command, each a fresh node process: seconds apiece, more on a busy machine.
  it("reports a day's notifications as queued and its withheld decisions by rule; one deadline scan prints its alerts", async () => {
    const json = await report("compliance", "--date", "2026-11-17", "--json")
    expect(json.stderr).toBe("")
    expect(json.code).toBe(0)
    const figures = JSON.parse(json.stdout)
    expect(figures).toMatchObject({ region: "thames-valley", date: "2026-11-17", timeZone: "Europe/London", deliveredOnTime: 0, dead: 0 })
    expect(figures.due).toBeGreaterThan(0)
    expect(figures.queued).toBe(figures.due)
    expect(figures.withheld).toContainEqual({ rule: "setting-signed-up", clause: "TVP ISA 4.2, 7", count: 1 })

    // A lead long enough that every undelivered demo notification is at risk (or already missed).
    const scanned = await report("deadlines", "--lead", "100000 days")
    expect(scanned.code).toBe(0)
    expect(scanned.stdout).toMatch(/^(at-risk|missed)\s+EG-[0-9A-F-]+\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+queued\s+1\s+secure-email\s+setting:\d+$/m)
    // Never the content: no child's name from the feed.
    expect(json.stdout + scanned.stdout).not.toMatch(/Amelia|Hartwell/)
  }, 120_000)
})
