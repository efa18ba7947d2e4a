import { Schema } from "effect"

/** One problem in a field-mapping file, at its key path and position. */
export class NicheMappingIssue extends Schema.Class<NicheMappingIssue>("NicheMappingIssue")({
  /** Dotted key path, e.g. `columns.child_dob`; empty for the document itself. */
  path: Schema.String,
  line: Schema.Int,
  column: Schema.Int,
  message: Schema.String
}) {}

/**
 * A field mapping that cannot be used. `Syntax`: the YAML itself is broken; `InvalidConfig`: it
 * is YAML but not a valid mapping. Lists every problem with its key path and line, never a bare
 * "invalid". A mapping is configuration, not personal data, so its values may be quoted.
 */
export class NicheMappingError extends Schema.TaggedError<NicheMappingError>()("NicheMappingError", {
  module: Schema.Literal("NicheMapping").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "NicheMapping" as const)),
  method: Schema.Literal("fromYaml"),
  reason: Schema.Literal("Syntax", "InvalidConfig"),
  issues: Schema.NonEmptyArray(NicheMappingIssue)
}) {
  override get message(): string {
    const where = (issue: NicheMappingIssue): string =>
      `${issue.path === "" ? "document" : issue.path} (line ${issue.line}, column ${issue.column})`
    return `niche-rms field mapping rejected (${this.reason}): ${this.issues.map((i) => `${where(i)}: ${i.message}`).join("; ")}`
  }
}
