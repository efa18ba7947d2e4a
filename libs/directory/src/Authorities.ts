/**
 * The authorities directory: each council's elective home education team and children's
 * services front door, with their monitored addresses, whether they have signed the agreement,
 * the channel that reaches them and any pinned OpenPGP key (Bedford ISA 7, 10). Like the
 * settings directory it loads whole or not at all, every bad row named: a wrong address is the
 * wrong council.
 */
import type { CouncilTeam, Ids } from "@encompass/domain"
import { Context, Effect, Either, Layer, Option } from "effect"
import { readFile } from "node:fs/promises"
import type { CsvOptions } from "./Directory.js"
import { DirectoryError, DirectoryIssue } from "./DirectoryError.js"
import * as AuthorityCsv from "./internal/AuthorityCsv.js"

export interface Authorities {
  /** The council's team of this kind, or none when the directory does not list it. */
  readonly lookup: (kind: CouncilTeam.TeamKind, localAuthority: Ids.LocalAuthorityCode) => Option.Option<CouncilTeam.CouncilTeam>
  /** Every team, in the order loaded. */
  readonly all: ReadonlyArray<CouncilTeam.CouncilTeam>
  /** Team kinds the region has chosen not to serve at all (its region file's `notServed`). */
  readonly notServed: ReadonlyArray<CouncilTeam.TeamKind>
}

export interface Options extends CsvOptions {
  readonly notServed?: ReadonlyArray<CouncilTeam.TeamKind> | undefined
}

export const Authorities = Context.GenericTag<Authorities>("@encompass/directory/Authorities")

/** The columns of the CSV file, in the order they are documented; `openpgp_fingerprint` may be left out. */
export const csvColumns: ReadonlyArray<string> = [...AuthorityCsv.columns, ...AuthorityCsv.optionalColumns]

const keyOf = (team: { readonly kind: string; readonly localAuthority: string }) => `${team.kind}:${team.localAuthority}`

const make = (teams: ReadonlyArray<CouncilTeam.CouncilTeam>, notServed: ReadonlyArray<CouncilTeam.TeamKind> = []): Authorities => {
  const byKey: ReadonlyMap<string, CouncilTeam.CouncilTeam> = new Map(teams.map((t) => [keyOf(t), t]))
  return {
    lookup: (kind, localAuthority) => Option.fromNullable(byKey.get(keyOf({ kind, localAuthority }))),
    all: Object.freeze([...teams]),
    notServed
  }
}

/** No council team: every EHE team or front door candidate needs a person to route it. */
export const empty: Authorities = make([])

const problems = (entries: ReadonlyArray<AuthorityCsv.Entry>, options: CsvOptions): ReadonlyArray<DirectoryIssue> => {
  const first = new Map<string, number>()
  const issues: Array<DirectoryIssue> = []
  for (const { line, team } of entries) {
    const key = keyOf(team)
    const seen = first.get(key)
    if (seen !== undefined) {
      issues.push(new DirectoryIssue({ line, column: "team", message: `${team.localAuthority} ${team.kind} is listed twice (first on line ${seen})` }))
    } else {
      first.set(key, line)
    }
    if (options.channels !== undefined && !options.channels.includes(team.channel)) {
      issues.push(new DirectoryIssue({ line, column: "channel", message: `channel ${team.channel} is not enabled in this region (enabled: ${options.channels.join(", ")})` }))
    }
  }
  return issues
}

const parseCsv = (text: string, method: "fromCsv" | "layerCsv", options: Options, source?: string): Either.Either<Authorities, DirectoryError> => {
  const { entries, issues } = AuthorityCsv.read(text)
  const all = [...issues, ...problems(entries, options)].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  return all.length > 0
    ? Either.left(new DirectoryError({ method, directory: "authorities", reason: "Invalid", issues: all, ...(source === undefined ? {} : { source }) }))
    : Either.right(make(entries.map((e) => e.team), options.notServed))
}

/**
 * The authorities from CSV text (columns: local_authority, team, name, signed_up, contacts,
 * channel, and optionally openpgp_fingerprint; see the README). Any bad row refuses the file.
 */
export const fromCsv = (text: string, options: Options = {}): Either.Either<Authorities, DirectoryError> => parseCsv(text, "fromCsv", options)

/** The Authorities service from a CSV file; building the layer fails if the file is unreadable or has a bad row. */
export const layerCsv = (path: string, options: Options = {}): Layer.Layer<Authorities, DirectoryError> =>
  Layer.effect(
    Authorities,
    Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (error) =>
        new DirectoryError({
          method: "layerCsv",
          directory: "authorities",
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

/** A region with no authorities file: no council team is routed (those it does not serve are withheld). */
export const layerEmpty = (options: Pick<Options, "notServed"> = {}): Layer.Layer<Authorities> =>
  Layer.succeed(Authorities, make([], options.notServed))
