import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { CalendarDate, Child, DecodeIssue, Ids, Incident } from "../src/index.js"

const decodeChild = Schema.decodeUnknownEither(Child.Child)

const child = {
  ref: "P1",
  person: { givenName: "Ffion", familyName: "Marchetti", dateOfBirth: "2015-02-30" },
  homeAddress: { lines: "1 Any Street, Reading", postcode: "RG1 1AA" },
  presence: "present",
  education: [{ _tag: "Setting", urn: "100001" }],
  riskGrading: "standard",
  sensitive: false,
  locator: "line 2"
}

describe("DecodeIssue", () => {
  it("names the failing field by path", () => {
    const result = decodeChild(child)
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isRight(result)) return
    const issues = DecodeIssue.fromParseError(result.left)
    expect(issues).toEqual([{ path: "person.dateOfBirth", message: "not a real calendar date" }])
  })

  it("never quotes the value, which may be personal data", () => {
    const bad = { ...child, person: { givenName: "", familyName: 42, dateOfBirth: "Ffion-Marchetti" }, presence: "Marchetti" }
    const result = Schema.decodeUnknownEither(Child.Child, { errors: "all" })(bad)
    if (Either.isRight(result)) throw new Error("expected a failure")
    const text = DecodeIssue.format(DecodeIssue.fromParseError(result.left))
    expect(text).toContain("person.givenName")
    expect(text).toContain("presence")
    expect(text).not.toContain("Marchetti")
    expect(text).not.toContain("Ffion")
    expect(text).not.toContain("42")
    // Effect's own formatter does quote it: the reason this module exists.
    expect(String(result.left)).toContain("Marchetti")
  })

  it("reports every failing field of a record, not just the first", () => {
    const result = Schema.decodeUnknownEither(Incident.Incident, { errors: "all" })({ _tag: "Incident" })
    if (Either.isRight(result)) throw new Error("expected a failure")
    const paths = DecodeIssue.fromParseError(result.left).map((i) => i.path)
    expect(paths).toEqual(expect.arrayContaining(["source", "occurrence", "children"]))
  })
})

describe("CalendarDate", () => {
  const date = Schema.decodeSync(CalendarDate.CalendarDate)

  it("refuses dates that do not exist", () => {
    expect(Either.isLeft(Schema.decodeUnknownEither(CalendarDate.CalendarDate)("2025-02-29"))).toBe(true)
    expect(Either.isRight(Schema.decodeUnknownEither(CalendarDate.CalendarDate)("2024-02-29"))).toBe(true)
  })

  it.each([
    ["2010-11-20", "2026-11-19", 15],
    ["2010-11-20", "2026-11-20", 16],
    ["2008-11-20", "2026-11-19", 17],
    ["2008-11-20", "2026-11-20", 18],
    ["2012-02-29", "2026-02-28", 13],
    ["2012-02-29", "2026-03-01", 14]
  ])("a child born %s is aged %s on %s", (birth, on, age) => {
    expect(CalendarDate.ageOn(date(birth), date(on))).toBe(age)
  })
})

describe("Ids", () => {
  it("a URN is six digits", () => {
    expect(Either.isRight(Schema.decodeUnknownEither(Ids.Urn)("123456"))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(Ids.Urn)("12345"))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(Ids.Urn)("EHE"))).toBe(true)
  })
})

describe("DecodeIssue on layered refinements", () => {
  it("reports the inner rule that failed, not an outer rule's message", () => {
    const result = Schema.decodeUnknownEither(CalendarDate.CalendarDate)("2014-5-5")
    if (Either.isRight(result)) throw new Error("expected a failure")
    expect(DecodeIssue.format(DecodeIssue.fromParseError(result.left))).toBe("expected a date as YYYY-MM-DD")
  })
})
