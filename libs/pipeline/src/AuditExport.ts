/**
 * The audit export (DESIGN.md §7; TVP ISA 4.3 and Appendix B; DPA 2018 s.62): for an occurrence,
 * a child (its opaque ref) or a recipient, what was decided — shared and withheld, rule, clause,
 * rationale —, what was sent to whom, when and by which channel, the receipts, corrections,
 * withdrawals, supplements and acknowledgements, the breaches opened and every consultation of
 * its records. JSON for systems (`Export`), a self-contained HTML page for a DPO (`html`).
 *
 * It reads only the audit log and the outbox's metadata (`internal/DisclosureRecords`: never a
 * notification's body), so it tells the same story after a child's personal data is shredded:
 * no names, but the facts of every disclosure.
 *
 * It lives in `pipeline`, not `audit`: the decision, notification and quarantine tables it reads
 * belong to pipeline modules, and `audit` knows only its own log.
 */
import type { AuditEvent } from "@encompass/audit"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import type { AuditLog } from "@encompass/audit"
import { DateTime, Effect } from "effect"
import { about, disclosed, occurrenceSubject, text, texts } from "./internal/AuditTrail.js"
import * as DecisionTable from "./internal/DecisionTable.js"
import * as DisclosureRecords from "./internal/DisclosureRecords.js"
import * as Html from "./internal/Html.js"
import * as RejectionTable from "./internal/RejectionTable.js"

/** Whose records: an occurrence (any source), a child's opaque ref, or a recipient key (`setting:100001`). */
export type Scope =
  | { readonly kind: "occurrence"; readonly id: string }
  | { readonly kind: "subject"; readonly id: string }
  | { readonly kind: "recipient"; readonly id: string }

/** Events at or after `from` and before `to`; a record is shown when one of its events is. */
export interface Window {
  readonly from?: Date | undefined
  readonly to?: Date | undefined
}

export interface Event {
  readonly seq: number
  readonly at: string
  readonly stage: string
  readonly subject: string
  readonly detail: AuditEvent.Detail
  /** The event's chain hash, to check it against `audit verify`'s chain. */
  readonly hash: string
}

export interface Decision {
  readonly seq: number
  readonly at: string
  readonly source: string
  readonly occurrence: string
  readonly version: number
  readonly child: string
  readonly recipient: string
  readonly outcome: string
  readonly agreement: string
  readonly rule: string
  readonly clause: string
  readonly rationale: string
  readonly fields: ReadonlyArray<string>
  readonly deadline: string | null
  /** Why it was decided again (a replay, an override); null at intake. */
  readonly cause: string | null
}

/** `supplement`: adds children to `of`, sent to the same recipient at the same version. */
export type Kind = "notification" | "correction" | "withdrawal" | "supplement"

export interface Notification {
  readonly reference: string
  readonly source: string
  readonly occurrence: string
  readonly version: number
  readonly recipient: string
  readonly channel: string
  readonly kind: Kind
  /** What a correction replaces, a withdrawal withdraws or a supplement adds to. */
  readonly of: string | null
  readonly state: string
  /** The children's opaque refs it carried. */
  readonly children: ReadonlyArray<string>
  /** The data categories it disclosed (the decisions' fields). */
  readonly categories: ReadonlyArray<string>
  readonly deadline: string
  readonly createdAt: string
  readonly firstAttemptAt: string | null
  readonly deliveredAt: string | null
  readonly cancelledAt: string | null
  readonly cancellation: string | null
  /** The receipt: the remote's id for what it accepted (e.g. the relay's queue id). */
  readonly remoteId: string | null
  readonly lastError: string | null
  readonly attempts: ReadonlyArray<{ readonly attempt: number; readonly at: string; readonly outcome: string; readonly detail: string | null }>
}

export interface Acknowledgement {
  readonly seq: number
  readonly at: string
  readonly reference: string
  readonly detail: AuditEvent.Detail
}

export interface Consultation {
  readonly seq: number
  readonly at: string
  /** The record read. */
  readonly subject: string
  readonly by: string
  readonly what: string
  readonly reason: string
  readonly via: string
}

export interface Breach {
  readonly seq: number
  readonly at: string
  readonly reference: string
  readonly recipient: string
  readonly channel: string
  readonly by: string
  readonly note: string
  readonly withdrawal: string | null
  readonly children: ReadonlyArray<string>
  readonly categories: ReadonlyArray<string>
}

