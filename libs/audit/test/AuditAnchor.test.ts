import { expect, layer } from "@effect/vitest"
import { Sql, Vault } from "@encompass/store"
import { Chunk, Effect, Either, Layer, Option, Redacted, Stream } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { AuditAnchor, AuditLog } from "../src/index.js"
import { canonicalLink, chainHash, genesisHash } from "../src/internal/chain.js"
import type { Link } from "../src/internal/chain.js"
import { links } from "./ChainRows.js"

const TestLayer = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

/** Runs raw SQL past the append-only triggers, as the tables' owner could. */
const tamper = (statement: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s.unsafe(`ALTER TABLE audit_event DISABLE TRIGGER USER; ALTER TABLE audit_anchor DISABLE TRIGGER USER;
        ALTER TABLE audit_verified DISABLE TRIGGER USER; ${statement};
        ALTER TABLE audit_event ENABLE TRIGGER USER; ALTER TABLE audit_anchor ENABLE TRIGGER USER;
        ALTER TABLE audit_verified ENABLE TRIGGER USER`)
    ))

const reset = tamper(`DELETE FROM audit_verified; DELETE FROM audit_anchor; DELETE FROM audit_event;
  UPDATE audit_head SET seq = 0, hash = '${genesisHash}'`)

const appendMany = (n: number) =>
  Effect.flatMap(AuditLog.AuditLog, (log) =>
    log.appendAll(Array.from({ length: n }, (_, i) => ({
      stage: "decided" as const,
      subject: `occurrence:niche-rms/OC-${i + 1}`,
      detail: { rule: "child-present-or-witness", clause: "TVP ISA 3", outcome: "share" }
    }))))

const log = AuditLog.AuditLog
const verify = (options: AuditLog.VerifyOptions = {}) => Effect.flatMap(log, (l) => l.verifyWith(options))
const anchor = Effect.flatMap(log, (l) => l.anchor)
const anchors = Effect.flatMap(log, (l) => Effect.map(Stream.runCollect(l.anchors), Chunk.toReadonlyArray))

/**
 * Sets the outcome of event `edited` to withhold, then rewrites every event's link and hash with
 * `hashOf` and sets the head to match: a wholesale rewrite, done with the database's rights alone
 * (plain sha256, or an HMAC under a key of the attacker's own), or by someone who also holds the
 * audit key.
 */
const rewriteWith = (hashOf: (link: Link) => string, edited = 7) =>
  Effect.gen(function*() {
    yield* tamper(`UPDATE audit_event SET detail = jsonb_set(detail, '{outcome}', '"withhold"') WHERE seq = ${edited}`)
    let prevHash = genesisHash
    const updates: Array<string> = []
    for (const row of yield* links) {
      const hash = hashOf({ ...row, seq: Number(row.seq), prevHash })
      updates.push(`UPDATE audit_event SET prev_hash = '${prevHash}', hash = '${hash}' WHERE seq = ${row.seq}`)
      prevHash = hash
    }
    yield* tamper(`${updates.join("; ")}; UPDATE audit_head SET hash = '${prevHash}'`)
  })

const sha256 = (link: Link) => createHash("sha256").update(canonicalLink(link)).digest("hex")

