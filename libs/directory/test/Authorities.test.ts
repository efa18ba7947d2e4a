import { Ids } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Authorities } from "../src/index.js"

const header = "local_authority,team,name,signed_up,contacts,channel,openpgp_fingerprint"
const bedford = Ids.LocalAuthorityCode.make("E06000055")
const good = [
  "E06000055,ehe-team,Bedford Borough Council EHE team,Y,ehe@bedford.gov.example,sftp,",
  "E06000055,council-front-door,Bedford Integrated Front Door,Y,ifd@bedford.gov.example;ifd.out-of-hours@bedford.gov.example,secure-email,AAAA BBBB CCCC DDDD EEEE FFFF 0000 1111 2222 3333"
]
const csv = (...rows: ReadonlyArray<string>): string => [header, ...rows].join("\n") + "\n"

const refused = (text: string, options: { readonly channels?: ReadonlyArray<string> } = {}) => {
  const result = Authorities.fromCsv(text, options)
  if (Either.isRight(result)) throw new Error("expected the authorities directory to be refused")
  return result.left
}

describe("Authorities.fromCsv", () => {
  it("loads each council team by kind and council, with contacts, channel and pinned key (Bedford ISA 7, 10)", () => {
    const authorities = Either.getOrThrow(Authorities.fromCsv(csv(...good)))
    const ehe = Option.getOrThrow(authorities.lookup("ehe-team", bedford))
    expect(ehe.name).toBe("Bedford Borough Council EHE team")
    expect(ehe.channel).toBe("sftp")
    expect(ehe.openPgpKey).toBeUndefined()
    const frontDoor = Option.getOrThrow(authorities.lookup("council-front-door", bedford))
    expect(frontDoor.contacts).toEqual(["ifd@bedford.gov.example", "ifd.out-of-hours@bedford.gov.example"])
    expect(frontDoor.openPgpKey).toBe("AAAABBBBCCCCDDDDEEEEFFFF0000111122223333")
    expect(authorities.lookup("ehe-team", Ids.LocalAuthorityCode.make("E06000056"))).toEqual(Option.none())
  })

  it("loads a file without the optional openpgp_fingerprint column", () => {
    const text = ["local_authority,team,name,signed_up,contacts,channel", "E06000055,ehe-team,Bedford EHE,Y,ehe@bedford.gov.example,sftp", ""].join("\n")
    expect(Either.getOrThrow(Authorities.fromCsv(text)).all).toHaveLength(1)
  })

  it("refuses the whole file naming every bad row by line and column, without quoting a cell", () => {
    const error = refused(csv(
      good[0] ?? "",
      "E0600005,ehe-team,Somewhere,Y,ehe@somewhere.gov.example,sftp,",
      "E06000056,social-care,Somewhere,maybe,not-an-address,Secure Email,12",
      "E06000055,ehe-team,Bedford again,Y,ehe2@bedford.gov.example,sftp,"
    ))
    const at = error.issues.map((i) => `${i.line}:${i.column}`)
    expect(at).toEqual(["3:local_authority", "4:team", "4:signed_up", "4:contacts", "4:channel", "4:openpgp_fingerprint", "5:team"])
    expect(error.message).toContain("authorities directory refused")
    expect(error.message).toContain("listed twice (first on line 2)")
    expect(error.message).not.toContain("not-an-address")
  })

  it("refuses a team whose channel the region does not enable, naming line and column", () => {
    const error = refused(csv(...good), { channels: ["secure-email"] })
    expect(error.issues.map((i) => `${i.line}:${i.column}`)).toEqual(["2:channel"])
    expect(error.message).toContain("channel sftp is not enabled in this region (enabled: secure-email)")
  })

  it("refuses a header missing a column", () => {
    const error = refused("local_authority,team,name,contacts,channel\n")
    expect(error.issues.map((i) => `${i.line}:${i.column}`)).toEqual(["1:signed_up"])
  })

  it.effect("the layer reads the file, and names it when it cannot", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "authorities-"))
      const file = path.join(dir, "authorities.csv")
      fs.writeFileSync(file, csv(...good))
      const loaded = yield* Effect.provide(Authorities.Authorities, Authorities.layerCsv(file))
      expect(loaded.all).toHaveLength(2)
      const missing = yield* Effect.flip(Effect.provide(Authorities.Authorities, Authorities.layerCsv(path.join(dir, "nothing.csv"))))
      expect(missing.reason).toBe("Unreadable")
      expect(missing.message).toContain("nothing.csv")
      fs.rmSync(dir, { recursive: true, force: true })
    }))
})
