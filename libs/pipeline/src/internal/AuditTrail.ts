/**
 * Reading the audit log back for records (the audit export, the breach report): events by the
 * subjects they name, and what a notification disclosed — its children's opaque refs and, per
 * child, the fields the decision allowed — from the `queued` and `decided` events alone, so it
 * still reads after a child's personal data is shredded.
 */
import { AuditLog } from "@encompass/audit"
import type { AuditEvent } from "@encompass/audit"
import type { SqlError } from "@encompass/store"
import { Chunk, Effect, Stream } from "effect"

/** The events whose subject is `subject`, or starts with it when `prefix`, in seq order. */
export const about = (
  subject: string,
  options: { readonly prefix?: boolean } = {}
): Effect.Effect<ReadonlyArray<AuditEvent.AuditEvent>, SqlError.SqlError, AuditLog.AuditLog> =>
  Effect.flatMap(AuditLog.AuditLog, (audit) =>
    audit.events({ subjectPrefix: subject }).pipe(
      // A prefix of `rejection:1` also matches `rejection:12`.
      Stream.filter((e) => options.prefix === true || e.subject === subject),
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray)
    ))

export const text = (event: AuditEvent.AuditEvent, key: string): string | undefined => {
  const value = event.detail[key]
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined
}

export const texts = (event: AuditEvent.AuditEvent, key: string): ReadonlyArray<string> => {
  const value = event.detail[key]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []
}

/** The subject of an occurrence version's events, and the prefix of all its versions'. */
export const occurrenceSubject = (source: string, occurrence: string, version?: number): string =>
  `occurrence:${source}/${occurrence}/v${version ?? ""}`

export interface Disclosed {
  readonly children: ReadonlyArray<string>
  /** Per child, the fields the latest sharing decision before the notification was queued allowed. */
  readonly fields: ReadonlyArray<{ readonly child: string; readonly fields: ReadonlyArray<string> }>
  /** Every field of any child: the data categories disclosed. */
  readonly categories: ReadonlyArray<string>
}

const sharing = new Set(["share", "phone-first"])

/**
 * What a notification to `recipient` carried: its `queued` event names the children, and the
 * `decided` events of its occurrence version (`decided`) before it the fields. A withdrawal carries
 * none of their details: no fields.
 */
export const disclosed = (
  notification: ReadonlyArray<AuditEvent.AuditEvent>,
  decided: ReadonlyArray<AuditEvent.AuditEvent>,
  recipient: string
): Disclosed => {
  const queued = notification.find((e) => e.stage === "queued")
  const children = queued === undefined ? [] : texts(queued, "children")
  if (queued === undefined || text(queued, "kind") === "withdrawal") return { children, fields: [], categories: [] }
  const fields = children.map((child) => {
    const last = decided.filter((e) =>
      e.stage === "decided" && e.seq < queued.seq && text(e, "child") === child && text(e, "recipient") === recipient &&
      sharing.has(text(e, "outcome") ?? "")
    ).at(-1)
    return { child, fields: last === undefined ? [] : texts(last, "fields") }
  })
  return { children, fields, categories: [...new Set(fields.flatMap((f) => f.fields))].sort() }
}
