/**
 * `encompass report` on a region whose relay is down, after one ingest of the demo feed: the
 * compliance report counts the day's notifications as still queued and the withheld decisions by
 * rule, and one run of the deadline watch prints the alerts it raised (that each is raised once
 * is libs/pipeline's DeadlineWatch test). Runs against DATABASE_URL when set, else the embedded
 * store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type DownRelayRegion, downRelayRegion } from "./Run.js"

let region: DownRelayRegion
const run = (args: ReadonlyArray<string>) => region.run(args)
const report = (...args: ReadonlyArray<string>) => run(["report", ...args, "--config", region.region])

beforeAll(async () => {
  region = await downRelayRegion("report")
  expect(region.ingested.code).toBe(0)
}, 240_000)

afterAll(() => region.cleanUp())

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
