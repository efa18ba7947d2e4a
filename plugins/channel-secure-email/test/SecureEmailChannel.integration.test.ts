/**
 * What a Designated Safeguarding Lead does with the attachment (TVP ISA 4.3c): open it with
 * GnuPG and the password the force supplied. Proven with the real `gpg` binary, because
 * openpgp's own defaults (argon2, AEAD) produce messages GnuPG 2.2 cannot open.
 */
import { Notification } from "@encompass/domain"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { simpleParser } from "mailparser"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SecureEmailChannel } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as SmtpSink from "./SmtpSink.js"

const GPG = "/usr/bin/gpg"

// Skipped only on a developer machine without GnuPG; in CI a missing gpg fails the tests.
const runGpgTests = fs.existsSync(GPG) || process.env["CI"] === "true"

/** A throwaway GnuPG home, its agent stopped and the directory removed when the scope closes. */
const gpgHome = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eg-gpg-"))),
  (home) =>
    Effect.async<void>((resume) => {
      execFile("/usr/bin/gpgconf", ["--homedir", home, "--kill", "gpg-agent"], () => {
        fs.rmSync(home, { recursive: true, force: true })
        resume(Effect.void)
      })
    })
)

interface GpgResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

const gpgDecrypt = (file: string, passphrase: string) =>
  Effect.flatMap(gpgHome, (home) =>
    Effect.async<GpgResult>((resume) => {
      execFile(
        GPG,
        ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase, "--decrypt", file],
        { encoding: "utf8" },
        (error, stdout, stderr) =>
          resume(Effect.succeed({ exitCode: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }))
      )
    }))

/** Delivers the fixture notification to a sink and saves the attachment as the recipient would. */
const receivedAttachment = (options: { readonly version?: number } = {}) =>
  Effect.gen(function*() {
    const sink = yield* SmtpSink.start()
    const channel = yield* SecureEmailChannel.make(Fixtures.config(sink.port))
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

describe.skipIf(!runGpgTests)("SecureEmailChannel with GnuPG", () => {
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
