import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ActiveSources, Outbox, Overrides, Redecide } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import { deliveredTo, ingest, rows, TestLive } from "./IngestHarness.js"

const withSource = Effect.provideService(ActiveSources.ActiveSources, ActiveSources.ActiveSources.fromPlugins([Fixtures.sourceOf([])]))
const grant = (occurrence: string, child: string, extra: { recipient?: string } = {}) =>
  withSource(Overrides.grant({ occurrence, child, by: "Jo Bloggs", role: "Detective Inspector, MASH", reason: "overriding public safety requirement", ...extra }))
const revoke = (id: string) => withSource(Overrides.revoke(id, { by: "Ann Other", reason: "proceedings would be prejudiced" }))

const decisionsOf = (occurrence: string) =>
  rows<{ version: number; child_ref: string; recipient: string; outcome: string; rule: string; clause: string; rationale: string; cause: string | null }>`SELECT
    version, child_ref, recipient, outcome, rule, clause, rationale, cause FROM decision WHERE occurrence = ${occurrence} ORDER BY version, id`
const outboxOf = (occurrence: string) =>
  rows<{ reference: string; version: number; kind: string; state: string }>`SELECT reference, version, kind, state FROM notification
    WHERE occurrence = ${occurrence} ORDER BY id`

layer(TestLive, { timeout: 120_000 })("Overrides (TVP ISA 3)", (it) => {
  it.effect("TVP ISA 3: a sensitive case is withheld until an override is granted; the grant decides it again at once, citing the override and the clause, and notifies once", () =>
    Effect.gen(function*() {
      const occurrence = "43/300001/26"
      const first = yield* ingest("s1.csv", [Fixtures.incident(occurrence, [{ ref: "A", urn: "100001", sensitive: true, line: 2 }])])
      expect(first.decisions.map((d) => [d.outcome, d.rule, d.clause])).toEqual([["withhold", "sensitive-case", "TVP ISA 3"]])
      expect(yield* outboxOf(occurrence)).toEqual([])

      const granted = yield* grant(occurrence, "A")
      const { id } = granted.override
      expect(granted.override).toMatchObject({ child: "A", recipient: null, by: "Jo Bloggs", role: "Detective Inspector, MASH", revokedAt: null })
      expect(granted.decided.notificationsCreated).toBe(1)
      const [decision] = yield* decisionsOf(occurrence)
      expect(decision).toMatchObject({ outcome: "share", rule: "sensitive-override", clause: "TVP ISA 3", cause: `override ${id} granted by Jo Bloggs (Detective Inspector, MASH)` })
      expect(decision?.rationale).toContain(`released by override ${id} recorded by Detective Inspector, MASH`)
      expect(granted.decided.decisions[0]?.override).toMatch(/^Detective Inspector, MASH at /)
      const [event] = yield* rows<{ detail: Record<string, unknown> }>`SELECT detail FROM audit_event WHERE stage = 'overridden' AND subject = ${`override:${id}`}`
      expect(event?.detail).toMatchObject({ occurrence, child: "A", by: "Jo Bloggs", role: "Detective Inspector, MASH", reason: "overriding public safety requirement", clause: "TVP ISA 3" })

      const delivered = yield* Outbox.deliverDue
      expect(delivered.map((d) => d.outcome)).toEqual(["delivered"])
      expect((yield* Effect.flip(grant(occurrence, "A"))).reason).toBe("AlreadyGranted")
      expect((yield* outboxOf(occurrence)).map((n) => n.state)).toEqual(["delivered"])

      // A correction version is decided under the live override: the school gets it as a correction.
      const v2 = yield* ingest("s1v2.csv", [Fixtures.incident(occurrence, [{ ref: "A", urn: "100001", sensitive: true, line: 2 }], { version: 2, address: "7 Corrected Close, Reading" })])
      expect(v2.decisions.map((d) => [d.outcome, d.rule])).toEqual([["share", "sensitive-override"]])
      expect((yield* outboxOf(occurrence)).map((n) => [n.version, n.kind, n.state])).toEqual([[1, "notification", "delivered"], [2, "correction", "delivered"]])

      // Delivered cannot be unsent: revoking says so, and withholds from here on.
      const revoked = yield* revoke(id)
      expect(revoked.cancelled).toEqual([])
      expect(revoked.mayHaveArrived).toHaveLength(2)
      // The school held version 1 and has no part in version 2 any more: it is sent a withdrawal (TVP ISA 4.1).
      expect(revoked.decided.queued.map((q) => [q.kind, q.recipient])).toEqual([["withdrawal", "setting:100001"]])
      expect(revoked.decided.decisions.map((d) => [d.outcome, d.rule])).toEqual([["withhold", "sensitive-case"]])
      expect((yield* decisionsOf(occurrence)).at(-1)?.cause).toBe(`override ${id} revoked by Ann Other`)
      expect((yield* Effect.flip(revoke(id))).reason).toBe("NotLive")
      expect(yield* Overrides.list()).not.toContainEqual(expect.objectContaining({ id }))
      expect(yield* Overrides.list({ all: true })).toContainEqual(expect.objectContaining({ id, revokedBy: "Ann Other", revocation: "proceedings would be prejudiced" }))
    }))

  it.effect("revoking an override before its notification is attempted cancels it, audited", () =>
    Effect.gen(function*() {
      const occurrence = "43/300002/26"
      yield* ingest("s2.csv", [Fixtures.incident(occurrence, [{ ref: "B", urn: "100002", sensitive: true, line: 2 }])])
      const granted = yield* grant(occurrence, "B", { recipient: "setting:100002" })
      const [queued] = yield* outboxOf(occurrence)
      expect(queued?.state).toBe("queued")
      const revoked = yield* revoke(granted.override.id)
      expect(revoked.cancelled).toEqual([queued?.reference])
      expect((yield* outboxOf(occurrence)).map((n) => n.state)).toEqual(["cancelled"])
      const [event] = yield* rows<{ detail: Record<string, unknown> }>`SELECT detail FROM audit_event WHERE stage = 'cancelled' AND subject = ${`notification:${queued?.reference}`}`
      expect(event?.detail).toMatchObject({ operator: "Ann Other", reason: `override ${granted.override.id} revoked: proceedings would be prejudiced` })
      expect(yield* Outbox.deliverDue).toEqual([])
    }))

  it.effect("an override is refused for a case that is not withheld as sensitive, or a child or occurrence not stored", () =>
    Effect.gen(function*() {
      const occurrence = "43/300003/26"
      yield* ingest("s3.csv", [Fixtures.incident(occurrence, [{ ref: "C", urn: "100001", line: 2 }])])
      const notSensitive = yield* Effect.flip(grant(occurrence, "C"))
      expect(notSensitive.reason).toBe("NotSensitive")
      expect(notSensitive.message).toContain("is not marked sensitive (decided: share (share-permitted-fields)); an override releases only a sensitive-case refusal (TVP ISA 3)")
      yield* ingest("s3b.csv", [Fixtures.incident("43/300005/26", [{ ref: "F", urn: "100001", sensitive: true, presence: "not-present", line: 2 }])])
      expect((yield* Effect.flip(grant("43/300005/26", "F"))).message).toContain("is withheld for another reason (decided: withhold (child-present-or-witness))")
      expect((yield* Effect.flip(grant(occurrence, "Z"))).reason).toBe("NotFound")
      expect((yield* Effect.flip(grant("43/399999/26", "C"))).reason).toBe("NotFound")
      expect((yield* Effect.flip(withSource(Overrides.grant({ occurrence, child: "C", by: " ", role: "DI", reason: "x" })))).reason).toBe("Invalid")
      expect(yield* rows`SELECT id FROM sensitive_override WHERE occurrence = ${occurrence}`).toEqual([])
    }))

  it.effect("a child released at a school already sent the version about a sibling reaches it once, as a supplement; a correction version then replaces both", () =>
    Effect.gen(function*() {
      const occurrence = "43/300004/26"
      const children = [{ ref: "D", urn: "100001", line: 2 }, { ref: "E", urn: "100001", sensitive: true, line: 3 }]
      const intake = yield* ingest("s4.csv", [Fixtures.incident(occurrence, children)])
      expect(intake.deliveries.map((d) => d.outcome)).toEqual(["delivered"])
      const [sibling] = yield* outboxOf(occurrence)

      const granted = yield* grant(occurrence, "E")
      expect(granted.decided.queued).toEqual([{ reference: expect.any(String), recipient: "setting:100001", kind: "notification", adds: sibling?.reference }])
      expect((yield* Outbox.deliverDue).map((d) => d.outcome)).toEqual(["delivered"])
      const [first, supplement] = yield* deliveredTo(occurrence)
      expect(first?.notification.children).toEqual(["D"])
      expect(supplement?.notification.children).toEqual(["E"])
      expect(supplement?.notification.payload).toMatchObject({ reference: granted.decided.queued[0]?.reference, supplements: { reference: sibling?.reference, version: 1 } })
      expect(supplement?.notification.payload).toHaveProperty("children", [expect.objectContaining({ name: { givenName: "GivenE", familyName: "Family" } })])

      // Granting again is refused; deciding the version again (a replay) sends no child twice.
      expect((yield* Effect.flip(grant(occurrence, "E"))).reason).toBe("AlreadyGranted")
      const again = yield* withSource(Redecide.again({ source: Fixtures.source, occurrence, version: 1 }, "test: decided again"))
      expect(again.queued).toEqual([])
      expect(yield* Outbox.deliverDue).toEqual([])
      expect(yield* deliveredTo(occurrence)).toHaveLength(2)

      // The school holds both: version 2 reaches it once, as a correction replacing both, children unchanged.
      yield* ingest("s4v2.csv", [Fixtures.incident(occurrence, children, { version: 2, address: "7 Corrected Close, Reading" })])
      const all = yield* deliveredTo(occurrence)
      expect(all).toHaveLength(3)
      expect(all[2]?.notification.children).toEqual(["D", "E"])
      expect(all[2]?.notification.payload).toMatchObject({
        version: 2,
        corrects: { reference: sibling?.reference, version: 1, changed: ["incidentAddress"], additions: [supplement?.notification.reference] }
      })
    }))

  it.effect("revoking an override whose supplement was never attempted cancels the supplement and leaves the sibling's notification; granting again sends a new one", () =>
    Effect.gen(function*() {
      const occurrence = "43/300006/26"
      yield* ingest("s6.csv", [Fixtures.incident(occurrence, [{ ref: "G", urn: "100002", line: 2 }, { ref: "H", urn: "100002", sensitive: true, line: 3 }])])
      const granted = yield* grant(occurrence, "H")
      const [added] = granted.decided.queued
      const revoked = yield* revoke(granted.override.id)
      expect(revoked.cancelled).toEqual([added?.reference])
      expect(revoked.mayHaveArrived).toEqual([])
      expect((yield* outboxOf(occurrence)).map((n) => n.state)).toEqual(["delivered", "cancelled"])
      expect(yield* Outbox.deliverDue).toEqual([])

      // Released again: the cancelled supplement never went, so a new one takes the child, once.
      const regranted = yield* grant(occurrence, "H")
      expect(regranted.decided.queued.map((q) => q.kind)).toEqual(["notification"])
      expect((yield* Outbox.deliverDue).map((d) => d.outcome)).toEqual(["delivered"])
      expect((yield* outboxOf(occurrence)).map((n) => n.state)).toEqual(["delivered", "cancelled", "delivered"])
      expect((yield* deliveredTo(occurrence)).map((d) => d.notification.children)).toEqual([["G"], ["H"]])
    }))
})
