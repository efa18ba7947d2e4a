/**
 * A plugin's settings as a region gives them (CONVENTIONS 13, the benthos model: the plugin's
 * config spec drives parsing): a JSON or YAML file, or a mapping written in the region file, with
 * an optional passwords file (JSON, kept out of the repository) merged in as `passwords`, decoded
 * by the plugin's `manifest.config` Schema. Every problem names its file, line and key path, and
 * never quotes a value: settings hold credentials.
 */
import { DecodeIssue, YamlSource } from "@encompass/domain"
import { Effect, Either, Option, Schema } from "effect"
import * as fs from "node:fs/promises"
import type { Settings } from "./RegionConfig.js"
import { problemLine, RegionConfigError, toPath } from "./RegionConfig.js"

/** Where one plugin's settings come from. */
export interface Origin {
  /** A settings file (absolute), the settings themselves, or none: the plugin's defaults. */
  readonly settings: Settings | undefined
  /** A passwords file (absolute), merged into the settings as `passwords`. */
  readonly passwords?: string | undefined
  /** The file inline settings are written in, and their key path there (`channels.1.settings`). */
  readonly inline: { readonly file: string; readonly path: YamlSource.Path }
}

/** Where a decoded value came from, so an issue in it can be placed. */
interface Document {
  readonly file: string
  /** Absent when the file cannot be read back: issues then carry their key path alone. */
  readonly source: Option.Option<YamlSource.Source>
  /** The key path of the value within the file. */
  readonly path: YamlSource.Path
}

const refused = (file: string, issues: ReadonlyArray<string>) => new RegionConfigError({ file, issues })

const readText = (file: string) =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (e) => refused(file, [`cannot read (${e instanceof Error && "code" in e ? String(e.code) : "error"})`])
  })

/** A JSON or YAML file (JSON is YAML), its syntax problems located. */
export const readFile = (file: string): Effect.Effect<YamlSource.Source, RegionConfigError> =>
  Effect.flatMap(readText(file), (text) => {
    const source = YamlSource.read(text)
    return source.problems.length > 0 ? Effect.fail(refused(file, source.problems.map(problemLine))) : Effect.succeed(source)
  })

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** A file's value as a mapping; an empty file is an empty mapping (every setting at its default). */
const mappingOf = (file: string, source: YamlSource.Source) =>
  source.value === null || source.value === undefined
    ? Effect.succeed({})
    : isRecord(source.value)
    ? Effect.succeed(source.value)
    : Effect.fail(refused(file, ["expected a mapping of settings (an object), not a list or a single value"]))

const fromFile = (file: string) =>
  Effect.flatMap(readFile(file), (source) =>
    Effect.map(mappingOf(file, source), (value) => ({ value, document: { file, source: Option.some(source), path: [] } as Document })))

/** The raw settings and where they came from: a file's mapping, the inline mapping, or `{}`. */
const settingsOf = (origin: Origin) =>
  typeof origin.settings === "string"
    ? fromFile(origin.settings)
    : Effect.map(
      // Read back only to place the issues; a region given as text alone still gets key paths.
      Effect.option(readFile(origin.inline.file)),
      (source) => ({ value: origin.settings ?? {}, document: { file: origin.inline.file, source, path: origin.inline.path } as Document })
    )

const place = (document: Document, issues: ReadonlyArray<DecodeIssue.DecodeIssue>): Array<string> => {
  const located = issues.map((i) => ({ path: [...document.path, ...toPath(i.path)], message: i.message }))
  return Option.match(document.source, {
    onNone: () => located.map((i) => `${i.path.length === 0 ? "(document)" : YamlSource.formatPath(i.path)}: ${i.message}`),
    onSome: (source) => YamlSource.issuesOf(source, located).map(problemLine)
  })
}

/**
 * Reads one plugin's settings and decodes them with its config Schema (`manifest.config`): every
 * issue at once, unknown keys refused — a misspelt setting would otherwise be silently dropped —
 * unless `ignoreExcess` (a reader of only part of the settings, such as the alerts' relay).
 */
export const load = <A>(
  schema: Schema.Schema<A, any>,
  origin: Origin,
  options: { readonly ignoreExcess?: boolean } = {}
): Effect.Effect<A, RegionConfigError> =>
  Effect.gen(function*() {
    const settings = yield* settingsOf(origin)
    const passwords = origin.passwords === undefined ? undefined : yield* fromFile(origin.passwords)
    if (passwords !== undefined && "passwords" in settings.value) {
      return yield* refused(settings.document.file, place(settings.document, [{ path: "passwords", message: "is also given by the passwords file: keep passwords in one place" }]))
    }
    const merged = passwords === undefined ? settings.value : { ...settings.value, passwords: passwords.value }
    const decoded = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: options.ignoreExcess === true ? "ignore" : "error" })(merged)
    if (Either.isRight(decoded)) return decoded.right
    // An optional key's union with `undefined` adds "expected undefined" beside the real problem.
    const issues = DecodeIssue.fromParseError(decoded.left).filter((i) => i.message !== "expected undefined")
    const inPasswords = (i: DecodeIssue.DecodeIssue) => passwords !== undefined && (i.path === "passwords" || i.path.startsWith("passwords."))
    const own = place(settings.document, issues.filter((i) => !inPasswords(i)))
    const theirs = passwords === undefined
      ? []
      : place(passwords.document, issues.filter(inPasswords).map((i) => ({ ...i, path: i.path.slice("passwords.".length) })))
    return yield* own.length > 0
      ? refused(settings.document.file, [...own, ...theirs.map((line) => `${origin.passwords}: ${line}`)])
      : refused(origin.passwords ?? settings.document.file, theirs)
  })

/** A problem with a key of a YAML file (the region file, an agreement), at its line when the file reads back. */
export const refuse = (file: string, path: YamlSource.Path, message: string): Effect.Effect<never, RegionConfigError> =>
  Effect.flatMap(Effect.option(readFile(file)), (source) => Effect.fail(refused(file, place({ file, source, path }, [{ path: "", message }]))))
