/**
 * An Information Sharing Agreement as data (DESIGN.md §5). Each rule carries the clause it
 * implements; the engine copies that text onto every Decision the rule makes (TVP ISA 4.3: a
 * record of the rationale for sharing or declining). Files are YAML; the caller reads the file
 * and passes its text to `parse`, so this package stays free of I/O.
 */
import { CalendarDate, Child, Decision, Ids, Incident, YamlSource as Yaml } from "@encompass/domain"
import { Either, ParseResult, Schema } from "effect"
import { AgreementError, AgreementIssue } from "./AgreementError.js"

const Clause = Schema.NonEmptyTrimmedString.annotations({
  title: "Clause",
  description: "The agreement clause a rule implements, recorded on each Decision it makes",
  examples: ["TVP ISA 3"]
})

const distinct = <A>(items: ReadonlyArray<A>): boolean => new Set(items).size === items.length

/** A party to the agreement and who signs for it. */
export class Party extends Schema.Class<Party>("Party")({
  name: Schema.NonEmptyTrimmedString,
  /** Bedford's Council both discloses (children's services records, Bedford ISA 7) and receives (EHE team, front door). */
  role: Schema.Literal("discloser", "recipient", "discloser-and-recipient"),
  signatory: Schema.NonEmptyTrimmedString,
  clause: Clause
}) {}

/** The incident categories the agreement covers. */
export class ScopeRule extends Schema.Class<ScopeRule>("ScopeRule")({
  categories: Schema.NonEmptyArray(Incident.IncidentCategory),
  clause: Clause
}) {}

/** Which children may be notified about, by their presence at the incident. */
export class PresenceRule extends Schema.Class<PresenceRule>("PresenceRule")({
  allowed: Schema.NonEmptyArray(Child.Presence),
  clause: Clause
}) {}

/** The ages, in whole years on the incident's local date, a notification may be about. */
export class AgeBandRule extends Schema.Class<AgeBandRule>("AgeBandRule")(
  Schema.Struct({
    min: Schema.Int.pipe(Schema.nonNegative()),
    max: Schema.Int.pipe(Schema.nonNegative()),
    clause: Clause
  }).pipe(Schema.filter((band) => band.min <= band.max, { message: () => "min must not be above max" }))
) {}

export class ChildCriteria extends Schema.Class<ChildCriteria>("ChildCriteria")({
  presence: PresenceRule,
  ageBand: AgeBandRule
}) {}

/** Kinds of recipient an agreement can cover: settings, the council's EHE team and its children's front door. */
export const RecipientKind = Schema.Literal("setting", "ehe-team", "council-front-door")
export type RecipientKind = typeof RecipientKind.Type

/** A channel a recipient may be reached by, and the protected form the information travels in. */
export class ChannelForm extends Schema.Class<ChannelForm>("ChannelForm")({
  channel: Ids.ChannelId,
  /**
   * `encrypted-file`: an OpenPGP-encrypted file put on the recipient's server (SFTP).
   * `plain-email` exists only so a file that asks for it can be refused by name: the statutory
   * baseline permits encrypted forms only (domain.md requirement 16).
   */
  form: Schema.Literal("password-protected-attachment", "encrypted-email", "encrypted-file", "plain-email")
}) {}

export class ChannelRule extends Schema.Class<ChannelRule>("ChannelRule")({
  allowed: Schema.NonEmptyArray(ChannelForm),
  clause: Clause
}) {}

/** How many named contacts (SPOCs) a setting may have; larger settings may have more (Bedford ISA 14). */
export class ContactsRule extends Schema.Class<ContactsRule>("ContactsRule")({
  max: Schema.Int.pipe(Schema.positive()),
  largeFrom: Schema.Int.pipe(Schema.positive()),
  maxLarge: Schema.Int.pipe(Schema.positive()),
  clause: Clause
}) {}

/**
 * One kind of recipient the agreement covers, whether it must have signed up, and its channels.
 * `localAuthority` names the council: for `council-front-door`, the front door every child's
 * decision is copied to (none without it); for `ehe-team`, the council used when the child's own
 * council is not known.
 */
