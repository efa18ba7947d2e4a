/**
 * `encompass policy check FILE` and `encompass policy explain FEED`: what an information
 * governance officer uses to read an agreement file, change it, and see exactly what the gateway
 * will decide and why, before anything is sent. Both are pure: no database, no network.
 */
import { Args, Command, Options } from "@effect/cli"
import { Directory } from "@encompass/directory"
import { Baseline, Explain, Policy } from "@encompass/isa-policy"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { Chunk, Console, Effect, Option, Stream } from "effect"
import * as FileFeed from "./FileFeed.js"
import * as AgreementFiles from "@encompass/gateway/AgreementFiles"

const { PolicyFileError, issueLine, readText } = AgreementFiles

const today = () => new Date().toISOString().slice(0, 10) as never

const baselineOption = Options.file("baseline", { exists: "yes" }).pipe(
  Options.withDefault(AgreementFiles.baselineFile),
  Options.withDescription("the statutory baseline every agreement may tighten but never loosen")
)

const check = Command.make(
  "check",
  { agreement: Args.file({ name: "AGREEMENT", exists: "yes" }), baseline: baselineOption },
  ({ agreement, baseline }) =>
    Effect.gen(function*() {
      const floor = yield* AgreementFiles.loadBaseline(baseline)
      const result = Baseline.check(yield* readText(agreement), floor, { today: today() })
      for (const w of result.warnings) yield* Console.log(`warning${issueLine(w)}`)
      if (result.errors.length > 0) {
        return yield* new PolicyFileError({
          detail: [`${agreement} cannot be used (${result.errors.length} error${result.errors.length === 1 ? "" : "s"}):`, ...result.errors.map(issueLine)].join("\n")
        })
      }
      yield* Console.log(`${agreement}: valid${result.warnings.length > 0 ? `, with ${result.warnings.length} warning(s) above` : ""}`)
    })
).pipe(Command.withDescription("validate an agreement file against its schema and the statutory baseline"))

const explain = Command.make(
  "explain",
  {
    feed: Args.file({ name: "FEED", exists: "yes" }),
    line: Options.integer("line").pipe(Options.optional, Options.withDescription("explain the incident holding the record that starts on this line")),
    occurrence: Options.text("occurrence").pipe(Options.optional, Options.withDescription("explain this occurrence")),
    agreement: Options.file("agreement", { exists: "yes" }).pipe(
      Options.withDefault(AgreementFiles.defaultAgreementFile),
      Options.withDescription("agreement file (default: the Thames Valley Police schools ISA)")
    ),
    baseline: baselineOption,
    directory: Options.file("directory", { exists: "yes" }).pipe(Options.withDescription("settings directory CSV")),
    calendar: Options.file("calendar", { exists: "yes" }).pipe(
      Options.withDefault(AgreementFiles.calendarFile),
      Options.withDescription("school calendar (term dates, INSET days, bank holidays)")
    )
  },
  (options) =>
    Effect.gen(function*() {
      const floor = yield* AgreementFiles.loadBaseline(options.baseline)
      const agreement = yield* AgreementFiles.loadAgreement(options.agreement, floor)
      const calendar = yield* AgreementFiles.loadCalendar(options.calendar)
      const directory = yield* Effect.mapError(
        Directory.fromCsv(yield* readText(options.directory)),
        (e) => new PolicyFileError({ detail: `${options.directory}: ${e.message}` })
      )
      const feed = yield* FileFeed.make(NicheRmsSource.id, options.feed)
      const decoded = Chunk.toReadonlyArray(yield* Stream.runCollect(NicheRmsSource.make().decode(feed)))

      const wantedLine = Option.map(options.line, (n) => `line ${n}`)
      const selected = (locator: string, occurrence: string | undefined) =>
        (Option.isNone(options.occurrence) && Option.isNone(wantedLine)) ||
        Option.contains(options.occurrence, occurrence ?? "") ||
        Option.contains(wantedLine, locator)

      let shown = 0
      for (const item of decoded) {
        if (item._tag === "Rejection") {
          if (!selected(item.locator, item.occurrence)) continue
          shown += 1
          yield* Console.log(`${item.locator}: rejected before any decision — ${item.field === undefined ? "" : `field ${item.field}: `}${item.reason}\n`)
          continue
        }
        if (!item.children.some((c) => selected(c.locator, item.occurrence))) continue
        shown += 1
        const evaluation = Policy.evaluate(item, agreement, {
          lookupSetting: directory.lookup,
          calendar,
          // Nothing is stored or sent by `explain`, so the reference is never seen.
          reference: () => "EG-0000-0000-0000" as never
        })
        yield* Console.log(
          `Occurrence ${item.occurrence} v${item.version} (${item.category}, ${item.children.map((c) => c.locator).join(", ")}) under ${evaluation.agreement.id} v${evaluation.agreement.version}:`
        )
        yield* Console.log(`${Explain.format(Explain.explain(evaluation))}\n`)
      }
      if (shown === 0) return yield* new PolicyFileError({ detail: "no record in the feed matches" })
    })
).pipe(Command.withDescription("show, per child and recipient, what the policy decides for a feed's records, with rule, clause and rationale"))

export const command = Command.make("policy").pipe(
  Command.withDescription("read and test agreements"),
  Command.withSubcommands([check, explain])
)
