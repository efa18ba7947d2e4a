/**
 * OpenPgpSeal with keys made by openpgp itself (the GnuPG interop proofs, with keys made by
 * `gpg`, are the channels' integration tests). A key the directory does not pin, or one that has
 * expired or been revoked, is refused naming the fingerprint: never a reason to use a password.
 */
import { Ids, Notification } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { decrypt, enums, generateKey, readKey, readMessage, readPrivateKey, revokeKey } from "openpgp"
import { OpenPgpSeal } from "../src/index.js"

const payload = new Notification.WithdrawalPayload({
  type: "operation-encompass/withdrawal",
  reference: Ids.GatewayRef.make("EG-1A2B-3C4D-5E6F"),
  version: 2,
  withdraws: { reference: Ids.GatewayRef.make("EG-1A2B-3C4D-5E6F"), version: 1 },
  reason: "sent-in-error"
})

const now = new Date("2026-03-02T21:00:00Z")
const day = 86_400

const keyPair = (options: { readonly type?: "ecc" | "rsa"; readonly expiresIn?: number; readonly created?: Date } = {}) =>
  Effect.promise(() =>
    generateKey({
      userIDs: [{ name: "Alder Primary DSL", email: "dsl@alder.sch.example" }],
      ...(options.type === "rsa" ? { type: "rsa" as const, rsaBits: 3072 } : { type: "ecc" as const, curve: "curve25519Legacy" as const }),
      ...(options.expiresIn !== undefined && { keyExpirationTime: options.expiresIn }),
      date: options.created ?? new Date(now.getTime() - day * 1000),
      format: "armored",
      config: { v6Keys: false }
    })
  )

const pinned = (armored: string) => Effect.map(Effect.promise(() => readKey({ armoredKey: armored })), (key) => Ids.OpenPgpFingerprint.make(key.getFingerprint().toUpperCase()))

const refusal = <A>(effect: Effect.Effect<A, OpenPgpSeal.OpenPgpSealError>) => Effect.flip(effect)

