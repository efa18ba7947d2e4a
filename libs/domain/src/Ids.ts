/**
 * Branded identifiers. A brand stops one kind of id being passed where another is expected
 * (an occurrence number where a URN belongs), which matters when a wrong id means a wrong school.
 */
import { Schema } from "effect"

/** The police occurrence (incident) reference, e.g. Niche's occurrence number. */
export const OccurrenceRef = Schema.NonEmptyTrimmedString.pipe(
  Schema.maxLength(64),
  Schema.brand("OccurrenceRef"),
  Schema.annotations({ description: "Police occurrence reference (e.g. Niche occurrence number)" })
)
export type OccurrenceRef = typeof OccurrenceRef.Type

/** A DfE Unique Reference Number: six digits, issued through GIAS. */
export const Urn = Schema.String.pipe(
  Schema.pattern(/^\d{6}$/, { message: () => "a URN is six digits" }),
  Schema.brand("Urn"),
  Schema.annotations({ description: "DfE Unique Reference Number of a school or college", examples: ["123456" as never] })
)
export type Urn = typeof Urn.Type

/** The source system's own reference for a person on an occurrence. */
export const PersonRef = Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(64), Schema.brand("PersonRef"))
export type PersonRef = typeof PersonRef.Type

/** Id of a source plugin, e.g. `niche-rms`. */
export const SourceId = Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9-]{1,39}$/), Schema.brand("SourceId"))
export type SourceId = typeof SourceId.Type

/** Id of a channel plugin, e.g. `secure-email`. */
export const ChannelId = Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9-]{1,39}$/), Schema.brand("ChannelId"))
export type ChannelId = typeof ChannelId.Type

/** Id of an Information Sharing Agreement, e.g. `tvp-schools`. */
export const AgreementId = Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9-]{1,63}$/), Schema.brand("AgreementId"))
export type AgreementId = typeof AgreementId.Type

/**
 * The gateway's own opaque reference for a notification, printed in email subjects and file
 * names. It is random, so it reveals nothing (not the occurrence number); it is stored with the
 * notification, so every re-send of that notification carries the same one.
 */
export const GatewayRef = Schema.String.pipe(
  Schema.pattern(/^EG-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/),
  Schema.brand("GatewayRef"),
  Schema.annotations({ description: "Opaque gateway reference of a notification", examples: ["EG-1A2B-3C4D-5E6F" as never] })
)
export type GatewayRef = typeof GatewayRef.Type

/** An ONS local authority code, e.g. `E06000055` (Bedford): names a council without personal data. */
export const LocalAuthorityCode = Schema.String.pipe(
  Schema.pattern(/^[EW]0[6-9]\d{6}$/, { message: () => "expected an ONS local authority code such as E06000055" }),
  Schema.brand("LocalAuthorityCode"),
  Schema.annotations({ description: "ONS code of an English or Welsh local authority", examples: ["E06000055" as never] })
)
export type LocalAuthorityCode = typeof LocalAuthorityCode.Type

/** Stable key of a notification: (force, occurrence, recipient, version). */
export const IdempotencyKey = Schema.NonEmptyString.pipe(Schema.brand("IdempotencyKey"))
export type IdempotencyKey = typeof IdempotencyKey.Type

/**
 * A v4 OpenPGP key's fingerprint, 40 upper-case hex digits (`gpg --with-colons` prints it so):
 * the recipient key the directory pins.
 */
export const OpenPgpFingerprint = Schema.String.pipe(
  Schema.pattern(/^[0-9A-F]{40}$/, { message: () => "expected a v4 OpenPGP fingerprint: 40 hex digits" }),
  Schema.brand("OpenPgpFingerprint"),
  Schema.annotations({ description: "Fingerprint of a recipient's v4 OpenPGP key", examples: ["0D3F6C3E1A5B9F2C7E4D8A6B1C0F9E8D7A6B5C4D" as never] })
)
export type OpenPgpFingerprint = typeof OpenPgpFingerprint.Type
