/**
 * The operator's view of the quarantine (DESIGN.md §8): every rejected record with where it was,
 * which field failed and why, its raw text sealed under its feed's data key. `retry` replays the
 * record — as received, or as the operator corrected it — through the same source plugin as a
 * new feed; a child the gateway itself quarantined (no school in the directory) is decided again
 * from its stored incident. `discard` closes it with a reason. Every step is audited, reading a
 * record included.
 */
import { AuditLog, Consultation } from "@encompass/audit"
import { Ids } from "@encompass/domain"
import type { RawFeed } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import type { SqlError } from "@encompass/store"
import { Effect, Redacted, Schema, Stream } from "effect"
import type { ActiveChannels } from "./ActiveChannels.js"
import * as FeedInbox from "./FeedInbox.js"
import * as Ingest from "./Ingest.js"
import type { IngestReport } from "./IngestReport.js"
import * as Outbox from "./Outbox.js"
import * as Redecide from "./Redecide.js"

export class QuarantineError extends Schema.TaggedError<QuarantineError>()("QuarantineError", {
  module: Schema.Literal("Quarantine"),
  method: Schema.String,
  reason: Schema.Literal("NotFound", "NotOpen", "NoRecord", "Unreadable", "Superseded"),
  rejection: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `quarantine entry ${this.rejection}: ${this.detail}`
  }
}

export type Status = "open" | "resolved" | "replaced" | "discarded"

export interface Entry {
  readonly id: string
  readonly feed: string
  readonly source: string
  readonly feedName: string
  readonly locator: string
  readonly field: string | null
  readonly reason: string
  readonly occurrence: string | null
  /** A child quarantined for an unknown school: the stored version whose decision raised the entry. */
  readonly decidedVersion: number | null
  readonly status: Status
  readonly hasRecord: boolean
  readonly createdAt: Date
  readonly resolution: string | null
}

interface EntryRow {
  readonly id: string
  readonly feed: string
  readonly source: string
  readonly feed_name: string
  readonly locator: string
  readonly field: string | null
  readonly reason: string
  readonly occurrence: string | null
  readonly decided_version: number | null
  readonly status: Status
  readonly has_record: boolean
  readonly created_at: Date
  readonly resolution: string | null
}

const toEntry = (row: EntryRow): Entry => ({
  id: row.id,
  feed: row.feed,
  source: row.source,
  feedName: row.feed_name,
  locator: row.locator,
  field: row.field,
  reason: row.reason,
  occurrence: row.occurrence,
  decidedVersion: row.decided_version,
  status: row.status,
  hasRecord: row.has_record,
  createdAt: row.created_at,
  resolution: row.resolution
})

const fail = (method: string, rejection: string, reason: QuarantineError["reason"], detail: string) =>
  new QuarantineError({ module: "Quarantine", method, rejection, reason, detail })

/** Entries, newest first; open ones unless `status` says otherwise. */
export const list = (options: { readonly status?: Status | "all"; readonly limit?: number } = {}): Effect.Effect<ReadonlyArray<Entry>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) => {
    const status = options.status ?? "open"
    return sql.use((s) =>
      s<Array<EntryRow>>`SELECT r.id::text AS id, r.feed_id::text AS feed, f.source, f.name AS feed_name, r.locator, r.field, r.reason,
          r.occurrence, r.decided_version, r.status, r.record IS NOT NULL AS has_record, r.created_at, r.resolution
        FROM rejection r JOIN feed f ON f.id = r.feed_id
        ${status === "all" ? s`` : s`WHERE r.status = ${status}`}
        ORDER BY r.id DESC LIMIT ${options.limit ?? 1000}`
    )
  }).pipe(Effect.map((rows) => rows.map(toEntry)))

const entry = (method: string, id: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.use((s) =>
      s<Array<EntryRow & { record: Uint8Array | null; data_key: Uint8Array | null; sha256: string }>>`SELECT r.id::text AS id,
          r.feed_id::text AS feed, f.source, f.name AS feed_name, r.locator, r.field, r.reason, r.occurrence, r.decided_version, r.status,
          r.record IS NOT NULL AS has_record, r.created_at, r.resolution, r.record, f.data_key, f.sha256
        FROM rejection r JOIN feed f ON f.id = r.feed_id WHERE r.id = ${/^\d+$/.test(id) ? id : "0"}`
    )
  ).pipe(Effect.flatMap(([row]) => (row === undefined ? Effect.fail(fail(method, id, "NotFound", "no such entry")) : Effect.succeed(row))))

