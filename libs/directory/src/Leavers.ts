/**
 * A "child has left the setting" update (TVP ISA 4.4: information is "deleted when … a child is
 * no longer a pupil at the school"): a CSV a setting's or the council's pupil records export,
 * one row per leaver — the setting's URN and the child either by the force's person reference
 * (`subject`, as the audit export names children) or by name and date of birth, as a school
 * knows its pupils. Like the directories it loads whole or not at all, every bad row named by
 * line and column, never by its content (a name is personal data).
 */
import { CalendarDate, Ids } from "@encompass/domain"
import { Effect, Either, Schema } from "effect"
import { DirectoryError, DirectoryIssue } from "./DirectoryError.js"
import * as CsvTable from "./internal/CsvTable.js"
import * as ReadFile from "./internal/ReadFile.js"

/** How the update names the child: the force's reference, or what the school knows. */
export type Child =
  | { readonly _tag: "Subject"; readonly subject: string }
  | { readonly _tag: "Person"; readonly givenName: string; readonly familyName: string; readonly dateOfBirth: CalendarDate.CalendarDate }

export interface Leaver {
  readonly line: number
  readonly urn: Ids.Urn
  readonly child: Child
}

export const columns = ["urn"] as const
export const optionalColumns = ["subject", "given_name", "family_name", "date_of_birth"] as const

const decodeUrn = Schema.decodeUnknownEither(Ids.Urn)
const decodeDate = Schema.decodeUnknownEither(CalendarDate.CalendarDate)

const leaver = (row: CsvTable.Row<(typeof columns)[number] | (typeof optionalColumns)[number]>): Either.Either<Leaver, ReadonlyArray<DirectoryIssue>> => {
  const { line, cells } = row
  const issue = (column: string, message: string) => new DirectoryIssue({ line, column, message })
  const urn = decodeUrn(cells.urn)
  const issues: Array<DirectoryIssue> = Either.isLeft(urn) ? [issue("urn", "a URN is six digits")] : []
  const byPerson = cells.given_name !== "" || cells.family_name !== "" || cells.date_of_birth !== ""
  if (cells.subject !== "" && byPerson) issues.push(issue("subject", "name the child by subject or by name and date of birth, not both"))
  if (cells.subject === "" && !byPerson) issues.push(issue("subject", "no child: give subject, or given_name, family_name and date_of_birth"))
  if (cells.subject === "" && byPerson) {
    if (cells.given_name === "") issues.push(issue("given_name", "empty"))
    if (cells.family_name === "") issues.push(issue("family_name", "empty"))
    if (Either.isLeft(decodeDate(cells.date_of_birth))) issues.push(issue("date_of_birth", "expected a real date as YYYY-MM-DD"))
  }
  if (issues.length > 0 || Either.isLeft(urn)) return Either.left(issues)
  const child: Child = cells.subject !== ""
    ? { _tag: "Subject", subject: cells.subject }
    : { _tag: "Person", givenName: cells.given_name, familyName: cells.family_name, dateOfBirth: Either.getOrThrow(decodeDate(cells.date_of_birth)) }
  return Either.right({ line, urn: urn.right, child })
}

const fromRows = (
  rows: ReadonlyArray<CsvTable.Row<(typeof columns)[number] | (typeof optionalColumns)[number]>>,
  found: ReadonlyArray<DirectoryIssue>,
  source: string | undefined
): Either.Either<ReadonlyArray<Leaver>, DirectoryError> => {
  const issues: Array<DirectoryIssue> = [...found]
  const leavers: Array<Leaver> = []
  for (const row of rows) {
    Either.match(leaver(row), { onLeft: (more) => issues.push(...more), onRight: (l) => leavers.push(l) })
  }
  if (issues.length > 0) {
    return Either.left(new DirectoryError({ method: "leavers", directory: "leavers", reason: "Invalid", ...(source === undefined ? {} : { source }), issues }))
  }
  return Either.right(leavers)
}

/** The update's leavers, or every problem in it. */
export const fromCsv = (text: string, source?: string): Either.Either<ReadonlyArray<Leaver>, DirectoryError> => {
  const table = CsvTable.read(text, columns, optionalColumns)
  return fromRows(table.rows, table.issues, source)
}

/** One leaver an operator names by setting and subject, checked like a row of an update. */
export const named = (urn: string, subject: string): Either.Either<ReadonlyArray<Leaver>, DirectoryError> =>
  fromRows([{ line: 1, cells: { urn, subject, given_name: "", family_name: "", date_of_birth: "" } }], [], "--setting/--subject")

export const load = (path: string): Effect.Effect<ReadonlyArray<Leaver>, DirectoryError> =>
  Effect.flatMap(ReadFile.readText(path, "leavers"), (text) => fromCsv(text, path))

/** Whether a child of an incident (its reference, and the person as the force recorded them) is this leaver. */
export const matches = (
  child: Child,
  candidate: { readonly ref: string; readonly person?: { readonly givenName: string; readonly familyName: string; readonly dateOfBirth: string } | undefined }
): boolean => {
  if (child._tag === "Subject") return child.subject === candidate.ref
  const same = (a: string, b: string) => a.trim().localeCompare(b.trim(), "en-GB", { sensitivity: "base" }) === 0
  return candidate.person !== undefined && candidate.person.dateOfBirth === child.dateOfBirth &&
    same(candidate.person.givenName, child.givenName) && same(candidate.person.familyName, child.familyName)
}
