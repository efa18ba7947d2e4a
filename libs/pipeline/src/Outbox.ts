/**
 * Delivers queued notifications (DESIGN.md §6). Every attempt re-authorises the stored
 * notification against the agreement, so nothing reaches a channel that the agreement does not
 * allow, even if a row was altered after it was decided. One `deliver` call is one attempt; the
 * outcome is recorded and audited in the same transaction.
 *
 * Several gateway processes may deliver from one database: each notification is claimed before
 * its attempt (`FOR UPDATE SKIP LOCKED`), by moving its `next_attempt_at` past the attempt's
 * longest run. No other process sees it as due meanwhile, and a process that dies mid-attempt
 * leaves a claim that simply expires, after which another takes the notification over.
 */
import { AuditLog } from "@encompass/audit"
import { Notification } from "@encompass/domain"
import { Authorization } from "@encompass/isa-policy"
import { ChannelPlugin } from "@encompass/plugin-sdk"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Duration, Effect, Either, Schema } from "effect"
import { ActiveAgreement } from "./ActiveAgreement.js"
import type { DeliveryLine } from "./IngestReport.js"

/** How long one attempt may take before it counts as a retryable timeout. */
const attemptTimeout = Duration.seconds(60)

/** Back-off before the next attempt after `attempts` failures: 1, 2, 4 … minutes, at most an hour. */
const backoffSeconds = (attempts: number): number => Math.min(60 * 2 ** Math.max(0, attempts - 1), 3600)

/** A claim outlives the longest attempt, so only a dead process's claim ever expires. */
const claimLease = Duration.sum(attemptTimeout, Duration.seconds(60))

/** Failures after which a retryable error is given up and dead-lettered. */
const attemptBudget = 8

interface Due {
  readonly id: string
  readonly reference: string
  readonly recipient: string
  readonly attempts: number
  readonly body: unknown
}

type Outcome =
  | { readonly _tag: "delivered"; readonly remoteId: string; readonly detail: string }
  | { readonly _tag: "retry" | "dead"; readonly detail: string }

const decodeNotification = Schema.decodeUnknownEither(Notification.Notification)

/** Claims and attempts queued notifications that are due, one at a time, until none is left; reports each outcome. */
export const deliverDue: Effect.Effect<
  ReadonlyArray<DeliveryLine>,
  SqlError.SqlError,
  Sql.Sql | AuditLog.AuditLog | ChannelPlugin.ChannelPlugin | ActiveAgreement
> = Effect.gen(function*() {
  const sql = yield* Sql.Sql
  const audit = yield* AuditLog.AuditLog
  const channel = yield* ChannelPlugin.ChannelPlugin
  const agreement = yield* ActiveAgreement

  const attempt = (due: Due): Effect.Effect<Outcome> => {
    const decoded = decodeNotification(due.body)
    if (Either.isLeft(decoded)) return Effect.succeed({ _tag: "dead", detail: "stored notification is unreadable" })
    const notification = decoded.right
    if (notification.route.channel !== channel.id) {
      return Effect.succeed({ _tag: "dead", detail: `no channel ${notification.route.channel} is enabled` })
    }
    const authorized = Authorization.authorize(notification, agreement)
    if (Either.isLeft(authorized)) return Effect.succeed({ _tag: "dead", detail: authorized.left.message })
    return channel.deliver(authorized.right).pipe(
      Effect.timeoutFail({
        duration: attemptTimeout,
        onTimeout: () => new ChannelPlugin.DeliveryError({ channel: channel.id, reason: "Timeout", detail: "no answer within 60 s" })
      }),
      Effect.match({
        onSuccess: (receipt): Outcome => ({ _tag: "delivered", remoteId: receipt.remoteId, detail: receipt.response ?? "accepted" }),
        onFailure: (error): Outcome => ({
          _tag: error.retryable && due.attempts + 1 < attemptBudget ? "retry" : "dead",
          detail: error.message
        })
      })
    )
  }

  const record = (due: Due, outcome: Outcome) =>
    sql.transaction(Effect.gen(function*() {
      const attempts = due.attempts + 1
      if (outcome._tag === "delivered") {
        yield* sql.query`UPDATE notification SET state = 'delivered', attempts = ${attempts}, delivered_at = now(),
          remote_id = ${outcome.remoteId}, last_error = NULL WHERE id = ${due.id}`
      } else if (outcome._tag === "retry") {
        yield* sql.query`UPDATE notification SET attempts = ${attempts}, last_error = ${outcome.detail},
          next_attempt_at = now() + make_interval(secs => ${backoffSeconds(attempts)}) WHERE id = ${due.id}`
      } else {
        yield* sql.query`UPDATE notification SET state = 'dead', attempts = ${attempts}, last_error = ${outcome.detail}
          WHERE id = ${due.id}`
      }
      yield* sql.query`INSERT INTO delivery_attempt (notification_id, attempt, outcome, detail)
        VALUES (${due.id}, ${attempts}, ${outcome._tag}, ${outcome.detail})`
      yield* audit.append({
        stage: outcome._tag === "delivered" ? "delivered" : "attempted",
        subject: `notification:${due.reference}`,
        detail: { recipient: due.recipient, attempt: attempts, outcome: outcome._tag, detail: outcome.detail }
      })
    }))

  // The most urgent deadline first.
  const claim = sql.query<Due>`UPDATE notification
      SET next_attempt_at = now() + make_interval(secs => ${Duration.toSeconds(claimLease)})
    WHERE id = (SELECT id FROM notification WHERE state = 'queued' AND next_attempt_at <= now()
      ORDER BY deadline, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING id::text AS id, reference, recipient, attempts, body`

  // Interrupted (SIGTERM) mid-attempt: hand the notification straight back. If the recipient had
  // already accepted it, the next attempt is a recognisable duplicate (same idempotency key).
  const release = (due: Due) => Effect.ignore(sql.query`UPDATE notification SET next_attempt_at = now() WHERE id = ${due.id} AND state = 'queued'`)

  const lines: Array<DeliveryLine> = []
  while (true) {
    const [due] = yield* claim
    if (due === undefined) return lines
    const outcome = yield* attempt(due).pipe(Effect.onInterrupt(() => release(due)))
    yield* record(due, outcome)
    lines.push({ reference: due.reference, recipient: due.recipient, outcome: outcome._tag, detail: outcome.detail })
  }
})
