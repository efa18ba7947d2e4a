/**
 * Encryption of personal data at rest (DESIGN.md §4): AES-256-GCM under a data key per stored
 * thing (a raw feed, later a child subject), each data key wrapped by the region's master key.
 * The database holds only wrapped keys and ciphertext; deleting a wrapped key crypto-shreds
 * everything sealed under it.
 */
import { Config, Context, Effect, Layer, Redacted, Schema } from "effect"
import type { ConfigError } from "effect"
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto"

export class VaultError extends Schema.TaggedError<VaultError>()("VaultError", {
  module: Schema.Literal("Vault"),
  method: Schema.String,
  reason: Schema.Literal("InvalidMasterKey", "WrongMasterKey", "Tampered"),
  detail: Schema.String
}) {
  override get message(): string {
    return `Vault.${this.method}: ${this.detail}`
  }
}

/** A data key in the clear, for this process only, with its wrapped form to store. */
export interface DataKey {
  readonly wrapped: Uint8Array
  /** `nonce ‖ ciphertext ‖ tag`. `context` is bound to the ciphertext (AAD): say what it is. */
  readonly seal: (plaintext: Uint8Array, context: string) => Uint8Array
  readonly open: (sealed: Uint8Array, context: string) => Effect.Effect<Uint8Array, VaultError>
  /** HMAC-SHA256 (hex) under a key derived from this one: a lookup or comparison that never stores the text. */
  readonly mac: (text: string) => string
  /**
   * A 32-byte key for one purpose, HKDF-SHA256 of this key with `label` as its info (the audit
   * chain's MAC key, its anchors' signing seed): knowing one tells nothing of this key or another label's.
   */
  readonly derive: (label: string) => Redacted.Redacted<Uint8Array>
}

export interface Vault {
  /** Names the master key (not secret) so a store opened with another key says so plainly. */
  readonly keyId: string
  readonly newKey: Effect.Effect<DataKey>
  readonly unwrap: (wrapped: Uint8Array) => Effect.Effect<DataKey, VaultError>
  /** `key` (unwrapped by any vault) wrapped under this vault's master key: rotation re-wraps, it never re-encrypts data. */
  readonly rewrap: (key: DataKey) => Uint8Array
}

export const Vault = Context.GenericTag<Vault>("@encompass/store/Vault")

const NONCE = 12
const TAG = 16
const KEY = 32
// Wrapped key layout: version ‖ key id (8) ‖ nonce ‖ sealed key ‖ tag.
const VERSION = 1
const KEY_ID = 8

const encrypt = (key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array => {
  const nonce = randomBytes(NONCE)
  const cipher = createCipheriv("aes-256-gcm", key, nonce).setAAD(aad)
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([nonce, body, cipher.getAuthTag()])
}

const decrypt = (key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined => {
  if (sealed.byteLength < NONCE + TAG) return undefined
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, NONCE)).setAAD(aad)
    decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG))
    return Buffer.concat([decipher.update(bytes.subarray(NONCE, bytes.byteLength - TAG)), decipher.final()])
  } catch {
    return undefined
  }
}

const fail = (method: string, reason: VaultError["reason"], detail: string) =>
  new VaultError({ module: "Vault", method, reason, detail })

// A data key's bytes, for `rewrap` alone: they never leave this module otherwise.
const rawKeys = new WeakMap<DataKey, Uint8Array>()

const dataKey = (key: Uint8Array, wrapped: Uint8Array): DataKey => {
  const macKey = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "encompass-mac-v1", KEY))
  const made: DataKey = {
    wrapped,
    seal: (plaintext, context) => encrypt(key, plaintext, Buffer.from(context)),
    open: (sealed, context) => {
      const plaintext = decrypt(key, sealed, Buffer.from(context))
      return plaintext === undefined
        ? Effect.fail(fail("open", "Tampered", `the sealed ${context.split(":")[0]} does not authenticate under its key`))
        : Effect.succeed(plaintext)
    },
    mac: (text) => createHmac("sha256", macKey).update(text).digest("hex"),
    derive: (label) => Redacted.make(new Uint8Array(hkdfSync("sha256", key, new Uint8Array(0), `encompass:${label}`, KEY)))
  }
  rawKeys.set(made, key)
  return made
}

/** A vault over a 32-byte master key. */
export const make = (masterKey: Redacted.Redacted<Uint8Array>): Effect.Effect<Vault, VaultError> =>
  Effect.gen(function*() {
    const master = Redacted.value(masterKey)
    if (master.byteLength !== KEY) return yield* fail("make", "InvalidMasterKey", `the master key must be ${KEY} bytes, not ${master.byteLength}`)
    const id = createHash("sha256").update("encompass-vault-key-id").update(master).digest().subarray(0, KEY_ID)
    const header = Buffer.concat([Buffer.from([VERSION]), id])
    const wrap = (key: Uint8Array) => Buffer.concat([header, encrypt(master, key, header)])
    return {
      keyId: id.toString("hex"),
      newKey: Effect.sync(() => {
        const key = randomBytes(KEY)
        return dataKey(key, wrap(key))
      }),
      rewrap: (key) => {
        const raw = rawKeys.get(key)
        if (raw === undefined) throw new Error("Vault.rewrap: not a data key of a vault")
        return wrap(raw)
      },
      unwrap: (wrapped) =>
        Effect.gen(function*() {
          const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength)
          if (bytes.byteLength < header.byteLength || bytes[0] !== VERSION) {
            return yield* fail("unwrap", "Tampered", "the wrapped key is not in a known format")
          }
          if (!bytes.subarray(1, 1 + KEY_ID).equals(id)) {
            return yield* fail("unwrap", "WrongMasterKey", `the data was sealed under master key ${bytes.subarray(1, 1 + KEY_ID).toString("hex")}, not ${id.toString("hex")}`)
          }
          const key = decrypt(master, bytes.subarray(header.byteLength), header)
          if (key === undefined) return yield* fail("unwrap", "Tampered", "the wrapped key does not authenticate under the master key")
          return dataKey(key, wrapped)
        })
    }
  })

/** Parses a master key written as base64 (44 characters), e.g. `openssl rand -base64 32`. */
export const parseMasterKey = (text: Redacted.Redacted<string>): Effect.Effect<Redacted.Redacted<Uint8Array>, VaultError> => {
  const trimmed = Redacted.value(text).trim()
  const bytes = Buffer.from(trimmed, "base64")
  return /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && bytes.byteLength === KEY
    ? Effect.succeed(Redacted.make(new Uint8Array(bytes)))
    : Effect.fail(fail("parseMasterKey", "InvalidMasterKey", `the master key must be ${KEY} bytes written as base64`))
}

/** A fresh random master key as base64, for `encompass` to write a key file. */
export const generateMasterKey = (): Redacted.Redacted<string> => Redacted.make(randomBytes(KEY).toString("base64"))

export const layer = (masterKey: Redacted.Redacted<Uint8Array>): Layer.Layer<Vault, VaultError> => Layer.effect(Vault, make(masterKey))

/** The master key from `ENCOMPASS_MASTER_KEY` (base64). */
export const layerConfig: Layer.Layer<Vault, VaultError | ConfigError.ConfigError> = Layer.effect(
  Vault,
  Effect.flatMap(Effect.flatMap(Config.redacted("ENCOMPASS_MASTER_KEY"), parseMasterKey), make)
)

/** A vault with a random master key, for tests. */
export const layerTest: Layer.Layer<Vault> = Layer.orDie(layer(Redacted.make(new Uint8Array(randomBytes(KEY)))))
