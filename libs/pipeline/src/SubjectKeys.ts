/**
 * The data keys children's personal data is sealed under (DESIGN.md §4): one per child of an
 * occurrence, and one (child `""`) for the occurrence's own details — its address, the
 * circumstances — each wrapped by the master key in `subject_key`. Deleting a key crypto-shreds
 * everything sealed under it: retention deletes keys, and the sealed rows become unreadable in
 * every copy of the database, backups included, that does not also keep the key row.
 */
import type { SqlError } from "@encompass/store"
import { Sql, Vault } from "@encompass/store"
import { Effect, Option } from "effect"

export interface Subject {
  readonly source: string
  readonly occurrence: string
  /** The child's reference in its source; `""` for the occurrence's own details. */
  readonly child: string
}

const unwrap = ([row]: ReadonlyArray<{ readonly wrapped: Uint8Array }>) =>
  row === undefined
    ? Effect.succeed(Option.none())
    : Effect.flatMap(Vault.Vault, (vault) => Effect.map(vault.unwrap(row.wrapped), Option.some))

/** The subject's key, created on first use; two writers creating it at once both get the one stored. */
export const keyFor = (subject: Subject): Effect.Effect<Vault.DataKey, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const vault = yield* Vault.Vault
    const fresh = yield* vault.newKey
    const rows = yield* sql.use((s) =>
      s`INSERT INTO subject_key (source, occurrence, child_ref, wrapped)
        VALUES (${subject.source}, ${subject.occurrence}, ${subject.child}, ${Buffer.from(fresh.wrapped)})
        ON CONFLICT (source, occurrence, child_ref) DO NOTHING RETURNING 1`
    )
    if (rows.length > 0) return fresh
    // Stored by another writer under this process's master key: one that does not unwrap is a defect of the deployment.
    return yield* Effect.map(Effect.orDie(existing(subject)), Option.getOrThrow)
  })

/** The subject's key; none once it is shredded (or was never made). */
export const existing = (
  subject: Subject
): Effect.Effect<Option.Option<Vault.DataKey>, SqlError.SqlError | Vault.VaultError, Sql.Sql | Vault.Vault> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query<{ wrapped: Uint8Array }>`SELECT wrapped FROM subject_key
      WHERE source = ${subject.source} AND occurrence = ${subject.occurrence} AND child_ref = ${subject.child}`
  ).pipe(Effect.flatMap(unwrap))
