import { Schema } from "effect"

/** One problem in an agreement file, at its key path and position. */
export class AgreementIssue extends Schema.Class<AgreementIssue>("AgreementIssue")({
  /** Dotted key path, e.g. `recipients.kinds.0.kind`; empty for the document itself. */
  path: Schema.String,
  /** The tighten-never-loosen rule broken, e.g. `no-wider-ages` (only for `Loosens`). */
  rule: Schema.optional(Schema.String),
  line: Schema.Int,
  column: Schema.Int,
  message: Schema.String
}) {}

/**
 * An agreement (or calendar) file that cannot be used. `Syntax`: the YAML itself is broken;
 * `Schema`: it is YAML but not an agreement; `Loosens`: it would share more, with more parties,
 * or later than the statutory baseline allows (each issue names the rule). Lists every problem, never a bare "invalid".
 */
export class AgreementError extends Schema.TaggedError<AgreementError>()("AgreementError", {
  module: Schema.Literal("Agreement").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "Agreement" as const)),
  method: Schema.Literal("parse", "load", "parseCalendar"),
  reason: Schema.Literal("Syntax", "Schema", "Loosens"),
  issues: Schema.Array(AgreementIssue)
}) {
  override get message(): string {
    const where = (issue: AgreementIssue): string =>
      `${issue.rule === undefined ? "" : `[${issue.rule}] `}${issue.path === "" ? "document" : issue.path} (line ${issue.line}, column ${issue.column})`
    return `${this.method === "parseCalendar" ? "calendar" : "agreement"} file rejected (${this.reason}): ${this.issues.map((i) => `${where(i)}: ${i.message}`).join("; ")}`
  }
}
