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
  "presence",
  "presenceLocation",
  "voiceOfChild",
  "circumstances"
)
export type FieldName = typeof FieldName.Type

/** The kinds of notification: domestic abuse (s.49A) and, where an agreement adds them, missing episodes. */
export const NotificationType = Schema.Literal("operation-encompass/domestic-abuse", "operation-encompass/missing-episode")
export type NotificationType = typeof NotificationType.Type

/** A person's recorded decision to share a case the rules would withhold (TVP ISA 3: "overriding public safety requirement"). */
export class Override extends Schema.Class<Override>("Override")({
  /** Who authorised it: a role or staff number, not a name. */
  by: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(100)),
  at: Schema.DateTimeUtc,
  reason: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(500))
}) {}

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
  /** The fields shared; empty unless the outcome is `share` or `phone-first` (which also sends). */
  fields: Schema.Array(FieldName),
  /** When the recipient must have it: before the start of the next school day. */
  deadline: Schema.DateTimeUtc,
  /** The version of the agreement file that decided (TVP ISA 4.3; domain.md requirement 21). */
  agreementVersion: Schema.optional(Schema.Int),
  /** Which notification this decision is for; missing episodes are their own type (domain.md requirement 15). */
  notificationType: Schema.optional(NotificationType),
  /** The recorded override that released a sensitive case (TVP ISA 3), when one did. */
  override: Schema.optional(Override)
}) {}
