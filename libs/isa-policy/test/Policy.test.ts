import { Ids, Recipient, Setting } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Option } from "effect"
import { Policy } from "../src/index.js"
import * as F from "./Fixtures.js"

/** Decides one incident and returns the decisions for child P1. */
const decide = (spec: F.IncidentSpec) => Policy.evaluate(F.incident(spec), F.tvp, F.options)

const one = (childSpec: F.ChildSpec, spec: F.IncidentSpec = {}) => {
  const { decisions } = decide({ ...spec, children: [F.child(childSpec)] })
  const [decision, ...more] = decisions
  if (decision === undefined || more.length > 0) throw new Error("expected exactly one decision")
  return decision
}

interface Case {
  readonly name: string
  readonly child: F.ChildSpec
  readonly incident?: F.IncidentSpec
  readonly outcome: "share" | "withhold" | "needs-review"
  readonly rule: string
  readonly clause: string
}

// Incident on Mon 2 March 2026 at 21:00 GMT unless a case says otherwise.
const cases: ReadonlyArray<Case> = [
  { name: "TVP ISA 3: a domestic incident with a present child at a signed-up school is shared", child: {}, outcome: "share", rule: "share-permitted-fields", clause: "TVP ISA 3" },
  { name: "TVP ISA 3: a child who was a witness is shared", child: { presence: "witness" }, outcome: "share", rule: "share-permitted-fields", clause: "TVP ISA 3" },
  { name: "TVP ISA 3: an incident outside the domestic category is withheld", child: {}, incident: { category: "missing-episode" }, outcome: "withhold", rule: "category-in-scope", clause: "TVP ISA 3" },
  { name: "TVP ISA 3: a child not present or a witness is withheld", child: { presence: "not-present" }, outcome: "withhold", rule: "child-present-or-witness", clause: "TVP ISA 3" },
  { name: "TVP practice 4-17: a child aged 3 on the incident date (4 the next day) is withheld", child: { dateOfBirth: "2022-03-03" }, outcome: "withhold", rule: "child-age-band", clause: "TVP practice, ages 4-17 (domain.md §1.2)" },
  { name: "TVP practice 4-17: a child turning 4 on the incident date is shared", child: { dateOfBirth: "2022-03-02" }, outcome: "share", rule: "share-permitted-fields", clause: "TVP ISA 3" },
  { name: "TVP practice 4-17: a child aged 17 (18 the next day) is shared", child: { dateOfBirth: "2008-03-03" }, outcome: "share", rule: "share-permitted-fields", clause: "TVP ISA 3" },
  { name: "TVP practice 4-17: a child turning 18 on the incident date is withheld", child: { dateOfBirth: "2008-03-02" }, outcome: "withhold", rule: "child-age-band", clause: "TVP practice, ages 4-17 (domain.md §1.2)" },
  {
    name: "TVP practice 4-17: age is taken on the London date (00:30 BST is already the 4th birthday)",
    child: { dateOfBirth: "2022-06-15" },
    incident: { occurredAt: "2026-06-14T23:30:00Z" },
    outcome: "share",
    rule: "share-permitted-fields",
    clause: "TVP ISA 3"
  },
  { name: "TVP ISA 4.2, 7: a URN not in the directory needs review", child: { schools: ["999999"] }, outcome: "needs-review", rule: "setting-unknown", clause: "TVP ISA 4.2, 7" },
  { name: "TVP ISA 4.2, 7: a setting that has not signed up is withheld", child: { schools: ["100007"] }, outcome: "withhold", rule: "setting-signed-up", clause: "TVP ISA 4.2, 7" },
  { name: "TVP ISA 4.3a, 4.4: a setting reached only by a channel the agreement does not permit needs review", child: { schools: ["100008"] }, outcome: "needs-review", rule: "channel-permitted", clause: "TVP ISA 4.3a, 4.4" },
  { name: "TVP ISA 3: a sensitive case is withheld pending an override", child: { sensitive: true }, outcome: "withhold", rule: "sensitive-case", clause: "TVP ISA 3" },
  { name: "TVP ISA 1, 3: the EHE team is not a recipient under TVP, so it is withheld", child: { schools: ["EHE"] }, outcome: "withhold", rule: "recipient-kind-covered", clause: "TVP ISA 1, 3" },
  { name: "TVP ISA 3: the first failing rule decides (not present beats sensitive and unknown URN)", child: { presence: "not-present", sensitive: true, schools: ["999999"] }, outcome: "withhold", rule: "child-present-or-witness", clause: "TVP ISA 3" }
]