export class RecipientKindRule extends Schema.Class<RecipientKindRule>("RecipientKindRule")({
  kind: RecipientKind,
  signedUpRequired: Schema.Boolean,
  channels: ChannelRule,
  contacts: Schema.optional(ContactsRule),
  localAuthority: Schema.optional(Ids.LocalAuthorityCode),
  clause: Clause
}) {}

/** Who the agreement covers; `clause` is cited when a candidate recipient is of a kind it does not cover. */
export class RecipientRule extends Schema.Class<RecipientRule>("RecipientRule")(
  Schema.Struct({
    kinds: Schema.NonEmptyArray(RecipientKindRule),
    clause: Clause
  }).pipe(
    Schema.filter((rule) => distinct(rule.kinds.map((k) => k.kind)), { message: () => "each recipient kind may appear once" })
  )
) {}

/**
 * The content profile: the fields a notification may carry; nothing else ever leaves the gateway.
 * `profile` names it for people (e.g. `national`, `minimal`).
 */
export class FieldRule extends Schema.Class<FieldRule>("FieldRule")({
  profile: Schema.optional(Schema.NonEmptyTrimmedString),
  permitted: Schema.NonEmptyArray(Decision.FieldName).pipe(
    Schema.filter(distinct, { message: () => "each field may appear once" })
  ),
  clause: Clause
}) {}

/** What happens to a case the source marks sensitive. */
export class SensitiveRule extends Schema.Class<SensitiveRule>("SensitiveRule")({
  outcome: Schema.Literal("withhold", "needs-review"),
  clause: Clause
}) {}

/**
 * When a recipient must have the notification: `time` local on the next school day. School days
 * are `weekdays`, or the `school-calendar` region `calendarRegion` (term dates, INSET days, bank
 * holidays) the caller passes in.
 */
export class DeadlineRule extends Schema.Class<DeadlineRule>("DeadlineRule")(
  Schema.Struct({
    time: Schema.String.pipe(
      Schema.pattern(/^([01]\d|2[0-3]):[0-5]\d$/, { message: () => "expected a 24-hour time as HH:MM" })
    ),
    schoolDays: Schema.Literal("weekdays", "school-calendar"),
    calendarRegion: Schema.optional(Schema.NonEmptyTrimmedString),
    clause: Clause
  }).pipe(
    Schema.filter((rule) => rule.schoolDays === "weekdays" || rule.calendarRegion !== undefined, {
      message: () => "schoolDays: school-calendar needs a calendarRegion"
    })
  )
) {}

/**
 * When the agreement applies: from `commencement`, until `review` or a recorded extension
 * (`extendedUntil`, with `extensionRecord` saying who agreed it). Past that, every decision is
 * needs-review: an agreement past its review is never silently relied on (Bedford ISA 12).
 */
export class TermRule extends Schema.Class<TermRule>("TermRule")({
  commencement: CalendarDate.CalendarDate,
  /** Absent for the statute, which has no review date. */
  review: Schema.optional(CalendarDate.CalendarDate),
  extendedUntil: Schema.optional(CalendarDate.CalendarDate),
  extensionRecord: Schema.optional(Schema.NonEmptyTrimmedString),
  clause: Clause
}) {}

/**
 * The area the agreement serves. `force` lists every council in the police force area (a child
 * living, or an incident happening, outside it is out of scope); `home` the councils whose
 * settings are notified without a cross-border rule (Bedford ISA 8; s.49A(2) "resides in the
 * police area").
 */
export class AreaRule extends Schema.Class<AreaRule>("AreaRule")({
  force: Schema.NonEmptyArray(Ids.LocalAuthorityCode),
  home: Schema.NonEmptyArray(Ids.LocalAuthorityCode),
  clause: Clause
}) {}

/**
 * Settings outside the home councils that may be notified: `any` (the statute: any school in
 * England or Wales) or a list, e.g. the neighbours running Encompass or RELAY (Bedford ISA 8).
 */
export class CrossBorderRule extends Schema.Class<CrossBorderRule>("CrossBorderRule")({
  settingsIn: Schema.Union(Schema.Literal("any"), Schema.Array(Ids.LocalAuthorityCode)),
  clause: Clause
}) {}

