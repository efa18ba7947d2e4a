/**
 * Deciding an incident version, the first time and again. `decide` is the one decision step:
 * it evaluates the incident under the active agreement, the directory as it is now and the live
 * overrides of the occurrence (`Overrides`), records each decision (TVP ISA 4.3), quarantines a
 * child whose school is not in the directory, and queues a notification for each recipient that
 * has none for this version yet (the key is source, occurrence, recipient and version), as a
 * correction or withdrawal where an earlier version reached the recipient (`Corrections`). A
 * recipient that has one, but not every child now shared with it (a child released since), is
 * sent a supplement holding only those children (`Supplement`).
 *
 * `again` re-decides a stored version — a quarantined child once its school is in the directory,
 * a sensitive case once an override is granted or revoked — with the same step, and records the
 * new decisions exactly like the first ones, naming their cause. A child already sent to a
 * recipient at the version is not sent again, so re-deciding twice sends nothing more.
 */
import { AuditLog } from "@encompass/audit"
import { Authorities, Directory } from "@encompass/directory"
import { Decision, Ids, Notification, Recipient, Rejection } from "@encompass/domain"
import type { Incident } from "@encompass/domain"
import type { Eligibility } from "@encompass/isa-policy"
import { Explain, Policy } from "@encompass/isa-policy"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import type { Vault } from "@encompass/store"
import { DateTime, Effect, Option, Schema } from "effect"
import { ActiveAgreement, ActiveCalendar } from "./ActiveAgreement.js"
import { ActiveSources } from "./ActiveSources.js"
import * as Corrections from "./Corrections.js"
import * as FeedInbox from "./FeedInbox.js"
import * as DecisionTable from "./internal/DecisionTable.js"
import { enqueue } from "./internal/enqueue.js"
import * as IncidentTable from "./internal/IncidentTable.js"
import * as OverrideTable from "./internal/OverrideTable.js"
import { randomReference } from "./internal/reference.js"
import { supplementOf } from "./internal/supplement.js"
import * as RejectionTable from "./internal/RejectionTable.js"
import type { DecisionLine, RejectedRecord } from "./IngestReport.js"

export class RedecideError extends Schema.TaggedError<RedecideError>()("@encompass/pipeline/RedecideError", {
  module: Schema.Literal("Redecide"),
  method: Schema.String,
  reason: Schema.Literal("NotFound", "Superseded"),
  occurrence: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `occurrence ${this.occurrence}: ${this.detail}`
  }
}

export type Requirements = Sql.Sql | Vault.Vault | AuditLog.AuditLog | ActiveSources | Directory.Directory | ActiveAgreement

/** What deciding one version did. */
export interface Decided {
  readonly decisions: ReadonlyArray<DecisionLine>
  /** Children quarantined because their school is not in the directory. */
  readonly rejected: ReadonlyArray<RejectedRecord>
  readonly notificationsCreated: number
  /** What was queued, in order: notifications, corrections, withdrawals and supplements (ids only; `adds`: what a supplement adds to). */
  readonly queued: ReadonlyArray<{ readonly reference: string; readonly recipient: string; readonly kind: Notification.Kind; readonly adds?: string }>
}

/** The live overrides of an occurrence as the policy engine takes them; each cites its id. */
export const overridesFor = (
  source: string,
  occurrence: string
): Effect.Effect<ReadonlyArray<Eligibility.OverrideRecord>, SqlError.SqlError, Sql.Sql> =>
  Effect.map(OverrideTable.live(source, occurrence), (rows) =>
    rows.map((row): Eligibility.OverrideRecord => ({
      id: row.id,
      child: Ids.PersonRef.make(row.child_ref),
      ...(row.recipient === null ? {} : { recipient: row.recipient }),
      override: new Decision.Override({ by: row.role, at: DateTime.unsafeFromDate(row.granted_at), reason: row.reason })
    })))

/**
 * Decides `incident`, stored from feed `feedId`, in the caller's transaction; see the module
 * comment. `cause` is null at intake, else why it is decided again (it is recorded on each decision).
 */
