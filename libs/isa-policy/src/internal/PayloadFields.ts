/**
 * Which agreement field each payload key carries. Keys not listed are not fields at all and are
 * never allowed; the envelope keys carry no personal data (Notification.NotificationPayload).
 */
import type { Decision } from "@encompass/domain"

export const envelope: ReadonlySet<string> = new Set(["type", "reference", "version", "setting", "localAuthority", "children", "corrects", "supplements"])

/** Everything a withdrawal may carry: no field of any child or incident (Notification.WithdrawalPayload). */
export const withdrawalEnvelope: ReadonlySet<string> = new Set(["type", "reference", "version", "setting", "localAuthority", "withdraws", "reason"])

export const incidentFields: Readonly<Record<string, Decision.FieldName>> = {
  occurrenceNumber: "occurrenceNumber",
  incidentDateTime: "incidentDateTime",
  incidentAddress: "incidentAddress",
  circumstances: "circumstances"
}

export const childFields: Readonly<Record<string, Decision.FieldName>> = {
  name: "childName",
  age: "age",
  dateOfBirth: "dateOfBirth",
  homeAddress: "homeAddress",
  presence: "presence",
  presenceLocation: "presenceLocation",
  voiceOfChild: "voiceOfChild"
}
