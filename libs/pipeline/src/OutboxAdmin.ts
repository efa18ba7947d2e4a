/**
 * The operator's view of the outbox (DESIGN.md §6): every notification with its state, attempts,
 * deadline, next attempt and last error — never its body, which holds the children's details.
 * `retry` re-queues a dead or queued notification, due now, with a fresh attempt budget;
 * `cancel` withdraws one for good, with a reason. Both are audited with who acted.
 *
 * Neither acts on a notification while an attempt is in flight (its claim is live): the channel
 * may be sending it at that moment, and re-queueing it would let a second process send it too.
 */
import { AuditLog } from "@encompass/audit"
import { Sql } from "@encompass/store"
import type { SqlError } from "@encompass/store"
import { Effect, Schema } from "effect"
import * as FeedInbox from "./FeedInbox.js"

export class OutboxAdminError extends Schema.TaggedError<OutboxAdminError>()("OutboxAdminError", {
  module: Schema.Literal("OutboxAdmin"),
  method: Schema.String,
  reason: Schema.Literal("NotFound", "WrongState", "InFlight"),
  reference: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `notification ${this.reference}: ${this.detail}`
  }
}

export type State = "queued" | "delivered" | "dead" | "cancelled"

export interface Entry {
  readonly reference: string
  readonly recipient: string
  readonly channel: string
  readonly occurrence: string
  readonly version: number
  /** A notification, a correction of one, or a withdrawal of one (TVP ISA 4.1). */
  readonly kind: "notification" | "correction" | "withdrawal"
  /** The reference a correction replaces or a withdrawal withdraws. */
  readonly supersedes: string | null
  readonly state: State
  /** Every attempt ever made, operator retries included. */
  readonly attempts: number
  readonly deadline: Date
  /** When a queued notification is next due; null in any other state. */
  readonly nextAttemptAt: Date | null
  readonly lastError: string | null
  readonly createdAt: Date
  readonly deliveredAt: Date | null
  readonly cancelledAt: Date | null
  /** Who cancelled it and why. */
  readonly cancellation: string | null
}

export interface Attempt {
  readonly attempt: number
  readonly at: Date
  readonly outcome: "delivered" | "retry" | "dead"
  readonly detail: string | null
}

interface EntryRow {
  readonly id: string
  readonly reference: string
  readonly recipient: string
  readonly channel: string
  readonly occurrence: string
  readonly version: number
  readonly kind: Entry["kind"]
  readonly supersedes: string | null
  readonly state: State
  readonly attempts: number
  readonly deadline: Date
  readonly next_attempt_at: Date
  readonly last_error: string | null
  readonly created_at: Date
  readonly delivered_at: Date | null
  readonly cancelled_at: Date | null
  readonly cancellation: string | null
  readonly in_flight: boolean
}

const toEntry = (row: EntryRow): Entry => ({
  reference: row.reference,
  recipient: row.recipient,
  channel: row.channel,
  occurrence: row.occurrence,
  version: row.version,
  kind: row.kind,
  supersedes: row.supersedes,
  state: row.state,
  attempts: row.attempts,
  deadline: row.deadline,
  nextAttemptAt: row.state === "queued" ? row.next_attempt_at : null,
  lastError: row.last_error,
  createdAt: row.created_at,
  deliveredAt: row.delivered_at,
  cancelledAt: row.cancelled_at,
  cancellation: row.cancellation
})

const fail = (method: string, reference: string, reason: OutboxAdminError["reason"], detail: string) =>
  new OutboxAdminError({ module: "OutboxAdmin", method, reference, reason, detail })

// The body is never selected.
const columns = (s: Sql.Client) =>
  s`id::text AS id, reference, recipient, channel, occurrence, version, kind,
    (SELECT s.reference FROM notification s WHERE s.id = notification.supersedes) AS supersedes, state, attempts, deadline, next_attempt_at,
    last_error, created_at, delivered_at, cancelled_at, cancellation, coalesce(claimed_until > now(), false) AS in_flight`

