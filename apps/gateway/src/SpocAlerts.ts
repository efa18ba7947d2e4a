/**
 * Alerts by email to the force's SPOC (the Single Point of Contact for Operation Encompass): the
 * region's `Alerts` sink when its file has `alerts.email` (DESIGN.md §6). An email lists its
 * alerts by kind — missed, dead letters, at risk — each with the notification's reference, the
 * recipient's key (`setting:123456`: a setting, not a person), channel, deadline, state and
 * attempts, and the `encompass outbox` commands to act on them. Subject and body are built from
 * those fields alone: a notification's content never leaves the store.
 *
 * Batching. A relay outage dead-letters hundreds of notifications within minutes, and one scan
 * raises a morning's misses at once; an email each would bury the SPOC and hide the one that
 * matters. So, as Alertmanager groups alerts, `notify` only records the alert: the first starts
 * a short `wait` for its companions, then one email lists them all, and after an email the next
 * waits at least `interval`, listing everything raised meanwhile. An outage sends a handful of
 * emails, each a complete list of what is new. `notify` never waits for the relay, so the
 * delivery worker and the deadline watch are never slowed by it.
 *
 * Failures. Sending is over TLS only (STARTTLS required, or implicit TLS) and time-boxed; a
 * failed email is logged — the SMTP code and reply, with addresses and credentials removed —
 * and its alerts are listed again in the next email, an `interval` later. The alerts are already
 * in the audit log, the log and the metrics, so none is lost if the email never goes. When the
 * scope closes (shutdown) the alerts not yet sent go at once: `encompass report deadlines`, a
 * short-lived process, sends its scan's alerts as one email before it exits.
 */
import { SecureEmailConfig, SmtpRelay } from "@encompass/channel-secure-email"
import { Alerts } from "@encompass/pipeline"
import { Data, Duration, Effect, Fiber, Layer, Queue, Ref } from "effect"
import type { Scope } from "effect"
import * as path from "node:path"
import { createTransport } from "nodemailer"
import type { NodemailerError } from "nodemailer"
import * as PluginSettings from "./PluginSettings.js"
import type { RegionConfig, RegionConfigError } from "./RegionConfig.js"

export interface Options {
  /** The region's id, in the subject. */
  readonly region: string
  /** The region file, named in the commands the email gives. */
  readonly configFile: string
  readonly to: ReadonlyArray<string>
  readonly relay: SecureEmailConfig.RelaySettings
  /** How long an email waits after its first alert for others to join it. */
  readonly wait: Duration.DurationInput
  /** The least time between two emails. */
  readonly interval: Duration.DurationInput
  /** How long sending one email may take. */
  readonly timeout: Duration.DurationInput
}

export interface Email {
  readonly subject: string
  readonly text: string
}

/** Why an email did not go. Only ever logged, so a module-local error. */
class AlertEmailError extends Data.TaggedError("AlertEmailError")<{
  readonly reason: "Timeout" | "Tls" | "Auth" | "Rejected" | "Transport"
  readonly detail: string
}> {}

/** The most pressing first: a missed deadline, then delivery given up, then a deadline near. */
const kinds: ReadonlyArray<Alerts.Kind> = ["missed", "dead-letter", "at-risk"]

/** Per email, per kind: enough to act on; the rest are one `outbox list` away. */
export const listedPerKind = 50

const headings: Record<Alerts.Kind, string> = {
  missed: "MISSED: not delivered by the deadline",
  "dead-letter": "DEAD LETTERS: delivery given up, nothing will try again",
  "at-risk": "AT RISK: not delivered yet, the deadline is near"
}

const advice: Record<Alerts.Kind, string> = {
  missed:
    "The setting may not know of the incident. Make sure it is told by the route your agreement gives for a failed notification. `show` gives the last error; once the cause is fixed, `retry` queues the notification again, or `cancel` withdraws it if it was passed on another way.",
  "dead-letter":
    "`show` gives the error (the relay, the directory entry, the attachment password). Once the cause is fixed, `retry` queues the notification again; `cancel` withdraws it for good.",
  "at-risk":
    "`show` says why it is still waiting (the relay, retries pending). If it cannot go in time, be ready to tell the setting by the route your agreement gives for a failed notification."
}

/** The commands for one notification: `show` always; `retry` and `cancel` once nothing will try again by itself. */
const commands = (kind: Alerts.Kind, reference: string, config: string) => [
  `  encompass outbox show ${reference} ${config}`,
  ...(kind === "at-risk" ? [] : [
    `  encompass outbox retry ${reference} ${config}`,
    `  encompass outbox cancel ${reference} --reason "WHY" ${config}`
  ])
]

const inSubject: Record<Alerts.Kind, (n: number) => string> = {
  missed: (n) => `${n} missed`,
  "dead-letter": (n) => `${n} dead letter${n === 1 ? "" : "s"}`,
  "at-risk": (n) => `${n} at risk`
}

