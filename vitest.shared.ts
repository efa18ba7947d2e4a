// One vitest configuration for every project. Each project's `test` script runs
// `vitest run --config ../../vitest.shared.ts` from its own folder, so the folder is the root.
// With VITEST_JSON_DIR set (CI), each project also writes a JSON report there for .ci/run to total.
import * as path from "node:path"
import { defineConfig } from "vitest/config"

const root = process.cwd()
const workspace = path.dirname(path.dirname(root))
const jsonDir = process.env["VITEST_JSON_DIR"]
const project = path.relative(workspace, root).replaceAll(path.sep, "-")
// These projects' tests spawn the `encompass` command; its bundle is built once per run, before
// any test starts, so it is never older than the source.
const spawnsCli = ["apps-cli", "apps-gateway"].includes(project)

export default defineConfig({
  test: {
    root,
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    ...(spawnsCli ? { globalSetup: [path.join(workspace, "apps/cli/scripts/Bundle.ts")] } : {}),
    reporters: jsonDir ? ["default", "json"] : ["default"],
    ...(jsonDir ? { outputFile: { json: path.join(jsonDir, `${project}.json`) } } : {})
  }
})
