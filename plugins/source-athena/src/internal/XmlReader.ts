/**
 * Reads XML bytes chunk by chunk with saxes and hands back each element directly inside the root
 * (a record) once its end tag has been read, so memory holds one record at most. It is where the
 * feed's safety limits live:
 *
 * - A DOCTYPE ends the feed as soon as saxes reports it: a DTD is how entity bombs and external
 *   entities get in. saxes never expands entities declared in one either, so an entity other than
 *   the five predefined ones is a well-formedness error.
 * - saxes holds a whole text node, tag, comment or DOCTYPE before reporting it, so the distance
 *   between two completed tokens is bounded (maxTextLength), checked at every event and after
 *   every chunk; elements may nest only maxDepth deep, bounding saxes's stack of open tags.
 *   Either breach ends the feed: there is no way to step over the rest of such a token.
 * - A record longer than maxRecordChars is dropped as it is read and reported once; reading goes
 *   on with the next record.
 *
 * XML cannot resume after a well-formedness error, so the first one ends the feed too. Every limit
 * is checked at a position in the text, never at a chunk boundary, so the output is the same
 * however the bytes arrive.
 */
import { SaxesParser } from "saxes"
import type { SaxesTagPlain } from "saxes"
import type { XmlElement } from "./XmlElement.js"

export interface Limits {
  readonly maxDepth: number
  readonly maxTextLength: number
  readonly maxRecordChars: number
}

/** A record whose start tag has been seen. */
export interface RecordStart {
  /** Its number among the root's children named as records (`Occurrence`), or undefined for another element. */
  readonly ordinal: number | undefined
  readonly name: string
  readonly line: number
  /** Its attributes, once its start tag has been read whole. */
  readonly attributes: XmlElement["attributes"] | undefined
}

export type XmlItem =
  | { readonly _tag: "Root"; readonly root: Omit<XmlElement, "children"> }
  | { readonly _tag: "Record"; readonly ordinal: number | undefined; readonly element: XmlElement }
  /** A record longer than maxRecordChars: dropped unread, reading goes on after it. */
  | { readonly _tag: "Oversize"; readonly record: RecordStart }
  /** Text directly inside the root, outside any record. */
  | { readonly _tag: "Text"; readonly line: number }
  /** Nothing after this point is read. `open` is the record it cut short, unless already reported. */
  | {
    readonly _tag: "Fatal"
    readonly line: number
    readonly column: number
    readonly reason: string
    readonly open: RecordStart | undefined
  }

interface OpenRecord {
  start: RecordStart
  /** Where its start tag begins, in characters from the start of the feed. */
  readonly begin: number
  /** The record's open elements, outermost first; emptied once it is dropped. */
  stack: Array<XmlElement>
  dropped: boolean
}

interface Position {
  readonly line: number
  readonly column: number
}

/**
 * saxes prefixes `line:column`, and a few messages end with a name from the feed (`unclosed tag:
 * X`), which is cut off: after an earlier mistake it may be a child's name read as a tag.
 */
const describeError = (error: Error): string => {
  const message = (error.message.replace(/^\d+:\d+: /, "").split(": ")[0] ?? "").replace(/\.$/, "")
  return message === "undefined entity"
    ? "an entity reference other than the five XML predefines (&amp; &lt; &gt; &quot; &apos;): entities are never expanded"
    : `the feed is not well-formed XML (${message})`
}

export class XmlReader {
  // Not fatal: a malformed sequence becomes U+FFFD, which fails the one field holding it, so the
  // output does not depend on where a chunk happens to end. A leading byte-order mark is dropped.
  private readonly utf8 = new TextDecoder("utf-8")
  private readonly parser = new SaxesParser()
  private items: Array<XmlItem> = []
  private halted = false
  /** Characters given to the parser so far. */
  private written = 0
  /** A CR at the end of a chunk waits for the next: saxes would otherwise hold it back uncounted. */
  private carry = ""
  private depth = 0
  /** The line of the start tag being read. */
  private tagLine = 1
  /** Where the token being read began: just after the last one completed. */
  private tokenBegin = 0
  private tokenAt: Position = { line: 1, column: 1 }
  private record: OpenRecord | undefined
  private ordinals = 0

