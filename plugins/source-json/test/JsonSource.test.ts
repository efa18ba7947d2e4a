import { Ids } from "@encompass/domain"
import type { Incident, Rejection } from "@encompass/domain"
import { SourcePlugin } from "@encompass/plugin-sdk"
import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, DateTime, Effect, Redacted, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { IncidentLine, JsonSource, SourceJsonConfig } from "../src/index.js"
import * as Lines from "./Lines.js"

const source = Ids.SourceId.make("json-lines")

const decodeWith = (plugin: SourcePlugin.SourcePlugin, bytes: Uint8Array) =>
  Effect.runSync(
    Stream.runCollect(plugin.decode({ source, name: "feed.jsonl", content: Stream.make(bytes) })).pipe(Effect.map(Chunk.toReadonlyArray))
  )
const decode = (bytes: Uint8Array) => decodeWith(JsonSource.make(), bytes)

const onlyRejection = (out: ReadonlyArray<SourcePlugin.Decoded>): Rejection.Rejection => {
  expect(out).toHaveLength(1)
  const [only] = out
  assert.isDefined(only)
  assert.strictEqual(only._tag, "Rejection")
  return only as Rejection.Rejection
}

const incidents = (out: ReadonlyArray<SourcePlugin.Decoded>) => out.filter((d): d is Incident.Incident => d._tag === "Incident")

