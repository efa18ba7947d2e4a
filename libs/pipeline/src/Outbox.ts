/**
 * Delivers queued notifications (DESIGN.md §6). Every attempt re-authorises the stored
 * notification against the agreement, so nothing reaches a channel that the agreement does not
 * allow, even if a row was altered after it was decided. One `deliver` call is one attempt; the
 * outcome is recorded and audited in the same transaction.
 *
 * Each enabled channel is delivered on its own (`deliverChannel`), with its own attempts in flight
 * (`Options.concurrency`, else the plugin's `concurrency`, else 1), so a channel whose peer is down
 * or hangs never delays another channel's notifications. A notification routed to a channel this
 * process does not enable is left queued: another gateway process may enable it, and the deadline
 * watch alerts if it waits too long.
 *
 * Several gateway processes may deliver from one database: each notification is claimed before
 * its attempt (`FOR UPDATE SKIP LOCKED`), by moving its `next_attempt_at` past the attempt's
 * longest run. No other process sees it as due meanwhile, and a process that dies mid-attempt
 * leaves a claim that simply expires, after which another takes the notification over.
 *
 * A retryable failure is tried again after an exponential back-off with jitter (`backoff`); a
 * permanent one, or a retryable one once the attempt budget is spent, makes the notification a
 * dead letter, which is audited, logged at error level and handed to the region's alert sink
 * (`Alerts`), if one is provided.
 */
import { AuditLog } from "@encompass/audit"
import { Notification } from "@encompass/domain"
import { Authorization } from "@encompass/isa-policy"
import { ChannelPlugin } from "@encompass/plugin-sdk"
import { Sql, SqlError } from "@encompass/store"
import type { Vault } from "@encompass/store"
import { Chunk, Duration, Effect, Either, Option, Schedule } from "effect"
import { ActiveAgreement } from "./ActiveAgreement.js"
import { ActiveChannels } from "./ActiveChannels.js"
import * as Alerts from "./Alerts.js"
import type { DeliveryLine } from "./IngestReport.js"
import * as NotificationBody from "./internal/NotificationBody.js"
import type { Unreadable } from "./internal/sealed.js"

/** How long one attempt may take, by default, before it counts as a retryable timeout. */
export const defaultAttemptTimeout = Duration.seconds(60)

/**
 * How long a claim holds a notification, by default. It must outlive the longest attempt, so only
 * a dead process's claim ever expires; it is also how long a killed process's notifications wait
 * before another process takes them over.
 */
export const defaultLease = Duration.minutes(2)

/** How a channel's failed notifications are retried. */
export interface RetryPolicy {
  /** The delay after the first failure; it doubles after each further one. */
  readonly base: Duration.DurationInput
  /** The longest delay, before jitter. */
  readonly cap: Duration.DurationInput
  /** Failed attempts after which a retryable error is given up and dead-lettered. */
  readonly budget: number
}

/** 1, 2, 4 … minutes up to an hour (each ±20 %), 8 attempts: about two hours in all. */
export const defaultRetry: RetryPolicy = { base: Duration.minutes(1), cap: Duration.hours(1), budget: 8 }

/**
 * The back-off: `base · 2^(n-1)` after the n-th failure, capped, then jittered to 80–120 % so the
 * notifications one relay outage failed together do not all come back at the same moment.
 */
export const backoff = (policy: RetryPolicy): Schedule.Schedule<Duration.Duration> =>
  Schedule.exponential(policy.base).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, policy.cap)),
    Schedule.jittered
  )

/**
 * The delay before the next attempt after `failures` failed attempts (none after none): the
 * back-off stepped that many times, without sleeping. The delivery loop never sleeps; it stores
 * the next attempt time.
 */
export const retryDelay = (policy: RetryPolicy, failures: number): Effect.Effect<Duration.Duration> =>
  Schedule.run(Schedule.delays(backoff(policy)), 0, Array.from({ length: failures }, () => undefined)).pipe(
    Effect.map((delays) => Option.getOrElse(Chunk.last(delays), () => Duration.zero))
  )

