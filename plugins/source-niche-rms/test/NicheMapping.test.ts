import { assert, describe, expect, it } from "@effect/vitest"
import { Ids, Incident, Rejection } from "@encompass/domain"
import { SourcePlugin } from "@encompass/plugin-sdk"
import { Chunk, DateTime, Effect, Either, JSONSchema, Redacted, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { NicheMapping, NicheMappingError, NicheRmsSource } from "../src/index.js"

const source = Ids.SourceId.make("niche-rms")
const here = import.meta.dirname
const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(here, "fixtures", name)))
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const exampleYaml = fs.readFileSync(path.join(here, "..", "mappings", "example-second-force.yaml"), "utf8")

const load = (yaml: string): NicheMapping.NicheMapping => Either.getOrThrow(NicheMapping.fromYaml(yaml))
const failure = (yaml: string): NicheMappingError.NicheMappingError => {
  const result = NicheMapping.fromYaml(yaml)
  assert.isTrue(Either.isLeft(result), "expected the mapping to be refused")
  return (result as Either.Left<NicheMappingError.NicheMappingError, unknown>).left
}

const secondForce = load(exampleYaml)

const decodeWith = (plugin: SourcePlugin.SourcePlugin, bytes: Uint8Array): ReadonlyArray<SourcePlugin.Decoded> =>
  Effect.runSync(
    Stream.runCollect(plugin.decode({ source, name: "feed.csv", content: Stream.make(bytes) })).pipe(Effect.map(Chunk.toReadonlyArray))
  )
const plain = Schema.encodeSync(Schema.Array(Schema.Union(Incident.Incident, Rejection.Rejection)))
const rejections = (out: ReadonlyArray<SourcePlugin.Decoded>) => out.filter(SourcePlugin.isRejection)
const incidents = (out: ReadonlyArray<SourcePlugin.Decoded>) => out.filter((d): d is Incident.Incident => d._tag === "Incident")

/** The second force's fixture as lines, to change. */
const secondLines = new TextDecoder().decode(fixture("good-second-force.csv")).trimEnd().split("\n")
const secondHeader = secondLines[0] ?? ""
const secondRow = (n: number): string => secondLines[n] ?? ""

