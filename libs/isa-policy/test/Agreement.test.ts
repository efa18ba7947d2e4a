import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { Agreement } from "../src/index.js"
import * as F from "./Fixtures.js"

const errorOf = (text: string) => {
  const result = Agreement.parse(text)
  if (Either.isRight(result)) throw new Error("expected the agreement to be refused")
  return result.left
}

/** The TVP file with one line replaced, so each case reads as the edit it makes. */
const edit = (from: string, to: string): string => {
  expect(F.tvpText).toContain(from)
  return F.tvpText.replace(from, to)
}

const lineOf = (needle: string, text: string): number => text.split("\n").findIndex((l) => l.includes(needle)) + 1

describe("Agreement", () => {
  it("TVP ISA 3, 4.3a, 4.4, 7: the TVP file holds the agreement's rules as data", () => {
    const tvp = F.tvp
    expect(tvp.id).toBe("tvp-schools")
    expect(tvp.scope.categories).toEqual(["domestic"])
    expect(tvp.children.presence.allowed).toEqual(["present", "witness"])
    expect([tvp.children.ageBand.min, tvp.children.ageBand.max]).toEqual([4, 17])
    expect(tvp.recipients.kinds.map((k) => [k.kind, k.signedUpRequired])).toEqual([["setting", true]])
    expect(tvp.recipients.kinds[0].channels.allowed.map((c) => [c.channel, c.form])).toEqual([
      ["secure-email", "password-protected-attachment"]
    ])
    expect(tvp.fields.permitted).toEqual(["childName", "age", "homeAddress", "incidentAddress", "incidentDateTime", "occurrenceNumber"])
    expect(tvp.sensitive.outcome).toBe("withhold")
    expect([tvp.deadline.time, tvp.deadline.schoolDays, DateTime.zoneToString(tvp.timeZone)]).toEqual(["08:30", "school-calendar", "Europe/London"])
    expect(tvp.deadline.calendarRegion).toBe("thames-valley")
  })

  it("every rule in the TVP file carries its clause", () => {
    const tvp = F.tvp
    const clauses = [
      ...tvp.parties.map((p) => p.clause),
      tvp.scope.clause,
      tvp.children.presence.clause,
      tvp.children.ageBand.clause,
      tvp.recipients.clause,
      ...tvp.recipients.kinds.flatMap((k) => [k.clause, k.channels.clause]),
      tvp.fields.clause,
      tvp.sensitive.clause,
      tvp.deadline.clause
    ]
    for (const clause of clauses) expect(clause).toMatch(/^TVP /)
  })

  describe("errors name the key path and the line", () => {
    const cases: ReadonlyArray<{ name: string; text: string; path: string; line: number; message: RegExp }> = [
      {
        name: "an unknown recipient kind",
        text: edit("    - kind: setting", "    - kind: school"),
        path: "recipients.kinds.0.kind",
        line: lineOf("    - kind: setting", F.tvpText),
        message: /"setting"/
      },
      {
        name: "a field the engine does not know (risk grading can never be permitted)",
        text: edit("permitted: [childName,", "permitted: [riskGrading, childName,"),
        path: "fields.permitted.0",
        line: lineOf("permitted: [childName,", F.tvpText),
        message: /riskGrading/
      },
      {
        name: "a misspelt key",
        text: edit("  signedUpRequired: true", "  signedUpRequird: true"),
        path: "recipients.kinds.0.signedUpRequird",
        line: lineOf("signedUpRequired: true", F.tvpText),
        message: /unexpected/
      },
      {
        name: "a missing key, reported where its parent starts",
        text: edit("  schoolDays: school-calendar\n", ""),
        path: "deadline.schoolDays",
        line: lineOf("deadline:", F.tvpText),
        message: /missing/
      },
      {
        name: "an age band upside down",
        text: edit("    min: 4", "    min: 18"),
        path: "children.ageBand",
        line: lineOf("  ageBand:", F.tvpText),
        message: /min must not be above max/
      },
      {
        name: "a time that is not HH:MM",
        text: edit('time: "08:30"', 'time: "8.30am"'),
        path: "deadline.time",
        line: lineOf('time: "08:30"', F.tvpText),
        message: /HH:MM/
      },
      {
        name: "an unknown time zone",
        text: edit("timeZone: Europe/London", "timeZone: Europe/Reading"),
        path: "timeZone",
        line: lineOf("timeZone: Europe/London", F.tvpText),
        message: /TimeZone/
      },
      {
        name: "a YAML syntax error, where the parser notices it (the line after the open bracket)",
        text: edit("  categories: [domestic]", "  categories: [domestic"),
        path: "scope.categories",
        line: lineOf("  categories: [domestic]", F.tvpText) + 1,
        message: /end with a \]/
      },
      {
        name: "a duplicated key",
        text: edit("  outcome: withhold", "  outcome: withhold\n  outcome: needs-review"),
        path: "sensitive.outcome",
        line: lineOf("  outcome: withhold", F.tvpText) + 1,
        message: /unique/
      }
    ]
    it.each(cases)("$name", ({ line, message, path, text }) => {
      const error = errorOf(text)
      const issue = error.issues.find((i) => i.path.startsWith(path))
      expect(issue, error.message).toBeDefined()
      expect(issue?.line).toBe(line)
      expect(issue?.message).toMatch(message)
      expect(error.message).toContain(`${issue?.path} (line ${line},`)
    })
  })

  it("lists every problem, not only the first", () => {
    const text = F.tvpText.replace("    min: 4", "    min: -1").replace("schoolDays: school-calendar", "schoolDays: termtime")
    expect(errorOf(text).issues.map((i) => i.path)).toEqual(["children.ageBand.min", "deadline.schoolDays"])
  })

  it("refuses a document that is not a mapping, at line 1", () => {
    const error = errorOf("- just a list\n")
    expect(error.reason).toBe("Schema")
    expect(error.issues[0]?.line).toBe(1)
  })
})
