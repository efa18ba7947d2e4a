/**
 * Renders an ingest report as the operator's summary. It prints ids, counts, rules, clauses and
 * reasons — the report holds no personal data, so neither does the summary.
 */
import type { AuditLog } from "@encompass/audit"
import type { IngestReport } from "@encompass/pipeline"

const row = (label: string, value: string | number, note = "") => `  ${label.padEnd(26)}${String(value).padStart(5)}${note === "" ? "" : `   ${note}`}`

const count = <A>(items: ReadonlyArray<A>, p: (a: A) => boolean) => items.filter(p).length

export const ingest = (report: IngestReport.IngestReport): string => {
  const { decisions, deliveries, rejected } = report
  const lines: Array<string> = []
  lines.push(`Feed ${report.feed.id}: ${report.feed.name} (sha256 ${report.feed.sha256.slice(0, 12)}…)${report.feed.repeat ? " — received before" : ""}`)
  lines.push(row("Incidents received", report.incidents, report.repeats > 0 ? `${report.repeats} already recorded at this version` : ""))
  lines.push(row("Records rejected", rejected.length))
  for (const r of rejected) {
    lines.push(`    ${r.locator.padEnd(10)} ${(r.field ?? "").padEnd(16)} ${r.reason}`)
  }
  lines.push(
    row(
      "Decisions",
      decisions.length,
      `shared ${count(decisions, (d) => d.outcome === "share")} · withheld ${count(decisions, (d) => d.outcome === "withhold")} · needs review ${count(decisions, (d) => d.outcome === "needs-review")}`
    )
  )
  const reasons = new Map<string, { n: number; clause: string; rationale: string; outcome: string }>()
  for (const d of decisions) {
    if (d.outcome === "share") continue
    const entry = reasons.get(d.rule) ?? { n: 0, clause: d.clause, rationale: d.rationale, outcome: d.outcome }
    reasons.set(d.rule, { ...entry, n: entry.n + 1 })
  }
  for (const [rule, r] of reasons) {
    lines.push(`    ${String(r.n).padStart(3)} ${r.outcome.padEnd(13)} ${rule} (${r.clause}): ${r.rationale}`)
  }
  lines.push(row("Notifications created", report.notificationsCreated, "one per setting, holding only its own children"))
  lines.push(
    row(
      "Delivered",
      count(deliveries, (d) => d.outcome === "delivered"),
      `to retry ${count(deliveries, (d) => d.outcome === "retry")} · dead letter ${count(deliveries, (d) => d.outcome === "dead")}`
    )
  )
  for (const d of deliveries.filter((d) => d.outcome !== "delivered")) {
    lines.push(`    ${d.reference} ${d.recipient} ${d.outcome}: ${d.detail}`)
  }
  return lines.join("\n")
}

export const verify = (report: AuditLog.VerifyReport): string =>
  report._tag === "Intact"
    ? row(
      "Audit chain",
      "ok",
      `verified ${report.count} event${report.count === 1 ? "" : "s"}${report.from === undefined ? "" : ` from the anchor at seq ${report.from}`}${
        report.base === undefined || report.from !== undefined ? "" : ` after the base at seq ${report.base} (the events up to it pruned)`
      }, head ${report.hash.slice(0, 12)}…${
        report.anchored === undefined ? "" : `, ${report.anchors} signed anchors up to seq ${report.anchored}`
      }`
    )
    : `  Audit chain BROKEN: ${report.message}`
