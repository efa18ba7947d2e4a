import { Ids, Setting } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import { readFileSync } from "node:fs"
import { Directory } from "../src/index.js"

const header = "urn,name,kind,signed_up,contacts,channel"
const good = [
  "100001,Alder Primary School,school,Y,dsl@alder.sch.example;deputy@alder.sch.example,secure-email",
  "100002,Beech College,college,N,dsl@beech.ac.example,secure-email"
]
const csv = (...rows: ReadonlyArray<string>): string => [header, ...rows].join("\n") + "\n"
const urn = (value: string) => Ids.Urn.make(value)

const refused = (text: string) => {
  const result = Directory.fromCsv(text)
  if (Either.isRight(result)) throw new Error("expected the directory to be refused")
  return result.left
}

const demoPath = new URL("../../../apps/cli/demo/directory.csv", import.meta.url)

describe("Directory.fromCsv", () => {
  it("loads every setting with its contacts, kind, sign-up and channel", () => {
    const directory = Either.getOrThrow(Directory.fromCsv(csv(...good)))
    expect(directory.all.map((s) => s.urn)).toEqual(["100001", "100002"])
    const alder = Option.getOrThrow(directory.lookup(urn("100001")))
    expect(alder).toEqual(
      new Setting.Setting({
        urn: urn("100001"),
        name: "Alder Primary School",
        kind: "school",
        signedUp: true,
        contacts: [Setting.EmailAddress.make("dsl@alder.sch.example"), Setting.EmailAddress.make("deputy@alder.sch.example")],
        channel: Ids.ChannelId.make("secure-email")
      })
    )
    expect(Option.getOrThrow(directory.lookup(urn("100002"))).signedUp).toBe(false)
    expect(directory.lookup(urn("999999"))).toEqual(Option.none())
  })

  it("accepts a BOM, CRLF line ends, blank lines, spaces around cells, quoted names, extra columns and any column order", () => {
    const text =
      "\uFEFFchannel, notes ,urn,name,kind,signed_up,contacts\r\n\r\n" +
      'secure-email,"opens 8am",100003, "Cedar School, Upper" ,independent-school,y, dsl@cedar.sch.example ; \r\n'
    const setting = Option.getOrThrow(Either.getOrThrow(Directory.fromCsv(text)).lookup(urn("100003")))
    expect([setting.name, setting.kind, setting.signedUp, setting.contacts]).toEqual([
      "Cedar School, Upper",
      "independent-school",
      true,
      ["dsl@cedar.sch.example"]
    ])
  })

  it("is immutable", () => {
    const directory = Either.getOrThrow(Directory.fromCsv(csv(...good)))
    expect(Object.isFrozen(directory.all)).toBe(true)
  })
})

