/**
 * Turns CSV records into Incidents and Rejections: checks the header, decodes each row, and
 * folds consecutive rows of one occurrence and version into one Incident, emitted when its last
 * row has been read. A row's rejection is emitted at once, so it precedes its incident.
 */
import { Address, Child, Incident, Person, Rejection } from "@encompass/domain"
import type { Ids } from "@encompass/domain"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import { DateTime, Either } from "effect"
import type { CsvItem, CsvRecord, CsvUnreadable } from "./CsvReader.js"
import { maxRecordBytes } from "./CsvReader.js"
import { FingerprintSet } from "./FingerprintSet.js"
import type { Body, CellIssue, Cells, Column, Key } from "./RowSchema.js"
import { columns, decodeBody, decodeKey, isColumn, optionalColumns } from "./RowSchema.js"

interface Group {
  readonly key: Key
  /** The first accepted row: its incident columns are the incident's, and later rows must agree. */
  first: { readonly line: number; readonly body: Body } | undefined
  readonly children: Array<Child.Child>
  /** Each person_ref accepted so far, with its line. */
  readonly people: Map<string, number>
}

const unreadable: Record<CsvUnreadable["reason"], string> = {
  UnclosedQuote: "a quoted value is never closed; reading resumed on the next line",
  TooLong: `the row is longer than ${maxRecordBytes} bytes, so a quote is probably unbalanced; reading resumed on the next line`
}

/** Columns whose quoted values may run over several lines. */
const multiLineColumns: ReadonlySet<Column> = new Set<Column>(["incident_address", "home_address"])

/**
 * A quoted value may hold line breaks, but only an address plausibly does, and never one with a
 * whole row's commas: that is what unbalanced quotes on two rows produce, and accepting it would
 * hide the rows between inside another child's address.
 */
const strayLineBreak = (
  header: ReadonlyArray<Column>,
  record: CsvRecord
): { readonly column: Column; readonly reason: string } | undefined => {
  for (const [i, column] of header.entries()) {
    const cell = record.cells[i] ?? ""
    if (!cell.includes("\n")) continue
    if (!multiLineColumns.has(column)) {
      const reason = `holds a line break, which only an address may; the row runs on to line ${record.lastLine}, so a quote may be unbalanced`
      return { column, reason }
    }
    if (cell.split(",").length >= header.length) {
      const reason = `runs on to line ${record.lastLine} holding a whole row's worth of commas, so a quote is probably unbalanced`
      return { column, reason }
    }
  }
  return undefined
}

const describe = (issues: ReadonlyArray<CellIssue>): string =>
  issues.length === 0
    ? "the row could not be decoded"
    : issues.map((issue, i) => (i === 0 ? issue.message : `${issue.column}: ${issue.message}`)).join("; also ")

const inColumnOrder = (issues: ReadonlyArray<CellIssue>): Array<CellIssue> =>
  columns.flatMap((column) => issues.find((issue) => issue.column === column) ?? [])

/** The incident column on which two rows of an occurrence disagree, if any. */
const disagreement = (a: Body, b: Body): Column | undefined => {
  if (!DateTime.Equivalence(a.incident_datetime, b.incident_datetime)) return "incident_datetime"
  if (a.incident_category !== b.incident_category) return "incident_category"
  if (a.incident_address !== b.incident_address) return "incident_address"
  if (a.incident_postcode !== b.incident_postcode) return "incident_postcode"
  return undefined
}

// A domain class constructor re-validates its props by compiling a fresh parser on every call
// (about 250 µs a row, measured). Every value built here was just decoded by the same domain
// schemas (RowSchema) or is this module's own fixed text, so construction skips that second check.
const decoded = { disableValidation: true } as const

const address = (lines: string, postcode: string | undefined): Address.Address =>
  new Address.Address(postcode === undefined ? { lines } : { lines, postcode }, decoded)

export class IncidentAssembler {
  /** Set when the header is refused: nothing after it can be read. */
  halted = false
  private header: ReadonlyArray<Column> | undefined
  private group: Group | undefined
  /** Every occurrence and version begun so far, to notice one that comes back later. */
  private readonly begun = new FingerprintSet()

  constructor(private readonly source: Ids.SourceId) {}

  accept(items: ReadonlyArray<CsvItem>): Array<SourcePlugin.Decoded> {
    const out: Array<SourcePlugin.Decoded> = []
    for (const item of items) {
      if (this.halted) break
      if (this.header === undefined) this.readHeader(item, out)
      else if (item._tag === "Unreadable") out.push(this.reject(item.line, undefined, unreadable[item.reason]))
      else this.readRow(this.header, item, out)
    }
    return out
  }

  /** Emits what is pending once the feed has ended. */
  end(): Array<SourcePlugin.Decoded> {
    if (this.halted) return []
    if (this.header === undefined) return [this.reject(1, undefined, "the feed is empty: it has no header row")]
    const out: Array<SourcePlugin.Decoded> = []
    this.close(out)
    return out
  }

  private reject(line: number, field: string | undefined, reason: string, occurrence?: Ids.OccurrenceRef): Rejection.Rejection {
    return new Rejection.Rejection({
      source: this.source,
      locator: `line ${line}`,
      reason,
      ...(field === undefined ? {} : { field }),
      ...(occurrence === undefined ? {} : { occurrence })
    }, decoded)
  }

  private halt(line: number, field: string | undefined, reason: string, out: Array<SourcePlugin.Decoded>): void {
    this.halted = true
    out.push(this.reject(line, field, reason))
  }

