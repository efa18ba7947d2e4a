/** The engine under every agreement: Bedford's recipients and notification types, overrides, explain. */
import { Child, Decision, Incident, Recipient } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either, FastCheck as fc } from "effect"
import type { Agreement } from "../src/index.js"
import { Authorization, Explain, Policy } from "../src/index.js"
import * as F from "./Fixtures.js"

const bedfordIncident = (spec: F.IncidentSpec = {}) =>
  F.incident({ localAuthority: "E06000055", ...spec })
const kid = (spec: F.ChildSpec) => F.child({ residence: "E06000055", riskGrading: "standard", schools: ["200001"], ...spec })
const keyOf = (r: Recipient.Recipient) => Recipient.recipientKey(r)

describe("Bedford: recipients and notification types", () => {
  it("Bedford ISA 7: an EHE child goes to the council's EHE team, not a school", () => {
    const { decisions, notifications } = Policy.evaluate(bedfordIncident({ children: [kid({ schools: ["EHE"] })] }), F.bedfordReviewed, F.fullOptions)
    expect(decisions.map((d) => [keyOf(d.recipient), d.outcome])).toEqual([
      ["ehe-team:E06000055", "share"],
      ["front-door:E06000055", "share"]
    ])
    const ehe = notifications.find((n) => n.recipient._tag === "EheTeam")
    expect(ehe?.payload.localAuthority).toBe("E06000055")
    expect(ehe?.payload.setting).toBeUndefined()
    expect(ehe?.route.addresses).toEqual(["ehe-team@E06000055.gov.example"])
    expect(notifications.some((n) => n.recipient._tag === "Setting")).toBe(false)
  })

  it("Bedford ISA 4, 7 / TVP ISA 3: a missing episode is shared under Bedford and withheld, with the reason, under TVP", () => {
    const episode = bedfordIncident({ category: "missing-episode", circumstances: "Reported missing after school, found next morning", children: [kid({ voiceOfChild: "Said they stayed with a friend" })] })
    const bedford = Policy.evaluate(episode, F.bedfordReviewed, F.fullOptions)
    const school = bedford.notifications.find((n) => n.recipient._tag === "Setting")
    if (school === undefined) throw new Error("expected a notification to the school")
    expect(school.payload.type).toBe("operation-encompass/missing-episode")
    expect(Object.keys(school?.payload.children[0] ?? {}).sort()).toEqual(["dateOfBirth", "name"])
    expect(school?.payload.circumstances).toBe("Reported missing after school, found next morning")
    expect(bedford.decisions[0]?.notificationType).toBe("operation-encompass/missing-episode")
    expect(Either.isRight(Authorization.authorize(school, F.bedfordReviewed))).toBe(true)

    const tvp = Policy.evaluate(F.incident({ category: "missing-episode" }), F.tvp, F.options)
    expect(tvp.notifications).toEqual([])
    expect(tvp.decisions.map((d) => [d.outcome, d.rule, d.clause, d.rationale])).toEqual([
      ["withhold", "category-in-scope", "TVP ISA 3", "The incident is a missing-episode incident; TVP shares domestic incidents only"]
    ])
  })

  it("domain.md requirement 15: a missing-episode payload carrying a domestic-only field is refused at the gate", () => {
    const episode = bedfordIncident({ category: "missing-episode", children: [kid({})] })
    const [n] = Policy.evaluate(episode, F.bedfordReviewed, F.fullOptions).notifications
    if (n === undefined) throw new Error("expected a notification")
    const tampered = { ...n, payload: { ...n.payload, incidentAddress: episode.address } } as typeof n
    expect(Either.isLeft(Authorization.authorize(tampered, F.bedfordReviewed))).toBe(true)
  })

  it("Bedford ISA 10: a high-risk case still produces the notification, flagged for a phone call", () => {
    const { decisions, notifications } = Policy.evaluate(bedfordIncident({ children: [kid({ riskGrading: "high" })] }), F.bedfordReviewed, F.fullOptions)
    expect(decisions.map((d) => d.outcome)).toEqual(["phone-first", "phone-first"])
    expect(decisions[0]?.fields).toEqual(F.bedfordReviewed.fields.permitted)
    expect(notifications.map((n) => n.phoneFirst)).toEqual([true, true])
    expect(JSON.stringify(notifications.map((n) => n.payload))).not.toMatch(/high/)
  })

  it("DESIGN §5: fan-out under Bedford gives one notification per recipient, siblings grouped, the front door once", () => {
    const incident = bedfordIncident({
      children: [
        kid({ ref: "P1", givenName: "Ada" }),
        kid({ ref: "P2", givenName: "Bea" }),
        kid({ ref: "P3", givenName: "Cal", schools: ["200004"] }),
        kid({ ref: "P1", givenName: "Ada" })
      ]
    })
    const { decisions, notifications } = Policy.evaluate(incident, F.bedfordReviewed, F.fullOptions)
    expect(decisions).toHaveLength(6)
    expect(notifications.map((n) => [keyOf(n.recipient), n.children])).toEqual([
      ["setting:200001", ["P1", "P2"]],
      ["front-door:E06000055", ["P1", "P2", "P3"]],
      ["setting:200004", ["P3"]]
    ])
    expect(JSON.stringify(notifications[2]?.payload)).not.toMatch(/Ada|Bea/)
    expect(notifications.map((n) => n.key)).toEqual([
      "niche-rms:43/12345/26:setting:200001:v1",
      "niche-rms:43/12345/26:front-door:E06000055:v1",
      "niche-rms:43/12345/26:setting:200004:v1"
    ])
  })

  it("TVP ISA 3: an override is recorded on the decision and named in the rationale", () => {
    const at = DateTime.unsafeMake("2026-03-02T22:00:00Z")
    const override = new Decision.Override({ by: "PVP duty inspector 4471", at, reason: "overriding public safety requirement" })
    const { decisions, notifications } = Policy.evaluate(F.incident({ children: [F.child({ sensitive: true })] }), F.tvp, {
      ...F.options,
      overrides: [{ child: F.child().ref, recipient: "setting:100001", override }]
    })
    expect(decisions[0]?.override).toEqual(override)
    expect(decisions[0]?.rationale).toContain("override recorded by PVP duty inspector 4471 at 2026-03-02T22:00:00.000Z")
    expect(notifications).toHaveLength(1)
  })

  it("an override for another recipient does not release the case", () => {
    const override = new Decision.Override({ by: "x", at: DateTime.unsafeMake("2026-03-02T22:00:00Z"), reason: "y" })
    const { decisions } = Policy.evaluate(F.incident({ children: [F.child({ sensitive: true })] }), F.tvp, {
      ...F.options,
      overrides: [{ child: F.child().ref, recipient: "setting:100002", override }]
    })
    expect(decisions[0]?.rule).toBe("sensitive-case")
  })

  it("of several agreements, the one in force that covers the category decides", () => {
    const episode = bedfordIncident({ category: "missing-episode", children: [kid({})] })
    expect(Policy.evaluate(episode, [F.tvp, F.bedfordReviewed], F.fullOptions).agreement.id).toBe("bedford-borough")
    expect(Policy.evaluate(bedfordIncident({ children: [kid({})] }), [F.bedford, F.baseline], F.fullOptions).agreement.id).toBe("statutory-baseline")
    expect(Policy.evaluate(F.incident({ category: "other" }), [F.tvp, F.baseline], F.options).agreement.id).toBe("tvp-schools")
  })

  it("domain.md requirement 21: every decision records the agreement version", () => {
    const { decisions } = Policy.evaluate(F.incident(), F.tvp, F.options)
    expect(decisions[0]?.agreementVersion).toBe(1)
  })
})

