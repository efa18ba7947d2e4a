/**
 * `encompass retention run [--dry-run] [--at DATE]`: the agreement's retention schedule, as
 * `serve` runs it every six hours (`Retention`). The report says, per kind of record, its period,
 * the cut-off and how many were purged — never whose. `--dry-run` changes nothing; `--at` shows
 * what will be due on a later date.
 *
 * `encompass retention left-setting (--file LEAVERS.csv | --setting URN --subject REF)`: children
 * who have left a setting, from the settings' update or named by an operator (`LeftSetting`, TVP
 * ISA 4.4); their copies of that setting's notifications go.
 */
import { Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Leavers } from "@encompass/directory"
import { ActiveAgreement, LeftSetting, Retention } from "@encompass/pipeline"
import { Console, Effect, Layer, Option, Schema } from "effect"
import * as os from "node:os"

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

/** Neither or both of `--file` and `--setting`/`--subject`. */
export class LeaversChoiceError extends Schema.TaggedError<LeaversChoiceError>()("@encompass/cli/LeaversChoiceError", {
  module: Schema.Literal("RetentionCommand"),
  method: Schema.Literal("left-setting"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const leaversFile = Options.file("file", { exists: "yes" }).pipe(
  Options.optional,
  Options.withDescription("a leavers CSV: urn, and subject or given_name, family_name, date_of_birth per row")
)
const setting = Options.text("setting").pipe(Options.optional, Options.withDescription("the URN of the setting the child has left"))
const subject = Options.text("subject").pipe(Options.optional, Options.withDescription("the child's reference in the force's records, as audit export names it"))
const operator = Options.text("operator").pipe(
  Options.withDefault(os.userInfo().username),
  Options.withDescription("who is acting, for the audit log (default: the login name)")
)
const reason = Options.text("reason").pipe(Options.withDescription("why, for the audit log (e.g. the school's leavers list of a date)"))

const leaversOf = (file: Option.Option<string>, urn: Option.Option<string>, ref: Option.Option<string>) => {
  const refuse = (detail: string) => Effect.fail(new LeaversChoiceError({ module: "RetentionCommand", method: "left-setting", detail }))
  if (Option.isSome(file)) return Option.isNone(urn) && Option.isNone(ref) ? Leavers.load(file.value) : refuse("give --file, or --setting with --subject, not both")
  if (Option.isSome(urn) && Option.isSome(ref)) return Leavers.named(urn.value, ref.value)
  return refuse("say who has left: --file LEAVERS.csv, or --setting URN with --subject REF")
}

export const leftReport = (r: LeftSetting.Report): string =>
  [
    `Left the setting${r.dryRun ? " (dry run: nothing changed)" : ""}: ${r.leavers} leaver${r.leavers === 1 ? "" : "s"}`,
    `  ${r.dryRun ? "would remove" : "removed"} ${r.removed} child cop${r.removed === 1 ? "y" : "ies"} from ${r.notifications} notification${r.notifications === 1 ? "" : "s"}`,
    ...(r.waiting === 0 ? [] : [`  kept ${r.waiting} still waiting for delivery: cancel with \`outbox cancel\` if it must not go, then run this again`]),
    ...(r.unmatched.length === 0 ? [] : [`  no notification to their setting for the leaver${r.unmatched.length === 1 ? "" : "s"} on line${r.unmatched.length === 1 ? "" : "s"} ${r.unmatched.join(", ")}`])
  ].join("\n")

const leftSetting = Command.make(
  "left-setting",
  { config, file: leaversFile, setting, subject, operator, reason, dryRun },
  ({ config, dryRun, file, operator, reason, setting, subject }) =>
    Effect.gen(function*() {
      const region = yield* RegionConfig.load(config)
      const leavers = yield* leaversOf(file, setting, subject)
      const result = yield* Effect.gen(function*() {
        const agreement = yield* ActiveAgreement.ActiveAgreement
        // TVP ISA 4.4 names leaving the school; an agreement's retention clause says where it allows deletion.
        const clause = agreement.retention?.clause ?? agreement.id
        return yield* LeftSetting.remove(leavers, { operator, reason, dryRun, clause })
      }).pipe(Effect.provide(Layer.merge(Region.storageLayer(region), Region.agreementLayer(region))))
      yield* Console.log(leftReport(result))
    })
).pipe(Command.withDescription("remove the gateway's copies of what a setting was sent about children who have left it"))

export const command = Command.make("retention").pipe(
  Command.withDescription("the agreement's retention schedule, and children who have left a setting"),
  Command.withSubcommands([run, leftSetting])
)
