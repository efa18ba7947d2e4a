/**
 * The anchors file the gateway keeps outside the database: brought up to date after each anchor,
 * only ever appended to, and what `verify` checks the chain against once the stored anchors and
 * the tail are gone together.
 */
import { expect, layer } from "@effect/vitest"
import { Sql, Vault } from "@encompass/store"
import { Effect, Layer, Logger } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { AnchorCopy, AuditLog } from "../src/index.js"

const TestLayer = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

const zeros = "0".repeat(64)
const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-anchors-"))
let files = 0
const newFile = () => path.join(work, `anchors-${++files}.jsonl`)

/** Raw SQL with every audit trigger off, as the tables' owner could. */
const asOwner = (statement: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s.unsafe(`SET session_replication_role = replica; ${statement}; SET session_replication_role = DEFAULT`)
    ))

const appendOne = (i: number) =>
  Effect.flatMap(AuditLog.AuditLog, (log) => log.append({ stage: "decided", subject: `occurrence:niche-rms/OC-${i}`, detail: { outcome: "share" } }))

const fresh = asOwner(`DELETE FROM audit_base; DELETE FROM audit_verified; DELETE FROM audit_anchor; DELETE FROM audit_event;
  UPDATE audit_head SET seq = 0, hash = '${zeros}'`)

layer(TestLayer, { timeout: "120 seconds" })("AnchorCopy", (it) => {
  it.effect("the file is created, then gets each new anchor once, appended and never rewritten", () =>
    Effect.gen(function*() {
      yield* fresh
      const log = yield* AuditLog.AuditLog
      const file = newFile()
      expect(yield* AnchorCopy.sync(file, log)).toBe(0)
      expect(fs.readFileSync(file, "utf8")).toBe("")

      yield* appendOne(1)
      yield* log.anchor
      yield* appendOne(2)
      yield* log.anchor
      expect(yield* AnchorCopy.sync(file, log)).toBe(2)
      const before = fs.readFileSync(file, "utf8")
      expect(yield* AnchorCopy.sync(file, log)).toBe(0)
      yield* appendOne(3)
      yield* log.anchor
      expect(yield* AnchorCopy.sync(file, log)).toBe(1)
      const after = fs.readFileSync(file, "utf8")
      expect(after.startsWith(before)).toBe(true)
      expect((yield* AnchorCopy.read(file)).map((a) => a.seq)).toEqual([1, 2, 3])
    }))

  it.effect("the tail cut off with the stored anchors deleted too is found against the file", () =>
    Effect.gen(function*() {
      yield* fresh
      const log = yield* AuditLog.AuditLog
      const file = newFile()
      for (let i = 1; i <= 6; i++) yield* appendOne(i)
      yield* log.anchor
      yield* AnchorCopy.sync(file, log)
      yield* asOwner(`DELETE FROM audit_verified; DELETE FROM audit_anchor; DELETE FROM audit_event WHERE seq > 4;
        UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_event WHERE seq = 4)`)
      expect(yield* log.verifyWith({ full: true })).toMatchObject({ _tag: "Intact", seq: 4 })
      const kept = yield* AnchorCopy.read(file)
      expect(yield* log.verifyWith({ full: true, anchors: kept })).toMatchObject({ _tag: "Broken", seq: 5, problem: "truncated" })
    }))

  it.effect("an anchor that cannot be copied is a warning in the log, not silence, and the command goes on", () =>
    Effect.gen(function*() {
      yield* fresh
      const logged: Array<{ level: string; message: unknown }> = []
      const capture = Logger.make(({ logLevel, message }) => void logged.push({ level: logLevel.label, message }))
      const unwritable = path.join(work, "no-such-folder", "anchors.jsonl")
      // The anchoring layer a command uses, on this test's store, released when the work ends.
      const store = Layer.mergeAll(Layer.succeed(Sql.Sql, yield* Sql.Sql), Layer.succeed(Vault.Vault, yield* Vault.Vault))
      yield* appendOne(1).pipe(
        Effect.provide(AuditLog.layerAnchoring({ anchorsFile: unwritable }).pipe(Layer.provide(store))),
        Effect.provide(Logger.add(capture))
      )
      expect(logged.filter((l) => l.level === "WARN").map((l) => String(l.message))).toEqual([
        expect.stringContaining("the audit head was not signed, or its anchor not copied")
      ])
      // The head was still signed in the database; only the copy failed.
      expect((yield* Effect.flatMap(AuditLog.AuditLog, (log) => log.verify))).toMatchObject({ _tag: "Intact", anchored: 1 })
    }))

  it.effect("a file whose last line is not an anchor is left as it is, and a missing file is refused", () =>
    Effect.gen(function*() {
      yield* fresh
      const log = yield* AuditLog.AuditLog
      yield* appendOne(1)
      yield* log.anchor
      const file = newFile()
      fs.writeFileSync(file, "not an anchor\n")
      const error = yield* Effect.flip(AnchorCopy.sync(file, log))
      expect(error.message).toContain("its last line is not an anchor")
      expect(fs.readFileSync(file, "utf8")).toBe("not an anchor\n")
      expect((yield* Effect.flip(AnchorCopy.read(path.join(work, "none.jsonl")))).message).toContain("cannot be opened (ENOENT)")
      expect((yield* Effect.flip(AnchorCopy.read(file))).message).toContain("anchors line 1")
    }))
})
