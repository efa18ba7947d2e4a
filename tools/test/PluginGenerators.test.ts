/**
 * The plugin generators on an in-memory tree: which files they write, what the templates put in
 * them, and which names and options they refuse. test/Generators.test.ts runs them for real.
 */
import type { Tree } from "@nx/devkit"
import { addProjectConfiguration, readJson } from "@nx/devkit"
import { createTreeWithEmptyWorkspace } from "@nx/devkit/testing"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import channelPluginGenerator from "../generators/channel-plugin/generator.js"
import { nextSteps, pluginOptions } from "../generators/internal/PluginOptions.js"
import sourcePluginGenerator from "../generators/source-plugin/generator.js"

const root = path.resolve(import.meta.dirname, "../..")

/** What the generators read from the workspace, copied from this one. */
const workspaceFiles = [
  "package.json",
  "libs/domain/package.json",
  "libs/plugin-sdk/package.json",
  "libs/plugin-testkit/package.json",
  "libs/plugin-sdk/src/Manifest.ts"
]

let tree: Tree
beforeEach(() => {
  tree = createTreeWithEmptyWorkspace()
  for (const file of workspaceFiles) tree.write(file, fs.readFileSync(path.join(root, file)))
})

const written = (directory: string) => {
  const out: Array<string> = []
  const walk = (dir: string) => {
    for (const child of tree.children(dir)) {
      const full = `${dir}/${child}`
      if (tree.isFile(full)) out.push(full.slice(directory.length + 1))
      else walk(full)
    }
  }
  walk(directory)
  return out.sort()
}

const read = (file: string) => tree.read(file, "utf-8") ?? ""

describe("source-plugin generator", () => {
  it("writes the CONVENTIONS.md layout under plugins/source-NAME", async () => {
    await sourcePluginGenerator(tree, { name: "mosaic-rms" })
    expect(written("plugins/source-mosaic-rms")).toEqual([
      "README.md",
      "package.json",
      "project.json",
      "src/MosaicRmsSource.ts",
      "src/MosaicRmsSourceConfig.ts",
      "src/index.ts",
      "src/internal/ExportLine.ts",
      "src/internal/LineReader.ts",
      "test/MosaicRmsSource.conformance.test.ts",
      "test/MosaicRmsSource.test.ts",
      "test/Samples.ts",
      "test/fixtures/good.jsonl",
      "test/fixtures/malformed.jsonl",
      "tsconfig.json"
    ])
  })

  it("makes a workspace package with the plugin tags, pinning the workspace's own versions as peers", async () => {
    await sourcePluginGenerator(tree, { name: "mosaic-rms" })
    const project = readJson(tree, "plugins/source-mosaic-rms/project.json")
    expect([project.name, project.tags]).toEqual(["source-mosaic-rms", ["type:plugin", "kind:source"]])
    const pkg = readJson(tree, "plugins/source-mosaic-rms/package.json")
    const rootPkg = readJson(tree, "package.json")
    expect(pkg.name).toBe("@encompass/source-mosaic-rms")
    expect(pkg.peerDependencies).toEqual({
      effect: rootPkg.devDependencies.effect,
      "@encompass/domain": readJson(tree, "libs/domain/package.json").version,
      "@encompass/plugin-sdk": readJson(tree, "libs/plugin-sdk/package.json").version
    })
    expect(Object.keys(pkg.devDependencies)).toEqual(["@encompass/plugin-testkit"])
    expect(pkg.scripts.test).toBe("vitest run --config ../../vitest.shared.ts")
  })

  it("fills every template: the id, the names and the options, escaped for code", async () => {
    await sourcePluginGenerator(tree, { name: "mosaic-rms", system: `Mosaic "RMS" 7`, description: "Mosaic's nightly export" })
    const module = read("plugins/source-mosaic-rms/src/MosaicRmsSource.ts")
    expect(module).toContain(`Ids.SourceId.make("mosaic-rms")`)
    expect(module).toContain(`system: "Mosaic \\"RMS\\" 7",`)
    expect(module).toContain(`description: "Mosaic's nightly export",`)
    expect(module).toMatch(/sdk: "\^\d+\.\d+\.\d+"/)
    expect(module).toContain("export const registration: PluginRegistry.SourceRegistration<MosaicRmsSourceConfig> = {\n  manifest,\n")
    expect(read("plugins/source-mosaic-rms/src/index.ts")).toBe(
      `export * as MosaicRmsSource from "./MosaicRmsSource.js"\nexport * as MosaicRmsSourceConfig from "./MosaicRmsSourceConfig.js"\n`
    )
    for (const file of written("plugins/source-mosaic-rms")) {
      const text = read(`plugins/source-mosaic-rms/${file}`)
      expect(text, file).not.toMatch(/<%|%>|__\w+__/)
    }
  })
})

