import { afterAll, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Migrator, Sql } from "../src/index.js"

const folders: Array<string> = []
afterAll(() => folders.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })))

/** A temporary migrations folder holding `files`. */
const folder = (files: Record<string, string>): URL => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-migrations-"))
  folders.push(dir)
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return pathToFileURL(`${dir}/`)
}

const recorded = Effect.flatMap(Sql.Sql, (sql) => sql.query<{ name: string }>`SELECT name FROM schema_migration ORDER BY name`).pipe(
  Effect.map((rows) => rows.map((row) => row.name))
)

layer(Sql.layerTestWith({ migrate: false }))("Migrator", (it) => {
  it.effect("applies every migration file once, in name order, and a re-run applies nothing", () =>
    Effect.gen(function*() {
      const files = (yield* Migrator.load(Sql.migrations)).map((m) => m.name)
      expect(files[0]).toBe("0001_audit.sql")
      expect(files).toEqual([...files].sort())
      expect(yield* Migrator.run()).toEqual(files)
      expect(yield* Migrator.run()).toEqual([])
      expect(yield* recorded).toEqual(files)
    }))

  it.effect("concurrent starters apply each migration exactly once", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const dir = folder({
        "0001_race_a.sql": "CREATE TABLE race (n int NOT NULL); INSERT INTO race VALUES (1);",
        "0002_race_b.sql": "INSERT INTO race VALUES (2); SELECT pg_sleep(0.05);",
        "0003_race_c.sql": "INSERT INTO race VALUES (3);"
      })
      const results = yield* Effect.all(Array.from({ length: 5 }, () => Migrator.run(dir)), { concurrency: "unbounded" })
      expect(results.flat().sort()).toEqual(["0001_race_a.sql", "0002_race_b.sql", "0003_race_c.sql"])
      const rows = yield* sql.query<{ n: number }>`SELECT n FROM race ORDER BY n`
      expect(rows.map((r) => r.n)).toEqual([1, 2, 3])
    }))

  it.effect("an applied migration whose file changed is an error", () =>
    Effect.gen(function*() {
      const dir = folder({ "0001_changed.sql": "CREATE TABLE changed (n int);" })
      yield* Migrator.run(dir)
      fs.writeFileSync(new URL("0001_changed.sql", dir), "CREATE TABLE changed (n bigint);")
      const error = yield* Effect.flip(Migrator.run(dir))
      expect(error.reason).toBe("Migration")
      expect(error.message).toContain("0001_changed.sql was changed after it was applied")
    }))

  it.effect("a failing migration is rolled back and not recorded, and later ones do not run", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const dir = folder({
        "0001_broken.sql": "CREATE TABLE half_done (n int); SELECT * FROM no_such_table;",
        "0002_after.sql": "CREATE TABLE after_broken (n int);"
      })
      const error = yield* Effect.flip(Migrator.run(dir))
      expect(error.reason).toBe("Migration")
      expect(error.code).toBe("42P01")
      const tables = yield* sql.query`SELECT 1 FROM pg_tables WHERE tablename IN ('half_done', 'after_broken')`
      expect(tables).toEqual([])
      expect(yield* recorded).not.toContain("0001_broken.sql")
    }))

  it.effect("a badly named or duplicate-numbered file is an error", () =>
    Effect.gen(function*() {
      const badName = yield* Effect.flip(Migrator.load(folder({ "1_add thing.sql": "" })))
      expect(badName.message).toContain("is not named NNNN_lower_snake_case.sql")
      const duplicate = yield* Effect.flip(Migrator.load(folder({ "0005_a.sql": "", "0005_b.sql": "" })))
      expect(duplicate.message).toContain("two migrations are numbered 0005")
    }))
})
