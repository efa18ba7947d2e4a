/**
 * The SPOC's alert email: what it says (ids, keys and what to do — never a notification's
 * content), and sending it through a real `smtp-server` on loopback offering STARTTLS with the
 * demo certificate: alerts raised together are one email, a relay failure is logged without
 * addresses or credentials and does not fail the scan, and nothing goes to a relay without TLS.
 * The store is `Sql.layerTest`: DATABASE_URL when set, else embedded PGlite.
 */
import { AuditLog } from "@encompass/audit"
import { ActiveAgreement, ActiveChannels, Alerts, DeadlineWatch, Outbox } from "@encompass/pipeline"
import { SecureEmailChannel, SecureEmailConfig } from "@encompass/channel-secure-email"
import { Sql, Vault } from "@encompass/store"
import { describe, expect, it, layer } from "@effect/vitest"
import { Duration, Effect, Exit, HashMap, Layer, List, Logger, Schema, Scope } from "effect"
import { simpleParser } from "mailparser"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SMTPServer } from "smtp-server"
import * as AgreementFiles from "../src/AgreementFiles.js"
import * as PluginSettings from "../src/PluginSettings.js"
import * as RegionConfig from "../src/RegionConfig.js"
import * as SpocAlerts from "../src/SpocAlerts.js"
import { demo, tls, until } from "./support/Gateway.js"

const context = { region: "thames-valley", configFile: "/etc/encompass/region.yaml" }
const deadline = new Date("2026-11-23T08:30:00.000Z")
const ids = { recipient: "setting:100001", channel: "secure-email" }

const deadLetter = (reference: string, at: Date = deadline): Alerts.Alert => ({
  ...ids,
  kind: "dead-letter",
  reference,
  deadline: at,
  state: "dead",
  attempts: 8,
  reason: "attempts-exhausted"
})
const missed = (reference: string, at: Date = deadline): Alerts.Alert => ({ ...ids, kind: "missed", reference, deadline: at, state: "queued", attempts: 3 })
const atRisk = (reference: string, at: Date = deadline): Alerts.Alert => ({ ...ids, kind: "at-risk", reference, deadline: at, state: "queued", attempts: 1 })

describe("SpocAlerts.message", () => {
  it("a dead letter's email names the reference, recipient key, channel, deadline, state, attempts and reason, and what to do — nothing else", () => {
    const email = SpocAlerts.message([deadLetter("EG-1A2B-3C4D-5E6F")], context)
    expect(email.subject).toBe("[Encompass thames-valley] Notification EG-1A2B-3C4D-5E6F was dead-lettered")
    expect(email.text).toBe([
      "The Operation Encompass gateway of region thames-valley raised this alert.",
      "",
      "DEAD LETTERS: delivery given up, nothing will try again (1)",
      "",
      "  EG-1A2B-3C4D-5E6F  setting:100001  secure-email  deadline 2026-11-23 08:30 UTC  dead, 8 attempts  reason attempts-exhausted",
      "",
      "What to do: `show` gives the error (the relay, the directory entry, the attachment password). Once the cause is fixed, `retry` queues the notification again; `cancel` withdraws it for good.",
      "",
      "  encompass outbox show EG-1A2B-3C4D-5E6F --config /etc/encompass/region.yaml",
      "  encompass outbox retry EG-1A2B-3C4D-5E6F --config /etc/encompass/region.yaml",
      "  encompass outbox cancel EG-1A2B-3C4D-5E6F --reason \"WHY\" --config /etc/encompass/region.yaml",
      "",
      "This email carries references and recipient keys only, never a notification's content.",
      "Each alert is also in the gateway's log and audit log; `encompass outbox list` shows the current state.",
      ""
    ].join("\n"))
  })

  it("a batch is one email: missed first, then dead letters, then at risk, each by deadline; the subject counts each kind", () => {
    const later = new Date("2026-11-24T08:30:00.000Z")
    const email = SpocAlerts.message(
      [atRisk("EG-0000-0000-0005", later), deadLetter("EG-0000-0000-0004"), missed("EG-0000-0000-0003", later), missed("EG-0000-0000-0002")],
      context
    )
    expect(email.subject).toBe("[Encompass thames-valley] 4 notification alerts: 2 missed, 1 dead letter, 1 at risk")
    const at = (text: string) => email.text.indexOf(text)
    const order = ["MISSED", "EG-0000-0000-0002  ", "EG-0000-0000-0003  ", "DEAD LETTERS", "EG-0000-0000-0004  ", "AT RISK", "EG-0000-0000-0005  "]
    expect(order.map(at).every((i, n, all) => i >= 0 && (n === 0 || i > (all[n - 1] ?? -1)))).toBe(true)
    expect(email.text).toContain("  EG-0000-0000-0003  setting:100001  secure-email  deadline 2026-11-24 08:30 UTC  queued, 3 attempts\n")
    // An at-risk notification is still being tried: only `show` is offered for it.
    expect(email.text).toContain("  encompass outbox show EG-0000-0000-0005 --config /etc/encompass/region.yaml\n\nThis email")
    expect(email.text).not.toContain("retry EG-0000-0000-0005")
  })

  it("past 50 of a kind the rest are counted, one `outbox list` away, so an outage's email stays readable", () => {
    const many = Array.from({ length: 120 }, (_, i) => deadLetter(`EG-0000-0000-${String(i).padStart(4, "0")}`))
    const email = SpocAlerts.message(many, context)
    expect(email.subject).toBe("[Encompass thames-valley] 120 notification alerts: 120 dead letters")
    expect(email.text.split("\n").filter((l) => l.startsWith("  EG-"))).toHaveLength(SpocAlerts.listedPerKind)
    expect(email.text).toContain("  … and 70 more: encompass outbox list --state dead --config /etc/encompass/region.yaml\n")
    expect(email.text).toContain("(and likewise for each reference above)")
  })
})

