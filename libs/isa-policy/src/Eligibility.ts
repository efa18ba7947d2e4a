/**
 * Whether one child may be notified to one candidate recipient. The rules run in a fixed order
 * and the first that fails decides; each verdict names its rule, the agreement clause and a
 * plain-English rationale that holds no personal data (it is copied into the audit log).
 */
import type { Child, Decision, Ids, Incident, Setting } from "@encompass/domain"
import { CalendarDate, Recipient } from "@encompass/domain"
import type { Array as Arr } from "effect"
import { DateTime, Option, Schema } from "effect"
import type { Agreement, FieldRule, RecipientKindRule } from "./Agreement.js"
import { localDate } from "./internal/LocalTime.js"
import * as Recipients from "./internal/Recipients.js"

/** The rules, in the order they are checked; the last four are the verdicts when all pass. */
export const RuleId = Schema.Literal(
  "agreement-in-force",
  "agreement-past-review",
  "category-in-scope",
  "incident-in-force-area",
  "child-resides-in-area",
  "child-present-or-witness",
  "child-age-band",
  "match-ambiguous",
  "recipient-kind-covered",
  "setting-unknown",
  "recipient-not-served",
  "recipient-unknown",
  "setting-cross-border",
  "setting-signed-up",
  "setting-contacts",
  "channel-permitted",
  "sensitive-case",
  "high-risk-phone-first",
  "sensitive-override",
  "share-missing-episode",
  "share-permitted-fields"
)
export type RuleId = typeof RuleId.Type

/** A council team the directory of authorities knows: the EHE team or the children's front door. */
export interface AuthorityContact {
  readonly kind: "ehe-team" | "council-front-door"
  readonly localAuthority: Ids.LocalAuthorityCode
  readonly name: string
  readonly signedUp: boolean
  readonly contacts: Arr.NonEmptyReadonlyArray<string>
  readonly channel: Ids.ChannelId
  /** The team's published OpenPGP key, pinned: notifications are encrypted to it, not a password. */
  readonly openPgpKey?: Ids.OpenPgpFingerprint | undefined
}

/**
 * A recorded override of a sensitive-case withhold (TVP ISA 3: "overriding public safety
 * requirement"). `recipient` is a `recipientKey`; without it the override covers every recipient.
 */
export interface OverrideRecord {
  /** The recorded override's id, which the decision's rationale cites. */
  readonly id?: string
  readonly child: Ids.PersonRef
  readonly recipient?: string
  readonly override: Decision.Override
}

export interface Lookups {
  /** The settings directory: a setting by URN, or none when the URN is unknown. */
  readonly lookupSetting: (urn: Ids.Urn) => Option.Option<Setting.Setting>
  /** Council teams by kind and council; without it no council recipient can be routed. */
  readonly lookupAuthority?: (kind: AuthorityContact["kind"], localAuthority: Ids.LocalAuthorityCode) => Option.Option<AuthorityContact>
  readonly overrides?: ReadonlyArray<OverrideRecord>
  /**
   * Council team kinds the region has chosen not to serve (its region file's `notServed`): a
   * candidate of such a kind is withheld, recorded like any decision, rather than left for review.
   */
  readonly notServed?: ReadonlyArray<AuthorityContact["kind"]>
}

interface Reasoned {
  readonly rule: RuleId
  readonly clause: string
  readonly rationale: string
}

/** Every rule passed: share `fields` with this recipient, and phone first when `phoneFirst`. */
export interface Share extends Reasoned {
  readonly _tag: "Share"
  readonly recipient: Recipient.Recipient
  readonly target: Setting.Setting | AuthorityContact
  readonly type: Decision.NotificationType
  readonly fields: FieldRule["permitted"]
  readonly phoneFirst: boolean
  readonly override: Decision.Override | undefined
}

/** A rule failed. `needs-review` when a person must look, else `withhold`. */
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

/** The incident's notification type under this agreement (domain.md requirement 15). */
export const notificationType = (incident: Incident.Incident): Decision.NotificationType =>
  incident.category === "missing-episode" ? "operation-encompass/missing-episode" : "operation-encompass/domestic-abuse"

/** The term rule's verdict on the incident's local date, when it stops the agreement applying. */
const termVerdict = (agreement: Agreement, on: CalendarDate.CalendarDate): Refuse | undefined => {
  const { term } = agreement
  if (term === undefined) return undefined
  if (on < term.commencement) {
    return refuse("withhold", "agreement-in-force", term.clause, `The incident predates the agreement's commencement; ${agreement.shortName} shares only from ${term.commencement}`)
  }
  const until = term.extendedUntil ?? term.review
  if (until !== undefined && on > until) {
    return refuse(
      "needs-review",
      "agreement-past-review",
      term.clause,
      `The agreement was due for review on ${until} and no later review is recorded; a person must confirm it still applies before anything is sent`
    )
  }
  return undefined
}

