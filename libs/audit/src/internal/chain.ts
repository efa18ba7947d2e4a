import { createHmac } from "node:crypto"

/** The `prev_hash` of the first event. */
export const genesisHash = "0".repeat(64)

/**
 * JSON with no whitespace and object keys sorted by UTF-16 code unit at every level, so that the
 * same value always has the same bytes, whatever order the writer or jsonb put the keys in.
 */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
    return `{${members.join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

export interface Link {
  readonly seq: number
  /** ISO 8601 with milliseconds, as `Date.prototype.toISOString` writes it. */
  readonly at: string
  readonly stage: string
  readonly subject: string
  /**
   * The detail as Postgres writes jsonb as text (`detail::text`): deterministic for a value, and
   * what the database hands back as it is, so verifying needs neither to parse nor to re-encode.
   */
  readonly detail: string
  readonly prevHash: string
}

/** The canonical bytes of an event: the JSON array `[seq, at, stage, subject, detail, prevHash]`. */
export const canonicalLink = (link: Link): string =>
  `[${link.seq},${JSON.stringify(link.at)},${JSON.stringify(link.stage)},${JSON.stringify(link.subject)},${link.detail},${
    JSON.stringify(link.prevHash)
  }]`

/**
 * The chain's hash of an event: HMAC-SHA256, hex, of its canonical bytes under the audit key.
 * Without the key nobody can compute it, so a chain rewritten from the database alone fails.
 */
export const chainHash = (key: Uint8Array) => (link: Link): string => hmacHex(key)(canonicalLink(link))

/** HMAC-SHA256, hex, of canonical bytes already built (by the database, when verifying). */
export const hmacHex = (key: Uint8Array) => (bytes: string): string => createHmac("sha256", key).update(bytes, "utf8").digest("hex")