// ---- a mail peer ---------------------------------------------------------------------------

interface Received {
  readonly secure: boolean
  readonly to: ReadonlyArray<string>
  readonly raw: Buffer
}

interface Relay {
  readonly port: number
  readonly received: Array<Received>
  /** While set, every recipient is refused (550) with this reply; `%a` quotes the address. */
  refuse: string | undefined
}

/** A force relay on loopback: STARTTLS with the demo certificate (unless `startTls: false`), AUTH when `password` is set. */
const relay = (options: { readonly startTls?: boolean; readonly password?: string } = {}): Effect.Effect<Relay, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly state: Relay; readonly server: SMTPServer }, Error>((resume) => {
      const state: { port: number; received: Array<Received>; refuse: string | undefined } = { port: 0, received: [], refuse: undefined }
      const server = new SMTPServer({
        key: tls.key,
        cert: tls.cert,
        logger: false,
        authOptional: options.password === undefined,
        disabledCommands: [...(options.startTls === false ? ["STARTTLS"] : []), ...(options.password === undefined ? ["AUTH"] : [])],
        onAuth(auth, _session, callback) {
          if (auth.password === options.password) callback(null, { user: auth.username })
          else callback(new Error("invalid login"))
        },
        onRcptTo(address, _session, callback) {
          if (state.refuse === undefined) return callback()
          callback(Object.assign(new Error(state.refuse.replace("%a", address.address)), { responseCode: 550 }))
        },
        onData(stream, session, callback) {
          const chunks: Array<Buffer> = []
          stream.on("data", (chunk: Buffer) => chunks.push(chunk))
          stream.on("end", () => {
            state.received.push({ secure: session.secure, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) })
            callback(null, "Saved")
          })
        }
      })
      server.once("error", (e: Error) => resume(Effect.fail(e)))
      server.listen(0, "127.0.0.1", () => {
        server.on("error", () => undefined)
        const address = server.server.address()
        state.port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ state, server }))
      })
    }),
    ({ server }) => Effect.async<void>((resume) => server.close(() => resume(Effect.void)))
  ).pipe(Effect.map(({ state }) => state))

const spoc = "encompass-spoc@police.example"
const relayPassword = "relay-Secret-4242"

const settings = (peer: Relay, extra: Record<string, unknown> = {}) =>
  Schema.decodeUnknownSync(SecureEmailConfig.RelaySettings)({
    host: "127.0.0.1",
    port: peer.port,
    ca: tls.cert,
    from: "Operation Encompass <encompass@police.example>",
    connectionTimeoutMs: 5_000,
    greetingTimeoutMs: 5_000,
    socketTimeoutMs: 10_000,
    ...extra
  })

const options = (peer: Relay, overrides: Partial<SpocAlerts.Options> = {}): SpocAlerts.Options => ({
  ...context,
  to: [spoc],
  relay: settings(peer),
  wait: "200 millis",
  interval: "1 hour",
  timeout: "10 seconds",
  ...overrides
})

