import { Schema } from "effect"
import { OccurrenceRef, SourceId } from "./Ids.js"

/**
 * A record a source could not accept. It names where the record is and which field failed, and
 * never the value (it may be personal data). The raw record is quarantined by the gateway.
 */
export class Rejection extends Schema.TaggedClass<Rejection>()("Rejection", {
  source: SourceId,
  /** Where the record is in the feed, e.g. `line 12`. */
  locator: Schema.NonEmptyString,
  field: Schema.optional(Schema.String),
  reason: Schema.NonEmptyString,
  occurrence: Schema.optional(OccurrenceRef)
}) {
  get message(): string {
    return `${this.locator}${this.field === undefined ? "" : `, field ${this.field}`}: ${this.reason}`
  }
}
