/**
 * From stored feed to queued notifications. `process` decodes a feed the inbox has stored with
 * the source plugin its `source` names, decides each incident under the active agreement, and
 * commits incident + decisions + notifications + audit together. A bad record is quarantined —
 * with its raw text sealed under the feed's data key — and the rest of the batch goes on; a feed
 * or record received twice creates nothing new, so processing a feed again is harmless. A new
 * version of an occurrence reaches the earlier version's recipients as a correction or a
 * withdrawal (`Corrections`); a version older than one already received is quarantined. Each
 * incident is decided by `Redecide.decide`, the step a replay or an override decides it again with.
 * `ingest` is the whole path for one feed in hand: receive, process, deliver what is due.
 */
import { AuditLog } from "@encompass/audit"
import type { Directory } from "@encompass/directory"
import type { Incident } from "@encompass/domain"
import { Rejection } from "@encompass/domain"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import { RawFeed } from "@encompass/plugin-sdk"
import type { SqlError } from "@encompass/store"
import { Sql, Vault } from "@encompass/store"
import { Duration, Effect, Option, Redacted, Stream } from "effect"
import type { ActiveAgreement } from "./ActiveAgreement.js"
import type { ActiveChannels } from "./ActiveChannels.js"
import { ActiveSources } from "./ActiveSources.js"
import * as FeedInbox from "./FeedInbox.js"
import * as IncidentTable from "./internal/IncidentTable.js"
import * as RejectionTable from "./internal/RejectionTable.js"
import type { DecisionLine, IngestReport, ProcessReport, RejectedRecord } from "./IngestReport.js"
import * as Outbox from "./Outbox.js"
import * as Redecide from "./Redecide.js"

export interface IngestOptions {
  /** How the feed arrived. */
  readonly transport: FeedInbox.Transport
  /** An operator's replay, as the cause its decisions record (see `process`). */
  readonly replay?: string
}

/** A rejected record's text is kept only up to this size; the rejection itself always is. */
const MAX_RECORD_BYTES = 1024 * 1024

/** Binds a sealed record to its rejection row, so it cannot be moved to another. */
export const recordContext = (feedId: string, locator: string, field: string | null | undefined): string =>
  `rejection:${feedId}:${locator}:${field ?? ""}`

const incidentSubject = (incident: Incident.Incident): string =>
  `occurrence:${incident.source}/${incident.occurrence}/v${incident.version}`

export type ProcessRequirements =
  | Sql.Sql
  | Vault.Vault
  | AuditLog.AuditLog
  | ActiveSources
  | Directory.Directory
  | ActiveAgreement

