/**
 * The daily compliance report (DESIGN.md §5–§7): for one region and one day, the notifications
 * that fell due and what became of them, and the decisions that shared nothing, with the rules
 * and clauses behind them.
 *
 * A day is a calendar day in Europe/London (where deadlines are set), and both notifications and
 * decisions count on the day of their **deadline**: a withheld decision carries the deadline a
 * share would have had, so the day's figures cover one set of incidents — the cases due that
 * morning — whichever way each was decided, and a day's report does not change once its
 * deadlines have passed except as late deliveries land.
 */
import { CalendarDate } from "@encompass/domain"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Clock, DateTime, Effect, Schema } from "effect"

export const timeZone = "Europe/London"

export class ComplianceReportError extends Schema.TaggedError<ComplianceReportError>()("ComplianceReportError", {
  module: Schema.Literal("ComplianceReport"),
  method: Schema.String,
  reason: Schema.Literal("InvalidDate"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** Decisions of one outcome under one rule and clause. */
export class RuleCount extends Schema.Class<RuleCount>("RuleCount")({
  rule: Schema.String,
  clause: Schema.String,
  count: Schema.Int
}) {}

export class ComplianceReport extends Schema.Class<ComplianceReport>("ComplianceReport")({
  region: Schema.String,
  date: CalendarDate.CalendarDate,
  timeZone: Schema.Literal(timeZone),
  /** When the report was made: figures for a day not yet over can still move. */
  asOf: Schema.String,
  /** Notifications whose deadline falls on the day, whatever their state. */
  due: Schema.Int,
  /** Delivered at or before the deadline. */
  deliveredOnTime: Schema.Int,
  /** Delivered after the deadline. */
  deliveredLate: Schema.Int,
  /** Undelivered, the attempt budget spent or the error permanent. */
  dead: Schema.Int,
  /** Undelivered and still being tried. */
  queued: Schema.Int,
  /** Stopped by an operator (`encompass outbox cancel`, or `withdraw` before any attempt). */
  cancelled: Schema.Int,
  /** Replaced by a later version of the occurrence before it was sent (TVP ISA 4.1). */
  superseded: Schema.Int,
  /** Of those due, corrections of an earlier notification and withdrawals of one (TVP ISA 4.1). */
  corrections: Schema.Int,
  withdrawals: Schema.Int,
  /** Not delivered by the deadline as of `asOf`: late, or dead or queued past it. Cancelled ones are not counted. */
  missed: Schema.Int,
  withheld: Schema.Array(RuleCount),
  needsReview: Schema.Array(RuleCount)
}) {}

const parseDate = (date: string) =>
  Schema.decodeUnknown(CalendarDate.CalendarDate)(date).pipe(
    Effect.mapError(() =>
      new ComplianceReportError({ module: "ComplianceReport", method: "forDay", reason: "InvalidDate", detail: `not a date (YYYY-MM-DD): ${date}` })
    )
  )

/** Local midnight at the start of `date` in Europe/London, as an instant (23, 24 or 25 hours apart). */
const startOf = (date: CalendarDate.CalendarDate, days = 0): Date => {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number]
  const next = new Date(Date.UTC(year, month - 1, day + days))
  return DateTime.toDate(DateTime.unsafeMakeZoned(
    { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() },
    { timeZone, adjustForTimeZone: true }
  ))
}

/** Today in Europe/London by the `Clock`. */
export const today: Effect.Effect<CalendarDate.CalendarDate> = Effect.map(Clock.currentTimeMillis, (millis) =>
  CalendarDate.CalendarDate.make(DateTime.formatIsoDate(DateTime.unsafeMakeZoned(millis, { timeZone }))))

interface Counts {
  readonly due: number
  readonly delivered_on_time: number
  readonly delivered_late: number
  readonly dead: number
  readonly queued: number
  readonly cancelled: number
  readonly superseded: number
  readonly corrections: number
  readonly withdrawals: number
  readonly missed: number
}

/**
 * The report for `date` (YYYY-MM-DD). `region` only labels it: a region has its own store.
 */
export const forDay = (
  date: string,
  options: { readonly region: string }
): Effect.Effect<ComplianceReport, ComplianceReportError | SqlError.SqlError, Sql.Sql> =>
  Effect.gen(function*() {
    const day = yield* parseDate(date)
    const sql = yield* Sql.Sql
    const now = new Date(yield* Clock.currentTimeMillis)
    const [from, until] = [startOf(day), startOf(day, 1)]
    const [counts] = yield* sql.query<Counts>`SELECT count(*)::int AS due,
        count(*) FILTER (WHERE state = 'delivered' AND delivered_at <= deadline)::int AS delivered_on_time,
        count(*) FILTER (WHERE state = 'delivered' AND delivered_at > deadline)::int AS delivered_late,
        count(*) FILTER (WHERE state = 'dead')::int AS dead,
        count(*) FILTER (WHERE state = 'queued')::int AS queued,
        count(*) FILTER (WHERE state = 'cancelled' AND cancellation NOT LIKE 'superseded %')::int AS cancelled,
        count(*) FILTER (WHERE state = 'cancelled' AND cancellation LIKE 'superseded %')::int AS superseded,
        count(*) FILTER (WHERE kind = 'correction')::int AS corrections,
        count(*) FILTER (WHERE kind = 'withdrawal')::int AS withdrawals,
        count(*) FILTER (WHERE (state = 'delivered' AND delivered_at > deadline)
          OR (state IN ('queued', 'dead') AND deadline <= ${now}))::int AS missed
      FROM notification WHERE deadline >= ${from} AND deadline < ${until}`
    const refused = yield* sql.query<{ outcome: string; rule: string; clause: string; count: number }>`SELECT outcome, rule, clause,
        count(*)::int AS count
      FROM decision WHERE outcome IN ('withhold', 'needs-review') AND deadline >= ${from} AND deadline < ${until}
      GROUP BY outcome, rule, clause ORDER BY count(*) DESC, rule, clause`
    const byOutcome = (outcome: string) =>
      refused.filter((r) => r.outcome === outcome).map((r) => new RuleCount({ rule: r.rule, clause: r.clause, count: r.count }))
    return new ComplianceReport({
      region: options.region,
      date: day,
      timeZone,
      asOf: now.toISOString(),
      due: counts?.due ?? 0,
      deliveredOnTime: counts?.delivered_on_time ?? 0,
      deliveredLate: counts?.delivered_late ?? 0,
      dead: counts?.dead ?? 0,
      queued: counts?.queued ?? 0,
      cancelled: counts?.cancelled ?? 0,
      superseded: counts?.superseded ?? 0,
      corrections: counts?.corrections ?? 0,
      withdrawals: counts?.withdrawals ?? 0,
      missed: counts?.missed ?? 0,
      withheld: byOutcome("withhold"),
      needsReview: byOutcome("needs-review")
    })
  })

const total = (rows: ReadonlyArray<RuleCount>) => rows.reduce((n, r) => n + r.count, 0)

const ruleLines = (rows: ReadonlyArray<RuleCount>) => rows.map((r) => `  ${String(r.count).padStart(6)}  ${r.rule} (${r.clause})`)

/** The report as text, for the terminal. */
export const format = (report: ComplianceReport): string =>
  [
    `Compliance report: ${report.region}, deadlines on ${report.date} (${report.timeZone}), as of ${report.asOf}`,
    "",
    `Notifications due   ${report.due}`,
    `  delivered on time ${report.deliveredOnTime}`,
    `  delivered late    ${report.deliveredLate}`,
    `  dead              ${report.dead}`,
    `  still queued      ${report.queued}`,
    `  cancelled         ${report.cancelled}`,
    `  superseded        ${report.superseded}   replaced by a later version before it was sent`,
    `  of which corrections ${report.corrections}, withdrawals ${report.withdrawals}`,
    `Missed deadlines    ${report.missed}`,
    "",
    `Decisions withheld  ${total(report.withheld)}`,
    ...ruleLines(report.withheld),
    `Needs review        ${total(report.needsReview)}`,
    ...ruleLines(report.needsReview)
  ].join("\n")
