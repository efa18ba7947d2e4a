/**
 * Corrections and withdrawals in the outbox (TVP ISA 4.1: whoever provided inaccurate information
 * corrects it and notifies "all other recipients of the data").
 *
 * When a new version of an occurrence is decided, `forNewVersion` first stops every earlier
 * version still waiting in the outbox (cancelled as superseded, so a stale version is never sent
 * after a newer one), then works out what each earlier recipient may hold: the newest of its
 * notifications that was delivered or attempted — an attempt that failed may still have reached
 * it — unless that was a withdrawal. A recipient of the new version who holds one gets the new
 * version as a correction naming it; a recipient who holds one but has no part in the new version
 * gets a withdrawal; everyone else gets the new version as an ordinary notification.
 *
 * `withdraw` is a person saying a notification was sent in error: its recipient is sent a
 * withdrawal, or, if it was never attempted, it is simply cancelled. All of it is audited.
 */
import { AuditLog } from "@encompass/audit"
import type { SchoolCalendar } from "@encompass/isa-policy"
import { Notification, Recipient } from "@encompass/domain"
import { Correction, Deadline } from "@encompass/isa-policy"
import type { Agreement } from "@encompass/isa-policy"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import type { Vault } from "@encompass/store"
import { DateTime, Effect, Either, Option, Schema } from "effect"
import { ActiveAgreement, ActiveCalendar } from "./ActiveAgreement.js"
import * as FeedInbox from "./FeedInbox.js"
import { enqueue } from "./internal/enqueue.js"
import * as NotificationBody from "./internal/NotificationBody.js"
import { randomReference } from "./internal/reference.js"

interface Earlier {
  readonly id: string
  readonly reference: string
  readonly version: number
  readonly recipient: string
  readonly state: string
  readonly kind: Notification.Kind
  readonly attempts: number
  readonly in_flight: boolean
  readonly body: unknown
}

/** What to queue: a notification, and the stored notification it corrects or withdraws, if any. */
export interface Planned {
  readonly notification: Notification.Notification
  readonly supersedes: string | null
}

/** An earlier row with its body opened (a shredded or unreadable one is Left). */
type Opened = Earlier & { readonly opened: Either.Either<Notification.Notification, unknown> }

const opening = (row: Earlier): Effect.Effect<Opened, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.map(NotificationBody.open(row.reference, row.body), (opened) => ({ ...row, opened }))

/** Delivered, attempted (a failed attempt may still have arrived) or being attempted right now. */
const mayHaveArrived = (row: Earlier): boolean => row.state === "delivered" || row.attempts > 0 || row.in_flight

interface Held {
  readonly id: string
  /** Its first notification of the version, with the children of its supplements merged in. */
  readonly notification: Notification.DataNotification
  /** Its supplements that may have arrived, oldest first. */
  readonly additions: ReadonlyArray<{ readonly id: string; readonly notification: Notification.DataNotification }>
}

/**
 * By recipient, what it may hold: `rows` newest first; a withdrawal means it holds none. That is
 * its newest version that may have arrived: one notification, and any supplements of it that
 * may have arrived too (a supplement adds children to it, `Supplement`).
 */
const heldBy = (rows: ReadonlyArray<Opened>): Map<string, Held> => {
  const held = new Map<string, Held>()
  const settled = new Map<string, number>()
  const parts = new Map<string, Array<{ readonly id: string; readonly notification: Notification.DataNotification }>>()
  for (const row of rows) {
    if (!mayHaveArrived(row)) continue
    const version = settled.get(row.recipient)
    if (version !== undefined && version !== row.version) continue
    const first = version === undefined
    settled.set(row.recipient, row.version)
    const decoded = row.opened
    // Unreadable (the outbox dead-letters such a row): the new version then goes as an ordinary notification.
    if (first && (row.kind === "withdrawal" || Either.isLeft(decoded) || Notification.isWithdrawal(decoded.right))) {
      settled.set(row.recipient, Number.NaN)
      continue
    }
    if (Either.isLeft(decoded) || Notification.isWithdrawal(decoded.right)) continue
    const notification = decoded.right as Notification.DataNotification
    const part = parts.get(row.recipient) ?? []
    parts.set(row.recipient, [...part, { id: row.id, notification }])
    // Oldest last: the notification itself, which its supplements name.
    if (notification.payload.supplements === undefined) held.set(row.recipient, { id: row.id, notification, additions: [] })
  }
  for (const [recipient, [newest]] of parts) {
    // Only a supplement may have arrived: it is what the recipient holds.
    if (newest !== undefined && !held.has(recipient)) held.set(recipient, { ...newest, additions: [] })
  }
  for (const [recipient, { id, notification }] of held) {
    const additions = (parts.get(recipient) ?? []).filter((p) => p.notification.payload.supplements?.reference === notification.reference).reverse()
    if (additions.length === 0) continue
    const merged = new Notification.Notification({
      ...notification,
      children: [notification.children[0], ...notification.children.slice(1), ...additions.flatMap((a) => a.notification.children)],
      payload: new Notification.NotificationPayload({
        ...notification.payload,
        children: [notification.payload.children[0], ...notification.payload.children.slice(1), ...additions.flatMap((a) => a.notification.payload.children)]
      })
    }) as Notification.DataNotification
    held.set(recipient, { id, notification: merged, additions })
  }
  return held
}

