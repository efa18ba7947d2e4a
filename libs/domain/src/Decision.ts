import { Schema } from "effect"
import { AgreementId, OccurrenceRef, PersonRef } from "./Ids.js"
import { Recipient } from "./Recipient.js"

/** What was decided for one child and one candidate recipient. */
export const Outcome = Schema.Literal("share", "withhold", "phone-first", "needs-review")
export type Outcome = typeof Outcome.Type

/** A field a notification may carry; an agreement permits a subset (TVP ISA 3). */
export const FieldName = Schema.Literal(
  "childName",
  "age",
  "dateOfBirth",
  "homeAddress",
  "incidentAddress",
  "incidentDateTime",
  "occurrenceNumber",
  "presence"
)
export type FieldName = typeof FieldName.Type

/**
 * The record of one sharing decision (TVP ISA 4.3: information shared, with whom, purpose,
 * rationale). Withholding is recorded exactly like sharing.
 */
export class Decision extends Schema.Class<Decision>("Decision")({
  occurrence: OccurrenceRef,
  version: Schema.Int,
  child: PersonRef,
  recipient: Recipient,
  outcome: Outcome,
  agreement: AgreementId,
  /** The rule that decided, e.g. `child-present-or-witness`. */
  rule: Schema.NonEmptyString,
  /** The agreement clause the rule implements, e.g. `TVP ISA 3`. */
  clause: Schema.NonEmptyString,
  /** A plain-English reason a person can read. Holds no personal data. */
  rationale: Schema.NonEmptyString,
  /** The fields shared; empty unless the outcome is `share`. */
  fields: Schema.Array(FieldName),
  /** When the recipient must have it: before the start of the next school day. */
  deadline: Schema.DateTimeUtc
}) {}
