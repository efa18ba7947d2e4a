/**
 * The policy engine: a pure function of an incident, the agreement(s), the directories and a
 * reference generator (DESIGN.md §5). It returns one Decision per child and candidate recipient,
 * withheld ones recorded exactly like shared ones (TVP ISA 4.3), and one Notification per
 * recipient and notification type, holding only the children shared with that recipient.
 * Notifications are for dispatch at once; the deadline is for monitoring only.
 */
import type { Child, Incident } from "@encompass/domain"
import { Decision, Ids, Notification, Recipient } from "@encompass/domain"
import type { DateTime } from "effect"
import { Array as Arr, Option } from "effect"
import type { Agreement, RecipientKindRule } from "./Agreement.js"
import * as Deadline from "./Deadline.js"
import * as Eligibility from "./Eligibility.js"
import { localDate } from "./internal/LocalTime.js"
import { minimise } from "./Minimise.js"
import type { SchoolCalendar } from "./SchoolCalendar.js"

export interface Options extends Eligibility.Lookups {
  /** The gateway's opaque reference for a notification, derived from its idempotency key. */
  readonly reference: (key: Ids.IdempotencyKey) => Ids.GatewayRef
  /** The school calendar, for agreements whose deadlines follow term dates. */
  readonly calendar?: SchoolCalendar
}

export interface Evaluation {
  /** The agreement that decided (of several, the one in force that covers the incident's category). */
  readonly agreement: Agreement
  readonly decisions: ReadonlyArray<Decision.Decision>
  readonly notifications: ReadonlyArray<Notification.DataNotification>
}

/**
 * The notification's stable key: (force, occurrence, recipient, version). The same incident
 * version to the same recipient always gives the same key, so re-ingesting never sends twice; a
 * correction (TVP ISA 4.1) is a new version. The source id stands for the force.
 */
export const idempotencyKey = (incident: Incident.Incident, recipient: Recipient.Recipient): Ids.IdempotencyKey =>
  Ids.IdempotencyKey.make(
    `${incident.source}:${incident.occurrence}:${Recipient.recipientKey(recipient)}:v${incident.version}`
  )

const kindRule = (agreement: Agreement, kind: RecipientKindRule["kind"]): RecipientKindRule | undefined =>
  agreement.recipients.kinds.find((k) => k.kind === kind)

/**
 * The child's candidate recipients: each place of education once (a repeated URN is one
 * recipient); elective home education is the EHE team of the child's council (else the
 * agreement's); and the council front door when the agreement copies decisions to one.
 */
const candidates = (agreement: Agreement, child: Child.Child): ReadonlyArray<Recipient.Recipient> => {
  const eheCouncil = child.residenceLocalAuthority ?? kindRule(agreement, "ehe-team")?.localAuthority
  const frontDoor = kindRule(agreement, "council-front-door")?.localAuthority
  return Arr.dedupeWith(
    [
      ...child.education.map((education) =>
        education._tag === "Setting"
          ? new Recipient.SettingRecipient({ urn: education.urn })
          : new Recipient.EheTeamRecipient(kindRule(agreement, "ehe-team") !== undefined && eheCouncil !== undefined ? { localAuthority: eheCouncil } : {})
      ),
      ...(frontDoor === undefined ? [] : [new Recipient.CouncilFrontDoorRecipient({ localAuthority: frontDoor })])
    ],
    (a, b) => Recipient.recipientKey(a) === Recipient.recipientKey(b)
  )
}

const inForceOn = (agreement: Agreement, incident: Incident.Incident): boolean => {
  const date = localDate(incident.occurredAt, agreement.timeZone)
  const { term } = agreement
  const until = term?.extendedUntil ?? term?.review
  return term === undefined || (term.commencement <= date && (until === undefined || date <= until))
}

/** Of several agreements: the first in force that covers the category, else the first that covers it, else the first. */
export const choose = (agreements: Arr.NonEmptyReadonlyArray<Agreement>, incident: Incident.Incident): Agreement => {
  const covers = (a: Agreement) => a.scope.categories.includes(incident.category)
  return agreements.find((a) => covers(a) && inForceOn(a, incident)) ?? agreements.find(covers) ?? agreements[0]
}

