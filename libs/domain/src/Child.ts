import { Schema } from "effect"
import { Address } from "./Address.js"
import { LocalAuthorityCode, PersonRef, Urn } from "./Ids.js"
import { Person } from "./Person.js"

/** Whether the child was at the incident: TVP ISA 3 shares only `present` or `witness`. */
export const Presence = Schema.Literal("present", "witness", "not-present")
export type Presence = typeof Presence.Type

/** Where the child is educated: a setting by URN, or elective home education. */
export const Education = Schema.Union(
  Schema.TaggedStruct("Setting", { urn: Urn }),
  Schema.TaggedStruct("ElectiveHomeEducation", {})
)
export type Education = typeof Education.Type

/** The officer's risk grading. Never shared (TVP ISA 3: "seriousness ... will not be included"). */
export const RiskGrading = Schema.Literal("standard", "medium", "high")
export type RiskGrading = typeof RiskGrading.Type

/** A child linked to an occurrence, with where the record came from in the feed. */
export class Child extends Schema.Class<Child>("Child")({
  ref: PersonRef,
  person: Person,
  homeAddress: Address,
  presence: Presence,
  education: Schema.NonEmptyArray(Education),
  riskGrading: RiskGrading,
  sensitive: Schema.Boolean,
  /** The council the child lives in, when the source or the council's records say (Bedford ISA 8; s.49A(2)). */
  residenceLocalAuthority: Schema.optional(LocalAuthorityCode),
  /** Where the child was during the incident, e.g. `upstairs bedroom` (national content list). */
  presenceLocation: Schema.optional(Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200))),
  /** Voice of the child: whether spoken to and what they said (national content list, at most 1,000 characters). */
  voiceOfChild: Schema.optional(Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(1000))),
  /**
   * Set when the source could not match this child (or their setting) with certainty; such a child
   * goes to a person and is never sent automatically (domain.md requirement 28).
   */
  matchAmbiguous: Schema.optional(Schema.Boolean),
  /** Where in the feed this child came from, e.g. `line 12`: used in rejections and audit. */
  locator: Schema.NonEmptyString
}) {}
