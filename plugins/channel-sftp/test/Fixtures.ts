/**
 * A notification full of distinctive personal data, so a test can look for any trace of it, and
 * the channel's configuration aimed at the test sshd.
 */
import { Notification } from "@encompass/domain"
// Tests may mint an AuthorizedNotification; plugin code never can (eslint.config.mjs).
import { mint } from "@encompass/domain/Authority"
import { Schema } from "effect"
import { SftpChannelConfig } from "../src/index.js"

export const council = "E06000055"
export const password = "lantern-orchard-velvet-42"

/** Strings of the payload that must never appear in an error or a file name. */
export const personalData = ["Zephyrine", "Quillfeather", "Barnaby", "Thistlewood", "17 Marigold Crescent", "OX10 9QZ", "Old Tannery Lane", "2016-03-29", "43TV0099187"]

export interface NotificationOptions {
  readonly version?: number
  readonly reference?: string
  readonly channel?: string
  /** The fingerprint the directory pins for the team: the channel encrypts to that key. */
  readonly openPgpKey?: string
  /** Padding in the circumstances, to make a large file. */
  readonly circumstances?: string
}

/** To Bedford's EHE team, the SFTP channel's first recipient (Bedford ISA 7). */
export const notification = (options: NotificationOptions = {}) =>
  Schema.decodeUnknownSync(Notification.Notification)({
    key: `bedford:43TV0099187:ehe-team:${council}:v${options.version ?? 1}`,
    reference: options.reference ?? "EG-1A2B-3C4D-5E6F",
    occurrence: "43TV0099187",
    version: options.version ?? 1,
    recipient: { _tag: "EheTeam", localAuthority: council },
    route: {
      channel: options.channel ?? "sftp",
      addresses: ["sftp:bedford-ehe"],
      ...(options.openPgpKey !== undefined && { openPgpKey: options.openPgpKey })
    },
    agreement: "bedford-borough",
    children: ["P-1", "P-2"],
    deadline: "2025-11-17T08:30:00Z",
    payload: {
      type: "operation-encompass/domestic-abuse",
      reference: options.reference ?? "EG-1A2B-3C4D-5E6F",
      version: options.version ?? 1,
      localAuthority: council,
      occurrenceNumber: "43TV0099187",
      incidentDateTime: "2025-11-14T21:40:00+00:00",
      incidentAddress: { lines: "Flat 2, Old Tannery Lane, Wallingford", postcode: "OX10 8BB" },
      ...(options.circumstances !== undefined && { circumstances: options.circumstances }),
      children: [
        {
          name: { givenName: "Zephyrine", familyName: "Quillfeather" },
          age: 9,
          dateOfBirth: "2016-03-29",
          homeAddress: { lines: "17 Marigold Crescent, Wallingford", postcode: "OX10 9QZ" },
          presence: "present"
        },
        { name: { givenName: "Barnaby", familyName: "Thistlewood" }, age: 7, presence: "witness" }
      ]
    }
  })

export const authorized = (options: NotificationOptions = {}) => mint(notification(options))

/** The config as a region's file holds it, aimed at the test sshd. */
export const encoded = (
  sshd: { readonly port: number; readonly user: string; readonly clientKey: string; readonly hostKey: string },
  directory: string,
  over: Record<string, unknown> = {}
) => ({
  host: "127.0.0.1",
  port: sshd.port,
  username: sshd.user,
  privateKey: sshd.clientKey,
  hostKey: sshd.hostKey,
  directory,
  passwords: { [`ehe-team:${council}`]: password },
  ...over
})

export const config = (...args: Parameters<typeof encoded>) => Schema.decodeUnknownSync(SftpChannelConfig.SftpChannelConfig)(encoded(...args))
