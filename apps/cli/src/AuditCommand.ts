/**
 * `encompass audit verify|anchors`: check the audit chain, and export its signed anchors to be
 * kept outside the database. Both open the region's database (or an embedded one by folder) with
 * its master key, which keys the chain: neither creates a database or a key.
 */
import { Command, Options } from "@effect/cli"
import { AnchorCopy, AuditAnchor, AuditLog } from "@encompass/audit"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Chunk, Console, Effect, Either, Layer, Option, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as AuditExportCommand from "./AuditExportCommand.js"
import * as Summary from "./Summary.js"

/** `audit verify` found the chain broken; the message names the first bad event. */
export class AuditChainBroken extends Schema.TaggedError<AuditChainBroken>()("AuditChainBroken", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/** An audit command cannot tell which database to open, or it is not there, or its anchors file is unreadable. */
export class AuditCommandRefused extends Schema.TaggedError<AuditCommandRefused>()("AuditCommandRefused", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const usesServer = () => (process.env["DATABASE_URL"] ?? "") !== ""

const storeOptions = {
  config: Options.file("config", { exists: "yes" }).pipe(
    Options.optional,
    Options.withDescription("the region file (YAML): the database and master key serve uses")
  ),
  dataDir: Options.directory("data-dir").pipe(
    Options.optional,
    Options.withDescription("embedded database folder, when DATABASE_URL is not set and there is no --config (default .encompass/pgdata)")
  ),
  masterKeyFile: Options.file("master-key-file").pipe(
    Options.optional,
    Options.withDescription("with --data-dir: the master key file (default master.key beside the folder); ENCOMPASS_MASTER_KEY overrides it")
  )
}

type StoreOptions = Command.Command.ParseConfig<typeof storeOptions>

/** The audit log of the database the options name, keyed by its master key. */
const auditLog = (options: StoreOptions) =>
  Effect.gen(function*() {
    const store = yield* Option.match(options.config, {
      onNone: () => {
        const dir = path.resolve(Option.getOrElse(options.dataDir, () => ".encompass/pgdata"))
        const key = Option.getOrElse(options.masterKeyFile, () => path.join(path.dirname(dir), "master.key"))
        return Effect.succeed({ dataDir: dir, layer: Region.keyedStore(Region.storeAt(dir), key), anchorsFile: undefined })
      },
      onSome: (file) =>
        Option.isSome(options.dataDir) || Option.isSome(options.masterKeyFile)
          ? Effect.fail(new AuditCommandRefused({ detail: "give --config, or --data-dir [--master-key-file], not both" }))
          : Effect.map(RegionConfig.load(file), (region) => ({
            dataDir: region.dataDir,
            layer: Region.keyedStore(Region.storeLayer(region), region.masterKeyFile),
            anchorsFile: region.anchorsFile
          }))
    })
    // Opening a folder with no database would create an empty one and verify its 0 events.
    if (!usesServer() && !fs.existsSync(path.join(store.dataDir, "PG_VERSION"))) {
      return yield* new AuditCommandRefused({
        detail: `no embedded database in ${store.dataDir}: check --data-dir, or the region file's dataDir (audit commands never create one)`
      })
    }
    return { layer: AuditLog.layer.pipe(Layer.provide(store.layer)), anchorsFile: store.anchorsFile }
  })

const readAnchors = (file: string) =>
  Effect.flatMap(
    Effect.try({
      try: () => fs.readFileSync(file, "utf8"),
      catch: (e) => new AuditCommandRefused({ detail: `cannot read the anchors file ${file} (${e instanceof Error && "code" in e ? String(e.code) : "error"})` })
    }),
    (text) => Either.mapLeft(AuditAnchor.parseJsonLines(text), (e) => new AuditCommandRefused({ detail: `${file}: ${e.message}` }))
  )

const verify = Command.make(
  "verify",
  {
    ...storeOptions,
    anchors: Options.file("anchors", { exists: "yes" }).pipe(
      Options.optional,
      Options.withDescription("anchors kept outside the database (JSON lines from `audit anchors --out`): a tail cut off below any of them is detected")
    ),
    full: Options.boolean("full").pipe(Options.withDescription("check every event, not only those from the newest anchor a previous check verified"))
  },
  (options) =>
    Effect.gen(function*() {
      const { anchorsFile, layer } = yield* auditLog(options)
      const given = yield* Option.match(options.anchors, { onNone: () => Effect.succeed([]), onSome: readAnchors })
      // The region's own copy outside the database, written after every anchor signed.
      const kept = anchorsFile === undefined
        ? []
        : yield* Effect.mapError(AnchorCopy.read(anchorsFile), (e) => new AuditCommandRefused({ detail: `${e.message} (the region's anchorsFile)` }))
      const anchors = [...given, ...kept]
      const report = yield* Effect.flatMap(AuditLog.AuditLog, (audit) => audit.verifyWith({ full: options.full, anchors })).pipe(
        Effect.provide(layer)
      )
      // A broken chain is reported once, as the command's error (and a non-zero exit).
      if (report._tag === "Broken") return yield* new AuditChainBroken({ detail: `audit chain broken: ${report.message}` })
      yield* Console.log(Summary.verify(report))
    })
).pipe(Command.withDescription("check the audit chain under the region's key and its anchors; fails naming the first bad event"))

const anchors = Command.make(
  "anchors",
  {
    ...storeOptions,
    out: Options.file("out").pipe(Options.optional, Options.withDescription("write the anchors to FILE (JSON lines) instead of printing them"))
  },
  (options) =>
    Effect.gen(function*() {
      const { anchorsFile, layer } = yield* auditLog(options)
      const { all, publicKey } = yield* Effect.gen(function*() {
        const audit = yield* AuditLog.AuditLog
        // The export is as fresh as the chain: the head is signed first if it moved (and copied).
        yield* audit.anchor
        if (anchorsFile !== undefined) yield* AnchorCopy.sync(anchorsFile, audit)
        return { all: Chunk.toReadonlyArray(yield* Stream.runCollect(audit.anchors)), publicKey: audit.publicKey }
      }).pipe(Effect.provide(layer))
      const lines = all.map((a) => `${AuditAnchor.toJsonLine(a)}\n`).join("")
      const key = `public key ed25519 ${publicKey}`
      yield* Option.match(options.out, {
        onNone: () => Effect.zipRight(Effect.sync(() => process.stdout.write(lines)), Console.error(key)),
        onSome: (file) =>
          Effect.zipRight(
            Effect.try({
              try: () => fs.writeFileSync(file, lines),
              catch: (e) => new AuditCommandRefused({ detail: `cannot write ${file} (${e instanceof Error && "code" in e ? String(e.code) : "error"})` })
            }),
            Console.log(`${all.length} audit anchors written to ${file} (newest seq ${all.at(-1)?.seq ?? 0})\n${key}`)
          )
      })
    })
).pipe(Command.withDescription("sign the audit head if it moved and export every signed anchor as JSON lines, to keep outside the database"))

export const command = Command.make("audit").pipe(
  Command.withDescription("the audit log: verify its chain, export its signed anchors, export the record of a case"),
  Command.withSubcommands([verify, anchors, AuditExportCommand.command])
)
