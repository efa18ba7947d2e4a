import { Schema } from "effect"
import { Address } from "./Address.js"
import { CalendarDate } from "./CalendarDate.js"
import { Presence } from "./Child.js"
import { NotificationType } from "./Decision.js"
import { AgreementId, GatewayRef, IdempotencyKey, LocalAuthorityCode, OccurrenceRef, PersonRef, Urn } from "./Ids.js"
import { Recipient, Route } from "./Recipient.js"

/** One child as a recipient sees it: only the fields the agreement permits are present. */
export class NotifiedChild extends Schema.Class<NotifiedChild>("NotifiedChild")({
  name: Schema.optional(Schema.Struct({ givenName: Schema.String, familyName: Schema.String })),
  age: Schema.optional(Schema.Int),
  dateOfBirth: Schema.optional(CalendarDate),
  homeAddress: Schema.optional(Address),
  presence: Schema.optional(Presence),
  presenceLocation: Schema.optional(Schema.String),
  voiceOfChild: Schema.optional(Schema.String)
}) {}

/**
 * What the recipient receives, encrypted. Besides the permitted fields it carries only
 * non-personal envelope data: the type, the gateway reference, the version and the setting (or,
 * for a council team, the council's code).
 */
export class NotificationPayload extends Schema.Class<NotificationPayload>("NotificationPayload")({
  type: NotificationType,
  reference: GatewayRef,
  version: Schema.Int,
  setting: Schema.optional(Schema.Struct({ urn: Urn, name: Schema.String })),
  /** For a council recipient (EHE team, front door): which council, in place of `setting`. */
  localAuthority: Schema.optional(LocalAuthorityCode),
  occurrenceNumber: Schema.optional(OccurrenceRef),
  /** Local date and time of the incident in Europe/London, ISO 8601 with offset. */
  incidentDateTime: Schema.optional(Schema.String),
  incidentAddress: Schema.optional(Address),
  circumstances: Schema.optional(Schema.String),
  children: Schema.NonEmptyArray(NotifiedChild)
}) {}

/**
 * A notification to one recipient about one incident version: the unit the outbox delivers.
 * It holds only that recipient's children (one notification per setting).
 */
export class Notification extends Schema.Class<Notification>("Notification")({
  key: IdempotencyKey,
  reference: GatewayRef,
  occurrence: OccurrenceRef,
  version: Schema.Int,
  recipient: Recipient,
  route: Route,
  agreement: AgreementId,
  children: Schema.NonEmptyArray(PersonRef),
  deadline: Schema.DateTimeUtc,
  /** Set when the police should also phone the recipient now (Bedford ISA 10: high risk). */
  phoneFirst: Schema.optional(Schema.Boolean),
  payload: NotificationPayload
}) {}
