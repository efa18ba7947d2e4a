/**
 * `encompass quarantine retry` and `encompass override` as an operator types them, on a real
 * file, the store a user would point them at (DATABASE_URL, or the embedded one) and a real SMTP
 * peer: a child quarantined because their school was missing from the directory reaches the
 * school once it is added, by either replay path, exactly once; a case marked sensitive is
 * withheld (TVP ISA 3) until an override is granted, which notifies the school at once.
 */
import { Effect, Exit, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { simpleParser } from "mailparser"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as MailSink from "../src/MailSink.js"
import { cliRoot, encompass, freshDatabase, writeRegion } from "./Run.js"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-replay-"))
const demo = path.join(cliRoot, "demo")
const scope = Effect.runSync(Scope.make())
const region = path.join(work, "region.yaml")
const directory = path.join(work, "directory.csv")
let sink: MailSink.MailSink
let database: Awaited<ReturnType<typeof freshDatabase>>

const header = fs.readFileSync(path.join(demo, "niche-feed.csv"), "utf8").split("\n")[0] ?? ""
const row = (occurrence: string, person: string, urn: string, sensitive: "Y" | "N") =>
  `${occurrence},2026-11-16T08:10,domestic,"14 Larkspur Close, Reading",RG1 3QT,1,${person},Amelia,Hartwell,2017-04-12,"14 Larkspur Close, Reading",RG1 3QT,present,${urn},standard,${sensitive}`
const missingSchool = row("43/270001/26", "P-70011", "999998", "N")
const missingToo = row("43/270002/26", "P-70021", "999997", "N")
const sensitiveCase = row("43/270003/26", "P-70031", "100001", "Y")
const plainCase = row("43/270004/26", "P-70041", "100002", "N")
// Two children at one school, the second marked sensitive: the school is sent the first at intake.
const sibling = row("43/270005/26", "P-70051", "100002", "N")
const sensitiveSibling = row("43/270005/26", "P-70052", "100002", "Y")

const run = (args: ReadonlyArray<string>) => encompass(args, { DATABASE_URL: database.url ?? "", ENCOMPASS_MASTER_KEY: "" })
const withConfig = (...args: ReadonlyArray<string>) => run([...args, "--config", region])
const entryFor = (listing: string, urn: string) => new RegExp(`^\\s*(\\d+)\\s.*school_urn\\s+no setting with this URN in the directory \\(setting:${urn}\\)`, "m").exec(listing)?.[1]
const addSchool = (urn: string) =>
  fs.appendFileSync(directory, `${urn},Added Later Primary School,school,Y,dsl@added-${urn}.sch.example,secure-email\n`)

beforeAll(async () => {
  database = await freshDatabase()
  sink = await Effect.runPromise(Scope.extend(MailSink.make({
    directory: path.join(work, "mail"),
    key: fs.readFileSync(path.join(demo, "tls/sink-key.pem"), "utf8"),
    cert: fs.readFileSync(path.join(demo, "tls/sink-cert.pem"), "utf8")
  }), scope))
  const passwords = JSON.parse(fs.readFileSync(path.join(demo, "passwords.json"), "utf8")) as Record<string, string>
  fs.writeFileSync(path.join(work, "passwords.json"), JSON.stringify({ ...passwords, "999998": "added-later-1Ab2", "999997": "added-later-3Cd4" }))
  fs.copyFileSync(path.join(demo, "directory.csv"), directory)
  fs.writeFileSync(path.join(work, "feed.csv"), [header, missingSchool, missingToo, sensitiveCase, plainCase, sibling, sensitiveSibling, ""].join("\n"))
  writeRegion({ work, relay: sink, directory, passwords: path.join(work, "passwords.json") })
  const ingested = await run(["ingest", "--config", region, path.join(work, "feed.csv")])
  expect(ingested.stderr).toBe("")
  expect(ingested.stdout).toMatch(/Delivered\s+2\b/)
}, 300_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await database.drop()
  fs.rmSync(work, { recursive: true, force: true })
})

