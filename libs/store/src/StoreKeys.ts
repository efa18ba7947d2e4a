/**
 * Keys of the store itself (`store_key`), random and wrapped by the master key like every data
 * key, so rotating the master key re-wraps them and what they key survives it: `lookup` keys the
 * MACs that compare records without keeping their text; the audit log keys its chain with its own.
 */
import { Effect, Option } from "effect"
import { Sql } from "./Sql.js"
import type { SqlError } from "./SqlError.js"
import * as Vault from "./Vault.js"

const unwrap = ([row]: ReadonlyArray<{ readonly wrapped: Uint8Array }>) =>
  row === undefined
    ? Effect.succeed(Option.none<Vault.DataKey>())
    : Effect.flatMap(Vault.Vault, (vault) => Effect.map(vault.unwrap(row.wrapped), Option.some))

/** The store's key `name`, created on first use; two writers creating it at once both get the one stored. */
export const get = (name: string): Effect.Effect<Vault.DataKey, SqlError | Vault.VaultError, Sql | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql
    const vault = yield* Vault.Vault
    const fresh = yield* vault.newKey
    yield* sql.use((s) =>
      s`INSERT INTO store_key (name, wrapped) VALUES (${name}, ${Buffer.from(fresh.wrapped)}) ON CONFLICT (name) DO NOTHING`
    )
    const rows = yield* sql.query<{ wrapped: Uint8Array }>`SELECT wrapped FROM store_key WHERE name = ${name}`
    return Option.getOrThrow(yield* unwrap(rows))
  })

/**
 * Fails, naming both key ids, when the store's keys were wrapped under another master key than
 * this process holds: at start-up, rather than at the first record it cannot read.
 */
export const checkMasterKey: Effect.Effect<void, SqlError | Vault.VaultError, Sql | Vault.Vault> = Effect.asVoid(get("lookup"))
