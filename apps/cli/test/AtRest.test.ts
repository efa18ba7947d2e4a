/**
 * Children's personal data at rest (DESIGN.md §4): after the demo feed is ingested, no dump of
 * the database — `pg_dump` of the server, or every row of every table of the embedded store —
 * holds a child's name, date of birth or address, and neither does the command's output. Then
 * `keys rotate` re-wraps every key under a new master key: the old key opens nothing, the new
 * one everything. Runs against DATABASE_URL when set, else the embedded store.
 */
import { PGlite } from "@electric-sql/pglite"
import { parse } from "csv-parse/sync"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliRoot, type DownRelayRegion, downRelayRegion } from "./Run.js"

const feed = parse(fs.readFileSync(path.join(cliRoot, "demo/niche-feed.csv")), { columns: true, relax_column_count: true }) as ReadonlyArray<Record<string, string>>
/** Every name, date of birth and address in the demo feed. */
const personal = [
  ...new Set(feed.flatMap((row) => [row["child_given_name"], row["child_family_name"], row["child_dob"], row["home_address"], row["incident_address"]]))
].filter((value): value is string => value !== undefined && value !== "")

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
/**
 * Whether `text` holds `value` as a value: not inside a run of base64, where a short name turns up
 * by chance (four letters about once in 17 million characters of ciphertext).
 */
const holds = (text: string, value: string) => new RegExp(`(?<![A-Za-z0-9+/])${escape(value)}(?![A-Za-z0-9+/=])`).test(text)

/** The whole database as text: pg_dump's plain SQL on a server, every row of every table embedded. */
const dump = async (region: DownRelayRegion): Promise<string> => {
  if (region.databaseUrl !== undefined) return execFileSync("pg_dump", ["--data-only", region.databaseUrl], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 })
  const db = new PGlite(path.join(region.work, "pgdata"))
  try {
    const tables = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`)
    const rows = await Promise.all(tables.rows.map((t) => db.query<{ row: string }>(`SELECT t::text AS row FROM "${t.name}" t`)))
    return rows.flatMap((r) => r.rows.map((x) => x.row)).join("\n")
  } finally {
    await db.close()
  }
}

let region: DownRelayRegion

beforeAll(async () => {
  region = await downRelayRegion("at-rest")
}, 240_000)

afterAll(() => region.cleanUp())

describe("personal data at rest", () => {
  it("the demo feed is stored and queued", () => {
    expect(region.ingested.code).toBe(0)
    expect(region.ingested.stdout).toMatch(/to retry [1-9]/)
    expect(personal.length).toBeGreaterThan(10)
  })

  it("a dump of the database holds no child's name, date of birth or address", async () => {
    const text = await dump(region)
    // The dump is not empty: the notifications and decisions are in it.
    expect(text).toMatch(/setting:100001/)
    expect(personal.filter((value) => holds(text, value))).toEqual([])
  })

  it("nor does the command's output", () => {
    const output = region.ingested.stdout + region.ingested.stderr
    expect(personal.filter((value) => holds(output, value))).toEqual([])
  })

  it("keys rotate re-wraps every key: the old master key opens nothing after, the new one everything", async () => {
    const keyFile = path.join(region.work, "master.key")
    const old = fs.readFileSync(keyFile, "utf8").trim()
    const next = path.join(region.work, "next.key")
    fs.writeFileSync(next, `${Buffer.alloc(32, 7).toString("base64")}\n`, { mode: 0o600 })

    const rotated = await region.run(["keys", "rotate", "--config", region.region, "--new-key", next, "--operator", "dpo"])
    expect(rotated.stderr).toBe("")
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toMatch(/Re-wrapped [1-9]\d* feed keys, [1-9]\d* subject keys and 2 store keys/)
    expect(fs.readFileSync(keyFile, "utf8").trim()).toBe(Buffer.alloc(32, 7).toString("base64"))
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600)

    // The same feed again: a repeat, told by the keyed MAC under the re-wrapped lookup key.
    const again = await region.run(["ingest", "--config", region.region, path.join(cliRoot, "demo/niche-feed.csv")])
    expect(again.stderr).toBe("")
    expect(again.stdout).toMatch(/Notifications created\s+0/)
    expect(again.stdout).toMatch(/Audit chain\s+ok/)

    // Any command on the store with the old key is refused at start, naming the key ids, never the key.
    const oldKey = await region.run(["outbox", "list", "--config", region.region], { ENCOMPASS_MASTER_KEY: old })
    expect(oldKey.code).not.toBe(0)
    expect(oldKey.stderr).toMatch(/sealed under master key [0-9a-f]{16}, not [0-9a-f]{16}/)
    expect(oldKey.stderr).not.toContain(old)
  }, 240_000)
})
