/**
 * Splits UTF-8 CSV bytes into records one chunk at a time, keeping only the unfinished record
 * between chunks, so memory stays constant however large the feed. RFC 4180 quoting; cells are
 * separated by the mapping's delimiter (`,` by default); a record ends at LF or CRLF outside
 * quotes; a leading UTF-8 BOM is skipped. Each record keeps its text as received, so a rejected one
 * can be handed back for correction and replay.
 *
 * It counts physical lines itself because rejections must name the line a person will find in
 * the file: csv-parse 6 counts a CRLF inside a quoted value as two lines, and stops for good at
 * the first quoting error.
 */

// ASCII codes: the same as bytes of UTF-8 and as UTF-16 code units of decoded text.
const LF = 0x0a
const CR = 0x0d
const QUOTE = 0x22

/**
 * The longest record read, in bytes. A real row is a few hundred bytes; the bound keeps a quote
 * that is never closed from swallowing the rest of a 1 GB feed into memory.
 */
export const maxRecordBytes = 65_536

export interface CsvRecord {
  readonly _tag: "Record"
  /** Physical line (1-based) the record starts on. */
  readonly line: number
  /** Physical line it ends on: later than `line` when a quoted value holds line breaks. */
  readonly lastLine: number
  readonly cells: ReadonlyArray<string>
  /** Index of the first cell whose quoting is broken, or -1. */
  readonly badQuote: number
  /** The record's text as received, without its line end (line breaks inside quotes kept as they were). */
  readonly text: string
  /** The line end that followed it: `\r\n`, `\n`, or empty at the end of the feed. */
  readonly eol: string
  /** Its length in bytes, line end included. */
  readonly bytes: number
}

/** A stretch that could not be read as a record; reading resumes on the line after `line`. */
export interface CsvUnreadable {
  readonly _tag: "Unreadable"
  readonly line: number
  readonly reason: "UnclosedQuote" | "TooLong"
  /**
   * For an unclosed quote, the text of the line the record starts on, with its line end: that line
   * alone shows the problem. A record too long to read is never kept.
   */
  readonly text?: string
}

export type CsvItem = CsvRecord | CsvUnreadable

const empty = new Uint8Array(0)

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** A quoted cell's value, or undefined when its quotes are not well formed. */
const unquote = (raw: string): string | undefined => {
  if (raw.length < 2 || raw.charCodeAt(0) !== QUOTE || raw.charCodeAt(raw.length - 1) !== QUOTE) {
    return undefined
  }
  const inner = raw.slice(1, -1)
  if (inner.replaceAll('""', "").includes('"')) return undefined
  // Line breaks inside values read the same whether the export used CRLF or LF.
  return inner.replaceAll('""', '"').replaceAll("\r\n", "\n")
}

/**
 * Splits a record that contains quotes. Commas separate cells where an even number of quotes
 * precede them in the cell, the same toggle rule that found the record's end, so both always agree.
 */
const splitQuoted = (text: string, delimiter: number): { readonly cells: Array<string>; readonly badQuote: number } => {
  const cells: Array<string> = []
  let badQuote = -1
  let start = 0
  let quoted = false
  let sawQuote = false
  const close = (end: number) => {
    const raw = text.slice(start, end)
    const value = sawQuote ? unquote(raw) : raw
    if (value === undefined && badQuote < 0) badQuote = cells.length
    cells.push(value ?? raw)
    start = end + 1
    sawQuote = false
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      quoted = !quoted
      sawQuote = true
    } else if (c === delimiter && !quoted) {
      close(i)
    }
  }
  close(text.length)
  return { cells, badQuote }
}

interface QuotedEnd {
  /** The LF ending the record, or -1 if none comes before `stop`. */
  readonly end: number
  /** LFs inside quoted values on the way. */
  readonly breaks: number
  /** Whether `stop` was reached inside a quoted value. */
  readonly quoted: boolean
}

/**
 * Finds where a record that holds quotes ends: the first LF outside quotes, every quote
 * toggling in and out (a doubled quote toggles twice). Jumps between quotes and LFs with
 * `indexOf` rather than visiting every byte.
 */
const quotedEnd = (buf: Uint8Array, start: number, stop: number): QuotedEnd => {
  let breaks = 0
  let at = start
  let lf = buf.indexOf(LF, start)
  for (;;) {
    const quote = buf.indexOf(QUOTE, at)
    if (lf !== -1 && lf < stop && (quote === -1 || lf < quote)) return { end: lf, breaks, quoted: false }
    if (quote === -1 || quote >= stop) return { end: -1, breaks, quoted: false }
    const closing = buf.indexOf(QUOTE, quote + 1)
    const limit = closing === -1 || closing >= stop ? stop : closing
    while (lf !== -1 && lf < limit) {
      breaks++
      lf = buf.indexOf(LF, lf + 1)
    }
    if (limit === stop) return { end: -1, breaks, quoted: true }
    at = closing + 1
  }
}

