/**
 * The bundle the tests spawn (scripts/Bundle.ts) behaves as `src/bin.ts` under tsx: workspace
 * code that finds files relative to its own source (the store's migrations, the shipped
 * agreements and calendar, the demo data) finds them where that source is, not next to the
 * bundle, and from any working directory. The demo data is proved by Demo.test.ts.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { bundle, cliRoot, encompass } from "./Run.js"

const agreements = path.resolve(cliRoot, "../../libs/isa-policy/agreements")

describe("the encompass bundle", () => {
  it("holds the workspace's code and keeps no import.meta, so nothing is looked up next to the bundle", () => {
    const text = fs.readFileSync(bundle, "utf8")
    expect(text).not.toMatch(/\bimport\.meta\b/)
    expect(text).not.toMatch(/(from|import\()\s*["']@encompass\//)
    expect(text).not.toMatch(/["']tsx(\/[^"']*)?["']/)
  })

  it("finds the shipped statutory baseline and the store's migrations from another working directory", async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-bundle-"))
    try {
      // The default --baseline is AgreementFiles' lookup of the file shipped with isa-policy.
      const checked = await encompass(["policy", "check", path.join(agreements, "tvp-schools.yaml")], {}, elsewhere)
      expect(checked.stderr).toBe("")
      expect(checked.stdout).toMatch(/tvp-schools\.yaml: valid/)
      expect(checked.code).toBe(0)
      // A new embedded store is migrated from libs/store/migrations before the outbox is read.
      const demo = path.join(cliRoot, "demo")
      fs.writeFileSync(path.join(elsewhere, "region.yaml"), [
        "version: 1",
        "region: thames-valley",
        `agreement: ${path.join(agreements, "tvp-schools.yaml")}`,
        `directory: ${path.join(demo, "directory.csv")}`,
        "sources: [{ id: niche-rms }]",
        `channels: [{ id: secure-email, settings: ${path.resolve(cliRoot, "../gateway/examples/relay.json")}, passwords: ${path.join(demo, "passwords.json")} }]`,
        ""
      ].join("\n"))
      const listed = await encompass(["outbox", "list", "--config", "region.yaml"], { DATABASE_URL: "" }, elsewhere)
      expect(listed.stderr).toBe("")
      expect(listed.stdout).toContain("No notifications.")
      const verified = await encompass(["audit", "verify", "--config", "region.yaml"], { DATABASE_URL: "" }, elsewhere)
      expect(verified.stderr).toBe("")
      expect(verified.code).toBe(0)
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true })
    }
  })
})
