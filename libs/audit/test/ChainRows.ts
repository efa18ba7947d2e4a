import { Sql } from "@encompass/store"
import { Effect } from "effect"

/** Every event as the chain's hash covers it, from the database as it stands. */
export const links = Effect.flatMap(Sql.Sql, (sql) =>
  sql.query<{ seq: string; at: string; stage: string; subject: string; detail: string }>`
    SELECT seq::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, stage, subject, detail::text AS detail
    FROM audit_event ORDER BY audit_event.seq`)
