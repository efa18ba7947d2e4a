import { Schema } from "effect"
import { Address } from "./Address.js"
import { PersonRef, Urn } from "./Ids.js"
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
  /** Where in the feed this child came from, e.g. `line 12`: used in rejections and audit. */
  locator: Schema.NonEmptyString
}) {}
