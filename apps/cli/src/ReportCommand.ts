/**
 * `encompass report compliance|deadlines`: the day's compliance figures, and one run of the
 * deadline watch `serve` runs periodically. Each takes the region file, so it opens the same store
 * as `serve`. Both print ids, counts, rules and clauses only. The deadline run also emails its
 * alerts to the SPOC, as one email, when the region file has `alerts.email`.
 */
import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import * as SpocAlerts from "@encompass/gateway/SpocAlerts"
import { ComplianceReport, DeadlineWatch } from "@encompass/pipeline"
import { Console, Duration, Effect, Option, Schema } from "effect"

const config = Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)"))

const compliance = Command.make(
  "compliance",
  {
    config,
    date: Options.text("date").pipe(
      Options.optional,
      Options.withDescription("the day, YYYY-MM-DD, whose deadlines to report (default: today in Europe/London)")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print the report as JSON"))
  },
  ({ config, date, json }) =>
    Effect.gen(function*() {
      const region = yield* RegionConfig.load(config)
      const day = yield* Option.match(date, { onNone: () => ComplianceReport.today, onSome: Effect.succeed })
      const report = yield* ComplianceReport.forDay(day, { region: region.region }).pipe(Effect.provide(Region.storageLayer(region)))
      yield* Console.log(
        json ? JSON.stringify(Schema.encodeSync(ComplianceReport.ComplianceReport)(report), null, 2) : ComplianceReport.format(report)
      )
    })
).pipe(Command.withDescription("the notifications due on a day and what became of them, and the decisions withheld or needing review"))

const lead = Options.text("lead").pipe(
  Options.withDefault("2 hours"),
  Options.withDescription("how long before its deadline an undelivered notification is at risk, e.g. \"2 hours\""),
  Options.mapEffect((text) =>
    Option.match(Duration.decodeUnknown(text), {
      onNone: () => Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--lead: expected a duration such as "2 hours", not ${text}`))),
      onSome: Effect.succeed
    })
  )
)

const line = (a: DeadlineWatch.Alert) =>
  [a.kind.padEnd(7), a.reference, a.deadline.toISOString().slice(0, 16).replace("T", " "), a.state.padEnd(6), String(a.attempts).padStart(8), a.channel, a.recipient]
    .join("  ")

const deadlines = Command.make("deadlines", { config, lead }, ({ config, lead }) =>
  Effect.gen(function*() {
    const region = yield* RegionConfig.load(config)
    // The sink's scope ends with the scan: the alerts go out as one email before the output.
    const alerts = yield* DeadlineWatch.scan({ atRiskLead: lead }).pipe(
      Effect.provide(SpocAlerts.fromRegion(region, config)),
      Effect.provide(Region.storageLayer(region))
    )
    if (alerts.length === 0) return yield* Console.log("No new deadline alerts.")
    yield* Console.log(`kind     ${"reference".padEnd(17)}  deadline (UTC)    state   attempts  channel  recipient`)
    for (const alert of alerts) yield* Console.log(line(alert))
  })).pipe(
    Command.withDescription(
      "run the deadline watch once: raise (log, audit, count, and email to the SPOC if the region file says so) at-risk and missed alerts not raised before, and print them"
    )
  )

export const command = Command.make("report").pipe(
  Command.withDescription("compliance figures and deadline alerts"),
  Command.withSubcommands([compliance, deadlines])
)
