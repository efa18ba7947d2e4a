import { AuditLog } from "@encompass/audit"
import { Rejection } from "@encompass/domain"
import { expect, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { ActiveAgreement } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import { deliveredTo, ingest, Recording, rows, TestLive } from "./IngestHarness.js"

layer(TestLive, { timeout: 120_000 })("Ingest", (it) => {
  it.effect("sends one notification per setting, holding only that setting's children (TVP ISA 3, DESIGN §5)", () =>
    Effect.gen(function*() {
      const report = yield* ingest("fan-out.csv", [
        Fixtures.incident("43/100001/26", [
          { ref: "A", urn: "100001", line: 2 },
          { ref: "B", urn: "100001", line: 3 },
          { ref: "C", urn: "100002", line: 4 }
        ])
      ])
      expect(report.notificationsCreated).toBe(2)
      expect(report.deliveries.map((d) => d.outcome)).toEqual(["delivered", "delivered"])
      const sent = yield* deliveredTo("43/100001/26")
      const byUrn = new Map(sent.flatMap(({ notification: { payload } }) =>
        payload.type === "operation-encompass/withdrawal" ? [] : [[payload.setting?.urn, payload] as const]
      ))
      expect(byUrn.get("100001" as never)?.children.map((c) => c.name?.givenName)).toEqual(["GivenA", "GivenB"])
      expect(byUrn.get("100002" as never)?.children.map((c) => c.name?.givenName)).toEqual(["GivenC"])
      expect(JSON.stringify(byUrn.get("100002" as never))).not.toContain("GivenA")
    }))

  it.effect("ingesting the same feed twice creates no second notification and no second delivery", () =>
    Effect.gen(function*() {
      const items = [Fixtures.incident("43/100002/26", [{ ref: "A", urn: "100001", line: 2 }])]
      const first = yield* ingest("twice.csv", items)
      const second = yield* ingest("twice.csv", items)
      expect(first.notificationsCreated).toBe(1)
      expect(second.feed.repeat).toBe(true)
      expect(second.repeats).toBe(1)
      expect(second.notificationsCreated).toBe(0)
      expect(second.deliveries).toEqual([])
      expect(yield* deliveredTo("43/100002/26")).toHaveLength(1)
      const [n] = yield* rows<{ n: number }>`SELECT count(*)::int AS n FROM notification WHERE occurrence = ${"43/100002/26"}`
      expect(n?.n).toBe(1)
    }))

  it.effect("a rejected record is stored with its line and field, and the rest of the batch goes on", () =>
    Effect.gen(function*() {
      const report = yield* ingest("bad-row.csv", [
        new Rejection.Rejection({ source: Fixtures.source, locator: "line 2", field: "child_dob", reason: "expected a date as YYYY-MM-DD" }),
        Fixtures.incident("43/100003/26", [{ ref: "A", urn: "100001", line: 3 }])
      ])
      expect(report.rejected).toEqual([{ locator: "line 2", field: "child_dob", reason: "expected a date as YYYY-MM-DD", occurrence: undefined }])
      expect(report.deliveries).toHaveLength(1)
      const stored = yield* rows<{ locator: string; field: string }>`SELECT r.locator, r.field FROM rejection r JOIN feed f ON f.id = r.feed_id WHERE f.name = ${"bad-row.csv"}`
      expect(stored).toEqual([{ locator: "line 2", field: "child_dob" }])
    }))

  it.effect("an unknown URN is rejected naming the source's field, and the child is left for a person", () =>
    Effect.gen(function*() {
      const report = yield* ingest("unknown-urn.csv", [
        Fixtures.incident("43/100004/26", [{ ref: "A", urn: "999999", line: 5 }, { ref: "B", urn: "100002", line: 6 }])
      ])
      expect(report.rejected).toEqual([expect.objectContaining({ locator: "line 5", field: "school_urn", occurrence: "43/100004/26" })])
      expect(report.decisions.find((d) => d.child === "A")?.outcome).toBe("needs-review")
      expect(report.deliveries).toHaveLength(1)
    }))

  it.effect("withheld decisions are recorded like shared ones, with rule, clause and rationale (TVP ISA 4.3)", () =>
    Effect.gen(function*() {
      yield* ingest("withheld.csv", [
        Fixtures.incident("43/100005/26", [{ ref: "A", urn: "100001", presence: "not-present", line: 2 }, { ref: "B", urn: "100007", line: 3 }])
      ])
      const decided = yield* rows<{ child_ref: string; outcome: string; rule: string; clause: string; rationale: string }>`
        SELECT child_ref, outcome, rule, clause, rationale FROM decision WHERE occurrence = ${"43/100005/26"} ORDER BY child_ref`
      expect(decided.map((d) => [d.child_ref, d.outcome, d.rule])).toEqual([
        ["A", "withhold", "child-present-or-witness"],
        ["B", "withhold", "setting-signed-up"]
      ])
      for (const d of decided) expect(d.clause).toMatch(/TVP ISA/)
      expect(yield* deliveredTo("43/100005/26")).toEqual([])
    }))

  it.effect("a record re-sent at the same version with different content is quarantined, not sent (TVP ISA 4.1)", () =>
    Effect.gen(function*() {
      yield* ingest("original.csv", [Fixtures.incident("43/100006/26", [{ ref: "A", urn: "100001", line: 2 }])])
      const changed = yield* ingest("changed.csv", [
        Fixtures.incident("43/100006/26", [{ ref: "A", urn: "100001", line: 2 }], { address: "99 Other Road, Slough" })
      ])
      expect(changed.rejected).toEqual([expect.objectContaining({ field: "version", occurrence: "43/100006/26" })])
      expect(yield* deliveredTo("43/100006/26")).toHaveLength(1)
    }))

  it.effect("a retryable failure stays queued with its error; a permanent one goes to the dead letter", () =>
    Effect.gen(function*() {
      const recording = yield* Recording
      yield* Ref.set(recording.behaviour, "transport-error")
      const retry = yield* ingest("retry.csv", [Fixtures.incident("43/100008/26", [{ ref: "A", urn: "100001", line: 2 }])])
      yield* Ref.set(recording.behaviour, "reject")
      const dead = yield* ingest("dead.csv", [Fixtures.incident("43/100009/26", [{ ref: "A", urn: "100002", line: 2 }])])
      yield* Ref.set(recording.behaviour, "accept")
      expect(retry.deliveries.map((d) => d.outcome)).toEqual(["retry"])
      expect(dead.deliveries.map((d) => d.outcome)).toEqual(["dead"])
      const states = yield* rows<{ occurrence: string; state: string; attempts: number; last_error: string }>`
        SELECT occurrence, state, attempts, last_error FROM notification WHERE occurrence IN (${"43/100008/26"}, ${"43/100009/26"}) ORDER BY occurrence`
      expect(states).toEqual([
        { occurrence: "43/100008/26", state: "queued", attempts: 1, last_error: expect.stringContaining("451") },
        { occurrence: "43/100009/26", state: "dead", attempts: 1, last_error: expect.stringContaining("550") }
      ])
    }))

  it.effect("a stored notification altered in the database is never delivered: its sealed body no longer authenticates", () =>
    Effect.gen(function*() {
      const recording = yield* Recording
      yield* Ref.set(recording.behaviour, "transport-error")
      yield* ingest("tampered.csv", [Fixtures.incident("43/100010/26", [{ ref: "A", urn: "100001", line: 2 }])])
      yield* Ref.set(recording.behaviour, "accept")
      // Someone with database access, but not the master key, swaps in the shared part of another notification.
      yield* rows`UPDATE notification SET next_attempt_at = now(),
        body = jsonb_set(body, '{shared}', (SELECT body->'shared' FROM notification WHERE occurrence <> ${"43/100010/26"} ORDER BY id LIMIT 1))
        WHERE occurrence = ${"43/100010/26"}`
      const report = yield* ingest("tampered-again.csv", [])
      const line = report.deliveries.find((d) => d.outcome === "dead")
      expect(line?.detail).toMatch(/unreadable: the sealed notification does not authenticate/)
      expect(yield* deliveredTo("43/100010/26")).toEqual([])
    }))

  it.effect("deadlines follow the school calendar when one is provided: the last Friday of term waits for the new term", () =>
    Effect.gen(function*() {
      const friday = { occurredAt: "2026-12-18T21:00:00Z" }
      yield* ingest("weekdays.csv", [Fixtures.incident("43/100011/26", [{ ref: "A", urn: "100001", line: 2 }], friday)])
      yield* ingest("calendar.csv", [Fixtures.incident("43/100012/26", [{ ref: "A", urn: "100001", line: 2 }], friday)]).pipe(
        Effect.provideService(ActiveAgreement.ActiveCalendar, Fixtures.calendar)
      )
      const deadlines = yield* rows<{ occurrence: string; deadline: string }>`
        SELECT occurrence, to_char(deadline AT TIME ZONE 'Europe/London', 'YYYY-MM-DD HH24:MI') AS deadline FROM notification
        WHERE occurrence IN (${"43/100011/26"}, ${"43/100012/26"}) ORDER BY occurrence`
      expect(deadlines).toEqual([
        { occurrence: "43/100011/26", deadline: "2026-12-21 08:30" },
        { occurrence: "43/100012/26", deadline: "2027-01-04 08:30" }
      ])
    }))

  it.effect("every step is in the audit chain, and the chain verifies", () =>
    Effect.gen(function*() {
      const audit = yield* AuditLog.AuditLog
      const report = yield* audit.verify
      expect(report._tag).toBe("Intact")
      const [stages] = yield* rows<{ stages: Array<string> }>`SELECT array_agg(DISTINCT stage ORDER BY stage) AS stages FROM audit_event`
      expect(stages?.stages).toEqual(expect.arrayContaining(["received", "rejected", "normalised", "decided", "queued", "attempted", "delivered", "duplicate"]))
    }))
})
