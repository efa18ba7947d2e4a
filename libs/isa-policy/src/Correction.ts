/**
 * Corrections and withdrawals (TVP ISA 4.1: the provider of inaccurate information "will be
 * responsible for correcting the data and notifying all other recipients of the data"). Pure:
 * the pipeline decides who held what; this module builds what they are sent.
 *
 * A correction is the new version's own notification (decided and minimised afresh, so it
 * carries only what the agreement allows today) marked with the notification it replaces and the
 * names of the fields that now read differently. A withdrawal tells a recipient to delete a
 * notification it holds; it carries no personal data, only references.
 */
import { Ids, Notification } from "@encompass/domain"
import type { DateTime } from "effect"
import * as PayloadFields from "./internal/PayloadFields.js"

/** JSON with object keys sorted, so a stored payload and a fresh one compare by content. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v)

const differs = (a: unknown, b: unknown): boolean => canonical(a) !== canonical(b)

/**
 * The agreement fields whose content differs between two versions of a recipient's notification,
 * by field name (never by value), and `children` when the children named are not the same ones.
 * Children are matched by their person ref, not by position.
 */
export const changedFields = (
  before: Notification.DataNotification,
  after: Notification.DataNotification
): ReadonlyArray<string> => {
  const changed = new Set<string>()
  for (const [key, field] of Object.entries(PayloadFields.incidentFields)) {
    if (differs(before.payload[key as keyof Notification.NotificationPayload], after.payload[key as keyof Notification.NotificationPayload])) {
      changed.add(field)
    }
  }
  // The engine builds `children` and `payload.children` in the same order.
  const childrenOf = (n: Notification.DataNotification) =>
    new Map(n.children.flatMap((ref, index) => {
      const child = n.payload.children[index]
      return child === undefined ? [] : [[ref, child] as const]
    }))
  const was = childrenOf(before)
  const now = childrenOf(after)
  if (was.size !== now.size || [...now.keys()].some((ref) => !was.has(ref))) changed.add("children")
  for (const [ref, child] of now) {
    const old = was.get(ref)
    if (old === undefined) continue
    for (const [key, field] of Object.entries(PayloadFields.childFields)) {
      if (differs(old[key as keyof Notification.NotifiedChild], child[key as keyof Notification.NotifiedChild])) changed.add(field)
    }
  }
  return [...changed].sort()
}

/**
 * `next` as a correction of `held`: the same notification, naming what it replaces and what
 * changed. `additions` are the supplements of `held` the recipient may also hold (`Supplement`),
 * their children merged into `held` by the caller; the correction replaces them too.
 */
export const correct = (
  next: Notification.DataNotification,
  held: Notification.DataNotification,
  additions: ReadonlyArray<Ids.GatewayRef> = []
): Notification.DataNotification =>
  new Notification.Notification({
    ...next,
    payload: new Notification.NotificationPayload({
      ...next.payload,
      corrects: new Notification.Corrects({
        reference: held.reference,
        version: held.version,
        changed: changedFields(held, next),
        ...(additions.length > 0 && { additions })
      })
    })
  }) as Notification.DataNotification

/** The idempotency key of the withdrawal of the notification keyed `key`: one withdrawal each. */
export const withdrawalKey = (key: Ids.IdempotencyKey): Ids.IdempotencyKey => Ids.IdempotencyKey.make(`${key}:withdrawn`)

/**
 * The withdrawal of `held`, to the same recipient at the same addresses (where it was sent), as
 * `version` of the occurrence: the version that withdrew it, or the held one's own when a person
 * withdraws it.
 */
export const withdraw = (
  held: Notification.Notification,
  options: {
    readonly reference: Ids.GatewayRef
    readonly version: number
    readonly reason: Notification.WithdrawalReason
    readonly deadline: DateTime.Utc
  }
): Notification.Notification => {
  const { localAuthority, setting } = held.payload
  return new Notification.Notification({
    key: withdrawalKey(held.key),
    reference: options.reference,
    occurrence: held.occurrence,
    version: options.version,
    recipient: held.recipient,
    route: held.route,
    agreement: held.agreement,
    children: held.children,
    deadline: options.deadline,
    payload: new Notification.WithdrawalPayload({
      type: "operation-encompass/withdrawal",
      reference: options.reference,
      version: options.version,
      ...(setting !== undefined && { setting }),
      ...(localAuthority !== undefined && { localAuthority }),
      withdraws: { reference: held.reference, version: held.version },
      reason: options.reason
    })
  })
}
