/**
 * Signed anchors of the audit chain: the head's seq and hash at a moment, signed with Ed25519.
 * Kept in `audit_anchor` and exported as JSON lines (`encompass audit anchors`) to be kept where
 * the database's administrators cannot reach, an anchor proves the chain reached that event with
 * that hash: cutting the tail off below it, or rewriting anything up to it, is detected.
 */
import { Either, ParseResult, Schema } from "effect"
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto"
import type { KeyObject } from "node:crypto"

export class Anchor extends Schema.Class<Anchor>("AuditAnchor")({
  /** The anchored event. */
  seq: Schema.Int,
  /** Its chain hash. */
  hash: Schema.String,
  /** When it was signed: ISO 8601 with milliseconds. */
  at: Schema.String,
  /** The signer's Ed25519 public key, base64 of its 32 bytes. */
  publicKey: Schema.String,
  /** base64 Ed25519 signature of `signedBytes`. */
  signature: Schema.String
}) {}

/** What is signed: a label, so a signature made for anything else never passes as an anchor. */
export const signedBytes = (anchor: Pick<Anchor, "seq" | "hash" | "at">): Buffer =>
  Buffer.from(`encompass-audit-anchor:v1:${anchor.seq}:${anchor.hash}:${anchor.at}`, "utf8")

// An Ed25519 private key in PKCS #8 DER is this prefix and the 32-byte seed (RFC 8410).
const pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex")

export interface Signer {
  readonly publicKey: string
  readonly sign: (head: { readonly seq: number; readonly hash: string; readonly at: string }) => Anchor
  /** Whether the anchor is signed by this signer's key. */
  readonly check: (anchor: Anchor) => boolean
}

/** The signer whose key is the Ed25519 key of a 32-byte seed. */
export const signer = (seed: Uint8Array): Signer => {
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: "der", type: "pkcs8" })
  const key: KeyObject = createPublicKey(privateKey)
  const publicKey = key.export({ format: "der", type: "spki" }).subarray(-32).toString("base64")
  return {
    publicKey,
    sign: (head) => new Anchor({ ...head, publicKey, signature: sign(null, signedBytes(head), privateKey).toString("base64") }),
    check: (anchor) =>
      anchor.publicKey === publicKey && verify(null, signedBytes(anchor), key, Buffer.from(anchor.signature, "base64"))
  }
}

const fromJson = Schema.decodeUnknownEither(Schema.parseJson(Anchor))

/** One anchor as a JSON line, without the newline. */
export const toJsonLine = (anchor: Anchor): string =>
  JSON.stringify({ seq: anchor.seq, hash: anchor.hash, at: anchor.at, publicKey: anchor.publicKey, signature: anchor.signature })

export class AnchorFileError extends Schema.TaggedError<AnchorFileError>()("@encompass/audit/AnchorFileError", {
  module: Schema.Literal("AuditAnchor"),
  method: Schema.Literal("parseJsonLines"),
  line: Schema.Int,
  detail: Schema.String
}) {
  override get message(): string {
    return `anchors line ${this.line}: ${this.detail}`
  }
}

/** Anchors from JSON lines, as `audit anchors` writes them; blank lines are skipped. */
export const parseJsonLines = (text: string): Either.Either<ReadonlyArray<Anchor>, AnchorFileError> => {
  const anchors: Array<Anchor> = []
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue
    const decoded = fromJson(line)
    if (Either.isLeft(decoded)) {
      return Either.left(new AnchorFileError({ module: "AuditAnchor", method: "parseJsonLines", line: index + 1, detail: ParseResult.TreeFormatter.formatErrorSync(decoded.left) }))
    }
    anchors.push(decoded.right)
  }
  return Either.right(anchors)
}
