import { assert, describe, expect, it } from "@effect/vitest"
import { Ids, Incident, Rejection } from "@encompass/domain"
import { SourcePlugin } from "@encompass/plugin-sdk"
import { Chunk, DateTime, Effect, FastCheck as fc, Redacted, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { AthenaSource, AthenaSourceConfig } from "../src/index.js"
import { configTable } from "./ConfigTable.js"
import * as Feeds from "./Feeds.js"

const source = Ids.SourceId.make("athena")

/** Decodes the bytes delivered as the given chunks; decoding never needs more than `runSync`. */
const decodeChunks = (chunks: ReadonlyArray<Uint8Array>, plugin = AthenaSource.make()): ReadonlyArray<SourcePlugin.Decoded> =>
  Effect.runSync(
    Stream.runCollect(plugin.decode({ source, name: "export.xml", content: Stream.fromIterable(chunks) })).pipe(
      Effect.map(Chunk.toReadonlyArray)
    )
  )
const decode = (bytes: Uint8Array, plugin?: SourcePlugin.SourcePlugin) => decodeChunks([bytes], plugin)

/** The output as plain data, to compare two runs exactly (a record shown by its text). */
const plain = (out: ReadonlyArray<SourcePlugin.Decoded>) =>
  out.map((d) =>
    d._tag === "Incident"
      ? Schema.encodeSync(Incident.Incident)(d)
      : { ...Schema.encodeSync(Rejection.Rejection)(d), record: d.record === undefined ? undefined : Redacted.value(d.record) }
  )

/** One line per output: the occurrence and its children's locators, or the rejection's locator and field. */
const summary = (decoded: SourcePlugin.Decoded): string =>
  decoded._tag === "Incident"
    ? `incident ${decoded.occurrence} v${decoded.version}: ${decoded.children.map((child) => child.locator).join("; ")}`
    : `rejected ${decoded.locator}: ${decoded.field ?? "-"}`

const incidents = (out: ReadonlyArray<SourcePlugin.Decoded>) => out.filter((d): d is Incident.Incident => d._tag === "Incident")
const rejections = (out: ReadonlyArray<SourcePlugin.Decoded>) => out.filter(SourcePlugin.isRejection)

const onlyRejection = (out: ReadonlyArray<SourcePlugin.Decoded>): Rejection.Rejection => {
  expect(out.map(summary)).toHaveLength(1)
  const [only] = rejections(out)
  assert.isDefined(only)
  return only
}

const recordOf = (rejection: Rejection.Rejection | undefined): string => {
  assert.isDefined(rejection?.record)
  return Redacted.value(rejection.record)
}

const good = Feeds.fixture("good.xml")
const goodText = Feeds.text(good)
const malformed = Feeds.fixture("malformed.xml")

describe("AthenaSource", () => {
  it.effect("is the athena SourcePlugin and names domain fields by their XML path", () =>
    Effect.gen(function*() {
      const plugin = yield* SourcePlugin.SourcePlugin
      expect(plugin.id).toBe("athena")
      expect(plugin.manifest.formats).toEqual(["application/xml"])
      expect(plugin.fieldName("education")).toBe("Occurrence/Person/School")
      expect(plugin.fieldName("dateOfBirth")).toBe("Occurrence/Person/DateOfBirth")
      expect(plugin.fieldName("occurrence")).toBe("Occurrence/@ref")
    }).pipe(Effect.provide(AthenaSource.layer)))

  it("decodes the sample: siblings, a dual registration, an EHE child and a missing episode, adults left out", () => {
    const out = decode(good)
    expect(out.map(summary)).toEqual([
      "incident 43/100001/26 v1: occurrence 1, person 3 (line 17); occurrence 1, person 4 (line 32)",
      "incident 43/100002/26 v1: occurrence 2, person 1 (line 58)",
      "incident 43/100003/26 v2: occurrence 3, person 1 (line 84); occurrence 3, person 2 (line 97)",
      "incident 43/100004/26 v1: occurrence 4, person 1 (line 121)"
    ])
    const [siblings, dual, ehe, missing] = incidents(out)
    assert.isDefined(siblings)
    assert.isDefined(dual)
    assert.isDefined(ehe)
    assert.isDefined(missing)
    expect(out.every((d) => d.source === source)).toBe(true)

    expect(siblings.category).toBe("domestic")
    expect(DateTime.formatIso(siblings.occurredAt)).toBe("2026-11-16T19:45:00.000Z")
    expect(siblings.address).toEqual({ lines: "14 Elm Road, Reading", postcode: "RG1 4AA" })
    expect(siblings.localAuthority).toBe("E06000038")
    const [alfie, bella] = siblings.children
    expect(alfie.person).toEqual({ givenName: "Alfie", familyName: "Testman", dateOfBirth: "2015-04-02" })
    expect([alfie.presence, alfie.presenceLocation, alfie.residenceLocalAuthority]).toEqual(["present", "upstairs bedroom", "E06000038"])
    expect(alfie.education).toEqual([{ _tag: "Setting", urn: "100001" }])
    expect([bella?.presence, bella?.voiceOfChild]).toEqual(["witness", "Said she hid in the kitchen & called her nan."])

    // No version attribute reads as 1; an offset time is exact; CDATA is text; `0` is false.
    expect(dual.version).toBe(1)
    expect(DateTime.formatIso(dual.occurredAt)).toBe("2026-07-01T11:00:00.000Z")
    expect(dual.address.uprn).toBe("100081234567")
    expect(dual.circumstances).toBe("Verbal argument; neighbours called police. No injuries reported.")
    const [cara] = dual.children
    expect([cara.education, cara.riskGrading, cara.sensitive, cara.matchAmbiguous]).toEqual([
      [{ _tag: "Setting", urn: "100002" }, { _tag: "Setting", urn: "100006" }],
      "medium",
      false,
      true
    ])

    const [dan, eve] = ehe.children
    expect([dan.education, dan.presence, dan.riskGrading, dan.sensitive]).toEqual([
      [{ _tag: "ElectiveHomeEducation" }],
      "not-present",
      "high",
      true
    ])
    expect(dan.homeAddress).toEqual({ lines: "Flat 2, 9 High Street, Oxford" })
    expect(eve?.education).toEqual([{ _tag: "Setting", urn: "100003" }])
    expect(ehe.repeatOf).toBe("43/099876/26")

    expect(missing.category).toBe("missing-episode")
    expect(missing.children.map((child) => child.person.givenName)).toEqual(["Lily"])
  })

  it("rejects each bad occurrence naming it and the field by its XML path, and decodes the rest", () => {
    const out = decode(malformed)
    expect(out.map(summary)).toEqual([
      "incident 43/200001/26 v1: occurrence 1, person 1 (line 12)",
      "rejected occurrence 2 (line 28): Occurrence/Person/DateOfBirth",
      "rejected occurrence 3 (line 52): Occurrence/Person/@role",
      "rejected occurrence 4 (line 76): Occurrence/OccurredAt",
      "rejected occurrence 5 (line 99): Occurrence/Person/School/@urn",
      "rejected occurrence 6 (line 123): Occurrence/OccurredAt",
      "rejected occurrence 7 (line 147): Occurrence/Person",
      "rejected occurrence 8 (line 158): Occurrence/Person/Nickname",
      "rejected occurrence 9 (line 183): Occurrence/Person/Presence",
      "rejected occurrence 10 (line 207): Occurrence/@version",
      "rejected occurrence 11 (line 231): Occurrence/Person/School",
      "rejected occurrence 12 (line 255): Occurrence/Person/@ref",
      "rejected occurrence 13 (line 293): Occurrence/Person/DateOfBirth",
      "rejected occurrence 14 (line 318): Occurrence/@ref",
      "rejected occurrence 15 (line 342): Occurrence/Person/HomeAddress/Postcode",
      "rejected line 366: Summary",
      "rejected line 367: -",
      "incident 43/200016/26 v1: occurrence 16, person 1 (line 377)"
    ])
    const reasons = Object.fromEntries(rejections(out).map((r) => [r.locator, r.reason]))
    expect(reasons["occurrence 2 (line 28)"]).toBe("person 1: not a real calendar date")
    expect(reasons["occurrence 3 (line 52)"]).toBe("person 1: expected CHILD, VICTIM, SUSPECT, WITNESS, INFORMANT or OTHER")
    expect(reasons["occurrence 4 (line 76)"]).toBe("is missing")
    expect(reasons["occurrence 6 (line 123)"]).toMatch(/^expected a date and time with its offset/)
    expect(reasons["occurrence 7 (line 147)"]).toBe("no Person has the role CHILD")
    expect(reasons["occurrence 10 (line 207)"]).toBe(
      "expected a whole number from 1; also Occurrence/Category: expected DOMESTIC_INCIDENT, MISSING_EPISODE or OTHER"
    )
    expect(reasons["occurrence 12 (line 255)"]).toBe("person 2: the same ref as person 1")
    expect(reasons["occurrence 13 (line 293)"]).toBe("person 1: appears 2 times where once is expected")
    expect(reasons["line 367"]).toBe("text directly inside AthenaExport, outside any Occurrence, is not read")
    // The occurrence is named when its ref could be read.
    expect(rejections(out).find((r) => r.locator === "occurrence 2 (line 28)")?.occurrence).toBe("43/200002/26")
    expect(rejections(out).find((r) => r.locator === "occurrence 14 (line 318)")?.occurrence).toBeUndefined()
    for (const rejection of rejections(out)) {
      for (const value of ["Finn", "Fakeley", "2015-02-30", "UNCLE", "10001", "MAYBE", "BURGLARY", "Finny", "5 Oak Close"]) {
        expect(rejection.message).not.toContain(value)
      }
    }
  })

  it("OWASP CSV injection: rejects an occurrence whose name or address begins with a formula character, naming it and the field, and decodes the rest", () => {
    const edit = (from: string, to: string) => Feeds.child().replace(from, to)
    const out = decode(Feeds.feed(
      Feeds.occurrence("43/600001/26", edit("<GivenName>Finn<", "<GivenName>=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)<")),
      Feeds.occurrence("43/600002/26", edit("<FamilyName>Fakeley<", "<FamilyName>+SUM(1;2)<")),
      Feeds.occurrence("43/600003/26", edit("<Line>Reading<", "<Line>@cmd|' /C calc'!A0<")),
      Feeds.occurrence("43/600004/26", edit("<GivenName>Finn<", "<GivenName>&#9;=1+1<")),
      Feeds.occurrence("43/600005/26", edit("<FamilyName>Fakeley<", "<FamilyName>&#13;Fakeley<")),
      Feeds.occurrence("43/600006/26").replace("<Line>5 Oak Close</Line>", "<Line>＝HYPERLINK(&quot;http://x&quot;)</Line>"),
      Feeds.occurrence("43/600007/26", edit("<GivenName>Finn<", "<GivenName>Anne-Marie<"))
    ))
    expect(out.map(summary)).toEqual([
      "rejected occurrence 1 (line 3): Occurrence/Person/GivenName",
      "rejected occurrence 2 (line 26): Occurrence/Person/FamilyName",
      "rejected occurrence 3 (line 49): Occurrence/Person/HomeAddress/Line",
      // Values are trimmed: a leading tab before a formula still leaves the formula ...
      "rejected occurrence 4 (line 72): Occurrence/Person/GivenName",
      // ... while a leading carriage return before a name is removed, and the name is safe.
      "incident 43/600005/26 v1: occurrence 5, person 1 (line 103)",
      "rejected occurrence 6 (line 118): Occurrence/Location/Line",
      "incident 43/600007/26 v1: occurrence 7, person 1 (line 149)"
    ])
    expect(incidents(out)[0]?.children[0].person.familyName).toBe("Fakeley")
    const reasons = rejections(out).map((r) => r.reason)
    expect(reasons.filter((r) => r.endsWith("value begins with a spreadsheet formula character (= + - @, tab or carriage return)"))).toHaveLength(5)
    expect(rejections(out)[0]?.occurrence).toBe("43/600001/26")
    for (const rejection of rejections(out)) expect(rejection.message).not.toMatch(/HYPERLINK|SUM|cmd/)
  })

  it("gives each rejected occurrence back as a standalone export that replays to the same rejection", () => {
    const out = rejections(decode(malformed)).filter((r) => r.locator.startsWith("occurrence"))
    expect(out).toHaveLength(14)
    for (const rejection of out) {
      const record = recordOf(rejection)
      expect(record).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<AthenaExport schemaVersion="1">\n {2}<Occurrence/)
      const replayed = onlyRejection(decode(Feeds.utf8(record)))
      expect(replayed.locator).toBe("occurrence 1 (line 3)")
      expect([replayed.field, replayed.reason, replayed.occurrence]).toEqual([rejection.field, rejection.reason, rejection.occurrence])
      // Replaying is stable: the record of the replay is the record replayed.
      expect(recordOf(replayed)).toBe(record)
    }
    // A stray element is given back too; stray text has nothing to give.
    expect(recordOf(rejections(decode(malformed)).find((r) => r.field === "Summary"))).toContain(`<Summary occurrences="16"/>`)
    expect(rejections(decode(malformed)).find((r) => r.locator === "line 367")?.record).toBeUndefined()
  })

  it("decodes a corrected record to the occurrence's incident", () => {
    const rejection = rejections(decode(malformed)).find((r) => r.locator === "occurrence 2 (line 28)")
    const corrected = recordOf(rejection).replace("2015-02-30", "2015-02-28")
    expect(decode(Feeds.utf8(corrected)).map(summary)).toEqual(["incident 43/200002/26 v1: occurrence 1, person 1 (line 11)"])
  })

  it("keeps entities, character references, CDATA and line breaks in a record, so the replay reads the same values", () => {
    const circumstances = `\n    <Circumstances>Tom &amp; Jerry &lt;3 &#x41;&#13;<![CDATA[<b>]]></Circumstances>`
    const attributes = `Occurrence ref="43/1/26" version="1" note="a&#10;b &quot;c&quot;"`
    const bad = Feeds.occurrence("43/1/26", Feeds.child({ dateOfBirth: "2014-13-01" }), circumstances).replace(`Occurrence ref="43/1/26" version="1"`, attributes)
    const record = recordOf(onlyRejection(decode(Feeds.feed(bad))))
    expect(record).toContain(`note="a&#10;b &quot;c&quot;"`)
    expect(record).toContain("<Circumstances>Tom &amp; Jerry &lt;3 A&#13;&lt;b&gt;</Circumstances>")
    const fixed = recordOf(onlyRejection(decode(Feeds.utf8(record.replace(" note=\"a&#10;b &quot;c&quot;\"", "")))))
    const [incident] = incidents(decode(Feeds.utf8(fixed.replace("2014-13-01", "2014-12-01"))))
    expect(incident?.circumstances).toBe("Tom & Jerry <3 A\r<b>")
  })

  it("ignores comments and processing instructions, and reads a byte-order mark and CRLF line ends as LF", () => {
    const withExtras = goodText
      .replace("<AthenaExport", `<?xml-stylesheet href="file:///etc/passwd"?>\n<AthenaExport`)
      .replace("<Category>", "<!-- officer's note --><?athena keep?><Category>")
    expect(plain(decode(Feeds.utf8(withExtras)))).toEqual(plain(decode(Feeds.utf8(goodText.replace("<AthenaExport", "\n<AthenaExport")))))
    const crlf = Feeds.utf8(`\uFEFF${goodText.replaceAll("\n", "\r\n")}`)
    expect(plain(decode(crlf))).toEqual(plain(decode(good)))
  })

  it("rejects a value that is not valid UTF-8, naming its field", () => {
    const at = goodText.indexOf("Alfie")
    const bytes = new Uint8Array([...Feeds.utf8(goodText.slice(0, at)), 0xc3, 0x28, ...Feeds.utf8(goodText.slice(at + 5))])
    const out = decode(bytes)
    expect(out.map(summary)[0]).toBe("rejected occurrence 1 (line 4): Occurrence/Person/GivenName")
    expect(rejections(out)[0]?.reason).toBe("person 3: is not valid UTF-8")
    expect(incidents(out)).toHaveLength(3)
  })

  it("lists at most five of an occurrence's problems and counts the rest", () => {
    const persons = Array.from({ length: 8 }, (_, i) => Feeds.child({ ref: `P-${i}`, dateOfBirth: "2014-02-30" })).join("")
    const rejection = onlyRejection(decode(Feeds.feed(Feeds.occurrence("43/1/26", persons))))
    expect(rejection.reason).toBe(
      "person 1: not a real calendar date; also Occurrence/Person/DateOfBirth (person 2): not a real calendar date" +
        "; also Occurrence/Person/DateOfBirth (person 3): not a real calendar date" +
        "; also Occurrence/Person/DateOfBirth (person 4): not a real calendar date" +
        "; also Occurrence/Person/DateOfBirth (person 5): not a real calendar date; and 3 more"
    )
  })

  it("reads an adult's details never: a bad one does not hold up the children", () => {
    const adult = `    <Person ref="P-9" role="SUSPECT">\n      <DateOfBirth>not a date</DateOfBirth>\n      <HomeAddress>?</HomeAddress>\n    </Person>\n`
    expect(decode(Feeds.feed(Feeds.occurrence("43/1/26", adult + Feeds.child({ ref: "P-1" })))).map(summary)).toEqual([
      "incident 43/1/26 v1: occurrence 1, person 2 (line 15)"
    ])
  })
})

