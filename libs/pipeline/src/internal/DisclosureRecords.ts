/**
 * What the outbox holds about each notification sent or meant to be sent, for the audit export
 * and the breach report: ids, recipient, channel, kind, state, times and the remote's ids, and
 * every delivery attempt. Never the `body`: it holds the children's details, and these records
 * must outlive it (crypto-shredding leaves them whole).
 */
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect, Schema } from "effect"

const Time = Schema.DateFromSelf
const NullTime = Schema.NullOr(Schema.DateFromSelf)

export const Attempt = Schema.Struct({
  attempt: Schema.Number,
  at: Time,
  outcome: Schema.String,
  detail: Schema.NullOr(Schema.String)
})
export type Attempt = typeof Attempt.Type

export const Sent = Schema.Struct({
  id: Schema.String,
  reference: Schema.String,
  source: Schema.String,
  occurrence: Schema.String,
  version: Schema.Number,
  recipient: Schema.String,
  channel: Schema.String,
  kind: Schema.String,
  state: Schema.String,
  /** The reference a correction replaces or a withdrawal withdraws. */
  supersedes: Schema.NullOr(Schema.String),
  deadline: Time,
  created_at: Time,
  delivered_at: NullTime,
  cancelled_at: NullTime,
  cancellation: Schema.NullOr(Schema.String),
  attempts: Schema.Number,
  remote_id: Schema.NullOr(Schema.String),
  last_error: Schema.NullOr(Schema.String),
  /** The first attempt's time: when it may first have reached the recipient. */
  first_attempt_at: NullTime
})
export type Sent = typeof Sent.Type

const decodeSent = Schema.decodeUnknown(Schema.Array(Sent))
const decodeAttempts = Schema.decodeUnknown(Schema.Array(Schema.extend(Attempt, Schema.Struct({ notification_id: Schema.String }))))

// The body is never selected.
const columns = (s: Sql.Client) =>
  s`n.id::text AS id, n.reference, n.source, n.occurrence, n.version, n.recipient, n.channel, n.kind, n.state,
    (SELECT p.reference FROM notification p WHERE p.id = n.supersedes) AS supersedes, n.deadline, n.created_at, n.delivered_at,
    n.cancelled_at, n.cancellation, n.attempts, n.remote_id, n.last_error,
    (SELECT min(a.at) FROM delivery_attempt a WHERE a.notification_id = n.id) AS first_attempt_at`

/** The notifications of one occurrence of `source`, oldest first. */
export const ofOccurrence = (source: string, occurrence: string): Effect.Effect<ReadonlyArray<Sent>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) => s`SELECT ${columns(s)} FROM notification n WHERE n.source = ${source} AND n.occurrence = ${occurrence} ORDER BY n.id`)
  ).pipe(Effect.flatMap((rows) => Effect.orDie(decodeSent(rows))))

/**
 * The notifications to `recipient` or by `channel` that may have reached it — delivered, or
 * attempted (a failed attempt may still have arrived) — first in the window `[from, to)` by when
 * they were delivered, else first attempted; oldest first.
 */
export const disclosed = (
  by: { readonly recipient: string } | { readonly channel: string },
  window: { readonly from: Date; readonly to: Date }
): Effect.Effect<ReadonlyArray<Sent>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s`SELECT * FROM (SELECT ${columns(s)} FROM notification n
          WHERE ${"recipient" in by ? s`n.recipient = ${by.recipient}` : s`n.channel = ${by.channel}`} AND (n.state = 'delivered' OR n.attempts > 0)) d
        WHERE coalesce(d.first_attempt_at, d.delivered_at) >= ${window.from} AND coalesce(d.first_attempt_at, d.delivered_at) < ${window.to}
        ORDER BY coalesce(d.first_attempt_at, d.delivered_at), d.id`
    )
  ).pipe(Effect.flatMap((rows) => Effect.orDie(decodeSent(rows))))

/** Every delivery attempt of the notifications `ids`, by notification id, oldest first. */
export const attempts = (ids: ReadonlyArray<string>): Effect.Effect<ReadonlyMap<string, ReadonlyArray<Attempt>>, SqlError.SqlError, Sql.Sql> =>
  ids.length === 0 ? Effect.succeed(new Map()) : Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s`SELECT notification_id::text AS notification_id, attempt, at, outcome, detail FROM delivery_attempt
        WHERE notification_id IN ${s(ids.map(Number))} ORDER BY notification_id, id`
    )
  ).pipe(
    Effect.flatMap((rows) => Effect.orDie(decodeAttempts(rows))),
    Effect.map((rows) => {
      const byId = new Map<string, Array<Attempt>>()
      for (const { notification_id, ...attempt } of rows) byId.set(notification_id, [...(byId.get(notification_id) ?? []), attempt])
      return byId
    })
  )

/** The notification `reference`, if there is one. */
export const byReference = (reference: string): Effect.Effect<Sent | undefined, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) => sql.use((s) => s`SELECT ${columns(s)} FROM notification n WHERE n.reference = ${reference}`))
    .pipe(Effect.flatMap((rows) => Effect.orDie(decodeSent(rows))), Effect.map(([row]) => row))