/** The deadline for a correction or withdrawal: the start of the next school day after it was made, at the earliest. */
export const noticeDeadline = (
  deadline: DateTime.Utc,
  agreement: Agreement.Agreement,
  calendar: Option.Option<SchoolCalendar.SchoolCalendar>
): Effect.Effect<DateTime.Utc> =>
  Effect.map(DateTime.now, (now) => DateTime.max(deadline, Deadline.due(now, agreement, Option.getOrUndefined(calendar))))

/**
 * Plans version `version` of an occurrence, whose decided notifications are `notifications`, in
 * the caller's transaction: see the module comment. Returns what to queue, in order.
 */
export const forNewVersion = (
  options: {
    readonly source: string
    readonly occurrence: string
    readonly version: number
    readonly agreement: Agreement.Agreement
    readonly calendar: Option.Option<SchoolCalendar.SchoolCalendar>
  },
  notifications: ReadonlyArray<Notification.DataNotification>
): Effect.Effect<ReadonlyArray<Planned>, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const { occurrence, source, version } = options
    // A live claim means a channel is sending it now: it is left to finish, and counts as arrived.
    const superseded = yield* sql.query<{ reference: string; recipient: string; state: string }>`UPDATE notification
        SET state = 'cancelled', cancelled_at = now(), cancellation = ${`superseded by version ${version}`}
      WHERE source = ${source} AND occurrence = ${occurrence} AND version < ${version} AND state IN ('queued', 'dead')
        AND (claimed_until IS NULL OR claimed_until <= now())
      RETURNING reference, recipient, state`
    for (const row of superseded) {
      yield* audit.append({ stage: "superseded", subject: `notification:${row.reference}`, detail: { recipient: row.recipient, by: version } })
    }
    const earlier = yield* sql.query<Earlier>`SELECT id::text AS id, reference, version, recipient, state, kind, attempts,
        coalesce(claimed_until > now(), false) AS in_flight, body
      FROM notification WHERE source = ${source} AND occurrence = ${occurrence} AND version < ${version}
      ORDER BY version DESC, id DESC`
    const held = heldBy(yield* Effect.forEach(earlier, opening))
    if (held.size === 0) return notifications.map((notification) => ({ notification, supersedes: null }))

    const planned: Array<Planned> = []
    const kept = new Set<string>()
    for (const next of notifications) {
      const recipient = Recipient.recipientKey(next.recipient)
      const prior = held.get(recipient)
      if (prior === undefined) {
        planned.push({ notification: next, supersedes: null })
        continue
      }
      kept.add(recipient)
      const deadline = yield* noticeDeadline(next.deadline, options.agreement, options.calendar)
      const correction = Correction.correct(next, prior.notification, prior.additions.map((a) => a.notification.reference))
      planned.push({ notification: new Notification.Notification({ ...correction, deadline }), supersedes: prior.id })
    }
    for (const [recipient, prior] of held) {
      if (kept.has(recipient)) continue
      // The notification and each supplement of it: the recipient deletes every one.
      for (const { id, notification } of [{ id: prior.id, notification: prior.notification }, ...prior.additions]) {
        const deadline = yield* noticeDeadline(notification.deadline, options.agreement, options.calendar)
        planned.push({
          notification: Correction.withdraw(notification, { reference: randomReference(), version, reason: "no-longer-shared", deadline }),
          supersedes: id
        })
      }
    }
    return planned
  })

