import { Ids, Notification } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Either, Option } from "effect"
import { Authorization, Policy, Supplement } from "../src/index.js"
import * as F from "./Fixtures.js"

const [both] = Policy.evaluate(
  F.incident({ children: [F.child({ ref: "P1", givenName: "Ada" }), F.child({ ref: "P2", givenName: "Bea" })] }),
  F.tvp,
  F.options
).notifications
const reference = Ids.GatewayRef.make("EG-AAAA-BBBB-CCCC")
const adds = Option.some({ reference: Ids.GatewayRef.make("EG-1111-2222-3333"), version: 1 })

describe("Supplement (a child shared after its recipient was sent the version)", () => {
  it("holds only the children not sent, with their own minimised details, names what it adds to, and passes the policy gate (TVP ISA 3)", () => {
    if (both === undefined) throw new Error("the fixture incident must be shared")
    const supplement = Option.getOrThrow(Supplement.supplement(both, new Set(["P1"]), { cancelled: 0, reference, adds }))
    expect(supplement.key).toBe(`${both.key}:+P2`)
    expect(supplement.children).toEqual(["P2"])
    expect(supplement.payload.children).toEqual([both.payload.children[1]])
    expect(supplement.payload.supplements).toEqual(new Notification.Supplements({ reference: Ids.GatewayRef.make("EG-1111-2222-3333"), version: 1 }))
    expect(supplement.payload.reference).toBe(reference)
    expect(Notification.kindOf(supplement)).toBe("notification")
    expect(Either.isRight(Authorization.authorize(supplement, F.tvp))).toBe(true)
  })

  it("is none when every child was sent; stands alone when the recipient holds no notification of the version", () => {
    if (both === undefined) throw new Error("the fixture incident must be shared")
    expect(Option.isNone(Supplement.supplement(both, new Set(["P1", "P2"]), { cancelled: 0, reference, adds }))).toBe(true)
    const alone = Option.getOrThrow(Supplement.supplement(both, new Set(), { cancelled: 1, reference, adds: Option.none() }))
    expect(alone.children).toEqual(["P1", "P2"])
    expect(alone.key).toBe(`${both.key}:+P1+P2#1`)
    expect(alone.payload.supplements).toBeUndefined()
  })
})
