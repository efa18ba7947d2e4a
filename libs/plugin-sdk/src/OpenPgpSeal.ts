/**
 * Seals a notification payload as an ASCII-armoured OpenPGP message, for every channel that
 * carries one (secure email, SFTP): to a recipient's public key, or with a password the force
 * gave the recipient by another route (DESIGN.md §6).
 *
 * Recipients open it with GnuPG-family tools, and GnuPG 2.2 opens neither argon2 S2K, SEIPD v2
 * (AEAD) packets nor RFC 9580 v6 keys (research/performance-anchors.md): the output is pinned
 * to what it opens (v4 keys, SEIPD v1, iterated S2K) rather than left to openpgp's defaults, so
 * a library upgrade cannot lock recipients out.
 *
 * A recipient's key is only ever used when it is the key the directory pins, unexpired and
 * unrevoked; any doubt about it is a permanent error naming the fingerprint, and never a reason
 * to fall back to the password.
 */
import { Ids, Notification, Recipient } from "@encompass/domain"
import { Effect, Redacted, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { createMessage, encrypt, enums, readKey } from "openpgp"
import type { PartialConfig, PublicKey } from "openpgp"

const pgpConfig: PartialConfig = {
  aeadProtect: false,
  v6Keys: false,
  s2kType: enums.s2k.iterated,
  preferredSymmetricAlgorithm: enums.symmetric.aes256,
  preferredCompressionAlgorithm: enums.compression.uncompressed,
  showVersion: false,
  showComment: false
}

/**
 * Why sealing failed. Every reason is permanent: a person must fix the payload, the key or the
 * directory. Every key reason names the pinned fingerprint; a mismatch also the one presented.
 */
export class OpenPgpSealError extends Schema.TaggedError<OpenPgpSealError>("@encompass/plugin-sdk/OpenPgpSealError")(
  "OpenPgpSealError",
  {
    module: Schema.Literal("OpenPgpSeal"),
    method: Schema.Literal("readKeyFile", "readPublicKey", "seal"),
    reason: Schema.Literal("KeyMissing", "InvalidKey", "KeyMismatch", "KeyExpired", "KeyRevoked", "KeyUnusable", "Encoding", "Encryption"),
    /** Safe to log: fingerprints and key types, never key material, passwords or the payload. */
    detail: Schema.String
  }
) {
  override get message(): string {
    return `OpenPGP ${this.method} failed (${this.reason}): ${this.detail}`
  }
}

/** How a recipient opens what we send. */
export type Secret =
  | { readonly _tag: "Password"; readonly password: Redacted.Redacted<string> }
  | { readonly _tag: "PublicKey"; readonly key: PublicKey; readonly fingerprint: Ids.OpenPgpFingerprint }

export const password = (password: Redacted.Redacted<string>): Secret => ({ _tag: "Password", password })

const keyError = (reason: OpenPgpSealError["reason"], detail: string) =>
  new OpenPgpSealError({ module: "OpenPgpSeal", method: "readPublicKey", reason, detail })

/**
 * The recipient's key from its armoured file, checked against the fingerprint the directory pins
 * and usable at `date`: a v4 public key (GnuPG 2.2 cannot import v6), neither it nor its
 * encryption subkey expired or revoked. Mismatch names both fingerprints.
 */
export const readPublicKey = (
  armored: string,
  pinned: Ids.OpenPgpFingerprint,
  date: Date
): Effect.Effect<Secret, OpenPgpSealError> =>
  Effect.gen(function*() {
    const key = yield* Effect.tryPromise({
      try: () => readKey({ armoredKey: armored }),
      catch: () => keyError("InvalidKey", `the key file for ${pinned} is not an armoured OpenPGP public key`)
    })
    const presented = key.getFingerprint().toUpperCase()
    if (key.keyPacket.version !== 4) {
      return yield* keyError("KeyUnusable", `the key file for ${pinned} holds v${key.keyPacket.version} key ${presented}, which GnuPG 2.2 cannot open; the recipient needs a v4 key`)
    }
    if (presented !== pinned) {
      return yield* keyError("KeyMismatch", `the key file holds key ${presented}, not the pinned ${pinned}; nothing was encrypted to it`)
    }
    // A secret key in the directory is a leak waiting to happen, and a sign that the wrong file was exported.
    if (key.isPrivate()) return yield* keyError("InvalidKey", `the key file for ${pinned} holds a secret key; export only the public key`)
    // What is wrong with the key at `date`, if anything.
    const problem = yield* Effect.tryPromise({
      try: async (): Promise<OpenPgpSealError | undefined> => {
        if (await key.isRevoked(undefined, undefined, date)) return keyError("KeyRevoked", `key ${pinned} is revoked`)
        const expires = await key.getExpirationTime()
        if (expires instanceof Date && expires.getTime() <= date.getTime()) {
          return keyError("KeyExpired", `key ${pinned} expired at ${expires.toISOString()}`)
        }
        try {
          await key.getEncryptionKey(undefined, date)
          return undefined
        } catch {
          // Name what is wrong with each subkey (expired or revoked), or that there is none.
          const problems = await Promise.all(key.subkeys.map((subkey) =>
            subkey.verify(date).then(
              () => `subkey ${subkey.getFingerprint().toUpperCase()} cannot encrypt`,
              (error: unknown) => `subkey ${subkey.getFingerprint().toUpperCase()}: ${error instanceof Error ? error.message : "unusable"}`
            )
          ))
          return keyError(
            problems.some((p) => /revoked/i.test(p)) ? "KeyRevoked" : problems.some((p) => /expired/i.test(p)) ? "KeyExpired" : "KeyUnusable",
            `key ${pinned} has no encryption subkey valid now (${problems.length === 0 ? "no subkeys" : problems.join("; ")})`
          )
        }
      },
      catch: () => keyError("KeyUnusable", `key ${pinned} could not be checked`)
    })
    if (problem !== undefined) return yield* problem
    return { _tag: "PublicKey" as const, key, fingerprint: pinned }
  })

/**
 * The armoured key file of a recipient in the directory's key folder: `setting-123456.asc`,
 * `ehe-team-E06000055.asc`, `front-door-E06000055.asc` (its `recipientKey`, `:` as `-`).
 */
export const keyFileName = (recipient: Recipient.Recipient): string => `${Recipient.recipientKey(recipient).replace(/:/g, "-")}.asc`

/** `readPublicKey` on the recipient's file in `directory`; a missing or unreadable file names the file and the fingerprint. */
export const readKeyFile = (
  directory: string,
  recipient: Recipient.Recipient,
  pinned: Ids.OpenPgpFingerprint,
  date: Date
): Effect.Effect<Secret, OpenPgpSealError> => {
  const name = keyFileName(recipient)
  return Effect.tryPromise({
    try: () => fs.readFile(path.join(directory, name), "utf8"),
    catch: (cause) =>
      new OpenPgpSealError({
        module: "OpenPgpSeal",
        method: "readKeyFile",
        reason: "KeyMissing",
        detail: `the directory pins key ${pinned} for ${Recipient.recipientKey(recipient)}, but its key file ${name} cannot be read (${(cause as { code?: string }).code ?? "error"})`
      })
  }).pipe(Effect.flatMap((armored) => readPublicKey(armored, pinned, date)))
}

const encodePayload = Schema.encode(Schema.parseJson(Notification.Payload, { space: 2 }))

const sealError = (reason: OpenPgpSealError["reason"], detail: string) =>
  new OpenPgpSealError({ module: "OpenPgpSeal", method: "seal", reason, detail })

/**
 * The payload as pretty JSON in an armoured OpenPGP message named `filename` (what `gpg
 * --decrypt` writes out). No failure's detail carries its cause: a parse error would quote the
 * personal data it failed on. A password seal runs the iterated S2K (~13 ms of CPU on the event
 * loop): callers bound how many run at once.
 */
export const seal = (payload: Notification.Payload, secret: Secret, filename: string, date: Date): Effect.Effect<string, OpenPgpSealError> =>
  encodePayload(payload).pipe(
    Effect.mapError(() => sealError("Encoding", "the notification payload could not be encoded as JSON")),
    Effect.flatMap((json) =>
      Effect.tryPromise({
        try: async () => {
          const message = await createMessage({ text: `${json}\n`, filename, format: "utf8", date })
          return secret._tag === "Password"
            ? encrypt({ message, passwords: [Redacted.value(secret.password)], format: "armored", config: pgpConfig, date })
            : encrypt({ message, encryptionKeys: secret.key, format: "armored", config: pgpConfig, date })
        },
        catch: () =>
          sealError("Encryption", secret._tag === "Password" ? "OpenPGP encryption of the payload failed" : `OpenPGP encryption to key ${secret.fingerprint} failed`)
      })
    )
  )
