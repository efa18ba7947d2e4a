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
 * The key of the supplement adding `children` to the notification keyed `key`: a repeat, or a
 * concurrent decision adding the same children, derives the same key and is not queued twice,
 * while one adding other children does not collide with it. `cancelled` counts the recipient's
 * cancelled notifications of the version, so a child whose supplement was cancelled (its override
 * revoked) and who is released again gets a new one.
 */
export const supplementKey = (key: Ids.IdempotencyKey, children: ReadonlyArray<string>, cancelled: number): Ids.IdempotencyKey =>
  Ids.IdempotencyKey.make(`${key}:+${[...children].sort().join("+")}${cancelled === 0 ? "" : `#${cancelled}`}`)

/**
 * `next` (decided now for its recipient) narrowed to the children not in `sent`, keyed by
 * `supplementKey` and referenced `reference`, adding to `adds` (the recipient's first
 * notification of the version) or, when the recipient holds none, standing alone. None when
 * `sent` has every child.
 */
export const supplement = (
  next: Notification.DataNotification,
  sent: ReadonlySet<string>,
  options: {
    readonly cancelled: number
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
      key: supplementKey(next.key, kept.map(([ref]) => ref), options.cancelled),
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
