/**
 * A notification full of distinctive personal data, so a test can search a sent email for any
 * trace of it, and the channel configuration pointing at a local sink.
 */
import { Notification } from "@encompass/domain"
import { mint } from "@encompass/domain/Authority"
import { Redacted, Schema } from "effect"
import { SecureEmailConfig } from "../src/index.js"
import { caPem } from "./SmtpSink.js"

export const urn = "123456"
export const password = "lantern-orchard-velvet-42"
export const addresses = ["office@st-aldhelms.sch.example", "safeguarding@st-aldhelms.sch.example"] as const

/** Strings of the payload that must never appear outside the encrypted attachment. */
export const personalData = [
  "Zephyrine",
  "Quillfeather",
  "Barnaby",
  "Thistlewood",
  "17 Marigold Crescent",
  "Wallingford",
  "OX10 9QZ",
  "Old Tannery Lane",
  "2016-03-29",
  "2025-11-14T21:40",
  "43TV0099187",
  "St Aldhelm"
] as const

export interface NotificationOptions {
  readonly version?: number
  readonly urn?: string
  /** The fingerprint the directory pins for the setting: the channel encrypts to that key. */
  readonly openPgpKey?: string
  /** A council's front door (its LA code) as the recipient instead of the setting (Bedford ISA 10). */
  readonly frontDoor?: string
}

export const notification = (options: NotificationOptions = {}) =>
  Schema.decodeUnknownSync(Notification.Notification)({
    key: `tvp:43TV0099187:${options.frontDoor === undefined ? `setting:${options.urn ?? urn}` : `front-door:${options.frontDoor}`}:v${options.version ?? 1}`,
    reference: "EG-1A2B-3C4D-5E6F",
    occurrence: "43TV0099187",
    version: options.version ?? 1,
    recipient: options.frontDoor === undefined ? { _tag: "Setting", urn: options.urn ?? urn } : { _tag: "CouncilFrontDoor", localAuthority: options.frontDoor },
    route: { channel: "secure-email", addresses, ...(options.openPgpKey !== undefined && { openPgpKey: options.openPgpKey }) },
    agreement: "tvp-schools",
    children: ["P-1", "P-2"],
    deadline: "2025-11-17T08:30:00Z",
    payload: {
      type: "operation-encompass/domestic-abuse",
      reference: "EG-1A2B-3C4D-5E6F",
      version: options.version ?? 1,
      ...(options.frontDoor === undefined ? { setting: { urn: options.urn ?? urn, name: "St Aldhelm's Primary School" } } : { localAuthority: options.frontDoor }),
      occurrenceNumber: "43TV0099187",
      incidentDateTime: "2025-11-14T21:40:00+00:00",
      incidentAddress: { lines: "Flat 2, Old Tannery Lane, Wallingford", postcode: "OX10 8BB" },
      children: [
        {
          name: { givenName: "Zephyrine", familyName: "Quillfeather" },
          age: 9,
          dateOfBirth: "2016-03-29",
          homeAddress: { lines: "17 Marigold Crescent, Wallingford", postcode: "OX10 9QZ" },
          presence: "present"
        },
        {
          name: { givenName: "Barnaby", familyName: "Thistlewood" },
          age: 7,
          presence: "witness"
        }
      ]
    }
  })

export const authorized = (options: NotificationOptions = {}) => mint(notification(options))

export const config = (
  port: number,
  overrides: Partial<ConstructorParameters<typeof SecureEmailConfig.SecureEmailConfig>[0]> = {}
) =>
  new SecureEmailConfig.SecureEmailConfig({
    host: "127.0.0.1",
    port,
    ca: caPem,
    from: "Thames Valley Police Operation Encompass <encompass@thamesvalley.police.example>",
    messageIdDomain: "thamesvalley.police.example",
    senderName: "Thames Valley Police",
    contact: "Encompass@thamesvalley.police.example",
    passwords: { [urn]: Redacted.make(password) },
    ...overrides
  })

const encode = Schema.encodeSync(Notification.Notification)

/** Version 2 sent as a correction of version 1 (TVP ISA 4.1), under its own reference. */
export const correction = () => {
  const next = encode(notification({ version: 2 }))
  const reference = "EG-2B3C-4D5E-6F70"
  return Schema.decodeUnknownSync(Notification.Notification)({
    ...next,
    reference,
    payload: { ...next.payload, reference, corrects: { reference: "EG-1A2B-3C4D-5E6F", version: 1, changed: ["incidentAddress"] } }
  })
}

/** A supplement of version 1 (a child released after it was sent), and a correction replacing both. */
export const supplement = () => {
  const held = encode(notification())
  const reference = "EG-4D5E-6F70-8192"
  return Schema.decodeUnknownSync(Notification.Notification)({
    ...held,
    key: `${held.key}:+P2`,
    reference,
    payload: { ...held.payload, reference, supplements: { reference: "EG-1A2B-3C4D-5E6F", version: 1 } }
  })
}

export const correctionOfSupplemented = () => {
  const corrected = encode(correction())
  return Schema.decodeUnknownSync(Notification.Notification)({
    ...corrected,
    payload: { ...corrected.payload, corrects: { reference: "EG-1A2B-3C4D-5E6F", version: 1, changed: ["incidentAddress"], additions: ["EG-4D5E-6F70-8192"] } }
  })
}

/** The withdrawal of version 1: references only. */
export const withdrawal = () => {
  const held = encode(notification())
  const reference = "EG-3C4D-5E6F-7081"
  return Schema.decodeUnknownSync(Notification.Notification)({
    ...held,
    key: `${held.key}:withdrawn`,
    reference,
    payload: {
      type: "operation-encompass/withdrawal",
      reference,
      version: 1,
      setting: { urn, name: "St Aldhelm's Primary School" },
      withdraws: { reference: "EG-1A2B-3C4D-5E6F", version: 1 },
      reason: "sent-in-error"
    }
  })
}
