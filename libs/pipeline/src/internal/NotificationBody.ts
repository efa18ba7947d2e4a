/**
 * A notification as the outbox stores it: sealed per subject (`sealed`), the envelope and the
 * occurrence's details under the occurrence's key, each child's permitted fields under that
 * child's key, bound to the notification's reference.
 */
import { Notification } from "@encompass/domain"
import type { SqlError } from "@encompass/store"
import type { Sql, Vault } from "@encompass/store"
import { Effect, Either, Schema } from "effect"
import * as Sealed from "./sealed.js"

const encode = Schema.encodeSync(Notification.Notification)
const decode = Schema.decodeUnknownEither(Notification.Notification)

const context = (reference: string) => `notification:${reference}`

interface Encoded {
  readonly children: ReadonlyArray<string>
  readonly payload: { readonly children?: ReadonlyArray<unknown> }
}

export const seal = (source: string, notification: Notification.Notification): Effect.Effect<Sealed.Envelope, SqlError.SqlError, Sql.Sql | Vault.Vault> => {
  const encoded = encode(notification) as unknown as Encoded
  // payload.children[i] is the permitted view of children[i]; a withdrawal carries none.
  const { children: details = [], ...payload } = encoded.payload
  return Sealed.seal(
    { source, occurrence: notification.occurrence, context: context(notification.reference) },
    {
      shared: { ...encoded, payload },
      children: details.map((value, i) => ({ ref: encoded.children[i] ?? String(i), value }))
    }
  )
}

/** The stored notification, or why it cannot be read: shredded under retention, or corrupt. */
export const open = (
  reference: string,
  body: unknown
): Effect.Effect<Either.Either<Notification.Notification, Sealed.Unreadable>, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.map(Sealed.open(body, context(reference)), (opened) =>
    Either.flatMap(opened, ({ children, removed, shared }) => {
      const { payload, ...rest } = shared as Encoded
      // A child removed from this copy (it left the setting) is no longer part of what it holds.
      if (removed.length > 0 && children.length === 0) return Either.left<Sealed.Unreadable>({ _tag: "Shredded" })
      const refs = removed.length === 0 ? rest.children : rest.children.filter((ref) => !removed.includes(ref))
      const whole = children.length === 0 ? shared : { ...rest, children: refs, payload: { ...payload, children: children.map((c) => c.value) } }
      return Either.mapLeft(decode(whole), (): Sealed.Unreadable => ({ _tag: "Corrupt", detail: "the stored notification does not decode" }))
    }))

/** This stored body without these children's parts; none when it is not a sealed body. */
export const withoutChildren = Sealed.withoutChildren

/** The children a stored body still holds the details of. */
export const heldChildren = Sealed.heldChildren

/** Why a stored notification cannot be read, in words for an operator (no personal data). */
export const unreadable = (why: Sealed.Unreadable): string =>
  why._tag === "Shredded" ? "its personal data was deleted under retention" : `stored notification is unreadable: ${why.detail}`