/** The sink in a scope of its own, so a test can close it (as shutdown does) when it chooses. */
const open = (o: SpocAlerts.Options) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const sink = yield* Scope.extend(SpocAlerts.make(o), scope)
    return { sink, close: Scope.close(scope, Exit.void) }
  })

const arrived = (peer: Relay, count: number, timeoutMs = 20_000) =>
  Effect.promise(() => until(`${count} email(s) at the relay`, () => peer.received.length >= count, timeoutMs))

const sleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

const parsed = (received: Received | undefined) =>
  received === undefined ? Effect.dieMessage("no email") : Effect.promise(() => simpleParser(received.raw))

interface Logged {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

/** A logger that keeps what it is given, for the whole test (the sink's fiber inherits it). */
const capturing = () => {
  const logged: Array<Logged> = []
  const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ annotations, logLevel, message }) => {
    logged.push({ level: logLevel.label, message: List.isList(message) ? List.toArray(message) : message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
  }))
  return { logged, logger }
}

// ---- notifications in the store -----------------------------------------------------------

let sequence = 0

/**
 * An undelivered notification as the outbox holds it, its next attempt tomorrow (only the
 * deadline watch sees it) unless `dueNow`. Its body is a stand-in with a child's name, to show
 * the alert path never reads it.
 */
const insert = (deadlineAt: Date, options: { readonly body?: unknown; readonly dueNow?: boolean } = {}) =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    sequence += 1
    const reference = `EG-7E57-${Date.now().toString(16).slice(-4).toUpperCase()}-${String(sequence).padStart(4, "0")}`
    const body = options.body ?? { child: { givenName: "Amelia", familyName: "Hartwell" } }
    const nextAttemptAt = new Date(Date.now() + (options.dueNow === true ? -1_000 : 86_400_000))
    yield* sql.query`INSERT INTO notification (key, reference, source, occurrence, version, recipient, channel, deadline, body, children,
        attempts, next_attempt_at)
      VALUES (${reference}, ${reference}, 'niche-rms', ${`43/${9000 + sequence}/26`}, 1, 'setting:100001', 'secure-email', ${deadlineAt},
        ${JSON.stringify(body)}::jsonb, '{P1}', 2, ${nextAttemptAt})`
    return reference
  })

const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000)

const TestLive = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