export interface Export {
  readonly format: "encompass-audit-export/1"
  readonly generatedAt: string
  readonly scope: Scope
  readonly from: string | null
  readonly to: string | null
  readonly occurrences: ReadonlyArray<{ readonly source: string; readonly occurrence: string }>
  readonly decisions: ReadonlyArray<Decision>
  readonly notifications: ReadonlyArray<Notification>
  readonly acknowledgements: ReadonlyArray<Acknowledgement>
  readonly consultations: ReadonlyArray<Consultation>
  readonly breaches: ReadonlyArray<Breach>
  /** Every event above and the rest of the story (received, normalised, queued, attempted …), in seq order. */
  readonly events: ReadonlyArray<Event>
}

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString())
const at = (event: AuditEvent.AuditEvent) => DateTime.formatIso(event.at)

const toEvent = (e: AuditEvent.AuditEvent): Event => ({ seq: e.seq, at: at(e), stage: e.stage, subject: e.subject, detail: e.detail, hash: e.hash })

const toDecision = (source: string, occurrence: string) => (e: AuditEvent.AuditEvent): Decision => ({
  seq: e.seq,
  at: at(e),
  source,
  occurrence,
  version: Number(/\/v(\d+)$/.exec(e.subject)?.[1] ?? 0),
  child: text(e, "child") ?? "",
  recipient: text(e, "recipient") ?? "",
  outcome: text(e, "outcome") ?? "",
  agreement: text(e, "agreement") ?? "",
  rule: text(e, "rule") ?? "",
  clause: text(e, "clause") ?? "",
  rationale: text(e, "rationale") ?? "",
  fields: texts(e, "fields"),
  deadline: text(e, "deadline") ?? null,
  cause: text(e, "cause") ?? null
})

const toConsultation = (e: AuditEvent.AuditEvent): Consultation => ({
  seq: e.seq,
  at: at(e),
  subject: e.subject,
  // Before `Consultation`, the quarantine's read said `operator` and no reason.
  by: text(e, "by") ?? text(e, "operator") ?? "",
  what: text(e, "what") ?? "",
  reason: text(e, "reason") ?? "",
  via: text(e, "via") ?? ""
})

export const toBreach = (e: AuditEvent.AuditEvent): Breach => ({
  seq: e.seq,
  at: at(e),
  reference: text(e, "notification") ?? e.subject.replace(/^breach:/, ""),
  recipient: text(e, "recipient") ?? "",
  channel: text(e, "channel") ?? "",
  by: text(e, "by") ?? "",
  note: text(e, "note") ?? "",
  withdrawal: text(e, "withdrawal") ?? null,
  children: texts(e, "children"),
  categories: texts(e, "categories")
})

/** One occurrence's records and events, before the scope and window narrow them. */
interface Gathered {
  readonly source: string
  readonly occurrence: string
  readonly notifications: ReadonlyArray<{ readonly row: DisclosureRecords.Sent; readonly events: ReadonlyArray<AuditEvent.AuditEvent> }>
  /** The occurrence versions' own events: normalised, duplicate, decided. */
  readonly own: ReadonlyArray<AuditEvent.AuditEvent>
  /** Its quarantine entries' and overrides' events (consultations of them included). */
  readonly related: ReadonlyArray<AuditEvent.AuditEvent>
}

const gather = (
  { occurrence, source }: DecisionTable.Occurrence,
  overrides: ReadonlyArray<AuditEvent.AuditEvent>
): Effect.Effect<Gathered, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const rows = yield* DisclosureRecords.ofOccurrence(source, occurrence)
    const notifications = yield* Effect.forEach(rows, (row) =>
      Effect.map(
        Effect.all([about(`notification:${row.reference}`), about(`breach:${row.reference}`)]),
        ([own, breach]) => ({ row, events: [...own, ...breach] })
      ))
    const own = yield* about(occurrenceSubject(source, occurrence), { prefix: true })
    const rejections = yield* Effect.flatMap(RejectionTable.idsFor(source, occurrence), (ids) => Effect.forEach(ids, (id) => about(`rejection:${id}`)))
    return { source, occurrence, notifications, own, related: [...rejections.flat(), ...overrides.filter((e) => text(e, "occurrence") === occurrence)] }
  })

const kindOf = (row: DisclosureRecords.Sent, queued: AuditEvent.AuditEvent | undefined): { kind: Kind; of: string | null } => {
  const supplements = queued === undefined ? undefined : text(queued, "supplements")
  if (row.kind === "notification" && supplements !== undefined) return { kind: "supplement", of: supplements }
  return { kind: row.kind === "correction" || row.kind === "withdrawal" ? row.kind : "notification", of: row.supersedes }
}

