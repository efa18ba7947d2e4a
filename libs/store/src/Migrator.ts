/**
 * Forward-only SQL migrations: `libs/store/migrations/NNNN_name.sql`, applied in file-name order,
 * each in a transaction, recorded in `schema_migration` (name, checksum, applied_at) under a
 * Postgres advisory lock. Changing an applied file is an error: add a new migration instead.
 * The store layers run them on start; `run` is for tests and tools.
 */
import { Effect } from "effect"
import * as internal from "./internal/migrate.js"
import { migrations, Sql } from "./Sql.js"
import type { SqlError } from "./SqlError.js"

export type Migration = internal.Migration

/** Reads and checks a migrations folder without touching the database. */
export const load: (directory: URL) => Effect.Effect<ReadonlyArray<Migration>, SqlError> = internal.load

/** Applies the pending migrations of `directory` (default: the store's); returns their names. */
export const run = (directory: URL = migrations): Effect.Effect<ReadonlyArray<string>, SqlError, Sql> =>
  Effect.flatMap(Sql, (sql) => internal.migrate(sql, directory))
