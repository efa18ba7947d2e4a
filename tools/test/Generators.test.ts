/**
 * The plugin generators run for real, as an integrator runs them (`nx g` at the repository
 * root), then the generated plugin's own typecheck, lint (module boundaries included) and tests,
 * conformance suite and all. Each run generates under a unique name and always deletes the
 * folder afterwards, pass or fail.
 *
 * While a generated folder exists it is a project of this workspace. So that it never lands in
 * the workspace's project-graph cache (.nx/workspace-data), which other Nx and ESLint runs read,
 * every Nx and ESLint process started here keeps its graph in a temporary
 * NX_WORKSPACE_DATA_DIRECTORY of its own.
 *
 * The generated plugins are then enabled from a region file alone, as issue 11 promises: no
 * `npm install`, no edit to the gateway; `encompass ingest --config` decodes a feed with each
 * source and delivers through the channel.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")
const bin = {
  nx: path.join(root, "node_modules/nx/dist/bin/nx.js"),
  tsc: path.join(root, "node_modules/typescript/bin/tsc"),
  eslint: path.join(root, "node_modules/eslint/bin/eslint.js"),
  vitest: path.join(root, "node_modules/vitest/vitest.mjs"),
  // Through tsx, as an operator runs it from a checkout: the bundle cannot load a plugin's TypeScript.
  encompass: path.join(root, "apps/cli/bin/encompass.mjs")
}

// Folders a run stopped by a signal left behind (an exit hook cannot run then), once surely stale.
for (const entry of fs.readdirSync(path.join(root, "plugins"))) {
  const folder = path.join(root, "plugins", entry)
  if (/^(source|channel)-gentest[0-9a-f]{8}$/.test(entry) && Date.now() - fs.statSync(folder).mtimeMs > 30 * 60_000) {
    fs.rmSync(folder, { recursive: true, force: true })
  }
}

const suffix = randomBytes(4).toString("hex")
const name = `gentest${suffix}`
const plugins = (["source", "channel"] as const).map((kind) => {
  const project = `${kind}-${name}`
  return { kind, name, project, directory: path.join(root, "plugins", project) }
})
const graphCache = fs.mkdtempSync(path.join(os.tmpdir(), `encompass-gentest${suffix}-nx-`))
/** The region that enables the generated channel: its file, agreement, directory, drop folder and store. */
const region = fs.mkdtempSync(path.join(os.tmpdir(), `encompass-gentest${suffix}-region-`))

const cleanUp = () => {
  for (const plugin of plugins) fs.rmSync(plugin.directory, { recursive: true, force: true })
  for (const folder of [graphCache, region]) fs.rmSync(folder, { recursive: true, force: true })
}
// afterAll runs after a failure too; the exit hook covers a worker that ends before it.
afterAll(cleanUp)
process.once("exit", cleanUp)

/** A child's environment: this runner's own settings removed, so a nested vitest starts clean. */
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST") && key !== "TEST")),
  NX_DAEMON: "false",
  NX_NO_CLOUD: "true",
  NX_TUI: "false",
  NX_WORKSPACE_DATA_DIRECTORY: graphCache,
  NO_COLOR: "1",
  FORCE_COLOR: "0"
}

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly output: string
}

const run = (script: string, args: ReadonlyArray<string>, cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let output = ""
    child.stdout.on("data", (data: Buffer) => {
      stdout += data.toString()
      output += data.toString()
    })
    child.stderr.on("data", (data: Buffer) => (output += data.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, output }))
  })

const expectSuccess = (result: Result, step: string) => expect(result.code, `${step}\n${result.output}`).toBe(0)

const generate = (kind: string, name: string): Promise<Result> => run(bin.nx, ["g", `@encompass/tools:${kind}-plugin`, name, "--no-interactive"], root)

