/**
 * Reads the settings CSV. Every cell is checked and every problem collected with its line and
 * column; messages describe the problem without quoting the cell (it may be an email address).
 */
import { Ids, Setting } from "@encompass/domain"
import { CsvError, parse } from "csv-parse/sync"
import type { InfoRecord } from "csv-parse/sync"
import { Either, Schema } from "effect"
import { DirectoryIssue } from "../DirectoryError.js"

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
const isEmail = Schema.is(Setting.EmailAddress)
const isChannel = Schema.is(Ids.ChannelId)
const isFingerprint = Schema.is(Ids.OpenPgpFingerprint)

const signedUpValues: Readonly<Record<string, boolean>> = { y: true, n: false }

const entry = (cells: Readonly<Record<Column, string>>, line: number): Either.Either<Entry, ReadonlyArray<DirectoryIssue>> => {
  const issues: Array<DirectoryIssue> = []
  const problem = (column: Column, message: string): void => void issues.push(new DirectoryIssue({ line, column, message }))
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
  const signedUp = valid("signed_up", signedUpValues[cells.signed_up.toLowerCase()], "expected Y or N")
  const addresses = cells.contacts.split(";").map((a) => a.trim()).filter((a) => a !== "")
  if (addresses.length === 0) problem("contacts", "no contact address")
  addresses.forEach((address, index) => {
    if (!isEmail(address)) problem("contacts", `address ${index + 1} of ${addresses.length} is not an email address`)
  })
  const [first, ...rest] = addresses.filter(isEmail)
  const channel = valid(
    "channel",
    isChannel(cells.channel) ? cells.channel : undefined,
    "a channel id is lowercase letters, digits and '-', e.g. secure-email"
  )

  // As GnuPG prints it (`gpg --fingerprint` groups it with spaces); empty: the setting uses a password.
  const fingerprint = cells.openpgp_fingerprint.replace(/\s+/g, "").toUpperCase()
  const openPgpKey = fingerprint === ""
    ? undefined
    : valid("openpgp_fingerprint", isFingerprint(fingerprint) ? fingerprint : undefined, "an OpenPGP fingerprint is 40 hex digits")

  // Any problem refuses the row, including one bad address beside good ones: it may be the wrong school's.
  if (issues.length > 0 || (fingerprint !== "" && openPgpKey === undefined) || urn === undefined || name === undefined || kind === undefined || signedUp === undefined || first === undefined || channel === undefined) {
    return Either.left(issues)
  }
  return Either.right({ line, setting: new Setting.Setting({ urn, name, kind, signedUp, contacts: [first, ...rest], channel, ...(openPgpKey !== undefined && { openPgpKey }) }) })
}

interface Row {
  readonly record: ReadonlyArray<string>
  readonly info: InfoRecord
}

const records = (text: string): Either.Either<ReadonlyArray<{ line: number; cells: ReadonlyArray<string> }>, DirectoryIssue> => {
  try {
    // With `info`, csv-parse returns { record, info } per row; its typings only describe plain rows.
    const rows = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as ReadonlyArray<Row>
    let previousEnd = 0
    let previousEmpty = 0
    return Either.right(
      rows.map(({ info, record }) => {
        // `info.lines` is where a record ends; a quoted field may span lines, so report where it starts.
        const line = previousEnd + 1 + (info.empty_lines - previousEmpty)
        previousEnd = info.lines
        previousEmpty = info.empty_lines
        return { line, cells: record }
      })
    )
  } catch (error) {
    if (error instanceof CsvError) {
      const line = typeof error["lines"] === "number" ? error["lines"] : undefined
      return Either.left(new DirectoryIssue({ ...(line === undefined ? {} : { line }), message: `malformed CSV (${error.code})` }))
    }
    throw error
  }
}

export interface Read {
  readonly entries: ReadonlyArray<Entry>
  readonly issues: ReadonlyArray<DirectoryIssue>
}

/** Every good row as a setting, and every problem in the file. */
export const read = (text: string): Read => {
  const parsed = records(text)
  if (Either.isLeft(parsed)) return { entries: [], issues: [parsed.left] }
  const [header, ...rows] = parsed.right
  if (header === undefined) return { entries: [], issues: [new DirectoryIssue({ line: 1, message: "no header row" })] }

  const names = header.cells.map((cell) => cell.toLowerCase())
  const headerIssues = [
    ...columns
      .filter((column) => !names.includes(column))
      .map((column) => new DirectoryIssue({ line: header.line, column, message: "missing column in the header" })),
    ...names
      .filter((name, index) => names.indexOf(name) !== index)
      .map((column) => new DirectoryIssue({ line: header.line, column, message: "column appears twice in the header" }))
  ]
  if (headerIssues.length > 0) return { entries: [], issues: headerIssues }

  const entries: Array<Entry> = []
  const issues: Array<DirectoryIssue> = []
  for (const { cells, line } of rows) {
    if (cells.length !== names.length) {
      issues.push(new DirectoryIssue({ line, message: `row has ${cells.length} fields, the header has ${names.length}` }))
      continue
    }
    const byColumn = Object.fromEntries(
      [...columns, ...optionalColumns].map((column) => [column, cells[names.indexOf(column)] ?? ""])
    ) as Record<Column, string>
    Either.match(entry(byColumn, line), {
      onLeft: (problems) => issues.push(...problems),
      onRight: (ok) => entries.push(ok)
    })
  }
  return { entries, issues }
}
