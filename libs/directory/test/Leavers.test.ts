import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { Leavers } from "../src/index.js"

const header = "urn,subject,given_name,family_name,date_of_birth"
const csv = (...rows: ReadonlyArray<string>): string => [header, ...rows].join("\n") + "\n"
const amelia = { givenName: "Amelia", familyName: "Hartwell", dateOfBirth: "2017-04-12" }

describe("Leavers.fromCsv (TVP ISA 4.4)", () => {
  it("reads leavers named by subject or by name and date of birth, with their lines", () => {
    const leavers = Either.getOrThrow(Leavers.fromCsv(csv("100001,P-10011,,,", "100002,,Amelia,Hartwell,2017-04-12")))
    expect(leavers).toEqual([
      { line: 2, urn: "100001", child: { _tag: "Subject", subject: "P-10011" } },
      { line: 3, urn: "100002", child: { _tag: "Person", givenName: "Amelia", familyName: "Hartwell", dateOfBirth: "2017-04-12" } }
    ])
  })

  it("takes an update without the subject column", () => {
    const leavers = Either.getOrThrow(Leavers.fromCsv("urn,given_name,family_name,date_of_birth\n100001,Amelia,Hartwell,2017-04-12\n"))
    expect(leavers.map((l) => l.child._tag)).toEqual(["Person"])
  })

  it("refuses the update whole, naming every bad row by line and column without quoting it", () => {
    const result = Leavers.fromCsv(csv("12345,P-1,,,", "100001,,Amelia,,2017-02-30", "100001,P-2,Amelia,,", "100001,,,,", "100003,P-3,,,"), "leavers.csv")
    if (Either.isRight(result)) throw new Error("expected the update to be refused")
    expect(result.left.issues.map((i) => [i.line, i.column])).toEqual([
      [2, "urn"],
      [3, "family_name"],
      [3, "date_of_birth"],
      [4, "subject"],
      [5, "subject"]
    ])
    expect(result.left.message).toMatch(/^leavers directory leavers\.csv refused \(Invalid, 5 problems\)/)
    expect(result.left.message).not.toMatch(/Amelia|P-1\b|12345/)
  })

  it("refuses an update whose header has no urn", () => {
    expect(Either.isLeft(Leavers.fromCsv("subject\nP-1\n"))).toBe(true)
  })
})

describe("Leavers.matches", () => {
  it("matches a subject by the force's reference alone", () => {
    expect(Leavers.matches({ _tag: "Subject", subject: "P-10011" }, { ref: "P-10011" })).toBe(true)
    expect(Leavers.matches({ _tag: "Subject", subject: "P-10011" }, { ref: "P-10012", person: amelia })).toBe(false)
  })

  it("matches a person by name in any case and spacing, and the exact date of birth", () => {
    const child = { _tag: "Person", givenName: " AMELIA", familyName: "hartwell ", dateOfBirth: "2017-04-12" } as Leavers.Child
    expect(Leavers.matches(child, { ref: "P-1", person: amelia })).toBe(true)
    expect(Leavers.matches(child, { ref: "P-1", person: { ...amelia, dateOfBirth: "2017-04-13" } })).toBe(false)
    expect(Leavers.matches(child, { ref: "P-1", person: { ...amelia, familyName: "Hart" } })).toBe(false)
    // A child whose incident can no longer be read is never matched on a guess.
    expect(Leavers.matches(child, { ref: "P-1" })).toBe(false)
  })
})
