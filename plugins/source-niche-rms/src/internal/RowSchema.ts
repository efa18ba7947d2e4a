/**
 * The export's columns and the private schema of one row. Each cell is decoded by the domain's own
 * schema for the field it feeds (a name by `Person.givenName`, a URN by `Ids.Urn` …), so the
 * domain stays the one definition of what is valid, and a failure's path is the column's name.
 */
import { Address, Child, DecodeIssue, Incident, Person } from "@encompass/domain"
import { Either, ParseResult, Schema } from "effect"
import { LondonDateTime } from "./LondonDateTime.js"

/** The columns, in the order the README documents them. */
export const columns = [
  "occurrence_number",
  "incident_datetime",
  "incident_category",
  "incident_address",
  "incident_postcode",
  "version",
  "person_ref",
  "child_given_name",
  "child_family_name",
  "child_dob",
  "home_address",
  "home_postcode",
  "presence",
  "school_urn",
  "risk_grading",
  "sensitive"
] as const
export type Column = (typeof columns)[number]

/** Columns the header may leave out. */
export const optionalColumns: ReadonlySet<Column> = new Set<Column>(["version"])

export const isColumn = (name: string): name is Column => (columns as ReadonlyArray<string>).includes(name)

/** A code folded to lower case with hyphens: `DOMESTIC`, `Missing Episode`, `missing_episode`. */
const FoldedCode = Schema.transform(Schema.String, Schema.String, {
  strict: true,
  decode: (cell) => cell.toLowerCase().replace(/[\s_]+/g, "-"),
  encode: (code) => code
})

const code = <A extends string>(literals: Schema.Schema<A>, expected: string): Schema.Schema<A, string> =>
  Schema.compose(FoldedCode, literals).annotations({ message: () => `expected ${expected}` })

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

/** `123456`, `EHE`, or several separated by `;` for a dual-registered child; repeats are dropped. */
const Education = Schema.transformOrFail(Schema.String, Schema.NonEmptyArray(Child.Education), {
  strict: true,
  decode: (cell, _, ast) => {
    const entries = new Set(
      cell
        .split(";")
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
  encode: (education) => ParseResult.succeed(education.map((e) => (e._tag === "Setting" ? e.urn : "EHE")).join(";"))
}).annotations({ message: () => "expected a six-digit URN, EHE, or several separated by ;" })

/** The columns that say which incident a row belongs to. */
const Key = Schema.Struct({
  occurrence_number: Incident.Incident.fields.occurrence,
  version: Schema.optionalWith(Version, { default: () => 1 })
})
export type Key = typeof Key.Type

/** The incident's other columns (repeated on each of its rows) and the child's. */
const Body = Schema.Struct({
  incident_datetime: LondonDateTime,
  incident_category: code(Incident.IncidentCategory, "domestic, missing-episode or other"),
  incident_address: Address.Address.fields.lines,
  incident_postcode: Address.Address.fields.postcode,
  person_ref: Child.Child.fields.ref,
  child_given_name: Person.Person.fields.givenName,
  child_family_name: Person.Person.fields.familyName,
  child_dob: Person.Person.fields.dateOfBirth,
  home_address: Address.Address.fields.lines,
  home_postcode: Address.Address.fields.postcode,
  presence: code(Child.Presence, "present, witness or not-present"),
  school_urn: Education,
  risk_grading: code(Child.RiskGrading, "standard, medium or high"),
  sensitive: YesNo
})
export type Body = typeof Body.Type

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

const decodeKeyCells = Schema.decodeUnknownEither(Key, { errors: "all" })
const decodeBodyCells = Schema.decodeUnknownEither(Body, { errors: "all" })

export const decodeKey = (cells: Cells): Either.Either<Key, Array<CellIssue>> =>
  Either.mapLeft(decodeKeyCells(cells), cellIssues)

export const decodeBody = (cells: Cells): Either.Either<Body, Array<CellIssue>> =>
  Either.mapLeft(decodeBodyCells(cells), cellIssues)
