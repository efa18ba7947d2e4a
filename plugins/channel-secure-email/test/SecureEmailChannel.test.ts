import { Notification } from "@encompass/domain"
import type { ChannelPlugin } from "@encompass/plugin-sdk"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted, Schema } from "effect"
import { simpleParser } from "mailparser"
import { decrypt, readMessage, SymEncryptedIntegrityProtectedDataPacket, SymEncryptedSessionKeyPacket } from "openpgp"
import { SecureEmailChannel, SecureEmailConfig } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as SmtpSink from "./SmtpSink.js"

const parse = (raw: Buffer) => Effect.promise(() => simpleParser(raw))

const onlyMessage = (sink: SmtpSink.Sink) => {
  expect(sink.received).toHaveLength(1)
  const [message] = sink.received
  assert.isDefined(message)
  return message
}

const deliverTo = (sink: { readonly port: number }, overrides: Parameters<typeof Fixtures.config>[1] = {}) =>
  SecureEmailChannel.make(Fixtures.config(sink.port, overrides)).pipe(
    Effect.flatMap((channel) => channel.deliver(Fixtures.authorized()))
  )

const failure = <A, R>(effect: Effect.Effect<A, ChannelPlugin.DeliveryError, R>) => Effect.flip(effect)

describe("SecureEmailConfig", () => {
  const decode = Schema.decodeUnknownEither(SecureEmailConfig.SecureEmailConfig)
  const encoded = {
    host: "smtp.force.example",
    port: 587,
    from: "encompass@force.example",
    messageIdDomain: "force.example",
    senderName: "Thames Valley Police",
    contact: "encompass@force.example",
    passwords: { "123456": "lantern-orchard-velvet-42" }
  }

  it("fills in safe defaults: STARTTLS required, certificates verified, a pool of 5", () => {
    const config = Either.getOrThrow(decode(encoded))
    expect(config.secure).toBe(false)
    expect(config.rejectUnauthorized).toBe(true)
    expect(config.maxConnections).toBe(5)
    expect(config.version).toBe(1)
  })

  it("rejects a password map key that is not a URN instead of dropping its password", () => {
    const result = decode({ ...encoded, passwords: { "12345": "lantern-orchard-velvet-42" } })
    expect(Either.isLeft(result)).toBe(true)
  })

  it("rejects a password shorter than 12 characters", () => {
    expect(Either.isLeft(decode({ ...encoded, passwords: { "123456": "short" } }))).toBe(true)
  })

  it("never prints a password", () => {
    const config = Either.getOrThrow(decode({ ...encoded, auth: { user: "relay", pass: "smtp-secret-pass" } }))
    const printed = `${String(config)} ${JSON.stringify(config)}`
    expect(printed).not.toContain("lantern-orchard-velvet-42")
    expect(printed).not.toContain("smtp-secret-pass")
  })
})

