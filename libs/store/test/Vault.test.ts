import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { Vault } from "../src/index.js"

const vaultWith = (key: Uint8Array) => Vault.make(Redacted.make(key))
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8")

describe("Vault", () => {
  it.effect("a sealed record opens under its data key, unwrapped again from storage", () =>
    Effect.gen(function*() {
      const vault = yield* vaultWith(randomBytes(32))
      const key = yield* vault.newKey
      const sealed = key.seal(Buffer.from("Jane Doe,2014-03-02"), "feed:1:0")
      expect(text(sealed)).not.toContain("Jane")
      const again = yield* vault.unwrap(key.wrapped)
      expect(text(yield* again.open(sealed, "feed:1:0"))).toBe("Jane Doe,2014-03-02")
    }))

  it.effect("ciphertext moved to another context, or altered, does not open", () =>
    Effect.gen(function*() {
      const key = yield* Effect.flatMap(vaultWith(randomBytes(32)), (v) => v.newKey)
      const sealed = key.seal(Buffer.from("record"), "feed:1:0")
      expect((yield* Effect.flip(key.open(sealed, "feed:2:0"))).reason).toBe("Tampered")
      const flipped = Buffer.from(sealed)
      flipped[14] = (flipped[14] ?? 0) ^ 1
      expect((yield* Effect.flip(key.open(flipped, "feed:1:0"))).reason).toBe("Tampered")
    }))

  it.effect("a store opened with another master key says so and names both key ids", () =>
    Effect.gen(function*() {
      const first = yield* vaultWith(randomBytes(32))
      const second = yield* vaultWith(randomBytes(32))
      const key = yield* first.newKey
      const error = yield* Effect.flip(second.unwrap(key.wrapped))
      expect(error.reason).toBe("WrongMasterKey")
      expect(error.message).toContain(first.keyId)
      expect(error.message).toContain(second.keyId)
    }))

  it.effect("deleting the wrapped key is crypto-shredding: another data key cannot open the record", () =>
    Effect.gen(function*() {
      const vault = yield* vaultWith(randomBytes(32))
      const sealed = (yield* vault.newKey).seal(Buffer.from("record"), "feed:1:0")
      const other = yield* vault.newKey
      expect((yield* Effect.flip(other.open(sealed, "feed:1:0"))).reason).toBe("Tampered")
    }))

  it.effect("master keys must be 32 bytes of base64; the error never echoes the key", () =>
    Effect.gen(function*() {
      const good = Vault.generateMasterKey()
      expect((yield* Vault.parseMasterKey(good)).pipe(Redacted.value).byteLength).toBe(32)
      for (const bad of ["c2hvcnQ=", "not base64 at all!!", `${Redacted.value(good)}AAAA`]) {
        const error = yield* Effect.flip(Vault.parseMasterKey(Redacted.make(bad)))
        expect(error.reason).toBe("InvalidMasterKey")
        expect(error.message).not.toContain(bad)
      }
      expect((yield* Effect.flip(vaultWith(randomBytes(16)))).reason).toBe("InvalidMasterKey")
    }))
})
