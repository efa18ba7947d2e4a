/**
 * `incident_datetime`: by default ISO 8601 wall-clock time in Europe/London (`2026-11-16T19:45`,
 * seconds optional, `T` or a space), or with an explicit offset (`2026-11-16T19:45Z`, `+01:00`);
 * a field mapping may give another pattern (`dd/MM/yyyy HH:mm`), always read as London wall-clock
 * time. Wall-clock times are converted with Effect's zoned DateTime, so British Summer Time is
 * honoured. Across a changeover the rule is Temporal's "compatible" one: a time that occurs twice
 * (01:xx on the last Sunday of October) is the first, BST one; a time that never occurs (01:xx on
 * the last Sunday of March) is read as if the clocks had not yet gone forward, i.e. as GMT.
 */
import { DateTime, Option, ParseResult, Schema } from "effect"
import type { DateFormat, Parts } from "./DateFormat.js"

const pattern = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/

const london = DateTime.zoneUnsafeMakeNamed("Europe/London")

// Resolving a zoned time costs several Intl calls (about 11 µs). London's clocks change on the
// hour, so every minute of a local hour has the same offset: offsets are memoised per local hour,
// a few thousand of which cover a year's feed. The map is cleared when full, so it stays small.
const offsets = new Map<number, number>()
const offsetsLimit = 16_384
const hourMillis = 3_600_000

/** Europe/London's offset from UTC for a local hour given as if it were UTC milliseconds. */
const londonOffset = (localHour: number): number | undefined => {
  const cached = offsets.get(localHour)
  if (cached !== undefined) return cached
  const hour = new Date(localHour)
  const zoned = DateTime.makeZoned(
    { year: hour.getUTCFullYear(), month: hour.getUTCMonth() + 1, day: hour.getUTCDate(), hours: hour.getUTCHours() },
    { timeZone: london, adjustForTimeZone: true, disambiguation: "compatible" }
  )
  if (Option.isNone(zoned)) return undefined
  const offset = localHour - zoned.value.epochMillis
  if (offsets.size >= offsetsLimit) offsets.clear()
  offsets.set(localHour, offset)
  return offset
}

const offsetMillis = (offset: string): number | undefined => {
  if (offset === "Z") return 0
  const hours = Number(offset.slice(1, 3))
  const minutes = Number(offset.slice(-2))
  if (hours > 14 || minutes > 59) return undefined
  return (offset.startsWith("-") ? -1 : 1) * (hours * 60 + minutes) * 60_000
}

/** The UTC instant of a London wall-clock time with an optional offset, or undefined if not real. */
const toUtc = (parts: Parts, offset: string | undefined): DateTime.Utc | undefined => {
  const { day, hours, minutes, month, seconds, year } = parts
  // As if the wall-clock time were UTC; Date.UTC rolls 30 February over to 2 March (and years
  // below 100 into the 1900s), so a real date is one that reads back unchanged.
  const wall = Date.UTC(year, month - 1, day, hours, minutes, seconds)
  const check = new Date(wall)
  const real =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    hours <= 23 &&
    minutes <= 59 &&
    seconds <= 59
  if (!real) return undefined
  const millis = offset === undefined ? londonOffset(Math.floor(wall / hourMillis) * hourMillis) : offsetMillis(offset)
  return millis === undefined ? undefined : DateTime.unsafeMake(wall - millis)
}

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
  return toUtc({ year, month, day, hours, minutes, seconds }, match[7])
}

/** Decodes the cell to a UTC instant. Its messages never quote the cell. */
export const LondonDateTime = Schema.transformOrFail(Schema.String, Schema.DateTimeUtcFromSelf, {
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
      : "expected YYYY-MM-DDTHH:MM (UK local time) or an ISO 8601 time with offset"
})

/** The same for a mapping's own pattern, e.g. `dd/MM/yyyy HH:mm`: always UK local time. */
export const withFormat = (format: DateFormat) =>
  Schema.transformOrFail(Schema.String, Schema.DateTimeUtcFromSelf, {
    strict: true,
    decode: (text, _, ast) => {
      const parts = format.read(text)
      const utc = parts === undefined ? undefined : toUtc(parts, undefined)
      return utc === undefined ? ParseResult.fail(new ParseResult.Type(ast, text)) : ParseResult.succeed(utc)
    },
    encode: (utc) => ParseResult.succeed(DateTime.formatIso(utc))
  }).annotations({
    message: (issue) =>
      typeof issue.actual === "string" && format.read(issue.actual) !== undefined
        ? "not a real date and time"
        : `expected ${format.pattern} (UK local time)`
  })