describe("SecureEmailChannel", () => {
  it.scopedLive("sends one email over STARTTLS to the route's addresses, with the reference in the subject", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const receipt = yield* deliverTo(sink)
      const received = onlyMessage(sink)
      const mail = yield* parse(received.raw)

      expect(received.secure).toBe(true)
      expect(received.to).toEqual([...Fixtures.addresses])
      expect(received.from).toBe("encompass@thamesvalley.police.example")
      expect(mail.subject).toBe("Operation Encompass notification — reference EG-1A2B-3C4D-5E6F")
      expect(mail.text).toContain("EG-1A2B-3C4D-5E6F")
      expect(mail.text).toContain("Do not print")
      expect(mail.text).toContain("Do not approach or contact the parents or carers")
      expect(mail.text).toContain("Encompass@thamesvalley.police.example")
      expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([
        ["encompass-EG-1A2B-3C4D-5E6F-v1.json.asc", "application/octet-stream"]
      ])
      expect(receipt.channel).toBe("secure-email")
      expect(receipt.remoteId).toBe("<EG-1A2B-3C4D-5E6F.v1@thamesvalley.police.example>")
      expect(mail.messageId).toBe(receipt.remoteId)
      expect(receipt.response).toMatch(/^250 /)
    }))

  it.scopedLive("sends over implicit TLS when configured secure", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({ implicitTls: true })
      yield* deliverTo(sink, { secure: true })

      expect(onlyMessage(sink).secure).toBe(true)
    }))

  it.scopedLive("subject, headers and body carry no personal data and no occurrence number (TVP ISA 4.4)", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      yield* deliverTo(sink)
      const raw = onlyMessage(sink).raw
      const mail = yield* parse(raw)
      // Search the raw message and the decoded parts too: a base64 or quoted-printable body would hide a name from a raw search.
      const visible = [
        raw.toString("utf8"),
        mail.subject ?? "",
        mail.text ?? "",
        typeof mail.html === "string" ? mail.html : "",
        JSON.stringify([...mail.headers]),
        ...mail.attachments.map((a) => a.filename ?? "")
      ].join("\n")
      for (const data of Fixtures.personalData) expect(visible).not.toContain(data)
      expect(visible).not.toContain(Fixtures.password)
    }))

  it.scopedLive("the attachment is a password-encrypted OpenPGP message GnuPG 2.2 can read: iterated S2K, SEIPD v1", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      yield* deliverTo(sink)
      const mail = yield* parse(onlyMessage(sink).raw)
      const [attachment] = mail.attachments
      assert.isDefined(attachment)
      const armored = attachment.content.toString("utf8")
      expect(armored).toMatch(/^-----BEGIN PGP MESSAGE-----/)

      const message = yield* Effect.promise(() => readMessage({ armoredMessage: armored }))
      const [skesk, seipd, ...rest] = [...message.packets]
      expect(rest).toEqual([])
      expect(skesk).toBeInstanceOf(SymEncryptedSessionKeyPacket)
      expect(seipd).toBeInstanceOf(SymEncryptedIntegrityProtectedDataPacket)
      const session = skesk as unknown as { version: number; s2k: { type: string } }
      expect(session.version).toBe(4)
      expect(session.s2k.type).toBe("iterated")
      expect((seipd as unknown as { version: number }).version).toBe(1)

      const { data } = yield* Effect.promise(() => decrypt({ message, passwords: [Fixtures.password], format: "utf8" }))
      const payload = Schema.decodeUnknownSync(Schema.parseJson(Notification.NotificationPayload))(data)
      expect(payload).toStrictEqual(Fixtures.notification().payload)
    }))

  it.scopedLive("re-sends keep the same Message-ID; a correction gets its own", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port))
      const first = yield* channel.deliver(Fixtures.authorized())
      const again = yield* channel.deliver(Fixtures.authorized())
      const correction = yield* channel.deliver(Fixtures.authorized({ version: 2 }))
      const ids = yield* Effect.forEach(sink.received, (r) => parse(r.raw).pipe(Effect.map((m) => m.messageId)))

      expect(again.remoteId).toBe(first.remoteId)
      expect(ids).toEqual([first.remoteId, first.remoteId, "<EG-1A2B-3C4D-5E6F.v2@thamesvalley.police.example>"])
      expect(correction.remoteId).toBe(ids[2])
    }))

  it.scopedLive("a recipient with no configured password gets nothing: InvalidConfig", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port))
      const error = yield* failure(channel.deliver(Fixtures.authorized({ urn: "654321" })))

      expect(error.reason).toBe("InvalidConfig")
      expect(error.retryable).toBe(false)
      expect(error.detail).toContain("654321")
      expect(sink.connections()).toBe(0)
    }))

  it.scopedLive("a 550 from the relay is Rejected, not retryable, with the code but no address in the detail", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({
        rejectRecipient: (address) => ({ code: 550, text: `5.1.1 <${address}> mailbox unavailable` })
      })
      const error = yield* failure(deliverTo(sink))

      expect(error.reason).toBe("Rejected")
      expect(error.retryable).toBe(false)
      expect(error.detail).toContain("550")
      expect(error.detail).not.toContain("@")
      expect(error.message).not.toContain("st-aldhelms")
      expect(sink.received).toHaveLength(0)
    }))

  it.scopedLive("a relay reply echoing an address or the relay password is redacted in the detail", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({
        auth: { user: "gateway", pass: "right-relay-pass" },
        rejectData: { code: 554, text: "5.7.1 gateway:right-relay-pass may not send to <dsl@st-aldhelms.sch.example>" }
      })
      const error = yield* failure(deliverTo(sink, { auth: { user: "gateway", pass: Redacted.make("right-relay-pass") } }))

      expect(error.reason).toBe("Rejected")
      expect(error.detail).toBe("EMESSAGE: 554 5.7.1 gateway:[redacted] may not send to <[address]>")
    }))

  it.scopedLive("one refused address of two is still a Rejected delivery with the server's reason, so a person fixes the directory", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({
        rejectRecipient: (address) => address.startsWith("safeguarding@") ? { code: 550, text: "5.1.1 unknown" } : undefined
      })
      const error = yield* failure(deliverTo(sink))

      expect(error.reason).toBe("Rejected")
      expect(error.detail).toBe("the relay refused 1 of 2 addresses: 550 5.1.1 unknown")
    }))

  it.scopedLive("one address of two deferred with a 4xx (greylisting) is a retryable Transport failure, not a directory error", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({
        rejectRecipient: (address) =>
          address.startsWith("safeguarding@") ? { code: 451, text: `4.7.1 <${address}> greylisted, try again later` } : undefined
      })
      const error = yield* failure(deliverTo(sink))

      expect(error.reason).toBe("Transport")
      expect(error.retryable).toBe(true)
      expect(error.detail).toBe("the relay deferred 1 of 2 addresses: 451 4.7.1 <[address]> greylisted, try again later")
    }))

  it.scopedLive("a 451 from the relay is a retryable Transport failure", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({ rejectData: { code: 451, text: "4.3.0 try again later" } })
      const error = yield* failure(deliverTo(sink))

      expect(error.reason).toBe("Transport")
      expect(error.retryable).toBe(true)
      expect(error.detail).toContain("451")
    }))

  it.scopedLive("a refused connection is a retryable Transport failure", () =>
    Effect.gen(function*() {
      const port = yield* SmtpSink.closedPort
      const error = yield* failure(deliverTo({ port }))

      expect(error.reason).toBe("Transport")
      expect(error.retryable).toBe(true)
      expect(error.detail).toContain("ECONNREFUSED")
    }))

  it.scopedLive("a server that never greets is a retryable Timeout", () =>
    Effect.gen(function*() {
      const port = yield* SmtpSink.silent
      const error = yield* failure(deliverTo({ port }, { greetingTimeoutMs: 300 }))

      expect(error.reason).toBe("Timeout")
      expect(error.retryable).toBe(true)
    }))

  it.scopedLive("a server without STARTTLS gets nothing, not even in clear", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({ starttls: false })
      const error = yield* failure(deliverTo(sink))

      expect(error.reason).toBe("Transport")
      expect(error.detail).toContain("TLS is required")
      expect(sink.received).toHaveLength(0)
    }))

  it.scopedLive("a relay certificate not signed by the pinned CA gets nothing", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const { ca: _pinned, ...unpinned } = Fixtures.config(sink.port)
      const error = yield* failure(
        SecureEmailChannel.make(new SecureEmailConfig.SecureEmailConfig(unpinned)).pipe(
          Effect.flatMap((channel) => channel.deliver(Fixtures.authorized()))
        )
      )

      expect(error.reason).toBe("Transport")
      expect(sink.received).toHaveLength(0)
    }))

  it.scopedLive("a failed login is Auth, and the credentials are not in the detail", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({ auth: { user: "gateway", pass: "right-relay-pass" } })
      const error = yield* failure(
        deliverTo(sink, { auth: { user: "gateway", pass: Redacted.make("wrong-relay-pass") } })
      )

      expect(error.reason).toBe("Auth")
      expect(error.retryable).toBe(false)
      expect(error.detail).toContain("535")
      expect(error.detail).not.toContain("wrong-relay-pass")
      expect(sink.received).toHaveLength(0)
    }))

  it.scopedLive("a relay that requires a login the configuration lacks is Auth", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({ auth: { user: "gateway", pass: "right-relay-pass" } })
      const error = yield* failure(deliverTo(sink))

      expect(error.reason).toBe("Auth")
      expect(sink.received).toHaveLength(0)
    }))

  it.scopedLive("logs in when the relay requires it", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start({ auth: { user: "gateway", pass: "right-relay-pass" } })
      yield* deliverTo(sink, { auth: { user: "gateway", pass: Redacted.make("right-relay-pass") } })

      expect(sink.received).toHaveLength(1)
    }))

  it.scopedLive("check verifies the connection without sending anything", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port))
      yield* channel.check
      const port = yield* SmtpSink.closedPort
      const unreachable = yield* SecureEmailChannel.make(Fixtures.config(port))
      const error = yield* failure(unreachable.check)

      expect(sink.connections()).toBe(1)
      expect(sink.received).toHaveLength(0)
      expect(error.reason).toBe("Transport")
    }))

  it.scopedLive("concurrent deliveries share the pool's connections", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port, { maxConnections: 2 }))
      yield* Effect.forEach(Array.from({ length: 10 }), () => channel.deliver(Fixtures.authorized()), {
        concurrency: "unbounded",
        discard: true
      })

      expect(sink.received).toHaveLength(10)
      expect(sink.connections()).toBeLessThanOrEqual(2)
    }))
})
