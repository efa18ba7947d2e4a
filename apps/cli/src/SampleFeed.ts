/**
 * The shipped sample feed (`demo/niche-feed.csv`, a valid Niche export dated November 2026),
 * dated for the moment it is used. A fixed date soon lies in the past, and then every
 * notification is past its deadline the moment it is created. Each incident keeps its order and
 * moves to one of the minutes just before now (Europe/London wall time, as Niche writes it), and
 * each child's date of birth moves by as many days as its incident, so every age, and so every
 * decision, stays as `demo/README.md` describes. The deadline (08:30 on the next school day) is
 * then still ahead unless the feed is made within minutes after 08:30 on a school day.
 */
import * as fs from "node:fs"
import * as path from "node:path"

export const shippedFile = path.resolve(import.meta.dirname, "../demo/niche-feed.csv")

const london = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/London",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23"
})

/** `YYYY-MM-DDTHH:MM` in London of an instant. */
const localMinute = (instant: Date): string => {
  const part = Object.fromEntries(london.formatToParts(instant).map((p) => [p.type, p.value]))
  return `${part["year"]}-${part["month"]}-${part["day"]}T${part["hour"]}:${part["minute"]}`
}

const dayNumber = (date: string) => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / 86_400_000

/** `date` moved by `days`; a date that is not a real one (a row that tests rejection) stays as it is. */
const shiftDate = (date: string, days: number): string => {
  const moved = new Date((dayNumber(date) + days) * 86_400_000).toISOString().slice(0, 10)
  const real = new Date(dayNumber(date) * 86_400_000).toISOString().slice(0, 10) === date
  return real ? moved : date
}

const incidentTime = /,(\d{4}-\d{2}-\d{2})T\d{2}:\d{2},/
const dateCell = /,(\d{4}-\d{2}-\d{2})(?=,)/g

/** The feed `text` (the shipped layout) dated for `now`. */
export const dated = (text: string, now: Date): string => {
  const [header = "", ...rows] = text.split("\n")
  const occurrences = [...new Set(rows.filter((r) => r !== "").map((r) => r.slice(0, r.indexOf(","))))]
  const minute = Math.floor(now.getTime() / 60_000) * 60_000
  const moved = rows.map((row) => {
    const found = incidentTime.exec(row)?.[1]
    if (found === undefined) return row
    const index = occurrences.indexOf(row.slice(0, row.indexOf(",")))
    const time = localMinute(new Date(minute - (occurrences.length - index) * 60_000))
    const days = dayNumber(time.slice(0, 10)) - dayNumber(found)
    // The other date cells (a date alone, not a date and time) are dates of birth.
    return row.replace(incidentTime, `,${time},`).replace(dateCell, (_cell, date: string) => `,${shiftDate(date, days)}`)
  })
  return [header, ...moved].join("\n")
}

/** The shipped sample, dated for `now`. */
export const today = (now: Date): string => dated(fs.readFileSync(shippedFile, "utf8"), now)
