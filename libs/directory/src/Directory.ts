/**
 * The settings directory: schools and colleges by URN, with their DSL contact addresses, whether
 * they have signed the agreement, and the channel that reaches them. An immutable value, also
 * provided as a service. It loads whole or not at all: a bad row may be a wrong address, and a
 * wrong address means a wrong school.
 */
import type { Ids, Setting } from "@encompass/domain"
import { Context, Effect, Either, Layer, Option } from "effect"
import { readFile } from "node:fs/promises"
import { DirectoryError, DirectoryIssue } from "./DirectoryError.js"
import * as Csv from "./internal/Csv.js"

export interface Directory {
  /** The setting with this URN, or none when the directory does not list it. */
  readonly lookup: (urn: Ids.Urn) => Option.Option<Setting.Setting>
  /** Every setting, in the order loaded. */
  readonly all: ReadonlyArray<Setting.Setting>
}

export const Directory = Context.GenericTag<Directory>("@encompass/directory/Directory")

/** The columns of the CSV file, in the order they are documented; the last ones (`openpgp_fingerprint`) may be left out. */
export const csvColumns: ReadonlyArray<string> = [...Csv.columns, ...Csv.optionalColumns]

const duplicates = (entries: ReadonlyArray<{ readonly line?: number; readonly setting: Setting.Setting }>) => {
  const firstLine = new Map<string, number | undefined>()
  const issues: Array<DirectoryIssue> = []
  for (const { line, setting } of entries) {
    if (firstLine.has(setting.urn)) {
      const first = firstLine.get(setting.urn)
      issues.push(
        new DirectoryIssue({
          ...(line === undefined ? {} : { line }),
          column: "urn",
          message: `URN ${setting.urn} is listed twice${first === undefined ? "" : ` (first on line ${first})`}`
        })
      )
    } else {
      firstLine.set(setting.urn, line)
    }
  }
  return issues
}

const make = (settings: ReadonlyArray<Setting.Setting>): Directory => {
  const byUrn: ReadonlyMap<string, Setting.Setting> = new Map(settings.map((s) => [s.urn, s]))
  return {
    lookup: (urn) => Option.fromNullable(byUrn.get(urn)),
    all: Object.freeze([...settings])
  }
}

/** A directory of these settings; refused if a URN appears twice. */
export const fromSettings = (settings: Iterable<Setting.Setting>): Either.Either<Directory, DirectoryError> => {
  const list = Array.from(settings)
  const issues = duplicates(list.map((setting) => ({ setting })))
  return issues.length > 0
    ? Either.left(new DirectoryError({ method: "fromSettings", reason: "Invalid", issues }))
    : Either.right(make(list))
}

export interface CsvOptions {
  /** The channels the region enables: a row naming any other is refused, as nothing could deliver to it. */
  readonly channels?: ReadonlyArray<string> | undefined
}

const disabledChannels = (entries: ReadonlyArray<Csv.Entry>, channels: ReadonlyArray<string> | undefined) =>
  channels === undefined ? [] : entries
    .filter((e) => !channels.includes(e.setting.channel))
    .map((e) =>
      new DirectoryIssue({
        line: e.line,
        column: "channel",
        message: `channel ${e.setting.channel} is not enabled in this region (enabled: ${channels.join(", ")})`
      })
    )

const parseCsv = (text: string, method: "fromCsv" | "layerCsv", options: CsvOptions, source?: string): Either.Either<Directory, DirectoryError> => {
  const { entries, issues } = Csv.read(text)
  const all = [...issues, ...duplicates(entries), ...disabledChannels(entries, options.channels)].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  return all.length > 0
    ? Either.left(new DirectoryError({ method, reason: "Invalid", issues: all, ...(source === undefined ? {} : { source }) }))
    : Either.right(make(entries.map((e) => e.setting)))
}

/**
 * A directory from the CSV text (columns: urn, name, kind, signed_up, contacts, channel, and optionally
 * openpgp_fingerprint; see the README). Any bad row refuses the whole file, with every problem listed by line and column,
 * including, with `options.channels`, every row whose channel the region does not enable.
 */
export const fromCsv = (text: string, options: CsvOptions = {}): Either.Either<Directory, DirectoryError> => parseCsv(text, "fromCsv", options)

/** The Directory service from a CSV file; building the layer fails if the file is unreadable or has a bad row. */
export const layerCsv = (path: string, options: CsvOptions = {}): Layer.Layer<Directory, DirectoryError> =>
  Layer.effect(
    Directory,
    Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (error) =>
        new DirectoryError({
          method: "layerCsv",
          reason: "Unreadable",
          source: path,
          issues: [
            new DirectoryIssue({
              message: `cannot read the file (${typeof error === "object" && error !== null && "code" in error ? String(error.code) : "unknown error"})`
            })
          ]
        })
    }).pipe(Effect.flatMap((text) => parseCsv(text, "layerCsv", options, path)))
  )