interface Group {
  readonly verdict: Eligibility.Share
  readonly children: Arr.NonEmptyArray<Child.Child>
  phoneFirst: boolean
}

const isList = (a: Agreement | Arr.NonEmptyReadonlyArray<Agreement>): a is Arr.NonEmptyReadonlyArray<Agreement> => Array.isArray(a)

export const evaluate = (
  incident: Incident.Incident,
  agreementOrAgreements: Agreement | Arr.NonEmptyReadonlyArray<Agreement>,
  options: Options
): Evaluation => {
  const agreement: Agreement = isList(agreementOrAgreements) ? choose(agreementOrAgreements, incident) : agreementOrAgreements
  const deadline: DateTime.Utc = Deadline.due(incident.occurredAt, agreement, options.calendar)
  const decisions: Array<Decision.Decision> = []
  // Fan-out: one group per recipient, in first-seen order, holding only the children shared with it.
  const groups = new Map<string, Group>()
  // A child listed twice in one record (the same ref) is one child: one decision per recipient.
  const children = Arr.dedupeWith(incident.children, (a, b) => a.ref === b.ref)

  for (const child of children) {
    for (const recipient of candidates(agreement, child)) {
      const verdict = Eligibility.check(agreement, incident, child, recipient, options)
      const shared = verdict._tag === "Share"
      decisions.push(
        new Decision.Decision({
          occurrence: incident.occurrence,
          version: incident.version,
          child: child.ref,
          recipient,
          outcome: Eligibility.outcomeOf(verdict),
          agreement: agreement.id,
          agreementVersion: agreement.version,
          notificationType: Eligibility.notificationType(incident),
          rule: verdict.rule,
          clause: verdict.clause,
          rationale: verdict.rationale,
          fields: shared ? verdict.fields : [],
          deadline,
          ...(shared && verdict.override !== undefined && { override: verdict.override })
        })
      )
      if (shared) {
        const key = Recipient.recipientKey(verdict.recipient)
        const group = groups.get(key)
        if (group === undefined) groups.set(key, { verdict, children: [child], phoneFirst: verdict.phoneFirst })
        else {
          group.children.push(child)
          group.phoneFirst ||= verdict.phoneFirst
        }
      }
    }
  }

  const notifications = Array.from(groups.values(), ({ children, phoneFirst, verdict }): Notification.DataNotification => {
    const key = idempotencyKey(incident, verdict.recipient)
    const reference = options.reference(key)
    const { target } = verdict
    // Built with a data payload, so it is a DataNotification; the class types `payload` as the union.
    return new Notification.Notification({
      key,
      reference,
      occurrence: incident.occurrence,
      version: incident.version,
      recipient: verdict.recipient,
      // The key the directory pins travels with the route, so the channel can never fall back to a password.
      route: new Recipient.Route({
        channel: target.channel,
        addresses: target.contacts,
        ...(target.openPgpKey !== undefined && { openPgpKey: target.openPgpKey })
      }),
      agreement: agreement.id,
      children: Arr.map(children, (child) => child.ref),
      deadline,
      ...(phoneFirst && { phoneFirst }),
      payload: minimise(incident, children, verdict.fields, target, reference, agreement.timeZone, verdict.type)
    }) as Notification.DataNotification
  })

  return { agreement, decisions, notifications }
}

/** The decisions for one child, e.g. for `policy explain`. */
export const forChild = (evaluation: Evaluation, child: Ids.PersonRef): ReadonlyArray<Decision.Decision> =>
  evaluation.decisions.filter((d) => d.child === child)

/** The notification a share decision went into, if any. */
export const notificationOf = (evaluation: Evaluation, decision: Decision.Decision): Option.Option<Notification.DataNotification> =>
  Option.fromNullable(
    evaluation.notifications.find(
      (n) => Recipient.recipientKey(n.recipient) === Recipient.recipientKey(decision.recipient) && n.children.includes(decision.child)
    )
  )