  constructor(private readonly limits: Limits, private readonly recordName: string) {
    const p = this.parser
    p.on("xmldecl", (decl) => {
      if (this.complete() === undefined) return
      if (decl.encoding !== undefined && decl.encoding.toLowerCase() !== "utf-8") {
        this.fail("the XML declaration names an encoding other than UTF-8, the only one this export uses")
      }
    })
    p.on("doctype", () => {
      this.fail("the feed has a DOCTYPE declaration: DTDs are refused, since they can declare entities (an entity bomb, or an external entity that reads a file)")
    })
    p.on("processinginstruction", () => void this.complete())
    p.on("comment", () => void this.complete())
    p.on("text", (text) => this.text(text))
    p.on("cdata", (text) => this.text(text))
    p.on("opentagstart", (tag) => this.openStart(tag.name))
    p.on("opentag", (tag) => this.open(tag))
    p.on("closetag", () => this.close())
    p.on("error", (error) => this.fail(describeError(error)))
  }

  push(bytes: Uint8Array): Array<XmlItem> {
    return this.feed(this.utf8.decode(bytes, { stream: true }), false)
  }

  /** Reads what is left once the feed has ended. */
  end(): Array<XmlItem> {
    return this.feed(this.utf8.decode(), true)
  }

  private feed(decoded: string, final: boolean): Array<XmlItem> {
    this.items = []
    let text = this.carry + decoded
    this.carry = ""
    if (!final && text.endsWith("\r")) {
      this.carry = "\r"
      text = text.slice(0, -1)
    }
    if (!this.halted && text.length > 0) {
      this.parser.write(text)
      this.written += text.length
      if (!this.halted && this.written - this.tokenBegin > this.limits.maxTextLength) this.tooLong()
    }
    if (final && !this.halted) {
      if (this.written === 0) this.fail("the feed is empty: it has no AthenaExport element")
      else this.parser.close()
    }
    return this.items
  }

  /**
   * Called as each token completes: checks the token and the open record against the limits and
   * returns where the token began, or undefined once reading has stopped.
   */
  private complete(): Position | undefined {
    if (this.halted) return undefined
    const at = this.parser.position
    if (at - this.tokenBegin > this.limits.maxTextLength) return void this.tooLong()
    const record = this.record
    if (record !== undefined && !record.dropped && at - record.begin > this.limits.maxRecordChars) {
      record.dropped = true
      record.stack = []
      this.items.push({ _tag: "Oversize", record: record.start })
    }
    const began = this.tokenAt
    this.tokenBegin = at
    // saxes's column counts the characters read on the line: the next token starts one further on.
    this.tokenAt = { line: this.parser.line, column: this.parser.column + 1 }
    return began
  }

  private tooLong(): void {
    const reason = `a single text, tag, comment or declaration runs on for more than maxTextLength (${this.limits.maxTextLength} characters)`
    this.fail(reason, this.tokenAt)
  }

  private fail(reason: string, at: Position = { line: this.parser.line, column: this.parser.column }): void {
    if (this.halted) return
    this.halted = true
    const open = this.record === undefined || this.record.dropped ? undefined : this.record.start
    this.items.push({ _tag: "Fatal", line: at.line, column: at.column, reason, open })
  }

  private text(text: string): void {
    const began = this.complete()
    if (began === undefined) return
    const leading = text.length - text.trimStart().length
    if (this.depth === 1 && leading < text.length) {
      // The line the text itself starts on, past the line breaks before it.
      this.items.push({ _tag: "Text", line: began.line + text.slice(0, leading).split("\n").length - 1 })
    }
    if (this.record?.dropped === false) this.record.stack.at(-1)?.children.push(text)
  }

  private openStart(name: string): void {
    if (this.halted) return
    this.depth++
    this.tagLine = this.parser.line
    if (this.depth > this.limits.maxDepth) return this.fail(`elements nest deeper than maxDepth (${this.limits.maxDepth})`)
    if (this.depth === 2) {
      const ordinal = name === this.recordName ? ++this.ordinals : undefined
      this.record = { start: { ordinal, name, line: this.tagLine, attributes: undefined }, begin: this.tokenBegin, stack: [], dropped: false }
    }
  }

  private open(tag: SaxesTagPlain): void {
    if (this.complete() === undefined) return
    const attributes = Object.entries(tag.attributes)
    if (this.depth === 1) return void this.items.push({ _tag: "Root", root: { name: tag.name, attributes, line: this.tagLine } })
    const record = this.record
    if (record === undefined) return
    if (this.depth === 2) record.start = { ...record.start, attributes }
    if (record.dropped) return
    const element: XmlElement = { name: tag.name, attributes, children: [], line: this.tagLine }
    record.stack.at(-1)?.children.push(element)
    record.stack.push(element)
  }

  private close(): void {
    if (this.complete() === undefined) return
    const record = this.record
    if (record !== undefined) {
      const element = record.stack.pop()
      if (this.depth === 2) {
        if (element !== undefined) this.items.push({ _tag: "Record", ordinal: record.start.ordinal, element })
        this.record = undefined
      }
    }
    this.depth--
  }
}
