/**
 * The private schema of one row, under the canonical column names, for a given field mapping.
 * Each cell is decoded by the domain's own schema for the field it feeds (a name by
 * `Person.givenName`, a URN by `Ids.Urn` …), so the domain stays the one definition of what is
 * valid, and a failure's path is the column's canonical name. A mapping changes only how a cell is
 * read first (its date pattern, its codes), never what is valid.
 */
import { Address, Child, DecodeIssue, Incident, Person } from "@encompass/domain"
import { Either, ParseResult, Schema } from "effect"
import type { NicheMapping } from "../NicheMapping.js"
import { foldCode } from "../NicheMapping.js"
import type { CodedColumn, Column } from "./Columns.js"
import { columns } from "./Columns.js"
import * as DateFormat from "./DateFormat.js"
import * as LondonDateTime from "./LondonDateTime.js"

/** A code folded to lower case with hyphens: `DOMESTIC`, `Missing Episode`, `missing_episode`. */
const FoldedCode = Schema.transform(Schema.String, Schema.String, {
  strict: true,
  decode: (cell) => cell.toLowerCase().replace(/[\s_]+/g, "-"),
  encode: (code) => code
})

const code = <A extends string>(literals: Schema.Schema<A>, expected: string): Schema.Schema<A, string> =>
  Schema.compose(FoldedCode, literals).annotations({ message: () => `expected ${expected}` })

