import type { Notification } from "@encompass/domain"
import { Ids, Recipient } from "@encompass/domain"
import { Supplement } from "@encompass/isa-policy"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect, Option, Schema } from "effect"
import { randomReference } from "./reference.js"

const Stored = Schema.Array(Schema.Struct({
  reference: Schema.String,
  version: Schema.Number,
  kind: Schema.String,
  state: Schema.String,
  children: Schema.NullOr(Schema.Array(Schema.String))
}))

/**
 * The supplement to queue when `next`, decided again, has children its recipient was not sent at
 * this version (`Supplement`), in the caller's transaction. Sent: what a data notification of the
 * recipient and version holds unless it was cancelled (one withdrawn stays sent, so a person's
 * withdrawal is not undone by a re-decision). Its key names the children it adds (and counts the
 * recipient's cancelled notifications of the version), so the same state gives the same key.
 */
export const supplementOf = (
  source: string,
  next: Notification.DataNotification
): Effect.Effect<Option.Option<Notification.DataNotification>, SqlError.SqlError, Sql.Sql> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const rows = yield* sql.query`SELECT reference, version, kind, state, children FROM notification
      WHERE source = ${source} AND occurrence = ${next.occurrence} AND recipient = ${Recipient.recipientKey(next.recipient)}
        AND version = ${next.version} ORDER BY id`.pipe(Effect.flatMap((r) => Effect.orDie(Schema.decodeUnknown(Stored)(r))))
    const held = rows.filter((r) => r.kind !== "withdrawal" && r.state !== "cancelled")
    const [first] = held
    return Supplement.supplement(next, new Set(held.flatMap((r) => r.children ?? [])), {
      cancelled: rows.filter((r) => r.state === "cancelled").length,
      reference: randomReference(),
      adds: Option.map(Option.fromNullable(first), (f) => ({ reference: Ids.GatewayRef.make(f.reference), version: f.version }))
    })
  })