export class WithdrawError extends Schema.TaggedError<WithdrawError>()("WithdrawError", {
  module: Schema.Literal("Corrections"),
  method: Schema.Literal("withdraw"),
  reason: Schema.Literal("NotFound", "NotWithdrawable", "InFlight"),
  reference: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `notification ${this.reference}: ${this.detail}`
  }
}

/** What `withdraw` did: a withdrawal queued to the recipient, or the notification cancelled unsent. */
export type Withdrawn =
  | { readonly _tag: "WithdrawalQueued"; readonly reference: string; readonly withdrawal: string; readonly recipient: string }
  | { readonly _tag: "CancelledUnsent"; readonly reference: string; readonly recipient: string }

/**
 * A person says the notification `reference` was sent in error (TVP ISA 4.1). If it may have
 * reached its recipient, a withdrawal is queued to them (once: withdrawing again does nothing new)
 * and any further attempt of it is stopped; if it was never attempted it is cancelled instead.
 * Refused while an attempt is in flight, since its outcome decides which of the two is right.
 */
export const withdraw = (
  reference: string,
  options: { readonly operator: string; readonly note: string }
): Effect.Effect<Withdrawn, WithdrawError | SqlError.SqlError, Sql.Sql | AuditLog.AuditLog | ActiveAgreement | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const agreement = yield* ActiveAgreement
    const calendar = yield* Effect.serviceOption(ActiveCalendar)
    const refuse = (reason: WithdrawError["reason"], detail: string) =>
      new WithdrawError({ module: "Corrections", method: "withdraw", reason, reference, detail })
    return yield* sql.transaction(Effect.gen(function*() {
      const [row] = yield* sql.query<Earlier & { source: string; occurrence: string }>`SELECT id::text AS id, source, occurrence, reference, version, recipient,
          state, kind, attempts, coalesce(claimed_until > now(), false) AS in_flight, body
        FROM notification WHERE reference = ${reference} FOR UPDATE`
      if (row === undefined) return yield* refuse("NotFound", "no such notification")
      if (row.kind === "withdrawal") return yield* refuse("NotWithdrawable", "it is itself a withdrawal")
      if (row.in_flight) return yield* refuse("InFlight", "an attempt is in flight; try again once it ends")
      const [later] = yield* sql.query<{ reference: string }>`SELECT reference FROM notification
        WHERE source = ${row.source} AND occurrence = ${row.occurrence} AND recipient = ${row.recipient} AND version > ${row.version} ORDER BY version DESC LIMIT 1`
      if (later !== undefined) return yield* refuse("NotWithdrawable", `a later version, ${later.reference}, replaced it: withdraw that one`)
      const decoded = yield* NotificationBody.open(row.reference, row.body)
      if (Either.isLeft(decoded) || Notification.isWithdrawal(decoded.right)) {
        return yield* refuse("NotWithdrawable", "the stored notification is unreadable")
      }
      const cancellation = `withdrawn by ${options.operator}: ${options.note}`
      yield* sql.query`UPDATE notification SET state = 'cancelled', cancelled_at = now(), cancellation = ${cancellation}
        WHERE id = ${row.id} AND state IN ('queued', 'dead')`
      const detail = { operator: options.operator, note: options.note, recipient: row.recipient }
      if (!mayHaveArrived(row)) {
        yield* audit.append({ stage: "cancelled", subject: `notification:${reference}`, detail: { ...detail, from: row.state, reason: "withdrawn before any attempt" } })
        return { _tag: "CancelledUnsent", reference, recipient: row.recipient } as const
      }
      const held = decoded.right
      const deadline = yield* noticeDeadline(held.deadline, agreement, calendar)
      const notice = Correction.withdraw(held, { reference: randomReference(), version: held.version, reason: "sent-in-error", deadline })
      if (yield* enqueue(row.source, notice, row.id)) {
        yield* audit.append({ stage: "withdrawn", subject: `notification:${reference}`, detail: { ...detail, withdrawal: notice.reference } })
        yield* sql.query`SELECT pg_notify(${FeedInbox.wakeChannels.outbox}, '')`
        return { _tag: "WithdrawalQueued", reference, withdrawal: notice.reference, recipient: row.recipient } as const
      }
      // Withdrawn before: the withdrawal already queued (or sent) is the answer.
      const [earlier] = yield* sql.query<{ reference: string }>`SELECT reference FROM notification WHERE key = ${notice.key}`
      return { _tag: "WithdrawalQueued", reference, withdrawal: earlier?.reference ?? notice.reference, recipient: row.recipient } as const
    }))
  })
