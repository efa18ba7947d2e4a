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

  it("a route's pinned OpenPGP key survives the outbox's encode and decode; a route stored before it decodes with none", () => {
    const fingerprint = Ids.OpenPgpFingerprint.make("0D3F6C3E1A5B9F2C7E4D8A6B1C0F9E8D7A6B5C4D")
    const route = new Recipient.Route({ channel: Ids.ChannelId.make("sftp"), addresses: ["sftp:bedford-ehe"], openPgpKey: fingerprint })
    const stored = JSON.parse(JSON.stringify(Schema.encodeSync(Recipient.Route)(route)))
    expect(Schema.decodeUnknownSync(Recipient.Route)(stored).openPgpKey).toBe(fingerprint)
    expect(Schema.decodeUnknownSync(Recipient.Route)({ channel: "secure-email", addresses: ["dsl@x.sch.example"] }).openPgpKey).toBeUndefined()
    expect(Either.isLeft(Schema.decodeUnknownEither(Recipient.Route)({ ...stored, openPgpKey: "0d3f" }))).toBe(true)
  })
})
