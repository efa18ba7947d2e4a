/**
 * `encompass outbox list|show|retry|cancel|withdraw`: the operator's hands on notifications
 * waiting, sent, dead-lettered or withdrawn. Each command takes the region file, so it opens the same store as
 * `serve`. Nothing here prints a notification's body (the children's details) or sends anything:
 * `retry` re-queues, and the delivery worker of `serve` (or the next ingest) delivers.
 */
import { Args, Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Breach, Corrections, OutboxAdmin } from "@encompass/pipeline"
import { Console, Effect } from "effect"
import * as os from "node:os"

const config = Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)"))
const operator = Options.text("operator").pipe(
  Options.withDefault(os.userInfo().username),
  Options.withDescription("who is acting, for the audit log (default: the login name)")
)
const reference = Args.text({ name: "REFERENCE" }).pipe(Args.withDescription("the notification's reference, as `outbox list` shows it"))

const withStorage = <A, E, R>(file: string, self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(RegionConfig.load(file), (region) => Effect.provide(self, Region.storageLayer(region)))

const time = (date: Date | null) => (date === null ? "-" : date.toISOString().slice(0, 16).replace("T", " "))

const line = (e: OutboxAdmin.Entry) =>
  [
    e.reference,
    e.state.padEnd(9),
    e.kind.padEnd(12),
    String(e.attempts).padStart(8),
    time(e.deadline),
    time(e.nextAttemptAt).padEnd(16),
    e.recipient,
    e.lastError ?? ""
  ].join("  ")

const list = Command.make(
  "list",
  {
    config,
    state: Options.choice("state", ["queued", "delivered", "dead", "cancelled", "all"]).pipe(Options.withDefault("all" as const)),
    limit: Options.integer("limit").pipe(Options.withDefault(100), Options.withDescription("at most this many, newest first"))
  },
  ({ config, limit, state }) =>
    withStorage(config, Effect.gen(function*() {
      const entries = yield* OutboxAdmin.list({ state, limit })
      if (entries.length === 0) return yield* Console.log(`No ${state === "all" ? "" : `${state} `}notifications.`)
      yield* Console.log(`${"reference".padEnd(17)}  state      kind          attempts  deadline (UTC)    next attempt      recipient  last error`)
      for (const entry of entries) yield* Console.log(line(entry))
    }))
).pipe(Command.withDescription("list notifications, newest first (all states unless --state says otherwise)"))

const show = Command.make("show", { config, reference }, ({ config, reference }) =>
  withStorage(config, Effect.gen(function*() {
    const { attempts, entry } = yield* OutboxAdmin.get(reference)
    yield* Console.log([
      `notification  ${entry.reference} (${entry.state})`,
      `occurrence    ${entry.occurrence} version ${entry.version}`,
      ...(entry.supersedes === null ? [] : [`${entry.kind.padEnd(14)}of ${entry.supersedes}`]),
      `recipient     ${entry.recipient} by ${entry.channel}`,
      `deadline      ${entry.deadline.toISOString()}`,
      `created       ${entry.createdAt.toISOString()}`,
      ...(entry.nextAttemptAt === null ? [] : [`next attempt  ${entry.nextAttemptAt.toISOString()}`]),
      ...(entry.deliveredAt === null ? [] : [`delivered     ${entry.deliveredAt.toISOString()}`]),
      ...(entry.cancelledAt === null ? [] : [`cancelled     ${entry.cancelledAt.toISOString()}, ${entry.cancellation ?? ""}`]),
      ...(entry.lastError === null ? [] : [`last error    ${entry.lastError}`]),
      `attempts      ${entry.attempts}`,
      ...attempts.map((a) => `  ${String(a.attempt).padStart(3)}  ${a.at.toISOString()}  ${a.outcome.padEnd(9)}  ${a.detail ?? ""}`)
    ].join("\n"))
  }))).pipe(Command.withDescription("show one notification and its delivery attempts (never its content)"))

const retry = Command.make("retry", { config, operator, reference }, ({ config, operator, reference }) =>
  withStorage(config, Effect.gen(function*() {
    const entry = yield* OutboxAdmin.retry(reference, { operator })
    yield* Console.log(`Notification ${entry.reference} is queued and due now, with a fresh attempt budget; the delivery worker sends it.`)
  }))).pipe(Command.withDescription("re-queue a dead or waiting notification, due now (it does not deliver)"))

const cancel = Command.make(
  "cancel",
  { config, operator, reason: Options.text("reason").pipe(Options.withDescription("why it must not be sent")), reference },
  ({ config, operator, reason, reference }) =>
    withStorage(config, Effect.gen(function*() {
      const entry = yield* OutboxAdmin.cancel(reference, { operator, reason })
      yield* Console.log(`Notification ${entry.reference} is cancelled and will not be sent: ${entry.cancellation ?? reason}`)
    }))
).pipe(Command.withDescription("cancel a queued or dead notification for good: it is not sent (audited); for one already sent, see withdraw"))

const withdraw = Command.make(
  "withdraw",
  {
    config,
    operator,
    note: Options.text("note").pipe(Options.withDescription("why, for the audit log (the school is told only that it was sent in error)")),
    breach: Options.boolean("breach").pipe(
      Options.withDescription("it went to the wrong recipient: also open a breach record, which `breach report` lists (nothing is opened for one never sent)")
    ),
    reference
  },
  ({ breach, config, note, operator, reference }) =>
    Effect.flatMap(RegionConfig.load(config), (region) =>
      Effect.gen(function*() {
        const { opened, withdrawn } = yield* (breach
          ? Effect.map(Breach.withdraw(reference, { operator, note }), (r) => ({ withdrawn: r.withdrawn, opened: r }))
          : Effect.map(Corrections.withdraw(reference, { operator, note }), (withdrawn) => ({ withdrawn, opened: undefined })))
        yield* Console.log(
          withdrawn._tag === "WithdrawalQueued"
            ? `Withdrawal ${withdrawn.withdrawal} of ${withdrawn.reference} is queued for ${withdrawn.recipient}: it tells them it was sent in error and to delete it. The delivery worker sends it.`
            : `Notification ${withdrawn.reference} had not been sent; it is cancelled and will not be.`
        )
        if (opened?.breach !== undefined) {
          yield* Console.log(
            `${opened.alreadyOpen ? "A breach record was already open" : "Breach record opened"} for ${reference} (audit seq ${opened.breach.seq}): ${
              opened.breach.children.length
            } child(ren), data categories ${opened.breach.categories.join(", ") || "none"}. Report it within 72 hours; \`encompass breach report\` lists it.`
          )
        } else if (breach) yield* Console.log("No breach record opened: it never left the gateway.")
      }).pipe(Effect.provide(Region.layer(region, config))))
).pipe(Command.withDescription("withdraw a notification sent in error: its recipient is told to delete it (TVP ISA 4.1); --breach also opens a breach record; audited"))

export const command = Command.make("outbox").pipe(
  Command.withDescription("notifications: list, show, retry, cancel, withdraw"),
  Command.withSubcommands([list, show, retry, cancel, withdraw])
)
