/**
 * `encompass audit export`, `breach report`, `outbox withdraw --breach` and consultation logging
 * as a DPO and an operator use them: the demo feed ingested and delivered to a real SMTP peer, a
 * quarantined record read (with a reason), a second version of an occurrence sent as a
 * correction, the correction withdrawn as misdirected. The export lists every recipient,
 * receipt, correction, withdrawal, breach and consultation, as JSON and as an HTML page a parser
 * reads back — and says the same once the children's personal data is gone from the database.
 * Runs against DATABASE_URL when set, else the embedded store.
 */
import { Sql } from "@encompass/store"
import { Effect, Exit, Redacted, Scope } from "effect"
import { DomUtils, parseDocument } from "htmlparser2"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { AuditExport, Breach } from "@encompass/pipeline"
import * as MailSink from "../src/MailSink.js"
import { cliRoot, encompass, freshDatabase, writeRegion } from "./Run.js"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-export-"))
const demo = path.join(cliRoot, "demo")
const scope = Effect.runSync(Scope.make())
const occurrence = "43/261108/26"
const school = "setting:100002"
/** The demo children's names, dates of birth and addresses that must never appear in a record. */
const personal = /Marlowe|Freya|Windsor Mews|SL1 7JR|2018-12-01|2016-08-08/
let database: Awaited<ReturnType<typeof freshDatabase>>
let region = ""

const run = (args: ReadonlyArray<string>) => encompass(args, { DATABASE_URL: database.url ?? "", ENCOMPASS_MASTER_KEY: "" })
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)

/** Version 2 of the occurrence whose first child was rejected for a missing given name: now both are sent. */
const version2 = [
  fs.readFileSync(path.join(demo, "niche-feed.csv"), "utf8").split("\n")[0],
  `${occurrence},2026-11-18T17:20,domestic,"12 Windsor Mews, Slough",SL1 7JR,2,P-10081,Ada,Marlowe,2016-08-08,"12 Windsor Mews, Slough",SL1 7JR,present,100002,standard,N`,
  `${occurrence},2026-11-18T17:20,domestic,"12 Windsor Mews, Slough",SL1 7JR,2,P-10082,Freya,Marlowe,2018-12-01,"12 Windsor Mews, Slough",SL1 7JR,witness,100002,standard,N`,
  ""
].join("\n")

let quarantineId = ""
let refusedRead: Awaited<ReturnType<typeof run>>
let read: Awaited<ReturnType<typeof run>>
let withdrawn: Awaited<ReturnType<typeof run>>
let exported: AuditExport.Export
let html = ""
let breachReport: Breach.Report

const exportJson = async (...args: ReadonlyArray<string>) => {
  const result = await run(["audit", "export", "--config", region, "--operator", "dpo.tester", "--reason", "subject access request", ...args])
  expect(result.stderr).toBe("")
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as AuditExport.Export
}

beforeAll(async () => {
  database = await freshDatabase()
  const sink = await Effect.runPromise(Scope.extend(
    MailSink.make({
      directory: path.join(work, "mail"),
      key: fs.readFileSync(path.join(demo, "tls/sink-key.pem"), "utf8"),
      cert: fs.readFileSync(path.join(demo, "tls/sink-cert.pem"), "utf8")
    }),
    scope
  ))
  region = writeRegion({ work, relay: sink })
  const first = await run(["ingest", "--config", region, path.join(demo, "niche-feed.csv")])
  expect(first.code).toBe(0)

  const listed = await run(["quarantine", "list", "--config", region])
  quarantineId = listed.stdout.split("\n").find((l) => l.includes("child_given_name"))?.trim().split(/\s+/)[0] ?? ""
  refusedRead = await run(["quarantine", "show", "--config", region, "--record", quarantineId])
  read = await run(["quarantine", "show", "--config", region, "--record", "--operator", "dpo.tester", "--reason", "checking the <missing> name", quarantineId])

  fs.writeFileSync(path.join(work, "v2.csv"), version2)
  const second = await run(["ingest", "--config", region, path.join(work, "v2.csv")])
  expect(second.code).toBe(0)

  const before = await exportJson("--occurrence", occurrence)
  const correction = before.notifications.find((n) => n.kind === "correction")
  withdrawn = await run(["outbox", "withdraw", correction?.reference ?? "", "--config", region, "--note", "sent to the wrong school", "--operator", "ops.tester", "--breach"])

  exported = await exportJson("--occurrence", occurrence)
  const page = await run(["audit", "export", "--config", region, "--occurrence", occurrence, "--format", "html", "--out", path.join(work, "export.html"), "--reason", "DPO review"])
  expect(page.code).toBe(0)
  html = fs.readFileSync(path.join(work, "export.html"), "utf8")
  const report = await run(["breach", "report", "--config", region, "--recipient", school, "--from", day(-1), "--to", day(1), "--reason", "72-hour report"])
  expect(report.stderr).toBe("")
  breachReport = JSON.parse(report.stdout) as Breach.Report
}, 300_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await database.drop()
  fs.rmSync(work, { recursive: true, force: true })
})