interface Target {
  readonly target: Setting.Setting | AuthorityContact
  readonly signedUp: boolean
  readonly channel: Ids.ChannelId
  readonly contacts: number
}

/** Finds who the recipient is, or the verdict when it cannot be routed. */
const resolve = (
  agreement: Agreement,
  recipient: Recipient.Recipient,
  kind: RecipientKindRule,
  lookups: Lookups
): Target | Refuse => {
  const who = agreement.shortName
  if (recipient._tag === "Setting") {
    const found = lookups.lookupSetting(recipient.urn)
    if (Option.isNone(found)) {
      return refuse("needs-review", "setting-unknown", kind.clause, "The child's setting is not in the settings directory; a person must confirm the school before anything is sent")
    }
    const setting = found.value
    const { area, crossBorder } = agreement
    // A setting in another council is notified only where the cross-border rule allows (Bedford ISA 8).
    if (area !== undefined && setting.localAuthority !== undefined && !area.home.includes(setting.localAuthority)) {
      const allowed = crossBorder?.settingsIn
      if (allowed !== "any" && !(allowed ?? []).includes(setting.localAuthority)) {
        return refuse("withhold", "setting-cross-border", crossBorder?.clause ?? area.clause, `The setting is in a council area outside the agreement's cross-border list; ${who} shares across borders only with neighbouring areas that run Encompass or RELAY`)
      }
    }
    return { target: setting, signedUp: setting.signedUp, channel: setting.channel, contacts: setting.contacts.length }
  }
  const authorityKind: AuthorityContact["kind"] = recipient._tag === "EheTeam" ? "ehe-team" : "council-front-door"
  const found = Option.flatMap(Option.fromNullable(recipient.localAuthority), (la) =>
    Option.fromNullable(lookups.lookupAuthority).pipe(Option.flatMap((lookup) => lookup(authorityKind, la)))
  )
  if (Option.isNone(found)) {
    return refuse("needs-review", "recipient-unknown", kind.clause, `${Recipients.label[authorityKind].replace(/^t/, "T")} for the child's council is not in the directory of authorities; a person must route it`)
  }
  return { target: found.value, signedUp: found.value.signedUp, channel: found.value.channel, contacts: 1 }
}

