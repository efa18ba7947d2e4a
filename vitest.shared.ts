// One vitest configuration for every project. Each project's `test` script runs
// `vitest run --config ../../vitest.shared.ts` from its own folder, so the folder is the root.
// With VITEST_JSON_DIR set (CI), each project also writes a JSON report there for .ci/run to total.
import * as path from "node:path"
import { defineConfig } from "vitest/config"
import type { Reporter } from "vitest/reporters"

const root = process.cwd()
const workspace = path.dirname(path.dirname(root))
const jsonDir = process.env["VITEST_JSON_DIR"]
const project = path.relative(workspace, root).replaceAll(path.sep, "-")
// These projects' tests spawn the `encompass` command; its bundle is built once per run, before
// any test starts, so it is never older than the source.
const spawnsCli = ["apps-cli", "apps-gateway"].includes(project)
// The cli's test files each spawn the command against a store of their own and mostly wait on it:
// two at once take about 0.7 of the time on CI's two cores (measured: 353 s against 504 s).
const workers = project === "apps-cli" ? { maxWorkers: 2, minWorkers: 2 } : {}

interface Task {
  readonly name: string
  readonly mode: string
  readonly tasks?: ReadonlyArray<Task>
  /** Set on a file's task. */
  readonly filepath?: string
}

// The default reporter counts skipped tests but does not name them, so a suite skipped for want of
// a peer (sshd, gpg, a server database) passes unnoticed. This lists each skipped suite or test by
// its full name, which says why (e.g. "— SKIPPED: sshd not installed (apt-get install …)").
const namesSkipped: Reporter = {
  onFinished(files = []) {
    const skipped: Array<string> = []
    const walk = (task: Task, parents: ReadonlyArray<string>) => {
      const names = [...parents, task.name]
      // The first skipped suite or test under a file (a file whose every test is skipped is skipped too).
      if ((task.mode === "skip" || task.mode === "todo") && task.filepath === undefined) skipped.push(names.join(" > "))
      else for (const child of task.tasks ?? []) walk(child, names)
    }
    for (const file of files as ReadonlyArray<Task>) walk(file, [])
    if (skipped.length > 0) console.log(`\n${project}: skipped\n${skipped.map((name) => `  - ${name}`).join("\n")}\n`)
  }
}

export default defineConfig({
  test: {
    root,
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    ...workers,
    ...(spawnsCli ? { globalSetup: [path.join(workspace, "apps/cli/scripts/Bundle.ts")] } : {}),
    reporters: jsonDir ? ["default", namesSkipped, "json"] : ["default", namesSkipped],
    ...(jsonDir ? { outputFile: { json: path.join(jsonDir, `${project}.json`) } } : {})
  }
})
