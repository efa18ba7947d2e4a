import { AuditLog } from "@encompass/audit"
import { Notification, Recipient } from "@encompass/domain"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import type { Vault } from "@encompass/store"
import { DateTime, Effect } from "effect"
import * as NotificationBody from "./NotificationBody.js"

/**
 * Puts a notification in the outbox, in the caller's transaction, and audits it: "queued", and
 * for a correction or withdrawal also "corrected" or "withdrawn" naming what it replaces. The
 * key is unique, so queueing the same notification twice does nothing; returns whether it was new.
 */
export const enqueue = (
  source: string,
  notification: Notification.Notification,
  supersedes: string | null = null
): Effect.Effect<boolean, SqlError.SqlError, Sql.Sql | AuditLog.AuditLog | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const audit = yield* AuditLog.AuditLog
    const kind = Notification.kindOf(notification)
    const recipient = Recipient.recipientKey(notification.recipient)
    const body = yield* NotificationBody.seal(source, notification)
    const inserted = yield* sql.use((s) =>
      s`INSERT INTO notification (key, reference, source, occurrence, version, recipient, channel, deadline, body, children, kind, supersedes)
        VALUES (${notification.key}, ${notification.reference}, ${source}, ${notification.occurrence},
          ${notification.version}, ${recipient}, ${notification.route.channel},
          ${DateTime.toDate(notification.deadline)}, ${s.json(body as never)},
          ${s.array([...notification.children])}, ${kind}, ${supersedes})
        ON CONFLICT (key) DO NOTHING RETURNING id`
    )
    if (inserted.length === 0) return false
    const subject = `notification:${notification.reference}`
    yield* audit.append({
      stage: "queued",
      subject,
      detail: {
        occurrence: notification.occurrence,
        version: notification.version,
        recipient,
        channel: notification.route.channel,
        kind,
        children: [...notification.children],
        deadline: DateTime.formatIso(notification.deadline),
        // A supplement adds children to a notification already sent: the audit export says which.
        ...(notification.payload.type !== "operation-encompass/withdrawal" && notification.payload.supplements !== undefined
          ? { supplements: notification.payload.supplements.reference }
          : {})
      }
    })
    const { payload } = notification
    if (payload.type === "operation-encompass/withdrawal") {
      yield* audit.append({
        stage: "withdrawn",
        subject,
        detail: { withdraws: payload.withdraws.reference, version: payload.withdraws.version, recipient, reason: payload.reason }
      })
    } else if (payload.corrects !== undefined) {
      yield* audit.append({
        stage: "corrected",
        subject,
        detail: { corrects: payload.corrects.reference, version: payload.corrects.version, recipient, changed: [...payload.corrects.changed] }
      })
    }
    return true
  })
