/** The brand of an authorised notification. Not exported from the package: no one else can forge it. */
// Not `Symbol.for`: the global registry would let anyone recreate the key.
export const AuthorizedTypeId: unique symbol = Symbol("@encompass/domain/AuthorizedNotification")
export type AuthorizedTypeId = typeof AuthorizedTypeId
