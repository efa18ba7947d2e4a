/**
 * What one ingest did, for the operator's summary. It carries ids, outcomes and reasons only:
 * never names, dates of birth or addresses.
 */
import type { Explain } from "@encompass/isa-policy"

export interface RejectedRecord {
  readonly locator: string
  readonly field: string | undefined
  readonly reason: string
  readonly occurrence: string | undefined
}

/** A decision as `policy explain` shows it, with the occurrence it belongs to. */
export interface DecisionLine extends Explain.Row {
  readonly occurrence: string
}

export interface DeliveryLine {
  readonly reference: string
  readonly recipient: string
  readonly outcome: "delivered" | "retry" | "dead"
  readonly detail: string
}

/** What processing one stored feed did. */
export type ProcessReport = Omit<IngestReport, "deliveries">

export interface IngestReport {
  readonly feed: { readonly id: number; readonly name: string; readonly sha256: string; readonly repeat: boolean }
  readonly incidents: number
  /** Incidents already recorded at the same version (a feed or record received again). */
  readonly repeats: number
  readonly rejected: ReadonlyArray<RejectedRecord>
  readonly decisions: ReadonlyArray<DecisionLine>
  readonly notificationsCreated: number
  readonly deliveries: ReadonlyArray<DeliveryLine>
}
