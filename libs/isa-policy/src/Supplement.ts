/**
 * Supplements: a recipient already sent its notification of a version, and a re-decision of that
 * version (an override granted, a quarantined child's school added) shares further children with
 * it. The outbox holds one notification per key, so the stored one cannot change; the recipient
 * is sent a supplement instead, holding only the children it lacks (TVP ISA 3: the decided
 * notification, minimised for this recipient, narrowed to those children) and naming the
 * notification it adds to. Pure: the pipeline says what the recipient was sent.
 */
import { Ids, Notification } from "@encompass/domain"
import { Option } from "effect"

/**
 * The key of the `n`th supplement of the notification keyed `key`, `n` counting every stored
 * notification of that key's recipient and version before it: deciding the same state again
 * derives the same key, so a repeat is not queued twice.
 */
export const supplementKey = (key: Ids.IdempotencyKey, n: number): Ids.IdempotencyKey =>
  Ids.IdempotencyKey.make(`${key}:supplement-${n}`)

/**
 * `next` (decided now for its recipient) narrowed to the children not in `sent`, keyed `key` and
 * referenced `reference`, adding to `adds` (the recipient's first notification of the version)
 * or, when the recipient holds none, standing alone. None when `sent` has every child.
 */
export const supplement = (
  next: Notification.DataNotification,
  sent: ReadonlySet<string>,
  options: {
    readonly key: Ids.IdempotencyKey
    readonly reference: Ids.GatewayRef
    readonly adds: Option.Option<{ readonly reference: Ids.GatewayRef; readonly version: number }>
  }
): Option.Option<Notification.DataNotification> => {
  // The engine builds `children` and `payload.children` in the same order.
  const kept = next.children.flatMap((ref, index) => {
    const child = next.payload.children[index]
    return sent.has(ref) || child === undefined ? [] : [[ref, child] as const]
  })
  const [first, ...rest] = kept
  if (first === undefined) return Option.none()
  const { corrects: _, supplements: __, ...payload } = next.payload
  return Option.some(
    new Notification.Notification({
      ...next,
      key: options.key,
      reference: options.reference,
      children: [first[0], ...rest.map(([ref]) => ref)],
      payload: new Notification.NotificationPayload({
        ...payload,
        reference: options.reference,
        children: [first[1], ...rest.map(([, child]) => child)],
        ...Option.match(options.adds, { onNone: () => ({}), onSome: (adds) => ({ supplements: new Notification.Supplements(adds) }) })
      })
    }) as Notification.DataNotification
  )
}
