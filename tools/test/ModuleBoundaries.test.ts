/**
 * Canaries for the lint rules that hold DESIGN.md §2's dependency direction. If a rule stops
 * firing (a config edit, an Nx upgrade: nrwl/nx#20922), these fail and CI goes red.
 */
import { ESLint } from "eslint"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")
const eslint = new ESLint({ cwd: root })

const violations = async (file: string, code: string): Promise<ReadonlyArray<string>> => {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) })
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`)
}

const cases: ReadonlyArray<[string, string, string, RegExp]> = [
  ["domain depends on nothing", "libs/domain/src/Canary.ts", `import { Sql } from "@encompass/store"\nexport const x = Sql`, /enforce-module-boundaries/],
  ["domain does no I/O", "libs/domain/src/Canary.ts", `import * as fs from "node:fs"\nexport const x = fs`, /no-restricted-imports/],
  ["isa-policy does no I/O", "libs/isa-policy/src/Canary.ts", `import postgres from "postgres"\nexport const x = postgres`, /enforce-module-boundaries/],
  ["isa-policy does not touch the store", "libs/isa-policy/src/Canary.ts", `import { Sql } from "@encompass/store"\nexport const x = Sql`, /enforce-module-boundaries/],
  ["a plugin never depends on another plugin", "plugins/channel-secure-email/src/Canary.ts", `import { NicheRmsSource } from "@encompass/source-niche-rms"\nexport const x = NicheRmsSource`, /enforce-module-boundaries/],
  ["a plugin never depends on the store", "plugins/source-niche-rms/src/Canary.ts", `import { Sql } from "@encompass/store"\nexport const x = Sql`, /enforce-module-boundaries/],
  ["the plugin-testkit never depends on a plugin", "libs/plugin-testkit/src/Canary.ts", `import { NicheRmsSource } from "@encompass/source-niche-rms"\nexport const x = NicheRmsSource`, /enforce-module-boundaries/],
  ["the plugin-testkit never depends on the store", "libs/plugin-testkit/src/Canary.ts", `import { Sql } from "@encompass/store"\nexport const x = Sql`, /enforce-module-boundaries/],
  ["an app's production code never depends on the plugin-testkit", "apps/gateway/src/Canary.ts", `import { OpenSshd } from "@encompass/plugin-testkit"\nexport const x = OpenSshd`, /enforce-module-boundaries/],
  ["an app's tests keep the other rules: the gateway's never import apps/cli", "apps/gateway/test/Canary.test.ts", `import * as Cli from "../../cli/src/Cli.js"\nexport const x = Cli`, /enforce-module-boundaries/],
  ["a library never depends on an app", "libs/pipeline/src/Canary.ts", `import * as Cli from "../../../apps/cli/src/Cli.js"\nexport const x = Cli`, /enforce-module-boundaries/],
  ["only apps import @effect/platform-node", "libs/pipeline/src/Canary.ts", `import { NodeContext } from "@effect/platform-node"\nexport const x = NodeContext`, /enforce-module-boundaries/],
  ["only isa-policy mints an AuthorizedNotification", "plugins/channel-secure-email/src/Canary.ts", `import { mint } from "@encompass/domain/Authority"\nexport const x = mint`, /no-restricted-imports/],
  ["the pipeline cannot mint an AuthorizedNotification", "libs/pipeline/src/Canary.ts", `import { mint } from "@encompass/domain/Authority"\nexport const x = mint`, /no-restricted-imports/]
]

describe("module boundaries (DESIGN.md §2)", () => {
  it.each(cases)("%s", async (_name, file, code, rule) => {
    const found = await violations(file, code)
    expect(found.some((m) => rule.test(m)), found.join("\n") || "no lint errors").toBe(true)
  })

  it("allows the permitted direction: the pipeline uses the store and the policy", async () => {
    const found = await violations(
      "libs/pipeline/src/Canary.ts",
      `import { Sql } from "@encompass/store"\nimport { Policy } from "@encompass/isa-policy"\nexport const x = [Sql, Policy]`
    )
    expect(found).toEqual([])
  })

  it("allows a plugin's conformance test to use the plugin-testkit", async () => {
    const found = await violations(
      "plugins/source-json/test/Canary.conformance.test.ts",
      `import { SourceConformance } from "@encompass/plugin-testkit"\nexport const x = SourceConformance`
    )
    expect(found).toEqual([])
  })

  it("allows an app's tests to use the plugin-testkit's peers", async () => {
    const found = await violations(
      "apps/gateway/test/Canary.integration.test.ts",
      `import { OpenSshd } from "@encompass/plugin-testkit"\nexport const x = OpenSshd`
    )
    expect(found).toEqual([])
  })
})
