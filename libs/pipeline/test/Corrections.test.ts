import { AuditLog } from "@encompass/audit"
import type { AuthorizedNotification } from "@encompass/domain"
import { Notification } from "@encompass/domain"
import { expect, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { ComplianceReport, Corrections } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import { deliveredTo, ingest, Recording, rows, TestLive } from "./IngestHarness.js"

const bySetting = (sent: ReadonlyArray<AuthorizedNotification.AuthorizedNotification>, urn: string) =>
  sent.map((a) => a.notification).filter((n) => n.payload.setting?.urn === urn)

const defined = <A>(value: A | undefined): A => {
  if (value === undefined) throw new Error("expected a value")
  return value
}

const withdrawOptions = { operator: "PC 1234", note: "wrong school" }

interface Row {
  readonly reference: string
  readonly version: number
  readonly recipient: string
  readonly kind: string
  readonly state: string
  readonly supersedes_reference: string | null
  readonly cancellation: string | null
}

const outbox = (occurrence: string) =>
  rows<Row>`SELECT n.reference, n.version, n.recipient, n.kind, n.state, s.reference AS supersedes_reference, n.cancellation
    FROM notification n LEFT JOIN notification s ON s.id = n.supersedes WHERE n.occurrence = ${occurrence} ORDER BY n.id`

layer(TestLive, { timeout: 120_000 })("Corrections (TVP ISA 4.1)", (it) => {
  it.effect("a corrected record reaches every recipient of the original as a correction naming it and what changed", () =>
    Effect.gen(function*() {
      const occurrence = "43/200001/26"
      const children = [{ ref: "A", urn: "100001", line: 2 }, { ref: "B", urn: "100002", line: 3 }]
      yield* ingest("v1.csv", [Fixtures.incident(occurrence, children)])
      const v2 = yield* ingest("v2.csv", [Fixtures.incident(occurrence, children, { version: 2, address: "7 Corrected Close, Reading" })])
      expect(v2.deliveries.map((d) => d.outcome)).toEqual(["delivered", "delivered"])

      const sent = yield* deliveredTo(occurrence)
      for (const urn of ["100001", "100002"]) {
        const [original, correction] = bySetting(sent, urn)
        expect(Notification.kindOf(defined(original))).toBe("notification")
        expect(correction?.version).toBe(2)
        expect(correction?.reference).not.toBe(original?.reference)
        expect(correction?.payload).toMatchObject({ corrects: { reference: original?.reference, version: 1, changed: ["incidentAddress"] } })
        expect(correction?.payload).toMatchObject({ incidentAddress: { lines: "7 Corrected Close, Reading" } })
      }
      const stored = yield* outbox(occurrence)
      expect(stored.filter((r) => r.version === 2).map((r) => [r.kind, r.state])).toEqual([["correction", "delivered"], ["correction", "delivered"]])
      const [events] = yield* rows<{ n: number }>`SELECT count(*)::int AS n FROM audit_event WHERE stage = 'corrected'
        AND detail->>'corrects' IN (SELECT reference FROM notification WHERE occurrence = ${occurrence} AND version = 1)`
      expect(events?.n).toBe(2)
    }))

  it.effect("a recipient with no part in the corrected record is sent a withdrawal with no personal data; a new one an ordinary notification", () =>
    Effect.gen(function*() {
      const occurrence = "43/200002/26"
      yield* ingest("w-v1.csv", [Fixtures.incident(occurrence, [{ ref: "A", urn: "100001", line: 2 }, { ref: "B", urn: "100002", line: 3 }])])
      // The police record is corrected: child B was never involved; child C, at A's school, was.
      yield* ingest("w-v2.csv", [Fixtures.incident(occurrence, [{ ref: "A", urn: "100001", line: 2 }, { ref: "C", urn: "100001", line: 3 }], { version: 2 })])

      const sent = yield* deliveredTo(occurrence)
      const [originalB, withdrawal] = bySetting(sent, "100002")
      expect(withdrawal?.payload).toEqual(new Notification.WithdrawalPayload({
        type: "operation-encompass/withdrawal",
        reference: defined(withdrawal).reference,
        version: 2,
        setting: defined(defined(originalB).payload.setting),
        withdraws: { reference: defined(originalB).reference, version: 1 },
        reason: "no-longer-shared"
      }))
      expect(JSON.stringify(withdrawal?.payload)).not.toMatch(/Given|Family|Example Road|2016/)
      const [, correctionA] = bySetting(sent, "100001")
      expect(correctionA?.payload).toMatchObject({ corrects: { changed: ["children"] } })
      expect(correctionA?.payload.type !== "operation-encompass/withdrawal" && correctionA?.payload.children).toHaveLength(2)

      const stored = yield* outbox(occurrence)
      expect(stored.filter((r) => r.version === 2).map((r) => [r.recipient, r.kind, r.supersedes_reference])).toEqual([
        ["setting:100001", "correction", bySetting(sent, "100001")[0]?.reference],
        ["setting:100002", "withdrawal", originalB?.reference]
      ])
    }))

  it.effect("an original still waiting is cancelled as superseded, and its recipient gets only the new version, as an ordinary notification", () =>
    Effect.gen(function*() {
      const occurrence = "43/200003/26"
      const recording = yield* Recording
      const children = [{ ref: "A", urn: "100001", line: 2 }]
      // Never attempted: the relay is down when it is decided... and the delivery run is skipped.
      yield* Ref.set(recording.behaviour, "transport-error")
      yield* ingest("s-v1.csv", [Fixtures.incident(occurrence, children)])
      yield* rows`UPDATE notification SET attempts = 0, next_attempt_at = now() + interval '1 hour' WHERE occurrence = ${occurrence}`
      yield* Ref.set(recording.behaviour, "accept")
      yield* ingest("s-v2.csv", [Fixtures.incident(occurrence, children, { version: 2, address: "1 New Street, Reading" })])

      const stored = yield* outbox(occurrence)
      expect(stored.map((r) => [r.version, r.kind, r.state, r.cancellation])).toEqual([
        [1, "notification", "cancelled", "superseded by version 2"],
        [2, "notification", "delivered", null]
      ])
      expect((yield* deliveredTo(occurrence)).map((a) => a.notification.version)).toEqual([2])
    }))

  it.effect("an original whose attempt failed may still have arrived: it is superseded and the new version goes as a correction", () =>
    Effect.gen(function*() {
      const occurrence = "43/200004/26"
      const recording = yield* Recording
      const children = [{ ref: "A", urn: "100001", line: 2 }]
      yield* Ref.set(recording.behaviour, "transport-error")
      yield* ingest("f-v1.csv", [Fixtures.incident(occurrence, children)])
      yield* Ref.set(recording.behaviour, "accept")
      yield* ingest("f-v2.csv", [Fixtures.incident(occurrence, children, { version: 2 })])
      const stored = yield* outbox(occurrence)
      expect(stored.map((r) => [r.version, r.kind, r.state])).toEqual([[1, "notification", "cancelled"], [2, "correction", "delivered"]])
      const [correction] = yield* deliveredTo(occurrence)
      expect(correction?.notification.payload).toMatchObject({ corrects: { reference: stored[0]?.reference, changed: [] } })
    }))

  it.effect("a version older than one already received is quarantined and sends nothing", () =>
    Effect.gen(function*() {
      const occurrence = "43/200005/26"
      const children = [{ ref: "A", urn: "100001", line: 2 }]
      yield* ingest("o-v2.csv", [Fixtures.incident(occurrence, children, { version: 2 })])
      const late = yield* ingest("o-v1.csv", [Fixtures.incident(occurrence, children)])
      expect(late.rejected).toEqual([expect.objectContaining({ field: "version", reason: expect.stringContaining("arrived after version 2") })])
      expect(late.notificationsCreated).toBe(0)
      expect((yield* deliveredTo(occurrence)).map((a) => a.notification.version)).toEqual([2])
    }))

  it.effect("a notification sent in error is withdrawn by a person: its recipient gets a withdrawal, once; an unsent one is just cancelled", () =>
    Effect.gen(function*() {
      const occurrence = "43/200006/26"
      yield* ingest("e-v1.csv", [Fixtures.incident(occurrence, [{ ref: "A", urn: "100001", line: 2 }])])
      const [sent] = yield* outbox(occurrence)
      const withdrawn = yield* Corrections.withdraw(defined(sent).reference, withdrawOptions)
      expect(withdrawn).toMatchObject({ _tag: "WithdrawalQueued", reference: sent?.reference, recipient: "setting:100001" })
      const again = yield* Corrections.withdraw(defined(sent).reference, withdrawOptions)
      expect(again).toEqual(withdrawn)
      yield* ingest("e-deliver.csv", [])
      const [, notice] = yield* deliveredTo(occurrence)
      expect(notice?.notification.payload).toMatchObject({ withdraws: { reference: sent?.reference, version: 1 }, reason: "sent-in-error" })
      expect((yield* outbox(occurrence)).map((r) => r.kind)).toEqual(["notification", "withdrawal"])
      expect((yield* Effect.flip(Corrections.withdraw(withdrawn._tag === "WithdrawalQueued" ? withdrawn.withdrawal : "", withdrawOptions))).reason)
        .toBe("NotWithdrawable")

      const unsent = "43/200007/26"
      const recording = yield* Recording
      yield* Ref.set(recording.behaviour, "transport-error")
      yield* ingest("e2-v1.csv", [Fixtures.incident(unsent, [{ ref: "A", urn: "100002", line: 2 }])])
      yield* Ref.set(recording.behaviour, "accept")
      yield* rows`UPDATE notification SET attempts = 0 WHERE occurrence = ${unsent}`
      const [waiting] = yield* outbox(unsent)
      expect(yield* Corrections.withdraw(defined(waiting).reference, withdrawOptions)).toMatchObject({ _tag: "CancelledUnsent" })
      expect((yield* outbox(unsent)).map((r) => [r.kind, r.state])).toEqual([["notification", "cancelled"]])
    }))

  it.effect("a notification a later version replaced is never sent, even if it was queued again after the correction", () =>
    Effect.gen(function*() {
      const occurrence = "43/200008/26"
      const children = [{ ref: "A", urn: "100001", line: 2 }]
      yield* ingest("g-v1.csv", [Fixtures.incident(occurrence, children)])
      yield* ingest("g-v2.csv", [Fixtures.incident(occurrence, children, { version: 2 })])
      // As if an attempt in flight at the correction had failed and put it back in the queue.
      yield* rows`UPDATE notification SET state = 'queued', next_attempt_at = now() WHERE occurrence = ${occurrence} AND version = 1`
      const report = yield* ingest("g-deliver.csv", [])
      expect(report.deliveries).toEqual([])
      expect((yield* outbox(occurrence)).map((r) => [r.version, r.state, r.cancellation])).toEqual([
        [1, "cancelled", "superseded by a later version"],
        [2, "delivered", null]
      ])
    }))

  it.effect("every correction, withdrawal and supersession is in the audit chain, and the chain verifies", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flatMap(AuditLog.AuditLog, (a) => a.verify))._tag).toBe("Intact")
      const [stages] = yield* rows<{ stages: Array<string> }>`SELECT array_agg(DISTINCT stage ORDER BY stage) AS stages FROM audit_event`
      expect(stages?.stages).toEqual(expect.arrayContaining(["corrected", "withdrawn", "superseded", "cancelled"]))
    }))

  it.effect("the compliance report counts corrections, withdrawals and superseded versions on their deadline's day", () =>
    Effect.gen(function*() {
      // Every incident here is on Friday 20 Nov 2026; under the test clock the notices keep that deadline.
      const report = yield* ComplianceReport.forDay("2026-11-23", { region: "test" })
      const [expected] = yield* rows<{ corrections: number; withdrawals: number; superseded: number }>`SELECT
          count(*) FILTER (WHERE kind = 'correction')::int AS corrections, count(*) FILTER (WHERE kind = 'withdrawal')::int AS withdrawals,
          count(*) FILTER (WHERE cancellation LIKE 'superseded %')::int AS superseded
        FROM notification`
      expect(expected).toEqual({ corrections: 5, withdrawals: 2, superseded: 3 })
      expect(report).toMatchObject(expected ?? {})
      expect(ComplianceReport.format(report)).toContain("of which corrections 5, withdrawals 2")
    }))
})
