import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { Agreement, Deadline } from "../src/index.js"
import * as F from "./Fixtures.js"

/** Incident instant (UTC) → deadline as London wall-clock time with its offset. */
const cases: ReadonlyArray<[name: string, occurredAt: string, due: string]> = [
  ["Fri 21:00 BST → Mon 08:30 GMT across the October change", "2026-10-23T20:00:00Z", "2026-10-26T08:30:00.000+00:00"],
  ["Sat before the 2026-10-25 clock change → Mon 08:30 GMT", "2026-10-24T13:00:00Z", "2026-10-26T08:30:00.000+00:00"],
  ["Sun 01:30 during the repeated hour → Mon 08:30 GMT", "2026-10-25T01:30:00Z", "2026-10-26T08:30:00.000+00:00"],
  ["Mon 06:00 → Mon 08:30 the same morning", "2026-03-02T06:00:00Z", "2026-03-02T08:30:00.000+00:00"],
  ["Mon 08:29:59 → Mon 08:30 the same morning", "2026-03-02T08:29:59Z", "2026-03-02T08:30:00.000+00:00"],
  ["Mon 08:30 exactly → Tue 08:30 (strictly after)", "2026-03-02T08:30:00Z", "2026-03-03T08:30:00.000+00:00"],
  ["Mon 09:00 → Tue 08:30", "2026-03-02T09:00:00Z", "2026-03-03T08:30:00.000+00:00"],
  ["Sun 23:59 BST → Mon 08:30 BST", "2026-06-14T22:59:00Z", "2026-06-15T08:30:00.000+01:00"],
  ["Mon 00:30 BST (still Sunday in UTC) → Mon 08:30 BST", "2026-06-14T23:30:00Z", "2026-06-15T08:30:00.000+01:00"],
  ["Sat before the 2026-03-29 spring change → Mon 08:30 BST", "2026-03-28T12:00:00Z", "2026-03-30T08:30:00.000+01:00"],
  ["Fri 08:31 → Mon 08:30", "2026-03-06T08:31:00Z", "2026-03-09T08:30:00.000+00:00"]
]

describe("Deadline (weekdays, 08:30 Europe/London)", () => {
  it.each(cases)("%s", (_name, occurredAt, due) => {
    const deadline = Deadline.due(F.at(occurredAt), F.tvpWeekdays)
    expect(DateTime.formatIsoOffset(DateTime.setZone(deadline, F.tvp.timeZone))).toBe(due)
  })

  it("the start-of-day time is the agreement's data, not a constant", () => {
    const nineOClock = new Agreement.Agreement({
      ...F.tvp,
      deadline: new Agreement.DeadlineRule({ ...F.tvp.deadline, time: "09:00" })
    })
    const deadline = Deadline.due(F.at("2026-06-15T07:45:00Z"), nineOClock)
    expect(DateTime.formatIsoOffset(DateTime.setZone(deadline, F.tvp.timeZone))).toBe("2026-06-15T09:00:00.000+01:00")
  })
})