/** Notifications, newest first: all of them unless `state` says otherwise, at most `limit` (100). */
export const list = (
  options: { readonly state?: State | "all" | undefined; readonly limit?: number | undefined } = {}
): Effect.Effect<ReadonlyArray<Entry>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) => {
    const state = options.state ?? "all"
    return sql.use((s) =>
      s<Array<EntryRow>>`SELECT ${columns(s)} FROM notification
        ${state === "all" ? s`` : s`WHERE state = ${state}`}
        ORDER BY id DESC LIMIT ${options.limit ?? 100}`
    )
  }).pipe(Effect.map((rows) => rows.map(toEntry)))

/** The row by reference, locked until the calling transaction ends (so a claim cannot slip in). */
const locked = (method: string, reference: string) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.use((s) => s<Array<EntryRow>>`SELECT ${columns(s)} FROM notification WHERE reference = ${reference} FOR UPDATE`))
    .pipe(Effect.flatMap(([row]) => (row === undefined ? Effect.fail(fail(method, reference, "NotFound", "no such notification")) : Effect.succeed(row))))

/** One notification with every delivery attempt, oldest first. */
export const get = (
  reference: string
): Effect.Effect<{ readonly entry: Entry; readonly attempts: ReadonlyArray<Attempt> }, OutboxAdminError | SqlError.SqlError, Sql.Sql> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const [row] = yield* sql.use((s) => s<Array<EntryRow>>`SELECT ${columns(s)} FROM notification WHERE reference = ${reference}`)
    if (row === undefined) return yield* fail("get", reference, "NotFound", "no such notification")
    const attempts = yield* sql.query<Attempt>`SELECT attempt, at, outcome, detail FROM delivery_attempt
      WHERE notification_id = ${row.id} ORDER BY id`
    return { entry: toEntry(row), attempts }
  })

const checkable = (method: string, row: EntryRow, allowed: ReadonlyArray<State>) => {
  if (!allowed.includes(row.state)) return Effect.fail(fail(method, row.reference, "WrongState", `the notification is ${row.state}`))
  if (row.in_flight) {
    return Effect.fail(fail(method, row.reference, "InFlight", "an attempt is in flight; try again once it ends (at most two minutes)"))
  }
  return Effect.void
}

/**
 * Makes a dead or queued notification queued and due now. It gets a fresh attempt budget and
 * back-off (only attempts from here on count), while `attempts` and the attempt history keep
 * counting. It only re-queues: the delivery worker (or the next ingest) sends it, and is woken.
 */
export const retry = (
  reference: string,
  options: { readonly operator: string }
): Effect.Effect<Entry, OutboxAdminError | SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    return yield* sql.transaction(Effect.gen(function*() {
      const row = yield* locked("retry", reference)
      yield* checkable("retry", row, ["dead", "queued"])
      const [updated] = yield* sql.use((s) =>
        s<Array<EntryRow>>`UPDATE notification SET state = 'queued', next_attempt_at = now(), budget_from = attempts
          WHERE id = ${row.id} RETURNING ${columns(s)}`
      )
      yield* sql.query`SELECT pg_notify(${FeedInbox.wakeChannels.outbox}, '')`
      yield* audit.append({
        stage: "requeued",
        subject: `notification:${reference}`,
        detail: { operator: options.operator, from: row.state, attempts: row.attempts }
      })
      return toEntry(updated ?? row)
    }))
  })

/** Withdraws a queued or dead notification: it is never attempted again. The reason is kept and audited. */
export const cancel = (
  reference: string,
  options: { readonly operator: string; readonly reason: string }
): Effect.Effect<Entry, OutboxAdminError | SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    return yield* sql.transaction(Effect.gen(function*() {
      const row = yield* locked("cancel", reference)
      yield* checkable("cancel", row, ["queued", "dead"])
      const cancellation = `cancelled by ${options.operator}: ${options.reason}`
      const [updated] = yield* sql.use((s) =>
        s<Array<EntryRow>>`UPDATE notification SET state = 'cancelled', cancelled_at = now(), cancellation = ${cancellation}
          WHERE id = ${row.id} RETURNING ${columns(s)}`
      )
      yield* audit.append({
        stage: "cancelled",
        subject: `notification:${reference}`,
        detail: { operator: options.operator, from: row.state, reason: options.reason }
      })
      return toEntry(updated ?? row)
    }))
  })
