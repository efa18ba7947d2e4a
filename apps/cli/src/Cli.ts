/** The `encompass` command. */
import { Args, Command, Options } from "@effect/cli"
import { AuditLog } from "@encompass/audit"
import { Ingest } from "@encompass/pipeline"
import { Console, Effect, Option, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as AuditExportCommand from "./AuditExportCommand.js"
import * as BreachCommand from "./BreachCommand.js"
import * as Demo from "./Demo.js"
import * as FileFeed from "./FileFeed.js"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import * as Serve from "@encompass/gateway/Serve"
import * as KeysCommand from "./KeysCommand.js"
import * as OutboxCommand from "./OutboxCommand.js"
import * as OverrideCommand from "./OverrideCommand.js"
import * as PolicyCommand from "./PolicyCommand.js"
import * as QuarantineCommand from "./QuarantineCommand.js"
import * as ReportCommand from "./ReportCommand.js"
import * as RetentionCommand from "./RetentionCommand.js"
import * as SourceChoice from "./SourceChoice.js"
import * as SampleFeed from "./SampleFeed.js"
import * as Summary from "./Summary.js"

/** `audit verify` found the chain broken; the message names the first bad event. */
export class AuditChainBroken extends Schema.TaggedError<AuditChainBroken>()("AuditChainBroken", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const demoSink = Command.make(
  "sink",
  {
    out: Options.directory("out").pipe(Options.withDefault("demo-out/sink"), Options.withDescription("where the mail and attachments go")),
    port: Options.integer("port").pipe(Options.withDefault(2525), Options.withDescription("the port on 127.0.0.1 (the example region's relay.json names 2525)"))
  },
  (options) => Demo.sink(options)
).pipe(Command.withDescription("run the demo's local mail sink (STARTTLS, the demo certificate) until Ctrl-C: the example region's relay"))

const demoFeed = Command.make("feed", {}, () => Console.log(SampleFeed.today(new Date()).trimEnd())).pipe(
  Command.withDescription("print the shipped sample Niche feed dated for now (each incident in the last minutes), to push to a gateway")
)

const demo = Command.make(
  "demo",
  { out: Options.directory("out").pipe(Options.withDefault("demo-out"), Options.withDescription("where the mail, attachments and database go")) },
  ({ out }) => Demo.run(out)
).pipe(
  Command.withDescription("run the whole path on the shipped sample feed, embedded store and a local mail sink"),
  Command.withSubcommands([demoSink, demoFeed])
)

const regionFile = Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)"))

const sourceOption = Options.text("source").pipe(
  Options.optional,
  Options.withDescription("the enabled source plugin that decodes the feed (niche-rms, athena, json-lines …); default the region's only source")
)

const ingest = Command.make(
  "ingest",
  { config: regionFile, source: sourceOption, feed: Args.file({ name: "FEED", exists: "yes" }) },
  (options) =>
    Effect.gen(function*() {
      const region = yield* RegionConfig.load(options.config)
      const source = yield* SourceChoice.choose(region, options.config, options.source)
      const feed = yield* FileFeed.make(source, options.feed)
      // The region's own composition, as `serve` builds it: every enabled source and channel.
      const { report, verified } = yield* Effect.gen(function*() {
        const report = yield* Ingest.ingest(feed, { transport: "file" })
        const verified = yield* Effect.flatMap(AuditLog.AuditLog, (audit) => audit.verify)
        return { report, verified }
      }).pipe(Effect.provide(Region.layer(region, options.config)))
      yield* Console.log(Summary.ingest(report))
      yield* Console.log(Summary.verify(verified))
    })
).pipe(Command.withDescription("ingest a feed file into the region's store, decide, and deliver its notifications"))

/** `audit verify` cannot tell which database to check, or it is not there: it never creates one. */
export class AuditVerifyRefused extends Schema.TaggedError<AuditVerifyRefused>()("AuditVerifyRefused", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const usesServer = () => (process.env["DATABASE_URL"] ?? "") !== ""

const verify = Command.make(
  "verify",
  {
    config: regionFile.pipe(Options.optional, Options.withDescription("the region file (YAML): verify the database serve uses")),
    dataDir: Options.directory("data-dir").pipe(
      Options.optional,
      Options.withDescription("embedded database folder, when DATABASE_URL is not set and there is no --config (default .encompass/pgdata)")
    )
  },
  ({ config, dataDir }) =>
    Effect.gen(function*() {
      const store = yield* Option.match(config, {
        onNone: () => {
          const dir = Option.getOrElse(dataDir, () => ".encompass/pgdata")
          return Effect.succeed({ dataDir: path.resolve(dir), layer: Region.storeAt(dir) })
        },
        onSome: (file) =>
          Option.isSome(dataDir)
            ? Effect.fail(new AuditVerifyRefused({ detail: "give --config or --data-dir, not both" }))
            : Effect.map(RegionConfig.load(file), (region) => ({ dataDir: region.dataDir, layer: Region.storeLayer(region) }))
      })
      // Opening a folder with no database would create an empty one and verify its 0 events.
      if (!usesServer() && !fs.existsSync(path.join(store.dataDir, "PG_VERSION"))) {
        return yield* new AuditVerifyRefused({
          detail: `no embedded database in ${store.dataDir}: check --data-dir, or the region file's dataDir (audit verify never creates one)`
        })
      }
      const report = yield* Effect.flatMap(AuditLog.AuditLog, (audit) => audit.verify).pipe(
        Effect.provide(AuditLog.layer),
        Effect.provide(store.layer)
      )
      // A broken chain is reported once, as the command's error (and a non-zero exit).
      if (report._tag === "Broken") return yield* new AuditChainBroken({ detail: `audit chain broken: ${report.message}` })
      yield* Console.log(Summary.verify(report))
    })
).pipe(Command.withDescription("check the audit hash chain; fails naming the first edited or missing event"))

const audit = Command.make("audit").pipe(
  Command.withDescription("the audit log: verify its hash chain, export the record of an occurrence, child or recipient"),
  Command.withSubcommands([verify, AuditExportCommand.command])
)

const serve = Command.make("serve", { config: regionFile }, ({ config }) => Serve.run(config)).pipe(
  Command.withDescription("run the regional service: HTTP API, SMTP inbox, SFTP drops and workers, until SIGTERM")
)

export const command = Command.make("encompass").pipe(
  Command.withDescription("Operation Encompass gateway"),
  Command.withSubcommands([demo, ingest, serve, QuarantineCommand.command, OutboxCommand.command, OverrideCommand.command, PolicyCommand.command, ReportCommand.command, audit, BreachCommand.command, KeysCommand.command, RetentionCommand.command])
)

export const run = Command.run(command, { name: "encompass", version: "0.1.0" })
