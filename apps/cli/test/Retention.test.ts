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

/** Several statements in one session, between commands. */
const execute = async (text: string): Promise<void> => {
  if (database.url !== undefined) {
    const sql = postgres(database.url, { max: 1, onnotice: () => undefined })
    try {
      await sql.unsafe(text)
    } finally {
      await sql.end()
    }
    return
  }
  const db = new PGlite(path.join(work, "pgdata"))
  try {
    await db.exec(text)
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

describe("encompass retention left-setting (TVP ISA 4.4)", () => {
  const occurrence = "43/261101/26"
  const parts = async () => {
    const [row] = await query<{ reference: string; body: { children: ReadonlyArray<{ ref: string; part: string | null }> } }>(
      `SELECT reference, body FROM notification WHERE recipient = 'setting:100001' AND occurrence = '${occurrence}' AND kind = 'notification'`
    )
    return { reference: row?.reference ?? "", held: Object.fromEntries((row?.body.children ?? []).map((c) => [c.ref, c.part !== null])) }
  }

  it("refuses a leavers update with bad rows whole, naming each by line and column and never quoting it", async () => {
    const file = path.join(work, "bad-leavers.csv")
    fs.writeFileSync(file, "urn,given_name,family_name,date_of_birth\n10001,Amelia,Hartwell,2017-04-12\n100001,Amelia,,2017-13-12\n")
    const result = await run(["retention", "left-setting", "--config", region, "--file", file, "--reason", "leavers list"])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/line 2, column urn: a URN is six digits/)
    expect(result.stderr).toMatch(/line 3, column family_name: empty/)
    expect(result.stderr).toMatch(/line 3, column date_of_birth/)
    expect(result.stderr).not.toMatch(/Amelia|Hartwell/)
  })

  it("removes the leaver's copy from what the setting was sent, keeps the sibling's, audits it naming no one, and a second run finds nothing", async () => {
    expect(ingested.code).toBe(0)
    const before = await parts()
    expect(before.held).toEqual({ "P-10011": true, "P-10012": true })
    // As the school's records give it: name in another case, date of birth.
    const file = path.join(work, "leavers.csv")
    fs.writeFileSync(file, "urn,given_name,family_name,date_of_birth\n100001,AMELIA,hartwell,2017-04-12\n100002,Nobody,Known,2016-01-01\n")
    const args = ["retention", "left-setting", "--config", region, "--file", file, "--operator", "records-officer", "--reason", "Kennet Meadow leavers list"]

    const dry = await run([...args, "--dry-run"])
    expect(dry.stderr).toBe("")
    expect(dry.stdout).toContain("would remove 1 child copy from 1 notification")
    expect((await parts()).held).toEqual(before.held)

    const done = await run(args)
    expect(done.stderr).toBe("")
    expect(done.stdout).toContain("removed 1 child copy from 1 notification")
    expect(done.stdout).toContain("no notification to their setting for the leaver on line 3")
    expect((await parts()).held).toEqual({ "P-10011": false, "P-10012": true })

    const [event] = await query<{ subject: string; detail: Record<string, unknown> }>(`SELECT subject, detail FROM audit_event WHERE stage = 'purged' ORDER BY seq`)
    expect(event?.subject).toBe("setting:100001")
    expect(event?.detail).toMatchObject({ kind: "leftSetting", count: 1, setting: "100001", clause: "TVP ISA 4.4", by: "records-officer" })
    expect(JSON.stringify(event)).not.toMatch(/Amelia|Hartwell|P-10011|2017-04-12/i)

    const again = await run(args)
    expect(again.stdout).toContain("removed 0 child copies from 0 notifications")
    const verified = await run(["audit", "verify", "--config", region])
    expect(verified.stdout).toMatch(/Audit chain\s+ok/)

    // The sibling's copy still opens: the notification can still be withdrawn, which reads it.
    const withdrawn = await run(["outbox", "withdraw", "--config", region, "--note", "test", before.reference])
    expect(withdrawn.stderr).toBe("")
    expect(withdrawn.code).toBe(0)
    // Not sent here (nothing delivers between commands): cancelled, so retention below may shred the occurrence.
    const [withdrawal] = await query<{ reference: string }>(`SELECT reference FROM notification WHERE kind = 'withdrawal' AND state = 'queued'`)
    expect((await run(["outbox", "cancel", "--config", region, "--reason", "test", withdrawal?.reference ?? ""])).code).toBe(0)
  }, 120_000)

  it("an operator names one child by setting and subject", async () => {
    const result = await run(["retention", "left-setting", "--config", region, "--setting", "100001", "--subject", "P-10012", "--reason", "told by the DSL"])
    expect(result.stderr).toBe("")
    expect(result.stdout).toContain("removed 1 child copy from 1 notification")
    const neither = await run(["retention", "left-setting", "--config", region, "--reason", "x"])
    expect(neither.code).not.toBe(0)
    expect(neither.stderr).toContain("say who has left")
  }, 60_000)
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
    expect(result.stdout).toMatch(/auditSkeleton .* would purge [1-9]\d* audit events cut from the chain/)
    expect(await count("subject_key")).toBe(keys)
    expect(await count("audit_event")).toBe(events)
  })

  it("a run past the payload period crypto-shreds every delivered occurrence, audits each purge without naming anyone, and the chain stays valid", async () => {
    const delivered = await query<{ occurrence: string }>(`SELECT DISTINCT occurrence FROM notification WHERE state = 'delivered'`)
    expect(delivered.length).toBeGreaterThan(3)
    // Past the occurrence's 365 days, within the audit skeleton's 2190.
    const result = await run(["retention", "run", "--config", region, "--at", "2030-01-01"])
    expect(result.stderr).toBe("")
    expect(result.stdout).toMatch(/occurrence .* purged [1-9]\d* occurrences crypto-shredded/)
    expect(result.stdout).toMatch(/auditSkeleton .* purged 0 audit events/)

    const left = await query<{ occurrence: string }>(`SELECT DISTINCT occurrence FROM subject_key`)
    expect(left.filter((k) => delivered.some((d) => d.occurrence === k.occurrence))).toEqual([])
    expect(await count("feed_chunk")).toBe(0)

    const purged = await query<{ subject: string; detail: Record<string, unknown> }>(`SELECT subject, detail FROM audit_event WHERE stage = 'purged' ORDER BY seq`)
    expect(purged.map((p) => p.subject)).toEqual(expect.arrayContaining(["retention:rawFeed", "retention:occurrence"]))
    for (const p of purged.filter((e) => e.subject.startsWith("retention:"))) expect(Object.keys(p.detail).sort()).toEqual(["clause", "count", "days", "kind", "storedBefore", "what"])

    const verified = await run(["audit", "verify", "--config", region])
    expect(verified.stderr).toBe("")
    expect(verified.stdout).toMatch(/Audit chain\s+ok/)

    // The facts of the disclosure remain: to which setting, when, under which clause.
    const exported = await run(["audit", "export", "--config", region, "--occurrence", delivered[0]?.occurrence ?? "", "--format", "json", "--reason", "retention check"])
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

  it("a run past the audit skeleton's period cuts the chain at a signed anchor, records the cut, and the rest still verifies", async () => {
    const events = await count("audit_event")
    const result = await run(["retention", "run", "--config", region, "--at", "2099-01-01"])
    expect(result.stderr).toBe("")
    const cut = /auditSkeleton .* purged (\d+) audit events cut from the chain/.exec(result.stdout)
    expect(Number(cut?.[1])).toBeGreaterThan(0)
    expect(await count("audit_event")).toBeLessThan(events)

    const [base] = await query<{ seq: string }>(`SELECT seq FROM audit_base`)
    const [record] = await query<{ detail: Record<string, unknown> }>(`SELECT detail FROM audit_event WHERE subject = 'retention:auditSkeleton'`)
    expect(record?.detail).toMatchObject({ kind: "auditSkeleton", count: Number(cut?.[1]), through: Number(base?.seq), clause: "TVP ISA 4.4" })

    const verified = await run(["audit", "verify", "--config", region, "--full"])
    expect(verified.stderr).toBe("")
    expect(verified.stdout).toMatch(new RegExp(`Audit chain\\s+ok .*after the base at seq ${base?.seq}`))
  }, 120_000)

  it("a chain that does not verify is never cut: the events due are kept, and the report says why", async () => {
    // The last run signed its head; an event after the last check is then edited behind the triggers.
    await execute(`SET session_replication_role = replica; UPDATE audit_event SET detail = '{"kind":"edited"}' WHERE seq = (SELECT max(seq) FROM audit_event); SET session_replication_role = DEFAULT`)
    const events = await count("audit_event")
    const result = await run(["retention", "run", "--config", region, "--at", "2199-01-01"])
    expect(result.stderr).toBe("")
    expect(result.stdout).toMatch(/auditSkeleton .* due, kept [1-9]\d* audit events, the chain does not verify \(audit event \d+ .* was edited\)/)
    expect(await count("audit_event")).toBeGreaterThanOrEqual(events)
  }, 120_000)
})
