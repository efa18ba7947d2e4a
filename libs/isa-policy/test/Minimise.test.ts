import { Child, Decision, Incident, Recipient } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Array as Arr, Either, FastCheck as fc } from "effect"
import { Agreement, Authorization, Minimise, Policy } from "../src/index.js"
import * as F from "./Fixtures.js"

const setting = F.alder
const ref = F.reference(Policy.idempotencyKey(F.incident(), new Recipient.SettingRecipient({ urn: setting.urn })))

describe("Minimise", () => {
  it("TVP ISA 3: the payload carries exactly the TVP fields, nothing else", () => {
    const incident = F.incident({ occurredAt: "2026-06-14T22:30:00Z", children: [F.child({ dateOfBirth: "2015-06-15" })] })
    const payload = Minimise.minimise(incident, incident.children, F.tvp.fields.permitted, setting, ref, F.tvp.timeZone)
    expect(Object.keys(payload).sort()).toEqual(
      ["children", "incidentAddress", "incidentDateTime", "occurrenceNumber", "reference", "setting", "type", "version"].sort()
    )
    expect(Object.keys(payload.children[0]).sort()).toEqual(["age", "homeAddress", "name"])
    expect(payload.incidentDateTime).toBe("2026-06-14T23:30:00.000+01:00")
    // 23:30 BST on the 14th: the 11th birthday is tomorrow.
    expect(payload.children[0].age).toBe(10)
    expect(payload.children[0].name).toEqual({ givenName: "Ada", familyName: "Example" })
    expect(payload.occurrenceNumber).toBe("43/12345/26")
    expect(payload.setting).toEqual({ urn: setting.urn, name: setting.name })
  })

  it("TVP ISA 3: seriousness (risk grading), the sensitive flag, DOB and presence are never copied", () => {
    const incident = F.incident({ children: [F.child({ riskGrading: "high", presence: "witness" })] })
    const payload = Minimise.minimise(incident, incident.children, F.tvp.fields.permitted, setting, ref, F.tvp.timeZone)
    const json = JSON.stringify(payload)
    for (const absent of ["riskGrading", "high", "sensitive", "dateOfBirth", "2017-03-01", "presence", "witness", "P1", "line 2"]) {
      expect(json).not.toContain(absent)
    }
  })

  it("a field is present only when permitted: DOB and presence appear when an agreement permits them", () => {
    const incident = F.incident()
    const only = Minimise.minimise(incident, incident.children, ["childName"], setting, ref, F.tvp.timeZone)
    expect(Object.keys(only.children[0])).toEqual(["name"])
    expect(only.occurrenceNumber).toBeUndefined()
    const more = Minimise.minimise(incident, incident.children, ["dateOfBirth", "presence"], setting, ref, F.tvp.timeZone)
    expect(more.children[0]).toEqual({ dateOfBirth: "2017-03-01", presence: "present" })
  })
})

// Random incidents: any category, presence, grading, sensitivity, age and mix of settings.
const childArb = fc.record({
  presence: fc.constantFrom(...Child.Presence.literals),
  riskGrading: fc.constantFrom(...Child.RiskGrading.literals),
  sensitive: fc.boolean(),
  dateOfBirth: fc.date({ min: new Date("2005-01-01"), max: new Date("2026-01-01"), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  schools: fc.array(fc.constantFrom("100001", "100002", "100003", "100007", "100008", "999999", "EHE"), { minLength: 1, maxLength: 3 })
})
const incidentArb = fc.record({
  category: fc.constantFrom(...Incident.IncidentCategory.literals),
  occurredAt: fc.date({ min: new Date("2024-01-01"), max: new Date("2027-12-31"), noInvalidDate: true }).map((d) => d.toISOString()),
  version: fc.integer({ min: 1, max: 5 }),
  children: fc.array(childArb, { minLength: 1, maxLength: 5 })
})
const permittedArb = fc.uniqueArray(fc.constantFrom(...Decision.FieldName.literals), { minLength: 1 })

/** Every key and value in a payload, flattened, so a leak anywhere is seen. */
const entries = (value: unknown, path = ""): Array<[string, unknown]> =>
  typeof value === "object" && value !== null
    ? Object.entries(value).flatMap(([k, v]) => [[`${path}${k}`, v] as [string, unknown], ...entries(v, `${path}${k}.`)])
    : []

describe("Minimise (property)", () => {
  it.prop(
    "TVP ISA 3, 4.4: for any incident and any permitted set, no payload carries an unpermitted field, a risk grading or the sensitive flag",
    { spec: incidentArb, permitted: permittedArb },
    ({ permitted, spec }) => {
      const agreement = new Agreement.Agreement({
        ...F.tvp,
        fields: new Agreement.FieldRule({ ...F.tvp.fields, permitted: permitted as Arr.NonEmptyArray<Decision.FieldName> })
      })
      const incident = F.incident({
        ...spec,
        children: spec.children.map((c, i) => F.child({ ...c, ref: `P${i}` }))
      })
      const { decisions, notifications } = Policy.evaluate(incident, agreement, F.options)
      const shared = new Set(decisions.filter((d) => d.outcome === "share").map((d) => d.child))
      for (const n of notifications) {
        // The engine's own last gate agrees.
        expect(Either.isRight(Authorization.authorize(n, agreement))).toBe(true)
        for (const child of n.children) expect(shared.has(child)).toBe(true)
        for (const [key, value] of entries(n.payload)) {
          expect(["riskGrading", "sensitive", "ref", "locator", "education"]).not.toContain(key.split(".").at(-1))
          expect(typeof value).not.toBe("boolean")
          expect(["standard", "medium", "high"]).not.toContain(value)
        }
        const childKeys = new Set(n.payload.children.flatMap((c) => Object.keys(c)))
        const fieldOf = { name: "childName", age: "age", dateOfBirth: "dateOfBirth", homeAddress: "homeAddress", presence: "presence" } as const
        for (const key of childKeys) expect(permitted).toContain(fieldOf[key as keyof typeof fieldOf])
        for (const key of ["occurrenceNumber", "incidentDateTime", "incidentAddress"] as const) {
          expect(key in n.payload).toBe(permitted.includes(key))
        }
      }
    },
    { fastCheck: { numRuns: 300 } }
  )
})
