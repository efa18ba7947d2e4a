/**
 * Splits a byte stream into lines without holding more than one line: a line over the limit is
 * dropped as it arrives and reported by number only, so a feed with no line breaks cannot pull
 * itself into memory.
 */
export type Line =
  | { readonly _tag: "Line"; readonly number: number; readonly bytes: Uint8Array }
  | { readonly _tag: "TooLong"; readonly number: number }

const LF = 0x0a
const CR = 0x0d

export class LineReader {
  private parts: Array<Uint8Array> = []
  private length = 0
  private overflow = false
  private number = 1

  constructor(private readonly maxBytes: number) {}

  push(bytes: Uint8Array): ReadonlyArray<Line> {
    const out: Array<Line> = []
    let start = 0
    for (let at = bytes.indexOf(LF); at !== -1; at = bytes.indexOf(LF, start)) {
      this.append(bytes.subarray(start, at))
      out.push(this.take())
      start = at + 1
    }
    this.append(bytes.subarray(start))
    return out
  }

  /** The last line, when the feed does not end with a line break. */
  end(): ReadonlyArray<Line> {
    return this.length === 0 && !this.overflow ? [] : [this.take()]
  }

  private append(bytes: Uint8Array): void {
    if (this.overflow || bytes.length === 0) return
    // One byte of slack for a CR that the line break will strip.
    if (this.length + bytes.length > this.maxBytes + 1) {
      this.overflow = true
      this.parts = []
      this.length = 0
      return
    }
    // Copied: the caller may reuse its buffer.
    this.parts.push(bytes.slice())
    this.length += bytes.length
  }

  private take(): Line {
    const number = this.number++
    if (this.overflow) {
      this.overflow = false
      return { _tag: "TooLong", number }
    }
    let bytes = this.parts.length === 1 && this.parts[0] !== undefined ? this.parts[0] : concat(this.parts, this.length)
    this.parts = []
    this.length = 0
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1)
    return bytes.length > this.maxBytes ? { _tag: "TooLong", number } : { _tag: "Line", number, bytes }
  }
}

const concat = (parts: ReadonlyArray<Uint8Array>, length: number): Uint8Array => {
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