describe("consultation logging", () => {
  it("refuses to show a quarantined record without a reason, and shows it with one", () => {
    expect(quarantineId).toMatch(/^\d+$/)
    expect(refusedRead.code).toBe(1)
    expect(refusedRead.stderr).toContain(`reading rejection:${quarantineId}: reason: a reason is required to read personal data`)
    expect(refusedRead.stdout).not.toMatch(personal)
    expect(read.code).toBe(0)
    expect(read.stdout).toContain("Marlowe")
  })
})

describe("an audit export or a breach report is itself a consultation (DPA 2018 s.62)", () => {
  it("is refused without a reason, before anything is shown", async () => {
    const unsaid = await run(["audit", "export", "--config", region, "--occurrence", occurrence, "--reason", " "])
    expect(unsaid.code).toBe(1)
    expect(unsaid.stderr).toContain(`reading audit-export:occurrence:${occurrence}: reason: a reason is required to read personal data`)
    expect(unsaid.stdout).toBe("")
    const report = await run(["breach", "report", "--config", region, "--recipient", school, "--from", day(-1), "--to", day(1), "--reason", ""])
    expect(report.code).toBe(1)
    expect(report.stderr).toContain(`reading breach-report:recipient:${school}: reason: a reason is required`)
    expect(report.stdout).toBe("")
  })
})

describe("encompass audit export --occurrence", () => {
  it("lists the decisions, shared and withheld, with rule, clause and rationale", () => {
    const v2 = exported.decisions.filter((d) => d.version === 2)
    expect(v2.map((d) => [d.child, d.recipient, d.outcome]).sort()).toEqual([["P-10081", school, "share"], ["P-10082", school, "share"]])
    for (const d of exported.decisions) {
      expect(d.rule).not.toBe("")
      expect(d.clause).not.toBe("")
      expect(d.rationale).not.toBe("")
    }
    expect(exported.decisions.find((d) => d.version === 1)?.fields.length).toBeGreaterThan(0)
  })

  it("lists every recipient with its receipt, the correction, and the withdrawal", () => {
    const byKind = (kind: string) => exported.notifications.filter((n) => n.kind === kind)
    const [original] = byKind("notification")
    const [correction] = byKind("correction")
    const [withdrawal] = byKind("withdrawal")
    expect(new Set(exported.notifications.map((n) => n.recipient))).toEqual(new Set([school]))
    expect(original).toMatchObject({ version: 1, channel: "secure-email", state: "delivered", children: ["P-10082"] })
    expect(original?.remoteId).toMatch(/\S/)
    expect(original?.attempts.map((a) => a.outcome)).toEqual(["delivered"])
    expect(correction).toMatchObject({ version: 2, of: original?.reference, state: "delivered", children: ["P-10081", "P-10082"] })
    expect(correction?.remoteId).toMatch(/\S/)
    expect(correction?.categories).toContain("childName")
    expect(withdrawal).toMatchObject({ of: correction?.reference, state: "queued" })
    expect(exported.events.map((e) => e.stage)).toEqual(expect.arrayContaining(["normalised", "decided", "queued", "delivered", "corrected", "withdrawn"]))
  })

  it("lists the consultation and the breach opened", () => {
    // The export is itself a read: the one before the withdrawal, and this one.
    const exportRead = expect.objectContaining({ subject: `audit-export:occurrence:${occurrence}`, by: "dpo.tester", reason: "subject access request", what: "audit export (json)", via: "cli" })
    expect(exported.consultations).toEqual([
      expect.objectContaining({ subject: `rejection:${quarantineId}`, by: "dpo.tester", reason: "checking the <missing> name", what: "quarantined record", via: "cli" }),
      exportRead,
      exportRead
    ])
    const correction = exported.notifications.find((n) => n.kind === "correction")
    expect(withdrawn.code).toBe(0)
    expect(withdrawn.stdout).toMatch(/Breach record opened for EG-[0-9A-F-]+ \(audit seq \d+\): 2 child\(ren\)/)
    expect(exported.breaches).toEqual([
      expect.objectContaining({ reference: correction?.reference, recipient: school, channel: "secure-email", by: "ops.tester", children: ["P-10081", "P-10082"] })
    ])
  })

  it("holds no child's name, date of birth or address", () => {
    expect(JSON.stringify(exported)).not.toMatch(personal)
    expect(html).not.toMatch(personal)
  })

  it("renders as a self-contained HTML page listing them, every value escaped", () => {
    const doc = parseDocument(html)
    const all = DomUtils.getElementsByTagName(() => true, doc, true)
    expect(DomUtils.textContent(DomUtils.getElementsByTagName("title", doc)[0] ?? doc)).toBe(`Audit export: occurrence ${occurrence}`)
    // Nothing to fetch, nothing to run: no script, no link, no src or href.
    expect(all.filter((e) => ["script", "link", "img", "iframe"].includes(e.name))).toEqual([])
    expect(all.filter((e) => "src" in e.attribs || "href" in e.attribs)).toEqual([])
    const table = (id: string) => {
      const section = DomUtils.findOne((e) => e.name === "section" && e.attribs["id"] === id, doc.children, true)
      expect(section, id).not.toBeNull()
      return DomUtils.getElementsByTagName("tr", section ?? doc).slice(1).map((tr) => DomUtils.getElementsByTagName("td", tr).map((td) => DomUtils.textContent(td)))
    }
    const notifications = table("notifications")
    expect(notifications.map((r) => r[0])).toEqual(exported.notifications.map((n) => n.reference))
    for (const n of exported.notifications) {
      const row = notifications.find((r) => r[0] === n.reference)
      expect(row?.[4]).toBe(school)
      if (n.remoteId !== null) expect(row).toContain(n.remoteId)
    }
    expect(table("corrections").map((r) => r[1]).sort()).toEqual(["correction", "withdrawal"])
    const exportRow = (reason: string, format: string) => [expect.any(String), expect.any(String), `audit-export:occurrence:${occurrence}`, expect.any(String), `audit export (${format})`, reason, "cli"]
    expect(table("consultations")).toEqual([
      [expect.any(String), expect.any(String), `rejection:${quarantineId}`, "dpo.tester", "quarantined record", "checking the <missing> name", "cli"],
      exportRow("subject access request", "json"),
      exportRow("subject access request", "json"),
      exportRow("DPO review", "html")
    ])
    expect(table("breaches").map((r) => r[2])).toEqual(exported.breaches.map((b) => b.reference))
    expect(table("decisions").length).toBe(exported.decisions.length)
    // This page's own read is one event more.
    expect(table("events").length).toBe(exported.events.length + 1)
    expect(html).toContain("checking the &lt;missing&gt; name")
  })

  it("tells the same story once the children's personal data is gone from the database", async () => {
    // What a crypto-shred leaves: no bodies, no incident, no quarantined record text.
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* sql.query`UPDATE notification SET body = '{}'::jsonb`
      yield* sql.query`DELETE FROM incident`
      yield* sql.query`UPDATE rejection SET record = NULL`
    }).pipe(Effect.provide(Sql.layer(database.url === undefined ? { dataDir: path.join(work, "pgdata") } : { url: Redacted.make(database.url) })))))
    const after = await exportJson("--occurrence", occurrence)
    // The same, but for the exports made since, which it lists as reads.
    const story = (x: AuditExport.Export) => ({
      ...x,
      generatedAt: "",
      consultations: x.consultations.filter((c) => !c.subject.startsWith("audit-export:")),
      events: x.events.filter((e) => !e.subject.startsWith("audit-export:"))
    })
    expect(after.consultations.length).toBe(exported.consultations.length + 2)
    expect(story(after)).toEqual(story(exported))
  })

  it("narrows to a child, a recipient and a period", async () => {
    const child = await exportJson("--subject", "P-10081")
    expect(child.decisions.every((d) => d.child === "P-10081")).toBe(true)
    expect(child.notifications.map((n) => n.kind).sort()).toEqual(["correction", "withdrawal"])
    const recipient = await exportJson("--recipient", school, "--from", day(-1), "--to", day(1))
    expect(recipient.notifications.every((n) => n.recipient === school)).toBe(true)
    expect(recipient.notifications.map((n) => n.reference)).toEqual(expect.arrayContaining(exported.notifications.map((n) => n.reference)))
    const past = await exportJson("--occurrence", occurrence, "--to", "2020-01-01")
    expect(past).toMatchObject({ decisions: [], notifications: [], events: [] })
    const bad = await run(["audit", "export", "--config", region, "--occurrence", occurrence, "--subject", "P-1", "--reason", "x"])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("give exactly one of --occurrence REF, --subject CHILD_REF, --recipient ID")
  })
})

