import { Schema } from "effect"
import { ChannelId, Urn } from "./Ids.js"

/** A school or college, identified by URN. */
export class SettingRecipient extends Schema.TaggedClass<SettingRecipient>()("Setting", {
  urn: Urn
}) {}

/** The local authority's elective home education team for the child's home area. */
export class EheTeamRecipient extends Schema.TaggedClass<EheTeamRecipient>()("EheTeam", {}) {}

/** Who a decision is about sending to. */
export const Recipient = Schema.Union(SettingRecipient, EheTeamRecipient)
export type Recipient = typeof Recipient.Type

/** A stable, non-personal key for a recipient, used in idempotency keys and audit events. */
export const recipientKey = (recipient: Recipient): string =>
  recipient._tag === "Setting" ? `setting:${recipient.urn}` : "ehe-team"

/** How a notification reaches its recipient: the channel and the channel's addresses. */
export class Route extends Schema.Class<Route>("Route")({
  channel: ChannelId,
  addresses: Schema.NonEmptyArray(Schema.NonEmptyTrimmedString)
}) {}