layer(TestLayer, { timeout: "120 seconds" })("the keyed chain and its anchors", (it) => {
  it.effect("a chain rewritten wholesale with recomputed sha256 hashes fails at its first event", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(20)
      yield* rewriteWith(sha256)
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Broken", seq: 1, problem: "edited", subject: "occurrence:niche-rms/OC-1", verified: 0 })
      // Nor does an HMAC under a key of the attacker's own pass.
      yield* rewriteWith(chainHash(randomBytes(32)))
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Broken", seq: 1, problem: "edited" })
    }))

  it.effect("re-ordered events are named at the first one out of place", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(10)
      yield* tamper(`UPDATE audit_event SET seq = -seq WHERE seq IN (4, 5); UPDATE audit_event SET seq = 5 WHERE seq = -4;
        UPDATE audit_event SET seq = 4 WHERE seq = -5`)
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Broken", seq: 4, problem: "edited", subject: "occurrence:niche-rms/OC-5" })
    }))

  it.effect("the head is signed only when it has moved, and the anchor verifies with the region's public key", () =>
    Effect.gen(function*() {
      yield* reset
      expect(yield* anchor).toEqual(Option.none())
      yield* appendMany(5)
      const first = Option.getOrThrow(yield* anchor)
      expect(first).toMatchObject({ seq: 5, publicKey: (yield* log).publicKey })
      expect(yield* anchor).toEqual(Option.none())
      const line = AuditAnchor.toJsonLine(first)
      expect(AuditAnchor.parseJsonLines(`${line}\n\n`)).toEqual(Either.right([first]))
      expect(yield* anchors).toEqual([first])
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Intact", count: 5, anchors: 1, anchored: 5 })
      // The same anchor stored and kept outside the database counts once.
      expect(yield* verify({ full: true, anchors: [first] })).toMatchObject({ _tag: "Intact", anchors: 1 })
    }))

  it.effect("a tail cut off below an anchor, with the head set back, is named at the first deleted event", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(10)
      const exported = Option.getOrThrow(yield* anchor)
      yield* appendMany(5)
      yield* tamper(`DELETE FROM audit_event WHERE seq >= 8; UPDATE audit_head SET seq = 7, hash = (SELECT hash FROM audit_event WHERE seq = 7)`)
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Broken", seq: 8, problem: "truncated", subject: "occurrence:niche-rms/OC-7", verified: 7 })
      // Anchors deleted from the database as well: the exported one still names event 10.
      yield* tamper(`DELETE FROM audit_anchor`)
      expect(yield* verify({ full: true, anchors: [exported] })).toMatchObject({ _tag: "Broken", seq: 8, problem: "truncated" })
      // Without it, nothing outside the database remembers the tail: that is what exporting anchors is for.
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Intact", count: 7 })
    }))

  it.effect("events after the newest anchor, cut off with the head set back, are the window anchors cannot cover", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(10)
      yield* anchor
      yield* appendMany(3)
      yield* tamper(`DELETE FROM audit_event WHERE seq > 10; UPDATE audit_head SET seq = 10, hash = (SELECT hash FROM audit_event WHERE seq = 10)`)
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Intact", count: 10, anchored: 10 })
    }))

  it.effect("a chain rewritten by someone holding the audit key is caught by an earlier anchor", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(10)
      const exported = Option.getOrThrow(yield* anchor)
      const key = yield* AuditLog.auditKey
      yield* rewriteWith(chainHash(Redacted.value(key.derive(AuditLog.chainKeyLabel))), 3)
      // The stored anchor was removed; the exported one names event 10 with its old hash.
      yield* tamper(`DELETE FROM audit_anchor`)
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Intact" })
      expect(yield* verify({ full: true, anchors: [exported] })).toMatchObject({ _tag: "Broken", seq: 10, problem: "anchor-mismatch" })
    }))

  it.effect("an anchor not signed by the region's key is refused", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(4)
      const real = Option.getOrThrow(yield* anchor)
      const other = AuditAnchor.signer(randomBytes(32)).sign({ seq: 4, hash: real.hash, at: real.at })
      expect(yield* verify({ full: true, anchors: [other] })).toMatchObject({ _tag: "Broken", seq: 4, problem: "anchor-forged" })
      yield* tamper(`UPDATE audit_anchor SET hash = '${"a".repeat(64)}'`)
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Broken", seq: 4, problem: "anchor-forged" })
    }))

  it.effect("an incremental check starts at the newest anchor a check verified; a full one reads every event", () =>
    Effect.gen(function*() {
      yield* reset
      yield* appendMany(10)
      yield* anchor
      expect(yield* verify()).toMatchObject({ _tag: "Intact", count: 10, seq: 10 })
      yield* appendMany(5)
      expect(yield* verify()).toMatchObject({ _tag: "Intact", from: 10, count: 6, seq: 15 })
      yield* tamper(`UPDATE audit_event SET subject = 'occurrence:x' WHERE seq = 12`)
      expect(yield* verify()).toMatchObject({ _tag: "Broken", seq: 12, problem: "edited" })
      yield* tamper(`UPDATE audit_event SET subject = 'occurrence:niche-rms/OC-2' WHERE seq = 12; UPDATE audit_event SET subject = 'occurrence:y' WHERE seq = 3`)
      // Before the verified anchor: only a full check reads it.
      expect(yield* verify()).toMatchObject({ _tag: "Intact", from: 10 })
      expect(yield* verify({ full: true })).toMatchObject({ _tag: "Broken", seq: 3, problem: "edited" })
      // The anchored event itself is checked against its anchor.
      yield* tamper(`UPDATE audit_event SET subject = 'occurrence:niche-rms/OC-3' WHERE seq = 3; UPDATE audit_event SET stage = 'queued' WHERE seq = 10`)
      expect(yield* verify()).toMatchObject({ _tag: "Broken", seq: 10, problem: "edited" })
    }))
})
