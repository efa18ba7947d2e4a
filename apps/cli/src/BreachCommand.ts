/**
 * `encompass breach report`: for a recipient or a channel and a period, every disclosure with its
 * data categories and the children's opaque refs, and the breaches opened (`outbox withdraw
 * --breach`): what the 72-hour report to the ICO needs (`Breach`). It lists children's refs, so
 * it needs `--reason` and is audited as a consultation.
 */
import { Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Consultation } from "@encompass/audit"
import { Breach } from "@encompass/pipeline"
import { Effect, Option, Schema } from "effect"
import * as RecordOptions from "./RecordOptions.js"

/** Not exactly one of `--recipient`, `--channel`, or no period. */
export class BreachReportError extends Schema.TaggedError<BreachReportError>("@encompass/cli/BreachReportError")("BreachReportError", {
  module: Schema.Literal("BreachCommand"),
  method: Schema.Literal("report"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const refuse = (detail: string) => new BreachReportError({ module: "BreachCommand", method: "report", detail })

const report = Command.make(
  "report",
  {
    config: Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)")),
    recipient: Options.text("recipient").pipe(Options.optional, Options.withDescription("a recipient, as `outbox list` shows it, e.g. setting:100001")),
    channel: Options.text("channel").pipe(Options.optional, Options.withDescription("a channel id, e.g. secure-email")),
    from: RecordOptions.from,
    to: RecordOptions.to,
    format: RecordOptions.format,
    out: RecordOptions.out,
    operator: RecordOptions.operator,
    reason: RecordOptions.reason
  },
  (options) =>
    Effect.gen(function*() {
      const scope: Breach.Scope = Option.isSome(options.recipient) && Option.isNone(options.channel)
        ? { recipient: options.recipient.value }
        : Option.isSome(options.channel) && Option.isNone(options.recipient)
        ? { channel: options.channel.value }
        : yield* refuse("give exactly one of --recipient ID, --channel ID")
      const { from, to } = yield* RecordOptions.period(options)
      if (from === undefined || to === undefined) return yield* refuse("give the period: --from DATE --to DATE")
      const read = { by: options.operator, reason: options.reason, subject: `breach-report:${"recipient" in scope ? `recipient:${scope.recipient}` : `channel:${scope.channel}`}` }
      yield* Consultation.check(read)
      const region = yield* RegionConfig.load(options.config)
      const result = yield* Consultation.record({ ...read, what: `breach report ${from.toISOString()} to ${to.toISOString()}`, via: "cli" }).pipe(
        Effect.zipRight(Breach.report(scope, { from, to })),
        Effect.provide(Region.storageLayer(region))
      )
      yield* RecordOptions.emit(options.format === "html" ? Breach.html(result) : JSON.stringify(result, null, 2), options.out)
    })
).pipe(Command.withDescription("list every disclosure to a recipient or by a channel in a period, with data categories and children's opaque refs, and the breaches opened"))

export const command = Command.make("breach").pipe(
  Command.withDescription("personal data breaches: the report for the ICO"),
  Command.withSubcommands([report])
)
