/**
 * `encompass audit verify` checks the database the operator means, and refuses one that is not
 * there rather than creating an empty database and reporting its 0 events as verified.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type DownRelayRegion, downRelayRegion, encompass } from "./Run.js"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-audit-"))
const embedded = { DATABASE_URL: "" }
let region: DownRelayRegion

beforeAll(async () => {
  region = await downRelayRegion("audit")
  expect(region.ingested.code).toBe(0)
}, 300_000)

afterAll(async () => {
  await region.cleanUp()
  fs.rmSync(work, { recursive: true, force: true })
})

describe("encompass audit verify", () => {
  it("refuses a mistyped --data-dir, and creates nothing there", async () => {
    const missing = path.join(work, "pgdta")
    const result = await encompass(["audit", "verify", "--data-dir", missing], embedded)
    expect(result.code).toBe(1)
    expect(result.stdout).toBe("")
    expect(result.stderr).toContain(`encompass: no embedded database in ${missing}`)
    expect(fs.existsSync(missing)).toBe(false)
  })

  it("refuses to run with no database option where there is no database", async () => {
    const result = await encompass(["audit", "verify"], embedded, work)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`no embedded database in ${path.join(work, ".encompass/pgdata")}`)
    expect(fs.existsSync(path.join(work, ".encompass"))).toBe(false)
  })

  it("refuses a region file whose dataDir holds no database", async () => {
    const file = path.join(work, "region.yaml")
    fs.writeFileSync(file, fs.readFileSync(region.region, "utf8").replace("dataDir: ./pgdata", `dataDir: ${path.join(work, "nothing")}`))
    const result = await encompass(["audit", "verify", "--config", file], embedded)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`no embedded database in ${path.join(work, "nothing")}`)
  })

  it("takes --config and verifies the region's database", async () => {
    const result = await region.run(["audit", "verify", "--config", region.region])
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Audit chain\s+ok\s+verified [1-9]\d* events/)
  })

  it("exports the signed anchors with the public key, and verifies the chain against the file in full", async () => {
    // The ingest that made the region signed its head when it ended.
    const file = path.join(work, "anchors.jsonl")
    const exported = await region.run(["audit", "anchors", "--config", region.region, "--out", file])
    expect(exported.stderr).toBe("")
    expect(exported.code).toBe(0)
    const key = /public key ed25519 ([A-Za-z0-9+/]{43}=)/.exec(exported.stdout)?.[1]
    expect(key).toBeDefined()
    const anchors = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { seq: number; publicKey: string })
    expect(anchors.length).toBeGreaterThan(0)
    for (const anchor of anchors) expect(anchor.publicKey).toBe(key)
    const printed = await region.run(["audit", "anchors", "--config", region.region])
    expect(printed.stdout).toBe(fs.readFileSync(file, "utf8"))
    expect(printed.stderr).toContain(`public key ed25519 ${key}`)
    const verified = await region.run(["audit", "verify", "--config", region.region, "--anchors", file, "--full"])
    expect(verified.stderr).toBe("")
    expect(verified.stdout).toMatch(new RegExp(`signed anchors up to seq ${anchors.at(-1)?.seq}`))
  })

  it("refuses an anchors file that is not anchors, naming its line", async () => {
    const file = path.join(work, "not-anchors.jsonl")
    fs.writeFileSync(file, "\n{\"seq\": 1}\n")
    const result = await region.run(["audit", "verify", "--config", region.region, "--anchors", file])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`${file}: anchors line 2:`)
  })

  it("keeps the region's anchorsFile up to date and verifies against it, refusing it missing or damaged", async () => {
    const original = fs.readFileSync(region.region, "utf8")
    const kept = path.join(work, "kept-anchors.jsonl")
    fs.writeFileSync(region.region, `${original}anchorsFile: ${kept}\n`)
    try {
      const missing = await region.run(["audit", "verify", "--config", region.region])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain(`the audit anchors file ${kept}: cannot be opened (ENOENT) (the region's anchorsFile)`)

      // Any command that opens the region's storage brings the file up to date when it ends.
      const printed = await region.run(["audit", "anchors", "--config", region.region])
      expect(printed.code).toBe(0)
      expect(fs.readFileSync(kept, "utf8")).toBe(printed.stdout)
      const verified = await region.run(["audit", "verify", "--config", region.region, "--full"])
      expect(verified.stderr).toBe("")
      const newest = (JSON.parse(printed.stdout.trim().split("\n").at(-1) ?? "{}") as { seq?: number }).seq
      expect(verified.stdout).toMatch(new RegExp(`signed anchors up to seq ${newest}`))

      fs.appendFileSync(kept, "damaged\n")
      const damaged = await region.run(["audit", "verify", "--config", region.region])
      expect(damaged.code).toBe(1)
      expect(damaged.stderr).toMatch(/kept-anchors\.jsonl: anchors line \d+: .*\(the region's anchorsFile\)/s)
    } finally {
      fs.writeFileSync(region.region, original)
    }
  })
})