describe("encompass breach report", () => {
  it("lists every disclosure to the recipient with its data categories and children, and the breach opened", () => {
    const disclosed = breachReport.disclosures.filter((d) => d.occurrence === occurrence)
    expect(disclosed.map((d) => [d.kind, d.subjects])).toEqual([["notification", ["P-10082"]], ["correction", ["P-10081", "P-10082"]]])
    expect(breachReport.disclosures.every((d) => d.recipient === school && d.categories.length > 0)).toBe(true)
    expect(breachReport.totals.categories).toEqual(expect.arrayContaining(["childName", "occurrenceNumber"]))
    expect(breachReport.breaches.map((b) => b.reference)).toEqual(exported.breaches.map((b) => b.reference))
    expect(JSON.stringify(breachReport)).not.toMatch(personal)
  })

  it("renders as HTML and refuses a report with no period", async () => {
    const page = await run(["breach", "report", "--config", region, "--channel", "secure-email", "--from", day(-1), "--to", day(1), "--format", "html", "--reason", "72-hour report"])
    expect(page.code).toBe(0)
    const doc = parseDocument(page.stdout)
    const breaches = DomUtils.findOne((e) => e.name === "section" && e.attribs["id"] === "breaches", doc.children, true)
    expect(DomUtils.textContent(breaches ?? doc)).toContain(exported.breaches[0]?.reference ?? "?")
    const refused = await run(["breach", "report", "--config", region, "--channel", "secure-email", "--reason", "72-hour report"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("give the period: --from DATE --to DATE")
  })
})