/** Steps run in order; each needs the one before. The two plugins are checked side by side. */
describe.sequential("plugin generators, run for real", () => {
  it("generate each plugin from the repository root, refuse to generate over one, and join Nx's project graph", async () => {
    // One after the other: each `nx g` reads the workspace the other writes into.
    for (const plugin of plugins) {
      const generated = await generate(plugin.kind, plugin.name)
      expectSuccess(generated, `nx g ${plugin.kind}-plugin`)
      expect(generated.output).toContain(`CREATE plugins/${plugin.project}/src/index.ts`)
      expect(generated.output).toContain("npm install && node tools/lock/complete-lock.mjs")
    }
    const again = await generate("source", name)
    expect(again.code, again.output).not.toBe(0)
    expect(again.output).toContain("already exists: the generator never overwrites a plugin")
    // Writes the graph (into the temporary cache) that the module-boundary lint rule reads.
    const projects = await run(bin.nx, ["show", "projects"], root)
    expectSuccess(projects, "nx show projects")
    for (const plugin of plugins) expect(projects.stdout.split(/\s+/)).toContain(plugin.project)
  }, 120_000)

  it("are enabled from a region file alone, and `encompass ingest --config` delivers through the channel feeds of both sources", async () => {
    const [source, channel] = plugins
    assert.isDefined(source)
    assert.isDefined(channel)
    for (const plugin of plugins) {
      // Never linked into node_modules (no npm install): the region names the module by path.
      expect(fs.existsSync(path.join(root, "node_modules/@encompass", plugin.project))).toBe(false)
    }
    const drop = path.join(region, "drop")
    fs.mkdirSync(drop)
    // The demo's agreement and schools, with the generated channel in place of secure email.
    const agreement = fs.readFileSync(path.join(root, "libs/isa-policy/agreements/tvp-schools.yaml"), "utf8")
    fs.writeFileSync(path.join(region, "agreement.yaml"), agreement.replace("- channel: secure-email", `- channel: ${channel.name}`))
    const directory = fs.readFileSync(path.join(root, "apps/cli/demo/directory.csv"), "utf8")
    fs.writeFileSync(path.join(region, "directory.csv"), directory.replace(/,secure-email$/gm, `,${channel.name}`))
    const file = path.join(region, "region.yaml")
    fs.writeFileSync(file, [
      "version: 1",
      "region: gentest",
      "dataDir: ./pgdata",
      "masterKeyFile: ./master.key",
      "agreement: ./agreement.yaml",
      "directory: ./directory.csv",
      "plugins:",
      ...plugins.map((plugin) => `  - ${path.relative(region, path.join(plugin.directory, "src/index.ts"))}`),
      "sources:",
      "  - id: niche-rms",
      `  - id: ${source.name}`,
      "channels:",
      `  - id: ${channel.name}`,
      "    settings:",
      "      directory: ./drop",
      ""
    ].join("\n"))
    const feeds = [
      { source: "niche-rms", file: path.join(root, "apps/cli/demo/niche-feed.csv") },
      // The generated source's own sample export.
      { source: source.name, file: path.join(source.directory, "test/fixtures/good.jsonl") }
    ]
    let total = 0
    for (const feed of feeds) {
      // On the embedded store in the region's folder; the master key is created on first use.
      const ingest = await run(bin.encompass, ["ingest", "--config", file, "--source", feed.source, feed.file], region, {
        DATABASE_URL: "",
        ENCOMPASS_MASTER_KEY: ""
      })
      expectSuccess(ingest, `encompass ingest --config --source ${feed.source}`)
      const delivered = Number(/Delivered\s+(\d+)/.exec(ingest.stdout)?.[1])
      expect(delivered, ingest.output).toBeGreaterThan(0)
      total += delivered
      // What the channel delivered is in its drop folder: one finished file per notification.
      const files = fs.readdirSync(drop)
      expect(files, ingest.output).toHaveLength(total)
      for (const name of files) {
        expect(name).toMatch(/^encompass-[0-9a-f]{32}\.json$/)
        expect(JSON.parse(fs.readFileSync(path.join(drop, name), "utf8"))).toMatchObject({ type: expect.stringMatching(/^operation-encompass\//) })
      }
    }
  }, 120_000)

  it("typecheck with their own tsconfig.json", async () => {
    const results = await Promise.all(plugins.map((plugin) => run(bin.tsc, ["-p", "tsconfig.json"], plugin.directory)))
    results.forEach((result, i) => expectSuccess(result, `tsc -p plugins/${plugins[i]?.project}/tsconfig.json`))
  }, 120_000)

  it("lint clean, and the module-boundary rule fires on them (a plugin may not depend on the store)", async () => {
    const canaries = plugins.map((plugin) => path.join(plugin.directory, "src", "BoundaryCanary.ts"))
    for (const canary of canaries) fs.writeFileSync(canary, `import { Sql } from "@encompass/store"\nexport const x = Sql\n`)
    // One ESLint for both: from the root, with the same flat config each package's `eslint .` uses.
    const lint = await run(bin.eslint, ["--format", "json", ...plugins.map((plugin) => path.relative(root, plugin.directory))], root)
    for (const canary of canaries) fs.rmSync(canary)
    expect(lint.output).not.toContain("No cached ProjectGraph")
    const results = JSON.parse(lint.stdout) as ReadonlyArray<{ filePath: string; messages: ReadonlyArray<{ ruleId: string | null; message: string }> }>
    expect(results.length).toBeGreaterThan(10)
    const problems = results.flatMap((file) =>
      file.messages.map((m) => `${path.relative(root, file.filePath)}: ${m.ruleId}: ${m.message}`)
    )
    expect(problems.filter((problem) => !problem.includes("BoundaryCanary.ts"))).toEqual([])
    for (const canary of canaries) {
      const found = problems.filter((problem) => problem.startsWith(path.relative(root, canary)))
      expect(found.some((problem) => problem.includes("@nx/enforce-module-boundaries")), found.join("\n") || "no lint errors").toBe(true)
    }
  }, 120_000)

  it("pass their own tests, the plugin-testkit conformance suite included", async () => {
    const results = await Promise.all(plugins.map((plugin) => run(bin.vitest, ["run", "--config", "../../vitest.shared.ts"], plugin.directory)))
    results.forEach((result, i) => {
      expectSuccess(result, `vitest run in plugins/${plugins[i]?.project}`)
      expect(result.output).toMatch(/Test Files\s+2 passed \(2\)/)
    })
  }, 180_000)
})
