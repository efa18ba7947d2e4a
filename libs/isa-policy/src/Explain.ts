/**
 * What `encompass policy explain` prints: per child and recipient, the decision, the rule and
 * clause that made it, the rationale, the fields, the deadline and the channel. It holds no
 * personal data beyond the child's source ref, so it is safe to show an IG officer.
 */
import { Recipient } from "@encompass/domain"
import type { Decision } from "@encompass/domain"
import { DateTime, Option } from "effect"
import type { Evaluation } from "./Policy.js"
import { notificationOf } from "./Policy.js"

export interface Row {
  readonly child: string
  readonly recipient: string
  readonly outcome: Decision.Outcome
  readonly rule: string
  readonly clause: string
  readonly rationale: string
  readonly fields: ReadonlyArray<Decision.FieldName>
  /** Local time with offset in the agreement's zone, e.g. `2026-10-26T08:30:00.000+00:00`. */
  readonly deadline: string
  /** The channel the notification goes by; absent when nothing is sent. */
  readonly channel: string | undefined
  readonly phoneFirst: boolean
  readonly notificationType: Decision.NotificationType | undefined
  readonly agreement: string
  readonly agreementVersion: number | undefined
  /** Who released a sensitive case, and when; the reason is kept on the Decision. */
  readonly override: string | undefined
}

export const explain = (evaluation: Evaluation): ReadonlyArray<Row> =>
  evaluation.decisions.map((d) => {
    const notification = notificationOf(evaluation, d)
    return {
      child: d.child,
      recipient: Recipient.recipientKey(d.recipient),
      outcome: d.outcome,
      rule: d.rule,
      clause: d.clause,
      rationale: d.rationale,
      fields: d.fields,
      deadline: DateTime.formatIsoOffset(DateTime.setZone(d.deadline, evaluation.agreement.timeZone)),
      channel: Option.match(notification, { onNone: () => undefined, onSome: (n) => n.route.channel }),
      phoneFirst: Option.exists(notification, (n) => n.phoneFirst === true),
      notificationType: d.notificationType,
      agreement: d.agreement,
      agreementVersion: d.agreementVersion,
      override: d.override === undefined ? undefined : `${d.override.by} at ${DateTime.formatIso(d.override.at)}`
    }
  })

/** Plain text, one block per child and recipient, for a terminal. */
export const format = (rows: ReadonlyArray<Row>): string =>
  rows
    .map((r) =>
      [
        `${r.child} -> ${r.recipient}: ${r.outcome.toUpperCase()}${r.phoneFirst ? " (phone now)" : ""}`,
        `  rule ${r.rule} (${r.clause}), agreement ${r.agreement}${r.agreementVersion === undefined ? "" : ` v${r.agreementVersion}`}`,
        `  ${r.rationale}`,
        `  fields: ${r.fields.length === 0 ? "none" : r.fields.join(", ")}; channel: ${r.channel ?? "none"}; deadline: ${r.deadline}`,
        ...(r.override === undefined ? [] : [`  override: ${r.override}`])
      ].join("\n")
    )
    .join("\n")