describe("Explain: what `policy explain` prints", () => {
  it("per child and recipient: decision, rule, clause, rationale, fields, deadline and channel", () => {
    const incident = bedfordIncident({ occurredAt: "2026-03-06T21:00:00Z", children: [kid({ ref: "P1" }), kid({ ref: "P2", schools: ["200006"] })] })
    const rows = Explain.explain(Policy.evaluate(incident, F.bedfordReviewed, F.fullOptions))
    expect(rows.map((r) => [r.child, r.recipient, r.outcome, r.rule, r.clause, r.channel])).toEqual([
      ["P1", "setting:200001", "share", "share-permitted-fields", "Bedford ISA 7, 9", "secure-email"],
      ["P1", "front-door:E06000055", "share", "share-permitted-fields", "Bedford ISA 7, 9", "secure-email"],
      ["P2", "setting:200006", "withhold", "setting-signed-up", "Bedford ISA 10", undefined],
      ["P2", "front-door:E06000055", "share", "share-permitted-fields", "Bedford ISA 7, 9", "secure-email"]
    ])
    expect(rows[0]?.deadline).toBe("2026-03-09T08:30:00.000+00:00")
    expect(rows[2]?.fields).toEqual([])
    const text = Explain.format(rows)
    expect(text).toContain("P2 -> setting:200006: WITHHOLD")
    expect(text).toContain("rule setting-signed-up (Bedford ISA 10), agreement bedford-borough v1")
  })
})

