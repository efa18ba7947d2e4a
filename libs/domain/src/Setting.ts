import { Schema } from "effect"
import { ChannelId, LocalAuthorityCode, OpenPgpFingerprint, Urn } from "./Ids.js"

/** Kinds of relevant educational establishment (Domestic Abuse Act 2021 s.49A(4)). */
export const SettingKind = Schema.Literal(
  "school",
  "independent-school",
  "pupil-referral-unit",
  "college",
  "sixteen-to-nineteen-academy"
)
export type SettingKind = typeof SettingKind.Type

export const EmailAddress = Schema.Trimmed.pipe(
  Schema.pattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: () => "not an email address" }),
  Schema.brand("EmailAddress")
)
export type EmailAddress = typeof EmailAddress.Type

/**
 * A school or college in the directory: who its Designated Safeguarding Lead contacts are, and
 * whether it has signed the agreement (only signed-up settings receive notifications).
 */
export class Setting extends Schema.Class<Setting>("Setting")({
  urn: Urn,
  name: Schema.NonEmptyTrimmedString,
  kind: SettingKind,
  signedUp: Schema.Boolean,
  /** The setting's generic, monitored address(es) for notifications (TVP ISA 4.3a). */
  contacts: Schema.NonEmptyArray(EmailAddress),
  channel: ChannelId,
  /** The council the setting is in, for cross-border rules (Bedford ISA 8). */
  localAuthority: Schema.optional(LocalAuthorityCode),
  /** Number on roll: 1000+ may name up to three SPOCs (Bedford ISA 14). */
  pupils: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** The setting's published OpenPGP key, pinned: notifications are encrypted to it, not a password. */
  openPgpKey: Schema.optional(OpenPgpFingerprint)
}) {}
