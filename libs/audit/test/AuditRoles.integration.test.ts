/**
 * On server Postgres the gateway's role only appends: migration 0010 leaves it INSERT and SELECT
 * on the audit tables (and the head to move), so it can neither change nor remove audit rows,
 * nor — not owning them — switch their triggers off. A superuser can do anything to the rows;
 * each such change is detected and its first bad event named. Server only: PGlite has no roles.
 */
import { expect, layer } from "@effect/vitest"
import { Migrator, Sql, Vault } from "@encompass/store"
import { Effect, Layer, Option } from "effect"
import { createHash } from "node:crypto"
import postgres from "postgres"
import { beforeAll, describe } from "vitest"
import { AuditLog } from "../src/index.js"
import { canonicalLink, genesisHash } from "../src/internal/chain.js"
import { links } from "./ChainRows.js"

const server = process.env["DATABASE_URL"] ?? ""
const title = server !== ""
  ? "the audit tables on server Postgres"
  : "the audit tables on server Postgres — SKIPPED: DATABASE_URL not set (PGlite has no roles)"

const TestLayer = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

/** `self` in a transaction of its own as the gateway's role (rolled back with its failure). */
const asGateway = <A, E>(self: Effect.Effect<A, E, Sql.Sql | AuditLog.AuditLog>) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.transaction(Effect.zipRight(sql.use((s) => s.unsafe("SET LOCAL ROLE encompass_gateway")), self)))

/** `statement` as a superuser with every trigger off (`session_replication_role = replica`), as the attacker. */
const asSuperuser = (statement: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.transaction(sql.use((s) => s.unsafe(`SET LOCAL session_replication_role = replica; ${statement}`))))

const appendMany = (n: number) =>
  Effect.flatMap(AuditLog.AuditLog, (log) =>
    log.appendAll(Array.from({ length: n }, (_, i) => ({ stage: "decided" as const, subject: `occurrence:niche-rms/OC-${i + 1}`, detail: { outcome: "share" } }))))

const verify = Effect.flatMap(AuditLog.AuditLog, (log) => log.verifyWith({ full: true }))

const reset = asSuperuser(`DELETE FROM audit_base; DELETE FROM audit_verified; DELETE FROM audit_anchor; DELETE FROM audit_event;
  UPDATE audit_head SET seq = 0, hash = '${genesisHash}'`)

const fresh = (n: number) => Effect.zipRight(reset, appendMany(n))

