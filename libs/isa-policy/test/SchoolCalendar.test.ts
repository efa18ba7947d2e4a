import { CalendarDate } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either, FastCheck as fc, Option } from "effect"
import { Agreement, Deadline, SchoolCalendar } from "../src/index.js"
import * as F from "./Fixtures.js"

const day = (s: string) => CalendarDate.CalendarDate.make(s)
const bedfordDays = Option.getOrThrow(SchoolCalendar.schoolDays(F.calendar, "bedford-borough"))
const local = (at: DateTime.Utc) => DateTime.formatIsoOffset(DateTime.setZone(at, F.bedfordReviewed.timeZone))
const dueBedford = (iso: string) => local(Deadline.due(F.at(iso), F.bedfordReviewed, F.calendar))

describe("SchoolCalendar", () => {
  it("the sample calendar loads, is marked as sample data, and has both regions", () => {
    expect(F.calendar.sample).toBe(true)
    expect(F.calendar.regions.map((r) => r.id)).toEqual(["bedford-borough", "thames-valley"])
    expect(F.calendar.bankHolidays).toHaveLength(24)
  })

  it.each([
    ["2026-03-02", true, "a term-time Monday"],
    ["2026-03-07", false, "a Saturday"],
    ["2026-04-06", false, "Easter Monday (a bank holiday, and the Easter holiday)"],
    ["2026-05-25", false, "the spring bank holiday"],
    ["2026-05-26", false, "half term"],
    ["2026-01-05", false, "an INSET day"],
    ["2026-01-06", true, "the day after an INSET day"],
    ["2026-08-10", false, "the summer holiday"],
    ["2028-01-10", true, "a weekday after the file's last term (weekdays count)"],
    ["2028-01-01", false, "a Saturday after the file's last term"]
  ])("%s is a school day: %s (%s)", (date, expected) => {
    expect(bedfordDays(day(date))).toBe(expected)
  })

  it("an unknown region is none, and a bad file names key and line", () => {
    expect(Option.isNone(SchoolCalendar.schoolDays(F.calendar, "atlantis"))).toBe(true)
    const bad = SchoolCalendar.parse(F.calendarText.replace("{ start: 2025-01-06, end: 2025-02-14 }", "{ start: 2025-02-14, end: 2025-01-06 }"))
    expect(Either.isLeft(bad) && [bad.left.issues[0]?.path, bad.left.issues[0]?.line]).toEqual([
      "regions.0.terms.0",
      F.calendarText.split("\n").findIndex((l) => l.includes("{ start: 2025-01-06, end: 2025-02-14 }")) + 1
    ])
  })
})

describe("Deadline with the school calendar (Bedford)", () => {
  it.each([
    ["Friday 21:00 → Monday 08:30", "2026-03-06T21:00:00Z", "2026-03-09T08:30:00.000+00:00"],
    ["Friday 21:00 before the Easter holiday → the first day of term", "2026-03-27T21:00:00Z", "2026-04-13T08:30:00.000+01:00"],
    ["Saturday before the autumn clock change, then half term → Monday 08:30 GMT after half term", "2025-10-25T13:00:00Z", "2025-11-03T08:30:00.000+00:00"],
    ["Saturday before the spring clock change → Monday 08:30 BST", "2026-03-28T12:00:00Z", "2026-04-13T08:30:00.000+01:00"],
    ["Sunday before an INSET Monday → Tuesday", "2026-01-04T12:00:00Z", "2026-01-06T08:30:00.000+00:00"],
    ["Christmas Day → the first day of the spring term", "2025-12-25T12:00:00Z", "2026-01-06T08:30:00.000+00:00"],
    ["a summer holiday incident → the first day of the autumn term", "2026-08-10T12:00:00Z", "2026-09-02T08:30:00.000+01:00"]
  ])("%s", (_name, at, due) => {
    expect(dueBedford(at)).toBe(due)
  })

  it("a calendar with no school day for 400 days (a broken file) gives the weekday deadline, never a later one", () => {
    const broken = new SchoolCalendar.SchoolCalendar({
      ...F.calendar,
      regions: [
        new SchoolCalendar.Region({
          id: "bedford-borough",
          terms: [new SchoolCalendar.Term({ start: day("2025-01-01"), end: day("2025-01-01") }), new SchoolCalendar.Term({ start: day("2027-01-01"), end: day("2027-01-01") })],
          closures: []
        })
      ]
    })
    expect(local(Deadline.due(F.at("2025-06-06T21:00:00Z"), F.bedfordReviewed, broken))).toBe("2025-06-09T08:30:00.000+01:00")
  })

  it("a school-calendar agreement without the calendar falls back to weekdays, never later", () => {
    expect(local(Deadline.due(F.at("2026-03-27T21:00:00Z"), F.bedfordReviewed))).toBe("2026-03-30T08:30:00.000+01:00")
  })
})

