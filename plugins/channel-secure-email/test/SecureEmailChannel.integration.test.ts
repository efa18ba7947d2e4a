/**
 * What a Designated Safeguarding Lead does with the attachment (TVP ISA 4.3c): open it with
 * GnuPG and the password the force supplied. Proven with the real `gpg` binary, because
 * openpgp's own defaults (argon2, AEAD) produce messages GnuPG 2.2 cannot open.
 */
import { Notification } from "@encompass/domain"
import { GnuPg } from "@encompass/plugin-testkit"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Schema } from "effect"
import { simpleParser } from "mailparser"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SecureEmailChannel } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as SmtpSink from "./SmtpSink.js"

/** `gpg --decrypt` with a passphrase, in a throwaway GnuPG home. */
const gpgDecrypt = (file: string, passphrase: string) => Effect.flatMap(GnuPg.home, (home) => home.decryptWithPassword(file, passphrase))

/** Delivers the fixture notification to a sink and saves the attachment as the recipient would. */
const receivedAttachment = (options: Fixtures.NotificationOptions = {}, keyDirectory?: string) =>
  Effect.gen(function*() {
    const sink = yield* SmtpSink.start()
    const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port, keyDirectory === undefined ? {} : { keyDirectory }))
    yield* channel.deliver(Fixtures.authorized(options))
    const [received] = sink.received
    assert.isDefined(received)
    const mail = yield* Effect.promise(() => simpleParser(received.raw))
    const [attachment] = mail.attachments
    assert.isDefined(attachment)
    assert.isDefined(attachment.filename)
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eg-mail-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const file = path.join(dir, attachment.filename)
    fs.writeFileSync(file, attachment.content)
    return file
  })

const decodePayload = Schema.decodeUnknownSync(Schema.parseJson(Notification.NotificationPayload))

describe.skipIf(!GnuPg.runGpgTests)("SecureEmailChannel with GnuPG", () => {
  it.scopedLive("GnuPG decrypts the attachment with the recipient's password, giving back the payload", () =>
    Effect.gen(function*() {
      const file = yield* receivedAttachment()
      const result = yield* gpgDecrypt(file, Fixtures.password)

      expect(result.exitCode, result.stderr).toBe(0)
      expect(decodePayload(result.stdout)).toStrictEqual(Fixtures.notification().payload)
      // GnuPG reports what it opened: the pinned algorithms, integrity-protected.
      expect(result.stderr).toContain("AES256")
      expect(result.stderr).not.toMatch(/WARNING: message was not integrity protected/)
    }))

  it.scopedLive("a council front door's attachment is encrypted with its own password, by recipient key (Bedford ISA 10)", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const frontDoorPassword = "front-door-pass-9Zq1"
      const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port, {
        passwords: { "front-door:E06000055": Redacted.make(frontDoorPassword), [Fixtures.urn]: Redacted.make(Fixtures.password) }
      }))
      yield* channel.deliver(Fixtures.authorized({ frontDoor: "E06000055" }))
      const [received] = sink.received
      assert.isDefined(received)
      const mail = yield* Effect.promise(() => simpleParser(received.raw))
      const [attachment] = mail.attachments
      assert.isDefined(attachment)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eg-mail-"))
      const file = path.join(dir, attachment.filename ?? "attachment.asc")
      fs.writeFileSync(file, attachment.content)
      const wrong = yield* gpgDecrypt(file, Fixtures.password)
      expect(wrong.exitCode).not.toBe(0)
      const opened = yield* gpgDecrypt(file, frontDoorPassword)
      expect(opened.exitCode, opened.stderr).toBe(0)
      expect(decodePayload(opened.stdout)).toStrictEqual(Fixtures.notification({ frontDoor: "E06000055" }).payload)
      fs.rmSync(dir, { recursive: true, force: true })
    }))

  it.scopedLive("GnuPG decrypts a correction too", () =>
    Effect.gen(function*() {
      const file = yield* receivedAttachment({ version: 2 })
      const result = yield* gpgDecrypt(file, Fixtures.password)

      expect(path.basename(file)).toBe("encompass-EG-1A2B-3C4D-5E6F-v2.json.asc")
      expect(result.exitCode, result.stderr).toBe(0)
      expect(decodePayload(result.stdout).version).toBe(2)
    }))

  it.scopedLive("GnuPG refuses a wrong password and reveals nothing", () =>
    Effect.gen(function*() {
      const file = yield* receivedAttachment()
      const result = yield* gpgDecrypt(file, "not-the-school-password")

      expect(result.exitCode).not.toBe(0)
      expect(result.stderr).toMatch(/decryption failed/i)
      expect(result.stdout).toBe("")
    }))
})

/** A key folder holding the school's public key under its file name, `setting-<URN>.asc`. */
const keyFolder = (publicKey: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eg-keys-"))
      fs.writeFileSync(path.join(dir, `setting-${Fixtures.urn}.asc`), publicKey)
      return dir
    }),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

/** Delivers to a school whose directory row pins `pinned`, with its key file holding `publicKey`. */
const deliverPinned = (publicKey: string, pinned: string) =>
  Effect.gen(function*() {
    const sink = yield* SmtpSink.start()
    const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port, { keyDirectory: yield* keyFolder(publicKey) }))
    const error = yield* Effect.flip(channel.deliver(Fixtures.authorized({ openPgpKey: pinned })))
    return { error, sent: sink.received.length }
  })

