/**
 * The one way to mint an AuthorizedNotification. Imported only by `@encompass/isa-policy`, after
 * it has checked the notification against the agreement (enforced by lint, see eslint.config.mjs).
 */
import type { AuthorizedNotification } from "./AuthorizedNotification.js"
import { AuthorizedTypeId } from "./internal/authorized.js"
import type { Notification } from "./Notification.js"

export const mint = (notification: Notification): AuthorizedNotification => ({
  [AuthorizedTypeId]: notification.agreement,
  notification
})