export const decide = (
  incident: Incident.Incident,
  options: { readonly feedId: string; readonly cause: string | null }
): Effect.Effect<Decided, SqlError.SqlError, Requirements> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const directory = yield* Directory.Directory
    const agreement = yield* ActiveAgreement
    const calendar = yield* Effect.serviceOption(ActiveCalendar)
    const plugin = (yield* ActiveSources).get(incident.source)
    const overrides = yield* overridesFor(incident.source, incident.occurrence)
    // Without an authorities directory, EHE team and front door candidates need a person to route them.
    const authorities = yield* Effect.serviceOption(Authorities.Authorities)
    const evaluation = Policy.evaluate(incident, agreement, {
      lookupSetting: directory.lookup,
      ...Option.match(authorities, {
        onNone: () => ({}),
        onSome: (a) => ({ lookupAuthority: a.lookup, notServed: a.notServed })
      }),
      reference: randomReference,
      overrides,
      ...Option.match(calendar, { onNone: () => ({}), onSome: (c) => ({ calendar: c }) })
    })

    const rejected: Array<RejectedRecord> = []
    for (const decision of evaluation.decisions) {
      yield* DecisionTable.record(incident.source, decision, options.cause)
      if (decision.rule !== "setting-unknown") continue
      const child = incident.children.find((c) => c.ref === decision.child)
      const rejection = new Rejection.Rejection({
        source: incident.source,
        locator: child?.locator ?? "unknown",
        field: plugin?.fieldName("education") ?? "education",
        reason: `no setting with this URN in the directory (${Recipient.recipientKey(decision.recipient)}); the child needs a person to route`,
        occurrence: incident.occurrence
      })
      rejected.push({ locator: rejection.locator, field: rejection.field, reason: rejection.reason, occurrence: rejection.occurrence })
      yield* RejectionTable.insert(options.feedId, rejection, null, incident.version)
    }

    // An earlier version's recipients get this one as a correction, or a withdrawal (TVP ISA 4.1).
    const earlier = (yield* IncidentTable.versions(incident.source, incident.occurrence)).filter((v) => v < incident.version)
    const planned = earlier.length === 0
      ? evaluation.notifications.map((notification) => ({ notification, supersedes: null }))
      : yield* Corrections.forNewVersion({
        source: incident.source,
        occurrence: incident.occurrence,
        version: incident.version,
        agreement: evaluation.agreement,
        calendar
      }, evaluation.notifications)
    const queued: Array<Decided["queued"][number]> = []
    const queue = (notification: Notification.Notification, supersedes: string | null) =>
      Effect.map(enqueue(incident.source, notification, supersedes), (created) => {
        if (created) {
          const { payload } = notification
          const adds = payload.type === "operation-encompass/withdrawal" ? undefined : payload.supplements?.reference
          queued.push({
            reference: notification.reference,
            recipient: Recipient.recipientKey(notification.recipient),
            kind: Notification.kindOf(notification),
            ...(adds !== undefined && { adds })
          })
        }
        return created
      })
    for (const { notification, supersedes } of planned) {
      if ((yield* queue(notification, supersedes)) || Notification.isWithdrawal(notification)) continue
      // Its recipient has this version already: any child it was not sent goes as a supplement.
      const extra = yield* supplementOf(incident.source, notification as Notification.DataNotification)
      if (Option.isSome(extra)) yield* queue(extra.value, null)
    }
    // Wakes every gateway's delivery worker when this commits.
    if (queued.length > 0) yield* sql.query`SELECT pg_notify(${FeedInbox.wakeChannels.outbox}, '')`
    const decisions = Explain.explain(evaluation).map((row) => ({ ...row, occurrence: incident.occurrence }))
    return { decisions, rejected, notificationsCreated: queued.length, queued }
  })

/** A stored version to decide again. */
export interface Target {
  readonly source: string
  readonly occurrence: string
  readonly version: number
}

/** What `again` did: the version it decided, and the feed it was stored from. */
export interface Redecided extends Decided {
  readonly target: Target
  readonly feedId: string
}

/**
 * Decides the stored version `target` again, in its own transaction (or the caller's), with
 * `cause` on every decision. Refused when the version is not stored, or a later version of the
 * occurrence replaced it (that one is what is decided now).
 */
export const again = (
  target: Target,
  cause: string
): Effect.Effect<Redecided, RedecideError | SqlError.SqlError, Requirements> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const refuse = (reason: RedecideError["reason"], detail: string) =>
      new RedecideError({ module: "Redecide", method: "again", reason, occurrence: target.occurrence, detail })
    return yield* sql.transaction(AuditLog.deferred(Effect.gen(function*() {
      const stored = yield* IncidentTable.findReadable(target.source, target.occurrence, target.version)
      if (Option.isNone(stored)) return yield* refuse("NotFound", `version ${target.version} is not stored, or its data was deleted under retention`)
      const [latest = target.version] = yield* IncidentTable.versions(target.source, target.occurrence)
      if (latest > target.version) {
        return yield* refuse("Superseded", `version ${target.version} was replaced by version ${latest}, which is what is decided now`)
      }
      const decided = yield* decide(stored.value.incident, { feedId: stored.value.feedId, cause })
      return { ...decided, target, feedId: stored.value.feedId }
    })))
  })
