import { Notification } from "@encompass/domain"
import { mint } from "@encompass/domain/Authority"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { simpleParser } from "mailparser"
import { decrypt, readMessage } from "openpgp"
import { SecureEmailChannel } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as SmtpSink from "./SmtpSink.js"

/** Sends `notification` to a fresh sink; returns the parsed email and the decrypted attachment. */
const send = (notification: Notification.Notification) =>
  Effect.gen(function*() {
    const sink = yield* SmtpSink.start()
    const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port))
    const receipt = yield* channel.deliver(mint(notification))
    const [received] = sink.received
    assert.isDefined(received)
    const raw = received.raw
    const mail = yield* Effect.promise(() => simpleParser(raw))
    const [attachment] = mail.attachments
    assert.isDefined(attachment)
    const message = yield* Effect.promise(() => readMessage({ armoredMessage: attachment.content.toString("utf8") }))
    const { data } = yield* Effect.promise(() => decrypt({ message, passwords: [Fixtures.password], format: "utf8" }))
    const visible = [raw.toString("utf8"), mail.subject ?? "", mail.text ?? "", attachment.filename ?? ""].join("\n")
    return { receipt, mail, visible, payload: Schema.decodeUnknownSync(Schema.parseJson(Notification.Payload))(data) }
  })

describe("SecureEmailChannel: corrections and withdrawals (TVP ISA 4.1)", () => {
  it.scopedLive("a correction says so in the subject and names the notification it replaces; the attachment says what changed", () =>
    Effect.gen(function*() {
      const { mail, payload, receipt, visible } = yield* send(Fixtures.correction())
      expect(mail.subject).toBe("Operation Encompass correction — reference EG-2B3C-4D5E-6F70")
      expect(mail.text).toContain("CORRECTION of Operation Encompass notification EG-1A2B-3C4D-5E6F")
      expect(mail.text).toContain("replaces notification EG-1A2B-3C4D-5E6F in full")
      expect(receipt.remoteId).toBe("<EG-2B3C-4D5E-6F70.v2@thamesvalley.police.example>")
      expect(payload).toMatchObject({ reference: "EG-2B3C-4D5E-6F70", corrects: { reference: "EG-1A2B-3C4D-5E6F", changed: ["incidentAddress"] } })
      for (const data of Fixtures.personalData) expect(visible).not.toContain(data)
    }))

  it.scopedLive("a supplement says in the subject which notification it adds to, and asks the school to keep both; it carries no personal data outside the attachment", () =>
    Effect.gen(function*() {
      const { mail, payload, receipt, visible } = yield* send(Fixtures.supplement())
      expect(mail.subject).toBe("Operation Encompass notification (addition to EG-1A2B-3C4D-5E6F) — reference EG-4D5E-6F70-8192")
      expect(mail.text).toContain("ADDITION to Operation Encompass notification EG-1A2B-3C4D-5E6F")
      expect(mail.text).toContain("Keep it with notification EG-1A2B-3C4D-5E6F; together they are the notification.")
      expect(receipt.remoteId).toBe("<EG-4D5E-6F70-8192.v1@thamesvalley.police.example>")
      expect(payload).toMatchObject({ reference: "EG-4D5E-6F70-8192", supplements: { reference: "EG-1A2B-3C4D-5E6F", version: 1 } })
      for (const data of Fixtures.personalData) expect(visible).not.toContain(data)
    }))

  it.scopedLive("a correction of a supplemented notification names the supplement it also replaces", () =>
    Effect.gen(function*() {
      const { mail, visible } = yield* send(Fixtures.correctionOfSupplemented())
      expect(mail.text).toContain("replaces notification EG-1A2B-3C4D-5E6F and its additions EG-4D5E-6F70-8192 in full")
      expect(mail.text).toContain("delete the earlier versions")
      for (const data of Fixtures.personalData) expect(visible).not.toContain(data)
    }))

  it.scopedLive("a withdrawal tells the school to delete the notification it names, and its attachment holds no personal data", () =>
    Effect.gen(function*() {
      const { mail, payload, visible } = yield* send(Fixtures.withdrawal())
      expect(mail.subject).toBe("Operation Encompass withdrawal — reference EG-3C4D-5E6F-7081")
      expect(mail.text).toContain("WITHDRAWAL of Operation Encompass notification EG-1A2B-3C4D-5E6F")
      expect(mail.text).toContain("sent it in error")
      expect(mail.text).toContain("Please delete that notification")
      expect(payload).toEqual(Fixtures.withdrawal().payload)
      const attachment = JSON.stringify(payload)
      for (const data of [...Fixtures.personalData.filter((d) => d !== "St Aldhelm"), "Zephyrine"]) expect(attachment).not.toContain(data)
      for (const data of Fixtures.personalData) expect(visible).not.toContain(data)
    }))
})