  private readHeader(item: CsvItem, out: Array<SourcePlugin.Decoded>): void {
    if (item._tag === "Unreadable" || item.badQuote >= 0) {
      return this.halt(item.line, undefined, "the header row could not be read: its quoting is broken", out)
    }
    const names = item.cells.map((cell) => cell.trim())
    const missing = columns.filter((column) => !optionalColumns.has(column) && !names.includes(column))
    // Unknown names are given by position only: if the header row itself is missing, the first
    // row read as a header holds a child's details.
    const unknown = names.flatMap((name, i) => (isColumn(name) ? [] : [i + 1]))
    const repeated = columns.filter((column) => names.indexOf(column) !== names.lastIndexOf(column))
    const problems = [
      missing.length > 0 ? `missing required column(s) ${missing.join(", ")}` : undefined,
      unknown.length > 0 ? `unknown column(s) at position(s) ${unknown.join(", ")}` : undefined,
      repeated.length > 0 ? `column(s) listed twice: ${repeated.join(", ")}` : undefined
    ].filter((problem) => problem !== undefined)
    if (problems.length > 0) {
      const field = missing.length > 0 ? missing.join(", ") : undefined
      return this.halt(item.line, field, `the header is not the Niche export's: ${problems.join("; ")}`, out)
    }
    this.header = names.filter(isColumn)
  }

  private readRow(header: ReadonlyArray<Column>, record: CsvRecord, out: Array<SourcePlugin.Decoded>): void {
    const { cells: raw, line } = record
    if (record.badQuote >= 0) {
      const reason = "the quoting is broken: a quote inside an unquoted value, or text after a closing quote"
      return void out.push(this.reject(line, header[record.badQuote], reason))
    }
    // A row of empty cells (padding some exports add) carries nothing.
    if (raw.every((cell) => cell.trim() === "")) return
    if (raw.length !== header.length) {
      const runsOn = record.lastLine > line ? `; it runs on to line ${record.lastLine}, so a quote may be unbalanced` : ""
      return void out.push(this.reject(line, undefined, `has ${raw.length} columns but the header has ${header.length}${runsOn}`))
    }
    const stray = record.lastLine > line ? strayLineBreak(header, record) : undefined
    if (stray !== undefined) return void out.push(this.reject(line, stray.column, stray.reason))
    const cells: Cells = {}
    const undecodable: Array<CellIssue> = []
    header.forEach((column, i) => {
      const cell = (raw[i] ?? "").trim()
      if (cell === "") return
      cells[column] = cell
      if (cell.includes("\uFFFD")) undecodable.push({ column, message: "is not valid UTF-8" })
    })
    const key = decodeKey(cells)
    const body = decodeBody(cells)
    const failed = Either.isLeft(key) || Either.isLeft(body) || undecodable.length > 0
    const issues = failed
      ? inColumnOrder([...undecodable, ...(Either.isLeft(key) ? key.left : []), ...(Either.isLeft(body) ? body.left : [])])
      : []
    if (Either.isLeft(key) || undecodable.some((issue) => issue.column === "occurrence_number" || issue.column === "version")) {
      // The row's incident is unknown, so it neither ends the current group nor starts one.
      return void out.push(this.reject(line, issues[0]?.column, describe(issues)))
    }
    const occurrence = key.right.occurrence_number
    let group = this.group
    if (group === undefined || group.key.occurrence_number !== occurrence || group.key.version !== key.right.version) {
      this.close(out)
      if (!this.begun.add(`${key.right.version}|${occurrence}`)) {
        const reason =
          "this occurrence and version already appeared earlier in the feed with other rows in between; an occurrence's rows must be listed together"
        return void out.push(this.reject(line, "occurrence_number", reason, occurrence))
      }
      group = this.group = { key: key.right, first: undefined, children: [], people: new Map() }
    }
    if (Either.isLeft(body) || undecodable.length > 0) {
      return void out.push(this.reject(line, issues[0]?.column, describe(issues), occurrence))
    }
    const row = body.right
    if (group.first !== undefined) {
      const column = disagreement(group.first.body, row)
      if (column !== undefined) {
        const reason = `differs from line ${group.first.line}, the occurrence's first row`
        return void out.push(this.reject(line, column, reason, occurrence))
      }
    }
    const earlier = group.people.get(row.person_ref)
    if (earlier !== undefined) {
      const reason = `the same person is already listed on this occurrence, at line ${earlier}`
      return void out.push(this.reject(line, "person_ref", reason, occurrence))
    }
    group.first ??= { line, body: row }
    group.people.set(row.person_ref, line)
    group.children.push(
      new Child.Child({
        ref: row.person_ref,
        person: new Person.Person(
          { givenName: row.child_given_name, familyName: row.child_family_name, dateOfBirth: row.child_dob },
          decoded
        ),
        homeAddress: address(row.home_address, row.home_postcode),
        presence: row.presence,
        education: row.school_urn,
        riskGrading: row.risk_grading,
        sensitive: row.sensitive,
        locator: `line ${line}`
      }, decoded)
    )
  }

  /** Emits the current group's incident, unless every one of its rows was rejected. */
  private close(out: Array<SourcePlugin.Decoded>): void {
    const group = this.group
    this.group = undefined
    const [child, ...siblings] = group?.children ?? []
    if (group?.first === undefined || child === undefined) return
    const { body } = group.first
    out.push(
      new Incident.Incident({
        source: this.source,
        occurrence: group.key.occurrence_number,
        version: group.key.version,
        category: body.incident_category,
        occurredAt: body.incident_datetime,
        address: address(body.incident_address, body.incident_postcode),
        children: [child, ...siblings]
      }, decoded)
    )
  }
}
