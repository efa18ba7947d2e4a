/**
 * A calendar date with no time or zone (a date of birth), as `YYYY-MM-DD`.
 */
import { Schema } from "effect"

const isRealDate = (s: string): boolean => {
  const [y, m, d] = s.split("-").map(Number) as [number, number, number]
  const date = new Date(Date.UTC(y, m - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d
}

export const CalendarDate = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}$/, { message: () => "expected a date as YYYY-MM-DD" }),
  Schema.filter(isRealDate, { message: () => "not a real calendar date" }),
  Schema.brand("CalendarDate")
)
export type CalendarDate = typeof CalendarDate.Type

/** Whole years from `birth` to `on` (both calendar dates): a person's age on a day. */
export const ageOn = (birth: CalendarDate, on: CalendarDate): number => {
  const [by, bm, bd] = birth.split("-").map(Number) as [number, number, number]
  const [oy, om, od] = on.split("-").map(Number) as [number, number, number]
  const hadBirthday = om > bm || (om === bm && od >= bd)
  return oy - by - (hadBirthday ? 0 : 1)
}
