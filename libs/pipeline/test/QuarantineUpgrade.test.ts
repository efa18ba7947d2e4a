/** Migration 0008 links the unknown-school entries an earlier release raised to their incident version. */
import { Migrator, Sql } from "@encompass/store"
import { afterAll, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-0007-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
/** The store's migrations as a database that ran the release before 0008 has them. */
const before0008 = (): URL => {
  const store = fileURLToPath(Sql.migrations)
  for (const name of fs.readdirSync(store).filter((n) => n.endsWith(".sql") && n < "0008")) {
    fs.copyFileSync(path.join(store, name), path.join(dir, name))
  }
  return pathToFileURL(`${dir}/`)
}

layer(Sql.layerTestWith({ migrate: false }), { timeout: 120_000 })("Migration 0008: rejection.decided_version", (it) => {
  it.effect("an open unknown-school entry raised before 0008 gets the version its feed stored; a source's rejection gets none", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      expect(yield* Migrator.run(before0008())).not.toContain("0008_overrides.sql")
      const [feed] = yield* sql.query<{ id: string }>`INSERT INTO feed (source, name, transport, sha256, size_bytes, state)
        VALUES ('niche-rms', 'old.csv', 'file', 'aa', 10, 'processed') RETURNING id::text AS id`
      const feedId = feed?.id ?? ""
      for (const version of [1, 2]) {
        yield* sql.query`INSERT INTO incident (source, occurrence, version, category, occurred_at, feed_id, body, body_sha256)
          VALUES ('niche-rms', '43/1/26', ${version}, 'domestic', now(), ${feedId}, '{}', ${`sha${version}`})`
      }
      yield* sql.query`INSERT INTO rejection (feed_id, locator, field, reason, occurrence) VALUES
        (${feedId}, 'line 2', 'school_urn', 'no setting with this URN in the directory (setting:100009); the child needs a person to route', '43/1/26'),
        (${feedId}, 'line 3', 'urn', 'not a six-digit URN', '43/1/26')`
      expect(yield* Migrator.run()).toContain("0008_overrides.sql")
      const rows = yield* sql.query<{ locator: string; decided_version: number | null }>`SELECT locator, decided_version FROM rejection ORDER BY locator`
      expect(rows).toEqual([{ locator: "line 2", decided_version: 2 }, { locator: "line 3", decided_version: null }])
    }))
})
