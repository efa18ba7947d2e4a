// One vitest configuration for every project. Each project's `test` script runs
// `vitest run --config ../../vitest.shared.ts` from its own folder, so the folder is the root.
// With VITEST_JSON_DIR set (CI), each project also writes a JSON report there for .ci/run to total.
import * as path from "node:path"
import { defineConfig } from "vitest/config"

const root = process.cwd()
const jsonDir = process.env["VITEST_JSON_DIR"]
const project = path.relative(path.dirname(path.dirname(root)), root).replaceAll(path.sep, "-")

export default defineConfig({
  test: {
    root,
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: jsonDir ? ["default", "json"] : ["default"],
    ...(jsonDir ? { outputFile: { json: path.join(jsonDir, `${project}.json`) } } : {})
  }
})
