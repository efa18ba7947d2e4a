/**
 * `encompass policy check FILE` and `encompass policy explain FEED`: what an information
 * governance officer uses to read an agreement file, change it, and see exactly what the gateway
 * will decide and why, before anything is sent. Both are pure: no database, no network.
 * `explain --config` decides on the region's own decision layer, exactly as `serve` would.
 */
import { Args, Command, Options } from "@effect/cli"
import { Authorities, Directory } from "@encompass/directory"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import type { Agreement, Eligibility, SchoolCalendar } from "@encompass/isa-policy"
import { Baseline, Explain, Policy } from "@encompass/isa-policy"
import { ActiveAgreement, ActiveSources } from "@encompass/pipeline"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { Chunk, Console, Effect, Option, Stream } from "effect"
import * as FileFeed from "./FileFeed.js"
import * as SourceChoice from "./SourceChoice.js"
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

/** What deciding a feed needs, from a region file or from the explicit files. */
interface Deciding {
  readonly source: SourcePlugin.SourcePlugin
  readonly agreement: Agreement.Agreement
  readonly calendar: SchoolCalendar.SchoolCalendar | undefined
  readonly lookups: Pick<Eligibility.Lookups, "lookupSetting" | "lookupAuthority" | "notServed">
}

/** The region's own decision layer (its enabled sources, agreement, calendar and directory), as `serve` decides. */
const fromRegion = (file: string, wanted: Option.Option<string>) =>
  Effect.gen(function*() {
    const region = yield* RegionConfig.load(file)
    const id = yield* SourceChoice.choose(region, file, wanted)
    return yield* Effect.gen(function*() {
      const source = (yield* ActiveSources.ActiveSources).get(id)
      if (source === undefined) return yield* Effect.dieMessage("the region's decision layer lacks an enabled source")
      const calendar = yield* Effect.serviceOption(ActiveAgreement.ActiveCalendar)
      const authorities = yield* Authorities.Authorities
      return {
        source,
        agreement: yield* ActiveAgreement.ActiveAgreement,
        calendar: Option.getOrUndefined(calendar),
        lookups: { lookupSetting: (yield* Directory.Directory).lookup, lookupAuthority: authorities.lookup, notServed: authorities.notServed }
      } satisfies Deciding
    }).pipe(Effect.provide(Region.decisionLayer(region, file)))
  })

/** The explicit files: a Niche feed against an agreement, calendar and directory named one by one. */
const fromFiles = (options: {
  readonly agreement: string
  readonly baseline: string
  readonly calendar: string
  readonly directory: string
  readonly authorities: Option.Option<string>
}) =>
  Effect.gen(function*() {
    const floor = yield* AgreementFiles.loadBaseline(options.baseline)
    const directory = yield* Effect.mapError(
      Directory.fromCsv(yield* readText(options.directory)),
      (e) => new PolicyFileError({ detail: `${options.directory}: ${e.message}` })
    )
    const authorities = yield* Option.match(options.authorities, {
      onNone: () => Effect.succeed(Authorities.empty),
      onSome: (file) =>
        Effect.flatMap(readText(file), (text) =>
          Effect.mapError(Authorities.fromCsv(text), (e) => new PolicyFileError({ detail: `${file}: ${e.message}` })))
    })
    return {
      source: NicheRmsSource.make(),
      agreement: yield* AgreementFiles.loadAgreement(options.agreement, floor),
      calendar: yield* AgreementFiles.loadCalendar(options.calendar),
      lookups: { lookupSetting: directory.lookup, lookupAuthority: authorities.lookup }
    } satisfies Deciding
  })

const explain = Command.make(
  "explain",
  {
    feed: Args.file({ name: "FEED", exists: "yes" }),
    line: Options.integer("line").pipe(Options.optional, Options.withDescription("explain the incident holding the record that starts on this line")),
    occurrence: Options.text("occurrence").pipe(Options.optional, Options.withDescription("explain this occurrence")),
    config: Options.file("config", { exists: "yes" }).pipe(
      Options.optional,
      Options.withDescription("the region file (YAML): decide with its sources, agreement, calendar and directory, as serve does")
    ),
    source: Options.text("source").pipe(
      Options.optional,
      Options.withDescription("with --config: the enabled source that decodes the feed; default the region's only source")
    ),
    agreement: Options.file("agreement", { exists: "yes" }).pipe(
      Options.withDefault(AgreementFiles.defaultAgreementFile),
      Options.withDescription("without --config: agreement file (default: the Thames Valley Police schools ISA)")
    ),
    baseline: baselineOption,
    directory: Options.file("directory", { exists: "yes" }).pipe(
      Options.optional,
      Options.withDescription("without --config: settings directory CSV (the feed is then a Niche RMS export)")
    ),
    calendar: Options.file("calendar", { exists: "yes" }).pipe(
      Options.withDefault(AgreementFiles.calendarFile),
      Options.withDescription("without --config: school calendar (term dates, INSET days, bank holidays)")
    ),
    authorities: Options.file("authorities", { exists: "yes" }).pipe(
      Options.optional,
      Options.withDescription("without --config: authorities directory CSV (councils' EHE teams and front doors)")
    )
  },
  (options) =>
    Effect.gen(function*() {
      const deciding = yield* Option.match(options.config, {
        onSome: (file) => fromRegion(file, options.source),
        onNone: () =>
          Option.match(options.directory, {
            onNone: () => Effect.fail(new PolicyFileError({ detail: "give --config REGION.yaml, or --directory FILE (and optionally --agreement, --calendar)" })),
            onSome: (directory) => fromFiles({ ...options, directory })
          })
      })
      const feed = yield* FileFeed.make(deciding.source.id, options.feed)
      const decoded = Chunk.toReadonlyArray(yield* Stream.runCollect(deciding.source.decode(feed)))

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
        const evaluation = Policy.evaluate(item, deciding.agreement, {
          ...deciding.lookups,
          ...(deciding.calendar === undefined ? {} : { calendar: deciding.calendar }),
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
