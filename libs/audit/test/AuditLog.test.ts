import { expect, layer } from "@effect/vitest"
import { Sql, Vault } from "@encompass/store"
import { Chunk, Effect, FastCheck as fc, Layer, Redacted, Stream } from "effect"
import { AuditEvent, AuditLog } from "../src/index.js"
import { canonicalJson, chainHash } from "../src/internal/chain.js"

const TestLayer = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

/** The chain's hash under the test vault's audit key, as the gateway computes it. */
const keyedHash = Effect.map(AuditLog.auditKey, (key) => chainHash(Redacted.value(key.derive(AuditLog.chainKeyLabel))))

const zeros = "0".repeat(64)

/** Runs raw SQL past the append-only trigger, as an attacker with table rights could. */
const tamper = (statement: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s.unsafe(`ALTER TABLE audit_event DISABLE TRIGGER USER; ${statement}; ALTER TABLE audit_event ENABLE TRIGGER USER`)
    ))

const reset = tamper(`DELETE FROM audit_event; UPDATE audit_head SET seq = 0, hash = '${zeros}'`)

/** One event appended on its own, as stored. */
const appendOne = (log: AuditLog.AuditLog, input: AuditLog.AppendInput) =>
  Effect.flatMap(log.appendAll([input]), ([event]) => (event === undefined ? Effect.dieMessage("nothing was appended") : Effect.succeed(event)))

const appendMany = (n: number) =>
  Effect.flatMap(AuditLog.AuditLog, (log) =>
    Effect.forEach(Array.from({ length: n }, (_, i) => i + 1), (i) =>
      appendOne(log, {
        stage: i % 2 === 0 ? "decided" : "received",
        subject: `occurrence:niche-rms/OC-${i}`,
        detail: { rule: "child-present-or-witness", clause: "TVP ISA 3", attempt: i, tags: ["a", "b"], nested: { z: 1, a: null } }
      })))

const verify = Effect.flatMap(AuditLog.AuditLog, (log) => log.verify)

