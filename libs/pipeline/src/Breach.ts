/**
 * Personal data breaches (UK GDPR art. 33: the ICO is told within 72 hours). `withdraw` is
 * `outbox withdraw` of a misdirected notification that also opens a breach record: an audit
 * event `breach-opened` (subject `breach:REFERENCE`) naming the notification, its recipient and
 * channel, who opened it and why, the children's opaque refs and the data categories disclosed.
 * The record is an audit event rather than a table row so it is append-only, hash-chained, and
 * outlives a retention purge like the rest of the audit skeleton.
 *
 * `report` lists, for a recipient or a channel and a period, every disclosure — each notification
 * delivered or attempted (an attempt that failed may still have arrived), corrections and
 * supplements included, withdrawals not (they carry no personal data) — with its data categories
 * and its subjects' opaque refs, and the breaches opened: what the 72-hour report needs. Like the
 * audit export it reads only the audit log and the outbox's metadata, never a body.
 */
import { AuditLog } from "@encompass/audit"
import type { AuditEvent } from "@encompass/audit"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import type { Vault } from "@encompass/store"
import { DateTime, Effect } from "effect"
import type { ActiveAgreement } from "./ActiveAgreement.js"
import * as AuditExport from "./AuditExport.js"
import * as Corrections from "./Corrections.js"
import { about, disclosed, occurrenceSubject, text } from "./internal/AuditTrail.js"
import * as DisclosureRecords from "./internal/DisclosureRecords.js"
import * as Html from "./internal/Html.js"

export interface Withdrawn {
  readonly withdrawn: Corrections.Withdrawn
  /** The breach record opened, or already open for this notification; none when it was never sent. */
  readonly breach: AuditExport.Breach | undefined
  readonly alreadyOpen: boolean
}

/** What the notification disclosed, from its own events and its occurrence version's decisions. */
const disclosedBy = (row: DisclosureRecords.Sent) =>
  Effect.map(
    Effect.all([about(`notification:${row.reference}`), about(occurrenceSubject(row.source, row.occurrence, row.version))]),
    ([own, decided]) => disclosed(own, decided, row.recipient)
  )

/**
 * Withdraws the notification `reference` sent in error (`Corrections.withdraw`) and, in the same
 * transaction, opens a breach record for it if it may have reached its recipient. Withdrawing
 * again opens no second record.
 */
export const withdraw = (
  reference: string,
  options: { readonly operator: string; readonly note: string }
): Effect.Effect<Withdrawn, Corrections.WithdrawError | SqlError.SqlError, Sql.Sql | AuditLog.AuditLog | ActiveAgreement | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const subject = `breach:${reference}`
    // Read first, so the transaction holds only the withdrawal and the record (and the audit head's lock briefly).
    const open = (yield* about(subject)).find((e) => e.stage === "breach-opened")
    const row = yield* DisclosureRecords.byReference(reference)
    const data = row === undefined ? undefined : yield* disclosedBy(row)
    return yield* sql.transaction(Effect.gen(function*() {
      const withdrawn = yield* Corrections.withdraw(reference, options)
      if (withdrawn._tag === "CancelledUnsent") return { withdrawn, breach: undefined, alreadyOpen: false }
      if (open !== undefined) return { withdrawn, breach: AuditExport.toBreach(open), alreadyOpen: true }
      const [event] = yield* audit.appendAll([{
        stage: "breach-opened",
        subject,
        detail: {
          notification: reference,
          occurrence: row?.occurrence ?? null,
          version: row?.version ?? null,
          recipient: withdrawn.recipient,
          channel: row?.channel ?? null,
          by: options.operator,
          note: options.note,
          withdrawal: withdrawn.withdrawal,
          children: [...(data?.children ?? [])],
          categories: [...(data?.categories ?? [])]
        }
      }])
      return { withdrawn, breach: event === undefined ? undefined : AuditExport.toBreach(event), alreadyOpen: false }
    }))
  })

export type Scope = { readonly recipient: string } | { readonly channel: string }

export interface Disclosure {
  readonly reference: string
  readonly kind: string
  readonly source: string
  readonly occurrence: string
  readonly version: number
  readonly recipient: string
  readonly channel: string
  readonly state: string
  /** When it may first have reached the recipient: its first attempt. */
  readonly firstAttemptAt: string | null
  readonly deliveredAt: string | null
  readonly remoteId: string | null
  /** The children's opaque refs. */
  readonly subjects: ReadonlyArray<string>
  readonly categories: ReadonlyArray<string>
  readonly fields: ReadonlyArray<{ readonly child: string; readonly fields: ReadonlyArray<string> }>
}

