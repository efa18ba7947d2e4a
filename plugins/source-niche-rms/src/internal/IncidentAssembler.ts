/**
 * Turns CSV records into Incidents and Rejections: checks the header against the field mapping,
 * decodes each row, and folds consecutive rows of one occurrence and version into one Incident,
 * emitted when its last row has been read.
 *
 * A rejection carries, as `record`, a standalone feed to correct and replay: the header line and
 * the rows of the rejected row's occurrence, exactly as received — or the row alone when its
 * occurrence cannot be read. So while an occurrence is open, what it would emit is held back until
 * its last row is known; output order is unchanged (every row's rejection still precedes its
 * incident, in line order). What is held is bounded: past `maxReplayBytes` the occurrence's
 * rejections go out at once, without a record.
 */
import { Address, Child, Incident, Person, Rejection } from "@encompass/domain"
import type { Ids } from "@encompass/domain"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import { DateTime, Either, Redacted } from "effect"
import type { NicheMapping } from "../NicheMapping.js"
import type { Column } from "./Columns.js"
import { columns, multiLineColumns, optionalColumns } from "./Columns.js"
import type { CsvItem, CsvRecord, CsvUnreadable } from "./CsvReader.js"
import { maxRecordBytes } from "./CsvReader.js"
import { FingerprintSet } from "./FingerprintSet.js"
import type { Body, CellIssue, Cells, Key, RowSchema } from "./RowSchema.js"

/** The largest replayable record, in bytes: header and rows. A larger one gets no `record`. */
export const maxReplayBytes = 1024 * 1024

/** Most rejections held back for one occurrence before they go out without a record. */
const maxHeld = 4096

interface Group {
  readonly key: Key
  /** The first accepted row: its incident columns are the incident's, and later rows must agree. */
  first: { readonly line: number; readonly body: Body } | undefined
  readonly children: Array<Child.Child>
  /** Each person_ref accepted so far, with its line. */
  readonly people: Map<string, number>
  /** The occurrence's rows as received, for its rejections' record; undefined once over budget. */
  rows: Array<string> | undefined
}

/** A rejection of one of the open occurrence's rows, whose record is known once the occurrence ends. */
interface Pending {
  readonly line: number
  readonly field: string | undefined
  readonly reason: string
  readonly occurrence: Ids.OccurrenceRef
}

/** The header: each position's canonical column (undefined for an ignored one) and its name in the feed. */
interface Header {
  readonly columns: ReadonlyArray<Column | undefined>
  readonly names: ReadonlyArray<string>
  /** The header line as received, with its line end, to begin each record. */
  readonly text: string
  readonly bytes: number
}

const unreadable: Record<CsvUnreadable["reason"], string> = {
  UnclosedQuote: "a quoted value is never closed; reading resumed on the next line",
  TooLong: `the row is longer than ${maxRecordBytes} bytes, so a quote is probably unbalanced; reading resumed on the next line`
}

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

/** A record's text with its line end; the feed's last line may have none, a record always does. */
const withEol = (record: CsvRecord): string => record.text + (record.eol === "" ? "\n" : record.eol)

export class IncidentAssembler {
  /** Set when the header is refused: nothing after it can be read. */
  halted = false
  private header: Header | undefined
  private group: Group | undefined
  /** What the open occurrence's rows gave, in order, until the occurrence ends. */
  private held: Array<Rejection.Rejection | Pending> = []
  private heldBytes = 0
  /** Every occurrence and version begun so far, to notice one that comes back later. */
  private readonly begun = new FingerprintSet()
  private readonly delimiter: string
  /** What the delimiter is called in a reason. */
  private readonly delimiters: string

  constructor(
    private readonly source: Ids.SourceId,
    private readonly mapping: NicheMapping,
    private readonly rows: RowSchema
  ) {
    this.delimiter = mapping.delimiter
    this.delimiters = { ",": "commas", ";": "semicolons", "\t": "tabs" }[mapping.delimiter]
  }