layer(TestLayer, { timeout: "120 seconds" })("AuditLog", (it) => {
  it.effect("an empty chain verifies with the genesis hash", () =>
    Effect.gen(function*() {
      yield* reset
      expect(yield* verify).toEqual(new AuditLog.Intact({ count: 0, seq: 0, hash: zeros }))
    }))

  it.effect("1 000 appended events form a gapless chain that verifies", () =>
    Effect.gen(function*() {
      yield* reset
      const events = yield* appendMany(1000)
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
      expect(events[0]?.prevHash).toBe(zeros)
      events.slice(1).forEach((event, i) => expect(event.prevHash).toBe(events[i]?.hash))
      expect(yield* verify).toEqual(new AuditLog.Intact({ count: 1000, seq: 1000, hash: events[999]?.hash ?? "" }))
    }))

  it.effect("an appended event is returned as stored", () =>
    Effect.gen(function*() {
      yield* reset
      const log = yield* AuditLog.AuditLog
      const [appended] = yield* log.appendAll([{ stage: "queued", subject: "notification:EG-1A2B-3C4D-5E6F", detail: { b: 2, a: [1, { d: true, c: "x" }] } }])
      const stored = yield* Stream.runCollect(log.events())
      expect(Chunk.toReadonlyArray(stored)).toEqual([appended])
      if (appended === undefined) throw new Error("appendAll returned nothing")
      const hash = yield* keyedHash
      expect(appended.hash).toBe(hash({
        seq: 1,
        at: new Date(appended.at.epochMillis).toISOString(),
        stage: "queued",
        subject: "notification:EG-1A2B-3C4D-5E6F",
        detail: `{"a": [1, {"c": "x", "d": true}], "b": 2}`,
        prevHash: zeros
      }))
    }))

  it.effect("the table refuses UPDATE and DELETE from the application", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* reset
      yield* appendMany(1)
      const update = yield* Effect.flip(sql.query`UPDATE audit_event SET subject = 'x'`)
      const remove = yield* Effect.flip(sql.query`DELETE FROM audit_event`)
      expect([update.reason, remove.reason]).toEqual(["Constraint", "Constraint"])
      expect(update.detail).toBe("audit_event is append-only")
    }))

  it.effect("an edited detail, stage or subject is named by its seq", () =>
    Effect.gen(function*() {
      for (const [column, value] of [["detail", `'{"rule":"other"}'`], ["stage", `'withheld'`], ["subject", `'occurrence:x'`]] as const) {
        yield* reset
        yield* appendMany(10)
        yield* tamper(`UPDATE audit_event SET ${column} = ${value} WHERE seq = 4`)
        const report = yield* verify
        expect(report).toMatchObject({ _tag: "Broken", seq: 4, problem: "edited", verified: 3 })
        if (column !== "stage") expect(report).toMatchObject({ stage: "decided" })
        if (column !== "subject") expect(report).toMatchObject({ subject: "occurrence:niche-rms/OC-4" })
      }
    }))

  it.effect("an event rewritten with a recomputed hash is caught by its successor's link", () =>
    Effect.gen(function*() {
      const hash = yield* keyedHash
      yield* reset
      const [target] = (yield* appendMany(10)).slice(5)
      if (target === undefined) return expect.unreachable()
      const sql = yield* Sql.Sql
      const [detail] = yield* sql.query<{ text: string }>`SELECT (detail || '{"clause":"none"}')::text AS text FROM audit_event WHERE seq = ${target.seq}`
      const forged = hash({
        seq: target.seq,
        at: new Date(target.at.epochMillis).toISOString(),
        stage: target.stage,
        subject: target.subject,
        detail: detail?.text ?? "",
        prevHash: target.prevHash
      })
      yield* tamper(
        `UPDATE audit_event SET detail = detail || '{"clause":"none"}', hash = '${forged}' WHERE seq = ${target.seq}`
      )
      expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 6, problem: "edited", subject: "occurrence:niche-rms/OC-6", verified: 5 })
    }))

  it.effect("a deleted middle event is reported missing at its seq", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(10)
      yield* tamper(`DELETE FROM audit_event WHERE seq = 5`)
      expect(yield* verify).toEqual(
        new AuditLog.Broken({ seq: 5, problem: "missing", stage: "decided", subject: "occurrence:niche-rms/OC-6", verified: 4 })
      )
    }))

  // On server Postgres the chain is checked in ranges at once (one per core, up to four) and
  // joined: a fault on either side of a join is named as the one-stream check names it.
  it.effect("a tampered event is named wherever it falls, range joins included", () =>
    Effect.gen(function*() {
      const hash = yield* keyedHash
      const sql = yield* Sql.Sql
      const n = 13
      for (let p = 1; p < n; p++) {
        const subject = (seq: number) => `occurrence:niche-rms/OC-${seq}`
        yield* reset
        yield* appendMany(n)
        yield* tamper(`DELETE FROM audit_event WHERE seq = ${p}`)
        expect(yield* verify, `delete ${p}`).toMatchObject({ _tag: "Broken", seq: p, problem: "missing", subject: subject(p + 1), verified: p - 1 })
        yield* reset
        yield* appendMany(n)
        yield* tamper(`DELETE FROM audit_event WHERE seq BETWEEN ${p} AND ${Math.min(p + 3, n - 1)}`)
        expect(yield* verify, `delete ${p}…`).toMatchObject({ _tag: "Broken", seq: p, problem: "missing", subject: subject(Math.min(p + 3, n - 1) + 1) })
        yield* reset
        const [target] = (yield* appendMany(n)).slice(p - 1)
        if (target === undefined) return expect.unreachable()
        yield* tamper(`UPDATE audit_event SET detail = '{"rule":"other"}' WHERE seq = ${p}`)
        expect(yield* verify, `edit ${p}`).toMatchObject({ _tag: "Broken", seq: p, problem: "edited", subject: subject(p), verified: p - 1 })
        // Rewritten with its hash recomputed under the key: caught by the next event's link.
        const forged = hash({
          seq: p,
          at: new Date(target.at.epochMillis).toISOString(),
          stage: target.stage,
          subject: target.subject,
          detail: `{"rule": "other"}`,
          prevHash: target.prevHash
        })
        yield* tamper(`UPDATE audit_event SET hash = '${forged}' WHERE seq = ${p}`)
        expect(yield* verify, `rewrite ${p}`).toMatchObject({ _tag: "Broken", seq: p, problem: "edited", subject: subject(p), verified: p - 1 })
      }
      yield* reset
      yield* appendMany(n)
      const [{ count } = { count: "" }] = yield* sql.query<{ count: string }>`SELECT count(*)::text AS count FROM audit_event`
      expect(yield* verify).toMatchObject({ _tag: "Intact", count: Number(count), seq: n })
    }))

  it.effect("a long chain, its HMACs computed on a worker thread, verifies and names an edited event", () =>
    Effect.gen(function*() {
      const log = yield* AuditLog.AuditLog
      yield* reset
      const n = 24_000
      for (let from = 0; from < n; from += 6_000) {
        yield* log.appendAll(Array.from({ length: 6_000 }, (_, k) => ({ stage: "queued" as const, subject: `notification:EG-${from + k + 1}` })))
      }
      expect(yield* verify).toMatchObject({ _tag: "Intact", count: n, seq: n })
      yield* tamper(`UPDATE audit_event SET subject = 'notification:EG-0' WHERE seq = 17001`)
      expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 17_001, problem: "edited", verified: 17_000 })
    }))

  it.effect("deleting the newest events is a head mismatch", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(10)
      yield* tamper(`DELETE FROM audit_event WHERE seq >= 9`)
      expect(yield* verify).toEqual(
        new AuditLog.Broken({ seq: 9, problem: "head-mismatch", stage: "decided", subject: "occurrence:niche-rms/OC-8", verified: 8 })
      )
      yield* tamper(`DELETE FROM audit_event`)
      expect(yield* verify).toEqual(new AuditLog.Broken({ seq: 1, problem: "head-mismatch", verified: 0 }))
    }))

  it.effect("an altered or deleted head is a head mismatch", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(3)
      yield* tamper(`UPDATE audit_head SET hash = '${"f".repeat(64)}'`)
      expect(yield* verify).toMatchObject({ _tag: "Broken", seq: 3, problem: "head-mismatch" })
      yield* tamper(`DELETE FROM audit_head`)
      const report = yield* verify
      expect(report).toMatchObject({ _tag: "Broken", seq: 3, problem: "head-mismatch", verified: 3 })
      expect(report._tag === "Broken" && report.message).toContain("newest events deleted or head altered")
      yield* tamper(`INSERT INTO audit_head (seq, hash) SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1`)
      expect(yield* verify).toMatchObject({ _tag: "Intact", count: 3 })
    }))

  it.effect("an append joins the caller's transaction, and a rollback leaves no gap", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const log = yield* AuditLog.AuditLog
      yield* reset
      yield* appendMany(2)
      const seenInside = yield* Effect.flip(sql.transaction(
        log.append({ stage: "decided", subject: "occurrence:rolled-back" }).pipe(
          Effect.zipRight(sql.query<{ n: number }>`SELECT count(*)::int AS n FROM audit_event`),
          Effect.flatMap((rows) => Effect.fail(rows[0]?.n))
        )
      ))
      expect(seenInside).toBe(3)
      const next = yield* appendOne(log, { stage: "decided", subject: "occurrence:kept" })
      expect(next.seq).toBe(3)
      expect(yield* verify).toMatchObject({ _tag: "Intact", count: 3 })
    }))

  it.effect("concurrent appends from several fibers stay linear", () =>
    Effect.gen(function*() {
      yield* reset
      const log = yield* AuditLog.AuditLog
      const appended = yield* Effect.all(
        Array.from({ length: 8 }, (_, fiber) =>
          Effect.forEach(Array.from({ length: 25 }, (_, i) => i), (i) =>
            appendOne(log, { stage: "attempted", subject: `notification:${fiber}-${i}` }))),
        { concurrency: "unbounded" }
      )
      const seqs = appended.flat().map((e) => e.seq).sort((a, b) => a - b)
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      expect(yield* verify).toMatchObject({ _tag: "Intact", count: 200 })
    }))

  it.effect("appendAll writes a batch in order as one linked run of the chain", () =>
    Effect.gen(function*() {
      yield* reset
      const log = yield* AuditLog.AuditLog
      yield* appendMany(2)
      const batch = yield* log.appendAll(["a", "b", "c"].map((x) => ({ stage: "queued" as const, subject: `notification:${x}` })))
      expect(batch.map((e) => [e.seq, e.subject])).toEqual([[3, "notification:a"], [4, "notification:b"], [5, "notification:c"]])
      expect(batch[1]?.prevHash).toBe(batch[0]?.hash)
      expect(yield* verify).toMatchObject({ _tag: "Intact", count: 5, seq: 5, hash: batch[2]?.hash })
    }))

  it.effect("deferred appends are written in order when the work succeeds, and not at all when it fails", () =>
    Effect.gen(function*() {
      yield* reset
      const sql = yield* Sql.Sql
      const log = yield* AuditLog.AuditLog
      const count = Effect.map(sql.query<{ n: number }>`SELECT count(*)::int AS n FROM audit_event`, (rows) => rows[0]?.n)
      const work = (subject: string) =>
        Effect.gen(function*() {
          const audit = yield* AuditLog.AuditLog
          yield* audit.append({ stage: "normalised", subject })
          yield* audit.append({ stage: "decided", subject })
          // Held back: nothing is written (nor the head locked) while the work goes on.
          return yield* count
        })
      expect(yield* sql.transaction(AuditLog.deferred(work("occurrence:kept")))).toBe(0)
      yield* Effect.flip(sql.transaction(AuditLog.deferred(Effect.zipRight(work("occurrence:failed"), Effect.fail("boom")))))
      const stored = yield* Stream.runCollect(log.events())
      expect(Chunk.toReadonlyArray(stored).map((e) => [e.stage, e.subject])).toEqual([["normalised", "occurrence:kept"], ["decided", "occurrence:kept"]])
      expect(yield* verify).toMatchObject({ _tag: "Intact", count: 2 })
    }))

  it.effect("events are listed by subject prefix, with LIKE wildcards taken literally", () =>
    Effect.gen(function*() {
      yield* reset
      const log = yield* AuditLog.AuditLog
      for (const subject of ["feed:1", "feed:10", "feed_%", "notification:1"]) yield* log.append({ stage: "received", subject })
      const subjects = (prefix: string) =>
        Stream.runCollect(log.events({ subjectPrefix: prefix })).pipe(Effect.map(Chunk.map((e) => e.subject)), Effect.map(Chunk.toReadonlyArray))
      expect(yield* subjects("feed:1")).toEqual(["feed:1", "feed:10"])
      expect(yield* subjects("feed_")).toEqual(["feed_%"])
      expect(yield* subjects("")).toHaveLength(4)
    }))

  it.effect.prop(
    "any JSON detail survives jsonb and still verifies",
    [fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }))],
    ([detail]) =>
      Effect.gen(function*() {
        const log = yield* AuditLog.AuditLog
        const event = yield* appendOne(log, { stage: "decided", subject: "property", detail: detail as AuditEvent.Detail })
        expect(canonicalJson(event.detail)).toBe(canonicalJson(detail))
        expect(yield* verify).toMatchObject({ _tag: "Intact" })
      }),
    { fastCheck: { numRuns: 50 } }
  )
})
