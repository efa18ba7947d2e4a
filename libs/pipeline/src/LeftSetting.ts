/**
 * A child has left the setting (TVP ISA 4.4: information is "deleted when … a child is no longer
 * a pupil at the school"): the gateway's copies of what it sent that setting about the child go.
 * In each notification to the setting, the child's sealed part is removed — the occurrence's own
 * details and any sibling still there stay, and other recipients' copies and the incident are
 * untouched: they follow the retention schedule. A notification still waiting for delivery is
 * kept and counted (cancel it with `outbox cancel` if it must not go). A child named by name and
 * date of birth is matched against the incident as the force recorded it. The run is one audit
 * event saying which setting and how many copies, never whose; a dry run rolls back.
 */
import { AuditLog } from "@encompass/audit"
import { Leavers } from "@encompass/directory"
import type { Incident } from "@encompass/domain"
import type { SqlError, Vault } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect, Option } from "effect"
import * as IncidentTable from "./internal/IncidentTable.js"
import * as Rehearsal from "./internal/rehearsal.js"
import * as NotificationBody from "./internal/NotificationBody.js"

export interface Options {
  readonly operator: string
  readonly reason: string
  readonly dryRun?: boolean | undefined
  /** The clause the removal is made under, e.g. the agreement's retention clause. */
  readonly clause: string
}

export interface Report {
  readonly dryRun: boolean
  readonly leavers: number
  /** Children's copies removed (or, in a dry run, that would be), one per notification and child. */
  readonly removed: number
  /** Notifications whose body changed. */
  readonly notifications: number
  /** Copies kept because their notification still waits for delivery. */
  readonly waiting: number
  /** The update's lines that matched no notification to their setting. */
  readonly unmatched: ReadonlyArray<number>
}

interface Row {
  readonly id: string
  readonly source: string
  readonly occurrence: string
  readonly version: number
  readonly state: string
  readonly children: ReadonlyArray<string>
  readonly body: unknown
}

const removeFrom = (leavers: ReadonlyArray<Leavers.Leaver>, options: Options) =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const incidents = new Map<string, Option.Option<Incident.Incident>>()
    const incident = (row: Row) => {
      const key = `${row.source}/${row.occurrence}/${row.version}`
      const known = incidents.get(key)
      if (known !== undefined) return Effect.succeed(known)
      return Effect.tap(
        Effect.map(IncidentTable.findReadable(row.source, row.occurrence, row.version), Option.map((s) => s.incident)),
        (found) => Effect.sync(() => incidents.set(key, found))
      )
    }
    const matched = new Set<number>()
    let removed = 0
    let notifications = 0
    let waiting = 0
    const byUrn = new Map<string, Array<Leavers.Leaver>>()
    for (const leaver of leavers) byUrn.set(leaver.urn, [...(byUrn.get(leaver.urn) ?? []), leaver])

    for (const [urn, ofSetting] of byUrn) {
      const rows = yield* sql.query<Row>`SELECT id::text AS id, source, occurrence, version, state, children, body FROM notification
        WHERE recipient = ${`setting:${urn}`} ORDER BY id FOR UPDATE`
      const byPerson = ofSetting.some((l) => l.child._tag === "Person")
      let copies = 0
      for (const row of rows) {
        // A copy already removed is not counted again.
        const held = NotificationBody.heldChildren(row.body)
        const take = new Set<string>()
        for (const ref of row.children) {
          if (!held.has(ref)) continue
          // The incident is opened (a read of the child's details) only to match a leaver named by person.
          const person = byPerson
            ? Option.flatMap(yield* incident(row), (i) => Option.fromNullable(i.children.find((c) => c.ref === ref)?.person))
            : Option.none()
          for (const leaver of ofSetting) {
            if (!Leavers.matches(leaver.child, { ref, person: Option.getOrUndefined(person) })) continue
            matched.add(leaver.line)
            take.add(ref)
          }
        }
        if (take.size === 0) continue
        if (row.state === "queued") {
          waiting += take.size
          continue
        }
        const body = NotificationBody.withoutChildren(row.body, take)
        if (Option.isNone(body)) continue
        yield* sql.use((s) => s`UPDATE notification SET body = ${s.json(body.value as never)} WHERE id = ${row.id}`)
        copies += take.size
        notifications++
      }
      removed += copies
      if (copies > 0) {
        yield* audit.append({
          stage: "purged",
          subject: `setting:${urn}`,
          detail: {
            kind: "leftSetting",
            count: copies,
            what: "children's copies of notifications to a setting they have left",
            setting: urn,
            clause: options.clause,
            by: options.operator,
            reason: options.reason
          }
        })
      }
    }
    const report: Report = {
      dryRun: options.dryRun === true,
      leavers: leavers.length,
      removed,
      notifications,
      waiting,
      unmatched: leavers.map((l) => l.line).filter((line) => !matched.has(line))
    }
    return report
  })

/** Removes the leavers' copies from their settings' notifications, in one transaction. */
export const remove = (
  leavers: ReadonlyArray<Leavers.Leaver>,
  options: Options
): Effect.Effect<Report, SqlError.SqlError, Sql.Sql | Vault.Vault | AuditLog.AuditLog> =>
  Rehearsal.transaction(removeFrom(leavers, options), options.dryRun === true)