/** Decides for one child and one candidate recipient of an incident. */
export const check = (
  agreement: Agreement,
  incident: Incident.Incident,
  child: Child.Child,
  recipient: Recipient.Recipient,
  lookups: Lookups
): Verdict => {
  const who = agreement.shortName
  const { scope, children, area } = agreement
  const incidentDate = localDate(incident.occurredAt, agreement.timeZone)

  const term = termVerdict(agreement, incidentDate)
  if (term !== undefined) return term
  if (!scope.categories.includes(incident.category)) {
    return refuse(
      "withhold",
      "category-in-scope",
      scope.clause,
      `The incident is a ${incident.category} incident; ${who} shares ${orList(scope.categories)} incidents only`
    )
  }
  if (area !== undefined && incident.localAuthority !== undefined && !area.force.includes(incident.localAuthority)) {
    return refuse("withhold", "incident-in-force-area", area.clause, `The incident happened outside the force area; ${who} does not cover incidents in other force areas`)
  }
  if (area !== undefined && child.residenceLocalAuthority !== undefined && !area.force.includes(child.residenceLocalAuthority)) {
    return refuse("withhold", "child-resides-in-area", area.clause, `The child lives outside the force area; ${who} does not cover children accommodated outside it`)
  }
  const missingEpisode = incident.category === "missing-episode" ? agreement.missingEpisode : undefined
  // A missing child is the subject of the episode, so presence at an incident does not apply.
  if (missingEpisode === undefined && !children.presence.allowed.includes(child.presence)) {
    const allowed = orList(children.presence.allowed.map((p) => (p === "witness" ? "a witness" : p)))
    return refuse(
      "withhold",
      "child-present-or-witness",
      children.presence.clause,
      `Child was not ${allowed}; ${who} shares only when the child was ${allowed}`
    )
  }
  const { min, max } = children.ageBand
  const age = CalendarDate.ageOn(child.person.dateOfBirth, incidentDate)
  if (age < min || age > max) {
    return refuse(
      "withhold",
      "child-age-band",
      children.ageBand.clause,
      `Child was outside the ages ${min} to ${max} on the incident date; ${who} shares for ages ${min} to ${max} only`
    )
  }
  if (child.matchAmbiguous === true) {
    return refuse("needs-review", "match-ambiguous", "domain.md requirement 28", "The child or their setting could not be matched with certainty; a person must confirm before anything is sent")
  }
  const kind = Recipients.kindRule(agreement, recipient)
  if (Option.isNone(kind)) {
    return refuse(
      "withhold",
      "recipient-kind-covered",
      agreement.recipients.clause,
      `The agreement does not cover ${Recipients.label[Recipients.kindOf(recipient)]}; ${who} shares only with ${agreement.recipients.kinds.map((k) => Recipients.label[k.kind]).join(" and ")}`
    )
  }
  const team = kind.value.kind
  if (team !== "setting" && lookups.notServed?.includes(team) === true) {
    return refuse(
      "withhold",
      "recipient-not-served",
      kind.value.clause,
      `This region does not serve ${Recipients.label[team]} (its region file lists it as not served); nothing is sent to it`
    )
  }
  const resolved = resolve(agreement, recipient, kind.value, lookups)
  if ("_tag" in resolved) return resolved
  const label = Recipients.label[kind.value.kind]
  if (kind.value.signedUpRequired && !resolved.signedUp) {
    return refuse(
      "withhold",
      "setting-signed-up",
      kind.value.clause,
      `The recipient has not signed the agreement; ${who} shares only with ${label} that have signed up`
    )
  }
  const { contacts } = kind.value
  if (contacts !== undefined && "urn" in resolved.target) {
    const pupils = resolved.target.pupils ?? 0
    const allowed = pupils >= contacts.largeFrom ? contacts.maxLarge : contacts.max
    if (resolved.contacts > allowed) {
      return refuse("needs-review", "setting-contacts", contacts.clause, `The setting lists more contacts than the ${allowed} nominated SPOCs ${who} allows for its size; a person must correct the directory`)
    }
  }
  const { channels } = kind.value
  if (!channels.allowed.some((c) => c.channel === resolved.channel)) {
    return refuse(
      "needs-review",
      "channel-permitted",
      channels.clause,
      `The recipient's channel is not one the agreement permits; ${who} sends only by ${orList(channels.allowed.map((c) => `${c.channel} (${c.form})`))}`
    )
  }
  let released: OverrideRecord | undefined
  if (child.sensitive) {
    const key = Recipient.recipientKey(recipient)
    released = lookups.overrides?.find((o) => o.child === child.ref && (o.recipient === undefined || o.recipient === key))
    if (released === undefined) {
      return refuse(
        agreement.sensitive.outcome,
        "sensitive-case",
        agreement.sensitive.clause,
        `The case is marked sensitive; ${who} does not share sensitive cases unless an override is recorded`
      )
    }
  }
  const override = released?.override
  const fields = missingEpisode?.fields ?? agreement.fields
  const base = { _tag: "Share" as const, recipient, target: resolved.target, type: notificationType(incident), fields: fields.permitted, override }
  const repeat = incident.repeatOf === undefined ? "" : "; it repeats an earlier occurrence and is notified as its own"
  const releasedBy = released === undefined || override === undefined
    ? undefined
    : `The case is marked sensitive and was released by ${released.id === undefined ? "an override" : `override ${released.id}`} recorded by ${override.by} at ${DateTime.formatIso(override.at)}`
  if (agreement.highRisk !== undefined && child.riskGrading === "high") {
    // A released sensitive case that is also high risk still phones; the rationale cites the override and its clause.
    const cites = releasedBy === undefined ? "" : ` (${releasedBy}, ${agreement.sensitive.clause})`
    return { ...base, phoneFirst: true, rule: "high-risk-phone-first", clause: agreement.highRisk.clause, rationale: `The case is assessed as high risk; ${who} notifies and also phones the recipient now${repeat}${cites}` }
  }
  if (releasedBy !== undefined) {
    return {
      ...base,
      phoneFirst: false,
      rule: "sensitive-override",
      clause: agreement.sensitive.clause,
      rationale: `${releasedBy}; only the permitted fields are shared${repeat}`
    }
  }
  if (missingEpisode !== undefined) {
    return { ...base, phoneFirst: false, rule: "share-missing-episode", clause: missingEpisode.clause, rationale: `Every ${who} criterion for a missing episode is met; shared as a missing-episode notification under its own lawful basis and content profile${repeat}` }
  }
  return {
    ...base,
    phoneFirst: false,
    rule: "share-permitted-fields",
    clause: agreement.fields.clause,
    rationale: `Every ${who} criterion is met; only the fields the agreement permits are shared${repeat}`
  }
}

/** The Decision outcome a verdict records. */
export const outcomeOf = (verdict: Verdict): Decision.Outcome =>
  verdict._tag === "Refuse" ? verdict.outcome : verdict.phoneFirst ? "phone-first" : "share"
