/**
 * Builds what a recipient receives from the permitted fields only (TVP ISA 3: "proportionate and
 * no more than necessary"; ISA 4.4: "only the minimum amount of information"; Bedford ISA 9). The
 * payload is built up from nothing, field by permitted field, never by copying the incident and
 * deleting: risk grading, the sensitive flag and person refs have no way in.
 */
import type { Child, Decision, Ids, Incident, Setting } from "@encompass/domain"
import { CalendarDate, Notification } from "@encompass/domain"
import type { DateTime } from "effect"
import { Array as Arr } from "effect"
import type { AuthorityContact } from "./Eligibility.js"
import { localDate, localIso } from "./internal/LocalTime.js"

/**
 * The payload for one recipient: the incident's permitted fields and, for each of `children`
 * (only the children shared with this recipient), the permitted child fields. `timeZone` is the
 * agreement's: the incident date for ages and the local incident time are taken in it. An
 * optional child or incident field the source did not supply is simply absent.
 */
export const minimise = (
  incident: Incident.Incident,
  children: Arr.NonEmptyReadonlyArray<Child.Child>,
  fields: ReadonlyArray<Decision.FieldName>,
  recipient: Setting.Setting | AuthorityContact,
  reference: Ids.GatewayRef,
  timeZone: DateTime.TimeZone,
  type: Decision.NotificationType = "operation-encompass/domestic-abuse"
): Notification.NotificationPayload => {
  const permits = (field: Decision.FieldName): boolean => fields.includes(field)
  const incidentDate = localDate(incident.occurredAt, timeZone)
  const notified = (child: Child.Child): Notification.NotifiedChild =>
    new Notification.NotifiedChild({
      ...(permits("childName") && { name: { givenName: child.person.givenName, familyName: child.person.familyName } }),
      ...(permits("age") && { age: CalendarDate.ageOn(child.person.dateOfBirth, incidentDate) }),
      ...(permits("dateOfBirth") && { dateOfBirth: child.person.dateOfBirth }),
      ...(permits("homeAddress") && { homeAddress: child.homeAddress }),
      ...(permits("presence") && { presence: child.presence }),
      ...(permits("presenceLocation") && child.presenceLocation !== undefined && { presenceLocation: child.presenceLocation }),
      ...(permits("voiceOfChild") && child.voiceOfChild !== undefined && { voiceOfChild: child.voiceOfChild })
    })
  return new Notification.NotificationPayload({
    type,
    reference,
    version: incident.version,
    ...("urn" in recipient ? { setting: { urn: recipient.urn, name: recipient.name } } : { localAuthority: recipient.localAuthority }),
    ...(permits("occurrenceNumber") && { occurrenceNumber: incident.occurrence }),
    ...(permits("incidentDateTime") && { incidentDateTime: localIso(incident.occurredAt, timeZone) }),
    ...(permits("incidentAddress") && { incidentAddress: incident.address }),
    ...(permits("circumstances") && incident.circumstances !== undefined && { circumstances: incident.circumstances }),
    children: Arr.map(children, notified)
  })
}
