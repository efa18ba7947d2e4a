/**
 * Whether one child may be notified to one candidate recipient. The rules run in a fixed order
 * and the first that fails decides; each verdict names its rule, the agreement clause and a
 * plain-English rationale that holds no personal data (it is copied into the audit log).
 */
import type { Child, Decision, Ids, Incident, Recipient, Setting } from "@encompass/domain"
import { CalendarDate } from "@encompass/domain"
import { Option, Schema } from "effect"
import type { Agreement } from "./Agreement.js"
import { localDate } from "./internal/LocalTime.js"
import * as Recipients from "./internal/Recipients.js"

/** The rules, in the order they are checked; `share-permitted-fields` is the verdict when all pass. */
export const RuleId = Schema.Literal(
  "category-in-scope",
  "child-present-or-witness",
  "child-age-band",
  "recipient-kind-covered",
  "setting-unknown",
  "setting-signed-up",
  "channel-permitted",
  "sensitive-case",
  "share-permitted-fields"
)
export type RuleId = typeof RuleId.Type

interface Reasoned {
  readonly rule: RuleId
  readonly clause: string
  readonly rationale: string
}

/** Every rule passed: share the agreement's permitted fields with this setting. */
export interface Share extends Reasoned {
  readonly _tag: "Share"
  readonly recipient: Recipient.SettingRecipient
  readonly setting: Setting.Setting
}

/** A rule failed. `needs-review` when a person must look (an unknown URN), else `withhold`. */
export interface Refuse extends Reasoned {
  readonly _tag: "Refuse"
  readonly outcome: Exclude<Decision.Outcome, "share" | "phone-first">
}

export type Verdict = Share | Refuse

const refuse = (outcome: Refuse["outcome"], rule: RuleId, clause: string, rationale: string): Refuse => ({
  _tag: "Refuse",
  outcome,
  rule,
  clause,
  rationale
})

const orList = (items: ReadonlyArray<string>): string => items.join(" or ")

/** Decides for one child and one candidate recipient of an incident. */
export const check = (
  agreement: Agreement,
  incident: Incident.Incident,
  child: Child.Child,
  recipient: Recipient.Recipient,
  lookupSetting: (urn: Ids.Urn) => Option.Option<Setting.Setting>
): Verdict => {
  const who = agreement.shortName
  const { scope, children } = agreement

  if (!scope.categories.includes(incident.category)) {
    return refuse(
      "withhold",
      "category-in-scope",
      scope.clause,
      `The incident is a ${incident.category} incident; ${who} shares ${orList(scope.categories)} incidents only`
    )
  }
  if (!children.presence.allowed.includes(child.presence)) {
    const allowed = orList(children.presence.allowed.map((p) => (p === "witness" ? "a witness" : p)))
    return refuse(
      "withhold",
      "child-present-or-witness",
      children.presence.clause,
      `Child was not ${allowed}; ${who} shares only when the child was ${allowed}`
    )
  }
  const { min, max } = children.ageBand
  const age = CalendarDate.ageOn(child.person.dateOfBirth, localDate(incident.occurredAt, agreement.timeZone))
  if (age < min || age > max) {
    return refuse(
      "withhold",
      "child-age-band",
      children.ageBand.clause,
      `Child was outside the ages ${min} to ${max} on the incident date; ${who} shares for ages ${min} to ${max} only`
    )
  }
  const kind = Recipients.kindRule(agreement, recipient)
  // No agreement can cover the EHE team yet (Agreement.RecipientKind), so a covered kind is a setting.
  if (Option.isNone(kind) || recipient._tag !== "Setting") {
    return refuse(
      "withhold",
      "recipient-kind-covered",
      agreement.recipients.clause,
      `The agreement does not cover ${Recipients.label[Recipients.kindOf(recipient)]}; ${who} shares only with ${agreement.recipients.kinds.map((k) => Recipients.label[k.kind]).join(" and ")}`
    )
  }
  const found = lookupSetting(recipient.urn)
  if (Option.isNone(found)) {
    return refuse(
      "needs-review",
      "setting-unknown",
      kind.value.clause,
      "The child's setting is not in the settings directory; a person must confirm the school before anything is sent"
    )
  }
  const setting = found.value
  if (kind.value.signedUpRequired && !setting.signedUp) {
    return refuse(
      "withhold",
      "setting-signed-up",
      kind.value.clause,
      `The setting has not signed the agreement; ${who} shares only with ${Recipients.label[kind.value.kind]} that have signed up`
    )
  }
  const { channels } = kind.value
  if (!channels.allowed.some((c) => c.channel === setting.channel)) {
    return refuse(
      "needs-review",
      "channel-permitted",
      channels.clause,
      `The setting's channel is not one the agreement permits; ${who} sends only by ${orList(channels.allowed.map((c) => `${c.channel} (${c.form})`))}`
    )
  }
  if (child.sensitive) {
    return refuse(
      agreement.sensitive.outcome,
      "sensitive-case",
      agreement.sensitive.clause,
      `The case is marked sensitive; ${who} does not share sensitive cases unless an override is recorded`
    )
  }
  return {
    _tag: "Share",
    rule: "share-permitted-fields",
    clause: agreement.fields.clause,
    rationale: `Every ${who} criterion is met; only the fields the agreement permits are shared`,
    recipient,
    setting
  }
}