describe.skipIf(!GnuPg.runGpgTests)("SecureEmailChannel to a school's OpenPGP public key, opened by GnuPG 2.2", () => {
  it.scopedLive.each(["cv25519", "rsa3072"] as const)("a %s key made by gpg: gpg opens the attachment with the school's secret key alone", (kind) =>
    Effect.gen(function*() {
      const school = yield* GnuPg.home
      const key = yield* school.generate({ kind, uid: "St Aldhelm's DSL <dsl@st-aldhelms.sch.example>" })
      const file = yield* receivedAttachment({ openPgpKey: key.fingerprint }, yield* keyFolder(key.publicKey))
      const result = yield* school.decrypt(file)

      expect(result.exitCode, result.stderr).toBe(0)
      expect(decodePayload(result.stdout)).toStrictEqual(Fixtures.notification().payload)
      expect(result.stderr).not.toMatch(/WARNING: message was not integrity protected/)
      // Public-key only: the school's password does not open it.
      const withPassword = yield* gpgDecrypt(file, Fixtures.password)
      expect(withPassword.exitCode).not.toBe(0)
    }), 120_000)

  it.scopedLive("the email tells the DSL to open it with the organisation's key, naming it, and says nothing of a password", () =>
    Effect.gen(function*() {
      const school = yield* GnuPg.home
      const key = yield* school.generate({ kind: "cv25519", uid: "St Aldhelm's DSL <dsl@st-aldhelms.sch.example>" })
      const sink = yield* SmtpSink.start()
      const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port, { keyDirectory: yield* keyFolder(key.publicKey) }))
      yield* channel.deliver(Fixtures.authorized({ openPgpKey: key.fingerprint }))
      const [received] = sink.received
      assert.isDefined(received)
      const mail = yield* Effect.promise(() => simpleParser(received.raw))
      expect(mail.text).toContain(`your organisation's key ${key.fingerprint}`)
      expect(mail.text).not.toMatch(/password/i)
    }))

  it.scopedLive("an expired key is a permanent error naming its fingerprint, and nothing is sent (no password fall-back)", () =>
    Effect.gen(function*() {
      const school = yield* GnuPg.home
      const key = yield* school.generate({ kind: "cv25519", uid: "Expired DSL <dsl@st-aldhelms.sch.example>", expired: true })
      const { error, sent } = yield* deliverPinned(key.publicKey, key.fingerprint)

      expect([error.reason, error.retryable, sent]).toEqual(["Encryption", false, 0])
      expect(error.message).toContain(key.fingerprint)
      expect(error.message).toMatch(/expired/)
    }))

  it.scopedLive("a revoked key is a permanent error naming its fingerprint, and nothing is sent", () =>
    Effect.gen(function*() {
      const school = yield* GnuPg.home
      const made = yield* school.generate({ kind: "cv25519", uid: "Revoked DSL <dsl@st-aldhelms.sch.example>" })
      const revoked = yield* school.revoke(made.fingerprint)
      const { error, sent } = yield* deliverPinned(revoked.publicKey, revoked.fingerprint)

      expect([error.reason, error.retryable, sent]).toEqual(["Encryption", false, 0])
      expect(error.message).toContain(revoked.fingerprint)
      expect(error.message).toMatch(/revoked/)
    }))

  it.scopedLive("a key file holding another key than the pinned one is refused naming both fingerprints, and nothing is sent", () =>
    Effect.gen(function*() {
      const school = yield* GnuPg.home
      const pinned = yield* school.generate({ kind: "cv25519", uid: "Pinned DSL <dsl@st-aldhelms.sch.example>" })
      const other = yield* school.generate({ kind: "cv25519", uid: "Other <other@example.org>" })
      const { error, sent } = yield* deliverPinned(other.publicKey, pinned.fingerprint)

      expect([error.reason, error.retryable, sent]).toEqual(["Encryption", false, 0])
      expect(error.message).toContain(pinned.fingerprint)
      expect(error.message).toContain(other.fingerprint)
    }))

  it.scopedLive("a pinned key whose file is missing is refused, though the school also has a password", () =>
    Effect.gen(function*() {
      const sink = yield* SmtpSink.start()
      const empty = yield* keyFolder("")
      fs.rmSync(path.join(empty, `setting-${Fixtures.urn}.asc`))
      const pinned = "0D3F6C3E1A5B9F2C7E4D8A6B1C0F9E8D7A6B5C4D"
      const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port, { keyDirectory: empty }))
      const error = yield* Effect.flip(channel.deliver(Fixtures.authorized({ openPgpKey: pinned })))
      expect([error.reason, error.retryable, sink.received.length]).toEqual(["Encryption", false, 0])
      expect(error.message).toContain(pinned)
      expect(error.message).toContain(`setting-${Fixtures.urn}.asc`)
      // With no key folder configured at all: refused the same way.
      const unconfigured = yield* SecureEmailChannel.make(Fixtures.config(sink.port))
      const noFolder = yield* Effect.flip(unconfigured.deliver(Fixtures.authorized({ openPgpKey: pinned })))
      expect([noFolder.reason, noFolder.retryable, sink.received.length]).toEqual(["InvalidConfig", false, 0])
    }))
})
