/**
 * `encompass ingest` on a real file against the store a user would point it at (DATABASE_URL, or
 * the embedded one) and a real SMTP peer: malformed rows are named by line and field while the
 * rest goes through, and ingesting the same feed again sends nothing new.
 */
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as MailSink from "../src/MailSink.js"
import { cliRoot, encompass, freshDatabase, writeRegion } from "./Run.js"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-ingest-"))
const demo = path.join(cliRoot, "demo")
const scope = Effect.runSync(Scope.make())
let sink: MailSink.MailSink
let database: Awaited<ReturnType<typeof freshDatabase>>
let first: Awaited<ReturnType<typeof encompass>>
let second: Awaited<ReturnType<typeof encompass>>
let sentAfterFirst = 0

let region = ""

const ingest = () => encompass(["ingest", "--config", region, path.join(demo, "niche-feed.csv")], { DATABASE_URL: database.url ?? "" })

beforeAll(async () => {
  database = await freshDatabase()
  sink = await Effect.runPromise(
    Scope.extend(
      MailSink.make({
        directory: path.join(work, "mail"),
        key: fs.readFileSync(path.join(demo, "tls/sink-key.pem"), "utf8"),
        cert: fs.readFileSync(path.join(demo, "tls/sink-cert.pem"), "utf8")
      }),
      scope
    )
  )
  region = writeRegion({ work, relay: sink })
  first = await ingest()
  sentAfterFirst = sink.received()
  second = await ingest()
}, 300_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await database.drop()
})

describe("encompass ingest", () => {
  it("delivers the feed's notifications and verifies the audit chain", () => {
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    expect(sentAfterFirst).toBeGreaterThan(3)
    expect(first.stdout).toMatch(new RegExp(`Delivered\\s+${sentAfterFirst}\\b`))
    expect(first.stdout).toMatch(/Audit chain\s+ok/)
  })

  it.each([
    ["a bad date", /line \d+\s+(incident_datetime|child_dob)\s+\S/],
    ["a missing name", /line \d+\s+child_(given|family)_name\s+\S/],
    ["an unknown URN", /line \d+\s+school_urn\s+no setting with this URN/],
    ["a wrong column count", /line \d+\s+\S*\s*.*column/i]
  ])("names %s by line and field, and goes on with the other rows", (_what, pattern) => {
    expect(first.stdout).toMatch(pattern)
  })

  it("ingesting the same feed twice creates no second notification and no second email", () => {
    expect(second.code).toBe(0)
    expect(second.stdout).toContain("received before")
    expect(second.stdout).toMatch(/Notifications created\s+0\b/)
    expect(second.stdout).toMatch(/Delivered\s+0\b/)
    expect(sink.received()).toBe(sentAfterFirst)
  })

  it("decodes a force's differently laid out export with its field mapping (a region's niche-rms `mapping`)", async () => {
    const niche = path.resolve(cliRoot, "../../plugins/source-niche-rms")
    const mappedWork = fs.mkdtempSync(path.join(work, "mapped-"))
    const mappedRegion = writeRegion({ work: mappedWork, relay: sink, mapping: path.join(niche, "mappings/example-second-force.yaml"), masterKeyOf: path.join(work, "master.key") })
    const mapped = await encompass(["ingest", "--config", mappedRegion, path.join(niche, "test/fixtures/good-second-force.csv")], { DATABASE_URL: database.url ?? "" })
    expect(mapped.stderr).toBe("")
    expect(mapped.stdout).toMatch(/Incidents received\s+3\b/)
    expect(mapped.stdout).toMatch(/Records rejected\s+0\b/)
  }, 120_000)

  describe("a region enabling several sources", () => {
    const athena = path.resolve(cliRoot, "../../plugins/source-athena/test/fixtures")
    let both = ""
    beforeAll(() => {
      both = writeRegion({ work: fs.mkdtempSync(path.join(work, "sources-")), relay: sink, sources: ["athena"], masterKeyOf: path.join(work, "master.key") })
    })
    const run = (args: ReadonlyArray<string>) => encompass(["ingest", "--config", both, ...args], { DATABASE_URL: database.url ?? "" })

    it("decodes an Athena export with --source athena, through the region's own composition", async () => {
      const result = await run(["--source", "athena", path.join(athena, "good.xml")])
      expect(result.stderr).toBe("")
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/Incidents received\s+[1-9]/)
      expect(result.stdout).toMatch(/Delivered\s+[1-9]/)
    }, 120_000)

    it("refuses a billion-laughs document at its DOCTYPE, naming why, and goes on", async () => {
      const result = await run(["--source", "athena", path.join(athena, "billion-laughs.xml")])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("the feed has a DOCTYPE declaration: DTDs are refused")
      expect(result.stdout).toMatch(/Audit chain\s+ok/)
    }, 120_000)

    it("asks which source when the region enables several, and refuses one it does not enable", async () => {
      const unsaid = await run([path.join(demo, "niche-feed.csv")])
      expect(unsaid.code).not.toBe(0)
      expect(unsaid.stderr).toContain("enables several sources (niche-rms, athena): say which decodes the feed with --source")
      const disabled = await run(["--source", "json-lines", path.join(demo, "niche-feed.csv")])
      expect(disabled.code).not.toBe(0)
      expect(disabled.stderr).toContain("--source json-lines:")
      expect(disabled.stderr).toContain("does not enable that source (it enables niche-rms, athena)")
    }, 120_000)
  })
})