/** `a`, `a or b`, `a, b or c`. */
const either = (items: ReadonlyArray<string>): string =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`

/**
 * A coded column under a mapping's value map: only the force's codes are accepted (whatever their
 * case), each read as the default layout's value, which the column's own schema then decodes.
 */
const mapped = <A, I>(codes: Readonly<Record<string, string>>, target: Schema.Schema<A, I>): Schema.Schema<A, string> => {
  const table = new Map(Object.entries(codes).map(([from, to]) => [foldCode(from), to]))
  const expected = `expected ${either(Object.keys(codes))}`
  const lookup = Schema.transformOrFail(Schema.String, Schema.String, {
    strict: true,
    decode: (cell, _, ast) => {
      const value = table.get(foldCode(cell))
      return value === undefined ? ParseResult.fail(new ParseResult.Type(ast, cell)) : ParseResult.succeed(value)
    },
    encode: (value) => ParseResult.succeed(value)
  }).annotations({ message: () => expected })
  return Schema.compose(lookup, target, { strict: false })
}

const Version = Schema.String.pipe(
  Schema.pattern(/^\d{1,9}$/),
  Schema.compose(Schema.NumberFromString),
  Schema.compose(Incident.Incident.fields.version)
).annotations({ message: () => "expected a whole number from 1" })

const YesNo = Schema.transform(Schema.compose(Schema.Uppercase, Schema.Literal("Y", "N")), Schema.Boolean, {
  strict: true,
  decode: (flag) => flag === "Y",
  encode: (sensitive) => (sensitive ? "Y" : "N")
}).annotations({ message: () => "expected Y or N" })

/** `123456`, `EHE`, or several separated by `separator` for a dual-registered child; repeats are dropped. */
const education = (separator: string) =>
  Schema.transformOrFail(Schema.String, Schema.NonEmptyArray(Child.Education), {
    strict: true,
    decode: (cell, _, ast) => {
      const entries = new Set(
        cell
          .split(separator)
          .map((entry) => entry.trim())
          .filter((entry) => entry !== "")
          .map((entry) => (entry.toUpperCase() === "EHE" ? "EHE" : entry))
      )
      const [first, ...rest] = Array.from(
        entries,
        (entry): typeof Child.Education.Encoded =>
          entry === "EHE" ? { _tag: "ElectiveHomeEducation" } : { _tag: "Setting", urn: entry }
      )
      if (first === undefined) return ParseResult.fail(new ParseResult.Type(ast, cell))
      return ParseResult.succeed<readonly [typeof first, ...Array<typeof first>]>([first, ...rest])
    },
    encode: (education) => ParseResult.succeed(education.map((e) => (e._tag === "Setting" ? e.urn : "EHE")).join(separator))
  }).annotations({ message: () => `expected a six-digit URN, EHE, or several separated by ${separator}` })

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/** A date of birth in the mapping's pattern, rewritten as `YYYY-MM-DD` for the domain to check. */
const dateOfBirth = (pattern: string) => {
  if (pattern === "yyyy-MM-dd") return Person.Person.fields.dateOfBirth
  const format = DateFormat.compile(pattern, false)
  // The mapping's schema has already refused a pattern that does not compile.
  if (typeof format === "string") throw new Error(`dateFormat: ${format}`)
  const reorder = Schema.transformOrFail(Schema.String, Schema.String, {
    strict: true,
    decode: (cell, _, ast) => {
      const parts = format.read(cell)
      return parts === undefined
        ? ParseResult.fail(new ParseResult.Type(ast, cell))
        : ParseResult.succeed(`${pad(parts.year, 4)}-${pad(parts.month, 2)}-${pad(parts.day, 2)}`)
    },
    encode: (date) => ParseResult.succeed(date)
  }).annotations({ message: () => `expected a date as ${pattern}` })
  return Schema.compose(reorder, Person.Person.fields.dateOfBirth)
}

const incidentTime = (pattern: string | undefined) => {
  if (pattern === undefined) return LondonDateTime.LondonDateTime
  const format = DateFormat.compile(pattern, true)
  if (typeof format === "string") throw new Error(`dateTimeFormat: ${format}`)
  return LondonDateTime.withFormat(format)
}

/** The columns that say which incident a row belongs to. */
const Key = Schema.Struct({
  occurrence_number: Incident.Incident.fields.occurrence,
  version: Schema.optionalWith(Version, { default: () => 1 })
})
export type Key = typeof Key.Type

const bodyOf = (mapping: NicheMapping) => {
  const coded = <A, I>(column: CodedColumn, fallback: Schema.Schema<A, string>, target: Schema.Schema<A, I>) => {
    const codes = mapping.codesOf(column)
    return codes === undefined ? fallback : mapped(codes, target)
  }
  /** The incident's other columns (repeated on each of its rows) and the child's. */
  return Schema.Struct({
    incident_datetime: incidentTime(mapping.dateTimeFormat),
    incident_category: coded("incident_category", code(Incident.IncidentCategory, "domestic, missing-episode or other"), Incident.IncidentCategory),
    incident_address: Address.Address.fields.lines,
    incident_postcode: Address.Address.fields.postcode,
    person_ref: Child.Child.fields.ref,
    child_given_name: Person.Person.fields.givenName,
    child_family_name: Person.Person.fields.familyName,
    child_dob: dateOfBirth(mapping.dateFormat),
    home_address: Address.Address.fields.lines,
    home_postcode: Address.Address.fields.postcode,
    presence: coded("presence", code(Child.Presence, "present, witness or not-present"), Child.Presence),
    school_urn: education(mapping.urnSeparator),
    risk_grading: coded("risk_grading", code(Child.RiskGrading, "standard, medium or high"), Child.RiskGrading),
    sensitive: coded("sensitive", YesNo, YesNo)
  })
}
export type Body = Schema.Schema.Type<ReturnType<typeof bodyOf>>

/** What went wrong in one cell, without its value. */
export interface CellIssue {
  readonly column: Column
  readonly message: string
}

/** Every failing column, in column order, with its first message. */
const cellIssues = (error: ParseResult.ParseError): Array<CellIssue> => {
  const byColumn = new Map<string, string>()
  for (const issue of DecodeIssue.fromParseError(error)) {
    const column = issue.path.split(".")[0] ?? ""
    if (!byColumn.has(column)) byColumn.set(column, issue.message)
  }
  return columns.flatMap((column) => {
    const message = byColumn.get(column)
    return message === undefined ? [] : [{ column, message }]
  })
}

/** A row's cells by column: trimmed, and left out when empty so a required one reads "is missing". */
export type Cells = Partial<Record<Column, string>>

export interface RowSchema {
  readonly decodeKey: (cells: Cells) => Either.Either<Key, Array<CellIssue>>
  readonly decodeBody: (cells: Cells) => Either.Either<Body, Array<CellIssue>>
}

const decodeKeyCells = Schema.decodeUnknownEither(Key, { errors: "all" })

/** The row decoders for a mapping; built once per plugin, since compiling a decoder is not cheap. */
export const make = (mapping: NicheMapping): RowSchema => {
  const decodeBodyCells = Schema.decodeUnknownEither(bodyOf(mapping), { errors: "all" })
  return {
    decodeKey: (cells) => Either.mapLeft(decodeKeyCells(cells), cellIssues),
    decodeBody: (cells) => Either.mapLeft(decodeBodyCells(cells), cellIssues)
  }
}