export class CsvReader {
  private carry: Uint8Array = empty
  private line = 1
  private started = false
  /** After an unreadable stretch: discarding up to the end of the line it started on. */
  private skipping = false
  // ignoreBOM keeps a U+FEFF inside the data as data; the file's own BOM is skipped in `read`.
  private readonly utf8 = new TextDecoder("utf-8", { ignoreBOM: true })
  private readonly separator: string

  /** `delimiter`: the one ASCII character between cells. */
  constructor(private readonly delimiter = 0x2c) {
    this.separator = String.fromCharCode(delimiter)
  }

  push(bytes: Uint8Array): Array<CsvItem> {
    return this.read(concat(this.carry, bytes), false)
  }

  /** Reads what is left when the feed has ended. */
  end(): Array<CsvItem> {
    const items = this.read(this.carry, true)
    this.carry = empty
    return items
  }

  private read(buf: Uint8Array, final: boolean): Array<CsvItem> {
    const items: Array<CsvItem> = []
    const len = buf.length
    let pos = 0
    if (!this.started) {
      if (len < 3 && !final) {
        this.carry = buf
        return items
      }
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3
      this.started = true
    }
    // Index of the next quote at or after `pos` (-1: none left in this buffer); found lazily.
    let quote = -2
    while (pos < len) {
      const lf = buf.indexOf(LF, pos)
      if (this.skipping) {
        if (lf === -1) {
          pos = len
          break
        }
        this.skipping = false
        this.line++
        pos = lf + 1
        continue
      }
      if (quote !== -1 && quote < pos) quote = buf.indexOf(QUOTE, pos)
      if (quote === -1 || (lf !== -1 && quote > lf)) {
        // No quote before the line break: the record is this one physical line.
        const end = lf === -1 ? len : lf
        if (end - pos > maxRecordBytes) {
          items.push(this.unreadable("TooLong"))
          continue
        }
        if (lf === -1 && !final) break
        this.emit(items, buf, pos, end, 0, false)
        pos = end + 1
        continue
      }
      const stop = Math.min(len, pos + maxRecordBytes + 1)
      const scan = quotedEnd(buf, pos, stop)
      if (scan.end === -1 && stop - pos > maxRecordBytes) {
        items.push(this.unreadable("TooLong"))
        continue
      }
      if (scan.end === -1 && !final) break
      if (scan.end === -1 && scan.quoted) {
        items.push(this.unreadable("UnclosedQuote", this.lineText(buf, pos)))
        continue
      }
      const end = scan.end === -1 ? len : scan.end
      this.emit(items, buf, pos, end, scan.breaks, true)
      pos = end + 1
    }
    this.carry = final || pos >= len ? empty : buf.subarray(pos)
    return items
  }

  /** Reports the record starting at the current line and skips to the end of that line. */
  private unreadable(reason: CsvUnreadable["reason"], text?: string): CsvUnreadable {
    this.skipping = true
    return text === undefined ? { _tag: "Unreadable", line: this.line, reason } : { _tag: "Unreadable", line: this.line, reason, text }
  }

  /** The physical line starting at `start`, with its line end (LF when it has none). */
  private lineText(buf: Uint8Array, start: number): string {
    const lf = buf.indexOf(LF, start)
    return this.utf8.decode(buf.subarray(start, lf === -1 ? buf.length : lf + 1)) + (lf === -1 ? "\n" : "")
  }

  private emit(items: Array<CsvItem>, buf: Uint8Array, start: number, end: number, breaks: number, quoted: boolean): void {
    const line = this.line
    this.line += breaks + 1
    const stop = end > start && buf[end - 1] === CR ? end - 1 : end
    // Blank lines carry nothing and are skipped.
    if (stop === start) return
    const text = this.utf8.decode(buf.subarray(start, stop))
    const { badQuote, cells } = quoted ? splitQuoted(text, this.delimiter) : { cells: text.split(this.separator), badQuote: -1 }
    const eol = end === buf.length ? "" : stop < end ? "\r\n" : "\n"
    items.push({ _tag: "Record", line, lastLine: line + breaks, cells, badQuote, text, eol, bytes: end - start + (eol === "" ? 0 : 1) })
  }
}
