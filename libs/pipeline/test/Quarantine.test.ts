import { AuditLog } from "@encompass/audit"
import { Ids, Rejection } from "@encompass/domain"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import type { RawFeed } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Chunk, Effect, Layer, Redacted, Stream } from "effect"
import { Directory } from "@encompass/directory"
import { ActiveAgreement, ActiveChannels, ActiveSources, FeedInbox, Ingest, Quarantine, Redecide } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"

/**
 * A line source for replay tests: `OCCURRENCE,URN` per line. A URN that is not six digits is
 * rejected, naming the line and field, with the line itself as the replayable record.
 */
const lineSource: SourcePlugin.SourcePlugin = {
  ...Fixtures.sourceOf([]),
  decode: (feed: RawFeed.RawFeed) =>
    Stream.unwrap(Effect.map(Stream.runCollect(feed.content), (chunks) => {
      const text = Buffer.concat([...Chunk.toReadonlyArray(chunks)]).toString("utf8")
      return Stream.fromIterable(text.split("\n").filter((l) => l !== "").map((line, i): SourcePlugin.Decoded => {
        const [occurrence = "", urn = ""] = line.split(",")
        return /^\d{6}$/.test(urn)
          ? Fixtures.incident(occurrence, [{ ref: "A", urn, line: i + 1 }])
          : new Rejection.Rejection({
            source: feed.source,
            locator: `line ${i + 1}`,
            field: "urn",
            reason: "not a six-digit URN",
            occurrence: Ids.OccurrenceRef.make(occurrence),
            record: Redacted.make(`${line}\n`)
          })
      }))
    }))
}

const ChannelLive = Layer.effect(ActiveChannels.ActiveChannels, Effect.map(Fixtures.recordingChannel, (r) => ActiveChannels.ActiveChannels.fromPlugins([r.plugin])))

/** Once the school 100009, unknown when the feed came in, is in the directory. */
const schoolAdded = Effect.provideService(Directory.Directory, Fixtures.directoryWith("100009"))

const notificationsOf = (occurrence: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query<{ recipient: string; state: string }>`SELECT recipient, state FROM notification WHERE occurrence = ${occurrence} ORDER BY id`)

const TestLive = Layer.mergeAll(
  FeedInbox.layer,
  Fixtures.directoryLayer,
  ActiveAgreement.ActiveAgreement.layer(Fixtures.tvp),
  ActiveSources.ActiveSources.layer([lineSource]),
  ChannelLive
).pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

const feed = (name: string, text: string): RawFeed.RawFeed => ({
  source: Fixtures.source,
  name,
  content: Stream.succeed(new TextEncoder().encode(text))
})
const operator = "ops.tester"
const openFor = (feedId: number) =>
  Effect.map(Quarantine.list(), (entries) => entries.filter((e) => e.feed === String(feedId)))
const firstOpen = (feedId: number) =>
  Effect.flatMap(openFor(feedId), ([entry]) => (entry === undefined ? Effect.dieMessage(`no open entry for feed ${feedId}`) : Effect.succeed(entry)))

