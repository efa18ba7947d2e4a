import { Ids, Notification } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { Authorization, Correction, Policy } from "../src/index.js"
import * as F from "./Fixtures.js"

const sharedWith = (incident: Parameters<typeof Policy.evaluate>[0]) => {
  const [notification] = Policy.evaluate(incident, F.tvp, F.options).notifications
  if (notification === undefined) throw new Error("the fixture incident must be shared")
  return notification
}

const original = sharedWith(F.incident({ children: [F.child({ ref: "P1", givenName: "Ada" })] }))

describe("Correction (TVP ISA 4.1: the provider corrects and notifies all other recipients)", () => {
  it("names the fields whose content changed, never their values", () => {
    const renamed = sharedWith(F.incident({ version: 2, children: [F.child({ ref: "P1", givenName: "Adah" })] }))
    expect(Correction.changedFields(original, renamed)).toEqual(["childName"])
    const later = sharedWith(F.incident({ version: 2, occurredAt: "2026-03-02T22:30:00Z", children: [F.child({ ref: "P1", givenName: "Ada" })] }))
    expect(Correction.changedFields(original, later)).toEqual(["incidentDateTime"])
    const same = sharedWith(F.incident({ version: 2, children: [F.child({ ref: "P1", givenName: "Ada" })] }))
    expect(Correction.changedFields(original, same)).toEqual([])
  })

  it("matches children by person, so a child added (or one dropped) shows as a change of children, not of every field", () => {
    const added = sharedWith(F.incident({ version: 2, children: [F.child({ ref: "P0", givenName: "Bea" }), F.child({ ref: "P1", givenName: "Ada" })] }))
    expect(Correction.changedFields(original, added)).toEqual(["children"])
    expect(Correction.changedFields(added, original)).toEqual(["children"])
  })

  it("a correction is the new version's own notification, naming what it replaces; it passes the policy gate", () => {
    const next = sharedWith(F.incident({ version: 2, children: [F.child({ ref: "P1", givenName: "Adah" })] }))
    const correction = Correction.correct(next, original)
    expect(correction.reference).toBe(next.reference)
    expect(correction.payload.corrects).toEqual(new Notification.Corrects({ reference: original.reference, version: 1, changed: ["childName"] }))
    expect(Notification.kindOf(correction)).toBe("correction")
    expect(Either.isRight(Authorization.authorize(correction, F.tvp))).toBe(true)
  })

  it("a withdrawal carries references only — no child, no incident field — and passes the policy gate", () => {
    const deadline = F.at("2026-03-04T08:30:00Z")
    const withdrawal = Correction.withdraw(original, { reference: Ids.GatewayRef.make("EG-0000-0000-0001"), version: 1, reason: "sent-in-error", deadline })
    expect(withdrawal.key).toBe(Correction.withdrawalKey(original.key))
    expect(withdrawal.route).toEqual(original.route)
    expect(Notification.kindOf(withdrawal)).toBe("withdrawal")
    expect(Object.keys(withdrawal.payload).sort()).toEqual(["reason", "reference", "setting", "type", "version", "withdraws"])
    expect(JSON.stringify(withdrawal.payload)).not.toMatch(/Ada|Example Road|Sample Street|2017|43\/12345/)
    expect(Either.isRight(Authorization.authorize(withdrawal, F.tvp))).toBe(true)
  })

  it("a withdrawal altered to carry a child's details is refused at the gate", () => {
    const withdrawal = Correction.withdraw(original, { reference: Ids.GatewayRef.make("EG-0000-0000-0002"), version: 1, reason: "sent-in-error", deadline: F.at("2026-03-04T08:30:00Z") })
    const tampered = { ...withdrawal, payload: { ...withdrawal.payload, children: [{ name: { givenName: "Ada", familyName: "Example" } }] } } as unknown as Notification.Notification
    const refused = Authorization.authorize(tampered, F.tvp)
    expect(Either.isLeft(refused) && refused.left.reason).toBe("FieldNotPermitted")
    expect(Either.isLeft(refused) && refused.left.message).not.toContain("Ada")
  })
})
