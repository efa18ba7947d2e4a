/**
 * When a recipient must have a notification: the agreement's start-of-day time, local, on the
 * first school day whose start is strictly after the incident (DESIGN.md §5; domain.md
 * requirement 8). It drives monitoring and escalation only; notifications are never held to it.
 */
import { DateTime } from "effect"
import type { Agreement, DeadlineRule } from "./Agreement.js"

const isSchoolDay = (rule: DeadlineRule, weekday: number): boolean => {
  switch (rule.schoolDays) {
    case "weekdays":
      return weekday >= 1 && weekday <= 5
  }
}

/**
 * The deadline for an incident that occurred at `occurredAt`. Days are stepped on the local
 * calendar and each candidate is built from local wall-clock parts, so the result is right on
 * either side of a BST/GMT change.
 */
export const due = (occurredAt: DateTime.Utc, agreement: Agreement): DateTime.Utc => {
  const [hours, minutes] = agreement.deadline.time.split(":").map(Number) as [number, number]
  const local = DateTime.toParts(DateTime.setZone(occurredAt, agreement.timeZone))
  // Every seven consecutive days hold a weekday, so this ends within a week.
  for (let offset = 0; ; offset++) {
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + offset))
    if (!isSchoolDay(agreement.deadline, day.getUTCDay())) continue
    const start = DateTime.unsafeMakeZoned(
      { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hours, minutes },
      { timeZone: agreement.timeZone, adjustForTimeZone: true }
    )
    if (DateTime.greaterThan(start, occurredAt)) return DateTime.toUtc(start)
  }
}