const toNotification = (
  row: DisclosureRecords.Sent,
  events: ReadonlyArray<AuditEvent.AuditEvent>,
  decided: ReadonlyArray<AuditEvent.AuditEvent>,
  attempts: ReadonlyArray<DisclosureRecords.Attempt>
): Notification => {
  const data = disclosed(events, decided, row.recipient)
  return {
    reference: row.reference,
    source: row.source,
    occurrence: row.occurrence,
    version: row.version,
    recipient: row.recipient,
    channel: row.channel,
    ...kindOf(row, events.find((e) => e.stage === "queued")),
    state: row.state,
    children: data.children,
    categories: data.categories,
    deadline: row.deadline.toISOString(),
    createdAt: row.created_at.toISOString(),
    firstAttemptAt: iso(row.first_attempt_at),
    deliveredAt: iso(row.delivered_at),
    cancelledAt: iso(row.cancelled_at),
    cancellation: row.cancellation,
    remoteId: row.remote_id,
    lastError: row.last_error,
    attempts: attempts.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), outcome: a.outcome, detail: a.detail }))
  }
}

/** How the audit log names an export of `scope` when it records the read (`Consultation`). */
export const readSubject = (scope: Scope): string => `audit-export:${scope.kind}:${scope.id}`

/** The export of `scope` within `window`; see the module comment. */
export const build = (scope: Scope, window: Window = {}): Effect.Effect<Export, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const occurrences = yield* DecisionTable.occurrences(
      scope.kind === "occurrence" ? { occurrence: scope.id } : scope.kind === "subject" ? { child: scope.id } : { recipient: scope.id }
    )
    const overrides = occurrences.length === 0 ? [] : yield* about("override:", { prefix: true })
    const gathered = yield* Effect.forEach(occurrences, (o) => gather(o, overrides))
    const attempts = yield* DisclosureRecords.attempts(gathered.flatMap((g) => g.notifications.map((n) => n.row.id)))

    const inWindow = (e: AuditEvent.AuditEvent) => {
      const date = DateTime.toDate(e.at)
      return (window.from === undefined || date >= window.from) && (window.to === undefined || date < window.to)
    }
    // What the scope keeps, beyond the window: a child's own records, or a recipient's.
    const child = scope.kind === "subject" ? scope.id : undefined
    const recipient = scope.kind === "recipient" ? scope.id : undefined
    const forScope = (e: AuditEvent.AuditEvent) => {
      // `normalised` counts the children; `queued`, a consultation and a breach name them.
      const children = Array.isArray(e.detail["children"]) ? texts(e, "children") : undefined
      const one = text(e, "child")
      const to = text(e, "recipient")
      return (child === undefined || ((one === undefined || one === child) && (children === undefined || children.includes(child)))) &&
        (recipient === undefined || to === undefined || e.detail["recipient"] === null || to === recipient)
    }

    const notifications: Array<Notification> = []
    const events: Array<AuditEvent.AuditEvent> = []
    const decisions: Array<Decision> = []
    for (const g of gathered) {
      const own = g.own.filter((e) => forScope(e) && inWindow(e))
      decisions.push(...own.filter((e) => e.stage === "decided").map(toDecision(g.source, g.occurrence)))
      events.push(...own)
      if (recipient === undefined) events.push(...g.related.filter((e) => forScope(e) && inWindow(e)))
      for (const n of g.notifications) {
        const notification = toNotification(n.row, n.events, g.own, attempts.get(n.row.id) ?? [])
        if (recipient !== undefined && n.row.recipient !== recipient) continue
        if (child !== undefined && !notification.children.includes(child)) continue
        const shown = n.events.filter(inWindow)
        if (shown.length === 0 && n.events.length > 0) continue
        notifications.push(notification)
        events.push(...shown)
      }
    }
    // Earlier exports of this same record are consultations of it too.
    events.push(...(yield* about(readSubject(scope))).filter(inWindow))
    events.sort((a, b) => a.seq - b.seq)
    return {
      format: "encompass-audit-export/1",
      generatedAt: new Date().toISOString(),
      scope,
      from: iso(window.from ?? null),
      to: iso(window.to ?? null),
      occurrences: gathered.map((g) => ({ source: g.source, occurrence: g.occurrence })),
      decisions,
      notifications,
      acknowledgements: events.filter((e) => e.stage === "acknowledged").map((e) => ({
        seq: e.seq,
        at: at(e),
        reference: e.subject.replace(/^notification:/, ""),
        detail: e.detail
      })),
      consultations: events.filter((e) => e.stage === "viewed").map(toConsultation),
      breaches: events.filter((e) => e.stage === "breach-opened").map(toBreach),
      events: events.map(toEvent)
    }
  })

