/**
 * Tighten, never loosen (DESIGN.md §5). An agreement is compared with the statutory baseline:
 * anything that would share more, with more parties, less securely or later than the baseline
 * allows is an error naming the rule; covering fewer children or recipients than the statutory
 * duty (TVP's present-or-witness rule) is allowed but reported as a warning, because the force
 * must then meet the rest of the duty some other way.
 */
import type { CalendarDate } from "@encompass/domain"
import { YamlSource as Yaml } from "@encompass/domain"
import { Either, Option } from "effect"
import * as Agreement from "./Agreement.js"
import { AgreementError, AgreementIssue } from "./AgreementError.js"

/** Rules whose breach refuses the agreement. */
export type LooseningRule =
  | "no-wider-ages"
  | "no-other-categories"
  | "no-other-recipient-kinds"
  | "no-other-fields"
  | "encrypted-channels-only"
  | "no-later-deadline"
  | "no-wider-cross-border"

/**
 * Rules whose breach is a warning: the agreement covers less than the statutory duty, is past its
 * review, or counts its deadline on plain weekdays rather than the next school day.
 */
export type NarrowingRule =
  | "covers-fewer-presences"
  | "covers-fewer-ages"
  | "covers-fewer-recipient-kinds"
  | "requires-sign-up"
  | "covers-fewer-settings-across-borders"
  | "past-review"
  | "counts-weekdays-only"

export interface Finding<Rule extends string> {
  readonly rule: Rule
  readonly path: Yaml.Path
  readonly message: string
}

export interface Comparison {
  readonly loosens: ReadonlyArray<Finding<LooseningRule>>
  readonly narrower: ReadonlyArray<Finding<NarrowingRule>>
}

/** Compares an agreement with the baseline. The baseline compared with itself finds nothing. */
export const compare = (agreement: Agreement.Agreement, baseline: Agreement.Agreement): Comparison => {
  const loosens: Array<Finding<LooseningRule>> = []
  const narrower: Array<Finding<NarrowingRule>> = []
  const base = baseline.shortName

  const { min, max } = agreement.children.ageBand
  if (min < baseline.children.ageBand.min) {
    loosens.push({ rule: "no-wider-ages", path: ["children", "ageBand", "min"], message: `ages below ${baseline.children.ageBand.min} are outside ${base}` })
  } else if (min > baseline.children.ageBand.min) {
    narrower.push({ rule: "covers-fewer-ages", path: ["children", "ageBand", "min"], message: `children aged ${baseline.children.ageBand.min} to ${min - 1} are under ${base} but not notified` })
  }
  if (max > baseline.children.ageBand.max) {
    loosens.push({ rule: "no-wider-ages", path: ["children", "ageBand", "max"], message: `ages above ${baseline.children.ageBand.max} are outside ${base}` })
  } else if (max < baseline.children.ageBand.max) {
    narrower.push({ rule: "covers-fewer-ages", path: ["children", "ageBand", "max"], message: `children aged ${max + 1} to ${baseline.children.ageBand.max} are under ${base} but not notified` })
  }

  agreement.scope.categories.forEach((category, i) => {
    // Missing episodes are their own type with their own basis (the schema requires `missingEpisode`).
    if (category !== "missing-episode" && !baseline.scope.categories.includes(category)) {
      loosens.push({ rule: "no-other-categories", path: ["scope", "categories", i], message: `${category} incidents are outside ${base}` })
    }
  })

  for (const presence of baseline.children.presence.allowed) {
    if (!agreement.children.presence.allowed.includes(presence)) {
      narrower.push({ rule: "covers-fewer-presences", path: ["children", "presence", "allowed"], message: `children ${presence} are under ${base} but not notified` })
    }
  }

  const baseForms = new Set(baseline.recipients.kinds.flatMap((k) => k.channels.allowed.map((c) => c.form)))
  agreement.recipients.kinds.forEach((rule, i) => {
    const baseRule = baseline.recipients.kinds.find((k) => k.kind === rule.kind)
    if (baseRule === undefined) {
      loosens.push({ rule: "no-other-recipient-kinds", path: ["recipients", "kinds", i, "kind"], message: `${rule.kind} is not a recipient under ${base}` })
      return
    }
    if (rule.signedUpRequired && !baseRule.signedUpRequired) {
      narrower.push({ rule: "requires-sign-up", path: ["recipients", "kinds", i, "signedUpRequired"], message: `${rule.kind} recipients that have not signed up are under ${base} but not notified` })
    }
    rule.channels.allowed.forEach((channel, j) => {
      if (!baseForms.has(channel.form)) {
        loosens.push({ rule: "encrypted-channels-only", path: ["recipients", "kinds", i, "channels", "allowed", j, "form"], message: `${channel.form} is not an encrypted form ${base} allows` })
      }
    })
  })
  for (const baseRule of baseline.recipients.kinds) {
    if (!agreement.recipients.kinds.some((k) => k.kind === baseRule.kind)) {
      narrower.push({ rule: "covers-fewer-recipient-kinds", path: ["recipients", "kinds"], message: `${baseRule.kind} is a recipient under ${base} but not covered` })
    }
  }

  agreement.fields.permitted.forEach((field, i) => {
    if (!baseline.fields.permitted.includes(field)) {
      loosens.push({ rule: "no-other-fields", path: ["fields", "permitted", i], message: `${field} is outside the ${base} content profile` })
    }
  })

  if (agreement.deadline.time > baseline.deadline.time) {
    loosens.push({ rule: "no-later-deadline", path: ["deadline", "time"], message: `${agreement.deadline.time} is later than ${base}'s ${baseline.deadline.time}` })
  }

  const baseBorder = baseline.crossBorder?.settingsIn
  const border = agreement.crossBorder?.settingsIn
  if (baseBorder !== undefined && baseBorder !== "any" && (border === "any" || (border ?? []).some((la) => !baseBorder.includes(la)))) {
    loosens.push({ rule: "no-wider-cross-border", path: ["crossBorder", "settingsIn"], message: `settings outside ${base}'s cross-border list would be notified` })
  }
  if (baseBorder === "any" && border !== undefined && border !== "any") {
    narrower.push({ rule: "covers-fewer-settings-across-borders", path: ["crossBorder", "settingsIn"], message: `settings in other areas are under ${base} but only these are notified` })
  }

  return { loosens, narrower }
}

