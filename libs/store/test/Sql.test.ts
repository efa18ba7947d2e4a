import { expect, it, layer } from "@effect/vitest"
import { Cause, Chunk, Deferred, Effect, Exit, Fiber, Layer, Redacted, Stream } from "effect"
import * as util from "node:util"
import { Sql } from "../src/index.js"
import type { SqlError } from "../src/index.js"

const count = (table: string) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.use((s) => s<Array<{ n: number }>>`SELECT count(*)::int AS n FROM ${s(table)}`)).pipe(
    Effect.map((rows) => rows[0]?.n)
  )

const createTable = (table: string) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.use((s) => s`CREATE TABLE ${s(table)} (id int PRIMARY KEY, note text NOT NULL)`))

const insert = (table: string, id: number, note = "x") =>
  Effect.flatMap(Sql.Sql, (sql) => sql.use((s) => s`INSERT INTO ${s(table)} (id, note) VALUES (${id}, ${note})`))

layer(Sql.layerTest)("Sql", (it) => {
  it.effect("query binds parameters and returns rows", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const rows = yield* sql.query<{ n: number; s: string }>`SELECT ${41}::int + 1 AS n, ${"it's"}::text AS s`
      expect(rows).toEqual([{ n: 42, s: "it's" }])
    }))

  it.effect("a transaction commits when its effect succeeds", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* createTable("tx_commit")
      yield* sql.transaction(Effect.zipRight(insert("tx_commit", 1), insert("tx_commit", 2)))
      expect(yield* count("tx_commit")).toBe(2)
    }))

  it.effect("a transaction rolls back when its effect fails", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* createTable("tx_rollback")
      const error = yield* Effect.flip(sql.transaction(Effect.zipRight(insert("tx_rollback", 1), Effect.fail("boom" as const))))
      expect(error).toBe("boom")
      expect(yield* count("tx_rollback")).toBe(0)
    }))

  it.effect("a transaction rolls back when it is interrupted", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* createTable("tx_interrupt")
      const inserted = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        sql.transaction(insert("tx_interrupt", 1).pipe(Effect.zipRight(Deferred.succeed(inserted, undefined)), Effect.zipRight(Effect.never)))
      )
      yield* Deferred.await(inserted)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(yield* count("tx_interrupt")).toBe(0)
    }))

  it.effect("a query nested inside a transaction, from another function, sees its uncommitted rows", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* createTable("tx_nested")
      const seen = yield* Effect.flip(sql.transaction(
        insert("tx_nested", 1).pipe(
          Effect.zipRight(count("tx_nested")),
          Effect.flatMap((n) => Effect.fail(n))
        )
      ))
      expect(seen).toBe(1)
      expect(yield* count("tx_nested")).toBe(0)
    }))

  it.effect("fibers forked inside a transaction use its connection", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* createTable("tx_forked")
      const seen = yield* sql.transaction(
        Effect.zipRight(
          insert("tx_forked", 1),
          Effect.all([count("tx_forked"), count("tx_forked"), count("tx_forked")], { concurrency: "unbounded" })
        )
      )
      expect(seen).toEqual([1, 1, 1])
    }))

  it.effect("a nested transaction that fails rolls back to its savepoint only", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* createTable("tx_savepoint")
      yield* sql.transaction(
        insert("tx_savepoint", 1).pipe(
          Effect.zipRight(Effect.ignore(sql.transaction(Effect.zipRight(insert("tx_savepoint", 2), insert("tx_savepoint", 1))))),
          Effect.zipRight(insert("tx_savepoint", 3))
        )
      )
      const rows = yield* sql.query<{ id: number }>`SELECT id FROM tx_savepoint ORDER BY id`
      expect(rows.map((r) => r.id)).toEqual([1, 3])
    }))

  it.effect("uncommitted rows are invisible outside the transaction (server)", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      // One embedded connection: an outside reader would just wait for the commit.
      if (sql.backend === "embedded") return
      yield* createTable("tx_isolation")
      const go = yield* Deferred.make<void>()
      const done = yield* Deferred.make<number | undefined>()
      // Forked before the transaction, so it is not part of it.
      yield* Effect.fork(Deferred.await(go).pipe(Effect.zipRight(count("tx_isolation")), Effect.flatMap((n) => Deferred.succeed(done, n))))
      yield* sql.transaction(
        insert("tx_isolation", 1).pipe(Effect.zipRight(Deferred.succeed(go, undefined)), Effect.zipRight(Deferred.await(done)))
      )
      expect(yield* Deferred.await(done)).toBe(0)
      expect(yield* count("tx_isolation")).toBe(1)
    }))

  it.effect("a transaction whose connection the server ends fails with a Connection error, and the store goes on (server)", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      // The embedded database runs in this process: its one connection is never ended under it.
      if (sql.backend === "embedded") return
      yield* createTable("tx_lost")
      const pause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 200)))
      const pidOfThisConnection = Effect.map(sql.query<{ pid: number }>`SELECT pg_backend_pid() AS pid`, (rows) => rows[0]?.pid ?? 0)
      // Forked before the transaction, so it is not part of it: ends the backend it is given.
      const terminator = Effect.gen(function*() {
        const pid = yield* Deferred.make<number>()
        const done = yield* Deferred.make<void>()
        yield* Effect.fork(Deferred.await(pid).pipe(
          Effect.flatMap((p) => sql.query`SELECT pg_terminate_backend(${p})`),
          Effect.zipRight(Deferred.succeed(done, undefined))
        ))
        return { end: (p: number) => Deferred.succeed(pid, p), ended: Deferred.await(done) }
      })
      // Ended between two statements (its next one, then its ROLLBACK, would be written to a
      // closed socket: postgres.js 3.4.9 threw an uncaught TypeError there), and mid-statement.
      const between = Effect.flatMap(terminator, (t) =>
        sql.transaction(Effect.gen(function*() {
          yield* insert("tx_lost", 1)
          yield* t.end(yield* pidOfThisConnection)
          yield* t.ended
          yield* pause
          yield* insert("tx_lost", 2)
        })))
      const during = Effect.flatMap(terminator, (t) =>
        sql.transaction(Effect.gen(function*() {
          yield* insert("tx_lost", 3)
          yield* t.end(yield* pidOfThisConnection)
          yield* sql.query`SELECT pg_sleep(10)`
        })))
      for (const cut of [between, during]) {
        const error = yield* Effect.flip(cut)
        expect(error.reason).toBe("Connection")
      }
      // Nothing of either was committed, and every held connection works again.
      expect(yield* count("tx_lost")).toBe(0)
      for (let id = 10; id < 20; id++) yield* sql.transaction(insert("tx_lost", id))
      expect(yield* count("tx_lost")).toBe(10)
    }))

  it.effect("listen receives NOTIFY payloads from any connection on the server; on the embedded store it stays silent", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const got = yield* Deferred.make<string>()
      const listening = yield* Effect.fork(Stream.runForEach(sql.listen("encompass_test_wake"), (payload) => Deferred.succeed(got, payload)))
      // A real pause (the test clock stands still) while the listening connection starts.
      const pause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 100)))
      for (let i = 0; i < (sql.backend === "server" ? 50 : 3) && !(yield* Deferred.isDone(got)); i++) {
        yield* sql.query`SELECT pg_notify('encompass_test_wake', 'feed:42')`
        yield* pause
      }
      const received = yield* Deferred.poll(got).pipe(Effect.flatMap((o) => (o._tag === "Some" ? o.value : Effect.succeed(undefined))))
      expect(received).toBe(sql.backend === "server" ? "feed:42" : undefined)
      yield* Fiber.interrupt(listening)
    }))

  it.effect("an SqlError names the constraint and carries no parameter values", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const secret = "Jane Doe 2014-03-02"
      yield* sql.use((s) => s`CREATE TABLE person_secret (id int PRIMARY KEY, name text NOT NULL)`)
      yield* sql.query`INSERT INTO person_secret VALUES (1, ${secret})`
      const duplicate = yield* Effect.flip(sql.query`INSERT INTO person_secret VALUES (1, ${secret})`)
      expect(duplicate.reason).toBe("Constraint")
      expect(duplicate.code).toBe("23505")
      expect(duplicate.constraint).toBe("person_secret_pkey")
      const badCast = yield* Effect.flip(sql.query`SELECT ${secret}::int`)
      expect(badCast.reason).toBe("Query")
      expect(badCast.code).toBe("22P02")
      const badDate = yield* Effect.flip(sql.query`SELECT ${"Jane"}::date`)
      const inTransaction = yield* Effect.flip(sql.transaction(sql.query`INSERT INTO person_secret VALUES (1, ${secret})`))
      for (const error of [duplicate, badCast, badDate, inTransaction] satisfies Array<SqlError.SqlError>) {
        const renderings = [
          error.message,
          String(error),
          JSON.stringify(error),
          util.inspect(error, { depth: 10, showHidden: true }),
          Cause.pretty(Cause.fail(error))
        ]
        for (const text of renderings) expect(text).not.toContain("Jane")
      }
    }))

  it.effect("streams thousands of rows in order, batch by batch", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const ids = yield* sql.stream<{ id: number }>((s) => s`SELECT g AS id FROM generate_series(1, 5000) AS g ORDER BY g`, { batchSize: 400 }).pipe(
        Stream.map((row) => row.id),
        Stream.runCollect
      )
      expect(Chunk.size(ids)).toBe(5000)
      expect(Chunk.toReadonlyArray(ids)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1))
    }))

  it.effect("a stream stopped early frees its connection", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const first = yield* sql.stream<{ id: number }>((s) => s`SELECT g AS id FROM generate_series(1, 5000) AS g`, { batchSize: 100 }).pipe(
        Stream.take(150),
        Stream.runCount
      )
      expect(first).toBe(150)
      expect(yield* sql.query`SELECT 1 AS one`).toEqual([{ one: 1 }])
    }))

  it.effect("a stream inside a transaction sees its uncommitted rows", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      yield* createTable("tx_stream")
      const seen = yield* sql.transaction(
        insert("tx_stream", 7).pipe(
          Effect.zipRight(Stream.runCollect(sql.stream<{ id: number }>((s) => s`SELECT id FROM tx_stream`)))
        )
      )
      expect(Chunk.toReadonlyArray(seen)).toEqual([{ id: 7 }])
    }))
})

it.live("an unreachable server fails the layer with a Connection error", () =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(
      Layer.build(Sql.layer({ url: Redacted.make("postgres://postgres:hunter2@127.0.0.1:1/nowhere") })).pipe(Effect.scoped)
    )
    expect(error.reason).toBe("Connection")
    expect(error.message).not.toContain("hunter2")
  }))
