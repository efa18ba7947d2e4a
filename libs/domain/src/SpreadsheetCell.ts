/**
 * Spreadsheet formula injection (OWASP "CSV Injection"). A cell that begins with `=`, `+`, `-`
 * or `@` (or their full-width forms), or with a tab or a carriage return, is run as a formula when
 * the file is opened in a spreadsheet: `=HYPERLINK(…)` leaks data, `@cmd|…` runs a program on the
 * DSL's machine. Some applications look past leading spaces and double quotes, so we do too.
 *
 * Two defences, one definition: the canonical schemas refuse such a value where a name or an
 * address is read (`noFormula`), and whatever we print or write as a cell is neutralised by a
 * leading `'`, which spreadsheets read as "this is text" (`neutralise`, `neutraliseText`).
 */
import { Schema } from "effect"

/** Tab or CR first, or one of the formula characters after any spaces and double quotes. */
const pattern = String.raw`^(?:[\t\r]|[ \u00A0\u3000"]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])`
const trigger = new RegExp(pattern)
/** The same test at a given position of a longer text (`lastIndex`), without copying it. */
const triggerAt = new RegExp(pattern.slice(1), "y")

/** Whether a spreadsheet would read the value as a formula. */
export const startsFormula = (value: string): boolean => trigger.test(value)

export const reason = "value begins with a spreadsheet formula character (= + - @, tab or carriage return)"

/** Refuses a value a spreadsheet would run; the failure names the field, never the value. */
export const noFormula = <A extends string, I, R>(self: Schema.Schema<A, I, R>): Schema.filter<Schema.Schema<A, I, R>> =>
  self.pipe(Schema.filter((value: A) => !startsFormula(value), { message: () => reason, jsonSchema: { not: { pattern } } }))

/** A string a spreadsheet would not run. */
export const Text = Schema.String.pipe(noFormula)

/** The value as a cell that cannot run: prefixed with `'` when it would, otherwise unchanged. */
export const neutralise = (value: string): string => (startsFormula(value) ? `'${value}` : value)

const separators = new Set([",", ";", "\t", "\r", "\n"])

/**
 * Delimited text (a CSV record, or text a person may paste into a spreadsheet) with every cell
 * neutralised. The delimiter is not known here, so a comma, a semicolon and a tab all start a
 * cell, as some spreadsheet would read them; a quoted cell is neutralised inside its quotes, so
 * the file still parses as before. Text with no such cell comes back unchanged.
 */
export const neutraliseText = (text: string): string => {
  let out = ""
  let quoted = false
  let atCellStart = true
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (atCellStart && !separators.has(char)) {
      atCellStart = false
      const opensQuote = char === "\""
      triggerAt.lastIndex = opensQuote ? i + 1 : i
      if (triggerAt.test(text)) {
        out += opensQuote ? "\"'" : "'"
        if (opensQuote) {
          quoted = true
          continue
        }
      }
    }
    if (char === "\"") quoted = !quoted
    else if (!quoted && separators.has(char)) atCellStart = true
    out += char
  }
  return out
}
