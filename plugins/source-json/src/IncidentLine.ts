/**
 * One line of the JSON Lines feed: one incident with its children, in the domain's encoded form
 * (README.md). The line schema is built from the domain's own fields, so the format and the
 * domain cannot disagree; the published JSON Schema (`schema/incident-line.schema.json`) is
 * generated from it.
 */
import { Child, Incident } from "@encompass/domain"
import { JSONSchema, Schema } from "effect"

/** Bumped, with a migration note in the README, whenever a line's shape changes. */
export const schemaVersion = 1

/** A child as the feed gives it: the domain Child without `locator`, which the plugin sets to `line N`. */
export const ChildLine = Schema.Struct(Child.Child.fields).omit("locator")

export const IncidentLine = Schema.Struct({
  schemaVersion: Schema.Literal(schemaVersion).annotations({
    description: "Version of the line format",
    message: () => "expected 1, the only version of this format"
  }),
  ...Schema.Struct(Incident.Incident.fields).omit("_tag", "source", "children").fields,
  children: Schema.NonEmptyArray(ChildLine)
}).annotations({
  identifier: "IncidentLine",
  title: "Operation Encompass incident line",
  description: "One police occurrence with its children, one JSON object per line of a JSON Lines feed"
})
export type IncidentLine = typeof IncidentLine.Type

/** The JSON Schema of one line, as published in `schema/incident-line.schema.json`. */
export const jsonSchema = (): JSONSchema.JsonSchema7Root => JSONSchema.make(IncidentLine)
