import { Schema } from "effect"
import { ChannelId, LocalAuthorityCode, OpenPgpFingerprint, Urn } from "./Ids.js"

/** A school or college, identified by URN. */
export class SettingRecipient extends Schema.TaggedClass<SettingRecipient>()("Setting", {
  urn: Urn
}) {}

/**
 * The local authority's elective home education team for the child's home area; `localAuthority`
 * names the council once the policy has resolved it.
 */
export class EheTeamRecipient extends Schema.TaggedClass<EheTeamRecipient>()("EheTeam", {
  localAuthority: Schema.optional(LocalAuthorityCode)
}) {}

/** A council's children's services front door (e.g. Bedford's Integrated Front Door, Bedford ISA 10). */
export class CouncilFrontDoorRecipient extends Schema.TaggedClass<CouncilFrontDoorRecipient>()("CouncilFrontDoor", {
  localAuthority: LocalAuthorityCode
}) {}

/** Who a decision is about sending to. */
export const Recipient = Schema.Union(SettingRecipient, EheTeamRecipient, CouncilFrontDoorRecipient)
export type Recipient = typeof Recipient.Type

/** A stable, non-personal key for a recipient, used in idempotency keys and audit events. */
export const recipientKey = (recipient: Recipient): string => {
  switch (recipient._tag) {
    case "Setting":
      return `setting:${recipient.urn}`
    case "EheTeam":
      return recipient.localAuthority === undefined ? "ehe-team" : `ehe-team:${recipient.localAuthority}`
    case "CouncilFrontDoor":
      return `front-door:${recipient.localAuthority}`
  }
}

/** How a notification reaches its recipient: the channel and the channel's addresses. */
export class Route extends Schema.Class<Route>("Route")({
  channel: ChannelId,
  addresses: Schema.NonEmptyArray(Schema.NonEmptyTrimmedString),
  /**
   * The recipient's OpenPGP key as the directory pins it. When set, the channel encrypts to this
   * key and never to a password; without it, to the recipient's password.
   */
  openPgpKey: Schema.optional(OpenPgpFingerprint)
}) {}
