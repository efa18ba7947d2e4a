import { Ids } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { Manifest } from "../src/index.js"

const manifest = {
  id: Ids.SourceId.make("niche-rms"),
  system: "Test RMS",
  formats: ["text/csv"] as const,
  version: "1.0.0",
  sdk: "^0.1.0",
  status: "stable" as const,
  description: "a test source",
  docs: "plugins/test/README.md",
  config: Schema.Struct({})
}

describe("Manifest", () => {
  it.each([
    ["^0.1.0", "0.1.0", true],
    ["^0.1.0", "0.1.9", true],
    ["^0.1.0", "0.2.0", false],
    ["^1.2.0", "1.9.0", true],
    ["^1.2.0", "2.0.0", false],
    ["~1.2.0", "1.3.0", false],
    [">=0.1.0 <0.3.0", "0.2.5", true],
    [">=0.1.0 <0.3.0", "0.3.0", false],
    ["0.1.0", "0.1.1", false]
  ] as const)("range %s supports %s: %s", (range, version, expected) => {
    expect(Manifest.supports(range, version)).toBe(expected)
  })

  it("refuses a version or SDK range that is not semver", () => {
    expect(() => new Manifest.SourceManifest({ ...manifest, sdk: "latest" })).toThrow(/semver range/)
    expect(Schema.is(Manifest.Version)("1.0")).toBe(false)
  })

  it("refuses a config that is not a Schema", () => {
    expect(() => new Manifest.SourceManifest({ ...manifest, config: {} as never })).toThrow()
  })
})
