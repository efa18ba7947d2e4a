/**
 * Reads a directory CSV into rows by column name, each with the line it starts on: the header
 * must name every required column once; a row with the wrong number of fields is a problem of
 * its own. Messages never quote a cell (it may be an email address).
 */
import { CsvError, parse } from "csv-parse/sync"
import type { InfoRecord } from "csv-parse/sync"
import { Either } from "effect"
import { DirectoryIssue } from "../DirectoryError.js"

export interface Row<Column extends string> {
  readonly line: number
  readonly cells: Readonly<Record<Column, string>>
}

export interface Table<Column extends string> {
  readonly rows: ReadonlyArray<Row<Column>>
  readonly issues: ReadonlyArray<DirectoryIssue>
}

interface Parsed {
  readonly record: ReadonlyArray<string>
  readonly info: InfoRecord
}

const records = (text: string): Either.Either<ReadonlyArray<{ line: number; cells: ReadonlyArray<string> }>, DirectoryIssue> => {
  try {
    // With `info`, csv-parse returns { record, info } per row; its typings only describe plain rows.
    const rows = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as ReadonlyArray<Parsed>
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

/** The file's rows by column (an optional column the file leaves out reads as empty), and every problem. */
export const read = <Required extends string, Optional extends string>(
  text: string,
  columns: ReadonlyArray<Required>,
  optionalColumns: ReadonlyArray<Optional>
): Table<Required | Optional> => {
  const parsed = records(text)
  if (Either.isLeft(parsed)) return { rows: [], issues: [parsed.left] }
  const [header, ...rows] = parsed.right
  if (header === undefined) return { rows: [], issues: [new DirectoryIssue({ line: 1, message: "no header row" })] }

  const names = header.cells.map((cell) => cell.toLowerCase())
  const headerIssues = [
    ...columns
      .filter((column) => !names.includes(column))
      .map((column) => new DirectoryIssue({ line: header.line, column, message: "missing column in the header" })),
    ...names
      .filter((name, index) => names.indexOf(name) !== index)
      .map((column) => new DirectoryIssue({ line: header.line, column, message: "column appears twice in the header" }))
  ]
  if (headerIssues.length > 0) return { rows: [], issues: headerIssues }

  const table: Array<Row<Required | Optional>> = []
  const issues: Array<DirectoryIssue> = []
  for (const { cells, line } of rows) {
    if (cells.length !== names.length) {
      issues.push(new DirectoryIssue({ line, message: `row has ${cells.length} fields, the header has ${names.length}` }))
      continue
    }
    const byColumn = Object.fromEntries(
      [...columns, ...optionalColumns].map((column) => [column, cells[names.indexOf(column)] ?? ""])
    ) as Record<Required | Optional, string>
    table.push({ line, cells: byColumn })
  }
  return { rows: table, issues }
}
