import { AuditLog } from "@encompass/audit"
import { ChannelPlugin } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Chunk, Deferred, Duration, Effect, Fiber, HashMap, Layer, List, Logger, Ref, Stream } from "effect"
import { ActiveAgreement, ActiveSources, Alerts, FeedInbox, Ingest, Outbox } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"

const TestLive = Layer.mergeAll(FeedInbox.layer, Fixtures.directoryLayer, ActiveAgreement.ActiveAgreement.layer(Fixtures.tvp)).pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

/** Queues one notification per incident (two settings alternate), without delivering them. */
const queue = (prefix: string, count: number) =>
  Effect.gen(function*() {
    const items = Array.from({ length: count }, (_, i) =>
      Fixtures.incident(`43/${prefix}${String(i).padStart(3, "0")}/26`, [{ ref: "A", urn: i % 2 === 0 ? "100001" : "100002", line: i + 2 }]))
    const inbox = yield* FeedInbox.FeedInbox
    const received = yield* inbox.receive({ ...Fixtures.feed(`${prefix}.csv`), content: Stream.succeed(new TextEncoder().encode(prefix)) }, "file")
    yield* Ingest.process(received.id).pipe(
      Effect.provideService(ActiveSources.ActiveSources, ActiveSources.ActiveSources.fromPlugins([Fixtures.sourceOf(items)]))
    )
  })


interface Logged {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}

/** Runs `self` with a logger that keeps what it logs. */
const capturingLogs = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const logged: Array<Logged> = []
    const capture = Logger.make(({ annotations, logLevel, message }) => {
      logged.push({ level: logLevel.label, message: List.isList(message) ? List.toArray(message) : message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
    })
    const result = yield* Effect.provide(self, Logger.add(capture))
    return { result, logged }
  })

const notificationOf = (occurrence: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query<{ reference: string; state: string; attempts: number; due_in: number; last_error: string | null; deadline: Date }>`SELECT reference,
        state, attempts, extract(epoch FROM next_attempt_at - now())::float8 AS due_in, last_error, deadline FROM notification
      WHERE occurrence = ${occurrence}`
  ).pipe(Effect.flatMap(([row]) => (row === undefined ? Effect.dieMessage(`no notification for ${occurrence}`) : Effect.succeed(row))))

const makeDue = (occurrence: string) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.query`UPDATE notification SET next_attempt_at = now() WHERE occurrence = ${occurrence}`)