export interface Report {
  readonly format: "encompass-breach-report/1"
  readonly generatedAt: string
  readonly scope: Scope
  readonly from: string
  readonly to: string
  readonly disclosures: ReadonlyArray<Disclosure>
  readonly breaches: ReadonlyArray<AuditExport.Breach>
  readonly totals: {
    readonly disclosures: number
    /** Distinct children. */
    readonly subjects: number
    readonly categories: ReadonlyArray<string>
  }
}

const matches = (scope: Scope, e: AuditEvent.AuditEvent) =>
  "recipient" in scope ? text(e, "recipient") === scope.recipient : text(e, "channel") === scope.channel

/** Every disclosure to the recipient or by the channel in `[from, to)`, and the breaches opened then; see the module comment. */
export const report = (
  scope: Scope,
  window: { readonly from: Date; readonly to: Date }
): Effect.Effect<Report, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const rows = (yield* DisclosureRecords.disclosed(scope, window)).filter((r) => r.kind !== "withdrawal")
    const disclosures = yield* Effect.forEach(rows, (row) =>
      Effect.map(disclosedBy(row), (data): Disclosure => ({
        reference: row.reference,
        kind: row.kind,
        source: row.source,
        occurrence: row.occurrence,
        version: row.version,
        recipient: row.recipient,
        channel: row.channel,
        state: row.state,
        firstAttemptAt: row.first_attempt_at?.toISOString() ?? null,
        deliveredAt: row.delivered_at?.toISOString() ?? null,
        remoteId: row.remote_id,
        subjects: data.children,
        categories: data.categories,
        fields: data.fields
      })))
    const breaches = (yield* about("breach:", { prefix: true })).filter((e) => {
      const date = DateTime.toDate(e.at)
      return e.stage === "breach-opened" && matches(scope, e) && date >= window.from && date < window.to
    })
    return {
      format: "encompass-breach-report/1",
      generatedAt: new Date().toISOString(),
      scope,
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      disclosures,
      breaches: breaches.map(AuditExport.toBreach),
      totals: {
        disclosures: disclosures.length,
        subjects: new Set(disclosures.flatMap((d) => d.subjects)).size,
        categories: [...new Set(disclosures.flatMap((d) => d.categories))].sort()
      }
    }
  })

const scopeName = (scope: Scope) => ("recipient" in scope ? `recipient ${scope.recipient}` : `channel ${scope.channel}`)

/** The report as a self-contained HTML page for the DPO's 72-hour report. */
export const html = (r: Report): string =>
  Html.page({
    title: `Breach report: ${scopeName(r.scope)}`,
    facts: [
      ["Scope", scopeName(r.scope)],
      ["Period", `${r.from} to ${r.to} (UTC)`],
      ["Generated", r.generatedAt],
      ["Disclosures", String(r.totals.disclosures)],
      ["Children (opaque refs)", String(r.totals.subjects)],
      ["Data categories", r.totals.categories.join(", ") || "none"]
    ],
    intro:
      "Every notification in scope that was delivered or attempted (a failed attempt may still have arrived), from the audit log and the outbox's delivery records. Children appear by their opaque reference only; look a reference up in the force's record system to identify the data subject.",
    sections: [
      {
        id: "disclosures",
        title: "Disclosures",
        headers: ["reference", "kind", "occurrence", "version", "recipient", "channel", "state", "first attempt (UTC)", "delivered (UTC)", "receipt", "children", "data categories"],
        rows: r.disclosures.map((d) => [
          d.reference, d.kind, `${d.source}/${d.occurrence}`, d.version, d.recipient, d.channel, d.state, d.firstAttemptAt, d.deliveredAt, d.remoteId, d.subjects, d.categories
        ])
      },
      {
        id: "breaches",
        title: "Breaches opened",
        headers: ["seq", "opened (UTC)", "notification", "recipient", "channel", "by", "note", "withdrawal", "children", "data categories"],
        rows: r.breaches.map((b) => [b.seq, b.at, b.reference, b.recipient, b.channel, b.by, b.note, b.withdrawal, b.children, b.categories])
      }
    ]
  })
