import { Schema } from "effect"
import { Address } from "./Address.js"
import { Child } from "./Child.js"
import { LocalAuthorityCode, OccurrenceRef, SourceId } from "./Ids.js"

/** What kind of occurrence this is; only some are in an agreement's scope. */
export const IncidentCategory = Schema.Literal("domestic", "missing-episode", "other")
export type IncidentCategory = typeof IncidentCategory.Type

/**
 * One police occurrence with its children, normalised from a source feed. `version` rises when
 * the source re-issues a corrected record (TVP ISA 4.1).
 */
export class Incident extends Schema.TaggedClass<Incident>()("Incident", {
  source: SourceId,
  occurrence: OccurrenceRef,
  version: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
  category: IncidentCategory,
  occurredAt: Schema.DateTimeUtc,
  address: Address,
  children: Schema.NonEmptyArray(Child),
  /** The council area the incident happened in, when known (Bedford ISA 8: other force areas are out of scope). */
  localAuthority: Schema.optional(LocalAuthorityCode),
  /** Brief circumstances as the officer summarised them (national content list); never the risk grading. */
  circumstances: Schema.optional(Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(1000))),
  /** The occurrence this one repeats (the same household again): recorded, never a reason to withhold. */
  repeatOf: Schema.optional(OccurrenceRef)
}) {}
