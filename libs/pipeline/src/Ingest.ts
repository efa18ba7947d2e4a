/**
 * Ingest one feed end to end: record it, decode it with the source plugin, decide each incident
 * under the active agreement, commit incident + decisions + notifications + audit together, then
 * deliver what is queued. A bad record is quarantined and the rest of the batch goes on; a feed
 * or record received twice creates nothing new.
 */
import { AuditLog } from "@encompass/audit"
import { Directory } from "@encompass/directory"
import { Decision, Incident, Notification, Recipient, Rejection } from "@encompass/domain"
import { Explain, Policy } from "@encompass/isa-policy"
import type { ChannelPlugin, RawFeed } from "@encompass/plugin-sdk"
import { SourcePlugin } from "@encompass/plugin-sdk"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { DateTime, Effect, Option, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { ActiveAgreement, ActiveCalendar } from "./ActiveAgreement.js"
import { randomReference } from "./internal/reference.js"
import type { DecisionLine, IngestReport, RejectedRecord } from "./IngestReport.js"
import * as Outbox from "./Outbox.js"

export interface IngestOptions {
  /** How the feed arrived: `file`, `sftp`, `smtp`, `http`. */
  readonly transport: string
}

const encodeIncident = Schema.encodeSync(Incident.Incident)
const encodeNotification = Schema.encodeSync(Notification.Notification)

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

const incidentSubject = (incident: Incident.Incident): string =>
  `occurrence:${incident.source}/${incident.occurrence}/v${incident.version}`

/** Hashes the feed in one streaming pass; the source decodes it in another. */
const digest = (feed: RawFeed.RawFeed) =>
  Stream.runFold(feed.content, { hash: createHash("sha256"), size: 0 }, (acc, chunk) => {
    acc.hash.update(chunk)
    return { hash: acc.hash, size: acc.size + chunk.byteLength }
  }).pipe(Effect.map(({ hash, size }) => ({ sha256: hash.digest("hex"), size })))

export const ingest = (
  feed: RawFeed.RawFeed,
  options: IngestOptions
): Effect.Effect<
  IngestReport,
  RawFeed.FeedReadError | SqlError.SqlError,
  Sql.Sql | AuditLog.AuditLog | SourcePlugin.SourcePlugin | ChannelPlugin.ChannelPlugin | Directory.Directory | ActiveAgreement
> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const source = yield* SourcePlugin.SourcePlugin
    const directory = yield* Directory.Directory
    const agreement = yield* ActiveAgreement
    const calendar = yield* Effect.serviceOption(ActiveCalendar)

    const { sha256: feedHash, size } = yield* digest(feed)
    const feedRow = yield* sql.transaction(Effect.gen(function*() {
      const [row] = yield* sql.query<{ id: string; inserted: boolean }>`
        INSERT INTO feed (source, name, transport, sha256, size_bytes)
        VALUES (${feed.source}, ${feed.name}, ${options.transport}, ${feedHash}, ${size})
        ON CONFLICT (source, sha256) DO UPDATE SET received_at = now()
        RETURNING id::text AS id, (xmax = 0) AS inserted`
      if (row === undefined) return yield* Effect.dieMessage("INSERT ... RETURNING returned no row")
      yield* audit.append({
        stage: "received",
        subject: `feed:${row.id}`,
        detail: { source: feed.source, transport: options.transport, sha256: feedHash, bytes: size, repeat: !row.inserted }
      })
      return row
    }))
    const feedId = feedRow.id

    const rejected: Array<RejectedRecord> = []
    const decisions: Array<DecisionLine> = []
    let incidents = 0
    let repeats = 0
    let notificationsCreated = 0

    const quarantine = (rejection: Rejection.Rejection) =>
      Effect.gen(function*() {
        rejected.push({ locator: rejection.locator, field: rejection.field, reason: rejection.reason, occurrence: rejection.occurrence })
        const inserted = yield* sql.query`INSERT INTO rejection (feed_id, locator, field, reason, occurrence)
          VALUES (${feedId}, ${rejection.locator}, ${rejection.field ?? null}, ${rejection.reason}, ${rejection.occurrence ?? null})
          ON CONFLICT DO NOTHING RETURNING id`
        if (inserted.length > 0) {
          yield* audit.append({
            stage: "rejected",
            subject: `feed:${feedId}`,
            detail: { locator: rejection.locator, field: rejection.field ?? null, reason: rejection.reason, occurrence: rejection.occurrence ?? null }
          })
        }
      })

    const accept = (incident: Incident.Incident) =>
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

        for (const notification of evaluation.notifications) {
          const inserted = yield* sql.use((s) =>
            s`INSERT INTO notification (key, reference, source, occurrence, version, recipient, channel, deadline, body)
              VALUES (${notification.key}, ${notification.reference}, ${incident.source}, ${notification.occurrence},
                ${notification.version}, ${Recipient.recipientKey(notification.recipient)}, ${notification.route.channel},
                ${DateTime.toDate(notification.deadline)}, ${s.json(encodeNotification(notification) as never)})
              ON CONFLICT (key) DO NOTHING RETURNING id`
          )
          if (inserted.length > 0) {
            notificationsCreated += 1
            yield* audit.append({
              stage: "queued",
              subject: `notification:${notification.reference}`,
              detail: {
                occurrence: notification.occurrence,
                version: notification.version,
                recipient: Recipient.recipientKey(notification.recipient),
                channel: notification.route.channel,
                children: [...notification.children],
                deadline: DateTime.formatIso(notification.deadline)
              }
            })
          }
        }
      })

    yield* source.decode(feed).pipe(
      Stream.runForEach((decoded) => sql.transaction(decoded._tag === "Rejection" ? quarantine(decoded) : accept(decoded)))
    )

    const deliveries = yield* Outbox.deliverDue
    return {
      feed: { id: Number(feedId), name: feed.name, sha256: feedHash, repeat: !feedRow.inserted },
      incidents,
      repeats,
      rejected,
      decisions,
      notificationsCreated,
      deliveries
    }
  })

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
