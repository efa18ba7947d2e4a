/**
 * Date and date-time patterns a field mapping may give (`dd/MM/yyyy`, `dd/MM/yyyy HH:mm`), in the
 * letters Java's DateTimeFormatter, date-fns and Excel users already know. A pattern is compiled
 * once into a regular expression; reading a cell is one `exec`.
 */

export interface Parts {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
}

export interface DateFormat {
  /** The pattern as written in the mapping, for messages. */
  readonly pattern: string
  readonly hasTime: boolean
  /** The cell's parts, or undefined when it does not have the pattern's shape (not range-checked). */
  readonly read: (cell: string) => Parts | undefined
}

type Field = keyof Parts

const tokens: ReadonlyArray<readonly [string, Field, string]> = [
  ["yyyy", "year", "(\\d{4})"],
  ["MM", "month", "(\\d{2})"],
  ["M", "month", "(\\d{1,2})"],
  ["dd", "day", "(\\d{2})"],
  ["d", "day", "(\\d{1,2})"],
  ["HH", "hours", "(\\d{2})"],
  ["H", "hours", "(\\d{1,2})"],
  ["mm", "minutes", "(\\d{2})"],
  ["ss", "seconds", "(\\d{2})"]
]

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")

/** Compiles a pattern, or says what is wrong with it. */
export const compile = (pattern: string, withTime: boolean): DateFormat | string => {
  let source = "^"
  const order: Array<Field> = []
  for (let at = 0; at < pattern.length;) {
    const c = pattern.charAt(at)
    if (c === "'") {
      const close = pattern.indexOf("'", at + 1)
      if (close === -1) return "a quoted literal is never closed"
      source += escape(pattern.slice(at + 1, close))
      at = close + 1
      continue
    }
    if (!/[A-Za-z]/.test(c)) {
      source += escape(c)
      at++
      continue
    }
    const token = tokens.find(([t]) => pattern.startsWith(t, at) && !pattern.startsWith(t + t.charAt(0), at))
    if (token === undefined) {
      let run = 1
      while (pattern.charAt(at + run) === c) run++
      return `${pattern.slice(at, at + run)} is not a pattern letter: use yyyy, MM or M, dd or d, HH or H, mm, ss, and quote other letters ('T')`
    }
    const [text, field, group] = token
    if (order.includes(field)) return `gives the ${field === "hours" ? "hour" : field.replace(/s$/, "")} twice`
    order.push(field)
    source += group
    at += text.length
  }
  source += "$"
  const missing = (["year", "month", "day"] as const).filter((field) => !order.includes(field))
  if (missing.length > 0) return `needs a year (yyyy), a month (MM or M) and a day (dd or d); ${missing.join(", ")} missing`
  const timed = order.includes("hours") || order.includes("minutes") || order.includes("seconds")
  if (!withTime && timed) return "is a date: it may not hold a time (HH, mm, ss)"
  if (withTime && !(order.includes("hours") && order.includes("minutes"))) return "needs an hour (HH or H) and minutes (mm)"
  const regex = new RegExp(source)
  return {
    pattern,
    hasTime: withTime,
    read: (cell) => {
      const match = regex.exec(cell)
      if (match === null) return undefined
      const parts = { year: 0, month: 0, day: 0, hours: 0, minutes: 0, seconds: 0 }
      order.forEach((field, i) => (parts[field] = Number(match[i + 1])))
      return parts
    }
  }
}
