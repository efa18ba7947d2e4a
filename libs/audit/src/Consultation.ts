/**
 * Consultation logging (Data Protection Act 2018 s.62: logs of consultation). Every read that
 * shows personal data — in the CLI today a quarantined record, an audit export and a breach
 * report; the API and the console later — goes through `record`: who read it, which record, what
 * was shown and why, as an audit event (stage `viewed`). The reason is required: a read without one is refused before anything is shown.
 *
 * `subject` is the record read, named as the audit log names it (`rejection:12`,
 * `notification:EG-…`, `occurrence:niche-rms/43/1/26/v2`), so an audit export of the occurrence,
 * child or recipient it belongs to finds the read beside that record's own events.
 */
import type { SqlError } from "@encompass/store"
import { Effect, Schema } from "effect"
import { AuditLog } from "./AuditLog.js"

export class ConsultationError extends Schema.TaggedError<ConsultationError>("@encompass/audit/ConsultationError")("ConsultationError", {
  module: Schema.Literal("Consultation"),
  method: Schema.Literal("record"),
  reason: Schema.Literal("MissingReason", "MissingReader", "TooLong"),
  /** The record whose read was refused (an id, never personal data). */
  subject: Schema.String,
  field: Schema.Literal("by", "reason"),
  detail: Schema.String
}) {
  override get message(): string {
    return `reading ${this.subject}: ${this.field}: ${this.detail}`
  }
}

export interface Read {
  /** Who read it: a login name, staff number or account id. */
  readonly by: string
  /** The record read, as the audit log names it. */
  readonly subject: string
  /** What was shown, e.g. `quarantined record`. */
  readonly what: string
  /** Why, in the reader's words (required). */
  readonly reason: string
  /** Where: `cli`, `api`, `console`. */
  readonly via: string
  /** `source/occurrence` when the record belongs to one. */
  readonly occurrence?: string | undefined
  /** The children's opaque refs the read showed, when known. */
  readonly children?: ReadonlyArray<string> | undefined
}

const limits = { by: 100, reason: 500 } as const

const checked = (read: Pick<Read, "by" | "reason" | "subject">, field: "by" | "reason") => {
  const value = read[field].trim()
  const refuse = (reason: ConsultationError["reason"], detail: string) =>
    new ConsultationError({ module: "Consultation", method: "record", reason, subject: read.subject, field, detail })
  if (value === "") {
    return Effect.fail(field === "by" ? refuse("MissingReader", "say who is reading") : refuse("MissingReason", "a reason is required to read personal data"))
  }
  if (value.length > limits[field]) return Effect.fail(refuse("TooLong", `at most ${limits[field]} characters`))
  return Effect.succeed(value)
}

/** Refuses a read that does not say who and why, as `record` would: for a caller to check before it does any work. */
export const check = (read: Pick<Read, "by" | "reason" | "subject">): Effect.Effect<{ readonly by: string; readonly reason: string }, ConsultationError> =>
  Effect.all({ by: checked(read, "by"), reason: checked(read, "reason") })

/**
 * Checks the read and audits it (stage `viewed`). Call it before showing anything: a refused read
 * shows nothing, and inside a caller's transaction the event commits with the caller's work.
 */
export const record = (read: Read): Effect.Effect<void, ConsultationError | SqlError.SqlError, AuditLog> =>
  Effect.gen(function*() {
    const { by, reason } = yield* check(read)
    const audit = yield* AuditLog
    yield* audit.append({
      stage: "viewed",
      subject: read.subject,
      detail: {
        by,
        what: read.what,
        reason,
        via: read.via,
        ...(read.occurrence === undefined ? {} : { occurrence: read.occurrence }),
        ...(read.children === undefined ? {} : { children: [...read.children] })
      }
    })
  })
