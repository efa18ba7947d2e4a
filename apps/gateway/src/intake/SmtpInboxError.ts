import { Schema } from "effect"

/**
 * The SMTP inbox could not start. `InvalidConfig`: the certificate or key file cannot be read or
 * used; `Transport`: the address cannot be listened on (in use, not local, not permitted).
 * Failures of one SMTP session are answered to the client and logged, never raised.
 */
export class SmtpInboxError extends Schema.TaggedError<SmtpInboxError>()("SmtpInboxError", {
  module: Schema.Literal("SmtpInbox").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "SmtpInbox" as const)),
  method: Schema.Literal("make"),
  reason: Schema.Literal("InvalidConfig", "Transport"),
  /** What failed, naming files and error codes, never key material. */
  detail: Schema.String
}) {
  override get message(): string {
    return `SMTP inbox could not start (${this.reason}): ${this.detail}`
  }
}
