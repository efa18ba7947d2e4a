/**
 * The deadline watch (DESIGN.md §5, §6): the deadline never holds a notification back, it drives
 * monitoring. A scan finds notifications not yet delivered (`queued` or `dead`) whose deadline is
 * within the at-risk lead ("at-risk") or already past ("missed") and raises each alert once per
 * notification and kind: an audit event, a log line (warning, or error when missed), a metric,
 * and a call to the region's alert sink (`Alerts`).
 *
 * Once: a scan marks the rows (`at_risk_alerted_at`, `missed_alerted_at`) and writes their audit
 * events in one transaction, and the marking `UPDATE … WHERE … IS NULL` lets only one of several
 * concurrent scans (several gateway processes) take a row. The log, metric and sink follow the
 * commit, so a rolled-back scan never announces an alert it did not record. A notification first
 * seen after its deadline raises only "missed".
 */
import { AuditLog } from "@encompass/audit"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Clock, Duration, Effect, Metric } from "effect"
import * as Alerts from "./Alerts.js"

export type Kind = Alerts.DeadlineAlert["kind"]

/** One raised alert: ids, channel, deadline and delivery state — never the notification's body. */
export type Alert = Alerts.DeadlineAlert

export const atRiskTotal = Metric.counter("encompass_deadline_at_risk_total", {
  description: "notifications alerted as at risk of missing their deadline",
  incremental: true
})

export const missedTotal = Metric.counter("encompass_deadline_missed_total", {
  description: "notifications alerted as having missed their deadline undelivered",
  incremental: true
})

export interface ScanOptions {
  /** How long before its deadline an undelivered notification is at risk. */
  readonly atRiskLead: Duration.DurationInput
}

interface Row {
  readonly reference: string
  readonly recipient: string
  readonly channel: string
  readonly deadline: Date
  readonly state: "queued" | "dead"
  readonly attempts: number
}

const byDeadline = (a: Alert, b: Alert) => a.deadline.getTime() - b.deadline.getTime() || a.reference.localeCompare(b.reference)

const announce = (alert: Alert) => {
  const message = alert.kind === "missed" ? "notification missed its deadline" : "notification at risk of missing its deadline"
  const log = alert.kind === "missed" ? Effect.logError(message) : Effect.logWarning(message)
  return Effect.all([
    log.pipe(Effect.annotateLogs({
      reference: alert.reference,
      recipient: alert.recipient,
      channel: alert.channel,
      deadline: alert.deadline.toISOString(),
      state: alert.state,
      attempts: alert.attempts
    })),
    Metric.increment(Metric.tagged(alert.kind === "missed" ? missedTotal : atRiskTotal, "channel", alert.channel)),
    Effect.flatMap(Alerts.Alerts, (sink) => sink.notify(alert))
  ], { discard: true })
}

/**
 * One scan at the `Clock`'s time (passed to SQL, so `TestClock` drives it): raises and returns
 * the alerts not raised before, most urgent deadline first.
 */
export const scan = (
  options: ScanOptions
): Effect.Effect<ReadonlyArray<Alert>, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog | Alerts.Alerts> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const now = new Date(yield* Clock.currentTimeMillis)
    const horizon = new Date(now.getTime() + Duration.toMillis(options.atRiskLead))

    const raised = yield* sql.transaction(Effect.gen(function*() {
      const missed = yield* sql.query<Row>`UPDATE notification SET missed_alerted_at = ${now}
        WHERE state IN ('queued', 'dead') AND missed_alerted_at IS NULL AND deadline <= ${now}
        RETURNING reference, recipient, channel, deadline, state, attempts`
      const atRisk = yield* sql.query<Row>`UPDATE notification SET at_risk_alerted_at = ${now}
        WHERE state IN ('queued', 'dead') AND at_risk_alerted_at IS NULL AND deadline > ${now} AND deadline <= ${horizon}
        RETURNING reference, recipient, channel, deadline, state, attempts`
      const alerts = [
        ...missed.map((row): Alert => ({ kind: "missed", ...row })),
        ...atRisk.map((row): Alert => ({ kind: "at-risk", ...row }))
      ].sort(byDeadline)
      for (const alert of alerts) {
        yield* audit.append({
          stage: alert.kind,
          subject: `notification:${alert.reference}`,
          detail: {
            recipient: alert.recipient,
            channel: alert.channel,
            deadline: alert.deadline.toISOString(),
            state: alert.state,
            attempts: alert.attempts
          }
        })
      }
      return alerts
    }))
    yield* Effect.forEach(raised, announce, { discard: true })
    return raised
  })

export interface WatchOptions extends ScanOptions {
  /** The pause between scans. */
  readonly interval: Duration.DurationInput
}

/**
 * Scans now and then every `interval`, for ever. A failed scan (the database away) is logged and
 * the next one tries again: the watch itself never fails, so it can run beside the workers.
 */
export const watch = (options: WatchOptions): Effect.Effect<never, never, Sql.Sql | AuditLog.AuditLog | Alerts.Alerts> =>
  scan(options).pipe(
    Effect.catchAllCause((cause) => Effect.logError("deadline scan failed; trying again at the next interval", cause)),
    Effect.zipRight(Effect.sleep(options.interval)),
    Effect.forever
  )