describe("channel-plugin generator", () => {
  it("writes the CONVENTIONS.md layout under plugins/channel-NAME, tagged kind:channel", async () => {
    await channelPluginGenerator(tree, { name: "council-drop" })
    expect(written("plugins/channel-council-drop")).toEqual([
      "README.md",
      "package.json",
      "project.json",
      "src/CouncilDropChannel.ts",
      "src/CouncilDropChannelConfig.ts",
      "src/index.ts",
      "src/internal/DropFolder.ts",
      "test/CouncilDropChannel.conformance.test.ts",
      "test/CouncilDropChannel.test.ts",
      "test/Fixtures.ts",
      "tsconfig.json"
    ])
    expect(readJson(tree, "plugins/channel-council-drop/project.json").tags).toEqual(["type:plugin", "kind:channel"])
    const module = read("plugins/channel-council-drop/src/CouncilDropChannel.ts")
    expect(module).toContain(`Ids.ChannelId.make("council-drop")`)
    // What a region's plugins: list loads; relative paths in the settings resolve against the region file.
    expect(module).toContain("export const registration: PluginRegistry.ChannelRegistration<CouncilDropChannelConfig> = {\n  manifest,\n")
    expect(module).toContain("directory: context.resolve(config.directory)")
    const readme = read("plugins/channel-council-drop/README.md")
    expect(readme).toContain("plugins:\n  - ../plugins/channel-council-drop/src/index.ts\n")
    expect(readme).toContain("channels:\n  - id: council-drop\n    settings:\n")
    for (const file of written("plugins/channel-council-drop")) {
      expect(read(`plugins/channel-council-drop/${file}`), file).not.toMatch(/<%|%>|__\w+__/)
    }
  })
})

describe("plugin generator options", () => {
  it.each([
    ["", /a plugin name is required/],
    ["MosaicRms", /is not kebab-case/],
    ["mosaic_rms", /is not kebab-case/],
    ["mosaic--rms", /is not kebab-case/],
    ["mosaic-rms-", /is not kebab-case/],
    ["7mosaic", /is not kebab-case/],
    ["m", /2 to 40 characters/],
    ["a".repeat(41), /2 to 40 characters/],
    ["source-mosaic", /leave out the "source-" prefix/],
    ["channel-drop", /leave out the "channel-" prefix/]
  ])("refuses the name %j", async (name, message) => {
    await expect(sourcePluginGenerator(tree, { name })).rejects.toThrow(message)
    expect(tree.listChanges().filter((change) => change.path.startsWith("plugins/"))).toEqual([])
  })

  it.each(["ab", "mosaic-rms", "niche2-rms-v3"])("accepts the name %j", (name) => {
    expect(pluginOptions(tree, "source", { name }).projectName).toBe(`source-${name}`)
  })

  it("keeps a description from ending the doc comment it is quoted in, and drops its full stop", async () => {
    await channelPluginGenerator(tree, { name: "drop", description: "Writes files to /srv/*/ shares." })
    const module = read("plugins/channel-drop/src/DropChannel.ts")
    expect(module).toContain(" * Channel plugin `drop`: Writes files to /srv/*\\/ shares.\n")
    expect(module).toContain(`description: "Writes files to /srv/*/ shares",`)
  })

  it("refuses a description or system of more than one line", async () => {
    await expect(sourcePluginGenerator(tree, { name: "mosaic-rms", system: "Mosaic\nRMS" })).rejects.toThrow(/--system must be one line/)
    await expect(channelPluginGenerator(tree, { name: "drop", description: "  " })).rejects.toThrow(/--description must be one line/)
  })

  it("never overwrites an existing plugin folder", async () => {
    tree.write("plugins/source-mosaic-rms/src/Mine.ts", "export const mine = 1\n")
    await expect(sourcePluginGenerator(tree, { name: "mosaic-rms" })).rejects.toThrow(/already exists: the generator never overwrites/)
    expect(written("plugins/source-mosaic-rms")).toEqual(["src/Mine.ts"])
  })

  it("refuses a name whose project name another project already has", async () => {
    addProjectConfiguration(tree, "channel-drop", { root: "apps/channel-drop" })
    await expect(channelPluginGenerator(tree, { name: "drop" })).rejects.toThrow(/a project named channel-drop already exists/)
  })

  it("tells the user to register the package with npm install and complete the lock, and how a region enables it", () => {
    const steps = nextSteps(pluginOptions(tree, "channel", { name: "council-drop" })).join("\n")
    expect(steps).toContain("npm install && node tools/lock/complete-lock.mjs")
    expect(steps).toContain("-p channel-council-drop")
    expect(steps).toContain("Enable it in a region file: plugins/channel-council-drop/src/index.ts under plugins:, and id council-drop under channels:")
  })
})
