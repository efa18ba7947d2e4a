/** Wall-clock views of an instant in an agreement's time zone. */
import { CalendarDate } from "@encompass/domain"
import { DateTime } from "effect"

/** The local calendar date of `at`: the "incident date" ages are taken on. */
export const localDate = (at: DateTime.Utc, zone: DateTime.TimeZone): CalendarDate.CalendarDate =>
  CalendarDate.CalendarDate.make(DateTime.formatIsoDate(DateTime.setZone(at, zone)))

/** ISO 8601 local date and time with its offset, e.g. `2026-10-23T21:00:00.000+01:00`. */
export const localIso = (at: DateTime.Utc, zone: DateTime.TimeZone): string =>
  DateTime.formatIsoOffset(DateTime.setZone(at, zone))
