import { Schema } from "effect"
import { ChannelId, LocalAuthorityCode, OpenPgpFingerprint } from "./Ids.js"
import { EmailAddress } from "./Setting.js"

/** The council teams a notification may go to besides a setting (Bedford ISA 7, 10). */
export const TeamKind = Schema.Literal("ehe-team", "council-front-door")
export type TeamKind = typeof TeamKind.Type

/**
 * A council team in the authorities directory: the elective home education team, or the
 * children's services front door (Bedford's Integrated Front Door), with its generic monitored
 * address(es), whether it has signed the agreement, and the channel that reaches it.
 */
export class CouncilTeam extends Schema.Class<CouncilTeam>("CouncilTeam")({
  kind: TeamKind,
  localAuthority: LocalAuthorityCode,
  name: Schema.NonEmptyTrimmedString,
  signedUp: Schema.Boolean,
  contacts: Schema.NonEmptyArray(EmailAddress),
  channel: ChannelId,
  /** The team's published OpenPGP key, pinned: notifications are encrypted to it, not a password. */
  openPgpKey: Schema.optional(OpenPgpFingerprint)
}) {}
