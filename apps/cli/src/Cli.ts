/** The `encompass` command. */
import { Args, Command, Options } from "@effect/cli"
import { AuditLog } from "@encompass/audit"
import { Ingest } from "@encompass/pipeline"
import { Console, Effect } from "effect"
import * as AuditCommand from "./AuditCommand.js"
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

const serve = Command.make("serve", { config: regionFile }, ({ config }) => Serve.run(config)).pipe(
  Command.withDescription("run the regional service: HTTP API, SMTP inbox, SFTP drops and workers, until SIGTERM")
)

export const command = Command.make("encompass").pipe(
  Command.withDescription("Operation Encompass gateway"),
  Command.withSubcommands([
    demo,
    ingest,
    serve,
    QuarantineCommand.command,
    OutboxCommand.command,
    OverrideCommand.command,
    PolicyCommand.command,
    ReportCommand.command,
    AuditCommand.command,
    BreachCommand.command,
    KeysCommand.command,
    RetentionCommand.command
  ])
)

export const run = Command.run(command, { name: "encompass", version: "0.1.0" })
