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
 * What a correction replaces (TVP ISA 4.1): the notification the recipient may already hold, and
 * which agreement fields now read differently — by name, never by value.
 */
export class Corrects extends Schema.Class<Corrects>("Corrects")({
  reference: GatewayRef,
  version: Schema.Int,
  changed: Schema.Array(Schema.String),
  /** The supplements of that notification the recipient may also hold: the correction replaces them too. */
  additions: Schema.optional(Schema.Array(GatewayRef))
}) {}

/**
 * Set on a supplement: the recipient was already sent `reference` for this version, and this one
 * adds the children it lacked (e.g. a sensitive child released by an override afterwards). Both
 * together are what the recipient holds; no child is in both.
 */
export class Supplements extends Schema.Class<Supplements>("Supplements")({
  reference: GatewayRef,
  version: Schema.Int
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
  children: Schema.NonEmptyArray(NotifiedChild),
  /** Set on a correction: it replaces that notification in full. */
  corrects: Schema.optional(Corrects),
  /** Set on a supplement: it adds children to that notification. */
  supplements: Schema.optional(Supplements)
}) {}

/**
 * Why a recipient is told to delete a notification: the force says it was sent in error, or a
 * corrected record no longer involves any child the recipient should hear about.
 */
export const WithdrawalReason = Schema.Literal("sent-in-error", "no-longer-shared")
export type WithdrawalReason = typeof WithdrawalReason.Type

/**
 * A withdrawal (TVP ISA 4.1): the recipient must delete the notification it names and not act on
 * it. It carries no personal data at all, only the envelope and the withdrawn reference.
 */
export class WithdrawalPayload extends Schema.Class<WithdrawalPayload>("WithdrawalPayload")({
  type: Schema.Literal("operation-encompass/withdrawal"),
  reference: GatewayRef,
  version: Schema.Int,
  setting: Schema.optional(Schema.Struct({ urn: Urn, name: Schema.String })),
  localAuthority: Schema.optional(LocalAuthorityCode),
  withdraws: Schema.Struct({ reference: GatewayRef, version: Schema.Int }),
  reason: WithdrawalReason
}) {}

/** Everything a channel may carry: a notification (or its correction), or a withdrawal. */
export const Payload = Schema.Union(NotificationPayload, WithdrawalPayload)
export type Payload = typeof Payload.Type

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
  payload: Payload
}) {}

/** A notification carrying children's details (not a withdrawal): what the policy engine decides. */
export type DataNotification = Notification & { readonly payload: NotificationPayload }

export const isWithdrawal = (notification: Notification): notification is Notification & { readonly payload: WithdrawalPayload } =>
  notification.payload.type === "operation-encompass/withdrawal"

/** Which of the three a notification is, as the outbox records it. */
export type Kind = "notification" | "correction" | "withdrawal"

export const kindOf = ({ payload }: Notification): Kind =>
  payload.type === "operation-encompass/withdrawal" ? "withdrawal" : payload.corrects === undefined ? "notification" : "correction"
