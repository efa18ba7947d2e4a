import { AuthorizedNotification, Ids, Notification, Recipient } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { Agreement, Authorization, Policy } from "../src/index.js"
import * as F from "./Fixtures.js"

const [notification] = Policy.evaluate(F.incident({ children: [F.child({ givenName: "Zebedee" })] }), F.tvp, F.options)
  .notifications
if (notification === undefined) throw new Error("the fixture incident must be shared")

const refused = (n: Notification.Notification, agreement = F.tvp) => {
  const result = Authorization.authorize(n, agreement)
  if (Either.isRight(result)) throw new Error("expected authorisation to be refused")
  return result.left
}

/** A stored notification whose payload gained keys it should not have (a bug, or tampering). */
const withPayload = (payload: object): Notification.Notification =>
  ({ ...notification, payload: { ...notification.payload, ...payload } }) as unknown as Notification.Notification

describe("Authorization.authorize: the last gate before a channel", () => {
  it("TVP ISA 3: a notification the engine built is authorised and carried unchanged", () => {
    const authorised = Either.getOrThrow(Authorization.authorize(notification, F.tvp))
    expect(AuthorizedNotification.isAuthorizedNotification(authorised)).toBe(true)
    expect(authorised.notification).toBe(notification)
  })

  it("TVP ISA 3: a payload with an extra top-level field is refused, naming the key but not the value", () => {
    const error = refused(withPayload({ riskGrading: "high" }))
    expect(error.reason).toBe("FieldNotPermitted")
    expect(error.message).toContain("riskGrading")
    expect(error.message).not.toContain("high")
  })

  it("TVP ISA 3: a child carrying a field outside the TVP list (date of birth) is refused", () => {
    const [first] = notification.payload.children
    const error = refused(withPayload({ children: [{ ...first, dateOfBirth: "2017-03-01" }] }))
    expect(error.reason).toBe("FieldNotPermitted")
    expect(error.message).toContain("children.0.dateOfBirth")
    expect(error.message).not.toMatch(/2017|Zebedee/)
  })

  it("TVP ISA 3: a key that is no field at all is refused", () => {
    const [first] = notification.payload.children
    expect(refused(withPayload({ children: [{ ...first, sensitive: false }] })).message).toContain("children.0.sensitive")
  })

  it("TVP ISA 1, 3: a notification to the EHE team is refused", () => {
    const error = refused(new Notification.Notification({ ...notification, recipient: new Recipient.EheTeamRecipient() }))
    expect(error.reason).toBe("RecipientNotPermitted")
  })

  it("TVP ISA 4.3a, 4.4: a route on a channel the agreement does not permit is refused", () => {
    const route = new Recipient.Route({ ...notification.route, channel: Ids.ChannelId.make("plain-email") })
    expect(refused(new Notification.Notification({ ...notification, route })).reason).toBe("ChannelNotPermitted")
  })

  it("a notification decided under another agreement is refused", () => {
    const other = new Agreement.Agreement({ ...F.tvp, id: Ids.AgreementId.make("bedford-schools") })
    expect(refused(notification, other).reason).toBe("WrongAgreement")
  })

  it("refusals hold no personal data", () => {
    for (const error of [refused(withPayload({ riskGrading: "high" })), refused(notification, new Agreement.Agreement({ ...F.tvp, id: Ids.AgreementId.make("other") }))]) {
      expect(error.message).not.toMatch(/Zebedee|Example|Road|Street|43\/12345/)
    }
  })
})