layer(TestLive, { timeout: 120_000 })("Quarantine", (it) => {
  it.effect("a rejected record is kept sealed, listed with line, field and reason, and readable only through an audited read", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q1.csv", "43/200001/26,100001\n43/200002/26,1000X1\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      expect(entry).toMatchObject({ locator: "line 2", field: "urn", reason: "not a six-digit URN", status: "open", hasRecord: true, decidedVersion: null })
      const sealed = yield* Effect.flatMap(Sql.Sql, (sql) => sql.query<{ record: Uint8Array }>`SELECT record FROM rejection WHERE id = ${entry.id}`)
      expect(sealed.map((r) => Buffer.from(r.record).toString("latin1")).join()).not.toContain("1000X1")
      // No reason, no read: refused before anything is opened or audited.
      const refused = yield* Effect.flip(Quarantine.record(entry.id, { by: operator, reason: "  " }))
      expect(refused).toMatchObject({ _tag: "ConsultationError", reason: "MissingReason", subject: `rejection:${entry.id}` })
      expect(Redacted.value(yield* Quarantine.record(entry.id, { by: operator, reason: "correcting the URN" }))).toBe("43/200002/26,1000X1\n")
      const events = yield* Effect.flatMap(AuditLog.AuditLog, (a) => Stream.runCollect(a.events({ subjectPrefix: `rejection:${entry.id}` })))
      expect(Chunk.toReadonlyArray(events).filter((e) => e.subject === `rejection:${entry.id}` && e.stage === "viewed").map((e) => e.detail))
        .toEqual([{ by: operator, what: "quarantined record", reason: "correcting the URN", via: "cli", occurrence: `${Fixtures.source}/43/200002/26` }])
    }))

  it.effect("retrying with the operator's correction decides and delivers the record and resolves the entry", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q2.csv", "43/200003/26,1000Y1\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      const retried = yield* Quarantine.retry(entry.id, { operator, corrected: new TextEncoder().encode("43/200003/26,100001\n") })
      expect(retried.status).toBe("resolved")
      expect(retried.replay.notificationsCreated).toBe(1)
      expect(retried.replay.deliveries.map((d) => d.outcome)).toEqual(["delivered"])
      expect((yield* Quarantine.get(entry.id)).status).toBe("resolved")
      expect(yield* openFor(report.feed.id)).toEqual([])
    }))

  it.effect("a replay that is still wrong replaces the entry with the replay's own open entry", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q3.csv", "43/200004/26,100001\n43/200007/26,1000Z1\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      const retried = yield* Quarantine.retry(entry.id, { operator })
      expect(retried.status).toBe("replaced")
      const next = yield* firstOpen(retried.replay.feed.id)
      expect(next).toMatchObject({ locator: "line 1", field: "urn", feedName: `quarantine-${entry.id}` })
      const again = yield* Effect.flip(Quarantine.retry(entry.id, { operator }))
      expect(again.reason).toBe("NotOpen")
    }))

  it.effect("retrying a one-record feed as received is that feed again: the entry stays open", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q5.csv", "43/200008/26,1000Q1\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      const retried = yield* Quarantine.retry(entry.id, { operator })
      expect(retried.status).toBe("open")
      expect((yield* Quarantine.get(entry.id)).status).toBe("open")
    }))

  it.effect("a child quarantined for an unknown school is decided again by `retry ID` once the school is added, and notified once", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q6.csv", "43/200010/26,100001\n43/200011/26,100009\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      expect(entry).toMatchObject({ locator: "line 2", field: "school_urn", hasRecord: false, occurrence: "43/200011/26" })
      expect(yield* notificationsOf("43/200011/26")).toEqual([])

      // Still unknown: the entry stays open and nothing is sent.
      const early = yield* Quarantine.retry(entry.id, { operator })
      expect(early.status).toBe("open")
      expect(early.replay.notificationsCreated).toBe(0)

      const retried = yield* schoolAdded(Quarantine.retry(entry.id, { operator }))
      expect(retried.status).toBe("resolved")
      expect(retried.replay.notificationsCreated).toBe(1)
      expect(retried.replay.deliveries.map((d) => [d.recipient, d.outcome])).toEqual([["setting:100009", "delivered"]])
      expect(retried.replay.decisions.map((d) => [d.recipient, d.outcome])).toEqual([["setting:100009", "share"]])
      // The new decision replaced the first, naming its cause; both are in the audit log.
      const [decision] = yield* Effect.flatMap(Sql.Sql, (sql) =>
        sql.query<{ rule: string; cause: string }>`SELECT rule, cause FROM decision WHERE occurrence = '43/200011/26'`)
      const cause = `replay of quarantine entry ${entry.id} by ${operator}`
      expect(decision).toEqual({ rule: "share-permitted-fields", cause })
      const decided = yield* Effect.flatMap(AuditLog.AuditLog, (a) =>
        Stream.runCollect(a.events({ subjectPrefix: "occurrence:niche-rms/43/200011/26/" })))
      expect(Chunk.toReadonlyArray(decided).filter((e) => e.stage === "decided").map((e) => [e.detail["rule"], e.detail["cause"] ?? null]))
        .toEqual([["setting-unknown", null], ["setting-unknown", cause], ["share-permitted-fields", cause]])

      // Decided a second time, or the feed received again: nothing more is sent.
      expect((yield* Effect.flip(schoolAdded(Quarantine.retry(entry.id, { operator })))).reason).toBe("NotOpen")
      const twice = yield* schoolAdded(Redecide.again({ source: Fixtures.source, occurrence: "43/200011/26", version: 1 }, "test"))
      expect(twice.notificationsCreated).toBe(0)
      yield* schoolAdded(Ingest.ingest(feed("q6.csv", "43/200010/26,100001\n43/200011/26,100009\n"), { transport: "file" }))
      expect(yield* notificationsOf("43/200011/26")).toEqual([{ recipient: "setting:100009", state: "delivered" }])
    }))

  it.effect("`retry ID` finds the incident of an unknown-school entry by the version stored with it, not by its reason's wording", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q9.csv", "43/200015/26,100001\n43/200016/26,100009\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      expect(entry).toMatchObject({ occurrence: "43/200016/26", decidedVersion: 1, hasRecord: false })
      // Worded otherwise, as an earlier or later release (or a translation) may word it.
      yield* Effect.flatMap(Sql.Sql, (sql) => sql.query`UPDATE rejection SET reason = 'school 100009 is not in the directory yet' WHERE id = ${entry.id}`)
      const retried = yield* schoolAdded(Quarantine.retry(entry.id, { operator }))
      expect(retried.status).toBe("resolved")
      expect(retried.replay.deliveries.map((d) => [d.recipient, d.outcome])).toEqual([["setting:100009", "delivered"]])
      expect(yield* notificationsOf("43/200016/26")).toEqual([{ recipient: "setting:100009", state: "delivered" }])
    }))

  it.effect("an entry the source raised with no record is not decided again, whatever its reason says", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q10.csv", "43/200017/26,100001\n"), { transport: "file" })
      const [row] = yield* Effect.flatMap(Sql.Sql, (sql) =>
        sql.query<{ id: string }>`INSERT INTO rejection (feed_id, locator, field, reason, occurrence)
          VALUES (${report.feed.id}, 'line 9', 'urn', 'no setting with this URN in the directory (the source says so)', '43/200017/26') RETURNING id::text AS id`)
      const entry = yield* Quarantine.get(row?.id ?? "")
      expect(entry.decidedVersion).toBeNull()
      expect((yield* Effect.flip(Quarantine.retry(entry.id, { operator }))).reason).toBe("NoRecord")
    }))

  it.effect("`retry ID --file` with the byte-identical row is the same version, decided again rather than refused, and notified once", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q7.csv", "43/200012/26,100001\n43/200013/26,100009\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      const row = new TextEncoder().encode("43/200013/26,100009\n")

      // Before the school is added the replay is rejected again for its school, not for its version.
      const early = yield* Quarantine.retry(entry.id, { operator, corrected: row })
      expect(early.status).toBe("replaced")
      expect(early.replay.rejected.map((r) => r.reason)).toEqual([expect.stringContaining("no setting with this URN")])
      const next = yield* firstOpen(early.replay.feed.id)

      const retried = yield* schoolAdded(Quarantine.retry(next.id, { operator, corrected: row }))
      expect(retried.replay.rejected).toEqual([])
      expect(retried.status).toBe("resolved")
      expect(retried.replay.notificationsCreated).toBe(1)
      // The same file once more, as an ordinary ingest: a repeat, nothing new.
      const repeat = yield* schoolAdded(Ingest.ingest(feed("again.csv", "43/200013/26,100009\n"), { transport: "file" }))
      expect(repeat.notificationsCreated).toBe(0)
      expect(repeat.rejected).toEqual([])
      expect(yield* notificationsOf("43/200013/26")).toEqual([{ recipient: "setting:100009", state: "delivered" }])
    }))

  it.effect("a row at the same version with different content is still refused (a correction needs a new version, TVP ISA 4.1)", () =>
    Effect.gen(function*() {
      yield* Ingest.ingest(feed("q8.csv", "43/200014/26,100001\n"), { transport: "file" })
      const changed = yield* Ingest.ingest(feed("q8b.csv", "43/200014/26,100002\n"), { transport: "file" })
      expect(changed.rejected.map((r) => r.reason)).toEqual([expect.stringContaining("already received at this version with different content")])
    }))

  it.effect("discarding closes an entry with the operator's reason, audited", () =>
    Effect.gen(function*() {
      const report = yield* Ingest.ingest(feed("q4.csv", "43/200005/26,bad\n"), { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      const closed = yield* Quarantine.discard(entry.id, { operator, reason: "test record sent in error" })
      expect(closed).toMatchObject({ status: "discarded", resolution: `discarded by ${operator}: test record sent in error` })
      expect((yield* Effect.flip(Quarantine.discard(entry.id, { operator, reason: "again" }))).reason).toBe("NotOpen")
    }))

  it.effect("a feed from a source the region does not enable is kept and replayed whole once it is enabled", () =>
    Effect.gen(function*() {
      const other = { ...feed("other.csv", "43/200006/26,100002\n"), source: Ids.SourceId.make("athena") }
      const report = yield* Ingest.ingest(other, { transport: "file" })
      const entry = yield* firstOpen(report.feed.id)
      expect(entry).toMatchObject({ locator: "feed", hasRecord: false, reason: "no source plugin athena is enabled in this region" })
      const athena = { ...lineSource, id: Ids.SourceId.make("athena") }
      const retried = yield* Quarantine.retry(entry.id, { operator }).pipe(
        Effect.provideService(ActiveSources.ActiveSources, ActiveSources.ActiveSources.fromPlugins([lineSource, athena]))
      )
      expect(retried.status).toBe("resolved")
      expect(retried.replay.notificationsCreated).toBe(1)
    }))

  it.effect("an unknown entry id is a typed NotFound, whatever is typed", () =>
    Effect.gen(function*() {
      for (const id of ["999999", "1; DROP TABLE rejection"]) {
        expect((yield* Effect.flip(Quarantine.get(id))).reason).toBe("NotFound")
      }
    }))
})
