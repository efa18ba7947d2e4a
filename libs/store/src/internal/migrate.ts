import { Effect } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import { fileURLToPath } from "node:url"
import type { Sql } from "../Sql.js"
import { SqlError } from "../SqlError.js"

export interface Migration {
  readonly name: string
  readonly checksum: string
  readonly text: string
}

const fileName = /^(\d{4})_[a-z0-9_]+\.sql$/

// Any fixed key works; all gateway processes on one database must agree on it.
const lockKey = "7309474617003614579"

const fail = (method: string, detail: string, code?: string) =>
  new SqlError({ module: "Migrator", method, reason: "Migration", detail, ...(code === undefined ? {} : { code }) })

export const load = (directory: URL): Effect.Effect<ReadonlyArray<Migration>, SqlError> =>
  Effect.tryPromise({
    try: async () => {
      const dir = fileURLToPath(directory)
      const names = (await fs.readdir(dir)).filter((name) => name.endsWith(".sql")).sort()
      const numbers = new Set<string>()
      const migrations: Array<Migration> = []
      for (const name of names) {
        const number = fileName.exec(name)?.[1]
        if (number === undefined) throw fail("load", `${name} is not named NNNN_lower_snake_case.sql`)
        if (numbers.has(number)) throw fail("load", `two migrations are numbered ${number}`)
        numbers.add(number)
        const bytes = await fs.readFile(new URL(name, directory))
        migrations.push({
          name,
          checksum: createHash("sha256").update(bytes).digest("hex"),
          text: bytes.toString("utf8")
        })
      }
      return migrations
    },
    catch: (cause) =>
      cause instanceof SqlError ? cause : fail("load", `cannot read migrations from ${fileURLToPath(directory)}`)
  })

const applyPending = (sql: Sql, migrations: ReadonlyArray<Migration>) =>
  Effect.gen(function*() {
    // Looked up first: the gateway's role on a server may not create tables (README "Database
    // roles"), and CREATE TABLE IF NOT EXISTS needs that right even when the table exists.
    const [found] = yield* sql.query<{ table: string | null }>`SELECT to_regclass('schema_migration')::text AS table`
    if (found?.table == null) {
      yield* sql.query`
      CREATE TABLE IF NOT EXISTS schema_migration (
        name       text        PRIMARY KEY,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`
    }
    const rows = yield* sql.query<{ name: string; checksum: string }>`SELECT name, checksum FROM schema_migration`
    const applied = new Map(rows.map((row) => [row.name, row.checksum]))
    for (const migration of migrations) {
      const checksum = applied.get(migration.name)
      if (checksum !== undefined && checksum !== migration.checksum) {
        return yield* fail("run", `${migration.name} was changed after it was applied; add a new migration instead`)
      }
    }
    // Applied names not in the folder are tolerated: a newer gateway version may have added them.
    const pending = migrations.filter((migration) => !applied.has(migration.name))
    for (const migration of pending) {
      yield* sql.transaction(
        sql.use((s) => s.unsafe(migration.text)).pipe(
          Effect.mapError((error) => fail("run", `${migration.name} failed: ${error.detail}`, error.code)),
          Effect.zipRight(
            sql.query`INSERT INTO schema_migration (name, checksum) VALUES (${migration.name}, ${migration.checksum})`
          )
        )
      )
    }
    return pending.map((migration) => migration.name)
  })

/**
 * Applies the migrations not yet recorded, in name order, each in its own transaction, while
 * holding a session advisory lock so that concurrent starters wait and then find nothing to do.
 */
export const migrate = (sql: Sql, directory: URL): Effect.Effect<ReadonlyArray<string>, SqlError> =>
  Effect.flatMap(load(directory), (migrations) =>
    sql.withConnection(
      Effect.acquireUseRelease(
        sql.use((s) => s.unsafe(`SELECT pg_advisory_lock(${lockKey})`)),
        () => applyPending(sql, migrations),
        () => Effect.ignore(sql.use((s) => s.unsafe(`SELECT pg_advisory_unlock(${lockKey})`)))
      )
    ))
