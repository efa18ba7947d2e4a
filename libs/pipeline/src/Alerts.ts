/**
 * Alerts for a person (DESIGN.md §6): the contract between what raises them — the deadline
 * watch (`at-risk`, `missed`) and the outbox (`dead-letter`) — and where a region sends them
 * besides the log, the audit log and the metrics, e.g. an email to the force's SPOC
 * (apps/gateway `SpocAlerts`). An alert carries ids, the recipient's key, the channel, the
 * deadline and the delivery state only — never the notification's body.
 */
import { Context, Effect, Layer } from "effect"
import type { DeadReason } from "./Outbox.js"

/** What every alert says: ids, the recipient's key, channel, deadline and attempts. */
interface AlertFields {
  readonly reference: string
  /** The recipient's key, e.g. `setting:123456` (a setting's URN, not a person). */
  readonly recipient: string
  readonly channel: string
  readonly deadline: Date
  readonly attempts: number
}

/** Undelivered (`queued` or `dead`) with its deadline within the at-risk lead, or already past it. */
export interface DeadlineAlert extends AlertFields {
  readonly kind: "at-risk" | "missed"
  readonly state: "queued" | "dead"
}

/** Delivery given up: nothing will try the notification again until an operator retries it. */
export interface DeadLetterAlert extends AlertFields {
  readonly kind: "dead-letter"
  readonly state: "dead"
  readonly reason: DeadReason
}

export type Alert = DeadlineAlert | DeadLetterAlert

export type Kind = Alert["kind"]

/**
 * The region's alert sink. `notify` cannot fail: a sink handles (and logs) its own errors, since
 * the alert is already recorded (audit, log, metric) when it is called.
 *
 * The deadline watch requires a sink. The outbox looks one up optionally, so ingest and
 * quarantine replay — which deliver too — need not provide one: without it a dead letter is
 * only logged and audited.
 */
export class Alerts extends Context.Tag("@encompass/pipeline/Alerts")<
  Alerts,
  { readonly notify: (alert: Alert) => Effect.Effect<void> }
>() {
  /** The default: the log line, audit event and metric are the only alert. */
  static readonly logOnly: Layer.Layer<Alerts> = Layer.succeed(Alerts, { notify: () => Effect.void })
}