/** The last day the agreement may be relied on: its recorded extension, else its review date. */
export const reliedOnUntil = (agreement: Agreement.Agreement): Option.Option<CalendarDate.CalendarDate> =>
  Option.fromNullable(agreement.term?.extendedUntil ?? agreement.term?.review)

const issueAt = (source: Yaml.Source, finding: Finding<string>): AgreementIssue =>
  new AgreementIssue({ path: Yaml.formatPath(finding.path), rule: finding.rule, ...Yaml.locate(source, finding.path), message: finding.message })

/** Parses an agreement and refuses it, naming each rule, if it loosens the baseline. */
export const load = (yamlText: string, baseline: Agreement.Agreement): Either.Either<Agreement.Agreement, AgreementError> =>
  Either.flatMap(Agreement.parse(yamlText), (agreement) => {
    const { loosens } = compare(agreement, baseline)
    if (loosens.length === 0) return Either.right(agreement)
    const source = Yaml.read(yamlText)
    return Either.left(new AgreementError({ method: "load", reason: "Loosens", issues: loosens.map((f) => issueAt(source, f)) }))
  })

export interface CheckResult {
  /** The agreement, when it has no errors. */
  readonly agreement: Option.Option<Agreement.Agreement>
  /** Syntax, schema and loosening problems: the file must not be used. */
  readonly errors: ReadonlyArray<AgreementIssue>
  /** Narrower-than-the-duty findings and a passed review date: usable, but a person should know. */
  readonly warnings: ReadonlyArray<AgreementIssue>
}

/** What `encompass policy check FILE` reports: every error and warning with key path and line. */
export const check = (
  yamlText: string,
  baseline: Agreement.Agreement,
  options: { readonly today?: CalendarDate.CalendarDate } = {}
): CheckResult => {
  const parsed = Agreement.parse(yamlText)
  if (Either.isLeft(parsed)) return { agreement: Option.none(), errors: parsed.left.issues, warnings: [] }
  const agreement = parsed.right
  const source = Yaml.read(yamlText)
  const { loosens, narrower } = compare(agreement, baseline)
  const findings: Array<Finding<NarrowingRule>> = [...narrower]
  const until = reliedOnUntil(agreement)
  const { today } = options
  if (today !== undefined && Option.isSome(until) && until.value < today) {
    findings.push({ rule: "past-review", path: ["term"], message: `the agreement was due for review on ${until.value}; decisions under it are needs-review until a review is recorded` })
  }
  // The duty and the scheme speak of the next school day (domain.md §1.3, requirement 8): weekdays
  // put the deadline of a last-day-of-term or half-term incident in the holiday, a false miss.
  // The baseline itself is national, with no calendar region: its weekdays are only the floor.
  if (agreement.deadline.schoolDays === "weekdays" && agreement.id !== baseline.id) {
    findings.push({
      rule: "counts-weekdays-only",
      path: ["deadline", "schoolDays"],
      message: "deadlines count weekdays, not school days: an incident on the last day of a term or in half term would fall due in the holiday; use school-calendar with a calendarRegion"
    })
  }
  return {
    agreement: loosens.length === 0 ? Option.some(agreement) : Option.none(),
    errors: loosens.map((f) => issueAt(source, f)),
    warnings: findings.map((f) => issueAt(source, f))
  }
}
