/**
 * Recorded overrides of a sensitive-case withhold. TVP ISA 3 withholds a case marked sensitive
 * "unless there is an overriding public safety requirement", and Bedford ISA 7 holds it for a
 * person to judge on its merits; an override is that person's decision, recorded with their
 * name, role and reason, for one child of an occurrence and one recipient (or all of them).
 *
 * `grant` refuses a child whose decisions are not a sensitive-case refusal, records the override
 * (audited, `overridden`) and decides the case again at once: the decision becomes
 * `sensitive-override` under the agreement's sensitive clause, its rationale citing the override,
 * and the recipient is sent the child: in a notification of this version, or, when it already
 * has one about a sibling, in a supplement adding the child to it (once: granting is refused
 * while the override is live, and deciding again sends no child twice). Every later decision of
 * the occurrence (a correction version) applies the live overrides too (`Redecide.decide`).
 *
 * `revoke` keeps the row, with who revoked it and why (audited, `override-revoked`), and decides
 * the case again: the child is withheld once more. A notification that then has no child left to
 * share and was never attempted is cancelled, audited; one delivered or attempted (it may have
 * arrived) cannot be unsent: its further attempts are stopped and it is reported, for a person to
 * send a withdrawal with `outbox withdraw` (TVP ISA 4.1). After a correction version, deciding
 * again already queues a withdrawal to a recipient that held an earlier version and has no part in
 * the new decision (`Corrections`); revoke reports it. A notification that still carries other
 * children for its recipient is left as it is and reported.
 */
import { AuditLog } from "@encompass/audit"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect, Option, Schema } from "effect"
import { ActiveAgreement } from "./ActiveAgreement.js"
import * as DecisionTable from "./internal/DecisionTable.js"
import * as IncidentTable from "./internal/IncidentTable.js"
import * as OverrideTable from "./internal/OverrideTable.js"
import * as OutboxAdmin from "./OutboxAdmin.js"
import * as Redecide from "./Redecide.js"

