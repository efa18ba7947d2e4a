/**
 * Policy is a capability (DESIGN.md §3). A channel's `deliver` accepts only an
 * `AuthorizedNotification`; its brand key is a symbol this package does not export, so no
 * object literal or plugin can make one. It is minted only through `@encompass/domain/Authority`,
 * and lint allows only `@encompass/isa-policy` to import that.
 */
import type { AgreementId } from "./Ids.js"
import { AuthorizedTypeId } from "./internal/authorized.js"
import type { Notification } from "./Notification.js"

export interface AuthorizedNotification {
  readonly [AuthorizedTypeId]: AgreementId
  readonly notification: Notification
}

export const isAuthorizedNotification = (u: unknown): u is AuthorizedNotification =>
  typeof u === "object" && u !== null && AuthorizedTypeId in u