describe("Policy.evaluate: one Decision per child and candidate recipient", () => {
  it.each(cases)("$name", ({ child, clause, incident, outcome, rule }) => {
    const decision = one(child, incident)
    expect({ outcome: decision.outcome, rule: decision.rule, clause: decision.clause }).toEqual({ outcome, rule, clause })
    expect(decision.fields).toEqual(outcome === "share" ? F.tvp.fields.permitted : [])
  })

  it("TVP ISA 3: the presence rationale is plain English", () => {
    expect(one({ presence: "not-present" }).rationale).toBe(
      "Child was not present or a witness; TVP shares only when the child was present or a witness"
    )
  })

  it("TVP ISA 4.3: rationales hold no personal data", () => {
    const incident = F.incident({
      children: [
        F.child({ ref: "P1", givenName: "Zebedee", presence: "not-present" }),
        F.child({ ref: "P2", givenName: "Zebedee", dateOfBirth: "2024-01-01" }),
        F.child({ ref: "P3", givenName: "Zebedee", schools: ["999999", "100007", "100008", "EHE"] }),
        F.child({ ref: "P4", givenName: "Zebedee", sensitive: true }),
        F.child({ ref: "P5", givenName: "Zebedee" })
      ]
    })
    const { decisions } = Policy.evaluate(incident, F.tvp, F.options)
    expect(new Set(decisions.map((d) => d.rule)).size).toBe(8)
    for (const d of decisions) {
      for (const personal of ["Zebedee", "Example", "2024-01-01", "2017-03-01", "999999", "Example Road", "Sample Street", "43/12345/26", "P3"]) {
        expect(d.rationale).not.toContain(personal)
      }
    }
  })

  it("TVP ISA 4.3: withheld decisions are recorded like shared ones, each with the deadline", () => {
    const { decisions } = decide({
      occurredAt: "2026-10-23T20:00:00Z",
      children: [F.child({ ref: "P1" }), F.child({ ref: "P2", presence: "not-present" })]
    })
    expect(decisions.map((d) => [d.child, d.outcome])).toEqual([["P1", "share"], ["P2", "withhold"]])
    for (const d of decisions) {
      expect(DateTime.formatIso(d.deadline)).toBe("2026-10-26T08:30:00.000Z")
      expect([d.agreement, d.occurrence, d.version]).toEqual(["tvp-schools", "43/12345/26", 1])
    }
  })
})

