/**
 * What `audit export` and `breach report` share: the period (`--from`, `--to`), the format
 * (`--format json|html`) and where the record goes (`--out FILE`, else standard output).
 */
import { Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"

/** A `--from`/`--to` that is not a date, or a period that ends before it starts. */
export class PeriodError extends Schema.TaggedError<PeriodError>("@encompass/cli/PeriodError")("PeriodError", {
  module: Schema.Literal("RecordOptions"),
  method: Schema.Literal("period"),
  option: Schema.Literal("--from", "--to"),
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.option}: ${this.detail}`
  }
}

export const from = Options.text("from").pipe(
  Options.optional,
  Options.withDescription("the period's first day, YYYY-MM-DD (UTC), or an ISO 8601 time")
)
export const to = Options.text("to").pipe(
  Options.optional,
  Options.withDescription("the period's last day, YYYY-MM-DD (UTC, included), or an ISO 8601 time (excluded)")
)
export const format = Options.choice("format", ["json", "html"]).pipe(
  Options.withDefault("json" as const),
  Options.withDescription("json for systems, html for a person (a self-contained page)")
)
/** Who reads the record and why: an export is itself a consultation (DPA 2018 s.62), audited. */
export const operator = Options.text("operator").pipe(
  Options.withDefault(os.userInfo().username),
  Options.withDescription("who is reading, for the audit log (default: the login name)")
)
export const reason = Options.text("reason").pipe(Options.withDescription("why this record is read, for the audit log (required)"))

export const out = Options.file("out").pipe(Options.optional, Options.withDescription("write it to this file instead of standard output"))

const day = /^\d{4}-\d{2}-\d{2}$/

/** A day means its start for `--from` and the next day's start for `--to`, so `--to` includes it. */
const parse = (option: "--from" | "--to", text: string): Effect.Effect<Date, PeriodError> => {
  const date = new Date(day.test(text) ? `${text}T00:00:00Z` : text)
  if (Number.isNaN(date.getTime()) || (day.test(text) && date.toISOString().slice(0, 10) !== text)) {
    return Effect.fail(new PeriodError({ module: "RecordOptions", method: "period", option, detail: `"${text}" is not a date (YYYY-MM-DD) or an ISO 8601 time` }))
  }
  return Effect.succeed(option === "--to" && day.test(text) ? new Date(date.getTime() + 86_400_000) : date)
}

/** The period `[from, to)`, each end optional. */
export const period = (options: { readonly from: Option.Option<string>; readonly to: Option.Option<string> }) =>
  Effect.gen(function*() {
    const start = Option.isSome(options.from) ? yield* parse("--from", options.from.value) : undefined
    const end = Option.isSome(options.to) ? yield* parse("--to", options.to.value) : undefined
    if (start !== undefined && end !== undefined && end <= start) {
      return yield* new PeriodError({ module: "RecordOptions", method: "period", option: "--to", detail: "the period ends before it starts" })
    }
    return { from: start, to: end }
  })

/** Writes the record to `out`, or prints it. */
export const emit = (text: string, destination: Option.Option<string>) =>
  Option.match(destination, {
    onNone: () => Console.log(text.trimEnd()),
    onSome: (file) =>
      Effect.zipRight(
        Effect.promise(() => fs.writeFile(file, text.endsWith("\n") ? text : `${text}\n`, { mode: 0o600 })),
        Console.error(`Written to ${file}.`)
      )
  })
