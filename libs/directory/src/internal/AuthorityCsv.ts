/**
 * Reads the authorities CSV: one row per council team (EHE team or children's front door).
 * Every cell is checked and every problem collected with its line and column, never quoting it.
 */
import { CouncilTeam, Ids } from "@encompass/domain"
import { Either, Schema } from "effect"
import { DirectoryIssue } from "../DirectoryError.js"
import * as Cells from "./Cells.js"
import * as CsvTable from "./CsvTable.js"

export const columns = ["local_authority", "team", "name", "signed_up", "contacts", "channel"] as const
export const optionalColumns = ["openpgp_fingerprint"] as const
type Column = (typeof columns)[number] | (typeof optionalColumns)[number]

export interface Entry {
  readonly line: number
  readonly team: CouncilTeam.CouncilTeam
}

const isCode = Schema.is(Ids.LocalAuthorityCode)
const isKind = Schema.is(CouncilTeam.TeamKind)

const entry = ({ cells, line }: CsvTable.Row<Column>): Either.Either<Entry, ReadonlyArray<DirectoryIssue>> => {
  const issues: Array<DirectoryIssue> = []
  const problem: Cells.Problem = (column, message) => void issues.push(new DirectoryIssue({ line, column, message }))
  const localAuthority = isCode(cells.local_authority) ? cells.local_authority : undefined
  if (localAuthority === undefined) problem("local_authority", "expected an ONS local authority code such as E06000055")
  const kind = isKind(cells.team) ? cells.team : undefined
  if (kind === undefined) problem("team", `unknown team; expected one of ${CouncilTeam.TeamKind.literals.join(", ")}`)
  if (cells.name === "") problem("name", "is empty")
  const signedUp = Cells.signedUp(cells.signed_up, problem)
  const contacts = Cells.contacts(cells.contacts, problem)
  const channel = Cells.channel(cells.channel, problem)
  const key = Cells.fingerprint(cells.openpgp_fingerprint, problem)
  if (issues.length > 0 || localAuthority === undefined || kind === undefined || signedUp === undefined || contacts === undefined || channel === undefined || key === undefined) {
    return Either.left(issues)
  }
  return Either.right({
    line,
    team: new CouncilTeam.CouncilTeam({ kind, localAuthority, name: cells.name, signedUp, contacts, channel, ...(key !== "none" && { openPgpKey: key }) })
  })
}

/** Every good row as a team, and every problem in the file. */
export const read = (text: string): { readonly entries: ReadonlyArray<Entry>; readonly issues: ReadonlyArray<DirectoryIssue> } => {
  const table = CsvTable.read(text, columns, optionalColumns)
  const entries: Array<Entry> = []
  const issues: Array<DirectoryIssue> = [...table.issues]
  for (const row of table.rows) {
    Either.match(entry(row), { onLeft: (problems) => issues.push(...problems), onRight: (ok) => entries.push(ok) })
  }
  return { entries, issues }
}
