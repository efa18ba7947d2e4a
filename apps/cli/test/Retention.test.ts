/**
 * `encompass retention run` on a region that delivered the demo feed: a dry run reports what is
 * due and deletes nothing; a run as of a date past every period crypto-shreds each delivered
 * occurrence (its subject keys are gone, so its incident and payloads can never be read again),
 * records each purge as an audit event that names no one, and leaves the audit chain valid.
 * Runs against DATABASE_URL when set, else the embedded store.
 */
import { PGlite } from "@electric-sql/pglite"
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as MailSink from "../src/MailSink.js"
import { cliRoot, encompass, freshDatabase, writeRegion } from "./Run.js"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-retention-"))
const demo = path.join(cliRoot, "demo")
const scope = Effect.runSync(Scope.make())
let database: Awaited<ReturnType<typeof freshDatabase>>
let region = ""

const run = (args: ReadonlyArray<string>) => encompass(args, { DATABASE_URL: database.url ?? "", ENCOMPASS_MASTER_KEY: "" })

/** One query on the region's store, between commands. */
const query = async <A>(text: string): Promise<ReadonlyArray<A>> => {
  if (database.url !== undefined) {
    const sql = postgres(database.url, { max: 1, onnotice: () => undefined })
    try {
      return (await sql.unsafe(text)) as unknown as ReadonlyArray<A>
    } finally {
      await sql.end()
    }
  }
  const db = new PGlite(path.join(work, "pgdata"))
  try {
    return (await db.query<A>(text)).rows
  } finally {
    await db.close()
  }
}

const count = async (table: string) => Number((await query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))[0]?.n)

let ingested: Awaited<ReturnType<typeof encompass>>

beforeAll(async () => {
  database = await freshDatabase()
  const sink = await Effect.runPromise(
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
  ingested = await run(["ingest", "--config", region, path.join(demo, "niche-feed.csv")])
}, 300_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await database.drop()
  fs.rmSync(work, { recursive: true, force: true })
})

describe("encompass retention run", () => {
  it("finds nothing due today: everything was stored moments ago", async () => {
    expect(ingested.code).toBe(0)
    const result = await run(["retention", "run", "--config", region, "--dry-run"])
    expect(result.stderr).toBe("")
    expect(result.stdout).toMatch(/Retention dry run as of .* \(TVP ISA 4\.4; periods are the force's choice\)/)
    expect(result.stdout).toMatch(/occurrence\s+365 days\s+before \d{4}-\d\d-\d\d\s+would purge 0 /)
  })

  it("a dry run past every period reports what is due and deletes nothing", async () => {
    const keys = await count("subject_key")
    const events = await count("audit_event")
    const result = await run(["retention", "run", "--config", region, "--dry-run", "--at", "2099-01-01"])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/occurrence\s+365 days\s+before 2098-01-01\s+would purge [1-9]\d* occurrences crypto-shredded/)
    expect(result.stdout).toMatch(/rawFeed\s+30 days .* would purge 1 feeds' raw bytes/)
    expect(result.stdout).toMatch(/auditSkeleton .* due, kept [1-9]\d* audit events/)
    expect(await count("subject_key")).toBe(keys)
    expect(await count("audit_event")).toBe(events)
  })

  it("a run past every period crypto-shreds every delivered occurrence, audits each purge without naming anyone, and the chain stays valid", async () => {
    const delivered = await query<{ occurrence: string }>(`SELECT DISTINCT occurrence FROM notification WHERE state = 'delivered'`)
    expect(delivered.length).toBeGreaterThan(3)
    const result = await run(["retention", "run", "--config", region, "--at", "2099-01-01"])
    expect(result.stderr).toBe("")
    expect(result.stdout).toMatch(/occurrence .* purged [1-9]\d* occurrences crypto-shredded/)

    const left = await query<{ occurrence: string }>(`SELECT DISTINCT occurrence FROM subject_key`)
    expect(left.filter((k) => delivered.some((d) => d.occurrence === k.occurrence))).toEqual([])
    expect(await count("feed_chunk")).toBe(0)

    const purged = await query<{ subject: string; detail: Record<string, unknown> }>(`SELECT subject, detail FROM audit_event WHERE stage = 'purged' ORDER BY seq`)
    expect(purged.map((p) => p.subject)).toEqual(expect.arrayContaining(["retention:rawFeed", "retention:occurrence"]))
    for (const p of purged) expect(Object.keys(p.detail).sort()).toEqual(["clause", "count", "days", "kind", "storedBefore", "what"])

    const verified = await run(["audit", "verify", "--config", region])
    expect(verified.stderr).toBe("")
    expect(verified.stdout).toMatch(/Audit chain\s+ok/)

    // The facts of the disclosure remain: to which setting, when, under which clause.
    const exported = await run(["audit", "export", "--config", region, "--occurrence", delivered[0]?.occurrence ?? "", "--format", "json"])
    expect(exported.stderr).toBe("")
    const story = JSON.parse(exported.stdout) as unknown
    expect(JSON.stringify(story)).toMatch(/"setting:\d{6}"/)
    expect(JSON.stringify(story)).toMatch(/TVP ISA 3/)
    expect(JSON.stringify(story)).toMatch(/"delivered"/)

    // Nothing of a shredded occurrence can be decided again: its incident is gone for good.
    const [first] = delivered
    const grant = await run(["override", "grant", "--config", region, "--occurrence", first?.occurrence ?? "", "--child", "P-10011", "--by", "dpo", "--role", "DSL", "--reason", "test"])
    expect(grant.code).not.toBe(0)
    expect(grant.stderr).toMatch(/its data was deleted|is not stored/)
  }, 240_000)
})
