/**
 * What the two plugin generators share: checking and normalising their options, reading the
 * versions a new plugin must pin from the workspace itself (so a scaffold never drifts from the
 * SDK it is generated against), refusing to overwrite, and telling the user what to do next.
 *
 * Plain JavaScript with JSDoc types on purpose: Nx loads a generator with require(), and on the
 * Node 20 this workspace supports, a `.ts` generator would need @swc-node/register or ts-node,
 * which the workspace does not install (docs/writing-a-plugin.md, "How the generators load").
 */
import { getProjects, logger, names, readJson } from "@nx/devkit"

/**
 * @typedef {"source" | "channel"} Kind
 *
 * @typedef {object} RawOptions What `nx g` passes (schema.json).
 * @property {string} name kebab-case, without the `source-`/`channel-` prefix
 * @property {string} [system] the record system a source reads (source plugins only)
 * @property {string} [description] one sentence for the manifest and package.json
 *
 * @typedef {object} PluginOptions
 * @property {Kind} kind
 * @property {string} name e.g. `mosaic-rms`; also the plugin id
 * @property {string} projectName e.g. `source-mosaic-rms`
 * @property {string} packageName e.g. `@encompass/source-mosaic-rms`
 * @property {string} directory e.g. `plugins/source-mosaic-rms`
 * @property {Record<string, string>} substitutions what the templates and file names use
 */

/** A plugin id (libs/domain Ids.SourceId / ChannelId): 2 to 40 characters, a letter first. */
export const namePattern = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/
const maxNameLength = 40
const maxTextLength = 200

/**
 * @param {string} text
 * @param {string} option
 * @returns {string}
 */
const oneLine = (text, option) => {
  const trimmed = text.trim()
  // The text lands in TypeScript, JSON and Markdown: one printable line keeps all three valid.
  if (trimmed === "" || trimmed.length > maxTextLength || /\p{Cc}/u.test(trimmed)) {
    throw new Error(`--${option} must be one line of 1 to ${maxTextLength} printable characters`)
  }
  return trimmed
}

/**
 * Checks the name: the messages say how to fix it.
 * @param {Kind} kind
 * @param {unknown} name
 * @returns {string}
 */
export const checkName = (kind, name) => {
  if (typeof name !== "string" || name.trim() === "") {
    throw new Error(`a plugin name is required, e.g. nx g @encompass/tools:${kind}-plugin mosaic-rms`)
  }
  if (name.startsWith("source-") || name.startsWith("channel-")) {
    throw new Error(`leave out the "${name.split("-")[0]}-" prefix: the generator adds "${kind}-" itself (plugins/${kind}-NAME)`)
  }
  if (!namePattern.test(name)) {
    throw new Error(`"${name}" is not kebab-case: use lower-case letters, digits and single hyphens, starting with a letter (e.g. mosaic-rms)`)
  }
  if (name.length < 2 || name.length > maxNameLength) {
    throw new Error(`"${name}" must be 2 to ${maxNameLength} characters long: it is also the plugin's id`)
  }
  return name
}

/**
 * @param {import("@nx/devkit").Tree} tree
 * @param {string} file
 * @returns {string}
 */
const packageVersion = (tree, file) => {
  if (!tree.exists(file)) throw new Error(`${file} is missing: run the generator at the root of the Encompass workspace`)
  return readJson(tree, file).version
}

/**
 * The SDK version plugins declare a range of (`Manifest.sdkVersion`), read from its source.
 * @param {import("@nx/devkit").Tree} tree
 * @returns {string}
 */
const sdkVersion = (tree) => {
  const manifest = tree.read("libs/plugin-sdk/src/Manifest.ts", "utf-8") ?? ""
  const found = /export const sdkVersion = "([^"]+)"/.exec(manifest)
  if (found?.[1] === undefined) throw new Error("cannot read sdkVersion from libs/plugin-sdk/src/Manifest.ts")
  return found[1]
}

/**
 * Checks and normalises the options; throws with a message saying what to change.
 * @param {import("@nx/devkit").Tree} tree
 * @param {Kind} kind
 * @param {RawOptions} raw
 * @returns {PluginOptions}
 */
export const pluginOptions = (tree, kind, raw) => {
  const name = checkName(kind, raw.name)
  const projectName = `${kind}-${name}`
  const directory = `plugins/${projectName}`
  if (tree.exists(directory)) {
    throw new Error(`${directory} already exists: the generator never overwrites a plugin. Choose another name, or delete the folder first`)
  }
  if (getProjects(tree).has(projectName)) {
    throw new Error(`a project named ${projectName} already exists elsewhere in the workspace: choose another name`)
  }
  const className = names(name).className
  const title = name.split("-").map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join(" ")
  const system = kind === "source" ? oneLine(raw.system ?? `${title} record system`, "system") : ""
  // The manifests' descriptions end without a full stop; the templates add one where prose needs it.
  const description = oneLine(
    raw.description?.trim().replace(/\.$/, "") ??
      (kind === "source"
        ? `${system} export of incidents with their children, one incident per line`
        : "Writes each notification as a JSON file into a configured directory that the recipient's system collects from"),
    "description"
  )
  const rootPackage = readJson(tree, "package.json")
  const effectVersion = rootPackage.devDependencies?.effect ?? rootPackage.dependencies?.effect
  if (typeof effectVersion !== "string") throw new Error("the root package.json does not pin effect")
  const moduleName = `${className}${kind === "source" ? "Source" : "Channel"}`
  return {
    kind,
    name,
    projectName,
    packageName: `@encompass/${projectName}`,
    directory,
    substitutions: {
      name,
      id: name,
      projectName,
      packageName: `@encompass/${projectName}`,
      directory,
      className,
      moduleName,
      configName: `${moduleName}Config`,
      // Raw text for Markdown, JSON string literals (also valid TypeScript) for code.
      system,
      description,
      // Inside a /** */ comment, "*/" would end it.
      descriptionComment: description.replaceAll("*/", "*\\/"),
      systemLiteral: JSON.stringify(system),
      descriptionLiteral: JSON.stringify(description),
      sdkRange: `^${sdkVersion(tree)}`,
      effectVersion,
      domainVersion: packageVersion(tree, "libs/domain/package.json"),
      sdkPackageVersion: packageVersion(tree, "libs/plugin-sdk/package.json"),
      testkitVersion: packageVersion(tree, "libs/plugin-testkit/package.json")
    }
  }
}

/**
 * What to do after generating: printed by `nx g` once the files are written.
 * @param {PluginOptions} options
 * @returns {ReadonlyArray<string>}
 */
export const nextSteps = (options) => [
  `Created ${options.directory} (${options.packageName}, ${options.kind} id "${options.name}").`,
  "Next:",
  "  1. Register the new workspace package: npm install && node tools/lock/complete-lock.mjs",
  "     (its own tests import its src relatively and run before this; other packages need it).",
  `  2. Check it: npx nx run-many -t typecheck,lint,test -p ${options.projectName}`,
  `  3. Replace the scaffold's ${options.kind === "source" ? "format" : "transport"}: ${options.directory}/README.md and docs/writing-a-plugin.md`,
  `  4. Enable it in a region file: ${options.directory}/src/index.ts under plugins:, and id ${options.name} under ${options.kind}s: (its README.md).`
]

/**
 * @param {PluginOptions} options
 * @returns {void}
 */
export const printNextSteps = (options) => {
  for (const line of nextSteps(options)) logger.info(line)
}
