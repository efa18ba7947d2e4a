import { Schema } from "effect"

/** One problem in an agreement file, at its key path and position. */
export class AgreementIssue extends Schema.Class<AgreementIssue>("AgreementIssue")({
  /** Dotted key path, e.g. `recipients.kinds.0.kind`; empty for the document itself. */
  path: Schema.String,
  line: Schema.Int,
  column: Schema.Int,
  message: Schema.String
}) {}

/**
 * An agreement file that cannot be used. `Syntax`: the YAML itself is broken; `Schema`: it is
 * YAML but not an agreement. Lists every problem, never a bare "invalid".
 */
export class AgreementError extends Schema.TaggedError<AgreementError>()("AgreementError", {
  module: Schema.Literal("Agreement").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "Agreement" as const)),
  method: Schema.Literal("parse").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "parse" as const)),
  reason: Schema.Literal("Syntax", "Schema"),
  issues: Schema.Array(AgreementIssue)
}) {
  override get message(): string {
    const where = (issue: AgreementIssue): string =>
      `${issue.path === "" ? "document" : issue.path} (line ${issue.line}, column ${issue.column})`
    return `agreement file rejected (${this.reason}): ${this.issues.map((i) => `${where(i)}: ${i.message}`).join("; ")}`
  }
}
