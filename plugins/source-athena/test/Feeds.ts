/** Feeds for the tests: the fixtures, and occurrences built from a template with changes. */
import * as fs from "node:fs"
import * as path from "node:path"

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

export const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(import.meta.dirname, "fixtures", name)))

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

export const declaration = `<?xml version="1.0" encoding="UTF-8"?>\n`

/** A whole export of the given occurrences. */
export const feed = (...occurrences: ReadonlyArray<string>): Uint8Array =>
  utf8(`${declaration}<AthenaExport schemaVersion="1">\n${occurrences.join("")}</AthenaExport>\n`)

/** An export with no occurrences. */
export const empty = feed()

export interface ChildOptions {
  readonly ref?: string
  readonly dateOfBirth?: string
}

export const child = (options: ChildOptions = {}): string => `    <Person ref="${options.ref ?? "P-1"}" role="CHILD">
      <GivenName>Finn</GivenName>
      <FamilyName>Fakeley</FamilyName>
      <DateOfBirth>${options.dateOfBirth ?? "2014-05-05"}</DateOfBirth>
      <HomeAddress>
        <Line>5 Oak Close</Line>
        <Line>Reading</Line>
        <Postcode>RG2 7AA</Postcode>
      </HomeAddress>
      <Presence>PRESENT</Presence>
      <School urn="100001"/>
      <RiskGrading>STANDARD</RiskGrading>
      <Sensitive>false</Sensitive>
    </Person>
`

/** One occurrence, its start tag on its first line and its persons from its ninth; `extra` goes after Location. */
export const occurrence = (ref: string, persons: string = child(), extra = ""): string => `  <Occurrence ref="${ref}" version="1">
    <Category>DOMESTIC_INCIDENT</Category>
    <OccurredAt>2026-11-20T21:15:00Z</OccurredAt>
    <Location>
      <Line>5 Oak Close</Line>
      <Line>Reading</Line>
      <Postcode>RG2 7AA</Postcode>
    </Location>${extra}
${persons}  </Occurrence>
`

/** The personal data in the good fixture. */
export const personalData = [
  "Alfie",
  "Bella",
  "Testman",
  "Gail",
  "2015-04-02",
  "2017-09-12",
  "14 Elm Road",
  "Mill Lane",
  "Cara",
  "Dan",
  "2010-06-15",
  "upstairs bedroom",
  "hid in the kitchen"
]
