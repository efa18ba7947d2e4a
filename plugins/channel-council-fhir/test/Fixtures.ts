/**
 * A notification to Bedford's front door full of distinctive personal data, so a test can look
 * for any trace of it, and the channel's configuration aimed at a test FHIR server.
 */
import { Notification } from "@encompass/domain"
// Tests may mint an AuthorizedNotification; plugin code never can (eslint.config.mjs).
import { mint } from "@encompass/domain/Authority"
import { Schema } from "effect"
import { CouncilFhirConfig } from "../src/index.js"

export const council = "E06000055"

/** Strings of the payload that must never appear in an error. */
export const personalData = ["Zephyrine", "Quillfeather", "Barnaby", "Thistlewood", "17 Marigold Crescent", "OX10 9QZ", "Old Tannery Lane", "2016-03-29"]

export interface NotificationOptions {
  readonly version?: number
  readonly reference?: string
}

export const notification = (options: NotificationOptions = {}) =>
  Schema.decodeUnknownSync(Notification.Notification)({
    key: `bedford:43TV0099187:front-door:${council}:v${options.version ?? 1}`,
    reference: options.reference ?? "EG-1A2B-3C4D-5E6F",
    occurrence: "43TV0099187",
    version: options.version ?? 1,
    recipient: { _tag: "CouncilFrontDoor", localAuthority: council },
    route: { channel: "council-fhir", addresses: ["ifd@bedford.gov.example"] },
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

/**
 * A notification the domain would never decode (a date of birth in the wrong format), built past its validation:
 * the channel's own check must stop it.
 */
export const invalid = () => {
  const valid = notification({ reference: "EG-3C4D-5E6F-7A8B" })
  const payload = valid.payload as Notification.NotificationPayload
  const [first, ...rest] = payload.children
  const children = [new Notification.NotifiedChild({ ...first, dateOfBirth: "29/03/2016" } as never, true), ...rest] as const
  return mint(new Notification.Notification({ ...valid, payload: new Notification.NotificationPayload({ ...payload, children }, true) }, true))
}

export const encoded = (baseUrl: string, ca: string | undefined, over: Record<string, unknown> = {}) => ({
  sender: { id: "bedfordshire-police", name: "Bedfordshire Police" },
  servers: { [`front-door:${council}`]: baseUrl },
  ...(ca === undefined ? {} : { ca }),
  ...over
})

export const config = (...args: Parameters<typeof encoded>) => Schema.decodeUnknownSync(CouncilFhirConfig.CouncilFhirConfig)(encoded(...args))