describe("encompass quarantine retry and encompass override", () => {
  // Several runs of the command, each a fresh node process: seconds apiece, more on a busy machine.
  it("replays a child whose school was missing, by `retry ID` and by `retry ID --file` with the same row, each notified once", async () => {
    const listed = await withConfig("quarantine", "list")
    expect(listed.code).toBe(0)
    const byId = entryFor(listed.stdout, "999998")
    const byFile = entryFor(listed.stdout, "999997")
    expect(byId).toBeDefined()
    expect(byFile).toBeDefined()
    expect(listed.stdout).toContain("(no record)")

    addSchool("999998")
    addSchool("999997")
    const before = sink.received()
    const retried = await withConfig("quarantine", "retry", byId ?? "", "--operator", "ops.tester")
    expect(retried.stderr).toBe("")
    expect(retried.code).toBe(0)
    expect(retried.stdout).toMatch(/Notifications created\s+1\b/)
    expect(retried.stdout).toMatch(/Delivered\s+1\b/)
    expect(retried.stdout).toContain(`Entry ${byId} is resolved.`)
    expect(sink.received()).toBe(before + 1)

    const again = await withConfig("quarantine", "retry", byId ?? "")
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("the entry is resolved")

    const file = path.join(work, "row.csv")
    fs.writeFileSync(file, [header, missingToo, ""].join("\n"))
    const replayed = await withConfig("quarantine", "retry", byFile ?? "", "--file", file, "--operator", "ops.tester")
    expect(replayed.stderr).toBe("")
    expect(replayed.code).toBe(0)
    expect(replayed.stdout).not.toContain("different content")
    expect(replayed.stdout).toMatch(/Notifications created\s+1\b/)
    expect(replayed.stdout).toContain(`Entry ${byFile} is resolved.`)
    expect(sink.received()).toBe(before + 2)

    // The same file ingested once more sends nothing new.
    const repeat = await run(["ingest", "--config", region, file])
    expect(repeat.stdout).toMatch(/Notifications created\s+0\b/)
    expect(sink.received()).toBe(before + 2)
  }, 240_000)

  it("withholds a sensitive case until `override grant`, which decides it again at once citing the override and TVP ISA 3; revoke says a delivered one cannot be unsent", async () => {
    const refused = await withConfig("override", "grant", "--occurrence", "43/270004/26", "--child", "P-70041",
      "--by", "Jo Bloggs", "--role", "Detective Inspector", "--reason", "public safety")
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("is not marked sensitive")

    const before = sink.received()
    const granted = await withConfig("override", "grant", "--occurrence", "43/270003/26", "--child", "P-70031",
      "--by", "Jo Bloggs", "--role", "Detective Inspector", "--reason", "overriding public safety requirement")
    expect(granted.stderr).toBe("")
    expect(granted.code).toBe(0)
    const id = /^Recorded override (\d+) for child P-70031 of occurrence 43\/270003\/26 \(every recipient\), by Jo Bloggs \(Detective Inspector\)/m.exec(granted.stdout)?.[1]
    expect(id).toBeDefined()
    expect(granted.stdout).toContain("P-70031 -> setting:100001: SHARE")
    expect(granted.stdout).toContain("rule sensitive-override (TVP ISA 3)")
    expect(granted.stdout).toContain(`released by override ${id} recorded by Detective Inspector`)
    expect(granted.stdout).toMatch(/Notifications created\s+1\b/)
    expect(granted.stdout).toContain("Delivered 1,")
    expect(granted.stdout).not.toMatch(/Amelia|Hartwell|Larkspur/)
    expect(sink.received()).toBe(before + 1)

    const listed = await withConfig("override", "list")
    expect(listed.stdout).toMatch(new RegExp(`^\\s+${id}\\s+\\S+ \\S+\\s+live\\s+43/270003/26 / P-70031 / all\\s+Jo Bloggs \\(Detective Inspector\\): overriding public safety requirement`, "m"))

    const revoked = await withConfig("override", "revoke", id ?? "", "--by", "Ann Other", "--reason", "proceedings would be prejudiced")
    expect(revoked.stderr).toBe("")
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain("rule sensitive-case (TVP ISA 3)")
    expect(revoked.stdout).toMatch(/EG-[0-9A-F-]+ was delivered or attempted, so it may have reached its recipient and cannot be unsent \(any further attempt is stopped\); `outbox withdraw EG-/)
    expect((await withConfig("override", "list")).stdout).toContain("No live overrides.")
    expect((await withConfig("override", "list", "--all")).stdout).toMatch(/revoked .* by Ann Other: proceedings would be prejudiced/)
  }, 240_000)

  it("`override grant` for a sensitive child whose school already has its sibling's notification sends that school the child once, as an addition naming it", async () => {
    const before = sink.received()
    const args = ["override", "grant", "--occurrence", "43/270005/26", "--child", "P-70052", "--by", "Jo Bloggs", "--role", "Detective Inspector", "--reason", "overriding public safety requirement"]
    const granted = await withConfig(...args)
    expect(granted.stderr).toBe("")
    expect(granted.code).toBe(0)
    const added = /^\s+(EG-[0-9A-F-]+) to setting:100002: adds the child to (EG-[0-9A-F-]+), which it already has for this version$/m.exec(granted.stdout)
    expect(added).not.toBeNull()
    expect(granted.stdout).toMatch(/Notifications created\s+1\b/)
    expect(granted.stdout).toContain("Delivered 1,")
    expect(sink.received()).toBe(before + 1)
    const [newest = ""] = fs.readdirSync(sink.directory).filter((f) => f.endsWith(".eml")).sort().reverse()
    const raw = fs.readFileSync(path.join(sink.directory, newest))
    const mail = await simpleParser(raw)
    expect(mail.subject).toBe(`Operation Encompass notification (addition to ${added?.[2]}) — reference ${added?.[1]}`)
    expect(mail.text).toContain(`Keep it with notification ${added?.[2]}; together they are the notification.`)
    expect(raw.toString("utf8")).not.toMatch(/Amelia|Hartwell|Larkspur|P-7005/)

    // Granted again: refused; the case is already released. Nothing more reaches the school.
    const again = await withConfig(...args)
    expect(again.code).toBe(1)
    expect((await withConfig("outbox", "list")).stdout.match(/setting:100002/g)?.length).toBe(3)
    expect(sink.received()).toBe(before + 1)
  }, 240_000)
})
