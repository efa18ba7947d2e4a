/**
 * One notification as one FHIR R4 transaction Bundle, built from the notification alone: the
 * sender's and the council's `Organization`, a `Patient` per child holding only the fields the
 * agreement let into the payload, and the `Communication` that is the notification itself.
 *
 * Every entry is a conditional create (`ifNoneExist`) on an identifier the gateway minted — the
 * notification's reference and version, never a person's — so a re-send of the same notification
 * creates nothing new, while a correction (another reference) is a new Communication.
 */
import { Recipient } from "@encompass/domain"
import type { Address, Notification } from "@encompass/domain"
import type { Bundle, BundleEntry, Communication, Organization, Patient, Resource } from "@medplum/fhirtypes"
import { createHash } from "node:crypto"

/** Identifier systems the gateway mints; documented in the README. */
export const systems = {
  notification: "urn:encompass:notification",
  child: "urn:encompass:notification-child",
  sender: "urn:encompass:sender",
  localAuthority: "urn:encompass:local-authority"
} as const

export interface Sender {
  /** The force's id as the council knows it, e.g. `thames-valley-police`. */
  readonly id: string
  readonly name: string
}

/** `EG-…-v2`: the notification's reference and version, unique per what the recipient holds. */
export const notificationId = (notification: Notification.Notification): string => `${notification.reference}-v${notification.version}`

/** A deterministic `urn:uuid:` for an entry, so the same notification builds the same Bundle. */
const fullUrl = (seed: string): string => {
  const hex = createHash("sha256").update(seed).digest("hex")
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const entry = <R extends Resource>(url: string, resource: R, system: string, value: string): BundleEntry => ({
  fullUrl: url,
  resource,
  request: { method: "POST", url: resource.resourceType, ifNoneExist: `identifier=${encodeURIComponent(`${system}|${value}`)}` }
})

const address = (a: Address.Address) => ({ text: a.lines, ...(a.postcode === undefined ? {} : { postalCode: a.postcode }) })

/** The Bundle for a notification to a council; a school recipient is a defect (`deliver` has no server for one). */
export const build = (notification: Notification.Notification, sender: Sender): Bundle => {
  const id = notificationId(notification)
  const payload = notification.payload
  // The council by its ONS code; the channel is only configured for council recipients.
  const councilId = notification.recipient._tag === "Setting" ? undefined : notification.recipient.localAuthority
  if (councilId === undefined) throw new Error(`FhirBundle.build: recipient ${Recipient.recipientKey(notification.recipient)} is not a council`)

  const senderUrl = fullUrl(`${id}/sender`)
  const recipientUrl = fullUrl(`${id}/recipient`)
  const senderOrg: Organization = {
    resourceType: "Organization",
    identifier: [{ system: systems.sender, value: sender.id }],
    name: sender.name
  }
  const recipientOrg: Organization = {
    resourceType: "Organization",
    identifier: [{ system: systems.localAuthority, value: councilId }]
  }

  const children = payload.type === "operation-encompass/withdrawal" ? [] : payload.children
  const patients = children.map((child, index) => {
    const value = `${id}-${index + 1}`
    const patient: Patient = {
      resourceType: "Patient",
      identifier: [{ system: systems.child, value }],
      ...(child.name === undefined ? {} : { name: [{ given: [child.name.givenName], family: child.name.familyName }] }),
      ...(child.dateOfBirth === undefined ? {} : { birthDate: child.dateOfBirth }),
      ...(child.homeAddress === undefined ? {} : { address: [address(child.homeAddress)] })
    }
    return { url: fullUrl(`${id}/child/${index + 1}`), patient, value }
  })

  const lines = payload.type === "operation-encompass/withdrawal"
    ? [`Withdraws ${payload.withdraws.reference} version ${payload.withdraws.version} (${payload.reason}): delete it and do not act on it.`]
    : [
      `Operation Encompass notification ${payload.reference} version ${payload.version}.`,
      ...(payload.occurrenceNumber === undefined ? [] : [`Police occurrence ${payload.occurrenceNumber}.`]),
      ...(payload.incidentDateTime === undefined ? [] : [`Incident at ${payload.incidentDateTime}.`]),
      ...(payload.incidentAddress === undefined ? [] : [`Incident address: ${payload.incidentAddress.lines}${payload.incidentAddress.postcode === undefined ? "" : `, ${payload.incidentAddress.postcode}`}.`]),
      ...(payload.circumstances === undefined ? [] : [`Circumstances: ${payload.circumstances}`]),
      ...(payload.corrects === undefined ? [] : [`Corrects ${payload.corrects.reference} version ${payload.corrects.version}; changed: ${payload.corrects.changed.join(", ")}.`]),
      ...(payload.supplements === undefined ? [] : [`Adds to ${payload.supplements.reference} version ${payload.supplements.version}.`])
    ]

  const first = patients[0]
  const communication: Communication = {
    resourceType: "Communication",
    identifier: [{ system: systems.notification, value: id }],
    status: "completed",
    category: [{ coding: [{ system: "urn:encompass:notification-type", code: payload.type }] }],
    ...(patients.length === 1 && first !== undefined ? { subject: { reference: first.url } } : {}),
    ...(patients.length > 0 ? { about: patients.map((p) => ({ reference: p.url })) } : {}),
    sender: { reference: senderUrl },
    recipient: [{ reference: recipientUrl }],
    payload: [{ contentString: lines.join("\n") }]
  }

  return {
    resourceType: "Bundle",
    type: "transaction",
    entry: [
      entry(senderUrl, senderOrg, systems.sender, sender.id),
      entry(recipientUrl, recipientOrg, systems.localAuthority, councilId),
      ...patients.map((p) => entry(p.url, p.patient, systems.child, p.value)),
      entry(fullUrl(`${id}/communication`), communication, systems.notification, id)
    ]
  }
}
