import { assert, describe, expect, it } from "@effect/vitest"
import { Ids, Incident, Rejection } from "@encompass/domain"
import { RawFeed, SourcePlugin } from "@encompass/plugin-sdk"
import { Chunk, DateTime, Effect, Either, FastCheck as fc, Redacted, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { NicheRmsSource } from "../src/index.js"

const source = Ids.SourceId.make("niche-rms")
const plugin = NicheRmsSource.make()

const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(import.meta.dirname, "fixtures", name)))
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Decodes the bytes delivered as the given chunks; decoding never needs more than `runSync`. */
const decodeChunks = (chunks: ReadonlyArray<Uint8Array>): ReadonlyArray<SourcePlugin.Decoded> =>
  Effect.runSync(
    Stream.runCollect(plugin.decode({ source, name: "feed.csv", content: Stream.fromIterable(chunks) })).pipe(
      Effect.map(Chunk.toReadonlyArray)
    )
  )
const decode = (bytes: Uint8Array) => decodeChunks([bytes])

/** The output as plain data, to compare two runs exactly. */
const plain = Schema.encodeSync(Schema.Array(Schema.Union(Incident.Incident, Rejection.Rejection)))

/** One line per output: the occurrence and its children's lines, or the rejected line and field. */
const summary = (decoded: SourcePlugin.Decoded): string =>
  decoded._tag === "Incident"
    ? `incident ${decoded.occurrence} v${decoded.version}: ${decoded.children.map((child) => child.locator).join(", ")}`
    : `rejected ${decoded.locator}: ${decoded.field ?? "(row)"}`

/** The i-th element, which the test expects to be there. */
const nth = <A>(items: ReadonlyArray<A>, i: number): A => {
  const item = items[i]
  if (item === undefined) throw new Error(`expected an element at ${i}`)
  return item
}

const incidents = (out: ReadonlyArray<SourcePlugin.Decoded>) => out.filter((d): d is Incident.Incident => d._tag === "Incident")
const rejections = (out: ReadonlyArray<SourcePlugin.Decoded>) => out.filter(SourcePlugin.isRejection)

const base: Record<string, string> = {
  occurrence_number: "43/500001/26",
  incident_datetime: "2026-11-16T19:45",
  incident_category: "domestic",
  incident_address: "5 Oak Close Reading",
  incident_postcode: "RG2 7AA",
  version: "1",
  person_ref: "P-1",
  child_given_name: "Finn",
  child_family_name: "Fakeley",
  child_dob: "2014-05-05",
  home_address: "5 Oak Close Reading",
  home_postcode: "RG2 7AA",
  presence: "present",
  school_urn: "100001",
  risk_grading: "standard",
  sensitive: "N"
}
const row = (over: Record<string, string> = {}, columns = NicheRmsSource.columns): string =>
  columns.map((column) => over[column] ?? base[column]).join(",")
const csv = (...rows: ReadonlyArray<string>): Uint8Array => utf8([NicheRmsSource.columns.join(","), ...rows].join("\n") + "\n")

