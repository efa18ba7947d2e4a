/**
 * The email around the encrypted attachment. Subject and body are built only from the opaque
 * gateway reference, the version and the channel's configuration, never from the payload: there
 * is no personal data or occurrence number to leak (DESIGN.md §6).
 */
import type { Ids } from "@encompass/domain"
import { Notification } from "@encompass/domain"
import type { SendMailOptions } from "nodemailer"
import type { SecureEmailConfig } from "../SecureEmailConfig.js"

/** Says what kind of message it is — a kind is not personal data — and the opaque reference. */
export const subject = (notification: Notification.Notification): string => {
  const kind = Notification.kindOf(notification)
  const what = kind === "withdrawal" ? "withdrawal" : kind === "correction" ? "correction" : "notification"
  const adds = notification.payload.type === "operation-encompass/withdrawal" ? undefined : notification.payload.supplements
  return `Operation Encompass ${what}${adds === undefined ? "" : ` (addition to ${adds.reference})`} — reference ${notification.reference}`
}

/** The same reference and version always give the same Message-ID, so a re-send is recognisably the same message. */
export const messageId = (reference: Ids.GatewayRef, version: number, domain: string): string =>
  `<${reference}.v${version}@${domain}>`

/** Name of the JSON file inside the OpenPGP message: what `gpg --decrypt` writes out. */
export const payloadName = (reference: Ids.GatewayRef, version: number): string => `encompass-${reference}-v${version}.json`

export const attachmentName = (reference: Ids.GatewayRef, version: number): string => `${payloadName(reference, version)}.asc`

/** What the email says first: a notification, a correction of one, or a withdrawal of one. */
const opening = (notification: Notification.Notification, config: SecureEmailConfig): ReadonlyArray<string> => {
  const file = attachmentName(notification.reference, notification.version)
  const { payload } = notification
  if (payload.type === "operation-encompass/withdrawal") {
    const why = payload.reason === "sent-in-error"
      ? `${config.senderName} sent it in error`
      : "a correction of the police record means it no longer concerns any child at your school or college"
    return [
      `WITHDRAWAL of Operation Encompass notification ${payload.withdraws.reference}: ${why}. Please delete that notification, its attachment and any copies or notes made from it, and do not act on it. Reference of this withdrawal: ${notification.reference}.`,
      `The attached encrypted file, ${file}, records this withdrawal; it contains no information about any child.`
    ]
  }
  if (payload.corrects !== undefined) {
    const { additions = [], reference } = payload.corrects
    const replaced = additions.length === 0 ? `notification ${reference}` : `notification ${reference} and its additions ${additions.join(", ")}`
    return [
      `CORRECTION of Operation Encompass notification ${reference} from ${config.senderName}. The corrected notification is attached as an encrypted file, ${file}; it replaces ${replaced} in full and lists which details changed. Please update your records and delete the earlier version${additions.length === 0 ? "" : "s"}. Reference: ${notification.reference}.`
    ]
  }
  if (payload.supplements !== undefined) {
    const { reference } = payload.supplements
    return [
      `ADDITION to Operation Encompass notification ${reference} from ${config.senderName}, about the same incident: it concerns children at your school or college whom notification ${reference} did not include. It is attached as an encrypted file, ${file}. Keep it with notification ${reference}; together they are the notification. Reference: ${notification.reference}.`
    ]
  }
  return [`An Operation Encompass notification from ${config.senderName} is attached to this email as an encrypted file, ${file}. Reference: ${notification.reference}.`]
}

const paragraphs = (notification: Notification.Notification, config: SecureEmailConfig): ReadonlyArray<string> => [
  ...opening(notification, config),
  "Office staff: please forward this email, with its attachment, promptly to your Designated Safeguarding Lead.",
  notification.route.openPgpKey === undefined
    ? `Designated Safeguarding Lead: open the attachment with the password ${config.senderName} previously supplied to your school or college. It is an OpenPGP-encrypted file; open it with GnuPG or Gpg4win (Kleopatra), for example: gpg --decrypt ${attachmentName(notification.reference, notification.version)}`
    : `Designated Safeguarding Lead: the attachment is an OpenPGP-encrypted file for your organisation's key ${notification.route.openPgpKey}; open it with GnuPG or Gpg4win (Kleopatra) where that key's secret key is held, for example: gpg --decrypt ${attachmentName(notification.reference, notification.version)}`,
  "Do not print this notification. Keep it secure and delete it when it is no longer needed.",
  "Do not approach or contact the parents or carers about this notification.",
  `Questions about this notification: contact ${config.contact}, quoting reference ${notification.reference}.`,
  "This email itself contains no personal information."
]

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c] ?? c)

/** The message for nodemailer; the caller adds the transport-level parts (abort signal). */
export const build = (
  notification: Notification.Notification,
  armored: string,
  config: SecureEmailConfig
): SendMailOptions => {
  const body = paragraphs(notification, config)
  return {
    from: config.from,
    to: [...notification.route.addresses],
    subject: subject(notification),
    messageId: messageId(notification.reference, notification.version, config.messageIdDomain),
    text: `${body.join("\n\n")}\n`,
    html: body.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n"),
    attachments: [
      {
        filename: attachmentName(notification.reference, notification.version),
        content: armored,
        // Not application/pgp-encrypted: that type names the control part of PGP/MIME (RFC 3156),
        // and mail clients that act on it would mistake this plain file attachment for one.
        contentType: "application/octet-stream"
      }
    ]
  }
}
