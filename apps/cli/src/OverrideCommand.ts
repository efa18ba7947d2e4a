/**
 * `encompass override grant|list|revoke`: a person's recorded decision to share a case marked
 * sensitive (TVP ISA 3 withholds it "unless there is an overriding public safety requirement";
 * Bedford ISA 7 holds it for a person to judge). Each takes the region file, so it opens the same
 * store, directory and agreement as `serve`. Grant and revoke decide the case again at once and
 * print the new decisions as `policy explain` does; they are audited with who, role and reason.
 * Nothing printed holds a child's personal data: children are named by their source reference.
 */
import { Args, Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Explain } from "@encompass/isa-policy"
import { Outbox, Overrides } from "@encompass/pipeline"
import { Console, Effect, Option } from "effect"

const config = Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)"))
const by = Options.text("by").pipe(Options.withDescription("who decides, by name, for the audit log"))
const reason = Options.text("reason").pipe(Options.withDescription("why, for the audit log and the decision's record: no child's name or other personal data"))

const withRegion = <A, E, R>(file: string, self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(RegionConfig.load(file), (region) => Effect.provide(self, Region.layer(region, file)))

const withStorage = <A, E, R>(file: string, self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(RegionConfig.load(file), (region) => Effect.provide(self, Region.storageLayer(region)))

const describe = (o: Overrides.Override) =>
  `override ${o.id} for child ${o.child} of occurrence ${o.occurrence} (${o.recipient ?? "every recipient"}), by ${o.by} (${o.role}): ${o.reason}`

const deliveries = Effect.map(Outbox.deliverDue, (sent) =>
  [
    `Delivered ${sent.filter((d) => d.outcome === "delivered").length}, to retry ${sent.filter((d) => d.outcome === "retry").length}, dead letter ${sent.filter((d) => d.outcome === "dead").length}`,
    ...sent.filter((d) => d.outcome !== "delivered").map((d) => `  ${d.reference} ${d.recipient} ${d.outcome}: ${d.detail}`)
  ].join("\n"))

const grant = Command.make(
  "grant",
  {
    config,
    occurrence: Options.text("occurrence").pipe(Options.withDescription("the occurrence reference, e.g. 43/261101/26")),
    child: Options.text("child").pipe(Options.withDescription("the child's person reference in the source, e.g. P-10011")),
    by,
    role: Options.text("role").pipe(Options.withDescription("their role, e.g. 'Detective Inspector, MASH': cited in the decision")),
    reason,
    recipient: Options.text("recipient").pipe(
      Options.optional,
      Options.withDescription("only this recipient, as `policy explain` names it (setting:URN); default every recipient of the child")
    )
  },
  (options) =>
    withRegion(options.config, Effect.gen(function*() {
      const granted = yield* Overrides.grant({
        occurrence: options.occurrence,
        child: options.child,
        recipient: Option.getOrUndefined(options.recipient),
        by: options.by,
        role: options.role,
        reason: options.reason
      })
      yield* Console.log(`Recorded ${describe(granted.override)}.`)
      yield* Console.log(`\nDecided again (version ${granted.version}):\n${Explain.format(granted.decided.decisions)}`)
      yield* Console.log(`\nNotifications created ${granted.decided.notificationsCreated}`)
      for (const q of granted.decided.queued) {
        if (q.adds !== undefined) yield* Console.log(`  ${q.reference} to ${q.recipient}: adds the child to ${q.adds}, which it already has for this version`)
      }
      yield* Console.log(yield* deliveries)
    }))
).pipe(Command.withDescription("record an override of a sensitive-case withhold for a child of an occurrence, and decide it again at once"))

const list = Command.make(
  "list",
  { config, all: Options.boolean("all").pipe(Options.withDescription("revoked overrides too")) },
  ({ all, config }) =>
    withStorage(config, Effect.gen(function*() {
      const overrides = yield* Overrides.list({ all })
      if (overrides.length === 0) return yield* Console.log(`No ${all ? "" : "live "}overrides.`)
      yield* Console.log(`${"id".padStart(6)}  granted (UTC)     status   occurrence / child / recipient  by (role): reason`)
      for (const o of overrides) {
        yield* Console.log([
          o.id.padStart(6),
          o.grantedAt.toISOString().slice(0, 16).replace("T", " "),
          (o.revokedAt === null ? "live" : "revoked").padEnd(7),
          `${o.occurrence} / ${o.child} / ${o.recipient ?? "all"}`,
          `${o.by} (${o.role}): ${o.reason}`,
          o.revokedAt === null ? "" : `— revoked ${o.revokedAt.toISOString().slice(0, 16).replace("T", " ")} by ${o.revokedBy ?? "?"}: ${o.revocation ?? ""}`
        ].join("  ").trimEnd())
      }
    }))
).pipe(Command.withDescription("list overrides, newest first (live ones unless --all)"))

const revoke = Command.make(
  "revoke",
  { config, by, reason, id: Args.text({ name: "ID" }).pipe(Args.withDescription("the override's id, as `override list` shows it")) },
  ({ by, config, id, reason }) =>
    withRegion(config, Effect.gen(function*() {
      const revoked = yield* Overrides.revoke(id, { by, reason })
      yield* Console.log(`Revoked ${describe(revoked.override)}.`)
      yield* Console.log(`\nDecided again:\n${Explain.format(revoked.decided.decisions)}`)
      for (const w of revoked.decided.queued.filter((q) => q.kind === "withdrawal")) {
        yield* Console.log(`Withdrawal ${w.reference} is queued for ${w.recipient}, which held an earlier version (TVP ISA 4.1).`)
      }
      for (const reference of revoked.cancelled) yield* Console.log(`Cancelled ${reference}: it had not been attempted, so nothing was sent.`)
      for (const reference of revoked.mayHaveArrived) {
        yield* Console.log(
          `${reference} was delivered or attempted, so it may have reached its recipient and cannot be unsent (any further attempt is stopped); \`outbox withdraw ${reference}\` asks the recipient to delete it (TVP ISA 4.1).`
        )
      }
      for (const reference of revoked.keptForOthers) {
        yield* Console.log(`${reference} also carries other children for its recipient and is left as it is.`)
      }
    }))
).pipe(Command.withDescription("revoke an override: the case is withheld again; a released notification not yet attempted is cancelled"))

export const command = Command.make("override").pipe(
  Command.withDescription("overrides of a sensitive-case withhold (TVP ISA 3): grant, list, revoke"),
  Command.withSubcommands([grant, list, revoke])
)