layer(TestLive, { timeout: 120_000 })("Outbox", (it) => {
  it.effect("two delivery runs at once, as two gateway processes would, deliver every notification exactly once", () =>
    Effect.gen(function*() {
      yield* queue("5100", 20)
      const { delivered, plugin } = yield* Fixtures.recordingChannel
      // Slow enough that the two runs overlap for the whole batch (a real timer: the test clock stands still).
      const pause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
      const slow: ChannelPlugin.ChannelPlugin = { ...plugin, deliver: (n) => Effect.zipLeft(plugin.deliver(n), pause) }
      const [a, b] = yield* Effect.all([Outbox.deliverDue, Outbox.deliverDue], { concurrency: 2 }).pipe(Fixtures.withChannels(slow))
      const references = (yield* Ref.get(delivered)).map((n) => n.notification.reference)
      expect(references.length).toBe(20)
      expect(new Set(references).size).toBe(20)
      expect(a.length + b.length).toBe(20)
    }))

  it.effect("a run interrupted mid-attempt hands the notification back at once; the next run delivers it", () =>
    Effect.gen(function*() {
      yield* queue("5200", 1)
      const { delivered, plugin } = yield* Fixtures.recordingChannel
      const started = yield* Deferred.make<void>()
      const hanging: ChannelPlugin.ChannelPlugin = { ...plugin, deliver: () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never) }
      const run = yield* Effect.fork(Outbox.deliverDue.pipe(Fixtures.withChannels(hanging)))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(run)
      const lines = yield* Outbox.deliverDue.pipe(Fixtures.withChannels(plugin))
      expect(lines.map((l) => l.outcome)).toEqual(["delivered"])
      expect((yield* Ref.get(delivered)).length).toBe(1)
    }))

  it.effect("a claim left by a process that died is not due until it expires, then it is taken over", () =>
    Effect.gen(function*() {
      yield* queue("5300", 1)
      const sql = yield* Sql.Sql
      // What a killed process leaves: the claim moved next_attempt_at forward, and nothing came back.
      yield* sql.query`UPDATE notification SET next_attempt_at = now() + interval '2 minutes' WHERE occurrence = '43/5300000/26'`
      const { plugin } = yield* Fixtures.recordingChannel
      expect(yield* Outbox.deliverDue.pipe(Fixtures.withChannels(plugin))).toEqual([])
      yield* sql.query`UPDATE notification SET next_attempt_at = now() - interval '1 second' WHERE occurrence = '43/5300000/26'`
      expect((yield* Outbox.deliverDue.pipe(Fixtures.withChannels(plugin))).map((l) => l.outcome)).toEqual(["delivered"])
    }))

  it.effect("the back-off doubles from its base up to its cap, each delay jittered within 80–120 %", () =>
    Effect.gen(function*() {
      const policy = { base: Duration.seconds(30), cap: Duration.minutes(10), budget: 20 }
      for (let failures = 1; failures <= 12; failures++) {
        const nominal = Math.min(30_000 * 2 ** (failures - 1), 600_000)
        const samples = yield* Effect.all(Array.from({ length: 40 }, () => Outbox.retryDelay(policy, failures)))
        const millis = samples.map(Duration.toMillis)
        for (const ms of millis) {
          expect(ms).toBeGreaterThanOrEqual(nominal * 0.8)
          expect(ms).toBeLessThanOrEqual(nominal * 1.2)
        }
        // Jitter: notifications that failed together come back spread out, not at one instant.
        expect(new Set(millis).size).toBeGreaterThan(1)
      }
    }))

  it.effect("a retryable failure is due again after the jittered back-off, not before", () =>
    Effect.gen(function*() {
      yield* queue("5400", 1)
      const { behaviour, plugin } = yield* Fixtures.recordingChannel
      yield* Ref.set(behaviour, "transport-error")
      const lines = yield* Outbox.deliverDue.pipe(Fixtures.withChannels(plugin))
      expect(lines.map((l) => l.outcome)).toEqual(["retry"])
      const row = yield* notificationOf("43/5400000/26")
      expect(row).toMatchObject({ state: "queued", attempts: 1 })
      // The default policy's first delay: one minute, ±20 % (and a little for the clock moving on).
      expect(row.due_in).toBeGreaterThan(47)
      expect(row.due_in).toBeLessThanOrEqual(72)
    }))

  it.effect("after the channel's attempt budget a notification is a dead letter: audited, logged and handed to the alert sink once, with ids and reason but no error text", () =>
    Effect.gen(function*() {
      yield* queue("5500", 1)
      const { behaviour, plugin } = yield* Fixtures.recordingChannel
      const { raised, sink } = yield* Fixtures.recordingAlerts
      yield* Ref.set(behaviour, "transport-error")
      const run = Outbox.deliverDueWith({ retry: { "secure-email": { budget: 3 } } }).pipe(
        Fixtures.withChannels(plugin),
        Effect.provideService(Alerts.Alerts, sink)
      )
      const outcomes: Array<string> = []
      let logged: ReadonlyArray<Logged> = []
      for (let i = 0; i < 3; i++) {
        yield* makeDue("43/5500000/26")
        const captured = yield* capturingLogs(run)
        outcomes.push(...captured.result.map((l) => l.outcome))
        logged = captured.logged
      }
      expect(outcomes).toEqual(["retry", "retry", "dead"])
      const row = yield* notificationOf("43/5500000/26")
      expect(row).toMatchObject({ state: "dead", attempts: 3, last_error: expect.stringContaining("451") })
      const alert = logged.find((l) => l.level === "ERROR")
      expect(alert?.message).toEqual(["notification dead-lettered"])
      expect(alert?.annotations).toEqual({ reference: row.reference, recipient: "setting:100001", channel: "secure-email", attempts: 3, reason: "attempts-exhausted" })
      const events = yield* Effect.flatMap(AuditLog.AuditLog, (a) => Stream.runCollect(a.events({ subjectPrefix: `notification:${row.reference}` })))
      const deadLettered = Chunk.toReadonlyArray(events).filter((e) => e.stage === "dead-lettered")
      expect(deadLettered.map((e) => e.detail)).toEqual([
        { recipient: "setting:100001", channel: "secure-email", attempts: 3, reason: "attempts-exhausted", detail: expect.stringContaining("451") }
      ])
      // The retries raised nothing; the dead letter one alert, with the deadline the SPOC has to act before.
      expect(yield* Ref.get(raised)).toEqual([{
        kind: "dead-letter",
        reference: row.reference,
        recipient: "setting:100001",
        channel: "secure-email",
        deadline: row.deadline,
        state: "dead",
        attempts: 3,
        reason: "attempts-exhausted"
      }])
    }))

  it.effect("a permanent failure is a dead letter at once, alerted with the reason permanent-error; with no alert sink (ingest, quarantine replay) the log line is the alert", () =>
    Effect.gen(function*() {
      yield* queue("5600", 1)
      const { behaviour, plugin } = yield* Fixtures.recordingChannel
      yield* Ref.set(behaviour, "reject")
      const { logged, result } = yield* capturingLogs(Outbox.deliverDue.pipe(Fixtures.withChannels(plugin)))
      expect(result.map((l) => l.outcome)).toEqual(["dead"])
      expect(logged.filter((l) => l.level === "ERROR").map((l) => l.annotations["reason"])).toEqual(["permanent-error"])
    }))
})