describe("Directory.fromCsv refuses the whole file and lists every bad row", () => {
  const cases: ReadonlyArray<[name: string, row: string, column: string | undefined, message: RegExp]> = [
    ["a URN that is not six digits", "10003,Cedar School,school,Y,dsl@cedar.sch.example,secure-email", "urn", /six digits/],
    ["an empty name", "100003,,school,Y,dsl@cedar.sch.example,secure-email", "name", /empty/],
    ["an unknown kind", "100003,Cedar Nursery,nursery,Y,dsl@cedar.sch.example,secure-email", "kind", /unknown kind/],
    ["signed_up that is not Y or N", "100003,Cedar School,school,yes,dsl@cedar.sch.example,secure-email", "signed_up", /Y or N/],
    ["a bad email address", "100003,Cedar School,school,Y,dsl@cedar.sch.example;dsl.cedar.sch.example,secure-email", "contacts", /address 2 of 2 is not an email address/],
    ["no contact address", "100003,Cedar School,school,Y, ; ,secure-email", "contacts", /no contact address/],
    ["a bad channel id", "100003,Cedar School,school,Y,dsl@cedar.sch.example,Secure Email", "channel", /channel id/],
    ["a row with too few fields", "100003,Cedar School,school,Y,dsl@cedar.sch.example", undefined, /5 fields, the header has 6/]
  ]
  it.each(cases)("%s", (_name, row, column, message) => {
    const error = refused(csv(good[0] ?? "", row, good[1] ?? ""))
    expect(error.reason).toBe("Invalid")
    expect(error.issues).toHaveLength(1)
    expect(error.issues[0]?.line).toBe(3)
    expect(error.issues[0]?.column).toBe(column)
    expect(error.issues[0]?.message).toMatch(message)
  })

  it("a duplicate URN names both lines", () => {
    const error = refused(csv(good[0] ?? "", good[1] ?? "", good[0] ?? ""))
    expect(error.issues.map((i) => [i.line, i.column, i.message])).toEqual([[4, "urn", "URN 100001 is listed twice (first on line 2)"]])
  })

  it("with the region's channels given, every row naming another channel is refused at its line and column", () => {
    const text = csv(good[0] ?? "", "100003,Cedar School,school,Y,dsl@cedar.sch.example,sftp", good[1] ?? "", "100004,Elm School,school,Y,dsl@elm.sch.example,council-fhir")
    const result = Directory.fromCsv(text, { channels: ["secure-email"] })
    if (Either.isRight(result)) throw new Error("expected the directory to be refused")
    expect(result.left.issues.map((i) => [i.line, i.column, i.message])).toEqual([
      [3, "channel", "channel sftp is not enabled in this region (enabled: secure-email)"],
      [5, "channel", "channel council-fhir is not enabled in this region (enabled: secure-email)"]
    ])
    expect(result.left.message).not.toContain("@")
    expect(Either.isRight(Directory.fromCsv(text, { channels: ["secure-email", "sftp", "council-fhir"] }))).toBe(true)
  })

  it("a missing column in the header is named, at line 1", () => {
    const error = refused("urn,name,kind,contacts\n100001,Alder,school,dsl@alder.sch.example\n")
    expect(error.issues.map((i) => [i.line, i.column, i.message])).toEqual([
      [1, "signed_up", "missing column in the header"],
      [1, "channel", "missing column in the header"]
    ])
  })

  it("every bad row is listed, in line order, with duplicates among them", () => {
    const error = refused(
      csv(
        "1,Alder,school,Y,dsl@alder.sch.example,secure-email",
        good[1] ?? "",
        "100004,Dogwood,college,maybe,not-an-address,secure-email",
        good[1] ?? ""
      )
    )
    expect(error.issues.map((i) => [i.line, i.column])).toEqual([
      [2, "urn"],
      [4, "signed_up"],
      [4, "contacts"],
      [5, "urn"]
    ])
    expect(error.message).toContain("4 problems")
  })

  it("a quoted field over two lines is reported at the line it starts", () => {
    const error = refused(csv('100003,"Cedar\nSchool",school,Y,dsl@cedar.sch.example,Bad', good[1] ?? "", "x,Elm,school,Y,dsl@elm.sch.example,secure-email"))
    expect(error.issues.map((i) => [i.line, i.column])).toEqual([
      [2, "channel"],
      [5, "urn"]
    ])
  })

  it("malformed CSV is refused with its line", () => {
    const error = refused(csv(good[0] ?? "", '100003,"Cedar" School,school,Y,dsl@cedar.sch.example,secure-email'))
    expect(error.issues[0]?.line).toBe(3)
    expect(error.issues[0]?.message).toMatch(/^malformed CSV \(CSV_[A-Z_]+\)$/)
  })

  it("an empty file is refused", () => {
    expect(refused("").issues[0]?.message).toBe("no header row")
  })

  it("messages never quote an email address", () => {
    const error = refused(csv("100003,Cedar,school,Y,dsl@cedar.sch.example;broken@@cedar.sch.example;x y@cedar.sch.example,secure-email", good[0] ?? "", good[0] ?? ""))
    expect(error.issues.length).toBeGreaterThan(0)
    expect(error.message).not.toMatch(/@|cedar|alder/i)
  })
})

