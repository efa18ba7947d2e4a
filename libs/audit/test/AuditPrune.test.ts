/**
 * The audit skeleton's retention: the chain's oldest events are cut at a signed anchor, which
 * becomes its base, with a keyed `purged` event recording the cut. The shortened chain verifies;
 * a cut made with the database alone (no key to record it, or at an event no anchor names) does not.
 */
import { expect, layer } from "@effect/vitest"
import { Sql, Vault } from "@encompass/store"
import { Chunk, Effect, Layer, Option, Stream } from "effect"
import { AuditLog } from "../src/index.js"

const TestLayer = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

const zeros = "0".repeat(64)
const tables = ["audit_event", "audit_anchor", "audit_verified"]

/** Raw SQL with every audit trigger off, as the tables' owner could. */
const tamper = (statement: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s.unsafe(
        `${tables.map((t) => `ALTER TABLE ${t} DISABLE TRIGGER USER;`).join(" ")} ${statement}; ${
          tables.map((t) => `ALTER TABLE ${t} ENABLE TRIGGER USER;`).join(" ")
        }`
      )
    ))

const fresh = (n: number, anchorAt: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    yield* tamper(`DELETE FROM audit_base; DELETE FROM audit_verified; DELETE FROM audit_anchor; DELETE FROM audit_event;
      UPDATE audit_head SET seq = 0, hash = '${zeros}'`)
    const log = yield* AuditLog.AuditLog
    for (let seq = 1; seq <= n; seq++) {
      yield* log.append({ stage: "decided", subject: `occurrence:niche-rms/OC-${seq}`, detail: { outcome: "share" } })
      if (anchorAt.includes(seq)) yield* log.anchor
    }
    return log
  })

const later = new Date(Date.now() + 86_400_000)
const seqs = Effect.flatMap(Sql.Sql, (sql) => sql.query<{ seq: string }>`SELECT seq FROM audit_event ORDER BY seq`)

layer(TestLayer, { timeout: "120 seconds" })("AuditLog prune", (it) => {
  it.effect("the chain is cut at the newest anchor stored before the date, and the rest still verifies", () =>
    Effect.gen(function*() {
      const log = yield* fresh(10, [4, 7])
      expect(yield* log.prunable(new Date(0))).toEqual({ through: 0, count: 0, permitted: true })
      expect(yield* log.prunable(later)).toEqual({ through: 7, count: 7, permitted: true })

      expect(yield* log.prune(7, { kind: "auditSkeleton", clause: "TVP ISA 4.4" })).toBe(7)
      expect((yield* seqs).map((r) => Number(r.seq))).toEqual([8, 9, 10, 11])
      const full = yield* log.verifyWith({ full: true })
      expect(full).toMatchObject({ _tag: "Intact", count: 4, seq: 11, base: 7 })
      expect(yield* log.verifyWith({})).toMatchObject({ _tag: "Intact", base: 7 })

      // The cut is an event of the chain: what kind, how many, up to where — never whose.
      const [purged] = yield* Effect.flatMap(Sql.Sql, (sql) =>
        sql.query<{ stage: string; subject: string; detail: unknown }>`SELECT stage, subject, detail FROM audit_event WHERE seq = 11`)
      expect(purged).toEqual({ stage: "purged", subject: AuditLog.pruneSubject, detail: { kind: "auditSkeleton", clause: "TVP ISA 4.4", through: 7, count: 7 } })

      // Nothing more is due until a newer anchor is; the next cut moves the base on.
      expect(yield* log.prunable(later)).toEqual({ through: 0, count: 0, permitted: true })
      expect(Option.isSome(yield* log.anchor)).toBe(true)
      expect(yield* log.prunable(later)).toEqual({ through: 11, count: 4, permitted: true })
      yield* log.prune(11, { kind: "auditSkeleton" })
      expect(yield* log.verifyWith({ full: true })).toMatchObject({ _tag: "Intact", count: 1, seq: 12, base: 11 })
    }))

  it.effect("only events up to the base may be deleted: the rest, and TRUNCATE, are still refused", () =>
    Effect.gen(function*() {
      const log = yield* fresh(6, [3])
      yield* log.prune(3, {})
      const sql = yield* Sql.Sql
      for (const statement of ["DELETE FROM audit_event WHERE seq = 5", "UPDATE audit_event SET subject = 'x' WHERE seq = 5", "TRUNCATE audit_event"]) {
        const error = yield* Effect.flip(sql.use((s) => s.unsafe(statement)))
        expect([statement, error.message]).toEqual([statement, expect.stringContaining("append-only")])
      }
      expect(yield* log.verify).toMatchObject({ _tag: "Intact", base: 3 })
    }))

  it.effect("a prefix deleted with the database alone is detected, at an anchor or not, and with the base row gone", () =>
    Effect.gen(function*() {
      // At a signed anchor, but with no keyed event recording the cut.
      let log = yield* fresh(10, [4, 7])
      yield* tamper(`INSERT INTO audit_base (seq, hash) SELECT seq, hash FROM audit_event WHERE seq = 4; DELETE FROM audit_event WHERE seq <= 4`)
      expect(yield* log.verify).toMatchObject({ _tag: "Broken", seq: 4, problem: "unrecorded-prune" })

      // At an event no anchor names.
      log = yield* fresh(10, [4, 7])
      yield* tamper(`INSERT INTO audit_base (seq, hash) SELECT seq, hash FROM audit_event WHERE seq = 5; DELETE FROM audit_event WHERE seq <= 5`)
      expect(yield* log.verify).toMatchObject({ _tag: "Broken", seq: 5, problem: "unrecorded-prune" })

      // A real cut moved further on by hand: the record names the first base, not this one.
      log = yield* fresh(10, [4, 7])
      yield* log.prune(4, {})
      yield* tamper(`UPDATE audit_base SET seq = 7, hash = (SELECT hash FROM audit_event WHERE seq = 7); DELETE FROM audit_event WHERE seq <= 7`)
      expect(yield* log.verify).toMatchObject({ _tag: "Broken", seq: 7, problem: "unrecorded-prune" })

      // The base row deleted: the chain no longer starts where it should.
      log = yield* fresh(10, [4, 7])
      yield* log.prune(4, {})
      yield* tamper(`DELETE FROM audit_base`)
      expect(yield* log.verify).toMatchObject({ _tag: "Broken", seq: 1, problem: "missing" })
    }))

  it.effect("anchors kept outside the database from before the cut are passed over", () =>
    Effect.gen(function*() {
      const log = yield* fresh(10, [4, 7])
      const exported = Chunk.toReadonlyArray(yield* Stream.runCollect(log.anchors))
      expect(exported.map((a) => a.seq)).toEqual([4, 7])
      yield* log.prune(7, {})
      expect(yield* log.verifyWith({ full: true, anchors: exported })).toMatchObject({ _tag: "Intact", base: 7 })
    }))
})
