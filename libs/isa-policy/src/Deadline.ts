/**
 * When a recipient must have a notification: the agreement's start-of-day time, local, on the
 * first school day whose start is strictly after the incident (DESIGN.md §5; domain.md
 * requirement 8). It drives monitoring and escalation only; notifications are never held to it.
 */
import { CalendarDate } from "@encompass/domain"
import { DateTime, Option } from "effect"
import type { Agreement } from "./Agreement.js"
import * as SchoolCalendar from "./SchoolCalendar.js"

/**
 * The school-day test an agreement asks for. A `school-calendar` agreement without the calendar
 * (or its region) falls back to weekdays: calendar school days are a subset of weekdays, so the
 * fallback deadline is never later than the calendar's.
 */
export const schoolDayTest = (agreement: Agreement, calendar: SchoolCalendar.SchoolCalendar | undefined): SchoolCalendar.SchoolDay => {
  const { schoolDays, calendarRegion } = agreement.deadline
  if (schoolDays === "weekdays" || calendar === undefined || calendarRegion === undefined) return SchoolCalendar.isWeekday
  return Option.getOrElse(SchoolCalendar.schoolDays(calendar, calendarRegion), () => SchoolCalendar.isWeekday)
}

/** Enough days to cross any summer holiday plus a file's worth of closures. */
const horizonDays = 400

const firstStartAfter = (
  occurredAt: DateTime.Utc,
  agreement: Agreement,
  isSchoolDay: SchoolCalendar.SchoolDay
): Option.Option<DateTime.Utc> => {
  const [hours, minutes] = agreement.deadline.time.split(":").map(Number) as [number, number]
  const local = DateTime.toParts(DateTime.setZone(occurredAt, agreement.timeZone))
  for (let offset = 0; offset < horizonDays; offset++) {
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + offset))
    if (!isSchoolDay(CalendarDate.CalendarDate.make(day.toISOString().slice(0, 10)))) continue
    const start = DateTime.unsafeMakeZoned(
      { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hours, minutes },
      { timeZone: agreement.timeZone, adjustForTimeZone: true }
    )
    if (DateTime.greaterThan(start, occurredAt)) return Option.some(DateTime.toUtc(start))
  }
  return Option.none()
}

/**
 * The deadline for an incident that occurred at `occurredAt`. Days are stepped on the local
 * calendar and each candidate is built from local wall-clock parts, so the result is right on
 * either side of a BST/GMT change. A calendar with no school day within the horizon (a broken
 * file) gives the weekday deadline, which is earlier, never later.
 */
export const due = (
  occurredAt: DateTime.Utc,
  agreement: Agreement,
  calendar?: SchoolCalendar.SchoolCalendar
): DateTime.Utc =>
  Option.getOrElse(
    Option.orElse(firstStartAfter(occurredAt, agreement, schoolDayTest(agreement, calendar)), () =>
      firstStartAfter(occurredAt, agreement, SchoolCalendar.isWeekday)),
    // Every seven consecutive days hold a weekday, so the weekday search always finds one.
    () => occurredAt
  )