const alone: Record<Alerts.Kind, string> = {
  missed: "missed its deadline",
  "dead-letter": "was dead-lettered",
  "at-risk": "is at risk of missing its deadline"
}

const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`

const line = (alert: Alerts.Alert) =>
  [
    `  ${alert.reference}`,
    alert.recipient,
    alert.channel,
    `deadline ${utc(alert.deadline)}`,
    `${alert.state}, ${alert.attempts} attempt${alert.attempts === 1 ? "" : "s"}`,
    ...(alert.kind === "dead-letter" ? [`reason ${alert.reason}`] : [])
  ].join("  ")

const byDeadline = (a: Alerts.Alert, b: Alerts.Alert) =>
  a.deadline.getTime() - b.deadline.getTime() || a.reference.localeCompare(b.reference)

/**
 * The email for a batch of alerts: built from ids, keys, channel, deadline, state, attempts and
 * the dead reason alone — nothing else of the notification is here to leak.
 */
export const message = (alerts: ReadonlyArray<Alerts.Alert>, context: { readonly region: string; readonly configFile: string }): Email => {
  const config = `--config ${context.configFile}`
  const groups = kinds
    .map((kind) => {
      // One line per notification and kind, even if a batch carried an alert twice.
      const unique = new Map(alerts.filter((a) => a.kind === kind).map((a) => [a.reference, a]))
      return { kind, alerts: [...unique.values()].sort(byDeadline) }
    })
    .filter((g) => g.alerts.length > 0)
  const total = groups.reduce((n, g) => n + g.alerts.length, 0)
  const only = total === 1 ? groups[0] : undefined
  const subject = only === undefined
    ? `[Encompass ${context.region}] ${total} notification alerts: ${groups.map((g) => inSubject[g.kind](g.alerts.length)).join(", ")}`
    : `[Encompass ${context.region}] Notification ${only.alerts[0]?.reference} ${alone[only.kind]}`
  const sections = groups.map(({ alerts: of, kind }) => {
    const listed = of.slice(0, listedPerKind)
    const states = new Set(of.map((a) => a.state))
    const state = states.size === 1 ? ` --state ${[...states][0]}` : ""
    return [
      `${headings[kind]} (${of.length})`,
      "",
      ...listed.map(line),
      ...(of.length > listed.length ? [`  … and ${of.length - listed.length} more: encompass outbox list${state} ${config}`] : []),
      "",
      `What to do: ${advice[kind]}`,
      "",
      ...commands(kind, listed[0]?.reference ?? "", config),
      ...(of.length > 1 ? ["  (and likewise for each reference above)"] : []),
      ""
    ].join("\n")
  })
  const text = [
    `The Operation Encompass gateway of region ${context.region} raised ${total === 1 ? "this alert" : `these ${total} alerts`}.`,
    "",
    ...sections,
    "This email carries references and recipient keys only, never a notification's content.",
    "Each alert is also in the gateway's log and audit log; `encompass outbox list` shows the current state.",
    ""
  ].join("\n")
  return { subject, text }
}

const toError = (cause: unknown, secrets: ReadonlyArray<string>): AlertEmailError => {
  if (!(cause instanceof Error)) return new AlertEmailError({ reason: "Transport", detail: "unexpected failure from the SMTP client" })
  const { code, responseCode, response } = cause as NodemailerError
  const detail = SmtpRelay.redact(`${code ?? "error"}: ${response ?? cause.message}`, secrets)
  switch (code) {
    case "ETIMEDOUT":
      return new AlertEmailError({ reason: "Timeout", detail })
    case "ETLS":
    case "EREQUIRETLS":
      return new AlertEmailError({ reason: "Tls", detail })
    case "EAUTH":
    case "ENOAUTH":
      return new AlertEmailError({ reason: "Auth", detail })
  }
  return new AlertEmailError({ reason: responseCode !== undefined && responseCode >= 500 ? "Rejected" : "Transport", detail })
}

const counts = (batch: ReadonlyArray<Alerts.Alert>) => ({
  alerts: batch.length,
  missed: batch.filter((a) => a.kind === "missed").length,
  deadLetters: batch.filter((a) => a.kind === "dead-letter").length,
  atRisk: batch.filter((a) => a.kind === "at-risk").length
})

/** The sink, sending from a background fiber for the life of the scope; see the module comment. */
export const make = (options: Options): Effect.Effect<Alerts.Alerts["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const wait = Duration.decode(options.wait)
    const interval = Duration.decode(options.interval)
    const timeout = Duration.decode(options.timeout)
    const secrets = SmtpRelay.secretsOf(options.relay)
    const context = { region: options.region, configFile: options.configFile }
    const transporter = yield* Effect.acquireRelease(
      Effect.sync(() => createTransport(SmtpRelay.connectionOptions(options.relay))),
      (transporter) => Effect.sync(() => transporter.close())
    )
    const pending = yield* Ref.make<ReadonlyArray<Alerts.Alert>>([])
    // A sliding queue of one: any number of alerts raised meanwhile is one wake-up.
    const wake = yield* Queue.sliding<void>(1)

    const send = (batch: ReadonlyArray<Alerts.Alert>): Effect.Effect<void, AlertEmailError> => {
      const email = message(batch, context)
      const urgent = batch.some((a) => a.kind !== "at-risk")
      return Effect.tryPromise({
        try: (signal) =>
          transporter.sendMail({
            from: options.relay.from,
            to: [...options.to],
            subject: email.subject,
            text: email.text,
            priority: urgent ? "high" : "normal",
            // An automated message: no out-of-office replies back to the force's mailbox (RFC 3834).
            headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
            signal
          }),
        catch: (cause) => toError(cause, secrets)
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new AlertEmailError({ reason: "Timeout", detail: `no answer within ${Duration.format(timeout)}` })
        }),
        Effect.flatMap((info) =>
          Effect.zipRight(
            Effect.logInfo("SPOC alert email sent").pipe(Effect.annotateLogs(counts(batch))),
            info.rejected.length === 0 ? Effect.void : Effect.logWarning("the relay refused some SPOC alert addresses").pipe(
              Effect.annotateLogs({ refused: info.rejected.length, of: options.to.length })
            )
          )
        )
      )
    }

    const requeue = (batch: ReadonlyArray<Alerts.Alert>) => Ref.update(pending, (later) => [...batch, ...later])

    /**
     * Sends everything pending as one email. Taking the batch is uninterruptible and an
     * interrupted send puts it back, so shutdown's final flush still has it.
     */
    const sendPending = (final: boolean) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          yield* Queue.takeAll(wake)
          const batch = yield* Ref.getAndSet(pending, [])
          if (batch.length === 0) return
          yield* restore(send(batch)).pipe(
            Effect.onInterrupt(() => requeue(batch)),
            Effect.catchAll((error) =>
              final
                ? Effect.logError("SPOC alert email not sent before shutdown; the alerts are in the log and audit log").pipe(
                  Effect.annotateLogs({ ...counts(batch), reason: error.reason, detail: error.detail })
                )
                : Effect.zipRight(
                  Effect.logError("SPOC alert email not sent; its alerts go in the next one").pipe(
                    Effect.annotateLogs({ ...counts(batch), reason: error.reason, detail: error.detail, nextTry: Duration.format(interval) })
                  ),
                  Effect.zipRight(requeue(batch), Queue.offer(wake, undefined))
                )
            )
          )
        })
      )

    const loop = Effect.gen(function*() {
      while (true) {
        yield* Queue.take(wake)
        yield* Effect.sleep(wait)
        yield* sendPending(false)
        yield* Effect.sleep(interval)
      }
    })

    const fiber = yield* Effect.forkDaemon(loop)
    // Runs before the transporter closes (finalizers run in reverse order).
    yield* Effect.addFinalizer(() => Effect.zipRight(Fiber.interrupt(fiber), sendPending(true)))

    return {
      notify: (alert) => Effect.zipRight(Ref.update(pending, (all) => [...all, alert]), Queue.offer(wake, undefined))
    }
  })

/** The sink as the pipeline's `Alerts` service. */
export const layer = (options: Options): Layer.Layer<Alerts.Alerts> => Layer.scoped(Alerts.Alerts, make(options))

/**
 * The region's alert sink: the SPOC's email when the file has `alerts.email` — its relay
 * settings, else the secure-email channel's — or the log line alone. Hoist it into one constant
 * per process, so the watch and the delivery worker share one batch.
 */
export const fromRegion = (config: RegionConfig, file: string): Layer.Layer<Alerts.Alerts, RegionConfigError> => {
  const email = config.alerts?.email
  if (email === undefined) return Alerts.Alerts.logOnly
  // RegionConfig.parse refuses alerts.email without settings when secure-email is not enabled.
  const channel = config.channels.findIndex((c) => c.id === "secure-email")
  const relay = PluginSettings.load(
    SecureEmailConfig.RelaySettings,
    { settings: email.settings ?? config.channels[channel]?.settings, inline: { file, path: ["channels", channel, "settings"] } },
    { ignoreExcess: true }
  )
  return Layer.scoped(
    Alerts.Alerts,
    Effect.flatMap(relay, (relay) =>
      make({
        region: config.region,
        configFile: path.resolve(file),
        to: email.to,
        relay,
        wait: email.wait,
        interval: email.interval,
        timeout: email.timeout
      }))
  )
}
