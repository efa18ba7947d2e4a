import { Schema } from "effect"

/** One problem in the directory: where (line and column, when it comes from a file) and what. */
export class DirectoryIssue extends Schema.Class<DirectoryIssue>("DirectoryIssue")({
  line: Schema.optional(Schema.Int),
  column: Schema.optional(Schema.String),
  /** Says what is wrong without quoting the cell: it may hold an email address. */
  message: Schema.String
}) {}

/**
 * A directory that cannot be used. It lists every problem; the directory refuses to load as a
 * whole, because a wrong address means a wrong school and partial loading would hide that.
 * `Unreadable`: the file could not be read; `Invalid`: its content is wrong.
 */
export class DirectoryError extends Schema.TaggedError<DirectoryError>()("DirectoryError", {
  module: Schema.Literal("Directory").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "Directory" as const)),
  method: Schema.Literal("fromSettings", "fromCsv", "layerCsv", "leavers"),
  /** Which file: the settings directory, the authorities directory or a settings' leavers update. */
  directory: Schema.Literal("settings", "authorities", "leavers").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "settings" as const)),
  reason: Schema.Literal("Unreadable", "Invalid"),
  /** The file's path, when the directory came from a file. */
  source: Schema.optional(Schema.String),
  issues: Schema.Array(DirectoryIssue)
}) {
  override get message(): string {
    const where = (issue: DirectoryIssue): string =>
      [issue.line === undefined ? undefined : `line ${issue.line}`, issue.column === undefined ? undefined : `column ${issue.column}`]
        .filter((part) => part !== undefined)
        .join(", ")
    const problems = this.issues.map((issue) => {
      const at = where(issue)
      return at === "" ? issue.message : `${at}: ${issue.message}`
    })
    return `${this.directory} directory${this.source === undefined ? "" : ` ${this.source}`} refused (${this.reason}, ${this.issues.length} problem${this.issues.length === 1 ? "" : "s"}): ${problems.join("; ")}`
  }
}