/** Processes the stored feed `feedId`; see the module comment. `repeat` is echoed in the report. */
export const process = (
  feedId: string,
  options: {
    readonly repeat?: boolean
    /** Set by an operator's replay, as the cause its decisions record: a record already stored at its version is decided again. */
    readonly replay?: string
  } = {}
): Effect.Effect<ProcessReport, RawFeed.FeedReadError | SqlError.SqlError, ProcessRequirements> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const sources = yield* ActiveSources

    const opened = yield* FeedInbox.open(feedId)
    if (Option.isNone(opened)) return yield* new RawFeed.FeedReadError({ reason: `no feed ${feedId} is stored` })
    const { dataKey, feed, row } = opened.value
    const sealRecord = (rejection: Rejection.Rejection): Buffer | null => {
      if (rejection.record === undefined || Option.isNone(dataKey)) return null
      const text = Buffer.from(Redacted.value(rejection.record))
      if (text.byteLength > MAX_RECORD_BYTES) return null
      return Buffer.from(dataKey.value.seal(text, recordContext(feedId, rejection.locator, rejection.field)))
    }
    const rejected: Array<RejectedRecord> = []
    const decisions: Array<DecisionLine> = []
    let incidents = 0
    let repeats = 0
    let notificationsCreated = 0

    const quarantine = (rejection: Rejection.Rejection) =>
      Effect.gen(function*() {
        rejected.push({ locator: rejection.locator, field: rejection.field, reason: rejection.reason, occurrence: rejection.occurrence })
        yield* RejectionTable.insert(feedId, rejection, sealRecord(rejection))
      })

    const accept = (source: SourcePlugin.SourcePlugin, incident: Incident.Incident) =>
      Effect.gen(function*() {
        incidents += 1
        const isNew = yield* IncidentTable.insert(incident, feedId)
        if (!isNew) {
          repeats += 1
          const stored = yield* IncidentTable.find(incident.source, incident.occurrence, incident.version)
          // The same record, wherever it sits in the feed, is a repeat; different content is not.
          const same = Option.isSome(stored) && (yield* stored.value.sameRecordAs(incident))
          if (!same) {
            // Never silently keep the old content nor send the new: a correction needs a new version (TVP ISA 4.1).
            return yield* quarantine(new Rejection.Rejection({
              source: incident.source,
              locator: incident.children[0].locator,
              field: source.fieldName("version"),
              reason: "occurrence already received at this version with different content; a correction needs a new version",
              occurrence: incident.occurrence
            }))
          }
          // A routine repeat changes nothing; an operator's replay decides it again (a school added since).
          if (options.replay === undefined) {
            return yield* audit.append({ stage: "duplicate", subject: incidentSubject(incident), detail: { feed: feedId } })
          }
        }

        // Versions arrive in order as a rule; an older one after a newer one must not undo it.
        const [latest = incident.version] = yield* IncidentTable.versions(incident.source, incident.occurrence)
        if (latest > incident.version) {
          return yield* quarantine(new Rejection.Rejection({
            source: incident.source,
            locator: incident.children[0].locator,
            field: source.fieldName("version"),
            reason: `version ${incident.version} arrived after version ${latest} of this occurrence; not decided or sent`,
            occurrence: incident.occurrence
          }))
        }
        if (isNew) {
          yield* audit.append({
            stage: "normalised",
            subject: incidentSubject(incident),
            detail: { feed: feedId, category: incident.category, children: incident.children.length }
          })
        }
        const decided = yield* Redecide.decide(incident, { feedId, cause: isNew ? null : options.replay ?? null })
        decisions.push(...decided.decisions)
        rejected.push(...decided.rejected)
        notificationsCreated += decided.notificationsCreated
      })

    const feedLevel = (reason: string) =>
      sql.transaction(Effect.zipRight(
        quarantine(new Rejection.Rejection({ source: row.source, locator: "feed", reason })),
        sql.query`UPDATE feed SET state = 'failed', failure = ${reason}, claimed_until = NULL WHERE id = ${feedId}`
      ))

    const source = sources.get(row.source)
    if (source === undefined) {
      yield* feedLevel(`no source plugin ${row.source} is enabled in this region`)
    } else {
      yield* source.decode(feed).pipe(
        // Each record commits on its own; its audit events are written last, so the chain's head
        // lock is held only from that write to the commit and other gateways' work goes on meanwhile.
        Stream.runForEach((decoded) =>
          sql.transaction(AuditLog.deferred(decoded._tag === "Rejection" ? quarantine(decoded) : accept(source, decoded)))
        ),
        // The stored bytes could not be read back: keep what was decided, say why the rest was not.
        // A database failure is no fault of the feed's: it stays stored, to be decoded again.
        Effect.tapError((error) => (error._tag === "FeedReadError" ? feedLevel(error.reason) : Effect.void))
      )
      yield* sql.query`UPDATE feed SET state = 'processed', processed_at = now(), failure = NULL, claimed_until = NULL
        WHERE id = ${feedId} AND state <> 'receiving'`
    }

    return {
      feed: { id: Number(feedId), name: row.name, sha256: row.sha256, repeat: options.repeat ?? false },
      incidents,
      repeats,
      rejected,
      decisions,
      notificationsCreated
    }
  })

/** The whole path for a feed in hand (the `file` transport and tests): receive, process, deliver. */
export const ingest = (
  feed: RawFeed.RawFeed,
  options: IngestOptions
): Effect.Effect<
  IngestReport,
  RawFeed.FeedReadError | SqlError.SqlError,
  ProcessRequirements | ActiveChannels | FeedInbox.FeedInbox
> =>
  Effect.gen(function*() {
    const inbox = yield* FeedInbox.FeedInbox
    const received = yield* inbox.receive(feed, options.transport)
    const report = yield* process(received.id, { repeat: received.repeat, ...(options.replay === undefined ? {} : { replay: options.replay }) })
    const deliveries = yield* Outbox.deliverDue
    return { ...report, deliveries }
  })

/**
 * Claims the oldest stored feed no other gateway holds, for `lease`; processing is idempotent,
 * so a feed whose gateway died is simply processed again when the lease runs out.
 */
export const claimStored = (lease: Duration.DurationInput): Effect.Effect<Option.Option<string>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query<{ id: string }>`UPDATE feed SET claimed_until = now() + make_interval(secs => ${Duration.toSeconds(lease)})
      WHERE id = (SELECT id FROM feed WHERE state = 'stored' AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING id::text AS id`
  ).pipe(Effect.map((rows) => Option.fromNullable(rows[0]?.id)))
