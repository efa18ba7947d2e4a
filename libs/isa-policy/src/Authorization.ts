/**
 * The last gate before a channel (DESIGN.md §3, "policy is a capability"). The pipeline calls
 * `authorize` right before every delivery attempt, including after reloading a stored
 * notification, so it trusts nothing about how the notification was built: it inspects the keys
 * actually present in the payload against the agreement, then mints the capability.
 */
import type { AuthorizedNotification, Decision, Notification } from "@encompass/domain"
import { mint } from "@encompass/domain/Authority"
import { Either, Option } from "effect"
import type { Agreement } from "./Agreement.js"
import { AuthorizationError } from "./AuthorizationError.js"
import * as PayloadFields from "./internal/PayloadFields.js"
import * as Recipients from "./internal/Recipients.js"

const keysOf = (value: unknown): ReadonlyArray<string> =>
  typeof value === "object" && value !== null ? Object.keys(value) : []

/** Payload keys, by path, that are not fields the agreement permits (TVP ISA 3, 4.4; Bedford ISA 9). */
const unpermittedKeys = (payload: Notification.Payload, agreement: Agreement): ReadonlyArray<string> => {
  // A withdrawal carries no field at all, only its own envelope (TVP ISA 4.1).
  if (payload.type === "operation-encompass/withdrawal") {
    return keysOf(payload).filter((key) => !PayloadFields.withdrawalEnvelope.has(key))
  }
  // A missing-episode payload is held to its own content profile (domain.md requirement 15).
  const profile: ReadonlyArray<Decision.FieldName> =
    payload.type === "operation-encompass/missing-episode" ? agreement.missingEpisode?.fields.permitted ?? [] : agreement.fields.permitted
  const permitted = (field: Decision.FieldName | undefined): boolean => field !== undefined && profile.includes(field)
  const outside = keysOf(payload).filter(
    (key) => !PayloadFields.envelope.has(key) && !permitted(PayloadFields.incidentFields[key])
  )
  const children: ReadonlyArray<unknown> = Array.isArray(payload.children) ? payload.children : []
  children.forEach((child, index) => {
    for (const key of keysOf(child)) {
      if (!permitted(PayloadFields.childFields[key])) outside.push(`children.${index}.${key}`)
    }
  })
  return outside
}

/**
 * Checks the notification against the agreement and, only if everything holds, returns the
 * AuthorizedNotification a channel's `deliver` requires.
 */
export const authorize = (
  notification: Notification.Notification,
  agreement: Agreement
): Either.Either<AuthorizedNotification.AuthorizedNotification, AuthorizationError> => {
  const refuse = (reason: AuthorizationError["reason"], detail: string) =>
    Either.left(new AuthorizationError({ reason, reference: notification.reference, agreement: agreement.id, detail }))

  if (notification.agreement !== agreement.id) {
    return refuse("WrongAgreement", `the notification was decided under ${notification.agreement}`)
  }
  const kind = Recipients.kindRule(agreement, notification.recipient)
  if (Option.isNone(kind)) {
    return refuse(
      "RecipientNotPermitted",
      `recipient kind ${Recipients.kindOf(notification.recipient)} is not covered by ${agreement.recipients.clause}`
    )
  }
  if (!kind.value.channels.allowed.some((c) => c.channel === notification.route.channel)) {
    return refuse("ChannelNotPermitted", `channel ${notification.route.channel} is not permitted by ${kind.value.channels.clause}`)
  }
  const outside = unpermittedKeys(notification.payload, agreement)
  if (outside.length > 0) {
    return refuse("FieldNotPermitted", `payload carries ${outside.join(", ")}, outside ${agreement.fields.clause}`)
  }
  return Either.right(mint(notification))
}
