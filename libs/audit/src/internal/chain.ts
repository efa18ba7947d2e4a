import { createHash } from "node:crypto"

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
  /** `canonicalJson` of the detail. */
  readonly detail: string
  readonly prevHash: string
}

/** sha256, hex, of the canonical JSON array `[seq, at, stage, subject, detail, prevHash]`. */
export const hash = (link: Link): string =>
  createHash("sha256")
    .update(
      `[${link.seq},${JSON.stringify(link.at)},${JSON.stringify(link.stage)},${JSON.stringify(link.subject)},${link.detail},${
        JSON.stringify(link.prevHash)
      }]`,
      "utf8"
    )
    .digest("hex")
