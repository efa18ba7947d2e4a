/** Inserting into the quarantine (the `rejection` table); `Quarantine` reads and closes its entries. */
import { AuditLog } from "@encompass/audit"
import type { Rejection } from "@encompass/domain"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect } from "effect"

/**
 * Records `rejection` of feed `feedId` with its sealed record, if any, and audits it (`rejected`);
 * a feed processed again records each rejection once. `decidedVersion`: the stored version whose
 * decision quarantined the child (its school is not in the directory), which a retry decides
 * again. Returns whether it was new.
 */
export const insert = (
  feedId: string,
  rejection: Rejection.Rejection,
  sealed: Buffer | null,
  decidedVersion: number | null = null
): Effect.Effect<boolean, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const inserted = yield* sql.query`INSERT INTO rejection (feed_id, locator, field, reason, occurrence, record, decided_version)
      VALUES (${feedId}, ${rejection.locator}, ${rejection.field ?? null}, ${rejection.reason}, ${rejection.occurrence ?? null}, ${sealed},
        ${decidedVersion})
      ON CONFLICT DO NOTHING RETURNING id`
    if (inserted.length === 0) return false
    yield* Effect.flatMap(AuditLog.AuditLog, (audit) =>
      audit.append({
        stage: "rejected",
        subject: `feed:${feedId}`,
        detail: { locator: rejection.locator, field: rejection.field ?? null, reason: rejection.reason, occurrence: rejection.occurrence ?? null }
      }))
    return true
  })

/** The quarantine entries raised for an occurrence of `source`, oldest first. */
export const idsFor = (source: string, occurrence: string): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query<{ id: string }>`SELECT r.id::text AS id FROM rejection r JOIN feed f ON f.id = r.feed_id
      WHERE r.occurrence = ${occurrence} AND f.source = ${source} ORDER BY r.id`
  ).pipe(Effect.map((rows) => rows.map((r) => r.id)))