layer(TestLive, { excludeTestServices: true, timeout: 120_000 })("SpocAlerts", (it) => {
  it.scoped("a deadline scan's alerts reach the SPOC as one email over STARTTLS, after the wait for companions", () =>
    Effect.gen(function*() {
      const peer = yield* relay()
      const refs = [yield* insert(hoursFromNow(-1)), yield* insert(hoursFromNow(-0.5)), yield* insert(hoursFromNow(1))]
      const { close, sink } = yield* open(options(peer, { wait: "1 second" }))
      const alerts = yield* DeadlineWatch.scan({ atRiskLead: Duration.hours(2) }).pipe(Effect.provideService(Alerts.Alerts, sink))
      expect(alerts.filter((a) => refs.includes(a.reference)).map((a) => a.kind)).toEqual(["missed", "missed", "at-risk"])
      expect(peer.received).toHaveLength(0)
      yield* arrived(peer, 1)
      yield* sleep(500)
      expect(peer.received).toHaveLength(1)

      const [received] = peer.received
      expect(received?.secure).toBe(true)
      expect(received?.to).toEqual([spoc])
      const mail = yield* parsed(received)
      expect(mail.subject).toBe("[Encompass thames-valley] 3 notification alerts: 2 missed, 1 at risk")
      expect(mail.from?.value).toEqual([{ name: "Operation Encompass", address: "encompass@police.example" }])
      expect(mail.headers.get("auto-submitted")).toBe("auto-generated")
      for (const reference of refs) expect(mail.text).toContain(`  ${reference}  setting:100001  secure-email  deadline `)
      expect(mail.text).toContain(`encompass outbox show ${refs[0]} --config /etc/encompass/region.yaml`)
      // The notification's content stays in the store.
      expect(received?.raw.toString("utf8")).not.toMatch(/Amelia|Hartwell/)
      yield* close
    }))

  it.scoped("alerts raised while an email waits out its interval go together in the next one, not one email each", () =>
    Effect.gen(function*() {
      const peer = yield* relay()
      const { close, sink } = yield* open(options(peer, { interval: "2 seconds" }))
      yield* Effect.forEach(["EG-0000-0001-0001", "EG-0000-0001-0002"], (r) => sink.notify(deadLetter(r)))
      yield* arrived(peer, 1)
      yield* Effect.forEach(["EG-0000-0001-0003", "EG-0000-0001-0004", "EG-0000-0001-0005"], (r) => sink.notify(deadLetter(r)))
      yield* sleep(1_000)
      expect(peer.received).toHaveLength(1)
      yield* arrived(peer, 2)
      const [first, second] = [yield* parsed(peer.received[0]), yield* parsed(peer.received[1])]
      expect(first.subject).toBe("[Encompass thames-valley] 2 notification alerts: 2 dead letters")
      expect(second.subject).toBe("[Encompass thames-valley] 3 notification alerts: 3 dead letters")
      expect(second.text).not.toContain("EG-0000-0001-0001")
      yield* close
      expect(peer.received).toHaveLength(2)
    }))

  it.scoped("closing the sink (shutdown, or the end of `report deadlines`) sends what is pending at once", () =>
    Effect.gen(function*() {
      const peer = yield* relay()
      const { close, sink } = yield* open(options(peer, { wait: "1 hour" }))
      yield* sink.notify(missed("EG-0000-0002-0001"))
      yield* close
      expect(peer.received).toHaveLength(1)
      expect((yield* parsed(peer.received[0])).subject).toBe("[Encompass thames-valley] Notification EG-0000-0002-0001 missed its deadline")
    }))

  it.scoped("a relay failure is logged without the address or password and does not fail the scan; its alerts go in the next email", () =>
    Effect.gen(function*() {
      const { logged, logger } = capturing()
      yield* Effect.gen(function*() {
        const peer = yield* relay({ password: relayPassword })
        peer.refuse = `<%a> mailbox unavailable (login encompass/${relayPassword})`
        const reference = yield* insert(hoursFromNow(-2))
        const { close, sink } = yield* open(options(peer, {
          relay: settings(peer, { auth: { user: "encompass", pass: relayPassword } }),
          wait: "100 millis",
          interval: "1500 millis"
        }))
        const alerts = yield* DeadlineWatch.scan({ atRiskLead: Duration.hours(2) }).pipe(Effect.provideService(Alerts.Alerts, sink))
        expect(alerts.map((a) => a.reference)).toContain(reference)
        const notSent = (l: Logged) => l.level === "ERROR" && String(l.message).startsWith("SPOC alert email not sent")
        yield* Effect.promise(() => until("the failure to be logged", () => logged.some(notSent), 20_000))
        const failure = logged.find(notSent)
        expect(failure?.message).toEqual(["SPOC alert email not sent; its alerts go in the next one"])
        expect(failure?.annotations).toMatchObject({ alerts: 1, missed: 1, reason: "Rejected", detail: expect.stringContaining("550") })
        expect(String(failure?.annotations["detail"])).toContain("[address]")
        const everything = JSON.stringify(logged)
        expect(everything).not.toContain(spoc)
        expect(everything).not.toContain(relayPassword)
        expect(peer.received).toHaveLength(0)

        // The relay recovers: the next email, an interval later, carries the alert the failed one had.
        peer.refuse = undefined
        yield* arrived(peer, 1)
        expect((yield* parsed(peer.received[0])).text).toContain(`  ${reference}  setting:100001  secure-email`)
        yield* close
      }).pipe(Effect.provide(logger))
    }))

  it.scoped("nothing is sent to a relay that does not offer STARTTLS; the failure is logged as TLS", () =>
    Effect.gen(function*() {
      const { logged, logger } = capturing()
      yield* Effect.gen(function*() {
        const peer = yield* relay({ startTls: false })
        const { close, sink } = yield* open(options(peer, { wait: "100 millis" }))
        yield* sink.notify(deadLetter("EG-0000-0003-0001"))
        yield* Effect.promise(() => until("the failure to be logged", () => logged.some((l) => l.level === "ERROR"), 20_000))
        yield* close
        expect(peer.received).toHaveLength(0)
      }).pipe(Effect.provide(logger))
      const errors = logged.filter((l) => l.level === "ERROR")
      expect(errors.map((l) => l.annotations["reason"])).toEqual(["Tls", "Tls"])
      // The second is shutdown's last try: nothing is left pending silently.
      expect(errors[1]?.message).toEqual(["SPOC alert email not sent before shutdown; the alerts are in the log and audit log"])
    }))

  it.scoped("a notification the delivery run dead-letters reaches the SPOC with its reason", () =>
    Effect.gen(function*() {
      const peer = yield* relay()
      // Stored unreadable: the outbox dead-letters it without calling the channel.
      const reference = yield* insert(hoursFromNow(12), { body: { unreadable: true }, dueNow: true })
      const baseline = yield* AgreementFiles.loadBaseline(AgreementFiles.baselineFile)
      const agreement = yield* AgreementFiles.loadAgreement(AgreementFiles.defaultAgreementFile, baseline)
      const channelConfig = yield* PluginSettings.load(SecureEmailConfig.SecureEmailConfig, {
        settings: { host: "127.0.0.1", port: peer.port, ca: tls.cert, from: "Operation Encompass <encompass@police.example>", messageIdDomain: "police.example", senderName: "Test Police", contact: "encompass@police.example" },
        passwords: path.join(demo, "passwords.json"),
        inline: { file: "settings", path: [] }
      })
      const { close, sink } = yield* open(options(peer, { wait: "100 millis" }))
      const lines = yield* Outbox.deliverDue.pipe(
        Effect.provideService(Alerts.Alerts, sink),
        Effect.provide(Layer.merge(
          Layer.scoped(ActiveChannels.ActiveChannels, Effect.map(SecureEmailChannel.make(channelConfig), (plugin) => ActiveChannels.ActiveChannels.fromPlugins([plugin]))),
          ActiveAgreement.ActiveAgreement.layer(agreement)
        ))
      )
      expect(lines.filter((l) => l.reference === reference).map((l) => l.outcome)).toEqual(["dead"])
      yield* arrived(peer, 1)
      const mail = yield* parsed(peer.received[0])
      expect(mail.subject).toBe(`[Encompass thames-valley] Notification ${reference} was dead-lettered`)
      expect(mail.text).toContain(`  ${reference}  setting:100001  secure-email  deadline `)
      expect(mail.text).toContain("dead, 3 attempts  reason unreadable")
      yield* close
    }))

  it.scoped("from the region file: without settings of its own the email goes through the channel's relay; without alerts.email nothing is sent", () =>
    Effect.gen(function*() {
      const peer = yield* relay()
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), "spoc-alerts-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true })))
      fs.writeFileSync(path.join(folder, "relay.json"), JSON.stringify({
        host: "127.0.0.1",
        port: peer.port,
        ca: tls.cert,
        from: "Operation Encompass <encompass@police.example>",
        messageIdDomain: "police.example",
        senderName: "Test Police",
        contact: "encompass@police.example"
      }))
      const lines = [
        "version: 1",
        "region: thames-valley",
        "agreement: tvp.yaml",
        "directory: directory.csv",
        "sources: [{ id: niche-rms }]",
        "channels: [{ id: secure-email, settings: relay.json, passwords: passwords.json }]"
      ]
      const file = path.join(folder, "region.yaml")
      const region = yield* RegionConfig.parse([...lines, "alerts:", `  email: { to: [${spoc}], wait: 100 millis }`].join("\n"), file, folder)
      const scope = yield* Scope.make()
      const built = yield* Layer.buildWithScope(SpocAlerts.fromRegion(region, file), scope)
      yield* Effect.flatMap(Alerts.Alerts, (s) => s.notify(atRisk("EG-0000-0004-0001"))).pipe(Effect.provide(built))
      yield* Scope.close(scope, Exit.void)
      expect(peer.received.map((r) => r.to)).toEqual([[spoc]])
      expect((yield* parsed(peer.received[0])).text).toContain(`encompass outbox show EG-0000-0004-0001 --config ${file}`)

      const plain = yield* RegionConfig.parse(lines.join("\n"), file, folder)
      expect(SpocAlerts.fromRegion(plain, file)).toBe(Alerts.Alerts.logOnly)
      // Settings that cannot be read stop the start, naming the file.
      const missing = yield* RegionConfig.parse([...lines, "alerts:", `  email: { to: [${spoc}], settings: nowhere.json }`].join("\n"), file, folder)
      const error = yield* Effect.flip(Layer.build(SpocAlerts.fromRegion(missing, file)).pipe(Effect.scoped))
      expect(error.message).toBe(`${path.join(folder, "nowhere.json")} cannot be used:\n  cannot read (ENOENT)`)
    }))
})