describe("AthenaSource ends the feed once, keeping what came before", () => {
  it("at a well-formedness error: one rejection with line and column, naming the occurrence cut short", () => {
    const broken = goodText.replace("<Presence>NOT_PRESENT</Presence>", "<Presence>NOT_PRESENT</Presense>")
    const out = decode(Feeds.utf8(broken))
    expect(out.map(summary)).toEqual([
      "incident 43/100001/26 v1: occurrence 1, person 3 (line 17); occurrence 1, person 4 (line 32)",
      "incident 43/100002/26 v1: occurrence 2, person 1 (line 58)",
      "rejected line 92, column 38: -"
    ])
    const [rejection] = rejections(out)
    expect(rejection?.reason).toBe(
      "the feed is not well-formed XML (unexpected close tag); occurrence 3 (line 75) is cut short; nothing after this point is read"
    )
    expect(rejection?.occurrence).toBe("43/100003/26")
    expect(rejection?.record).toBeUndefined()
  })

  it("at the end of a feed cut off inside an occurrence", () => {
    const cut = Feeds.utf8(goodText.slice(0, goodText.indexOf(`<Person ref="P-3002"`)))
    const out = decode(cut)
    expect(out.map(summary).slice(0, 2)).toEqual([
      "incident 43/100001/26 v1: occurrence 1, person 3 (line 17); occurrence 1, person 4 (line 32)",
      "incident 43/100002/26 v1: occurrence 2, person 1 (line 58)"
    ])
    expect(out).toHaveLength(3)
    expect(rejections(out)[0]?.reason).toMatch(/^the feed is not well-formed XML \(unclosed tag\); occurrence 3 \(line 75\) is cut short; nothing after this point is read$/)
  })

  it.each([
    ["a root element that is not AthenaExport", goodText.replaceAll("AthenaExport", "Export"), "AthenaExport", "the root element is not AthenaExport, so this is not an Athena export"],
    ["another schemaVersion", goodText.replace(`schemaVersion="1"`, `schemaVersion="2"`), "AthenaExport/@schemaVersion", "expected 1, the only version of this format"],
    ["no schemaVersion", goodText.replace(` schemaVersion="1"`, ""), "AthenaExport/@schemaVersion", "is missing"],
    ["an attribute the root does not have", goodText.replace(`schemaVersion="1"`, `schemaVersion="1" force="43"`), "AthenaExport/@force", "is not an attribute this format has"]
  ])("at %s, before any occurrence", (_name, text, field, reason) => {
    const rejection = onlyRejection(decode(Feeds.utf8(text)))
    expect(rejection).toMatchObject({ locator: "line 3", field, reason: `${reason}; nothing after this point is read` })
  })

  it.each([
    ["an empty feed", "", "line 1, column 0", "the feed is empty: it has no AthenaExport element; nothing after this point is read"],
    ["a feed of blank lines", "\n\n", "line 3, column 0", "the feed is not well-formed XML (document must contain a root element); nothing after this point is read"],
    ["an encoding other than UTF-8", `<?xml version="1.0" encoding="ISO-8859-1"?><AthenaExport schemaVersion="1"/>`, "line 1, column 43", "the XML declaration names an encoding other than UTF-8, the only one this export uses; nothing after this point is read"]
  ])("at %s", (_name, text, locator, reason) => {
    expect(onlyRejection(decode(Feeds.utf8(text)))).toMatchObject({ locator, reason })
  })

  it("decodes an export with no occurrences to nothing", () => {
    expect(decode(Feeds.empty)).toEqual([])
    expect(decode(Feeds.utf8(`<AthenaExport schemaVersion="1"/>`))).toEqual([])
  })

  it.prop("gives the same output however the bytes are chunked", [fc.array(fc.nat(), { maxLength: 40 })], ([cuts]) => {
    const bytes = Feeds.utf8(`${Feeds.text(malformed).replace("</AthenaExport>", "")}  <Occurrence ref="43/9/26"></Mismatch>\n`)
    const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b)
    const chunks = [0, ...points].map((start, i) => bytes.subarray(start, [...points, bytes.length][i]))
    expect(plain(decodeChunks(chunks))).toEqual(plain(decode(bytes)))
  })
})

