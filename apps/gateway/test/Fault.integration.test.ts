/**
 * Durable delivery through a relay outage (DESIGN.md §6, issue 5): one `encompass serve` process
 * and a schools' relay that first refuses with 4xx (421 at the greeting, 451 after DATA), then
 * drops connections (before the greeting, and mid-DATA with no reply), then recovers. Every
 * notification is delivered after the recovery, each under its own deterministic Message-ID, and
 * none is given up during the outage: retryable failures wait out an exponential back-off and
 * the budget outlasts the outage. One school's address is refused for good with 550 at RCPT TO;
 * its notifications become dead letters at once, carrying the relay's reason for the operator
 * (`encompass outbox show`) and raising an error-level alert that names no person.
 *
 * Each outage phase lasts a few seconds and until it has shown its effect — the 4xx phase until
 * every deliverable notification has been refused (the relay records what it refused and cut by
 * Message-ID) — so a slow machine makes the test longer, not wrong. The back-off is short so the
 * test is quick; the budget is sized, and checked, to outlast the outage several times over.
 * Runs on the store the gateway would use: DATABASE_URL's server, or the embedded PGlite.
 */
import { AuditLog } from "@encompass/audit"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { TestDatabase } from "@encompass/store"
import { Chunk, Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as FaultySink from "./support/FaultySink.js"
import { encompass, type Gateway, type LogEvent, messageIdDomain, push, startGateway, stopGateway, until, withStore, writeRegion } from "./support/Gateway.js"
import * as NicheFeeds from "./support/NicheFeeds.js"

const occurrences = 24
const token = "push-token-for-niche"
/** Chiltern Beech Primary's only address in the demo directory: its relay refuses it for good. */
const refusedUrn = "100002"
const refusedAddress = "dsl@chiltern-beech-primary.sch.example"
const refusedText = "5.2.1 Mailbox disabled: retired by the school's IT provider, ticket FAULT-7731"
/**
 * The region's back-off: 0.5, 1, 2 s, then every 4 s (each ±20 %); 24 failed attempts. Short
 * waits keep the test quick, yet the cap outlasts a round of all the queued notifications, so
 * the most urgent do not keep the worker to themselves; giving up takes far longer than the outage.
 */
const retry = { baseMs: 500, capMs: 4_000, budget: 24 }
/** Each outage phase lasts at least this long. */
const minPhaseMs = 2_000

/**
 * The shortest time in which a notification can spend its budget: every back-off at its lowest
 * (80 %) and every attempt failing at once. An outage shorter than this with margin loses nothing.
 */
const shortestExhaustionMs = Array.from({ length: retry.budget - 1 }, (_, n) => 0.8 * Math.min(retry.baseMs * 2 ** n, retry.capMs))
  .reduce((a, b) => a + b, 0)

const feed = NicheFeeds.feed({ batch: 1, count: occurrences })
/** The feed's rows as cells by column name (its fields hold no quotes or line breaks). */
const rows = feed.trim().split("\n").slice(1).map((line) => {
  const cells = [...line.matchAll(/("([^"]*)"|[^,]*)(,|$)/g)].map((m) => m[2] ?? m[1] ?? "").slice(0, NicheRmsSource.columns.length)
  return Object.fromEntries(NicheRmsSource.columns.map((column, i) => [column, cells[i] ?? ""]))
})
/** Each occurrence gives one notification, to its child's school. */
const deliverable = rows.filter((r) => r["school_urn"] !== refusedUrn).length
const refusedCount = occurrences - deliverable
/** What no log line may contain: the children's details, and the relay's words about an address. */
const personalData = rows.flatMap((r) => [
  `${r["child_given_name"]} ${r["child_family_name"]}`,
  r["child_dob"] ?? "",
  r["home_address"] ?? "",
  r["home_postcode"] ?? "",
  r["incident_address"] ?? ""
])

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-fault-"))
let database: TestDatabase.TestDatabase
let sink: FaultySink.FaultySink
let config = ""
let gateway: Gateway | undefined

const store = () => (database.url === undefined ? { dataDir: path.join(work, "pgdata") } : { url: database.url })
const health = async (g: Gateway) => (await (await fetch(`http://${g.http}/health`)).json()) as { notificationsQueued: number }
const messageIdOf = (n: { readonly reference: string; readonly version: number }) => `<${n.reference}.v${n.version}@${messageIdDomain}>`
const levelOf = (e: LogEvent) => (e as LogEvent & { readonly logLevel?: unknown }).logLevel
/** A failure the relay's 4xx reply caused, as the attempt records it. */
const deferred = (detail: string) => /\b(421|451) 4\.3\.\d /.test(detail)
/** A failure a cut connection caused: no reply at all. */
const connectionLost = (detail: string) => /ECONNECTION|ESOCKET|ECONNRESET|closed/.test(detail) && !/\b[45]\d\d [45]\.\d/.test(detail)

describe(`relay outage during delivery (${(process.env["DATABASE_URL"] ?? "") === "" ? "embedded PGlite" : "server Postgres"})`, () => {
  beforeAll(async () => {
    database = await TestDatabase.fresh()
    sink = await FaultySink.start({ refusedAddress, refusedText, phase: "refuse" })
    config = writeRegion({
      work,
      relay: sink,
      tokens: [{ source: "niche-rms", token }],
      retry: { base: `${retry.baseMs} millis`, cap: `${retry.capMs} millis`, budget: retry.budget },
      workers: { feedPoll: "200 millis", deliveryPoll: "200 millis", attemptTimeout: "5 seconds", deliveryLease: "8 seconds" }
    })
  })

  afterAll(async () => {
    if (gateway !== undefined) await stopGateway(gateway)
    await sink.close()
    await database.drop()
    fs.rmSync(work, { recursive: true, force: true })
  })

  it(`delivers all ${deliverable} notifications once a relay that refused (4xx) and then dropped connections recovers; a 5xx address is dead-lettered with the relay's reason and an alert`, async () => {
    const began = Date.now()
    const g = await startGateway({ config, databaseUrl: database.url })
    gateway = g
    const startMs = Date.now() - began
    expect((await push(g.http, "niche-rms", feed, token)).status).toBe(202)

    // Each outage phase lasts `minPhaseMs` and until it has shown its effect, however slow the
    // machine: a phase that ended before the gateway met it would prove nothing.
    const phases: Record<string, { ms: number; counts: FaultySink.Counts }> = {}
    const hold = async (phase: FaultySink.Phase, what: string, shown: (before: FaultySink.Counts) => boolean) => {
      sink.setPhase(phase)
      const from = Date.now()
      const before = sink.counts()
      await until(what, () => Date.now() - from >= minPhaseMs && shown(before), 30_000, () =>
        `${JSON.stringify(sink.counts())}, ${sink.refusedMessages.size} refused and ${sink.droppedMessages.size} cut by Message-ID\n${g.output()}`)
      phases[phase] = { ms: Date.now() - from, counts: sink.counts() }
    }
    const outageBegan = Date.now()
    await hold("refuse", `every deliverable notification answered 451 (${deliverable})`, () => sink.refusedMessages.size >= deliverable)
    await hold("reset", "connections cut as they are made", (before) => sink.counts().dropped >= before.dropped + 3)
    await hold("drop", "messages cut off mid-DATA", () => sink.droppedMessages.size >= 3)

    sink.setPhase("accept")
    const outageMs = Date.now() - outageBegan
    // Nothing got through the outage, and the budget could not have run out within it.
    expect(sink.byMessageId.size).toBe(0)
    expect(outageMs * 1.5).toBeLessThan(shortestExhaustionMs)

    await until("every deliverable notification accepted and none left queued", async () =>
      sink.byMessageId.size >= deliverable && (await health(g)).notificationsQueued === 0, 60_000, () =>
      `${sink.byMessageId.size} accepted so far\n${g.output()}`)
    const recoveryMs = Date.now() - outageBegan - outageMs
    const alerts = g.events().filter((e) => e.message === "notification dead-lettered")
    expect(await stopGateway(g, "SIGTERM")).toBe(0)
    gateway = undefined

    const stored = await withStore(store(), (sql) =>
      Effect.all({
        notifications: sql.query<{ reference: string; version: number; recipient: string; state: string; last_error: string | null }>`
          SELECT reference, version, recipient, state, last_error FROM notification`,
        attempts: sql.query<{ reference: string; attempt: number; outcome: string; detail: string | null }>`
          SELECT n.reference, a.attempt, a.outcome, a.detail FROM delivery_attempt a JOIN notification n ON n.id = a.notification_id
          ORDER BY n.reference, a.attempt`,
        deadLettered: Effect.flatMap(AuditLog.AuditLog, (audit) =>
          Stream.runCollect(audit.events({ subjectPrefix: "notification:" }).pipe(Stream.filter((e) => e.stage === "dead-lettered")))
        ).pipe(Effect.map(Chunk.toReadonlyArray)),
        audit: Effect.flatMap(AuditLog.AuditLog, (audit) => audit.verify)
      }))

    const delivered = stored.notifications.filter((n) => n.recipient !== `setting:${refusedUrn}`)
    const dead = stored.notifications.filter((n) => n.recipient === `setting:${refusedUrn}`)
    const attemptsOf = (reference: string) => stored.attempts.filter((a) => a.reference === reference)
    const mostFailures = Math.max(...delivered.map((n) => attemptsOf(n.reference).filter((a) => a.outcome === "retry").length))
    const duplicates = [...sink.byMessageId.values()].filter((count) => count > 1).length
    console.log(JSON.stringify({
      store: database.url === undefined ? "embedded" : "server",
      seconds: Math.round((Date.now() - began) / 100) / 10,
      startMs,
      phases,
      outageMs,
      recoveryMs,
      shortestExhaustionMs,
      mostFailures,
      budget: retry.budget,
      duplicates
    }))

    // Every notification but the refused school's is delivered, under its deterministic Message-ID:
    // a re-send is the same message again, never a new one.
    expect(stored.notifications.length).toBe(occurrences)
    expect(delivered.length).toBe(deliverable)
    expect(delivered.filter((n) => n.state !== "delivered")).toEqual([])
    expect(new Set(sink.byMessageId.keys())).toEqual(new Set(delivered.map(messageIdOf)))

    // Each was retried through the outage and then delivered once: every one after a 4xx reply,
    // and each the relay cut off mid-DATA after a lost connection.
    for (const n of delivered) {
      const attempts = attemptsOf(n.reference)
      expect(attempts.map((a) => a.outcome)).toEqual([...attempts.slice(0, -1).map(() => "retry"), "delivered"])
      expect(attempts.some((a) => a.outcome === "retry" && deferred(a.detail ?? ""))).toBe(true)
      if (sink.droppedMessages.has(messageIdOf(n))) {
        expect(attempts.some((a) => a.outcome === "retry" && connectionLost(a.detail ?? ""))).toBe(true)
      }
    }
    // Every refusal and every cut the relay made is exactly one recorded retry: none went unnoticed.
    const retries = stored.attempts.filter((a) => a.outcome === "retry").map((a) => a.detail ?? "")
    expect(retries.filter(deferred).length).toBe(sink.counts().refused)
    expect(retries.filter(connectionLost).length).toBe(sink.counts().dropped)
    expect(retries.length).toBe(sink.counts().refused + sink.counts().dropped)
    // The outage never brought any notification near its budget: nothing ran out of attempts.
    expect(mostFailures).toBeLessThan(retry.budget)

    // The refused school's notifications: dead at the first 550, with the relay's reason stored.
    expect(dead.length).toBe(refusedCount)
    for (const n of dead) {
      expect(n.state).toBe("dead")
      expect(n.last_error).toContain(refusedText)
      const attempts = attemptsOf(n.reference)
      expect(attempts.map((a) => a.outcome)).toEqual([...attempts.slice(0, -1).map(() => "retry"), "dead"])
      expect(attempts.at(-1)?.detail).toContain(`550 ${refusedText}`)
    }
    expect(stored.attempts.filter((a) => a.outcome === "dead").length).toBe(refusedCount)

    // Audited as a permanent error, each once, with the relay's reason.
    expect(stored.deadLettered.map((e) => e.subject).sort()).toEqual(dead.map((n) => `notification:${n.reference}`).sort())
    for (const event of stored.deadLettered) {
      expect(event.detail).toMatchObject({ reason: "permanent-error", channel: "secure-email", recipient: `setting:${refusedUrn}` })
      expect(String((event.detail as { detail?: unknown }).detail)).toContain(refusedText)
    }
    expect(stored.audit._tag).toBe("Intact")

    // The alert: one error-level line per dead letter, naming ids and the reason, never a person,
    // an address or the relay's words (those stay in the database for `outbox show`).
    expect(alerts.map((a) => a.annotations["reference"]).sort()).toEqual(dead.map((n) => n.reference).sort())
    for (const alert of alerts) {
      expect(levelOf(alert)).toBe("ERROR")
      expect(alert.annotations).toMatchObject({ reason: "permanent-error", recipient: `setting:${refusedUrn}`, channel: "secure-email" })
    }
    const log = g.output()
    for (const text of [...personalData, refusedAddress, refusedText]) expect(log).not.toContain(text)
    expect(JSON.stringify(alerts)).not.toContain("@")

    // The operator sees the relay's reason and the attempts.
    const [first] = dead
    if (first === undefined) throw new Error("no dead letter to show")
    const shown = await encompass(["outbox", "show", first.reference, "--config", config], database.url)
    expect(shown.stderr).toBe("")
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(`notification  ${first.reference} (dead)`)
    expect(shown.stdout).toMatch(new RegExp(`^last error {4}.*${refusedText.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"))
    expect(shown.stdout).toMatch(/^\s+\d+ {2}\S+ {2}dead {7}.*550 5\.2\.1/m)
  }, 240_000)
})