  accept(items: ReadonlyArray<CsvItem>): Array<SourcePlugin.Decoded> {
    const out: Array<SourcePlugin.Decoded> = []
    for (const item of items) {
      if (this.halted) break
      if (this.header === undefined) this.readHeader(item, out)
      else if (item._tag === "Unreadable") this.readUnreadable(this.header, item, out)
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

  private name(column: Column): string {
    return this.mapping.nameOf(column)
  }

  private reject(
    line: number,
    field: string | undefined,
    reason: string,
    occurrence?: Ids.OccurrenceRef,
    record?: string
  ): Rejection.Rejection {
    return new Rejection.Rejection({
      source: this.source,
      locator: `line ${line}`,
      reason,
      ...(field === undefined ? {} : { field }),
      ...(occurrence === undefined ? {} : { occurrence }),
      ...(record === undefined ? {} : { record: Redacted.make(record) })
    }, decoded)
  }

  /** Whether output is being held back for the open occurrence. */
  private get holding(): boolean {
    return this.group?.rows !== undefined
  }

  /** Emits a rejection of a row outside the open occurrence, in line order with the occurrence's own. */
  private emit(rejection: Rejection.Rejection, bytes: number, out: Array<SourcePlugin.Decoded>): void {
    if (!this.holding) return void out.push(rejection)
    this.held.push(rejection)
    this.hold(bytes, out)
  }

  /** Rejects a row of the open occurrence; its record is written when the occurrence ends. */
  private rejectInGroup(pending: Pending, out: Array<SourcePlugin.Decoded>): void {
    if (!this.holding) return void out.push(this.reject(pending.line, pending.field, pending.reason, pending.occurrence))
    this.held.push(pending)
    this.hold(0, out)
  }

  /** Counts what is held; past the budget, releases it without the occurrence's record. */
  private hold(bytes: number, out: Array<SourcePlugin.Decoded>): void {
    this.heldBytes += bytes
    if ((this.header?.bytes ?? 0) + this.heldBytes <= maxReplayBytes && this.held.length <= maxHeld) return
    this.release(undefined, out)
    if (this.group !== undefined) this.group.rows = undefined
  }

  /** Emits everything held, the open occurrence's rejections with `record`. */
  private release(record: string | undefined, out: Array<SourcePlugin.Decoded>): void {
    for (const item of this.held) {
      out.push(item instanceof Rejection.Rejection ? item : this.reject(item.line, item.field, item.reason, item.occurrence, record))
    }
    this.held = []
    this.heldBytes = 0
  }

  /** The record of a row that belongs to no occurrence: the header and the row alone. */
  private own(header: Header, row: string, bytes: number): string | undefined {
    return header.bytes + bytes <= maxReplayBytes ? header.text + row : undefined
  }

  private halt(line: number, field: string | undefined, reason: string, out: Array<SourcePlugin.Decoded>): void {
    this.halted = true
    out.push(this.reject(line, field, reason))
  }

  private readHeader(item: CsvItem, out: Array<SourcePlugin.Decoded>): void {
    if (item._tag === "Unreadable" || item.badQuote >= 0) {
      return this.halt(item.line, undefined, "the header row could not be read: its quoting is broken", out)
    }
    const fold = this.mapping.headerCaseInsensitive ? (name: string) => name.toLowerCase() : (name: string) => name
    // Each name the mapping expects, folded: its column, or null for a column to read past.
    const expected = new Map<string, Column | null>([
      ...columns.map((column) => [fold(this.name(column)), column] as const),
      ...this.mapping.ignoreColumns.map((name) => [fold(name), null] as const)
    ])
    const names = item.cells.map((cell) => cell.trim())
    const found = names.map((name) => expected.get(fold(name)))
    const present = new Set(found)
    const missing = columns.filter((column) => !optionalColumns.has(column) && !present.has(column)).map((c) => this.name(c))
    // Unknown names are given by position only: if the header row itself is missing, the first
    // row read as a header holds a child's details.
    const unknown = found.flatMap((column, i) => (column === undefined ? [i + 1] : []))
    const folded = names.map(fold)
    const repeated = names.filter((_name, i) => found[i] !== undefined && folded.indexOf(folded[i] ?? "") !== i)
    const problems = [
      missing.length > 0 ? `missing required column(s) ${missing.join(", ")}` : undefined,
      unknown.length > 0 ? `unknown column(s) at position(s) ${unknown.join(", ")}` : undefined,
      repeated.length > 0 ? `column(s) listed twice: ${[...new Set(repeated)].join(", ")}` : undefined
    ].filter((problem) => problem !== undefined)
    if (problems.length > 0) {
      const field = missing.length > 0 ? missing.join(", ") : undefined
      return this.halt(item.line, field, `the header is not the Niche export's: ${problems.join("; ")}`, out)
    }
    this.header = {
      columns: found.map((column) => column ?? undefined),
      names: found.map((column, i) => (column === null || column === undefined ? names[i] ?? "" : this.name(column))),
      text: withEol(item),
      bytes: item.bytes
    }
  }

  private readUnreadable(header: Header, item: CsvUnreadable, out: Array<SourcePlugin.Decoded>): void {
    const record = item.text === undefined ? undefined : this.own(header, item.text, item.text.length)
    this.emit(this.reject(item.line, undefined, unreadable[item.reason], undefined, record), item.text?.length ?? 0, out)
  }

  /**
   * A quoted value may hold line breaks, but only an address (or a column read past) plausibly
   * does, and never one with a whole row's delimiters: that is what unbalanced quotes on two rows
   * produce, and accepting it would hide the rows between inside another child's address.
   */
  private strayLineBreak(header: Header, record: CsvRecord): { readonly field: string; readonly reason: string } | undefined {
    for (const [i, column] of header.columns.entries()) {
      const cell = record.cells[i] ?? ""
      if (!cell.includes("\n")) continue
      const field = header.names[i] ?? ""
      if (column !== undefined && !multiLineColumns.has(column)) {
        const reason = `holds a line break, which only an address may; the row runs on to line ${record.lastLine}, so a quote may be unbalanced`
        return { field, reason }
      }
      if (cell.split(this.delimiter).length >= header.columns.length) {
        const reason = `runs on to line ${record.lastLine} holding a whole row's worth of ${this.delimiters}, so a quote is probably unbalanced`
        return { field, reason }
      }
    }
    return undefined
  }

  private describe(issues: ReadonlyArray<CellIssue>): string {
    return issues.length === 0
      ? "the row could not be decoded"
      : issues.map((issue, i) => (i === 0 ? issue.message : `${this.name(issue.column)}: ${issue.message}`)).join("; also ")
  }

  private readRow(header: Header, record: CsvRecord, out: Array<SourcePlugin.Decoded>): void {
    const { cells: raw, line } = record
    // A row that belongs to no occurrence: rejected with itself as its record.
    const alone = (field: string | undefined, reason: string) =>
      this.emit(this.reject(line, field, reason, undefined, this.own(header, withEol(record), record.bytes)), record.bytes, out)
    if (record.badQuote >= 0) {
      return alone(header.names[record.badQuote], "the quoting is broken: a quote inside an unquoted value, or text after a closing quote")
    }
    // A row of empty cells (padding some exports add) carries nothing.
    if (raw.every((cell) => cell.trim() === "")) return
    if (raw.length !== header.columns.length) {
      const runsOn = record.lastLine > line ? `; it runs on to line ${record.lastLine}, so a quote may be unbalanced` : ""
      return alone(undefined, `has ${raw.length} columns but the header has ${header.columns.length}${runsOn}`)
    }
    const stray = record.lastLine > line ? this.strayLineBreak(header, record) : undefined
    if (stray !== undefined) return alone(stray.field, stray.reason)
    const cells: Cells = {}
    const undecodable: Array<CellIssue> = []
    header.columns.forEach((column, i) => {
      if (column === undefined) return
      const cell = (raw[i] ?? "").trim()
      if (cell === "") return
      cells[column] = cell
      if (cell.includes("\uFFFD")) undecodable.push({ column, message: "is not valid UTF-8" })
    })
    const key = this.rows.decodeKey(cells)
    const body = this.rows.decodeBody(cells)
    const failed = Either.isLeft(key) || Either.isLeft(body) || undecodable.length > 0
    const issues = failed
      ? inColumnOrder([...undecodable, ...(Either.isLeft(key) ? key.left : []), ...(Either.isLeft(body) ? body.left : [])])
      : []
    const first = issues[0] === undefined ? undefined : this.name(issues[0].column)
    if (Either.isLeft(key) || undecodable.some((issue) => issue.column === "occurrence_number" || issue.column === "version")) {
      // The row's incident is unknown, so it neither ends the current group nor starts one.
      return alone(first, this.describe(issues))
    }
    const occurrence = key.right.occurrence_number
    let group = this.group
    if (group === undefined || group.key.occurrence_number !== occurrence || group.key.version !== key.right.version) {
      this.close(out)
      if (!this.begun.add(`${key.right.version}|${occurrence}`)) {
        // No record: the problem is where the row stands in the feed, which the row alone cannot show.
        const reason =
          "this occurrence and version already appeared earlier in the feed with other rows in between; an occurrence's rows must be listed together"
        return void out.push(this.reject(line, this.name("occurrence_number"), reason, occurrence))
      }
      group = this.group = { key: key.right, first: undefined, children: [], people: new Map(), rows: [] }
    }
    if (group.rows !== undefined) {
      group.rows.push(withEol(record))
      this.hold(record.bytes, out)
    }
    if (Either.isLeft(body) || undecodable.length > 0) {
      return this.rejectInGroup({ line, field: first, reason: this.describe(issues), occurrence }, out)
    }
    const row = body.right
    if (group.first !== undefined) {
      const column = disagreement(group.first.body, row)
      if (column !== undefined) {
        const reason = `differs from line ${group.first.line}, the occurrence's first row`
        return this.rejectInGroup({ line, field: this.name(column), reason, occurrence }, out)
      }
    }
    const earlier = group.people.get(row.person_ref)
    if (earlier !== undefined) {
      const reason = `the same person is already listed on this occurrence, at line ${earlier}`
      return this.rejectInGroup({ line, field: this.name("person_ref"), reason, occurrence }, out)
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

  /**
   * Ends the open occurrence: emits what it held (its rejections with its rows as their record)
   * and then its incident, unless every one of its rows was rejected.
   */
  private close(out: Array<SourcePlugin.Decoded>): void {
    const group = this.group
    this.group = undefined
    const header = this.header
    const record = group?.rows !== undefined && header !== undefined && this.held.some((item) => !(item instanceof Rejection.Rejection))
      ? header.text + group.rows.join("")
      : undefined
    this.release(record, out)
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
