/**
 * School days per region, as data: term dates, INSET (closure) days and the England and Wales
 * bank holidays (domain.md requirement 8). A day is a school day when it is a weekday inside a
 * term and neither a bank holiday nor a closure. Outside the span the file's terms cover, every
 * weekday that is not a bank holiday counts, so a stale file gives earlier deadlines, never later.
 */
import { CalendarDate, YamlSource as Yaml } from "@encompass/domain"
import { Either, Option, ParseResult, Schema } from "effect"
import { AgreementError, AgreementIssue } from "./AgreementError.js"

export class Term extends Schema.Class<Term>("Term")(
  Schema.Struct({ start: CalendarDate.CalendarDate, end: CalendarDate.CalendarDate }).pipe(
    Schema.filter((t) => t.start <= t.end, { message: () => "a term must not end before it starts" })
  )
) {}

export class DatedDay extends Schema.Class<DatedDay>("DatedDay")({
  date: CalendarDate.CalendarDate,
  name: Schema.NonEmptyTrimmedString
}) {}

export class Region extends Schema.Class<Region>("Region")({
  id: Schema.NonEmptyTrimmedString,
  terms: Schema.NonEmptyArray(Term),
  /** INSET days and other whole-day closures inside a term. */
  closures: Schema.Array(DatedDay)
}) {}

export class SchoolCalendar extends Schema.Class<SchoolCalendar>("SchoolCalendar")({
  id: Schema.NonEmptyTrimmedString,
  /** True while the term dates are samples awaiting the council's published dates. */
  sample: Schema.Boolean,
  source: Schema.NonEmptyTrimmedString,
  bankHolidays: Schema.Array(DatedDay),
  regions: Schema.NonEmptyArray(Region)
}) {}

const decode = Schema.decodeUnknownEither(SchoolCalendar, { errors: "all", onExcessProperty: "error" })

/** Reads a calendar file's text; problems are reported with key path and line, as for agreements. */
export const parse = (yamlText: string): Either.Either<SchoolCalendar, AgreementError> => {
  const source = Yaml.read(yamlText)
  if (source.problems.length > 0) {
    return Either.left(
      new AgreementError({ method: "parseCalendar", reason: "Syntax", issues: source.problems.map((p) => new AgreementIssue(p)) })
    )
  }
  return Either.mapLeft(
    decode(source.value),
    (error) =>
      new AgreementError({
        method: "parseCalendar",
        reason: "Schema",
        issues: Yaml.issuesOf(source, ParseResult.ArrayFormatter.formatErrorSync(error)).map((p) => new AgreementIssue(p))
      })
  )
}

/** Whether a local calendar date is a school day. */
export type SchoolDay = (date: CalendarDate.CalendarDate) => boolean

const weekday = (date: CalendarDate.CalendarDate): number => new Date(`${date}T00:00:00Z`).getUTCDay()

export const isWeekday: SchoolDay = (date) => {
  const day = weekday(date)
  return day >= 1 && day <= 5
}

/** The school-day test for one region of the calendar, or none when the calendar has no such region. */
export const schoolDays = (calendar: SchoolCalendar, regionId: string): Option.Option<SchoolDay> =>
  Option.map(Option.fromNullable(calendar.regions.find((r) => r.id === regionId)), (region) => {
    const holidays = new Set<string>(calendar.bankHolidays.map((d) => d.date))
    const closures = new Set<string>(region.closures.map((d) => d.date))
    const first = region.terms.reduce((min, t) => (t.start < min ? t.start : min), region.terms[0].start)
    const last = region.terms.reduce((max, t) => (t.end > max ? t.end : max), region.terms[0].end)
    return (date) => {
      if (!isWeekday(date) || holidays.has(date)) return false
      if (date < first || date > last) return true
      return !closures.has(date) && region.terms.some((t) => t.start <= date && date <= t.end)
    }
  })
