/**
 * `encompass policy check` and `policy explain`, as an information governance officer uses them:
 * every decision is shown with its rule, clause and rationale, and an agreement that would
 * loosen the statutory baseline is refused with the rule named.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cliRoot, encompass } from "./Run.js"

const agreements = path.resolve(cliRoot, "../../libs/isa-policy/agreements")
const feed = path.join(cliRoot, "demo/niche-feed.csv")
const directory = path.join(cliRoot, "demo/directory.csv")

describe.concurrent("encompass policy check", () => {
  it.each(["tvp-schools.yaml", "bedford-borough.yaml"])("accepts the shipped %s, listing where it covers less than the duty", async (file) => {
    const result = await encompass(["policy", "check", path.join(agreements, file)])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/valid/)
    expect(result.stdout).toMatch(/warning\s+line \d+, column \d+/)
  })

  it("warns, with key, line and rule, where an agreement counts its deadline on weekdays rather than school days", async () => {
    const weekdays = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "encompass-policy-")), "weekdays.yaml")
    const shipped = fs.readFileSync(path.join(agreements, "tvp-schools.yaml"), "utf8")
    fs.writeFileSync(weekdays, shipped.replace("  schoolDays: school-calendar\n  calendarRegion: thames-valley\n", "  schoolDays: weekdays\n"))
    const result = await encompass(["policy", "check", weekdays])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/warning\s+line \d+, column \d+\s+deadline\.schoolDays \[counts-weekdays-only\]: deadlines count weekdays, not school days/)
    const shippedResult = await encompass(["policy", "check", path.join(agreements, "tvp-schools.yaml")])
    expect(shippedResult.stdout).not.toMatch(/counts-weekdays-only/)
  })

  it("refuses an agreement that would loosen the statutory baseline, naming the rule, key and line", async () => {
    const loose = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "encompass-policy-")), "loose.yaml")
    fs.writeFileSync(loose, fs.readFileSync(path.join(agreements, "tvp-schools.yaml"), "utf8").replace("max: 17", "max: 19"))
    const result = await encompass(["policy", "check", loose])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/line \d+, column \d+\s+children\.ageBand\.max \[no-wider-ages\]/)
  })

  it("names the key and line of a malformed agreement", async () => {
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "encompass-policy-")), "broken.yaml")
    fs.writeFileSync(broken, fs.readFileSync(path.join(agreements, "tvp-schools.yaml"), "utf8").replace("permitted: [", "permitted: [riskGrading, "))
    const result = await encompass(["policy", "check", broken])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/line \d+, column \d+\s+fields\.permitted/)
  })
})

describe.concurrent("encompass policy explain", () => {
  it("shows every child and recipient of an occurrence with decision, rule, clause and rationale", async () => {
    const result = await encompass(["policy", "explain", "--directory", directory, "--line", "2", feed])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^Occurrence \S+ v1 \(domestic, line 2/m)
    expect(result.stdout).toMatch(/-> setting:\d{6}: SHARE/)
    expect(result.stdout).toMatch(/rule share-permitted-fields \(TVP ISA 3\)/)
    expect(result.stdout).toMatch(/fields: childName, age, homeAddress, incidentAddress, incidentDateTime, occurrenceNumber; channel: secure-email; deadline: \d{4}-\d\d-\d\dT08:30/)
  })

  it("explains a withheld decision as fully as a shared one (TVP ISA 4.3)", async () => {
    const result = await encompass(["policy", "explain", "--directory", directory, feed])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/WITHHOLD\n\s+rule child-present-or-witness \(TVP ISA 3\)/)
    expect(result.stdout).toMatch(/WITHHOLD\n\s+rule category-in-scope \(TVP ISA 3\)[^\n]*\n\s+The incident is a missing-episode/)
  })

  it("says when the record was rejected before any decision", async () => {
    const result = await encompass(["policy", "explain", "--directory", directory, "--line", "12", feed])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/line 12: rejected before any decision — field child_dob/)
  })

  it("under the Bedford agreement, past its review date, nothing is shared without a person (Bedford ISA summary sheet)", async () => {
    const result = await encompass(["policy", "explain", "--directory", directory, "--agreement", path.join(agreements, "bedford-borough.yaml"), "--line", "2", feed])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/NEEDS-REVIEW/)
    expect(result.stdout).not.toMatch(/: SHARE/)
  })

  it("fails clearly when no record matches", async () => {
    const result = await encompass(["policy", "explain", "--directory", directory, "--occurrence", "no-such", feed])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain("no record in the feed matches")
  })

  describe("--config: the region's own decision layer, authorities directory included (Bedford ISA 7, 10)", () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-policy-region-"))
    const bedford = fs.readFileSync(path.join(agreements, "bedford-borough.yaml"), "utf8")
    // The shipped file records no review since 2023; a region that has reviewed it records the extension.
    fs.writeFileSync(path.join(work, "agreement.yaml"), bedford.replace(/^( {2}review: .*)$/m, "$1\n  extendedUntil: 2027-12-31"))
    fs.writeFileSync(path.join(work, "relay.json"), JSON.stringify({
      host: "127.0.0.1", port: 2599, from: "Op Encompass <e@police.example>", messageIdDomain: "police.example", senderName: "Bedfordshire Police", contact: "e@police.example"
    }))
    fs.writeFileSync(path.join(work, "passwords.json"), JSON.stringify({ "ehe-team:E06000055": "ehe-team-pass-1234", "front-door:E06000055": "front-door-pass-1234" }))
    const region = (name: string, authorities: ReadonlyArray<string>, extra: ReadonlyArray<string> = []) => {
      fs.writeFileSync(path.join(work, `${name}.csv`), ["local_authority,team,name,signed_up,contacts,channel", ...authorities, ""].join("\n"))
      const file = path.join(work, `${name}.yaml`)
      fs.writeFileSync(file, [
        "version: 1", "region: bedford", "agreement: ./agreement.yaml", `directory: ${directory}`, `authorities: ./${name}.csv`, ...extra,
        "sources:", "  - id: niche-rms", "channels:", "  - id: secure-email", "    settings: ./relay.json", "    passwords: ./passwords.json", ""
      ].join("\n"))
      return file
    }
    const ehe = "E06000055,ehe-team,Bedford Borough Council EHE team,Y,ehe@bedford.gov.example,secure-email"
    const frontDoor = "E06000055,council-front-door,Bedford Integrated Front Door,Y,ifd@bedford.gov.example,secure-email"
    // Line 9 of the demo feed: a child educated at home (school_urn EHE), with a sibling at a school.
    const explain = (file: string) => encompass(["policy", "explain", "--config", file, "--line", "9", feed])

    it("routes an EHE child to the council's EHE team and copies the front door", async () => {
      const result = await explain(region("both", [ehe, frontDoor]))
      expect(result.stderr).toBe("")
      expect(result.stdout).toMatch(/P-10061 -> ehe-team:E06000055: SHARE\n\s+rule share-permitted-fields \(Bedford ISA 7, 9\)/)
      expect(result.stdout).toMatch(/P-10061 -> front-door:E06000055: SHARE/)
      expect(result.stdout).toMatch(/P-10062 -> setting:100004: SHARE/)
    })

    it("a council with no EHE team row needs a person, with the reason; the child is never dropped", async () => {
      const result = await explain(region("no-ehe", [frontDoor]))
      expect(result.stdout).toMatch(/P-10061 -> ehe-team:E06000055: NEEDS-REVIEW\n\s+rule recipient-unknown \(Bedford ISA 7\)[^\n]*\n\s+The elective home education team for the child's council is not in the directory of authorities/)
    })

    it("a team kind the region does not serve is withheld and recorded, not left for review", async () => {
      const result = await explain(region("no-front-door", [ehe], ["notServed: [council-front-door]"]))
      expect(result.stdout).toMatch(/P-10061 -> front-door:E06000055: WITHHOLD\n\s+rule recipient-not-served \(Bedford ISA 10\)/)
      expect(result.stdout).toMatch(/P-10061 -> ehe-team:E06000055: SHARE/)
    })

    it("refuses an authorities row on a channel the region does not enable, naming line and column", async () => {
      const result = await explain(region("bad-channel", [ehe.replace(/secure-email$/, "sftp")]))
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain("line 2, column channel: channel sftp is not enabled in this region")
    })
  })
})
