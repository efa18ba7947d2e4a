/**
 * The `decision` table: one row per occurrence version, child and candidate recipient, holding
 * the latest decision. Deciding again (a replay, an override) replaces the row and names its
 * cause; every decision, replaced ones included, is also an audit event (TVP ISA 4.3).
 */
import { AuditLog } from "@encompass/audit"
import type { Decision } from "@encompass/domain"
import { Recipient } from "@encompass/domain"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { DateTime, Effect, Schema } from "effect"

/** Records `decision` in the caller's transaction and audits it (`decided`); `cause` is null at intake. */
export const record = (
  source: string,
  decision: Decision.Decision,
  cause: string | null
): Effect.Effect<void, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const recipient = Recipient.recipientKey(decision.recipient)
    yield* sql.query`INSERT INTO decision (source, occurrence, version, child_ref, recipient, outcome, agreement,
        rule, clause, rationale, fields, deadline, cause)
      VALUES (${source}, ${decision.occurrence}, ${decision.version}, ${decision.child}, ${recipient},
        ${decision.outcome}, ${decision.agreement}, ${decision.rule}, ${decision.clause}, ${decision.rationale},
        ${[...decision.fields]}, ${DateTime.toDate(decision.deadline)}, ${cause})
      ON CONFLICT (source, occurrence, version, child_ref, recipient) DO UPDATE SET outcome = excluded.outcome,
        agreement = excluded.agreement, rule = excluded.rule, clause = excluded.clause, rationale = excluded.rationale,
        fields = excluded.fields, deadline = excluded.deadline, cause = excluded.cause, decided_at = now()`
    yield* audit.append({
      stage: "decided",
      subject: `occurrence:${source}/${decision.occurrence}/v${decision.version}`,
      detail: {
        child: decision.child,
        recipient,
        outcome: decision.outcome,
        agreement: decision.agreement,
        rule: decision.rule,
        clause: decision.clause,
        rationale: decision.rationale,
        fields: [...decision.fields],
        deadline: DateTime.formatIso(decision.deadline),
        ...(cause === null ? {} : { cause })
      }
    })
  })

const Row = Schema.Struct({ child_ref: Schema.String, recipient: Schema.String, outcome: Schema.String, rule: Schema.String })
export type Row = typeof Row.Type

/** The stored decisions of one occurrence version. */
export const forVersion = (
  source: string,
  occurrence: string,
  version: number
): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query`SELECT child_ref, recipient, outcome, rule FROM decision
      WHERE source = ${source} AND occurrence = ${occurrence} AND version = ${version} ORDER BY id`
  ).pipe(Effect.flatMap((rows) => Effect.orDie(Schema.decodeUnknown(Schema.Array(Row))(rows))))

const Occurrence = Schema.Struct({ source: Schema.String, occurrence: Schema.String })
export type Occurrence = typeof Occurrence.Type

/** The occurrences with a decision for `child` or `recipient`, or named `occurrence` (any source), oldest first. */
export const occurrences = (
  by: { readonly occurrence: string } | { readonly child: string } | { readonly recipient: string }
): Effect.Effect<ReadonlyArray<Occurrence>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s`SELECT source, occurrence FROM decision
        WHERE ${"occurrence" in by ? s`occurrence = ${by.occurrence}` : "child" in by ? s`child_ref = ${by.child}` : s`recipient = ${by.recipient}`}
        GROUP BY source, occurrence ORDER BY min(id)`
    )
  ).pipe(Effect.flatMap((rows) => Effect.orDie(Schema.decodeUnknown(Schema.Array(Occurrence))(rows))))