describe.skipIf(server === "")(title, () => {
  beforeAll(async () => {
    // Roles belong to the cluster, not the test's schema: made once, before the migration grants to it.
    const admin = postgres(server, { max: 1, onnotice: () => undefined })
    try {
      await admin.unsafe(`DO $$ BEGIN CREATE ROLE encompass_gateway NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`)
    } finally {
      await admin.end()
    }
  })

  layer(TestLayer, { timeout: "120 seconds" })("roles and tampering", (it) => {
    it.effect("the gateway's role appends, anchors and verifies, but UPDATE, DELETE and TRUNCATE of audit rows are refused", () =>
      Effect.gen(function*() {
        const sql = yield* Sql.Sql
        // What README "Database roles" sets up: schema usage, and the other tables by default privileges.
        yield* sql.use((s) => s.unsafe(`DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO encompass_gateway', current_schema()); END $$;
          GRANT SELECT ON schema_migration TO encompass_gateway`))
        yield* reset
        yield* asGateway(appendMany(3))
        expect(Option.isSome(yield* asGateway(Effect.flatMap(AuditLog.AuditLog, (log) => log.anchor)))).toBe(true)
        expect(yield* asGateway(verify)).toMatchObject({ _tag: "Intact", count: 3, anchored: 3 })
        for (const statement of [
          "UPDATE audit_event SET subject = 'x'",
          "DELETE FROM audit_event",
          "TRUNCATE audit_event",
          "UPDATE audit_anchor SET hash = 'x'",
          "DELETE FROM audit_anchor",
          "INSERT INTO audit_base (seq, hash) VALUES (1, 'x')",
          "ALTER TABLE audit_event DISABLE TRIGGER USER"
        ]) {
          const error = yield* Effect.flip(asGateway(sql.use((s) => s.unsafe(statement))))
          // 42501 insufficient_privilege, 42501/must be owner for ALTER: the privilege check, not the trigger.
          expect([statement, error.code]).toEqual([statement, "42501"])
        }
        expect(yield* verify).toMatchObject({ _tag: "Intact", count: 3 })
        // Cutting the audit skeleton past its period is the owner's to do, not the gateway's.
        const due = yield* asGateway(Effect.flatMap(AuditLog.AuditLog, (log) => log.prunable(new Date(Date.now() + 86_400_000))))
        expect(due).toEqual({ through: 3, count: 3, permitted: false })
        expect((yield* Effect.flip(asGateway(Effect.flatMap(AuditLog.AuditLog, (log) => log.prune(3, {}))))).code).toBe("42501")
        expect(yield* verify).toMatchObject({ _tag: "Intact", count: 3 })
        // The gateway opens a migrated store: the migrator creates nothing it need not.
        expect(yield* asGateway(Migrator.run())).toEqual([])
      }))

    it.effect("a superuser's edited row is named", () =>
      Effect.gen(function*() {
        yield* fresh(10)
        yield* asSuperuser(`UPDATE audit_event SET detail = '{"outcome":"withhold"}' WHERE seq = 6`)
        expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 6, problem: "edited", subject: "occurrence:niche-rms/OC-6" })
      }))

    it.effect("a superuser's deleted row is named", () =>
      Effect.gen(function*() {
        yield* fresh(10)
        yield* asSuperuser(`DELETE FROM audit_event WHERE seq = 4`)
        expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 4, problem: "missing" })
      }))

    it.effect("a superuser's re-ordered rows are named at the first out of place", () =>
      Effect.gen(function*() {
        yield* fresh(10)
        yield* asSuperuser(`UPDATE audit_event SET seq = -seq WHERE seq IN (7, 8); UPDATE audit_event SET seq = CASE seq WHEN -7 THEN 8 ELSE 7 END WHERE seq < 0`)
        expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 7, problem: "edited", subject: "occurrence:niche-rms/OC-8" })
      }))

    it.effect("a superuser's cut of the tail below the last anchor, head set back, is named", () =>
      Effect.gen(function*() {
        yield* fresh(10)
        yield* Effect.flatMap(AuditLog.AuditLog, (log) => log.anchor)
        yield* appendMany(2)
        yield* asSuperuser(`DELETE FROM audit_event WHERE seq > 6; UPDATE audit_head SET seq = 6, hash = (SELECT hash FROM audit_event WHERE seq = 6)`)
        expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 7, problem: "truncated", subject: "occurrence:niche-rms/OC-6" })
      }))

    it.effect("a superuser's wholesale rewrite with every sha256 hash recomputed fails at the first event", () =>
      Effect.gen(function*() {
        yield* fresh(10)
        // Every hash recomputed from the database alone, as its rights allow: plain sha256 of the
        // canonical bytes, linked; the head moved to the new last hash.
        yield* asSuperuser(`UPDATE audit_event SET detail = '{"outcome":"withhold"}' WHERE seq = 5`)
        let prevHash = genesisHash
        const updates: Array<string> = []
        for (const row of yield* links) {
          const hash = createHash("sha256").update(canonicalLink({ ...row, seq: Number(row.seq), prevHash })).digest("hex")
          updates.push(`UPDATE audit_event SET prev_hash = '${prevHash}', hash = '${hash}' WHERE seq = ${row.seq}`)
          prevHash = hash
        }
        yield* asSuperuser(`${updates.join("; ")}; UPDATE audit_head SET hash = '${prevHash}'`)
        expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 1, problem: "edited", subject: "occurrence:niche-rms/OC-1", verified: 0 })
      }))
  })
})
