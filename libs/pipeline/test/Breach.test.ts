/**
 * The audit export's view of supplements and overrides, and breach records: `Breach.withdraw`
 * opens one for a notification that may have arrived, once, and none for one never sent;
 * `Breach.report` lists each disclosure with its data categories and children.
 */
import { AuditLog } from "@encompass/audit"
import { expect, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { ActiveSources, AuditExport, Breach, Outbox, Overrides } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import { ingest, Recording, rows, TestLive } from "./IngestHarness.js"

const withSource = Effect.provideService(ActiveSources.ActiveSources, ActiveSources.ActiveSources.fromPlugins([Fixtures.sourceOf([])]))
const withdrawOptions = { operator: "PC 1234", note: "sent to the wrong school" }
const day = 86_400_000
const around = () => ({ from: new Date(Date.now() - day), to: new Date(Date.now() + day) })

layer(TestLive, { timeout: 120_000 })("Breach and AuditExport", (it) => {
  it.effect("a supplement is exported as one, naming what it adds to; the override that released it is in the story", () =>
    Effect.gen(function*() {
      const occurrence = "43/400001/26"
      yield* ingest("b1.csv", [Fixtures.incident(occurrence, [{ ref: "D", urn: "100001", line: 2 }, { ref: "E", urn: "100001", sensitive: true, line: 3 }])])
      yield* withSource(Overrides.grant({ occurrence, child: "E", by: "DI 42", role: "Detective Inspector, MASH", reason: "overriding public safety requirement" }))
      yield* Outbox.deliverDue
      // No channel acknowledges yet; one that does appends `acknowledged` on the notification.
      const [sent] = yield* rows<{ reference: string }>`SELECT reference FROM notification WHERE occurrence = ${occurrence} ORDER BY id LIMIT 1`
      yield* Effect.flatMap(AuditLog.AuditLog, (audit) =>
        audit.append({ stage: "acknowledged", subject: `notification:${sent?.reference}`, detail: { by: "dsl:100001" } }))
      const record = yield* AuditExport.build({ kind: "occurrence", id: occurrence })
      expect(record.acknowledgements).toEqual([expect.objectContaining({ reference: sent?.reference, detail: { by: "dsl:100001" } })])
      const [first, supplement] = record.notifications
      expect(first).toMatchObject({ kind: "notification", children: ["D"], state: "delivered" })
      expect(supplement).toMatchObject({ kind: "supplement", of: first?.reference, children: ["E"], state: "delivered" })
      expect(supplement?.categories).toContain("childName")
      expect(record.decisions.filter((d) => d.child === "E").map((d) => [d.outcome, d.rule])).toEqual([["withhold", "sensitive-case"], ["share", "sensitive-override"]])
      expect(record.events.filter((e) => e.stage === "overridden").map((e) => e.detail["child"])).toEqual(["E"])
      // The sibling's export leaves E's supplement and decisions out.
      const sibling = yield* AuditExport.build({ kind: "subject", id: "D" })
      expect(sibling.notifications.map((n) => n.reference)).toEqual([first?.reference])
      expect(new Set(sibling.decisions.map((d) => d.child))).toEqual(new Set(["D"]))
    }))

  it.effect("withdrawing a misdirected notification opens one breach record; one never sent opens none", () =>
    Effect.gen(function*() {
      const occurrence = "43/400002/26"
      yield* ingest("b2.csv", [Fixtures.incident(occurrence, [{ ref: "F", urn: "100002", line: 2 }, { ref: "G", urn: "100002", line: 3 }])])
      const [sent] = yield* rows<{ reference: string }>`SELECT reference FROM notification WHERE occurrence = ${occurrence}`
      const reference = sent?.reference ?? ""
      const opened = yield* Breach.withdraw(reference, withdrawOptions)
      expect(opened).toMatchObject({ withdrawn: { _tag: "WithdrawalQueued" }, alreadyOpen: false })
      expect(opened.breach).toMatchObject({ reference, recipient: "setting:100002", channel: "secure-email", by: "PC 1234", note: "sent to the wrong school", children: ["F", "G"] })
      expect(opened.breach?.categories).toEqual(expect.arrayContaining(["childName", "occurrenceNumber"]))
      const again = yield* Breach.withdraw(reference, withdrawOptions)
      expect(again).toMatchObject({ alreadyOpen: true, breach: { seq: opened.breach?.seq } })
      const [count] = yield* rows<{ n: number }>`SELECT count(*)::int AS n FROM audit_event WHERE stage = 'breach-opened' AND subject = ${`breach:${reference}`}`
      expect(count?.n).toBe(1)

      const unsent = "43/400003/26"
      const recording = yield* Recording
      yield* Ref.set(recording.behaviour, "transport-error")
      yield* ingest("b3.csv", [Fixtures.incident(unsent, [{ ref: "H", urn: "100002", line: 2 }])])
      yield* Ref.set(recording.behaviour, "accept")
      yield* rows`UPDATE notification SET attempts = 0 WHERE occurrence = ${unsent}`
      const [waiting] = yield* rows<{ reference: string }>`SELECT reference FROM notification WHERE occurrence = ${unsent}`
      expect(yield* Breach.withdraw(waiting?.reference ?? "", withdrawOptions)).toMatchObject({ withdrawn: { _tag: "CancelledUnsent" }, breach: undefined })

      const report = yield* Breach.report({ recipient: "setting:100002" }, around())
      const disclosed = report.disclosures.find((d) => d.reference === reference)
      expect(disclosed).toMatchObject({ occurrence, kind: "notification", subjects: ["F", "G"] })
      expect(disclosed?.fields.map((f) => f.child)).toEqual(["F", "G"])
      // The withdrawal carries no personal data, and the notification never sent disclosed nothing.
      expect(report.disclosures.map((d) => d.kind)).not.toContain("withdrawal")
      expect(report.disclosures.map((d) => d.occurrence)).not.toContain(unsent)
      expect(report.breaches.map((b) => b.reference)).toEqual([reference])
      expect((yield* Breach.report({ channel: "secure-email" }, around())).breaches.map((b) => b.reference)).toEqual([reference])
      expect((yield* Breach.report({ recipient: "setting:100001" }, around())).breaches).toEqual([])
      expect(Breach.html(report)).toContain(reference)
    }))
})