export class OverrideError extends Schema.TaggedError<OverrideError>()("@encompass/pipeline/OverrideError", {
  module: Schema.Literal("Overrides"),
  method: Schema.String,
  reason: Schema.Literal("NotFound", "Ambiguous", "NotSensitive", "AlreadyGranted", "NotLive", "Invalid"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

export interface Override {
  readonly id: string
  readonly source: string
  readonly occurrence: string
  readonly child: string
  /** A recipientKey (`setting:100001`); null: every recipient of the child. */
  readonly recipient: string | null
  readonly by: string
  readonly role: string
  readonly reason: string
  readonly grantedAt: Date
  readonly revokedAt: Date | null
  readonly revokedBy: string | null
  readonly revocation: string | null
}

const toOverride = (row: OverrideTable.Row): Override => ({
  id: row.id,
  source: row.source,
  occurrence: row.occurrence,
  child: row.child_ref,
  recipient: row.recipient,
  by: row.granted_by,
  role: row.role,
  reason: row.reason,
  grantedAt: row.granted_at,
  revokedAt: row.revoked_at,
  revokedBy: row.revoked_by,
  revocation: row.revocation
})

const fail = (method: string, reason: OverrideError["reason"], detail: string) =>
  new OverrideError({ module: "Overrides", method, reason, detail })

/** The limits of the recorded override the policy engine takes (`Decision.Override`). */
const checkText = (method: string, what: string, value: string, max: number) =>
  value.trim() === "" || value.trim() !== value || value.length > max
    ? Effect.fail(fail(method, "Invalid", `${what} must be non-empty, without surrounding spaces, at most ${max} characters`))
    : Effect.void

/** The newest stored version of `occurrence`, and its source. */
const latest = (method: string, occurrence: string, source: string | undefined) =>
  Effect.flatMap(IncidentTable.latestByReference(occurrence), (found) => {
    const matching = found.filter((f) => source === undefined || f.source === source)
    const [only, other] = matching
    if (only === undefined) return Effect.fail(fail(method, "NotFound", `no incident with occurrence ${occurrence} is stored`))
    if (other !== undefined) {
      return Effect.fail(fail(method, "Ambiguous", `occurrence ${occurrence} is stored from ${matching.map((m) => m.source).join(" and ")}; name the source`))
    }
    return Effect.succeed(only)
  })

const Released = Schema.Struct({
  reference: Schema.String,
  recipient: Schema.String,
  version: Schema.Number,
  state: Schema.String,
  attempts: Schema.Number,
  children: Schema.Array(Schema.String)
})

export interface Granted {
  readonly override: Override
  readonly decided: Redecide.Decided
  readonly version: number
}

/** Records an override and decides the case again at once; see the module comment. */
export const grant = (request: {
  readonly occurrence: string
  readonly child: string
  readonly recipient?: string | undefined
  readonly source?: string | undefined
  readonly by: string
  readonly role: string
  readonly reason: string
}): Effect.Effect<Granted, OverrideError | SqlError.SqlError, Redecide.Requirements> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const agreement = yield* ActiveAgreement
    yield* checkText("grant", "--by", request.by, 100)
    yield* checkText("grant", "--role", request.role, 100)
    yield* checkText("grant", "--reason", request.reason, 500)
    const { source, version } = yield* latest("grant", request.occurrence, request.source)
    return yield* sql.transaction(AuditLog.deferred(Effect.gen(function*() {
      const stored = yield* IncidentTable.findReadable(source, request.occurrence, version)
      if (Option.isNone(stored)) return yield* fail("grant", "NotFound", `no incident with occurrence ${request.occurrence} is stored (or its data was deleted)`)
      const { feedId, incident } = stored.value
      const child = incident.children.find((c) => c.ref === request.child)
      if (child === undefined) {
        return yield* fail("grant", "NotFound", `occurrence ${request.occurrence} version ${version} has no child ${request.child}`)
      }
      const decisions = (yield* DecisionTable.forVersion(source, request.occurrence, version)).filter((d) =>
        d.child_ref === request.child && (request.recipient === undefined || d.recipient === request.recipient)
      )
      if (decisions.length === 0) {
        return yield* fail("grant", "NotFound", `child ${request.child} has no decision for ${request.recipient} in occurrence ${request.occurrence}`)
      }
      const rules = [...new Set(decisions.map((d) => `${d.outcome} (${d.rule})`))].join(", ")
      const notReleasable = (why: string) =>
        fail("grant", "NotSensitive", `child ${request.child} of occurrence ${request.occurrence} ${why} (decided: ${rules}); an override releases only a sensitive-case refusal (${agreement.sensitive.clause})`)
      if (!child.sensitive) return yield* notReleasable("is not marked sensitive")
      // Released already (by an override) shares; refused by another rule, an override would change nothing.
      if (decisions.every((d) => (d.outcome === "withhold" || d.outcome === "needs-review") && d.rule !== "sensitive-case")) {
        return yield* notReleasable("is withheld for another reason")
      }
      const [row] = yield* OverrideTable.insert({
        source,
        occurrence: request.occurrence,
        child: request.child,
        recipient: request.recipient ?? null,
        by: request.by,
        role: request.role,
        reason: request.reason
      })
      if (row === undefined) {
        return yield* fail("grant", "AlreadyGranted", `an override is already recorded for child ${request.child} of occurrence ${request.occurrence}; see \`override list\``)
      }
      yield* audit.append({
        stage: "overridden",
        subject: `override:${row.id}`,
        detail: {
          occurrence: request.occurrence,
          version,
          child: request.child,
          recipient: row.recipient,
          by: row.granted_by,
          role: row.role,
          reason: row.reason,
          clause: agreement.sensitive.clause
        }
      })
      const decided = yield* Redecide.decide(incident, { feedId, cause: `override ${row.id} granted by ${row.granted_by} (${row.role})` })
      return { override: toOverride(row), decided, version }
    })))
  })

/** Overrides, newest first: live ones, or revoked ones too when `all`. */
export const list = (options: { readonly all?: boolean; readonly limit?: number } = {}): Effect.Effect<ReadonlyArray<Override>, SqlError.SqlError, Sql.Sql> =>
  Effect.map(OverrideTable.list({ all: options.all ?? false, limit: options.limit ?? 100 }), (rows) => rows.map(toOverride))

export interface Revoked {
  readonly override: Override
  readonly decided: Redecide.Decided
  /** Never attempted: cancelled, so nothing reaches the recipient. */
  readonly cancelled: ReadonlyArray<string>
  /** Delivered or attempted: it may have arrived and cannot be unsent (`outbox withdraw` sends a withdrawal). */
  readonly mayHaveArrived: ReadonlyArray<string>
  /** Still carries other children for its recipient, so it is left as it is. */
  readonly keptForOthers: ReadonlyArray<string>
}

/** The data notifications of an occurrence not cancelled, oldest first, with the children each carries. */
const notificationsOf = (source: string, occurrence: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query`SELECT reference, recipient, version, state, attempts, children FROM notification
      WHERE source = ${source} AND occurrence = ${occurrence} AND kind <> 'withdrawal' AND state <> 'cancelled' ORDER BY id`
  ).pipe(Effect.flatMap((rows) => Effect.orDie(Schema.decodeUnknown(Schema.Array(Released))(rows))))

/** Revokes a live override and decides the case again; see the module comment. */
export const revoke = (
  id: string,
  request: { readonly by: string; readonly reason: string }
): Effect.Effect<Revoked, OverrideError | SqlError.SqlError, Redecide.Requirements> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    yield* checkText("revoke", "--by", request.by, 100)
    yield* checkText("revoke", "--reason", request.reason, 500)
    const revoked = yield* sql.transaction(AuditLog.deferred(Effect.gen(function*() {
      const [row] = yield* OverrideTable.locked(id)
      if (row === undefined) return yield* fail("revoke", "NotFound", `no override ${id}`)
      if (row.revoked_at !== null) return yield* fail("revoke", "NotLive", `override ${id} was revoked already, by ${row.revoked_by ?? "?"}`)
      const [updated = row] = yield* OverrideTable.revoke(id, request.by, request.reason)
      yield* audit.append({
        stage: "override-revoked",
        subject: `override:${id}`,
        detail: { occurrence: row.occurrence, child: row.child_ref, recipient: row.recipient, by: request.by, reason: request.reason }
      })
      const { source, version } = yield* latest("revoke", row.occurrence, row.source)
      const stored = yield* IncidentTable.findReadable(source, row.occurrence, version)
      if (Option.isNone(stored)) return yield* fail("revoke", "NotFound", `no incident with occurrence ${row.occurrence} is stored (or its data was deleted)`)
      const decided = yield* Redecide.decide(stored.value.incident, { feedId: stored.value.feedId, cause: `override ${id} revoked by ${request.by}` })
      return { row: updated, decided }
    })))

    // What the override released: the child's notifications to its recipient(s), any version.
    const { row } = revoked
    const released = (yield* notificationsOf(row.source, row.occurrence)).filter((n) =>
      n.children.includes(row.child_ref) && (row.recipient === null || n.recipient === row.recipient)
    )
    const stillShared = new Set(
      revoked.decided.decisions.filter((d) => d.outcome === "share" || d.outcome === "phone-first").map((d) => d.recipient)
    )
    const cancelled: Array<string> = []
    const mayHaveArrived: Array<string> = []
    const keptForOthers: Array<string> = []
    for (const n of released) {
      if (n.children.some((c) => c !== row.child_ref) && stillShared.has(n.recipient)) {
        keptForOthers.push(n.reference)
        continue
      }
      const arrived = n.state === "delivered" || n.attempts > 0
      if (n.state === "queued" || n.state === "dead") {
        // In flight right now: it may arrive; reported as such, and the operator can withdraw it.
        const stopped = yield* OutboxAdmin.cancel(n.reference, { operator: request.by, reason: `override ${id} revoked: ${request.reason}` }).pipe(
          Effect.as(true),
          Effect.catchTag("OutboxAdminError", () => Effect.succeed(false))
        )
        if (stopped && !arrived) {
          cancelled.push(n.reference)
          continue
        }
      }
      mayHaveArrived.push(n.reference)
    }
    return { override: toOverride(revoked.row), decided: revoked.decided, cancelled, mayHaveArrived, keptForOthers }
  })
