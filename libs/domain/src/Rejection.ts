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
  occurrence: Schema.optional(OccurrenceRef),
  /**
   * The rejected record as a standalone feed in the source's own format (for CSV, the header line
   * plus the record's rows), so an operator can correct it and replay it through the same source.
   * Personal data: the gateway stores it encrypted and it never reaches a log or a message.
   */
  record: Schema.optional(Schema.Redacted(Schema.String))
}) {
  get message(): string {
    return `${this.locator}${this.field === undefined ? "" : `, field ${this.field}`}: ${this.reason}`
  }
}