export interface Options {
  /** Retry settings by channel id, each field defaulting to `defaultRetry`'s. */
  readonly retry?: Readonly<Record<string, Partial<RetryPolicy>>> | undefined
  /** How long one attempt may take (default `defaultAttemptTimeout`). */
  readonly attemptTimeout?: Duration.DurationInput | undefined
  /** How long a claim lasts (default `defaultLease`); never less than `attemptTimeout` + 1 s. */
  readonly lease?: Duration.DurationInput | undefined
  /** Attempts in flight at once by channel id (default: the plugin's `concurrency`, else 1). */
  readonly concurrency?: Readonly<Record<string, number>> | undefined
}

/** How many attempts of `channel` run at once: the options' figure, else the plugin's, else 1. */
export const concurrencyOf = (channel: ChannelPlugin.ChannelPlugin, options: Options = {}): number =>
  Math.max(1, Math.floor(options.concurrency?.[channel.id] ?? channel.concurrency ?? 1))

/** Why a notification became a dead letter. */
export type DeadReason = "permanent-error" | "attempts-exhausted" | "unreadable" | "not-authorised"

interface Due {
  readonly id: string
  readonly reference: string
  readonly recipient: string
  readonly channel: string
  readonly deadline: Date
  readonly attempts: number
  readonly budget_from: number
  readonly body: unknown
}

type Outcome =
  | { readonly _tag: "delivered"; readonly remoteId: string; readonly detail: string }
  | { readonly _tag: "retry"; readonly detail: string; readonly delay: Duration.Duration }
  | { readonly _tag: "dead"; readonly reason: DeadReason; readonly detail: string }

const dead = (reason: DeadReason, detail: string): Effect.Effect<Outcome> => Effect.succeed({ _tag: "dead", reason, detail })

/**
 * Claims and attempts the due notifications of one channel, up to its concurrency at once, until
 * none of that channel is left; reports each outcome. The workers run one of these per channel.
 */
export const deliverChannel = (channel: ChannelPlugin.ChannelPlugin, options: Options = {}): Effect.Effect<
  ReadonlyArray<DeliveryLine>,
  SqlError.SqlError,
  Sql.Sql | AuditLog.AuditLog | ActiveAgreement | Vault.Vault
> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const agreement = yield* ActiveAgreement
    const policy: RetryPolicy = { ...defaultRetry, ...options.retry?.[channel.id] }
    const attemptTimeout = Duration.decode(options.attemptTimeout ?? defaultAttemptTimeout)
    const lease = Duration.max(Duration.decode(options.lease ?? defaultLease), Duration.sum(attemptTimeout, Duration.seconds(1)))

    const attempt = (due: Due): Effect.Effect<Outcome, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
      Effect.flatMap(NotificationBody.open(due.reference, due.body), (opened) => attemptOpened(due, opened))

    const attemptOpened = (due: Due, opened: Either.Either<Notification.Notification, Unreadable>): Effect.Effect<Outcome> => {
      if (Either.isLeft(opened)) return dead("unreadable", NotificationBody.unreadable(opened.left))
      const notification = opened.right
      // The row's channel chose the plugin; a body routed elsewhere was altered after it was decided.
      if (notification.route.channel !== channel.id) return dead("unreadable", "stored notification's route does not match its channel")
      const authorized = Authorization.authorize(notification, agreement)
      if (Either.isLeft(authorized)) return dead("not-authorised", authorized.left.message)
      return channel.deliver(authorized.right).pipe(
        Effect.timeoutFail({
          duration: attemptTimeout,
          onTimeout: () =>
            new ChannelPlugin.DeliveryError({ channel: channel.id, reason: "Timeout", detail: `no answer within ${Duration.format(attemptTimeout)}` })
        }),
        Effect.matchEffect({
          onSuccess: (receipt) => Effect.succeed<Outcome>({ _tag: "delivered", remoteId: receipt.remoteId, detail: receipt.response ?? "accepted" }),
          onFailure: (error) => {
            // Only the attempts since an operator's last retry count against the budget.
            const failures = due.attempts + 1 - due.budget_from
            const outcome = !error.retryable
              ? dead("permanent-error", error.message)
              : failures >= policy.budget
              ? dead("attempts-exhausted", error.message)
              : Effect.map(retryDelay(policy, failures), (delay): Outcome => ({ _tag: "retry", detail: error.message, delay }))
            // Why, in the log too: a channel's error detail is safe to log by contract (secure-email
            // strips addresses and credentials from the relay's reply), the recipient is a setting id.
            // A remote's own words after its reply code ("550 5.2.1 Mailbox of …") could still name
            // someone: the log keeps the codes, the words stay in the database for `outbox show`.
            return Effect.zipRight(
              Effect.logWarning("delivery attempt failed").pipe(Effect.annotateLogs({
                reference: due.reference,
                recipient: due.recipient,
                channel: due.channel,
                attempt: due.attempts + 1,
                reason: error.reason,
                error: error.detail.replace(/\b([2-5]\d\d(?: [2-5]\.\d{1,3}\.\d{1,3})?)\b.*$/s, "$1 …")
              })),
              outcome
            )
          }
        })
      )
    }

    const record = (due: Due, outcome: Outcome) =>
      sql.transaction(Effect.gen(function*() {
        const attempts = due.attempts + 1
        if (outcome._tag === "delivered") {
          yield* sql.query`UPDATE notification SET state = 'delivered', attempts = ${attempts}, delivered_at = now(),
            remote_id = ${outcome.remoteId}, last_error = NULL, claimed_until = NULL WHERE id = ${due.id}`
        } else if (outcome._tag === "retry") {
          yield* sql.query`UPDATE notification SET attempts = ${attempts}, last_error = ${outcome.detail}, claimed_until = NULL,
            next_attempt_at = now() + make_interval(secs => ${Duration.toSeconds(outcome.delay)}) WHERE id = ${due.id}`
        } else {
          yield* sql.query`UPDATE notification SET state = 'dead', attempts = ${attempts}, last_error = ${outcome.detail},
            claimed_until = NULL WHERE id = ${due.id}`
        }
        yield* sql.query`INSERT INTO delivery_attempt (notification_id, attempt, outcome, detail)
          VALUES (${due.id}, ${attempts}, ${outcome._tag}, ${outcome.detail})`
        const subject = `notification:${due.reference}`
        yield* audit.append({
          stage: outcome._tag === "delivered" ? "delivered" : "attempted",
          subject,
          detail: { recipient: due.recipient, attempt: attempts, outcome: outcome._tag, detail: outcome.detail }
        })
        if (outcome._tag === "dead") {
          yield* audit.append({
            stage: "dead-lettered",
            subject,
            detail: { recipient: due.recipient, channel: due.channel, attempts, reason: outcome.reason, detail: outcome.detail }
          })
        }
      }))

    // The relay may already have accepted the message: its outcome must not be lost because the
    // database is away just then (a restart). The claim is kept and the recording retried for up to
    // the lease; past it another process may take the notification over and send it again, under
    // the same Message-ID.
    const recorded = (due: Due, outcome: Outcome) =>
      record(due, outcome).pipe(
        Effect.catchIf((e) => e.retryable, (e) =>
          Effect.logWarning("delivery outcome not recorded yet; retrying", e.message).pipe(
            Effect.annotateLogs({ reference: due.reference, outcome: outcome._tag }),
            Effect.zipRight(record(due, outcome).pipe(SqlError.retryWhileAway(lease)))
          ))
      )

    // The alert: ids and the reason only. The error text (a remote's reply may quote an address)
    // stays in the database and the audit log, for `encompass outbox show`. The region's sink
    // (e.g. the SPOC's email) is optional here: see `Alerts.Alerts`.
    const alert = (due: Due, reason: DeadReason) =>
      Effect.zipRight(
        Effect.logError("notification dead-lettered").pipe(
          Effect.annotateLogs({ reference: due.reference, recipient: due.recipient, channel: due.channel, attempts: due.attempts + 1, reason })
        ),
        Effect.flatMap(Effect.serviceOption(Alerts.Alerts), (sink) =>
          Option.isNone(sink) ? Effect.void : sink.value.notify({
            kind: "dead-letter",
            reference: due.reference,
            recipient: due.recipient,
            channel: due.channel,
            deadline: due.deadline,
            state: "dead",
            attempts: due.attempts + 1,
            reason
          }))
      )

    // This channel's most urgent deadline first (index `notification_channel_claim`). Only `queued`
    // is ever due: never a cancelled notification, nor one a later version of its occurrence has
    // replaced for its recipient.
    const claim = sql.query<Due>`UPDATE notification
        SET next_attempt_at = now() + make_interval(secs => ${Duration.toSeconds(lease)}),
          claimed_until = now() + make_interval(secs => ${Duration.toSeconds(lease)})
      WHERE id = (SELECT id FROM notification n WHERE state = 'queued' AND channel = ${channel.id} AND next_attempt_at <= now()
          AND NOT EXISTS (SELECT 1 FROM notification later WHERE later.source = n.source AND later.occurrence = n.occurrence
            AND later.recipient = n.recipient AND later.version > n.version)
        ORDER BY deadline, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id::text AS id, reference, recipient, channel, deadline, attempts, budget_from, body`

    // Interrupted (SIGTERM) mid-attempt: hand the notification straight back. If the recipient had
    // already accepted it, the next attempt is a recognisable duplicate (same idempotency key).
    const release = (due: Due) =>
      Effect.ignore(sql.query`UPDATE notification SET next_attempt_at = now(), claimed_until = NULL WHERE id = ${due.id} AND state = 'queued'`)

    // A notification a later version replaced for its recipient goes no further (TVP ISA 4.1):
    // deciding the later version cancels those waiting, and this catches one whose attempt was in
    // flight then and failed, or whose process died.
    yield* sql.transaction(Effect.gen(function*() {
      const superseded = yield* sql.query<{ reference: string; recipient: string }>`UPDATE notification n
          SET state = 'cancelled', cancelled_at = now(), cancellation = 'superseded by a later version'
        WHERE state = 'queued' AND channel = ${channel.id} AND next_attempt_at <= now() AND EXISTS (SELECT 1 FROM notification later
          WHERE later.source = n.source AND later.occurrence = n.occurrence AND later.recipient = n.recipient
            AND later.version > n.version)
        RETURNING reference, recipient`
      for (const row of superseded) {
        yield* audit.append({ stage: "superseded", subject: `notification:${row.reference}`, detail: { recipient: row.recipient } })
      }
    }))

    const lines: Array<DeliveryLine> = []
    // Each lane claims the next due notification as soon as its attempt is recorded.
    const lane = Effect.gen(function*() {
      while (true) {
        const [due] = yield* claim
        if (due === undefined) return
        const outcome = yield* attempt(due).pipe(Effect.onInterrupt(() => release(due)))
        yield* recorded(due, outcome)
        if (outcome._tag === "dead") yield* alert(due, outcome.reason)
        lines.push({ reference: due.reference, recipient: due.recipient, outcome: outcome._tag, detail: outcome.detail })
      }
    })
    const lanes = concurrencyOf(channel, options)
    yield* Effect.all(Array.from({ length: lanes }, () => lane), { concurrency: lanes, discard: true })
    return lines
  })

/**
 * Delivers the due notifications of every channel this process enables, the channels at once and
 * each with its own concurrency, until none is due; reports each outcome. `deliverDue` is this
 * with the default settings.
 */
export const deliverDueWith = (options: Options = {}): Effect.Effect<
  ReadonlyArray<DeliveryLine>,
  SqlError.SqlError,
  Sql.Sql | AuditLog.AuditLog | ActiveChannels | ActiveAgreement | Vault.Vault
> =>
  Effect.flatMap(ActiveChannels, (channels) =>
    Effect.forEach(channels.values(), (channel) => deliverChannel(channel, options), { concurrency: "unbounded" }).pipe(
      Effect.map((lines) => lines.flat())
    ))

/** `deliverDueWith` with the default settings for every channel. */
export const deliverDue = deliverDueWith()