/** The entry without its record. */
export const get = (id: string): Effect.Effect<Entry, QuarantineError | SqlError.SqlError, Sql.Sql> =>
  Effect.map(entry("get", id), toEntry)

const openRecord = (method: string, row: EntryRow & { record: Uint8Array | null; data_key: Uint8Array | null }) =>
  Effect.gen(function*() {
    if (row.record === null || row.data_key === null) {
      return yield* fail(method, row.id, "NoRecord", "no record text was kept for this rejection (a whole-feed or gateway-level rejection, or a record over 1 MiB)")
    }
    const vault = yield* Vault.Vault
    const unreadable = (detail: string) => fail(method, row.id, "Unreadable", detail)
    const key = yield* vault.unwrap(row.data_key).pipe(Effect.mapError((e) => unreadable(e.detail)))
    const bytes = yield* key.open(row.record, Ingest.recordContext(row.feed, row.locator, row.field)).pipe(
      Effect.mapError((e) => unreadable(e.detail))
    )
    return Redacted.make(Buffer.from(bytes).toString("utf8"))
  })

/**
 * The rejected record's raw text, for an operator to correct. Personal data: the read needs a
 * reason and is audited (`Consultation`, stage `viewed`, with who and why) before the text is
 * opened, and the text is Redacted so it cannot reach a log by accident.
 */
export const record = (
  id: string,
  read: { readonly by: string; readonly reason: string; readonly via?: string | undefined }
): Effect.Effect<
  Redacted.Redacted<string>,
  QuarantineError | Consultation.ConsultationError | SqlError.SqlError,
  Sql.Sql | Vault.Vault | AuditLog.AuditLog
> =>
  Effect.gen(function*() {
    const row = yield* entry("record", id)
    if (row.record === null || row.data_key === null) return yield* openRecord("record", row)
    yield* Consultation.record({
      by: read.by,
      reason: read.reason,
      via: read.via ?? "cli",
      subject: `rejection:${row.id}`,
      what: "quarantined record",
      ...(row.occurrence === null ? {} : { occurrence: `${row.source}/${row.occurrence}` })
    })
    return yield* openRecord("record", row)
  })

export interface RetryReport {
  readonly entry: Entry
  /** The replay's own ingest report: its incidents, rejections, notifications and deliveries. */
  readonly replay: IngestReport
  /** `open`: the replay was rejected in the same feed, so the entry still stands. */
  readonly status: "resolved" | "replaced" | "open"
}

/**
 * Replays an open entry through its source as a new feed (transport `quarantine`): its record as
 * received, or `corrected` when the operator fixed it. A record already stored at its version
 * (the same row, alone or at another line) is decided again rather than refused. A child the
 * gateway quarantined after decoding (its school not in the directory) kept no record: the
 * stored version the entry names (`decidedVersion`) is decided again against the directory as it
 * is now. A whole-feed rejection
 * (no record) replays the stored feed itself, e.g. once its source plugin is enabled. Either way
 * a recipient already notified of the version is not notified again.
 *
 * With no rejection like the entry's own the entry is resolved; otherwise it is replaced by the
 * replay's own rejections, which are open entries in turn, or stays open when the replay was its
 * own feed again.
 */
export const retry = (
  id: string,
  options: { readonly operator: string; readonly corrected?: Uint8Array | undefined }
): Effect.Effect<
  RetryReport,
  QuarantineError | RawFeed.FeedReadError | SqlError.SqlError,
  Ingest.ProcessRequirements | ActiveChannels | FeedInbox.FeedInbox
> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const row = yield* entry("retry", id)
    if (row.status !== "open") return yield* fail("retry", id, "NotOpen", `the entry is ${row.status}`)
    const cause = `replay of quarantine entry ${row.id} by ${options.operator}`

    const replay = row.record !== null || options.corrected !== undefined
      ? yield* Effect.gen(function*() {
        const content = options.corrected ?? Buffer.from(Redacted.value(yield* openRecord("retry", row)))
        const feed: RawFeed.RawFeed = { source: Ids.SourceId.make(row.source), name: `quarantine-${row.id}`, content: Stream.succeed(content) }
        return yield* Ingest.ingest(feed, { transport: "quarantine", replay: cause })
      })
      : row.locator === "feed"
      ? yield* replayFeed(row.feed)
      : yield* redecideIncident(row, cause)

    // The entry stands while the replay rejects it again: in its own feed, the same place and field.
    const ownFeed = String(replay.feed.id) === row.feed
    const again = replay.rejected.some((r) => !ownFeed || (r.locator === row.locator && (r.field ?? null) === row.field))
    const status = !again ? "resolved" : ownFeed ? "open" : "replaced"
    const resolution = status === "resolved"
      ? ownFeed ? `decided again in feed ${replay.feed.id} by ${options.operator}` : `replayed as feed ${replay.feed.id} by ${options.operator}`
      : status === "replaced"
      ? `replayed as feed ${replay.feed.id} by ${options.operator}; still rejected (see that feed's entries)`
      : null
    yield* sql.transaction(Effect.gen(function*() {
      if (status !== "open") {
        yield* sql.query`UPDATE rejection SET status = ${status}, resolved_at = now(), resolution = ${resolution} WHERE id = ${row.id}`
      }
      yield* audit.append({
        stage: status === "resolved" ? "resolved" : "replayed",
        subject: `rejection:${row.id}`,
        detail: { operator: options.operator, corrected: options.corrected !== undefined, feed: replay.feed.id, stillRejected: replay.rejected.length }
      })
    }))
    return { entry: toEntry({ ...row, status, resolution }), replay, status }
  })

/**
 * A child the gateway quarantined for an unknown school (no record kept): the stored version
 * whose decision raised the entry, decided again.
 */
const redecideIncident = (row: EntryRow & { readonly sha256: string }, cause: string) =>
  Effect.gen(function*() {
    const { decided_version: version, occurrence } = row
    if (occurrence === null || version === null) {
      return yield* fail("retry", row.id, "NoRecord", "no record text was kept for this rejection (a record over 1 MiB, or a gateway-level rejection); replay it with --file")
    }
    const decided = yield* Redecide.again({ source: row.source, occurrence, version }, cause).pipe(
      Effect.catchTag("@encompass/pipeline/RedecideError", (e) =>
        Effect.fail(fail("retry", row.id, e.reason === "Superseded" ? "Superseded" : "NoRecord", e.detail)))
    )
    const deliveries = yield* Outbox.deliverDue
    return {
      feed: { id: Number(row.feed), name: row.feed_name, sha256: row.sha256, repeat: true },
      incidents: 1,
      repeats: 1,
      rejected: decided.rejected,
      decisions: decided.decisions,
      notificationsCreated: decided.notificationsCreated,
      deliveries
    } satisfies IngestReport
  })

const replayFeed = (feedId: string) =>
  Effect.gen(function*() {
    const report = yield* Ingest.process(feedId, { repeat: true })
    const deliveries = yield* Outbox.deliverDue
    return { ...report, deliveries }
  })

/** Closes an open entry without replaying it; the reason is kept and audited. */
export const discard = (
  id: string,
  options: { readonly operator: string; readonly reason: string }
): Effect.Effect<Entry, QuarantineError | SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const row = yield* entry("discard", id)
    if (row.status !== "open") return yield* fail("discard", id, "NotOpen", `the entry is ${row.status}`)
    const resolution = `discarded by ${options.operator}: ${options.reason}`
    yield* sql.transaction(Effect.zipRight(
      sql.query`UPDATE rejection SET status = 'discarded', resolved_at = now(), resolution = ${resolution} WHERE id = ${row.id}`,
      audit.append({ stage: "resolved", subject: `rejection:${row.id}`, detail: { operator: options.operator, discarded: options.reason } })
    ))
    return toEntry({ ...row, status: "discarded", resolution })
  })