// Random incidents under every agreement: any category, presence, grading, sensitivity, age,
// council, optional fields and mix of settings.
const childArb = fc.record({
  presence: fc.constantFrom(...Child.Presence.literals),
  riskGrading: fc.constantFrom(...Child.RiskGrading.literals),
  sensitive: fc.boolean(),
  ambiguous: fc.boolean(),
  residence: fc.constantFrom("E06000055", "E06000056", "E06000032", "E06000042"),
  voiceOfChild: fc.constantFrom("Said nothing", "Was asleep"),
  presenceLocation: fc.constantFrom("Upstairs", "Kitchen"),
  dateOfBirth: fc.date({ min: new Date("2005-01-01"), max: new Date("2026-01-01"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  schools: fc.array(fc.constantFrom("100001", "100002", "100007", "100008", "200001", "200002", "200003", "200004", "200005", "999999", "EHE"), { minLength: 1, maxLength: 3 })
})
const incidentArb = fc.record({
  category: fc.constantFrom(...Incident.IncidentCategory.literals),
  occurredAt: fc.date({ min: new Date("2021-06-01"), max: new Date("2028-06-01"), noInvalidDate: true }).map((d) => d.toISOString()),
  localAuthority: fc.constantFrom("E06000055", "E06000032", "E06000042"),
  circumstances: fc.constantFrom("Argument between adults", "Neighbour called police"),
  version: fc.integer({ min: 1, max: 3 }),
  children: fc.array(childArb, { minLength: 1, maxLength: 4 })
})
const agreementArb = fc.constantFrom(...Object.values(F.agreements))

const profileOf = (agreement: Agreement.Agreement, type: Decision.NotificationType): ReadonlyArray<Decision.FieldName> =>
  type === "operation-encompass/missing-episode" ? agreement.missingEpisode?.fields.permitted ?? [] : agreement.fields.permitted

const fieldOf: Record<string, Decision.FieldName> = {
  name: "childName", age: "age", dateOfBirth: "dateOfBirth", homeAddress: "homeAddress", presence: "presence",
  presenceLocation: "presenceLocation", voiceOfChild: "voiceOfChild", occurrenceNumber: "occurrenceNumber",
  incidentDateTime: "incidentDateTime", incidentAddress: "incidentAddress", circumstances: "circumstances"
}
const envelope = new Set(["type", "reference", "version", "setting", "localAuthority", "children"])

describe("Minimisation proof (property, every agreement)", () => {
  it.prop(
    "TVP ISA 3, 4.4; Bedford ISA 9: no payload ever carries a field its agreement does not permit for its type",
    { spec: incidentArb, agreement: agreementArb },
    ({ agreement, spec }) => {
      const incident = F.incident({ ...spec, children: spec.children.map((c, i) => F.child({ ...c, ref: `P${i}` })) })
      const { decisions, notifications } = Policy.evaluate(incident, agreement, F.fullOptions)
      for (const d of decisions) {
        expect(d.rationale.length > 0 && d.clause.length > 0).toBe(true)
        expect(d.fields.length > 0).toBe(d.outcome === "share" || d.outcome === "phone-first")
      }
      const sent = new Set(decisions.filter((d) => d.outcome === "share" || d.outcome === "phone-first").map((d) => `${d.child}|${keyOf(d.recipient)}`))
      for (const n of notifications) {
        const permitted = profileOf(agreement, n.payload.type)
        expect(Either.isRight(Authorization.authorize(n, agreement))).toBe(true)
        for (const child of n.children) expect(sent.has(`${child}|${keyOf(n.recipient)}`)).toBe(true)
        for (const key of Object.keys(n.payload)) {
          if (!envelope.has(key)) expect(permitted).toContain(fieldOf[key])
        }
        for (const child of n.payload.children) {
          for (const key of Object.keys(child)) expect(permitted).toContain(fieldOf[key])
        }
        expect(JSON.stringify(n.payload)).not.toMatch(/"(riskGrading|sensitive|matchAmbiguous|residenceLocalAuthority|ref|locator)"/)
      }
    },
    { fastCheck: { numRuns: 400 } }
  )
})
