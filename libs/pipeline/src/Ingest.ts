/**
 * From stored feed to queued notifications. `process` decodes a feed the inbox has stored with
 * the source plugin its `source` names, decides each incident under the active agreement, and
 * commits incident + decisions + notifications + audit together. A bad record is quarantined —
 * with its raw text sealed under the feed's data key — and the rest of the batch goes on; a feed
 * or record received twice creates nothing new, so processing a feed again is harmless. A new
 * version of an occurrence reaches the earlier version's recipients as a correction or a
 * withdrawal (`Corrections`); a version older than one already received is quarantined.
 * `ingest` is the whole path for one feed in hand: receive, process, deliver what is due.
 */
import { AuditLog } from "@encompass/audit"
import { Directory } from "@encompass/directory"
import { Decision, Incident, Recipient, Rejection } from "@encompass/domain"
import { Explain, Policy } from "@encompass/isa-policy"
import type { ChannelPlugin, SourcePlugin } from "@encompass/plugin-sdk"
import { RawFeed } from "@encompass/plugin-sdk"
import type { SqlError } from "@encompass/store"
import { Sql, Vault } from "@encompass/store"
import { DateTime, Duration, Effect, Option, Redacted, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { ActiveAgreement, ActiveCalendar } from "./ActiveAgreement.js"
import { ActiveSources } from "./ActiveSources.js"
import * as Corrections from "./Corrections.js"
import * as FeedInbox from "./FeedInbox.js"
import { enqueue } from "./internal/enqueue.js"
import { randomReference } from "./internal/reference.js"
import type { DecisionLine, IngestReport, ProcessReport, RejectedRecord } from "./IngestReport.js"
import * as Outbox from "./Outbox.js"

export interface IngestOptions {
  /** How the feed arrived. */
  readonly transport: FeedInbox.Transport
}

/** A rejected record's text is kept only up to this size; the rejection itself always is. */
const MAX_RECORD_BYTES = 1024 * 1024

/** Binds a sealed record to its rejection row, so it cannot be moved to another. */
export const recordContext = (feedId: string, locator: string, field: string | null | undefined): string =>
  `rejection:${feedId}:${locator}:${field ?? ""}`

const encodeIncident = Schema.encodeSync(Incident.Incident)

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

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
  options: { readonly repeat?: boolean } = {}
): Effect.Effect<ProcessReport, RawFeed.FeedReadError | SqlError.SqlError, ProcessRequirements> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const sources = yield* ActiveSources
    const directory = yield* Directory.Directory
    const agreement = yield* ActiveAgreement
    const calendar = yield* Effect.serviceOption(ActiveCalendar)

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
        const inserted = yield* sql.query`INSERT INTO rejection (feed_id, locator, field, reason, occurrence, record)
          VALUES (${feedId}, ${rejection.locator}, ${rejection.field ?? null}, ${rejection.reason}, ${rejection.occurrence ?? null},
            ${sealRecord(rejection)})
          ON CONFLICT DO NOTHING RETURNING id`
        if (inserted.length > 0) {
          yield* audit.append({
            stage: "rejected",
            subject: `feed:${feedId}`,
            detail: { locator: rejection.locator, field: rejection.field ?? null, reason: rejection.reason, occurrence: rejection.occurrence ?? null }
          })
        }
      })

    const accept = (source: SourcePlugin.SourcePlugin, incident: Incident.Incident) =>
      Effect.gen(function*() {
        incidents += 1
        const body = encodeIncident(incident)
        const bodyHash = sha256(JSON.stringify(body))
        // Insert first: the primary key, not a prior read, decides whether this version is new, so
        // two gateways ingesting the same record cannot both act on it.
        const inserted = yield* sql.use((s) =>
          s`INSERT INTO incident (source, occurrence, version, category, occurred_at, feed_id, body, body_sha256)
            VALUES (${incident.source}, ${incident.occurrence}, ${incident.version}, ${incident.category},
              ${DateTime.toDate(incident.occurredAt)}, ${feedId}, ${s.json(body as never)}, ${bodyHash})
            ON CONFLICT (source, occurrence, version) DO NOTHING RETURNING 1`
        )
        if (inserted.length === 0) {
          repeats += 1
          const [existing] = yield* sql.query<{ body_sha256: string }>`SELECT body_sha256 FROM incident
            WHERE source = ${incident.source} AND occurrence = ${incident.occurrence} AND version = ${incident.version}`
          if (existing?.body_sha256 !== bodyHash) {
            // Never silently keep the old content nor send the new: a correction needs a new version (TVP ISA 4.1).
            yield* quarantine(new Rejection.Rejection({
              source: incident.source,
              locator: incident.children[0].locator,
              field: source.fieldName("version"),
              reason: "occurrence already received at this version with different content; a correction needs a new version",
              occurrence: incident.occurrence
            }))
          } else {
            yield* audit.append({ stage: "duplicate", subject: incidentSubject(incident), detail: { feed: feedId } })
          }
          return
        }

        // Versions arrive in order as a rule; an older one after a newer one must not undo it.
        const versions = yield* sql.query<{ version: number }>`SELECT version FROM incident
          WHERE source = ${incident.source} AND occurrence = ${incident.occurrence} AND version <> ${incident.version}`
        const latest = Math.max(0, ...versions.map((v) => v.version))
        if (latest > incident.version) {
          yield* quarantine(new Rejection.Rejection({
            source: incident.source,
            locator: incident.children[0].locator,
            field: source.fieldName("version"),
            reason: `version ${incident.version} arrived after version ${latest} of this occurrence; not decided or sent`,
            occurrence: incident.occurrence
          }))
          return
        }

        const evaluation = Policy.evaluate(incident, agreement, {
          lookupSetting: directory.lookup,
          reference: randomReference,
          ...Option.match(calendar, { onNone: () => ({}), onSome: (c) => ({ calendar: c }) })
        })
        yield* audit.append({
          stage: "normalised",
          subject: incidentSubject(incident),
          detail: { feed: feedId, category: incident.category, children: incident.children.length }
        })

        for (const decision of evaluation.decisions) {
          const recipient = Recipient.recipientKey(decision.recipient)
          yield* sql.query`INSERT INTO decision (source, occurrence, version, child_ref, recipient, outcome, agreement,
              rule, clause, rationale, fields, deadline)
            VALUES (${incident.source}, ${decision.occurrence}, ${decision.version}, ${decision.child}, ${recipient},
              ${decision.outcome}, ${decision.agreement}, ${decision.rule}, ${decision.clause}, ${decision.rationale},
              ${[...decision.fields]}, ${DateTime.toDate(decision.deadline)})
            ON CONFLICT DO NOTHING`
          yield* audit.append({ stage: "decided", subject: incidentSubject(incident), detail: decisionDetail(decision, recipient) })
          if (decision.rule === "setting-unknown") {
            const child = incident.children.find((c) => c.ref === decision.child)
            yield* quarantine(new Rejection.Rejection({
              source: incident.source,
              locator: child?.locator ?? "unknown",
              field: source.fieldName("education"),
              reason: `no setting with this URN in the directory (${recipient}); the child needs a person to route`,
              occurrence: incident.occurrence
            }))
          }
        }

        decisions.push(...Explain.explain(evaluation).map((row) => ({ ...row, occurrence: incident.occurrence })))

        // An earlier version's recipients get this one as a correction, or a withdrawal (TVP ISA 4.1).
        const planned = versions.length === 0
          ? evaluation.notifications.map((notification) => ({ notification, supersedes: null }))
          : yield* Corrections.forNewVersion({
            source: incident.source,
            occurrence: incident.occurrence,
            version: incident.version,
            agreement: evaluation.agreement,
            calendar
          }, evaluation.notifications)
        let queued = 0
        for (const { notification, supersedes } of planned) {
          if (yield* enqueue(incident.source, notification, supersedes)) {
            notificationsCreated += 1
            queued += 1
          }
        }
        // Wakes every gateway's delivery worker when this incident commits.
        if (queued > 0) yield* sql.query`SELECT pg_notify(${FeedInbox.wakeChannels.outbox}, '')`
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
  ProcessRequirements | ChannelPlugin.ChannelPlugin | FeedInbox.FeedInbox
> =>
  Effect.gen(function*() {
    const inbox = yield* FeedInbox.FeedInbox
    const received = yield* inbox.receive(feed, options.transport)
    const report = yield* process(received.id, { repeat: received.repeat })
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

const decisionDetail = (decision: Decision.Decision, recipient: string) => ({
  child: decision.child,
  recipient,
  outcome: decision.outcome,
  agreement: decision.agreement,
  rule: decision.rule,
  clause: decision.clause,
  rationale: decision.rationale,
  fields: [...decision.fields],
  deadline: DateTime.formatIso(decision.deadline)
})