describe("JsonSource", () => {
  it.effect("is the json-lines SourcePlugin and names domain fields by their path in a line", () =>
    Effect.gen(function*() {
      const plugin = yield* SourcePlugin.SourcePlugin
      expect(plugin.id).toBe("json-lines")
      expect(plugin.manifest.formats).toEqual(["application/jsonl"])
      expect(plugin.fieldName("education")).toBe("children.education")
    }).pipe(Effect.provide(JsonSource.layer)))

  it("decodes one incident per line, its children located at that line, carrying the feed's source", () => {
    const out = incidents(decode(Lines.good))
    expect(out.map((i) => [i.occurrence, i.version, i.children.map((c) => [c.ref, c.locator])])).toEqual([
      ["43/100001/26", 1, [["P-1001", "line 1"], ["P-1002", "line 1"]]],
      ["43/100003/26", 2, [["P-3001", "line 2"]]]
    ])
    expect(out.every((i) => i.source === source)).toBe(true)
    const [first, second] = out
    assert.isDefined(first)
    assert.isDefined(second)
    expect(DateTime.formatIso(first.occurredAt)).toBe("2026-11-16T19:45:00.000Z")
    expect(second.children[0].education).toEqual([{ _tag: "ElectiveHomeEducation" }])
    expect(second.localAuthority).toBe("E06000055")
  })

  it("OWASP CSV injection: rejects a name or address that begins with a formula character, or a tab or CR, at its line and field, and goes on", () => {
    const cases: ReadonlyArray<[field: string, value: string, change: (line: Record<string, unknown>, value: string) => void]> = [
      ["children.0.person.givenName", "=HYPERLINK(\"http://x\",\"y\")", (l, v) => Object.assign(Lines.firstChild(l)["person"] as object, { givenName: v })],
      ["children.0.person.familyName", "+SUM(1;2)", (l, v) => Object.assign(Lines.firstChild(l)["person"] as object, { familyName: v })],
      ["children.0.homeAddress.lines", "@cmd|' /C calc'!A0", (l, v) => Object.assign(Lines.firstChild(l)["homeAddress"] as object, { lines: v })],
      ["address.lines", "＝HYPERLINK(\"http://x\")", (l, v) => Object.assign(l["address"] as object, { lines: v })],
      ["children.0.person.givenName", "\t=1+1", (l, v) => Object.assign(Lines.firstChild(l)["person"] as object, { givenName: v })],
      ["children.0.person.familyName", "\rTestman", (l, v) => Object.assign(Lines.firstChild(l)["person"] as object, { familyName: v })]
    ]
    const lines = cases.map(([, value, change], i) => {
      const line = { ...Lines.incident(), occurrence: `43/70000${i}/26` }
      change(line, value)
      return line
    })
    const out = decode(Lines.feed(...lines, Lines.incident()))
    expect(out.map((d) => (d._tag === "Rejection" ? `${d.locator}: ${d.field}` : d._tag))).toEqual([
      ...cases.map(([field], i) => `line ${i + 1}: ${field}`),
      "Incident"
    ])
    for (const [i, [field]] of cases.slice(0, 4).entries()) {
      expect((out[i] as Rejection.Rejection).reason).toBe(`${field}: value begins with a spreadsheet formula character (= + - @, tab or carriage return)`)
    }
    for (const rejection of out.slice(0, cases.length) as ReadonlyArray<Rejection.Rejection>) {
      expect(rejection.message).not.toMatch(/HYPERLINK|SUM|cmd|Testman/)
      expect(rejection.occurrence).toMatch(/^43\/70000\d\/26$/)
    }
  })

  it("rejects a bad field at its line, naming the field's path and not its value, and goes on", () => {
    const bad = Lines.incident()
    Lines.firstChild(bad)["person"] = { givenName: "Alfie", familyName: "Testman", dateOfBirth: "2015-02-30" }
    const out = decode(Lines.feed(Lines.incident(), bad, { ...Lines.incident(), occurrence: "43/3/26" }))
    expect(out.map((d) => d._tag)).toEqual(["Incident", "Rejection", "Incident"])
    const rejection = out[1] as Rejection.Rejection
    expect(rejection.locator).toBe("line 2")
    expect(rejection.field).toBe("children.0.person.dateOfBirth")
    expect(rejection.occurrence).toBe("43/100001/26")
    expect(rejection.message).not.toContain("2015-02-30")
  })

  it("names every failing field of a line, each by path", () => {
    const bad = { ...Lines.incident(), category: "burglary", version: 0 }
    const rejection = onlyRejection(decode(Lines.feed(bad)))
    expect(rejection.field).toBe("version")
    expect(rejection.reason).toContain("category:")
    expect(rejection.reason).not.toContain("burglary")
  })

  it.each([
    ["not JSON", `{"occurrence": "Alfie`, "is not valid JSON", undefined],
    ["a JSON array", `["Alfie"]`, "is not a JSON object", undefined],
    ["an unknown field", JSON.stringify({ ...Lines.incident(), nickname: "Alfie" }), "nickname: is not an expected field", "nickname"],
    ["another schemaVersion", JSON.stringify({ ...Lines.incident(), schemaVersion: 2 }), "schemaVersion: expected 1, the only version of this format", "schemaVersion"]
  ])("rejects a line that is %s", (_name, line, reason, field) => {
    const rejection = onlyRejection(decode(Lines.feed(line)))
    expect(rejection.reason).toBe(reason)
    expect(rejection.field).toBe(field)
    expect(rejection.message).not.toContain("Alfie")
  })

  it("rejects a line that is not UTF-8", () => {
    expect(onlyRejection(decode(new Uint8Array([0x7b, 0xff, 0x7d, 0x0a]))).reason).toBe("is not valid UTF-8")
  })

  it("skips blank lines but counts them, reads CRLF, a byte-order mark and a last line with no line break", () => {
    const text = `\uFEFF${JSON.stringify(Lines.incident())}\r\n\r\n   \n${JSON.stringify({ ...Lines.incident(), occurrence: "43/9/26" })}`
    const out = incidents(decode(Lines.utf8(text)))
    expect(out.map((i) => i.children[0].locator)).toEqual(["line 1", "line 4"])
  })

  it("rejects a line over the limit without reading it, and decodes the next", () => {
    const plugin = JsonSource.make(new SourceJsonConfig.SourceJsonConfig({ maxLineBytes: 2048 }))
    const out = decodeWith(plugin, Lines.feed(`{"x":"${"a".repeat(5000)}"}`, Lines.incident()))
    expect(out.map((d) => (d._tag === "Rejection" ? `${d.locator}: ${d.reason}` : `incident at ${d.children[0].locator}`))).toEqual([
      "line 1: the line is longer than the configured limit (maxLineBytes)",
      "incident at line 2"
    ])
  })

  it("hands a rejected line back, redacted, as its record: the line itself, which replays to the same rejection", () => {
    const bad = JSON.stringify({ ...Lines.incident(), category: "burglary" })
    const out = decode(Lines.utf8(`\uFEFF${bad}\r\n${JSON.stringify(Lines.incident())}\n`))
    const rejection = out[0] as Rejection.Rejection
    assert.isDefined(rejection.record)
    expect(Redacted.value(rejection.record)).toBe(bad)
    expect(String(rejection.record)).toBe("<redacted>")
    expect(JSON.stringify(rejection)).not.toContain("Alfie")
    expect(rejection.message).not.toContain("Alfie")
    const again = onlyRejection(decode(Lines.utf8(Redacted.value(rejection.record))))
    expect([again.field, again.reason]).toEqual([rejection.field, rejection.reason])
    // Corrected, it decodes.
    expect(incidents(decode(Lines.utf8(Redacted.value(rejection.record).replace("burglary", "domestic"))))).toHaveLength(1)
  })

  it("gives no record for a line over the limit, nor for one that is not UTF-8", () => {
    const plugin = JsonSource.make(new SourceJsonConfig.SourceJsonConfig({ maxLineBytes: 2048 }))
    expect(onlyRejection(decodeWith(plugin, Lines.feed(`{"x":"${"a".repeat(5000)}"}`))).record).toBeUndefined()
    expect(onlyRejection(decode(new Uint8Array([0x7b, 0xff, 0x7d, 0x0a]))).record).toBeUndefined()
  })

  it("gives no record for a line over 1 MiB, even when the limit allows the line", () => {
    const plugin = JsonSource.make(new SourceJsonConfig.SourceJsonConfig({ maxLineBytes: 4 * 1024 * 1024 }))
    const rejection = onlyRejection(decodeWith(plugin, Lines.feed({ ...Lines.incident(), circumstances: "x".repeat(JsonSource.maxReplayBytes) })))
    expect(rejection.field).toBe("circumstances")
    expect(rejection.record).toBeUndefined()
  })

  it("refuses a maxLineBytes below 1 KiB", () => {
    expect(() => new SourceJsonConfig.SourceJsonConfig({ maxLineBytes: 10 })).toThrow()
  })
})

describe("IncidentLine JSON Schema", () => {
  it("is published as generated from the Effect Schema (run `npm run schema` after changing it)", () => {
    const published: unknown = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "..", "schema", "incident-line.schema.json"), "utf8"))
    expect(published).toEqual(IncidentLine.jsonSchema())
  })

  it("refuses unknown fields, as the decoder does", () => {
    const schema = IncidentLine.jsonSchema() as { $defs: Record<string, { additionalProperties?: boolean }> }
    expect(schema.$defs["IncidentLine"]?.additionalProperties).toBe(false)
  })
})