describe("Policy.evaluate: fan-out, one Notification per recipient setting", () => {
  const siblings = F.incident({
    children: [
      F.child({ ref: "P1", givenName: "Ada", schools: ["100001"] }),
      F.child({ ref: "P2", givenName: "Bea", schools: ["100001"] }),
      F.child({ ref: "P3", givenName: "Cal", schools: ["100002"] }),
      F.child({ ref: "P4", givenName: "Dot", schools: ["100003"], presence: "not-present" })
    ]
  })
  const { decisions, notifications } = Policy.evaluate(siblings, F.tvp, F.options)
  const at = (urn: string) => notifications.find((n) => n.recipient._tag === "Setting" && n.recipient.urn === urn)
  const alder = () => {
    const n = at("100001")
    if (n === undefined) throw new Error("expected a notification to 100001")
    return n
  }

  it("DESIGN §5: N children at M settings give M notifications, siblings at one setting grouped", () => {
    expect(decisions).toHaveLength(4)
    expect(notifications.map((n) => [Recipient.recipientKey(n.recipient), n.children])).toEqual([
      ["setting:100001", ["P1", "P2"]],
      ["setting:100002", ["P3"]]
    ])
    expect(at("100001")?.payload.children.map((c) => c.name?.givenName)).toEqual(["Ada", "Bea"])
  })

  it("domain.md req. 12: a sibling at another setting never appears in a setting's payload", () => {
    expect(JSON.stringify(at("100002")?.payload)).not.toMatch(/Ada|Bea|Dot/)
    expect(JSON.stringify(at("100001")?.payload)).not.toMatch(/Cal|Dot/)
  })

  it("TVP ISA 3: a withheld child is in no notification, and no setting is told about nothing", () => {
    expect(at("100003")).toBeUndefined()
    const none = Policy.evaluate(F.incident({ children: [F.child({ presence: "not-present" })] }), F.tvp, F.options)
    expect(none.notifications).toEqual([])
  })

  it("domain.md req. 2: a child dual-registered at two settings appears in both notifications", () => {
    const { notifications } = decide({ children: [F.child({ ref: "P1", schools: ["100001", "100002"] })] })
    expect(notifications.map((n) => [Recipient.recipientKey(n.recipient), n.children])).toEqual([
      ["setting:100001", ["P1"]],
      ["setting:100002", ["P1"]]
    ])
  })

  it("a URN listed twice for one child is one recipient and one decision", () => {
    const { decisions, notifications } = decide({ children: [F.child({ schools: ["100001", "100001"] })] })
    expect([decisions.length, notifications.length, notifications[0]?.children.length]).toEqual([1, 1, 1])
  })

  it("TVP ISA 4.3a: the route is the setting's channel and its generic addresses", () => {
    const n = alder()
    expect([n.route.channel, n.route.addresses]).toEqual(["secure-email", ["dsl@100001.sch.example"]])
    expect([n.agreement, n.occurrence, n.version]).toEqual(["tvp-schools", "43/12345/26", 1])
    expect(DateTime.formatIso(n.deadline)).toBe("2026-03-03T08:30:00.000Z")
  })

  it("DESIGN §6: a setting that pins an OpenPGP key gets it on the route; one that does not, none", () => {
    const fingerprint = Ids.OpenPgpFingerprint.make("0D3F6C3E1A5B9F2C7E4D8A6B1C0F9E8D7A6B5C4D")
    const lookupSetting = (urn: Ids.Urn) =>
      Option.map(F.lookupSetting(urn), (s) => (s.urn === "100001" ? new Setting.Setting({ ...s, openPgpKey: fingerprint }) : s))
    const keyed = Policy.evaluate(siblings, F.tvp, { ...F.options, lookupSetting }).notifications
    expect(keyed.map((n) => [n.recipient._tag === "Setting" && n.recipient.urn, n.route.openPgpKey])).toEqual([
      ["100001", fingerprint],
      ["100002", undefined]
    ])
  })

  it("domain.md req. 13: the idempotency key is (force, occurrence, recipient, version) and stable", () => {
    const n = alder()
    expect(n.key).toBe("niche-rms:43/12345/26:setting:100001:v1")
    expect(n.reference).toBe(F.reference(n.key))
    expect(n.payload.reference).toBe(n.reference)
    const again = Policy.evaluate(siblings, F.tvp, F.options)
    expect(again.notifications.map((x) => x.key)).toEqual(notifications.map((x) => x.key))
  })

  it("TVP ISA 4.1: a corrected record (version 2) gets a new key", () => {
    const { notifications } = decide({ version: 2 })
    expect(notifications[0]?.key).toBe("niche-rms:43/12345/26:setting:100001:v2")
    expect(notifications[0]?.payload.version).toBe(2)
  })
})
