/**
 * One event of the audit log (DESIGN.md §7). Events hold ids, outcomes, rule and clause names
 * and reasons — never personal data: names, addresses and dates of birth stay in the encrypted
 * tables, so crypto-shredding a child leaves the audit skeleton intact and nameless.
 */
import { Schema } from "effect"

/** The step of the pipeline an event records. Add a literal to add a stage. */
export const Stage = Schema.Literal(
  "received",
  "refused",
  "rejected",
  "replayed",
  "resolved",
  "normalised",
  "decided",
  "queued",
  "attempted",
  "delivered",
  "dead-lettered",
  "at-risk",
  "missed",
  "requeued",
  "cancelled",
  "duplicate",
  "acknowledged",
  "viewed",
  "corrected",
  "superseded",
  "withdrawn",
  "overridden",
  "override-revoked",
  "breach-opened",
  "purged",
  "keys-rotated"
)
export type Stage = typeof Stage.Type

export type Json = string | number | boolean | null | ReadonlyArray<Json> | { readonly [key: string]: Json }

export const Json: Schema.Schema<Json> = Schema.Union(
  Schema.String,
  Schema.Number,
  Schema.Boolean,
  Schema.Null,
  Schema.Array(Schema.suspend(() => Json)),
  Schema.Record({ key: Schema.String, value: Schema.suspend(() => Json) })
)

/** What an event says beyond its stage and subject, e.g. `{ rule, clause, outcome }`. */
export const Detail = Schema.Record({ key: Schema.String, value: Json })
export type Detail = typeof Detail.Type

export class AuditEvent extends Schema.Class<AuditEvent>("AuditEvent")({
  /** 1, 2, 3 … with no gaps: a gap means a deletion. */
  seq: Schema.Int,
  /** Database time, to the millisecond. */
  at: Schema.DateTimeUtc,
  /** A `Stage` when this version wrote it; read back as stored. */
  stage: Schema.String,
  /** What the event is about: an id such as `feed:42` or `notification:EG-1A2B-3C4D-5E6F`. */
  subject: Schema.String,
  detail: Detail,
  prevHash: Schema.String,
  hash: Schema.String
}) {}