describe("Directory.fromSettings", () => {
  const alder = Option.getOrThrow(Either.getOrThrow(Directory.fromCsv(csv(...good))).lookup(urn("100001")))

  it("builds a directory from settings", () => {
    expect(Either.getOrThrow(Directory.fromSettings([alder])).lookup(urn("100001"))).toEqual(Option.some(alder))
  })

  it("refuses a URN listed twice", () => {
    const result = Directory.fromSettings([alder, alder])
    expect(Either.isLeft(result) && result.left.issues.map((i) => i.message)).toEqual(["URN 100001 is listed twice"])
  })
})

describe("Directory.layerCsv", () => {
  it.effect("provides the Directory service from the demo file", () =>
    Effect.gen(function* () {
      const directory = yield* Directory.Directory
      const signedUp = ["100001", "100002", "100003", "100004", "100005", "100006"]
      for (const value of signedUp) expect(Option.map(directory.lookup(urn(value)), (s) => s.signedUp)).toEqual(Option.some(true))
      expect(Option.map(directory.lookup(urn("100007")), (s) => s.signedUp)).toEqual(Option.some(false))
      expect(directory.lookup(urn("999999"))).toEqual(Option.none())
      expect(Option.map(directory.lookup(urn("100006")), (s) => s.kind)).toEqual(Option.some("pupil-referral-unit"))
      expect(new Set(directory.all.map((s) => s.kind))).toEqual(
        new Set(["school", "independent-school", "college", "pupil-referral-unit"])
      )
      for (const setting of directory.all) {
        expect(setting.channel).toBe("secure-email")
        for (const contact of setting.contacts) expect(contact).toMatch(/\.example$/)
      }
    }).pipe(Effect.provide(Directory.layerCsv(demoPath.pathname)))
  )

  it.effect("fails to build when the file cannot be read, naming the path and not its content", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.provide(Directory.Directory, Directory.layerCsv("/nonexistent/directory.csv")))
      expect([error.reason, error.source, error.issues[0]?.message]).toEqual([
        "Unreadable",
        "/nonexistent/directory.csv",
        "cannot read the file (ENOENT)"
      ])
    })
  )
})

describe("README", () => {
  it("documents every CSV column", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    for (const column of Directory.csvColumns) expect(readme).toContain(`| \`${column}\``)
  })
})

describe("Directory.fromCsv with pinned OpenPGP keys", () => {
  const keyed = "urn,name,kind,signed_up,contacts,channel,openpgp_fingerprint"
  const fingerprint = "0D3F 6C3E 1A5B 9F2C 7E4D  8A6B 1C0F 9E8D 7A6B 5C4D"

  it("a file without the openpgp_fingerprint column still loads, every setting on a password", () => {
    const directory = Either.getOrThrow(Directory.fromCsv(csv(...good)))
    expect(directory.all.map((s) => s.openPgpKey)).toEqual([undefined, undefined])
  })

  it("pins the fingerprint as GnuPG prints it (grouped, any case), and an empty cell means a password", () => {
    const text = [keyed, `${good[0]},${fingerprint.toLowerCase()}`, `${good[1]},`].join("\n")
    const directory = Either.getOrThrow(Directory.fromCsv(text))
    expect(directory.all.map((s) => s.openPgpKey)).toEqual(["0D3F6C3E1A5B9F2C7E4D8A6B1C0F9E8D7A6B5C4D", undefined])
  })

  it("a fingerprint that is not 40 hex digits refuses the file, naming line and column", () => {
    const error = refused([keyed, `${good[0]},0D3F6C3E1A5B9F2C`, `${good[1]},`].join("\n"))
    expect(error.issues).toEqual([expect.objectContaining({ line: 2, column: "openpgp_fingerprint", message: expect.stringMatching(/40 hex digits/) })])
  })
})
