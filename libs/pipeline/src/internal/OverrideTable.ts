/**
 * The `sensitive_override` table: recorded overrides of a sensitive-case withhold (TVP ISA 3,
 * Bedford ISA 7), its row Schema and every statement on it. A revoked row is kept, with who
 * revoked it and why; only live rows release a case.
 */
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect, Schema } from "effect"

export class Row extends Schema.Class<Row>("OverrideRow")({
  id: Schema.String,
  source: Schema.String,
  occurrence: Schema.String,
  child_ref: Schema.String,
  recipient: Schema.NullOr(Schema.String),
  granted_by: Schema.String,
  role: Schema.String,
  reason: Schema.String,
  granted_at: Schema.DateFromSelf,
  revoked_at: Schema.NullOr(Schema.DateFromSelf),
  revoked_by: Schema.NullOr(Schema.String),
  revocation: Schema.NullOr(Schema.String)
}) {}

const decodeRows = (rows: ReadonlyArray<object>) => Effect.orDie(Schema.decodeUnknown(Schema.Array(Row))(rows))

const columns = (s: Sql.Client) =>
  s`id::text AS id, source, occurrence, child_ref, recipient, granted_by, role, reason, granted_at, revoked_at, revoked_by, revocation`

export interface Grant {
  readonly source: string
  readonly occurrence: string
  readonly child: string
  readonly recipient: string | null
  readonly by: string
  readonly role: string
  readonly reason: string
}

/** Inserts a live override; none when one is already live for the same child and recipient. */
export const insert = (grant: Grant): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s`INSERT INTO sensitive_override (source, occurrence, child_ref, recipient, granted_by, role, reason)
        VALUES (${grant.source}, ${grant.occurrence}, ${grant.child}, ${grant.recipient}, ${grant.by}, ${grant.role}, ${grant.reason})
        ON CONFLICT DO NOTHING RETURNING ${columns(s)}`
    )
  ).pipe(Effect.flatMap(decodeRows))

/** The live overrides of an occurrence, oldest first: what a decision of any of its versions applies. */
export const live = (source: string, occurrence: string): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s`SELECT ${columns(s)} FROM sensitive_override
        WHERE source = ${source} AND occurrence = ${occurrence} AND revoked_at IS NULL ORDER BY id`
    )
  ).pipe(Effect.flatMap(decodeRows))

/** Overrides newest first, revoked ones too when `all`. */
export const list = (options: { readonly all: boolean; readonly limit: number }): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s`SELECT ${columns(s)} FROM sensitive_override ${options.all ? s`` : s`WHERE revoked_at IS NULL`}
        ORDER BY id DESC LIMIT ${options.limit}`
    )
  ).pipe(Effect.flatMap(decodeRows))

/** The override `id`, locked until the caller's transaction ends. */
export const locked = (id: string): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) => s`SELECT ${columns(s)} FROM sensitive_override WHERE id = ${/^\d+$/.test(id) ? id : "0"} FOR UPDATE`)
  ).pipe(Effect.flatMap(decodeRows))

/** Marks a live override revoked; returns the updated row, none if it was not live. */
export const revoke = (
  id: string,
  by: string,
  reason: string
): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s`UPDATE sensitive_override SET revoked_at = now(), revoked_by = ${by}, revocation = ${reason}
        WHERE id = ${id} AND revoked_at IS NULL RETURNING ${columns(s)}`
    )
  ).pipe(Effect.flatMap(decodeRows))
