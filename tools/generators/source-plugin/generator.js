/**
 * `nx g @encompass/tools:source-plugin NAME`: scaffolds plugins/source-NAME from ./files (EJS
 * templates; `__x__` in a path is an option, a `.template` suffix is dropped). What the
 * generated plugin does and how to change it: docs/writing-a-plugin.md.
 */
import { generateFiles } from "@nx/devkit"
import * as path from "node:path"
import { pluginOptions, printNextSteps } from "../internal/PluginOptions.js"

/**
 * @param {import("@nx/devkit").Tree} tree
 * @param {import("../internal/PluginOptions.js").RawOptions} raw
 * @returns {Promise<import("@nx/devkit").GeneratorCallback>}
 */
export default async function sourcePluginGenerator(tree, raw) {
  const options = pluginOptions(tree, "source", raw)
  generateFiles(tree, path.join(import.meta.dirname, "files"), options.directory, options.substitutions)
  // Runs once the files are written (not on --dry-run).
  return () => printNextSteps(options)
}
