/**
 * Builds the `encompass` command into one ESM file, `dist/encompass.mjs`, for the tests to spawn:
 * starting it through tsx transpiles the whole workspace on every run (~3.5 s of CPU), the bundle
 * starts in a fraction of that. It is the vitest globalSetup of the projects whose tests spawn the
 * command (see vitest.shared.ts), so each test run builds it afresh and it is never stale;
 * `npm run bundle -w @encompass/cli` builds it by hand.
 *
 * The workspace's @encompass/* TypeScript sources are bundled, and so are effect and @effect/*
 * (pure ESM, the one installed copy, tree-shaken: loading their many modules was most of a start);
 * other npm packages stay external and load from node_modules exactly as under tsx (PGlite finds
 * its .wasm and .data next to its own module, CJS packages keep their __dirname). The bundle only ever
 * runs in place, from this checkout, so `import.meta.url`/`dirname`/`filename` in a bundled
 * source are pinned to that source's own location: files looked up relative to it (the store's
 * migrations, the shipped agreements, the demo data) are found where they are.
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import { isBuiltin } from "node:module"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { TestProject } from "vitest/node"

const cliRoot = path.resolve(import.meta.dirname, "..")
export const entry = path.join(cliRoot, "src/bin.ts")
export const outfile = path.join(cliRoot, "dist/encompass.mjs")

const packageName = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/")

/** The installed folder of `name` as Node finds it from `from`, following workspace symlinks. */
const installed = (name: string, from: string): string | undefined => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name)
    if (fs.existsSync(candidate)) return fs.realpathSync(candidate)
    if (dir === path.dirname(dir)) return undefined
  }
}

/**
 * npm packages are left to Node. An external import resolves from the bundle's folder, not the
 * importing source's, so a package a workspace would find in its own node_modules (another
 * version, a second effect) fails the build instead of silently loading another copy.
 */
const bundledPackage = /[\\/]node_modules[\\/](effect|@effect[\\/][^\\/]+)[\\/]/

const externalPackages: esbuild.Plugin = {
  name: "external-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("@encompass/")) return undefined
      if (isBuiltin(args.path)) return { path: args.path, external: true }
      const name = packageName(args.path)
      const fromSource = installed(name, args.resolveDir)
      const fromBundle = installed(name, path.dirname(outfile))
      // A bundled package's own copy of a dependency (effect's fast-check) is bundled with it.
      if (fromSource !== undefined && fromSource !== fromBundle && bundledPackage.test(args.importer)) return undefined
      if (fromSource === undefined || fromSource !== fromBundle) {
        return { errors: [{ text: `${name} is ${fromSource ?? "not installed"} from ${args.importer} but ${fromBundle ?? "not installed"} from the bundle` }] }
      }
      // Effect is pure ESM and loads slowly from its many modules (~1.5 s of CPU at every start):
      // bundled, and tree-shaken, it is one copy still — the only one installed, checked above.
      if (name === "effect" || name.startsWith("@effect/")) return undefined
      return { path: args.path, external: true }
    })
  }
}

/** Pins `import.meta` in each bundled source to that source's location (see above). */
const sourceLocatedImportMeta: esbuild.Plugin = {
  name: "source-located-import-meta",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      const pinned = (await fs.promises.readFile(args.path, "utf8"))
        .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
        .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
        .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
      // Anything else (import.meta.resolve, a bare import.meta) would answer for the bundle's folder.
      if (/\bimport\.meta\b/.test(pinned)) {
        return { errors: [{ text: `${args.path}: only import.meta.url, .dirname and .filename can be kept pointing at the source` }] }
      }
      return { contents: pinned, loader: "ts" }
    })
  }
}

/** Builds the bundle; the file is replaced atomically, so a test run alongside never spawns half of one. */
export const build = async (): Promise<void> => {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Class and function names stay as in the source, as error output and tags may show them.
    keepNames: true,
    // For `node --enable-source-maps dist/encompass.mjs` when a stack is needed.
    sourcemap: "linked",
    write: false,
    logLevel: "warning",
    plugins: [externalPackages, sourceLocatedImportMeta]
  })
  fs.mkdirSync(path.dirname(outfile), { recursive: true })
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`
    fs.writeFileSync(temporary, file.contents)
    fs.renameSync(temporary, file.path)
  }
}

/** vitest globalSetup: before any test spawns the command, and again before each watch-mode rerun. */
export const setup = async (project: TestProject): Promise<void> => {
  await build()
  project.onTestsRerun(build)
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) await build()
