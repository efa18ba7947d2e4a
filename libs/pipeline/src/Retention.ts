/**
 * The retention schedule run (TVP ISA 4.4; Bedford ISA 9, 11): deletes each kind of record once
 * its period in the agreement's `retention` has passed, and crypto-shreds an occurrence — deletes
 * its subject keys, so its incident and every notification payload of it can never be read again
 * — once it is past its period and nothing of it waits for delivery; and cuts the audit
 * skeleton's oldest events from the chain. Every purge is one audit event saying which kind and
 * how many, never whose. A dry run does the same work in a
 * transaction it rolls back, so its report is exactly what a run would do.
 */
import { AuditLog } from "@encompass/audit"
import type { Agreement } from "@encompass/isa-policy"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect, Schema } from "effect"
import { ActiveAgreement } from "./ActiveAgreement.js"
import * as Rehearsal from "./internal/rehearsal.js"

export class RetentionError extends Schema.TaggedError<RetentionError>()("@encompass/pipeline/RetentionError", {
  module: Schema.Literal("Retention"),
  method: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

export type Kind = "rawFeed" | "quarantine" | "occurrence" | "deliveryReceipts" | "auditSkeleton"

/** What was (or, in a dry run, would be) purged of one kind. */
export interface Line {
  readonly kind: Kind
  readonly days: number
  /** Records stored before this are due. */
  readonly before: Date
  /** What `count` counts, e.g. "feeds' raw bytes". */
  readonly what: string
  readonly count: number
  /** Whether it was (or would be) purged; a due audit skeleton may be kept, `what` says why. */
  readonly purged: boolean
}

export interface Report {
  readonly at: Date
  readonly dryRun: boolean
  readonly clause: string
  readonly lines: ReadonlyArray<Line>
}

const daysBefore = (at: Date, days: number) => new Date(at.getTime() - days * 86_400_000)

const purge = (rule: Agreement.RetentionRule, at: Date, dryRun: boolean) =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const lines: Array<Line> = []
    const line = (kind: Kind, what: string, count: number, purged = true) => {
      const days = rule[kind]
      lines.push({ kind, days, before: daysBefore(at, days), what, count, purged })
    }
    const before = (kind: Kind) => daysBefore(at, rule[kind])

    // A feed still waiting to be decoded keeps its bytes whatever its age: nothing accepted is lost.
    const chunks = yield* sql.query<{ feed_id: string }>`DELETE FROM feed_chunk c USING feed f
      WHERE f.id = c.feed_id AND f.received_at < ${before("rawFeed")} AND f.state IN ('processed', 'failed')
      RETURNING c.feed_id::text AS feed_id`
    line("rawFeed", "feeds' raw bytes", new Set(chunks.map((c) => c.feed_id)).size)

    const records = yield* sql.query`UPDATE rejection SET record = NULL
      WHERE record IS NOT NULL AND created_at < ${before("quarantine")} RETURNING id`
    line("quarantine", "quarantined records' raw text", records.length)

    // A feed key sealing nothing any more goes too.
    yield* sql.query`UPDATE feed f SET data_key = NULL WHERE data_key IS NOT NULL AND state IN ('processed', 'failed')
      AND NOT EXISTS (SELECT 1 FROM feed_chunk c WHERE c.feed_id = f.id)
      AND NOT EXISTS (SELECT 1 FROM rejection r WHERE r.feed_id = f.id AND r.record IS NOT NULL)`

    const cutoff = before("occurrence")
    const shredded = yield* sql.query<{ source: string; occurrence: string }>`WITH due AS (
        SELECT i.source, i.occurrence FROM incident i GROUP BY i.source, i.occurrence
        HAVING max(i.created_at) < ${cutoff} AND NOT EXISTS (SELECT 1 FROM notification n
          WHERE n.source = i.source AND n.occurrence = i.occurrence AND (n.state = 'queued' OR n.created_at >= ${cutoff})))
      DELETE FROM subject_key k USING due WHERE k.source = due.source AND k.occurrence = due.occurrence
      RETURNING k.source, k.occurrence`
    line("occurrence", "occurrences crypto-shredded (incident and notification payloads)", new Set(shredded.map((s) => `${s.source}/${s.occurrence}`)).size)

    const attempts = yield* sql.query`DELETE FROM delivery_attempt WHERE at < ${before("deliveryReceipts")} RETURNING id`
    line("deliveryReceipts", "delivery attempt records", attempts.length)

    for (const l of lines) {
      if (!l.purged || l.count === 0) continue
      yield* audit.append({
        stage: "purged",
        subject: `retention:${l.kind}`,
        detail: { kind: l.kind, count: l.count, what: l.what, storedBefore: l.before.toISOString(), days: l.days, clause: rule.clause }
      })
    }
    const report: Report = { at, dryRun, clause: rule.clause, lines }
    return report
  })

/**
 * The audit skeleton past its period: the chain's oldest events, cut at the newest signed anchor
 * stored before the cut-off (`AuditLog.prune`), once the chain verifies — what is cut can never be
 * checked again. Outside the other purges' transaction: the check reads on connections of its own.
 * Only the owner role may cut (README "Database roles"): the gateway's reports what is due.
 */
const pruneAudit = (rule: Agreement.RetentionRule, at: Date, dryRun: boolean) =>
  Effect.gen(function*() {
    const audit = yield* AuditLog.AuditLog
    const days = rule.auditSkeleton
    const before = daysBefore(at, days)
    const line = (count: number, what: string, purged: boolean): Line => ({ kind: "auditSkeleton", days, before, what, count, purged })
    const cut = "audit events cut from the chain (up to a signed anchor)"
    const due = yield* audit.prunable(before)
    if (due.count === 0) return line(0, cut, true)
    if (!due.permitted) return line(due.count, "audit events, this database role may not delete them: run retention as the owner role", false)
    const checked = yield* audit.verifyWith({})
    if (checked._tag === "Broken") return line(due.count, `audit events, the chain does not verify (${checked.message})`, false)
    yield* Rehearsal.transaction(
      audit.prune(due.through, { kind: "auditSkeleton", what: cut, storedBefore: before.toISOString(), days, clause: rule.clause }),
      dryRun
    )
    return line(due.count, cut, true)
  })

/** Runs the agreement's retention schedule as of `at` (default now); `dryRun` changes nothing. */
export const run = (
  options: { readonly at?: Date | undefined; readonly dryRun?: boolean | undefined } = {}
): Effect.Effect<Report, RetentionError | SqlError.SqlError, Sql.Sql | AuditLog.AuditLog | ActiveAgreement> =>
  Effect.gen(function*() {
    const agreement = yield* ActiveAgreement
    const rule = agreement.retention
    if (rule === undefined) {
      return yield* new RetentionError({ module: "Retention", method: "run", detail: `agreement ${agreement.id} sets no retention schedule (its retention: section)` })
    }
    const at = options.at ?? new Date()
    const dryRun = options.dryRun === true
    const report = yield* Rehearsal.transaction(purge(rule, at, dryRun), dryRun)
    const skeleton = yield* pruneAudit(rule, at, dryRun)
    return { ...report, lines: [...report.lines, skeleton] }
  })
