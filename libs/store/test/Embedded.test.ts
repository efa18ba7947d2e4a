import { expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Sql } from "../src/index.js"

// Runs whatever DATABASE_URL says: it tests the embedded database itself.
const withEnv = (env: Record<string, string>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

it.live("the embedded data directory persists across two layer lifetimes", () =>
  Effect.gen(function*() {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-pgdata-"))
    const store = Sql.layerConfig.pipe(Layer.provide(withEnv({ ENCOMPASS_DATA_DIR: dataDir })))
    const first = yield* Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* sql.query`CREATE TABLE kept (note text NOT NULL)`
      yield* sql.query`INSERT INTO kept VALUES (${"survives a restart"})`
      return sql.backend
    }).pipe(Effect.provide(store))
    expect(first).toBe("embedded")
    const [notes, migrations] = yield* Effect.gen(function*() {
      const sql = yield* Sql.Sql
      return [
        yield* sql.query<{ note: string }>`SELECT note FROM kept`,
        yield* sql.query<{ n: number }>`SELECT count(*)::int AS n FROM schema_migration WHERE name = '0001_audit.sql'`
      ] as const
    }).pipe(Effect.provide(store))
    expect(notes).toEqual([{ note: "survives a restart" }])
    expect(migrations).toEqual([{ n: 1 }])
    fs.rmSync(dataDir, { recursive: true, force: true })
  }))

it.live("DATABASE_URL selects the server", () =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(
      Layer.build(Sql.layerConfig.pipe(Layer.provide(withEnv({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" })))).pipe(Effect.scoped)
    )
    expect(error._tag).toBe("SqlError")
  }))