describe("NicheMapping", () => {
  it("is the default layout when empty, and the manifest's config schema", () => {
    expect(load("")).toEqual(NicheMapping.defaultMapping)
    expect(load("{}\n")).toEqual(NicheMapping.defaultMapping)
    expect(NicheRmsSource.manifest.config).toBe(NicheMapping.NicheMapping)
    expect(Schema.decodeUnknownSync(NicheRmsSource.manifest.config)({})).toEqual(NicheMapping.defaultMapping)
    const defaults = NicheMapping.defaultMapping
    expect([defaults.delimiter, defaults.dateFormat, defaults.dateTimeFormat, defaults.headerCaseInsensitive]).toEqual([",", "yyyy-MM-dd", undefined, false])
  })

  it("reads the example mapping for a second force", () => {
    expect(secondForce.delimiter).toBe(";")
    expect(secondForce.nameOf("child_dob")).toBe("DOB")
    expect(secondForce.codesOf("presence")).toEqual({ P: "present", W: "witness", NP: "not-present" })
    expect(load("delimiter: tab\n").delimiter).toBe("\t")
  })

  it("decodes the second force's fixture to exactly the incidents of the default-layout fixture", () => {
    const mapped = decodeWith(NicheRmsSource.make(secondForce), fixture("good-second-force.csv"))
    const standard = decodeWith(NicheRmsSource.make(), fixture("good.csv"))
    expect(incidents(mapped)).toHaveLength(3)
    // The rows stand on the same lines, so even the children's locators agree.
    expect(plain(mapped)).toEqual(plain(standard))
  })

  it("names columns by the force's own names, in rejections and for the gateway", () => {
    const plugin = NicheRmsSource.make(secondForce)
    expect(plugin.fieldName("education")).toBe("SchoolURN")
    expect(plugin.fieldName("dateOfBirth")).toBe("DOB")
    const bad = secondRow(1).replace("02/04/2015", "30/02/2015").replace(";No;", ";Maybe;")
    const [rejection] = rejections(decodeWith(plugin, utf8(`${secondHeader}\n${bad}\n`)))
    expect(rejection).toMatchObject({
      locator: "line 2",
      field: "DOB",
      reason: "not a real calendar date; also Restricted: expected Yes or No",
      occurrence: "43/100001/26"
    })
  })

  it("refuses a header missing a required column, naming it as the mapping does", () => {
    const header = secondHeader.replace("DOB", "BirthDate").replace("SchoolUrn", "URN")
    const out = decodeWith(NicheRmsSource.make(secondForce), utf8(`${header}\n${secondRow(1)}\n`))
    expect(out).toHaveLength(1)
    expect(out[0]).toMatchObject({ _tag: "Rejection", locator: "line 1", field: "DOB, SchoolURN" })
    expect((out[0] as Rejection.Rejection).reason).toBe(
      "the header is not the Niche export's: missing required column(s) DOB, SchoolURN; unknown column(s) at position(s) 4, 6"
    )
    const withoutDob = secondHeader.replace("DOB;", "")
    expect(decodeWith(NicheRmsSource.make(secondForce), utf8(`${withoutDob}\n`))).toMatchObject([
      { locator: "line 1", field: "DOB", reason: "the header is not the Niche export's: missing required column(s) DOB" }
    ])
    // The default layout's header is not this force's: refused the same way.
    const standard = rejections(decodeWith(NicheRmsSource.make(secondForce), fixture("good.csv")))
    expect(standard).toHaveLength(1)
    expect(standard[0]?.reason).toMatch(/missing required column\(s\) OccurrenceNo, ReportedAt/)
  })

  it("matches header names whatever their case only when the mapping says so", () => {
    const upper = utf8(`${secondHeader.toUpperCase()}\n${secondRow(1)}\n`)
    expect(incidents(decodeWith(NicheRmsSource.make(secondForce), upper))).toHaveLength(1)
    const exact = new NicheMapping.NicheMapping({ ...secondForce, headerCaseInsensitive: false })
    expect(rejections(decodeWith(NicheRmsSource.make(exact), upper))[0]?.locator).toBe("line 1")
    expect(rejections(decodeWith(NicheRmsSource.make(exact), fixture("good-second-force.csv")))[0]?.reason).toMatch(/SchoolURN/)
  })

  it("accepts only a coded column's codes, whatever their case, and says which", () => {
    const plugin = NicheRmsSource.make(secondForce)
    const row = (presence: string) => secondRow(1).replace(";P;", `;${presence};`)
    const out = decodeWith(plugin, utf8(`${secondHeader}\n${row("np")}\n${row("present")}\n`))
    expect(incidents(out)[0]?.children[0].presence).toBe("not-present")
    expect(rejections(out)).toMatchObject([{ locator: "line 3", field: "ChildPresence", reason: "expected P, W or NP" }])
  })

  it("reads dates and times in the mapping's patterns, as UK local time", () => {
    const plugin = NicheRmsSource.make(secondForce)
    const row = (when: string, dob: string) => secondRow(1).replace("16/11/2026 19:45", when).replace("02/04/2015", dob)
    const out = decodeWith(
      plugin,
      utf8([secondHeader, row("01/07/2026 12:00", "02/04/2015"), row("2026-07-01T12:00", "02/04/2015"), row("31/06/2026 10:00", "2015-04-02")].join("\n"))
    )
    const [summer] = incidents(out)
    expect(DateTime.formatIso(summer?.occurredAt ?? DateTime.unsafeMake(0))).toBe("2026-07-01T11:00:00.000Z")
    expect(summer?.children[0].person.dateOfBirth).toBe("2015-04-02")
    expect(rejections(out).map((r) => [r.locator, r.field, r.reason])).toEqual([
      ["line 3", "ReportedAt", "expected dd/MM/yyyy HH:mm (UK local time)"],
      ["line 4", "ReportedAt", "not a real date and time; also DOB: expected a date as dd/MM/yyyy"]
    ])
  })

  it("reads past ignored columns and separates cells with a tab when told to", () => {
    const mapping = load("delimiter: tab\nignoreColumns: [officer_notes]\n")
    const columns = [...NicheRmsSource.columns, "officer_notes"]
    const row = `43/1/26\t2026-11-16T19:45\tdomestic\t14 Elm Road, Reading\tRG1 4AA\t1\tP-1\tAlfie\tTestman\t2015-04-02\t14 Elm Road, Reading\tRG1 4AA\tpresent\t100001\tstandard\tN\t"Alfie seemed ""withdrawn"""`
    const out = decodeWith(NicheRmsSource.make(mapping), utf8(`${columns.join("\t")}\n${row}\n`))
    expect(out.map((d) => d._tag)).toEqual(["Incident"])
    expect(JSON.stringify(plain(out))).not.toContain("withdrawn")
  })

  it("hands back a rejected row's occurrence in the force's own layout, which replays under the mapping", () => {
    const plugin = NicheRmsSource.make(secondForce)
    const bad = secondRow(2).replace(";W;", ";X;")
    const feed = `${secondHeader}\n${secondRow(1)}\n${bad}\n`
    const [rejection] = rejections(decodeWith(plugin, utf8(feed)))
    assert.isDefined(rejection?.record)
    expect(Redacted.value(rejection.record)).toBe(feed)
    const replayed = rejections(decodeWith(plugin, utf8(Redacted.value(rejection.record))))
    expect(replayed.map((r) => [r.field, r.reason])).toEqual([["ChildPresence", "expected P, W or NP"]])
  })

  describe("fromYaml refuses a bad mapping, naming the key path, line and column", () => {
    const cases: ReadonlyArray<readonly [string, string, NicheMappingError.NicheMappingError["reason"], string, number, number, RegExp]> = [
      ["an unknown canonical column", "version: 1\ncolumns:\n  child_dob: DOB\n  child_dobb: BirthDate\n", "InvalidConfig", "columns.child_dobb", 4, 3, /is unexpected, expected: .*"child_dob"/],
      ["an unknown key", "delimiter: \";\"\nseparator: \"|\"\n", "InvalidConfig", "separator", 2, 1, /is unexpected/],
      ["a date pattern with a two-digit year", "dateFormat: dd/MM/yy\n", "InvalidConfig", "dateFormat", 1, 1, /yy is not a pattern letter/],
      ["a date pattern holding a time", "dateFormat: dd/MM/yyyy HH:mm\n", "InvalidConfig", "dateFormat", 1, 1, /may not hold a time/],
      ["a date-time pattern without a time", "\ndateTimeFormat: dd/MM/yyyy\n", "InvalidConfig", "dateTimeFormat", 2, 1, /needs an hour/],
      ["a delimiter it cannot use", "delimiter: \"|\"\n", "InvalidConfig", "delimiter", 1, 1, /expected ",", ";" or "tab"/],
      ["a code mapped to no canonical value", "values:\n  presence:\n    P: here\n", "InvalidConfig", "values.presence.P", 3, 5, /expected present, witness or not-present/],
      ["two codes differing only in case", "values:\n  sensitive:\n    Y: Y\n    y: N\n", "InvalidConfig", "values.sensitive.y", 4, 5, /same code as "Y"/],
      ["two columns under one name", "columns:\n  child_given_name: Name\n  child_family_name: Name\n", "InvalidConfig", "columns.child_family_name", 3, 3, /"Name" names both column child_given_name and column child_family_name/],
      ["a name that is another column's default", "columns:\n  child_dob: person_ref\n", "InvalidConfig", "columns.child_dob", 2, 3, /names both column person_ref and column child_dob/],
      ["an ignored column that is also mapped", "headerCaseInsensitive: true\ncolumns: { child_dob: DOB }\nignoreColumns: [dob]\n", "InvalidConfig", "ignoreColumns.0", 3, 17, /"dob" names both column child_dob and an ignored column/],
      ["a key given twice", "columns:\n  child_dob: DOB\n  child_dob: BirthDate\n", "Syntax", "columns.child_dob", 3, 3, /unique/],
      ["broken YAML", "columns:\n  child_dob: [DOB\n", "Syntax", "columns.child_dob.0", 3, 1, /flow sequence/i],
      ["a list instead of a mapping", "- child_dob\n", "InvalidConfig", "", 1, 1, /expected a mapping/]
    ]
    for (const [name, yaml, reason, key, line, column, message] of cases) {
      it(name, () => {
        const error = failure(yaml)
        expect(error._tag).toBe("NicheMappingError")
        expect(error.reason).toBe(reason)
        const [issue] = error.issues
        expect([issue.path, issue.line, issue.column]).toEqual([key, line, column])
        expect(issue.message).toMatch(message)
        expect(error.message).toContain(`${key === "" ? "document" : key} (line ${line}, column ${column})`)
      })
    }

    it("lists every problem, not just the first", () => {
      const error = failure("delimiter: \"|\"\ndateFormat: yyyy\nurnSeparator: ab\n")
      expect(error.issues.map((issue) => issue.path)).toEqual(["delimiter", "dateFormat", "urnSeparator"])
    })
  })

  it("has the README's Configuration table: every key, its default and its description from the schema", () => {
    const readme = fs.readFileSync(path.join(here, "..", "README.md"), "utf8")
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1))
    const rows = section.split("\n").filter((line) => line.startsWith("| `"))
    const table = new Map(rows.map((line) => {
      const [key = "", def = "", description = ""] = line.split(" | ").map((cell) => cell.replace(/^\| /, "").replace(/ \|$/, ""))
      return [key.replaceAll("`", ""), { def, description }] as const
    }))
    const properties = (JSONSchema.make(NicheMapping.NicheMapping) as { properties: Record<string, { description: string }> }).properties
    expect([...table.keys()]).toEqual(Object.keys(properties))
    const defaults = NicheMapping.defaultMapping as unknown as Record<string, unknown>
    for (const [key, { description }] of Object.entries(properties)) {
      expect(table.get(key)?.description, key).toBe(description)
      const value = defaults[key]
      expect(table.get(key)?.def, key).toBe(value === undefined ? "—" : `\`${JSON.stringify(value)}\``)
    }
  })

  it.effect("layerWith provides the plugin for a force's mapping", () =>
    Effect.gen(function*() {
      const plugin = yield* SourcePlugin.SourcePlugin
      expect(plugin.id).toBe("niche-rms")
      expect(plugin.fieldName("occurrence")).toBe("OccurrenceNo")
    }).pipe(Effect.provide(NicheRmsSource.layerWith(secondForce))))
})
