/**
 * An Information Sharing Agreement as data (DESIGN.md §5). Each rule carries the clause it
 * implements; the engine copies that text onto every Decision the rule makes (TVP ISA 4.3: a
 * record of the rationale for sharing or declining). Files are YAML; the caller reads the file
 * and passes its text to `parse`, so this package stays free of I/O.
 */
import { Child, Decision, Ids, Incident } from "@encompass/domain"
import { Either, ParseResult, Schema } from "effect"
import { AgreementError, AgreementIssue } from "./AgreementError.js"
import * as Yaml from "./internal/Yaml.js"

const Clause = Schema.NonEmptyTrimmedString.annotations({
  title: "Clause",
  description: "The agreement clause a rule implements, recorded on each Decision it makes",
  examples: ["TVP ISA 3"]
})

const distinct = <A>(items: ReadonlyArray<A>): boolean => new Set(items).size === items.length

/** A party to the agreement and who signs for it. */
export class Party extends Schema.Class<Party>("Party")({
  name: Schema.NonEmptyTrimmedString,
  role: Schema.Literal("discloser", "recipient"),
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

/** Kinds of recipient an agreement can cover. The EHE team joins with the first agreement that covers it. */
export const RecipientKind = Schema.Literal("setting")
export type RecipientKind = typeof RecipientKind.Type

/** A channel a recipient may be reached by, and the protected form the information travels in. */
export class ChannelForm extends Schema.Class<ChannelForm>("ChannelForm")({
  channel: Ids.ChannelId,
  form: Schema.Literal("password-protected-attachment")
}) {}

export class ChannelRule extends Schema.Class<ChannelRule>("ChannelRule")({
  allowed: Schema.NonEmptyArray(ChannelForm),
  clause: Clause
}) {}

/** One kind of recipient the agreement covers, whether it must have signed up, and its channels. */
export class RecipientKindRule extends Schema.Class<RecipientKindRule>("RecipientKindRule")({
  kind: RecipientKind,
  signedUpRequired: Schema.Boolean,
  channels: ChannelRule,
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

/** The fields a notification may carry; nothing else ever leaves the gateway. */
export class FieldRule extends Schema.Class<FieldRule>("FieldRule")({
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

/** When a recipient must have the notification: `time` local on the next school day. */
export class DeadlineRule extends Schema.Class<DeadlineRule>("DeadlineRule")({
  time: Schema.String.pipe(
    Schema.pattern(/^([01]\d|2[0-3]):[0-5]\d$/, { message: () => "expected a 24-hour time as HH:MM" })
  ),
  schoolDays: Schema.Literal("weekdays"),
  clause: Clause
}) {}

export class Agreement extends Schema.Class<Agreement>("Agreement")({
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
  deadline: DeadlineRule
}) {}

const decode = Schema.decodeUnknownEither(Agreement, { errors: "all", onExcessProperty: "error" })

/**
 * Reads an agreement file's text. Every problem is reported with its key path and line, so the
 * person editing the file can find it; unknown keys are errors, not silently ignored.
 */
export const parse = (yamlText: string): Either.Either<Agreement, AgreementError> => {
  const source = Yaml.read(yamlText)
  if (source.problems.length > 0) {
    return Either.left(new AgreementError({ reason: "Syntax", issues: source.problems.map((p) => new AgreementIssue(p)) }))
  }
  return Either.mapLeft(
    decode(source.value),
    (error) =>
      new AgreementError({
        reason: "Schema",
        issues: ParseResult.ArrayFormatter.formatErrorSync(error).map(
          (issue) =>
            new AgreementIssue({ path: Yaml.formatPath(issue.path), ...Yaml.locate(source, issue.path), message: issue.message })
        )
      })
  )
}
