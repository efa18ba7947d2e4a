/**
 * The SFTP channel against a real OpenSSH sshd on loopback, opened with the real `gpg`: key
 * authentication, the pinned host key, temporary name then rename, deterministic names, the
 * manifest and the receipt (DESIGN.md §6, §8).
 */
import { ChannelPlugin } from "@encompass/plugin-sdk"
import { GnuPg, OpenSshd } from "@encompass/plugin-testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SftpChannel } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as Peer from "./support/Peer.js"

const channelFor = (peer: Peer.Peer, over: Record<string, unknown> = {}) => SftpChannel.make(Fixtures.config(peer.sshd, peer.folder, over))

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")

/** A local folder that lives as long as the test. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "eg-sftp-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** The EHE team's key folder, holding `publicKey` as `ehe-team-<LA>.asc`. */
const keyFolder = (publicKey: string) =>
  Effect.tap(tempDir, (dir) => Effect.sync(() => fs.writeFileSync(path.join(dir, `ehe-team-${Fixtures.council}.asc`), publicKey)))

describe.skipIf(!OpenSshd.runSshTests || !GnuPg.runGpgTests)(OpenSshd.titled("SftpChannel with OpenSSH sshd and GnuPG"), () => {
  it.scopedLive("uploads one encrypted file under its final name; gpg opens it with the team's password; the receipt has the path and sha256; the connection is closed", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const channel = yield* channelFor(peer)
      const receipt = yield* channel.deliver(Fixtures.authorized())

      const file = path.join(peer.folder, "encompass-EG-1A2B-3C4D-5E6F-v1.json.asc")
      expect(Peer.names(peer.folder)).toEqual([path.basename(file)])
      expect(receipt.remoteId).toBe(path.join(peer.folder, path.basename(file)))
      expect(receipt.digest).toBe(`sha256:${sha256(file)}`)
      expect(receipt.response).toContain(sha256(file))
      expect(receipt.response).toMatch(/by posix-rename$/)
      const content = fs.readFileSync(file, "utf8")
      for (const value of Fixtures.personalData) expect(content).not.toContain(value)

      const gpg = yield* GnuPg.home
      const opened = yield* gpg.decryptWithPassword(file, Fixtures.password)
      expect(opened.exitCode, opened.stderr).toBe(0)
      expect(JSON.parse(opened.stdout)).toMatchObject({ reference: "EG-1A2B-3C4D-5E6F", localAuthority: Fixtures.council })
      expect(opened.stderr).not.toMatch(/not integrity protected/)
      expect(OpenSshd.connectionsTo(peer.sshd.port)).toBe(0)
    }))

  it.scopedLive.each(["cv25519", "rsa3072"] as const)("a team that pins a %s key made by gpg gets a file its secret key opens, and its password does not", (kind) =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const team = yield* GnuPg.home
      const key = yield* team.generate({ kind, uid: "Bedford EHE team <ehe@bedford.gov.example>" })
      const channel = yield* channelFor(peer, { keyDirectory: yield* keyFolder(key.publicKey) })
      const receipt = yield* channel.deliver(Fixtures.authorized({ openPgpKey: key.fingerprint }))

      const opened = yield* team.decrypt(receipt.remoteId)
      expect(opened.exitCode, opened.stderr).toBe(0)
      expect(JSON.parse(opened.stdout).reference).toBe("EG-1A2B-3C4D-5E6F")
      expect((yield* (yield* GnuPg.home).decryptWithPassword(receipt.remoteId, Fixtures.password)).exitCode).not.toBe(0)
    }), 120_000)

  it.scopedLive("an expired key is a permanent error naming its fingerprint, and nothing is uploaded (no password fall-back)", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const team = yield* GnuPg.home
      const key = yield* team.generate({ kind: "cv25519", uid: "Bedford EHE team <ehe@bedford.gov.example>", expired: true })
      const channel = yield* channelFor(peer, { keyDirectory: yield* keyFolder(key.publicKey) })
      const error = yield* Effect.flip(channel.deliver(Fixtures.authorized({ openPgpKey: key.fingerprint })))

      expect([error.reason, error.retryable]).toEqual(["Encryption", false])
      expect(error.message).toContain(key.fingerprint)
      expect(error.message).toMatch(/expired/)
      expect(Peer.names(peer.folder)).toEqual([])
    }))

  it.scopedLive("a changed host key is refused before logging in, naming the expected and presented SHA256 fingerprints; nothing is uploaded", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const dir = yield* tempDir
      yield* Effect.orDie(OpenSshd.keygen(path.join(dir, "old_host_key")))
      const pinned = yield* Effect.orDie(OpenSshd.fingerprintOf(path.join(dir, "old_host_key.pub")))
      const channel = yield* channelFor(peer, { hostKey: pinned })
      const error = yield* Effect.flip(channel.deliver(Fixtures.authorized()))

      expect(error).toBeInstanceOf(ChannelPlugin.DeliveryError)
      expect([error.reason, error.retryable]).toEqual(["Auth", false])
      expect(error.message).toContain(`the server presented the ssh-ed25519 host key ${peer.sshd.hostKey}, not the pinned ${pinned}`)
      expect(Peer.names(peer.folder)).toEqual([])
      expect(peer.sshd.log()).not.toMatch(/Accepted publickey/)
      expect(OpenSshd.connectionsTo(peer.sshd.port)).toBe(0)
    }))

  it.scopedLive("a reader polling the folder during a large upload never sees a partial file under the final name", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const channel = yield* channelFor(peer)
      // ~24 MB of armoured ciphertext: the upload takes many SFTP writes.
      const notification = Fixtures.authorized({ circumstances: "x".repeat(18 * 1024 * 1024) })
      const final = path.join(peer.folder, SftpChannel.fileName(notification.notification))
      const seen = yield* Ref.make<{ readonly sizes: ReadonlyArray<number>; readonly temporary: number }>({ sizes: [], temporary: 0 })
      const poll = Effect.gen(function*() {
        while (true) {
          const names = fs.readdirSync(peer.folder)
          const size = names.includes(path.basename(final)) ? fs.statSync(final, { throwIfNoEntry: false })?.size : undefined
          const temporary = names.filter((name) => name.startsWith(".") && name.endsWith(".part")).length
          yield* Ref.update(seen, (s) => ({ sizes: size === undefined ? s.sizes : [...s.sizes, size], temporary: s.temporary + temporary }))
          // Pacing only, so the upload's I/O gets the event loop; nothing is asserted about time.
          yield* Effect.sleep("1 millis")
        }
      })
      const reader = yield* Effect.fork(poll)
      const receipt = yield* channel.deliver(notification)
      yield* Fiber.interrupt(reader)

      const { sizes, temporary } = yield* Ref.get(seen)
      const complete = fs.statSync(final).size
      expect(receipt.digest).toBe(`sha256:${sha256(final)}`)
      // Whenever the reader saw the final name, the file was complete ...
      expect(sizes.every((size) => size === complete), `sizes seen: ${[...new Set(sizes)].join(", ")}`).toBe(true)
      // ... and it did watch the upload in progress, as a hidden temporary file.
      expect(temporary).toBeGreaterThan(0)
      expect(Peer.names(peer.folder)).toEqual([path.basename(final)])
    }), 120_000)

  it.scopedLive("a re-send replaces only its own file; another notification's file is untouched", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const channel = yield* channelFor(peer)
      const first = yield* channel.deliver(Fixtures.authorized())
      const other = yield* channel.deliver(Fixtures.authorized({ reference: "EG-2B3C-4D5E-6F70" }))
      const otherBefore = fs.readFileSync(other.remoteId)
      const again = yield* channel.deliver(Fixtures.authorized())

      expect(again.remoteId).toBe(first.remoteId)
      // Fresh ciphertext on every send, so the replaced file differs; the other is byte for byte the same.
      expect(again.digest).not.toBe(first.digest)
      expect(again.digest).toBe(`sha256:${sha256(again.remoteId)}`)
      expect(fs.readFileSync(other.remoteId).equals(otherBefore)).toBe(true)
      expect(Peer.names(peer.folder)).toEqual(["encompass-EG-1A2B-3C4D-5E6F-v1.json.asc", "encompass-EG-2B3C-4D5E-6F70-v1.json.asc"])
    }))

  it.scopedLive("temporary files of the same notification that a killed process left behind are gone once it is delivered; others are not touched", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const name = SftpChannel.fileName(Fixtures.notification())
      fs.writeFileSync(path.join(peer.folder, `.${name}.0123456789ab.part`), "half an upload")
      fs.writeFileSync(path.join(peer.folder, ".encompass-EG-2B3C-4D5E-6F70-v1.json.asc.0123456789ab.part"), "another's upload in progress")
      yield* (yield* channelFor(peer)).deliver(Fixtures.authorized())

      expect(Peer.names(peer.folder)).toEqual([".encompass-EG-2B3C-4D5E-6F70-v1.json.asc.0123456789ab.part", name])
    }))

  it.scopedLive("a process killed with SIGKILL mid-upload leaves only a hidden .part file that no reader takes; the next attempt delivers the whole file under the final name and leaves nothing temporary", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const padding = 18 * 1024 * 1024
      const notification = Fixtures.authorized({ circumstances: "x".repeat(padding) })
      const name = SftpChannel.fileName(notification.notification)
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "support/DeliverOnce.ts"), JSON.stringify(Fixtures.encoded(peer.sshd, peer.folder)), String(padding)], {
            stdio: ["ignore", "ignore", "pipe"]
          })
        ),
        (child) => Effect.sync(() => child.kill("SIGKILL"))
      )
      const exited = Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
      })
      // Wait until the upload is under way (pacing only; nothing is asserted about time).
      while (!Peer.names(peer.folder).some((n) => n.endsWith(".part"))) {
        if (child.exitCode !== null) return yield* Effect.dieMessage(`the uploading process exited (${child.exitCode}) before its upload was seen`)
        yield* Effect.sleep("1 millis")
      }
      child.kill("SIGKILL")
      yield* exited
      expect(child.signalCode).toBe("SIGKILL")

      const left = Peer.names(peer.folder)
      expect(left).toEqual([expect.stringMatching(new RegExp(`^\\.${name.replaceAll(".", "\\.")}\\.[0-9a-f]{12}\\.part$`))])
      expect(left.filter(Peer.readerTakes)).toEqual([])
      const receipt = yield* (yield* channelFor(peer)).deliver(notification)
      expect(Peer.names(peer.folder)).toEqual([name])
      expect(receipt.digest).toBe(`sha256:${sha256(receipt.remoteId)}`)
    }), 120_000)

  it.scopedLive("leftovers of a killed attempt (a half-written file and manifest) never show under the final names: the next attempt puts the whole file and its manifest there and removes them", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const name = SftpChannel.fileName(Fixtures.notification())
      fs.writeFileSync(path.join(peer.folder, `.${name}.0123456789ab.part`), "-----BEGIN PGP MESSAGE-----\nhalf an upload")
      fs.writeFileSync(path.join(peer.folder, `.${name}.sha256.ba9876543210.part`), "")
      expect(Peer.names(peer.folder).filter(Peer.readerTakes)).toEqual([])
      const receipt = yield* (yield* channelFor(peer, { manifest: true })).deliver(Fixtures.authorized())

      expect(Peer.names(peer.folder)).toEqual([name, `${name}.sha256`])
      expect(fs.readFileSync(receipt.remoteId, "utf8")).toMatch(/-----END PGP MESSAGE-----\n$/)
      expect(execFileSync("sha256sum", ["-c", `${name}.sha256`], { cwd: peer.folder, encoding: "utf8" })).toBe(`${name}: OK\n`)
    }))

  it.scopedLive("an attempt interrupted mid-upload (the core's timeout, a shutdown) closes its connection and leaves no file under the final name; the next attempt delivers it whole", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const channel = yield* channelFor(peer)
      const notification = Fixtures.authorized({ circumstances: "x".repeat(18 * 1024 * 1024) })
      const name = SftpChannel.fileName(notification.notification)
      const attempt = yield* Effect.fork(channel.deliver(notification))
      // Wait until the upload is under way (pacing only; nothing is asserted about time).
      while (!Peer.names(peer.folder).some((n) => n.endsWith(".part"))) yield* Effect.sleep("1 millis")
      yield* Fiber.interrupt(attempt)

      expect(Peer.names(peer.folder)).not.toContain(name)
      expect(OpenSshd.connectionsTo(peer.sshd.port)).toBe(0)
      const receipt = yield* channel.deliver(notification)
      expect(Peer.names(peer.folder)).toEqual([name])
      expect(receipt.digest).toBe(`sha256:${sha256(receipt.remoteId)}`)
    }), 120_000)

  it.scopedLive("with manifest on, a sha256sum file follows the file, and sha256sum -c accepts it", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const channel = yield* channelFor(peer, { manifest: true })
      const receipt = yield* channel.deliver(Fixtures.authorized())

      const name = path.basename(receipt.remoteId)
      expect(Peer.names(peer.folder)).toEqual([name, `${name}.sha256`])
      expect(fs.readFileSync(`${receipt.remoteId}.sha256`, "utf8")).toBe(`${receipt.digest?.replace("sha256:", "")}  ${name}\n`)
      expect(execFileSync("sha256sum", ["-c", `${name}.sha256`], { cwd: peer.folder, encoding: "utf8" })).toBe(`${name}: OK\n`)
    }))

  it.scopedLive("a pinned key with no key folder, or no password for an unkeyed team, is refused before connecting", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const keyed = yield* Effect.flip((yield* channelFor(peer)).deliver(Fixtures.authorized({ openPgpKey: "0D3F6C3E1A5B9F2C7E4D8A6B1C0F9E8D7A6B5C4D" })))
      expect([keyed.reason, keyed.retryable]).toEqual(["InvalidConfig", false])
      expect(keyed.message).toContain("0D3F6C3E1A5B9F2C7E4D8A6B1C0F9E8D7A6B5C4D")
      const unkeyed = yield* Effect.flip((yield* channelFor(peer, { passwords: {} })).deliver(Fixtures.authorized()))
      expect(unkeyed.message).toContain(`no OpenPGP key is pinned and no password is configured for recipient ehe-team:${Fixtures.council}`)
      expect(Peer.names(peer.folder)).toEqual([])
      expect(peer.sshd.log()).not.toMatch(/Accepted publickey/)
    }))

  it.scopedLive("check logs in and finds the folder without uploading; a missing folder is InvalidConfig", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      yield* (yield* channelFor(peer)).check
      expect(Peer.names(peer.folder)).toEqual([])
      const missing = yield* Effect.flip(SftpChannel.make(Fixtures.config(peer.sshd, path.join(peer.folder, "gone"))).pipe(Effect.flatMap((c) => c.check)))
      expect([missing.reason, missing.retryable]).toEqual(["InvalidConfig", false])
      expect(missing.message).toContain("does not exist")
      const upload = yield* Effect.flip(SftpChannel.make(Fixtures.config(peer.sshd, path.join(peer.folder, "gone"))).pipe(Effect.flatMap((c) => c.deliver(Fixtures.authorized()))))
      expect([upload.reason, upload.retryable]).toEqual(["InvalidConfig", false])
    }))

  it.scopedLive("a server that is down is a retryable Transport error", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.start
      const error = yield* Effect.flip(SftpChannel.make(Fixtures.config({ ...peer.sshd, port: 1 }, peer.folder)).pipe(Effect.flatMap((c) => c.deliver(Fixtures.authorized()))))
      expect([error.reason, error.retryable]).toEqual(["Transport", true])
    }))
})
