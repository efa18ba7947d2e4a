/**
 * Master-key rotation (DESIGN.md §4): every data key — each raw feed's, each subject's, the
 * store's own — is unwrapped under the current master key and wrapped again under the new one,
 * in one transaction, and audited with both key ids and the counts. No data is re-encrypted:
 * the data keys do not change, only what protects them. A key that does not unwrap under the
 * current master key stops the rotation with nothing changed.
 */
import { AuditLog } from "@encompass/audit"
import type { SqlError } from "@encompass/store"
import { Sql, Vault } from "@encompass/store"
import { Effect } from "effect"

export interface Rotated {
  readonly from: string
  readonly to: string
  readonly feeds: number
  readonly subjects: number
  readonly store: number
}

/** Re-wraps every data key under `next`; the caller then replaces the master key with it. */
export const rotate = (
  next: Vault.Vault,
  operator: string
): Effect.Effect<Rotated, SqlError.SqlError | Vault.VaultError, Sql.Sql | Vault.Vault | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const current = yield* Vault.Vault
    const audit = yield* AuditLog.AuditLog
    const rewrap = (wrapped: Uint8Array) => Effect.map(current.unwrap(wrapped), (key) => Buffer.from(next.rewrap(key)))
    return yield* sql.transaction(Effect.gen(function*() {
      // Locked first: a feed or subject written meanwhile under the old key would be unreadable after.
      yield* sql.query`LOCK TABLE feed, subject_key, store_key IN SHARE ROW EXCLUSIVE MODE`
      const feeds = yield* sql.query<{ id: string; data_key: Uint8Array }>`SELECT id::text AS id, data_key FROM feed WHERE data_key IS NOT NULL`
      for (const feed of feeds) {
        yield* sql.query`UPDATE feed SET data_key = ${yield* rewrap(feed.data_key)} WHERE id = ${feed.id}`
      }
      const subjects = yield* sql.query<{ source: string; occurrence: string; child_ref: string; wrapped: Uint8Array }>`SELECT source, occurrence,
          child_ref, wrapped FROM subject_key`
      for (const s of subjects) {
        yield* sql.query`UPDATE subject_key SET wrapped = ${yield* rewrap(s.wrapped)}
          WHERE source = ${s.source} AND occurrence = ${s.occurrence} AND child_ref = ${s.child_ref}`
      }
      const store = yield* sql.query<{ name: string; wrapped: Uint8Array }>`SELECT name, wrapped FROM store_key`
      for (const key of store) {
        yield* sql.query`UPDATE store_key SET wrapped = ${yield* rewrap(key.wrapped)} WHERE name = ${key.name}`
      }
      const rotated = { from: current.keyId, to: next.keyId, feeds: feeds.length, subjects: subjects.length, store: store.length }
      yield* audit.append({ stage: "keys-rotated", subject: `master-key:${next.keyId}`, detail: { ...rotated, operator } })
      return rotated
    }))
  })
