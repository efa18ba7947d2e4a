/**
 * `encompass quarantine list|show|retry|discard`: the operator's hands on rejected records. Each
 * command takes the region file, so it opens the same store and master key as `serve`. Only
 * `show --record` prints a record's raw text (personal data), and that read needs a reason and is audited.
 */
import { Args, Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Consultation } from "@encompass/audit"
import { SpreadsheetCell } from "@encompass/domain"
import { Quarantine } from "@encompass/pipeline"
import { Console, Effect, Option, Redacted } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as Summary from "./Summary.js"

const config = Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)"))
const operator = Options.text("operator").pipe(
  Options.withDefault(os.userInfo().username),
  Options.withDescription("who is acting, for the audit log (default: the login name)")
)
const id = Args.text({ name: "ID" }).pipe(Args.withDescription("the entry's id, as `quarantine list` shows it"))

const withStorage = <A, E, R>(file: string, self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(RegionConfig.load(file), (region) => Effect.provide(self, Region.storageLayer(region)))

const line = (e: Quarantine.Entry) =>
  [
    e.id.padStart(6),
    e.createdAt.toISOString().slice(0, 16).replace("T", " "),
    e.status.padEnd(9),
    `${e.source}/${e.feedName}`,
    e.locator,
    e.field ?? "-",
    e.reason,
    e.hasRecord ? "" : "(no record)"
  ].join("  ")

const list = Command.make(
  "list",
  {
    config,
    status: Options.choice("status", ["open", "resolved", "replaced", "discarded", "all"]).pipe(Options.withDefault("open" as const))
  },
  ({ config, status }) =>
    withStorage(config, Effect.gen(function*() {
      const entries = yield* Quarantine.list({ status })
      if (entries.length === 0) return yield* Console.log(`No ${status === "all" ? "" : `${status} `}quarantine entries.`)
      yield* Console.log(`${"id".padStart(6)}  received          status     feed  locator  field  reason`)
      for (const entry of entries) yield* Console.log(line(entry))
    }))
).pipe(Command.withDescription("list quarantined records (open ones unless --status says otherwise)"))

const show = Command.make(
  "show",
  {
    config,
    operator,
    record: Options.boolean("record").pipe(Options.withDescription("also print the raw record (personal data: needs --reason; the read is audited)")),
    reason: Options.text("reason").pipe(Options.optional, Options.withDescription("why you read the record (required with --record), for the audit log")),
    id
  },
  ({ config, id, operator, reason, record }) =>
    withStorage(config, Effect.gen(function*() {
      // Refused before anything is shown: a read of personal data says why (DPA 2018 s.62).
      const read = record ? { by: operator, reason: Option.getOrElse(reason, () => "") } : undefined
      if (read !== undefined) yield* Consultation.check({ ...read, subject: `rejection:${id}` })
      const entry = yield* Quarantine.get(id)
      yield* Console.log([
        `entry       ${entry.id} (${entry.status})`,
        `feed        ${entry.feed}: ${entry.source}/${entry.feedName}`,
        `where       ${entry.locator}${entry.occurrence === null ? "" : `, occurrence ${entry.occurrence}`}${
          entry.decidedVersion === null ? "" : ` version ${entry.decidedVersion} (retry decides it again)`
        }`,
        `field       ${entry.field ?? "-"}`,
        `reason      ${entry.reason}`,
        `received    ${entry.createdAt.toISOString()}`,
        ...(entry.resolution === null ? [] : [`resolution  ${entry.resolution}`]),
        `record      ${entry.hasRecord ? (record ? "below" : "kept (add --record to print it)") : "none kept"}`
      ].join("\n"))
      // Neutralised (OWASP CSV injection): an operator may save the record and open it in a spreadsheet.
      if (read !== undefined && entry.hasRecord) yield* Console.log(SpreadsheetCell.neutraliseText(Redacted.value(yield* Quarantine.record(id, read))))
    }))
).pipe(Command.withDescription("show one quarantined record"))

const retry = Command.make(
  "retry",
  {
    config,
    operator,
    file: Options.file("file", { exists: "yes" }).pipe(
      Options.optional,
      Options.withDescription("the corrected record, in the source's own format (start from `show --record`)")
    ),
    id
  },
  ({ config, file, id, operator }) =>
    Effect.gen(function*() {
      const region = yield* RegionConfig.load(config)
      const corrected = file._tag === "Some" ? new Uint8Array(yield* Effect.promise(() => fs.readFile(file.value))) : undefined
      const result = yield* Quarantine.retry(id, { operator, corrected }).pipe(Effect.provide(Region.layer(region, config)))
      yield* Console.log(Summary.ingest(result.replay))
      yield* Console.log(
        result.status === "resolved"
          ? `\nEntry ${id} is resolved.`
          : result.status === "replaced"
          ? `\nEntry ${id} is replaced: the replay was rejected again; see \`quarantine list\`.`
          : `\nEntry ${id} is still open: the record was rejected again.`
      )
    })
).pipe(Command.withDescription(
  "replay a quarantined record (as received, or corrected with --file) through its source; a child whose school was not in the directory is decided again"
))

const discard = Command.make(
  "discard",
  { config, operator, reason: Options.text("reason").pipe(Options.withDescription("why the record needs no replay")), id },
  ({ config, id, operator, reason }) =>
    withStorage(config, Effect.gen(function*() {
      const entry = yield* Quarantine.discard(id, { operator, reason })
      yield* Console.log(`Entry ${entry.id} is discarded: ${entry.resolution ?? reason}`)
    }))
).pipe(Command.withDescription("close a quarantined record without replaying it"))

export const command = Command.make("quarantine").pipe(
  Command.withDescription("rejected records: list, show, retry, discard"),
  Command.withSubcommands([list, show, retry, discard])
)
