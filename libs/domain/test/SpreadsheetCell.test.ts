import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Schema } from "effect"
import { Address, DecodeIssue, Person, SpreadsheetCell } from "../src/index.js"

/** The inputs reported in issue 10, and their relatives (OWASP CSV injection). */
const formulas = [
  "=HYPERLINK(\"http://x\",\"y\")",
  "+SUM(1;2)",
  "@cmd|' /C calc'!A0",
  "-2+3",
  "\t=1+1",
  "\tSmith",
  "\rSmith",
  " =1+1",
  "\"=1+1",
  "＝HYPERLINK(\"http://x\")",
  "＋1",
  "－1",
  "＠SUM(1)"
]
const plain = ["Ffion", "O'Brien", "Anne-Marie", "1 Any Street, Reading", "Flat 2 = top floor", "Smith-Jones", "'=already text", "St. Mary's"]

const person = (givenName: string) => ({ givenName, familyName: "Marchetti", dateOfBirth: "2015-02-03" })

describe("SpreadsheetCell", () => {
  it.each(formulas)("a spreadsheet would run %j", (value) => {
    expect(SpreadsheetCell.startsFormula(value)).toBe(true)
  })

  it.each(plain)("a spreadsheet reads %j as text", (value) => {
    expect(SpreadsheetCell.startsFormula(value)).toBe(false)
    expect(SpreadsheetCell.neutralise(value)).toBe(value)
  })

  it("OWASP: a name or address line that begins with a formula character is refused, naming the field and not the value", () => {
    for (const value of ["=HYPERLINK(\"http://x\",\"y\")", "+SUM(1;2)", "@cmd|' /C calc'!A0", "＝1"]) {
      const name = Schema.decodeUnknownEither(Person.Person)(person(value))
      if (Either.isRight(name)) throw new Error(`accepted ${value} as a name`)
      const issues = DecodeIssue.fromParseError(name.left)
      expect(issues).toEqual([{ path: "givenName", message: SpreadsheetCell.reason }])
      expect(DecodeIssue.format(issues)).not.toContain(value)
      const address = Schema.decodeUnknownEither(Address.Address)({ lines: value })
      expect(Either.isLeft(address) && DecodeIssue.fromParseError(address.left)).toEqual([{ path: "lines", message: SpreadsheetCell.reason }])
    }
    expect(Either.isRight(Schema.decodeUnknownEither(Person.Person)(person("Anne-Marie")))).toBe(true)
  })

  it("neutralises a cell with a leading apostrophe, which a spreadsheet shows as text", () => {
    expect(SpreadsheetCell.neutralise("=HYPERLINK(\"http://x\",\"y\")")).toBe("'=HYPERLINK(\"http://x\",\"y\")")
    expect(SpreadsheetCell.neutralise("\tSmith")).toBe("'\tSmith")
    expect(SpreadsheetCell.startsFormula(SpreadsheetCell.neutralise("@cmd|' /C calc'!A0"))).toBe(false)
  })

  it("neutralises every cell of delimited text, inside the quotes of a quoted cell, and leaves clean text as it was", () => {
    const record = [
      "occurrence_number,child_given_name,child_family_name,home_address",
      "43/1/26,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",+SUM(1;2),@cmd|' /C calc'!A0",
      "43/1/26;Finn;\"-1\"\t=1+1\r",
      "43/1/26,Finn,Fakeley,\"5 Oak Close, Reading\""
    ].join("\n")
    expect(SpreadsheetCell.neutraliseText(record)).toBe([
      "occurrence_number,child_given_name,child_family_name,home_address",
      "43/1/26,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+SUM(1;2),'@cmd|' /C calc'!A0",
      "43/1/26;Finn;\"'-1\"\t'=1+1\r",
      "43/1/26,Finn,Fakeley,\"5 Oak Close, Reading\""
    ].join("\n"))
    expect(SpreadsheetCell.neutraliseText(`a,${" ".repeat(100)}=1+1`)).toBe(`a,'${" ".repeat(100)}=1+1`)
  })

  it.prop("neutralised CSV parses to the same cells, each neutralised, and neutralising twice changes nothing more", {
    cells: fc.array(fc.array(fc.oneof(fc.constantFrom(...formulas, ...plain), fc.string()), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 })
  }, ({ cells }) => {
    // Written as a CSV writer would: a cell is quoted when it holds a quote, a separator or a line end.
    const quote = (cell: string) => (/[",;\t\r\n]/.test(cell) ? `"${cell.replace(/"/g, "\"\"")}"` : cell)
    const safe = SpreadsheetCell.neutraliseText(cells.map((row) => row.map(quote).join(",")).join("\n"))
    expect(parse(safe)).toEqual(cells.map((row) => row.map(SpreadsheetCell.neutralise)))
    expect(SpreadsheetCell.neutraliseText(safe)).toBe(safe)
  })
})

/** RFC 4180 with `,` and LF, enough to read back what the property writes. */
const parse = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = [[]]
  let cell = ""
  let quoted = false
  const end = () => {
    rows.at(-1)?.push(cell)
    cell = ""
  }
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (quoted && char === "\"" && text[i + 1] === "\"") {
      cell += "\""
      i++
    } else if (char === "\"") quoted = !quoted
    else if (!quoted && char === ",") end()
    else if (!quoted && char === "\n") {
      end()
      rows.push([])
    } else cell += char
  }
  end()
  return rows
}
