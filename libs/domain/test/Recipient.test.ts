import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { Ids, Recipient } from "../src/index.js"

const la = Ids.LocalAuthorityCode.make("E06000055")

describe("Recipient", () => {
  it("recipient keys name the kind and, for councils, the council; an EHE team without one keeps the old key", () => {
    expect(Recipient.recipientKey(new Recipient.SettingRecipient({ urn: Ids.Urn.make("100001") }))).toBe("setting:100001")
    expect(Recipient.recipientKey(new Recipient.EheTeamRecipient())).toBe("ehe-team")
    expect(Recipient.recipientKey(new Recipient.EheTeamRecipient({ localAuthority: la }))).toBe("ehe-team:E06000055")
    expect(Recipient.recipientKey(new Recipient.CouncilFrontDoorRecipient({ localAuthority: la }))).toBe("front-door:E06000055")
  })

  it("a local authority code is an ONS code for England or Wales", () => {
    const decode = Schema.decodeUnknownEither(Ids.LocalAuthorityCode)
    expect(Either.isRight(decode("W06000015"))).toBe(true)
    expect(Either.isLeft(decode("Bedford"))).toBe(true)
    expect(Either.isLeft(decode("S12000033"))).toBe(true)
  })
})
