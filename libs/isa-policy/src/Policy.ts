/**
 * The policy engine: a pure function of an incident, an agreement, the settings directory and a
 * reference generator (DESIGN.md §5). It returns one Decision per child and candidate recipient,
 * withheld ones recorded exactly like shared ones (TVP ISA 4.3), and one Notification per
 * recipient setting holding only the children shared with that setting.
 */
import type { Child, Incident, Setting } from "@encompass/domain"
import { Decision, Ids, Notification, Recipient } from "@encompass/domain"
import type { Option } from "effect"
import { Array as Arr } from "effect"
import type { Agreement } from "./Agreement.js"
import * as Deadline from "./Deadline.js"
import * as Eligibility from "./Eligibility.js"
import { minimise } from "./Minimise.js"

export interface Options {
  /** The settings directory: a setting by URN, or none when the URN is unknown. */
  readonly lookupSetting: (urn: Ids.Urn) => Option.Option<Setting.Setting>
  /** The gateway's opaque reference for a notification, derived from its idempotency key. */
  readonly reference: (key: Ids.IdempotencyKey) => Ids.GatewayRef
}

export interface Evaluation {
  readonly decisions: ReadonlyArray<Decision.Decision>
  readonly notifications: ReadonlyArray<Notification.Notification>
}

/**
 * The notification's stable key: the same incident version to the same recipient always gives
 * the same key, so re-ingesting never sends twice; a correction (TVP ISA 4.1) is a new version.
 * The source id stands for the force until a region names its forces.
 */
export const idempotencyKey = (incident: Incident.Incident, recipient: Recipient.Recipient): Ids.IdempotencyKey =>
  Ids.IdempotencyKey.make(
    `${incident.source}:${incident.occurrence}:${Recipient.recipientKey(recipient)}:v${incident.version}`
  )

/** The child's candidate recipients: each place of education once (a repeated URN is one recipient). */
const candidates = (child: Child.Child): ReadonlyArray<Recipient.Recipient> =>
  Arr.dedupeWith(
    child.education.map((education) =>
      education._tag === "Setting"
        ? new Recipient.SettingRecipient({ urn: education.urn })
        : new Recipient.EheTeamRecipient()
    ),
    (a, b) => Recipient.recipientKey(a) === Recipient.recipientKey(b)
  )

interface Group {
  readonly recipient: Recipient.SettingRecipient
  readonly setting: Setting.Setting
  readonly children: Arr.NonEmptyArray<Child.Child>
}

export const evaluate = (incident: Incident.Incident, agreement: Agreement, options: Options): Evaluation => {
  const deadline = Deadline.due(incident.occurredAt, agreement)
  const decisions: Array<Decision.Decision> = []
  // Fan-out: one group per setting, in first-seen order, holding only the children shared with it.
  const groups = new Map<string, Group>()

  for (const child of incident.children) {
    for (const recipient of candidates(child)) {
      const verdict = Eligibility.check(agreement, incident, child, recipient, options.lookupSetting)
      decisions.push(
        new Decision.Decision({
          occurrence: incident.occurrence,
          version: incident.version,
          child: child.ref,
          recipient,
          outcome: verdict._tag === "Share" ? "share" : verdict.outcome,
          agreement: agreement.id,
          rule: verdict.rule,
          clause: verdict.clause,
          rationale: verdict.rationale,
          fields: verdict._tag === "Share" ? agreement.fields.permitted : [],
          deadline
        })
      )
      if (verdict._tag === "Share") {
        const key = Recipient.recipientKey(verdict.recipient)
        const group = groups.get(key)
        if (group === undefined) groups.set(key, { recipient: verdict.recipient, setting: verdict.setting, children: [child] })
        else group.children.push(child)
      }
    }
  }

  const notifications = Array.from(groups.values(), ({ recipient, setting, children }) => {
    const key = idempotencyKey(incident, recipient)
    const reference = options.reference(key)
    return new Notification.Notification({
      key,
      reference,
      occurrence: incident.occurrence,
      version: incident.version,
      recipient,
      route: new Recipient.Route({ channel: setting.channel, addresses: setting.contacts }),
      agreement: agreement.id,
      children: Arr.map(children, (child) => child.ref),
      deadline,
      payload: minimise(incident, children, agreement.fields.permitted, setting, reference, agreement.timeZone)
    })
  })

  return { decisions, notifications }
}