const scopeName = (scope: Scope) =>
  scope.kind === "occurrence" ? `occurrence ${scope.id}` : scope.kind === "subject" ? `child ${scope.id}` : `recipient ${scope.id}`

/** The export as a self-contained HTML page for a DPO: no script, no external asset, every value escaped. */
export const html = (x: Export): string =>
  Html.page({
    title: `Audit export: ${scopeName(x.scope)}`,
    facts: [
      ["Scope", scopeName(x.scope)],
      ["Period", `${x.from ?? "the beginning"} to ${x.to ?? "now"} (UTC)`],
      ["Generated", x.generatedAt],
      ["Occurrences", x.occurrences.map((o) => `${o.source}/${o.occurrence}`).join(", ") || "none"],
      ["Audit events", `${x.events.length} (seq ${x.events[0]?.seq ?? "-"} to ${x.events.at(-1)?.seq ?? "-"}; check the chain with encompass audit verify)`]
    ],
    intro:
      "Taken from the hash-chained audit log and the outbox's delivery records only: children appear by their opaque reference, never by name, and the content of what was sent is not shown.",
    sections: [
      {
        id: "decisions",
        title: "Decisions",
        note: "Every sharing decision, shared and withheld alike (TVP ISA 4.3), with the rule, clause and rationale; a later decision for the same child and recipient replaces an earlier one and says why.",
        headers: ["seq", "decided (UTC)", "occurrence", "version", "child", "recipient", "outcome", "rule", "clause", "rationale", "fields", "deadline", "cause"],
        rows: x.decisions.map((d) => [d.seq, d.at, `${d.source}/${d.occurrence}`, d.version, d.child, d.recipient, d.outcome, d.rule, d.clause, d.rationale, d.fields, d.deadline, d.cause])
      },
      {
        id: "notifications",
        title: "Notifications sent or meant to be sent",
        note: "One row per notification, correction, supplement and withdrawal: to whom, through which channel, when, and the receipt (the remote's id).",
        headers: ["reference", "kind", "of", "version", "recipient", "channel", "state", "children", "data categories", "queued", "first attempt", "delivered", "receipt", "cancelled"],
        rows: x.notifications.map((n) => [
          n.reference, n.kind, n.of, n.version, n.recipient, n.channel, n.state, n.children, n.categories, n.createdAt, n.firstAttemptAt, n.deliveredAt, n.remoteId,
          n.cancelledAt === null ? null : `${n.cancelledAt}: ${n.cancellation ?? ""}`
        ])
      },
      {
        id: "attempts",
        title: "Delivery attempts",
        headers: ["reference", "attempt", "at (UTC)", "outcome", "detail"],
        rows: x.notifications.flatMap((n) => n.attempts.map((a) => [n.reference, a.attempt, a.at, a.outcome, a.detail]))
      },
      {
        id: "corrections",
        title: "Corrections, supplements and withdrawals",
        note: "TVP ISA 4.1: a correction replaces what the recipient holds, a supplement adds children to it, a withdrawal tells the recipient to delete it.",
        headers: ["reference", "kind", "of", "recipient", "state", "queued", "delivered"],
        rows: x.notifications.filter((n) => n.kind !== "notification").map((n) => [n.reference, n.kind, n.of, n.recipient, n.state, n.createdAt, n.deliveredAt])
      },
      {
        id: "acknowledgements",
        title: "Acknowledgements",
        headers: ["seq", "at (UTC)", "reference", "detail"],
        rows: x.acknowledgements.map((a) => [a.seq, a.at, a.reference, JSON.stringify(a.detail)])
      },
      {
        id: "consultations",
        title: "Consultations",
        note: "Every read of these records' personal data: who, which record, what and why (DPA 2018 s.62).",
        headers: ["seq", "at (UTC)", "record", "by", "what", "reason", "via"],
        rows: x.consultations.map((c) => [c.seq, c.at, c.subject, c.by, c.what, c.reason, c.via])
      },
      {
        id: "breaches",
        title: "Breaches opened",
        headers: ["seq", "opened (UTC)", "notification", "recipient", "channel", "by", "note", "withdrawal", "children", "data categories"],
        rows: x.breaches.map((b) => [b.seq, b.at, b.reference, b.recipient, b.channel, b.by, b.note, b.withdrawal, b.children, b.categories])
      },
      {
        id: "events",
        title: "Audit events",
        note: "The whole story in order, as the audit log holds it.",
        headers: ["seq", "at (UTC)", "stage", "subject", "detail"],
        rows: x.events.map((e) => [e.seq, e.at, e.stage, e.subject, JSON.stringify(e.detail)])
      }
    ]
  })
