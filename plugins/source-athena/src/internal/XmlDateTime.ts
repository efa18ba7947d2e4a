/**
 * `OccurredAt`: an XML Schema dateTime with its offset, `2026-11-16T19:45:00Z` or
 * `2026-07-01T12:00:00+01:00`; seconds and fractions of a second are optional. The export writes
 * offsets, so unlike a wall-clock CSV time no time zone rules are needed; a time without one is
 * refused rather than guessed. Messages never quote the text.
 */
import { DateTime, ParseResult, Schema } from "effect"

const pattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/

const parse = (text: string): DateTime.Utc | undefined => {
  const match = pattern.exec(text)
  if (match === null) return undefined
  const [year, month, day, hours, minutes, seconds] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? "0")) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const millis = Math.floor(Number(`0${match[7] ?? ""}`) * 1000)
  const offsetHours = Number(match[10] ?? "0")
  const offsetMinutes = Number(match[11] ?? "0")
  // Date.UTC rolls 30 February over to 2 March, so a real date is one that reads back unchanged.
  const wall = Date.UTC(year, month - 1, day, hours, minutes, seconds, millis)
  const check = new Date(wall)
  const real = check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    hours <= 23 &&
    minutes <= 59 &&
    seconds <= 59 &&
    offsetHours <= 14 &&
    offsetMinutes <= 59
  if (!real) return undefined
  const offset = (match[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return DateTime.unsafeMake(wall - offset)
}

export const XmlDateTime = Schema.transformOrFail(Schema.String, Schema.DateTimeUtcFromSelf, {
  strict: true,
  decode: (text, _, ast) => {
    const utc = parse(text)
    return utc === undefined ? ParseResult.fail(new ParseResult.Type(ast, text)) : ParseResult.succeed(utc)
  },
  encode: (utc) => ParseResult.succeed(DateTime.formatIso(utc))
}).annotations({
  message: (issue) =>
    typeof issue.actual === "string" && pattern.test(issue.actual)
      ? "not a real date and time"
      : "expected a date and time with its offset, as 2026-11-16T19:45:00Z or 2026-07-01T12:00:00+01:00"
})
