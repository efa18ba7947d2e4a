/** The brand of an authorised notification. Not exported from the package: no one else can forge it. */
export const AuthorizedTypeId: unique symbol = Symbol.for("@encompass/domain/AuthorizedNotification")
export type AuthorizedTypeId = typeof AuthorizedTypeId