describe("OpenPgpSeal.readPublicKey", () => {
  it.effect("a pinned, valid v4 curve25519Legacy key seals a message its secret key opens, as SEIPD v1 with the payload's file name", () =>
    Effect.gen(function*() {
      const pair = yield* keyPair()
      const secret = yield* OpenPgpSeal.readPublicKey(pair.publicKey, yield* pinned(pair.publicKey), now)
      const armored = yield* OpenPgpSeal.seal(payload, secret, "encompass-EG-1A2B-3C4D-5E6F-v2.json", now)
      const message = yield* Effect.promise(() => readMessage({ armoredMessage: armored }))
      // Tag 18 version 1 (SEIPD v1): what GnuPG 2.2 opens; never tag 20 or SEIPD v2.
      const packet = message.packets.findPacket(enums.packet.symEncryptedIntegrityProtectedData) as unknown as { version: number } | undefined
      expect(packet?.version).toBe(1)
      const privateKey = yield* Effect.promise(() => readPrivateKey({ armoredKey: pair.privateKey }))
      const opened = yield* Effect.promise(() => decrypt({ message, decryptionKeys: privateKey, date: now }))
      expect(JSON.parse(String(opened.data))).toMatchObject({ type: "operation-encompass/withdrawal", reference: "EG-1A2B-3C4D-5E6F", version: 2 })
      expect(opened.filename).toBe("encompass-EG-1A2B-3C4D-5E6F-v2.json")
    }))

  it.effect("a key that is not the pinned one is refused naming both fingerprints", () =>
    Effect.gen(function*() {
      const [school, stranger] = yield* Effect.all([keyPair(), keyPair()])
      const expected = yield* pinned(school.publicKey)
      const presented = yield* pinned(stranger.publicKey)
      const error = yield* refusal(OpenPgpSeal.readPublicKey(stranger.publicKey, expected, now))
      expect(error.reason).toBe("KeyMismatch")
      expect(error.message).toContain(expected)
      expect(error.message).toContain(presented)
    }))

  it.effect("an expired key is refused naming its fingerprint and when it expired", () =>
    Effect.gen(function*() {
      const pair = yield* keyPair({ expiresIn: day, created: new Date(now.getTime() - 3 * day * 1000) })
      const fingerprint = yield* pinned(pair.publicKey)
      const error = yield* refusal(OpenPgpSeal.readPublicKey(pair.publicKey, fingerprint, now))
      expect(error.reason).toBe("KeyExpired")
      expect(error.message).toContain(fingerprint)
      expect(error.message).toContain("2026-02-28T21:00:00.000Z")
    }))

  it.effect("a key whose only encryption subkey has expired is refused naming the key and the subkey", () =>
    Effect.gen(function*() {
      const pair = yield* Effect.promise(() =>
        generateKey({
          userIDs: [{ email: "dsl@alder.sch.example" }],
          type: "ecc",
          curve: "curve25519Legacy",
          subkeys: [{ keyExpirationTime: day }],
          date: new Date(now.getTime() - 3 * day * 1000),
          format: "armored",
          config: { v6Keys: false }
        })
      )
      const fingerprint = yield* pinned(pair.publicKey)
      const subkey = (yield* Effect.promise(() => readKey({ armoredKey: pair.publicKey }))).subkeys[0]?.getFingerprint().toUpperCase()
      const error = yield* refusal(OpenPgpSeal.readPublicKey(pair.publicKey, fingerprint, now))
      expect(error.reason).toBe("KeyExpired")
      expect(error.message).toContain(fingerprint)
      expect(error.message).toContain(`subkey ${subkey}`)
    }))

  it.effect("a revoked key is refused naming its fingerprint", () =>
    Effect.gen(function*() {
      const pair = yield* keyPair()
      const privateKey = yield* Effect.promise(() => readPrivateKey({ armoredKey: pair.privateKey }))
      const revoked = yield* Effect.promise(() => revokeKey({ key: privateKey, date: new Date(now.getTime() - 1000), format: "armored" }))
      const fingerprint = yield* pinned(revoked.publicKey)
      const error = yield* refusal(OpenPgpSeal.readPublicKey(revoked.publicKey, fingerprint, now))
      expect(error.reason).toBe("KeyRevoked")
      expect(error.message).toContain(fingerprint)
    }))

  it.effect("a secret key file, a v6 key and text that is no key are refused", () =>
    Effect.gen(function*() {
      const pair = yield* keyPair()
      const fingerprint = yield* pinned(pair.publicKey)
      expect((yield* refusal(OpenPgpSeal.readPublicKey(pair.privateKey, fingerprint, now))).message).toMatch(/secret key/)
      expect((yield* refusal(OpenPgpSeal.readPublicKey("not a key", fingerprint, now))).reason).toBe("InvalidKey")
      const v6 = yield* Effect.promise(() =>
        generateKey({ userIDs: [{ email: "dsl@alder.sch.example" }], type: "curve25519", date: new Date(now.getTime() - 1000), format: "armored", config: { v6Keys: true } })
      )
      const error = yield* refusal(OpenPgpSeal.readPublicKey(v6.publicKey, fingerprint, now))
      expect(error.reason).toBe("KeyUnusable")
      expect(error.message).toMatch(/v6 key .* GnuPG 2.2 cannot open/)
    }))

  it.effect("an RSA-3072 key seals too", () =>
    Effect.gen(function*() {
      const pair = yield* keyPair({ type: "rsa" })
      const secret = yield* OpenPgpSeal.readPublicKey(pair.publicKey, yield* pinned(pair.publicKey), now)
      const armored = yield* OpenPgpSeal.seal(payload, secret, "x.json", now)
      expect(armored).toMatch(/^-----BEGIN PGP MESSAGE-----/)
    }), 60_000)
})

describe("OpenPgpSeal.seal with a password", () => {
  it.effect("uses the iterated S2K (GnuPG 2.2 cannot open argon2), and the password opens it", () =>
    Effect.gen(function*() {
      const armored = yield* OpenPgpSeal.seal(payload, OpenPgpSeal.password(Redacted.make("correct-horse-battery")), "x.json", now)
      const message = yield* Effect.promise(() => readMessage({ armoredMessage: armored }))
      const skesk = message.packets.findPacket(enums.packet.symEncryptedSessionKey) as unknown as { s2k: { type: string } } | undefined
      expect(skesk?.s2k.type).toBe("iterated")
      const opened = yield* Effect.promise(() => decrypt({ message, passwords: ["correct-horse-battery"] }))
      expect(JSON.parse(String(opened.data)).reference).toBe("EG-1A2B-3C4D-5E6F")
    }))
})