describe("AthenaSource limits", () => {
  const small = new AthenaSourceConfig.AthenaSourceConfig({ maxRecordChars: 8192, maxTextLength: 4096, maxPersons: 3, maxChildren: 2 })
  const plugin = AthenaSource.make(small)

  it("rejects an occurrence longer than maxRecordChars unread, and decodes the next", () => {
    const persons = Array.from({ length: 30 }, (_, i) => `    <Person ref="A-${i}" role="OTHER"/>\n`).join("") + Feeds.child()
    const long = Feeds.occurrence("43/1/26", `${persons}    ${"<!-- padding -->".repeat(400)}\n`)
    const out = decode(Feeds.feed(long, Feeds.occurrence("43/2/26")), plugin)
    expect(out.map(summary)).toEqual(["rejected occurrence 1 (line 3): -", "incident 43/2/26 v1: occurrence 2, person 1 (line 65)"])
    expect(rejections(out)[0]).toMatchObject({
      reason: "is longer than maxRecordChars (8192 characters), so it is not read; decoding goes on after it",
      occurrence: "43/1/26"
    })
    expect(rejections(out)[0]?.record).toBeUndefined()
  })

  it("rejects an occurrence with more persons than maxPersons, or more children than maxChildren", () => {
    const adults = Array.from({ length: 3 }, (_, i) => `    <Person ref="A-${i}" role="WITNESS"/>\n`).join("")
    const children = Array.from({ length: 3 }, (_, i) => Feeds.child({ ref: `P-${i}` })).join("")
    const out = decode(Feeds.feed(Feeds.occurrence("43/1/26", adults + Feeds.child()), Feeds.occurrence("43/2/26", children)), plugin)
    expect(rejections(out).map((r) => [r.field, r.reason])).toEqual([
      ["Occurrence/Person", "has 4 Person elements, more than maxPersons (3)"],
      ["Occurrence/Person", "has 3 children, more than maxChildren (2)"]
    ])
  })

  it("ends the feed at a text longer than maxTextLength, and at elements nested deeper than maxDepth", () => {
    const text = Feeds.feed(Feeds.occurrence("43/1/26", Feeds.child(), `\n    <Circumstances>${"x".repeat(5000)}</Circumstances>`))
    expect(onlyRejection(decode(text, plugin))).toMatchObject({
      locator: "line 11, column 20",
      reason: "a single text, tag, comment or declaration runs on for more than maxTextLength (4096 characters); occurrence 1 (line 3) is cut short; nothing after this point is read"
    })
    const deep = Feeds.utf8(`<AthenaExport schemaVersion="1"><Occurrence ref="43/1/26">${"<Person>".repeat(40)}`)
    expect(onlyRejection(decode(deep))).toMatchObject({
      locator: "line 1, column 306",
      reason: "elements nest deeper than maxDepth (32); occurrence 1 (line 1) is cut short; nothing after this point is read"
    })
  })

  it("refuses a configuration whose limits contradict each other or fall outside their ranges", () => {
    expect(() => new AthenaSourceConfig.AthenaSourceConfig({ maxTextLength: 2_000_000 })).toThrow(/may not exceed maxRecordChars/)
    expect(() => new AthenaSourceConfig.AthenaSourceConfig({ maxDepth: 4 })).toThrow()
    expect(new AthenaSourceConfig.AthenaSourceConfig({})).toMatchObject({ maxDepth: 32, maxTextLength: 65_536, maxRecordChars: 1_048_576 })
  })

  it("documents every configuration key in the README as the config Schema's annotations describe it", () => {
    expect(fs.readFileSync(path.join(import.meta.dirname, "..", "README.md"), "utf8")).toContain(configTable())
  })
})
