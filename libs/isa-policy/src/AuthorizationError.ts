import { Ids } from "@encompass/domain"
import { Schema } from "effect"

/**
 * A notification the agreement does not allow to leave. Permanent: the core must not retry it,
 * and a person must look. Names payload keys and rules, never values.
 */
export class AuthorizationError extends Schema.TaggedError<AuthorizationError>()("AuthorizationError", {
  module: Schema.Literal("Authorization").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "Authorization" as const)),
  method: Schema.Literal("authorize").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "authorize" as const)),
  reason: Schema.Literal("WrongAgreement", "RecipientNotPermitted", "ChannelNotPermitted", "FieldNotPermitted"),
  /** The notification's opaque reference, safe to log. */
  reference: Ids.GatewayRef,
  agreement: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `notification ${this.reference} not authorised under ${this.agreement} (${this.reason}): ${this.detail}`
  }
}
