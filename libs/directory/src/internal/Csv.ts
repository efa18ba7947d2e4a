/**
 * Reads the settings CSV. Every cell is checked and every problem collected with its line and
 * column; messages describe the problem without quoting the cell (it may be an email address).
 */
import { Ids, Setting } from "@encompass/domain"
import { Either, Schema } from "effect"
import { DirectoryIssue } from "../DirectoryError.js"
import * as Cells from "./Cells.js"
import * as CsvTable from "./CsvTable.js"

export const columns = ["urn", "name", "kind", "signed_up", "contacts", "channel"] as const
/** Columns a file may leave out: directories written before them still load. */
export const optionalColumns = ["openpgp_fingerprint"] as const
type Column = (typeof columns)[number] | (typeof optionalColumns)[number]

/** A setting and the line of the file it came from. */
export interface Entry {
  readonly line: number
  readonly setting: Setting.Setting
}

const isUrn = Schema.is(Ids.Urn)
const isKind = Schema.is(Setting.SettingKind)

const entry = ({ cells, line }: CsvTable.Row<Column>): Either.Either<Entry, ReadonlyArray<DirectoryIssue>> => {
  const issues: Array<DirectoryIssue> = []
  const problem: Cells.Problem = (column, message) => void issues.push(new DirectoryIssue({ line, column, message }))
  /** The value when valid; otherwise records the problem and gives undefined. */
  const valid = <A>(column: Column, value: A | undefined, message: string): A | undefined => {
    if (value === undefined) problem(column, message)
    return value
  }

  const urn = valid("urn", isUrn(cells.urn) ? cells.urn : undefined, "a URN is six digits")
  const name = valid("name", cells.name === "" ? undefined : cells.name, "is empty")
  const kind = valid(
    "kind",
    isKind(cells.kind) ? cells.kind : undefined,
    `unknown kind; expected one of ${Setting.SettingKind.literals.join(", ")}`
  )
  const signedUp = Cells.signedUp(cells.signed_up, problem)
  const contacts = Cells.contacts(cells.contacts, problem)
  const channel = Cells.channel(cells.channel, problem)
  const key = Cells.fingerprint(cells.openpgp_fingerprint, problem)

  // Any problem refuses the row, including one bad address beside good ones: it may be the wrong school's.
  if (issues.length > 0 || urn === undefined || name === undefined || kind === undefined || signedUp === undefined || contacts === undefined || channel === undefined || key === undefined) {
    return Either.left(issues)
  }
  return Either.right({ line, setting: new Setting.Setting({ urn, name, kind, signedUp, contacts, channel, ...(key !== "none" && { openPgpKey: key }) }) })
}

export interface Read {
  readonly entries: ReadonlyArray<Entry>
  readonly issues: ReadonlyArray<DirectoryIssue>
}

/** Every good row as a setting, and every problem in the file. */
export const read = (text: string): Read => {
  const table = CsvTable.read(text, columns, optionalColumns)
  const entries: Array<Entry> = []
  const issues: Array<DirectoryIssue> = [...table.issues]
  for (const row of table.rows) {
    Either.match(entry(row), {
      onLeft: (problems) => issues.push(...problems),
      onRight: (ok) => entries.push(ok)
    })
  }
  return { entries, issues: issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) }
}
