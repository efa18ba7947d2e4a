/**
 * SSH host key pinning, for every SFTP peer (the gateway's SFTP drops, the SFTP channel): the
 * fingerprint OpenSSH prints for the key a server presents during the handshake, and the pinned
 * form as a config Schema.
 */
import { Schema } from "effect"
import { createHash } from "node:crypto"

/** `SHA256:` and the unpadded base64 SHA-256 of the key blob, as `ssh-keygen -lf` prints it. */
export const fingerprint = (blob: Uint8Array): string =>
  `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`

/** Whether two fingerprints name the same key; base64 padding is optional. */
export const sameKey = (a: string, b: string): boolean => a.replace(/=+$/, "") === b.replace(/=+$/, "")

/** The key type a blob starts with (`ssh-ed25519`, `ecdsa-sha2-nistp256`, …), for error messages. */
export const keyType = (blob: Buffer): string => {
  if (blob.length < 4) return "unknown"
  const length = blob.readUInt32BE(0)
  return length > 0 && length <= 64 && blob.length >= 4 + length ? blob.subarray(4, 4 + length).toString("latin1") : "unknown"
}

/** A pinned host key in a config file. */
export const Pinned = Schema.String.pipe(
  Schema.pattern(/^SHA256:[A-Za-z0-9+/]{43}=?$/, {
    message: () => "expected the server's host key fingerprint as `ssh-keygen -lf` prints it: SHA256: and 43 base64 characters"
  })
)