/** A high-risk case: notify, and also phone the recipient now (Bedford ISA 10). */
export class HighRiskRule extends Schema.Class<HighRiskRule>("HighRiskRule")({
  outcome: Schema.Literal("phone-first"),
  clause: Clause
}) {}

/**
 * Missing episodes are not under s.49A (domain.md §1.6): an agreement adds them only as their own
 * notification type, with its own lawful basis and content profile (domain.md requirement 15).
 */
export class MissingEpisodeRule extends Schema.Class<MissingEpisodeRule>("MissingEpisodeRule")({
  lawfulBasis: Schema.NonEmptyTrimmedString,
  fields: FieldRule,
  clause: Clause
}) {}

const Days = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)).annotations({ description: "A period in days" })

/**
 * How long the gateway keeps each kind of record, in days from when it was stored (TVP ISA 4.4
 * "not longer than is necessary"; Bedford ISA 9, 11 "destroyed when it is no longer required").
 * The agreements set no figures: the shipped ones are a force's choice to review with its DPO,
 * which `basis` must say. `occurrence` covers the incident and every notification payload of it:
 * they are sealed under the same subject keys, which are deleted together (crypto-shredding) once
 * nothing of the occurrence is waiting to be delivered.
 */
export class RetentionRule extends Schema.Class<RetentionRule>("RetentionRule")({
  rawFeed: Days,
  quarantine: Days,
  occurrence: Days,
  deliveryReceipts: Days,
  /** The audit events (ids and decisions, no personal data), cut from the chain at a signed anchor. */
  auditSkeleton: Days,
  basis: Schema.Literal("force-choice"),
  clause: Clause
}) {}

const AgreementFields = Schema.Struct({
  id: Ids.AgreementId,
  title: Schema.NonEmptyTrimmedString,
  /** How rationales name the discloser, e.g. `TVP`. */
  shortName: Schema.NonEmptyTrimmedString,
  version: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
  /** The signed text the clause references point into. */
  document: Schema.NonEmptyTrimmedString,
  timeZone: Schema.TimeZoneNamed,
  parties: Schema.NonEmptyArray(Party),
  scope: ScopeRule,
  children: ChildCriteria,
  recipients: RecipientRule,
  fields: FieldRule,
  sensitive: SensitiveRule,
  deadline: DeadlineRule,
  /** The lawful basis recorded with each share, e.g. `Domestic Abuse Act 2021 s.49A`. */
  lawfulBasis: Schema.optional(Schema.NonEmptyTrimmedString),
  term: Schema.optional(TermRule),
  area: Schema.optional(AreaRule),
  crossBorder: Schema.optional(CrossBorderRule),
  highRisk: Schema.optional(HighRiskRule),
  missingEpisode: Schema.optional(MissingEpisodeRule),
  retention: Schema.optional(RetentionRule)
})

export class Agreement extends Schema.Class<Agreement>("Agreement")(
  AgreementFields.pipe(
    Schema.filter((a) =>
      a.scope.categories.includes("missing-episode") && a.missingEpisode === undefined
        ? { path: ["missingEpisode"], message: "scope includes missing-episode, so missingEpisode (lawful basis and content profile) is required" }
        : undefined
    )
  )
) {}

const decode = Schema.decodeUnknownEither(Agreement, { errors: "all", onExcessProperty: "error" })

/**
 * Reads an agreement file's text. Every problem is reported with its key path and line, so the
 * person editing the file can find it; unknown keys are errors, not silently ignored.
 */
export const parse = (yamlText: string): Either.Either<Agreement, AgreementError> => {
  const source = Yaml.read(yamlText)
  if (source.problems.length > 0) {
    return Either.left(new AgreementError({ method: "parse", reason: "Syntax", issues: source.problems.map((p) => new AgreementIssue(p)) }))
  }
  return Either.mapLeft(
    decode(source.value),
    (error) =>
      new AgreementError({
        method: "parse",
        reason: "Schema",
        issues: Yaml.issuesOf(source, ParseResult.ArrayFormatter.formatErrorSync(error)).map((p) => new AgreementIssue(p))
      })
  )
}
