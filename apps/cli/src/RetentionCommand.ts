/**
 * `encompass retention run [--dry-run] [--at DATE]`: the agreement's retention schedule, as
 * `serve` runs it every six hours (`Retention`). The report says, per kind of record, its period,
 * the cut-off and how many were purged — never whose. `--dry-run` changes nothing; `--at` shows
 * what will be due on a later date.
 */
import { Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Retention } from "@encompass/pipeline"
import { Console, Effect, Layer, Option } from "effect"

const config = Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)"))
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("report what is due, and delete nothing"))
const at = Options.date("at").pipe(Options.optional, Options.withDescription("run as of this date (default now), e.g. to see what falls due by then"))

export const report = (r: Retention.Report): string =>
  [
    `Retention ${r.dryRun ? "dry run" : "run"} as of ${r.at.toISOString()} (${r.clause}; periods are the force's choice)`,
    ...r.lines.map((l) =>
      `  ${l.kind.padEnd(17)} ${`${l.days} days`.padEnd(10)} before ${l.before.toISOString().slice(0, 10)}  ${
        l.purged ? (r.dryRun ? "would purge" : "purged") : "due, kept"
      } ${l.count} ${l.what}`
    )
  ].join("\n")

const run = Command.make("run", { config, dryRun, at }, ({ at, config, dryRun }) =>
  Effect.gen(function*() {
    const region = yield* RegionConfig.load(config)
    const result = yield* Retention.run({ at: Option.getOrUndefined(at), dryRun }).pipe(
      Effect.provide(Layer.merge(Region.storageLayer(region), Region.agreementLayer(region)))
    )
    yield* Console.log(report(result))
  })
).pipe(Command.withDescription("delete what the agreement's retention schedule says is due, crypto-shredding past occurrences"))

export const command = Command.make("retention").pipe(
  Command.withDescription("the agreement's retention schedule"),
  Command.withSubcommands([run])
)