describe("Deadline with the school calendar (TVP)", () => {
  const dueTvp = (iso: string, agreement = F.tvp) => local(Deadline.due(F.at(iso), agreement, F.calendar))
  it.each([
    ["the last day of the summer term (Tue 21 Jul 2026, 15:00) → the first day of the autumn term", "2026-07-21T14:00:00Z", "2026-09-02T08:30:00.000+01:00"],
    ["half term (Tue 27 Oct 2026) → the first school day after it", "2026-10-27T12:00:00Z", "2026-11-02T08:30:00.000+00:00"],
    ["the Friday before half term, 21:00 → the Monday after it", "2026-10-23T20:00:00Z", "2026-11-02T08:30:00.000+00:00"],
    ["a term-time Friday 21:00 → Monday 08:30", "2026-11-13T21:00:00Z", "2026-11-16T08:30:00.000+00:00"],
    ["the day before a Thames Valley INSET day (Sun 22 Feb 2026) → Tuesday", "2026-02-22T12:00:00Z", "2026-02-24T08:30:00.000+00:00"]
  ])("TVP ISA 3, next school day: %s", (_name, at, due) => {
    expect(dueTvp(at)).toBe(due)
  })

  it("counted on weekdays only, the same incidents fall due in the holiday (what the agreement used to do)", () => {
    expect(dueTvp("2026-07-21T14:00:00Z", F.tvpWeekdays)).toBe("2026-07-22T08:30:00.000+01:00")
    expect(dueTvp("2026-10-27T12:00:00Z", F.tvpWeekdays)).toBe("2026-10-28T08:30:00.000+00:00")
  })
})

// Instants from 2025 to the end of 2027 (the calendar's span) and a little beyond.
const instant = fc.date({ min: new Date("2024-12-01T00:00:00Z"), max: new Date("2028-02-28T00:00:00Z"), noInvalidDate: true })
const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`)
const region = fc.constantFrom("bedford-borough", "thames-valley")

describe("Deadline (property)", () => {
  it.prop(
    "domain.md requirement 8: the deadline is after the incident, on a school day, at the configured local time",
    { at: instant, time, region },
    ({ at, region, time }) => {
      const agreement = new Agreement.Agreement({
        ...F.bedfordReviewed,
        deadline: new Agreement.DeadlineRule({ ...F.bedfordReviewed.deadline, time, calendarRegion: region })
      })
      const occurredAt = DateTime.unsafeMake(at)
      const due = Deadline.due(occurredAt, agreement, F.calendar)
      expect(DateTime.greaterThan(due, occurredAt)).toBe(true)
      const zoned = DateTime.setZone(due, agreement.timeZone)
      const isSchoolDay = Option.getOrThrow(SchoolCalendar.schoolDays(F.calendar, region))
      expect(isSchoolDay(day(DateTime.formatIsoDate(zoned)))).toBe(true)
      const parts = DateTime.toParts(zoned)
      expect(`${String(parts.hours).padStart(2, "0")}:${String(parts.minutes).padStart(2, "0")}`).toBe(time)
      // No school day at that time lies strictly between the incident and the deadline.
      const dayBefore = DateTime.subtract(zoned, { days: 1 })
      expect(
        DateTime.lessThanOrEqualTo(dayBefore, occurredAt) || !isSchoolDay(day(DateTime.formatIsoDate(dayBefore)))
      ).toBe(true)
    },
    { fastCheck: { numRuns: 500 } }
  )

  it.prop(
    "weekdays (TVP counted as it used to be): the deadline is after the incident, on a weekday, at 08:30 London time",
    { at: instant },
    ({ at }) => {
      const occurredAt = DateTime.unsafeMake(at)
      const zoned = DateTime.setZone(Deadline.due(occurredAt, F.tvpWeekdays), F.tvp.timeZone)
      expect(DateTime.greaterThan(zoned, occurredAt)).toBe(true)
      expect(SchoolCalendar.isWeekday(day(DateTime.formatIsoDate(zoned)))).toBe(true)
      expect(DateTime.formatIsoOffset(zoned).slice(11, 19)).toBe("08:30:00")
    },
    { fastCheck: { numRuns: 300 } }
  )
})