describe("NicheRmsSource", () => {
  it.effect("is the niche-rms SourcePlugin and names domain fields as the export does", () =>
    Effect.gen(function*() {
      const provided = yield* SourcePlugin.SourcePlugin
      expect(provided.id).toBe("niche-rms")
      expect(provided.manifest.system).toBe("Niche RMS")
      expect(provided.fieldName("education")).toBe("school_urn")
      expect(provided.fieldName("dateOfBirth")).toBe("child_dob")
      expect(provided.fieldName("occurrence")).toBe("occurrence_number")
    }).pipe(Effect.provide(NicheRmsSource.layer)))

  it("decodes a good feed: siblings, a dual registration and an EHE child", () => {
    const out = decode(fixture("good.csv"))
    expect(out.map(summary)).toEqual([
      "incident 43/100001/26 v1: line 2, line 3",
      "incident 43/100002/26 v1: line 4",
      "incident 43/100003/26 v2: line 5, line 6"
    ])
    const [siblings, dual, ehe] = [nth(incidents(out), 0), nth(incidents(out), 1), nth(incidents(out), 2)]
    expect(siblings.category).toBe("domestic")
    expect(DateTime.formatIso(siblings.occurredAt)).toBe("2026-11-16T19:45:00.000Z")
    expect(siblings.address).toEqual({ lines: "14 Elm Road, Reading", postcode: "RG1 4AA" })
    expect(siblings.children.map((c) => [c.person.givenName, c.presence, c.education])).toEqual([
      ["Alfie", "present", [{ _tag: "Setting", urn: "100001" }]],
      ["Bella", "witness", [{ _tag: "Setting", urn: "100001" }]]
    ])
    // "DOMESTIC", "Present", "n" and an empty version cell are read case-insensitively / by default.
    expect(dual.category).toBe("domestic")
    expect(dual.version).toBe(1)
    const [cara] = dual.children
    expect([cara.presence, cara.riskGrading, cara.sensitive]).toEqual(["present", "medium", false])
    expect(cara.education).toEqual([
      { _tag: "Setting", urn: "100002" },
      { _tag: "Setting", urn: "100006" }
    ])
    expect(DateTime.formatIso(ehe.occurredAt)).toBe("2026-11-18T22:05:00.000Z")
    const [dan, eve] = ehe.children
    expect([dan.education, dan.presence, dan.riskGrading, dan.sensitive]).toEqual([
      [{ _tag: "ElectiveHomeEducation" }],
      "not-present",
      "high",
      true
    ])
    expect(dan.person).toEqual({ givenName: "Dan", familyName: "Example", dateOfBirth: "2010-06-15" })
    expect(eve?.locator).toBe("line 6")
  })

  it("reads a UTF-8 BOM and CRLF line ends exactly as it reads LF, keeping CRLF in a rejection's record", () => {
    for (const name of ["good.csv", "quoted.csv", "malformed.csv"]) {
      const lf = fixture(name)
      const crlf = decode(utf8("\uFEFF" + text(lf).replaceAll("\n", "\r\n")))
      const records = rejections(crlf).flatMap((r) => (r.record === undefined ? [] : [Redacted.value(r.record)]))
      for (const record of records) expect(record.replaceAll("\r\n", "")).not.toContain("\n")
      const asLf = crlf.map((d) =>
        d._tag === "Rejection" && d.record !== undefined
          ? new Rejection.Rejection({ ...d, record: Redacted.make(Redacted.value(d.record).replaceAll("\r\n", "\n")) })
          : d
      )
      expect(plain(asLf)).toEqual(plain(decode(lf)))
    }
  })

  it("reads quoted values with commas, doubled quotes and line breaks, and counts physical lines", () => {
    const out = decode(fixture("quoted.csv"))
    expect(out.map(summary)).toEqual([
      "incident 43/300001/26 v1: line 2, line 5",
      "rejected line 7: child_dob",
      "incident 43/300002/26 v1: line 8"
    ])
    const [flat, parade] = incidents(out)
    expect(flat?.address.lines).toBe("Flat 3\n22 Castle Street, Reading")
    expect(flat?.children[1]?.person.familyName).toBe('Testman-"Jones"')
    expect(flat?.children[1]?.homeAddress.lines).toBe('The "Old" Forge, Oxford')
    expect(parade?.address.lines).toBe("1, The Parade, Slough")
  })

  it("rejects each malformed row with its line and column, and still emits the rest", () => {
    const out = decode(fixture("malformed.csv"))
    expect(out.map(summary)).toEqual([
      "rejected line 3: child_dob", // impossible date
      "incident 43/200001/26 v1: line 2, line 4",
      "rejected line 5: incident_datetime", // not ISO 8601
      "incident 43/200002/26 v1: line 6",
      "rejected line 7: child_given_name", // empty
      "rejected line 8: (row)", // wrong column count
      "rejected line 9: school_urn", // five digits
      "rejected line 10: presence",
      "rejected line 12: sensitive",
      "rejected line 13: risk_grading",
      "rejected line 14: incident_datetime", // disagrees with line 11
      "rejected line 15: person_ref", // same child twice
      "incident 43/200003/26 v1: line 11",
      "rejected line 16: incident_datetime", // 31 November
      "rejected line 17: home_postcode",
      "rejected line 18: version", // its occurrence is unknown, so 43/200004/26 goes on
      "incident 43/200004/26 v1: line 19",
      "rejected line 20: occurrence_number", // 43/200001/26 again, after others
      "rejected line 21: child_family_name", // text after a closing quote
      "rejected line 22: incident_category",
      "rejected line 23: occurrence_number", // empty
      "incident 43/200006/26 v1: line 24"
    ])
    const reasons = Object.fromEntries(rejections(out).map((r) => [r.locator, r.reason]))
    expect(reasons["line 3"]).toBe("not a real calendar date")
    expect(reasons["line 7"]).toBe("is missing")
    expect(reasons["line 8"]).toBe("has 15 columns but the header has 16")
    expect(reasons["line 14"]).toBe("differs from line 11, the occurrence's first row")
    expect(reasons["line 16"]).toBe("not a real date and time")
    expect(reasons["line 20"]).toMatch(/rows must be listed together/)
    expect(rejections(out).find((r) => r.locator === "line 9")?.occurrence).toBe("43/200003/26")
  })

  it("gives a rejected row the header and its occurrence's rows as received, for correction and replay", () => {
    const lines = text(fixture("malformed.csv")).split("\n")
    const feed = (...numbers: ReadonlyArray<number>) => numbers.map((n) => `${lines[n - 1]}\n`).join("")
    const out = decode(fixture("malformed.csv"))
    const recordAt = (locator: string) => {
      const record = rejections(out).find((r) => r.locator === locator)?.record
      return record === undefined ? undefined : Redacted.value(record)
    }
    // A bad date of birth: the whole occurrence 43/200001/26, accepted rows too.
    expect(recordAt("line 3")).toBe(feed(1, 2, 3, 4))
    // Rows of 43/200003/26, without line 8 between them, which has no occurrence of its own.
    expect(recordAt("line 7")).toBe(feed(1, 7, 9, 10, 11, 12, 13, 14, 15))
    expect(recordAt("line 14")).toBe(recordAt("line 7"))
    // Rows whose occurrence is unknown stand alone.
    expect(recordAt("line 8")).toBe(feed(1, 8))
    expect(recordAt("line 18")).toBe(feed(1, 18))
    expect(recordAt("line 21")).toBe(feed(1, 21))
    // An occurrence that comes back: its problem is its place in the feed, which no record shows.
    expect(recordAt("line 20")).toBeUndefined()
    // The record is never in what the rejection says.
    for (const rejection of rejections(out)) expect(rejection.message).not.toContain("Fakeley")
  })

  it("decodes a corrected record to the occurrence's incident with every child", () => {
    const record = rejections(decode(fixture("malformed.csv"))).find((r) => r.locator === "line 3")?.record
    assert.isDefined(record)
    const corrected = Redacted.value(record).replace("2015-02-30", "2015-02-28")
    expect(decode(utf8(corrected)).map(summary)).toEqual(["incident 43/200001/26 v1: line 2, line 3, line 4"])
  })

  it("gives no record to a header rejection, nor to a row too long to keep", () => {
    expect(rejections(decode(fixture("missing-column.csv")))[0]?.record).toBeUndefined()
    expect(rejections(decode(utf8(`${row()}\n${row()}\n`)))[0]?.record).toBeUndefined()
    const long = decode(csv(row({ home_address: "x".repeat(70_000) })))
    expect(long.map(summary)).toEqual(["rejected line 2: (row)"])
    expect(rejections(long)[0]?.record).toBeUndefined()
  })

  it("gives no record when an occurrence's rows exceed the replay bound, and goes on giving them after", () => {
    const many = Math.ceil(NicheRmsSource.maxReplayBytes / row().length) + 10
    const big = Array.from({ length: many }, (_, i) => row({ person_ref: `P-${i}`, child_dob: i === 0 ? "2014-02-30" : "2014-05-05" }))
    const next = row({ occurrence_number: "43/500002/26", child_dob: "2014-02-30" })
    const out = decode(csv(...big, next))
    expect(out.map(summary)).toEqual([
      "rejected line 2: child_dob",
      `incident 43/500001/26 v1: ${Array.from({ length: many - 1 }, (_, i) => `line ${i + 3}`).join(", ")}`,
      `rejected line ${many + 2}: child_dob`
    ])
    const [first, second] = rejections(out)
    expect(first?.record).toBeUndefined()
    expect(second?.record === undefined ? undefined : Redacted.value(second.record)).toBe(`${NicheRmsSource.columns.join(",")}\n${next}\n`)
  })

  it("OWASP CSV injection: rejects a name or address that begins with a formula character, naming line and column, and delivers the rest", () => {
    const formula = (cell: string) => `"${cell.replace(/"/g, "\"\"")}"`
    const out = decode(csv(
      row(),
      row({ person_ref: "P-2", child_given_name: formula("=HYPERLINK(\"http://x\",\"y\")") }),
      row({ person_ref: "P-3", child_family_name: formula("+SUM(1;2)") }),
      row({ person_ref: "P-4", home_address: formula("@cmd|' /C calc'!A0") }),
      row({ person_ref: "P-5", child_given_name: formula("\t=1+1") }),
      row({ person_ref: "P-6", child_family_name: formula("\r-1+1") }),
      row({ person_ref: "P-7", child_given_name: formula("＝HYPERLINK(\"http://x\")") }),
      row({ occurrence_number: "43/500002/26", incident_address: formula("=HYPERLINK(\"http://x\",\"y\")") }),
      row({ occurrence_number: "43/500003/26", child_given_name: "Anne-Marie", home_address: formula("5 Oak Close, -") })
    ))
    expect(out.map(summary)).toEqual([
      "rejected line 3: child_given_name",
      "rejected line 4: child_family_name",
      "rejected line 5: home_address",
      "rejected line 6: child_given_name",
      "rejected line 7: child_family_name",
      "rejected line 8: child_given_name",
      "incident 43/500001/26 v1: line 2",
      "rejected line 9: incident_address",
      "incident 43/500003/26 v1: line 10"
    ])
    for (const rejection of rejections(out)) {
      expect(rejection.reason).toBe("value begins with a spreadsheet formula character (= + - @, tab or carriage return)")
      expect(rejection.message).not.toMatch(/HYPERLINK|SUM|cmd/)
    }
    expect(rejections(out).find((r) => r.locator === "line 3")?.occurrence).toBe("43/500001/26")
    expect(nth(incidents(out), 0).children.map((c) => c.person.givenName)).toEqual(["Finn"])
  })

  it("names every failing column of a row, the first as the field", () => {
    const [rejection] = decode(csv(row({ child_dob: "2014-02-30", sensitive: "maybe" })))
    expect(rejection).toMatchObject({
      _tag: "Rejection",
      locator: "line 2",
      field: "child_dob",
      reason: "not a real calendar date; also sensitive: expected Y or N"
    })
  })

  it("refuses a header missing a required column with one rejection at line 1, decoding nothing", () => {
    const out = decode(fixture("missing-column.csv"))
    expect(out).toHaveLength(1)
    expect(out[0]).toMatchObject({ _tag: "Rejection", locator: "line 1", field: "child_dob, school_urn" })
    expect((out[0] as Rejection.Rejection).reason).toMatch(/missing required column\(s\) child_dob, school_urn/)
  })

  it("refuses unknown and repeated columns, naming unknown ones by position only", () => {
    const extra = decode(utf8(`${NicheRmsSource.columns.join(",")},officer_notes\n${row()},x\n`))
    expect(extra).toHaveLength(1)
    expect((extra[0] as Rejection.Rejection).reason).toMatch(/unknown column\(s\) at position\(s\) 17/)
    expect((extra[0] as Rejection.Rejection).reason).not.toMatch(/officer_notes/)
    const twice = decode(utf8(`${NicheRmsSource.columns.join(",")},sensitive\n${row()},N\n`))
    expect((twice[0] as Rejection.Rejection).reason).toMatch(/listed twice: sensitive/)
    // With the header row lost, the first data row is read as the header: none of it is quoted back.
    const headless = decode(utf8(`${row()}\n${row({ person_ref: "P-2" })}\n`))
    expect(headless).toHaveLength(1)
    const message = (headless[0] as Rejection.Rejection).message
    for (const value of Object.values(base).filter((v) => v.length > 3)) expect(message).not.toContain(value)
  })

  it("takes the columns in any order and defaults a missing version column to 1", () => {
    const columns = NicheRmsSource.columns.filter((column) => column !== "version").reverse()
    const out = decode(utf8(`${columns.join(",")}\n${row({}, columns)}\n${row({ person_ref: "P-2" }, columns)}\n`))
    expect(out.map(summary)).toEqual(["incident 43/500001/26 v1: line 2, line 3"])
  })

  it("rejects an empty feed, and decodes a header with no rows, blank lines or padding rows to nothing", () => {
    expect(decode(new Uint8Array(0)).map(summary)).toEqual(["rejected line 1: (row)"])
    expect(decode(csv())).toEqual([])
    expect(decode(csv("", ",,,,,,,,,,,,,,,", ""))).toEqual([])
  })

  it("groups contiguous rows by occurrence and version, and rejects an occurrence that comes back", () => {
    const a = { occurrence_number: "43/600001/26" }
    const b = { occurrence_number: "43/600002/26" }
    const out = decode(
      csv(
        row({ ...a, person_ref: "P-1" }),
        row({ ...a, person_ref: "P-1", version: "2" }), // a correction: its own incident
        row({ ...b }),
        row({ ...a, person_ref: "P-2" }), // version 1 again, after other rows
        row({ ...a, person_ref: "P-3", version: "3" }) // a version not seen before
      )
    )
    expect(out.map(summary)).toEqual([
      "incident 43/600001/26 v1: line 2",
      "incident 43/600001/26 v2: line 3",
      "incident 43/600002/26 v1: line 4",
      "rejected line 5: occurrence_number",
      "incident 43/600001/26 v3: line 6"
    ])
  })

  it("rejects a row with a stray quote at its line and reads on from the next line", () => {
    const stray = { person_ref: "P-2", child_family_name: '"Fakeley' }
    const quoted = { person_ref: "P-3", home_address: '"5 Oak Close, Reading"' }
    const out = decode(csv(row(), row(stray), row(quoted), row({ person_ref: "P-4" })))
    expect(out.map(summary)).toEqual(["rejected line 3: (row)", "incident 43/500001/26 v1: line 2, line 4, line 5"])
    expect((out[0] as Rejection.Rejection).reason).toMatch(/never closed/)
  })

  it("rejects a record that two stray quotes run over several lines, saying where it ends", () => {
    const other = decode(csv(row(), row({ person_ref: "P-2", child_family_name: '"Fakeley' }), row({ person_ref: "P-3", home_postcode: 'RG2 7AA"' }), row({ person_ref: "P-4" })))
    expect(other.map(summary)).toEqual(["rejected line 3: (row)", "incident 43/500001/26 v1: line 2, line 5"])
    expect((other[0] as Rejection.Rejection).reason).toMatch(/header has 16; it runs on to line 4/)
    // Quotes in the same column would make the count right; the swallowed row still shows.
    const same = decode(csv(row(), row({ person_ref: "P-2", home_address: '"5 Oak Close' }), row({ person_ref: "P-3", home_address: 'Reading"' }), row({ person_ref: "P-4" })))
    expect(same.map(summary)).toEqual(["rejected line 3: home_address", "incident 43/500001/26 v1: line 2, line 5"])
    const name = decode(csv(row({ child_given_name: '"Finn\nRose"' })))
    expect(name.map(summary)).toEqual(["rejected line 2: child_given_name"])
  })

  it("rejects a row longer than 64 KiB and reads on from the next line", () => {
    const out = decode(csv(row({ home_address: "x".repeat(70_000) }), row({ person_ref: "P-2" })))
    expect(out.map(summary)).toEqual(["rejected line 2: (row)", "incident 43/500001/26 v1: line 3"])
  })

  it("rejects a cell that is not valid UTF-8, naming its column", () => {
    const [head, tail] = text(csv(row({ child_given_name: "Fi@nn" }))).split("@") as [string, string]
    const bytes = new Uint8Array([...utf8(head), 0xff, ...utf8(tail)])
    expect(decode(bytes)).toMatchObject([{ _tag: "Rejection", locator: "line 2", field: "child_given_name", reason: "is not valid UTF-8" }])
  })

  it("converts UK local time to UTC across the 2026 changeovers", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["2026-03-29T00:30", "2026-03-29T00:30:00.000Z"], // GMT
      ["2026-03-29T01:30", "2026-03-29T01:30:00.000Z"], // in the spring gap: read as GMT
      ["2026-03-29T02:30", "2026-03-29T01:30:00.000Z"], // BST
      ["2026-07-01 12:00:30", "2026-07-01T11:00:30.000Z"], // BST, space and seconds
      ["2026-10-25T00:30", "2026-10-24T23:30:00.000Z"], // BST
      ["2026-10-25T01:30", "2026-10-25T00:30:00.000Z"], // happens twice: the first, BST
      ["2026-10-25T01:30+00:00", "2026-10-25T01:30:00.000Z"], // the second, by offset
      ["2026-10-25T02:30", "2026-10-25T02:30:00.000Z"], // GMT
      ["2026-11-16T19:45Z", "2026-11-16T19:45:00.000Z"],
      ["2026-06-01T08:00-0230", "2026-06-01T10:30:00.000Z"]
    ]
    const out = decode(csv(...cases.map(([local], i) => row({ occurrence_number: `43/7000${i}/26`, incident_datetime: local }))))
    expect(incidents(out).map((incident) => DateTime.formatIso(incident.occurredAt))).toEqual(cases.map(([, utc]) => utc))
  })

  it.effect("gives the same output each time the same feed is decoded, and passes a read failure on", () =>
    Effect.gen(function*() {
      const feed = { source, name: "feed.csv", content: Stream.make(fixture("malformed.csv")) }
      const once = yield* Stream.runCollect(plugin.decode(feed))
      const twice = yield* Stream.runCollect(plugin.decode(feed))
      expect(plain(Chunk.toReadonlyArray(twice))).toEqual(plain(Chunk.toReadonlyArray(once)))
      const broken = Stream.concat(Stream.make(fixture("good.csv")), Stream.fail(new RawFeed.FeedReadError({ reason: "connection reset" })))
      const failure = yield* Effect.flip(Stream.runDrain(plugin.decode({ ...feed, content: broken })))
      expect(failure.reason).toBe("connection reset")
    }))

  const fixtures = ["good.csv", "quoted.csv", "malformed.csv"].map((name) => {
    const lf = fixture(name)
    return utf8("\uFEFF" + text(lf).replaceAll("\n", "\r\n"))
  })
  // Text dense in quotes, separators and line ends, with two-, three- and four-byte characters
  // for chunks to split.
  const tangled = fc
    .array(fc.constantFrom(..."a1 ,;\"\"\n\r\nж€😀"), { maxLength: 600 })
    .map((chars) => csv(row(), chars.join(""), row({ person_ref: "P-9" })))

  it.prop(
    "gives the same output for the same bytes however they are chunked",
    [fc.oneof(fc.constantFrom(...fixtures), tangled), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 400 })],
    ([bytes, sizes]) => {
      const chunks: Array<Uint8Array> = []
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const size = nth(sizes, i % sizes.length)
        chunks.push(bytes.slice(at, at + size))
        at += size
      }
      expect(plain(decodeChunks(chunks))).toEqual(plain(decode(bytes)))
    },
    { fastCheck: { numRuns: 150 } }
  )

  // Cells always hold a Cyrillic letter, which no reason, field or locator contains: any echo of
  // a value, whole or in part, would show.
  const marker = /[жщюяф]/
  const cell = fc
    .tuple(fc.constantFrom(..."жщюяф"), fc.array(fc.constantFrom(..."жщюяфab01 -:;,\"\n\r\t/"), { maxLength: 12 }))
    .map(([letter, rest]) => [letter, ...rest].join(""))
  const garbageRow = fc.array(cell, { minLength: 1, maxLength: 20 }).map((cells) => cells.join(","))

  it.prop(
    "never throws on garbage and never quotes a cell in a rejection",
    [fc.boolean(), fc.array(garbageRow, { maxLength: 12 })],
    ([withHeader, rows]) => {
      const lines = withHeader ? [NicheRmsSource.columns.join(","), ...rows] : rows
      const out = Effect.runSync(
        Effect.either(Stream.runCollect(plugin.decode({ source, name: "x.csv", content: Stream.make(utf8(lines.join("\n"))) })))
      )
      expect(Either.isRight(out)).toBe(true)
      for (const rejection of rejections(Either.isRight(out) ? Chunk.toReadonlyArray(out.right) : [])) {
        expect(rejection.locator).toMatch(/^line \d+$/)
        expect(rejection.message).not.toMatch(marker)
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "decodes any bytes after a good header without failing",
    [fc.uint8Array({ maxLength: 3000 })],
    ([bytes]) => {
      const out = decodeChunks([csv(row()), bytes])
      expect(out.every((d) => d._tag === "Incident" || /^line \d+$/.test(d.locator))).toBe(true)
    },
    { fastCheck: { numRuns: 200 } }
  )
})
