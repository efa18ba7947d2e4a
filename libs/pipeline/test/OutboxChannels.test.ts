import { AuditLog } from "@encompass/audit"
import { Directory } from "@encompass/directory"
import type { ChannelPlugin } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Ref, Stream, TestClock } from "effect"
import { ActiveAgreement, ActiveSources, FeedInbox, Ingest, Outbox } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"

// Two channels: the settings 100001 and 100002 are reached by secure-email, 100003 by sftp.
const TestLive = Layer.mergeAll(
  FeedInbox.layer,
  Layer.succeed(Directory.Directory, Fixtures.directoryTwoChannels),
  ActiveAgreement.ActiveAgreement.layer(Fixtures.tvpTwoChannels)
).pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

const email = "100001"
const sftp = "100003"

/** Queues one notification per `[occurrence, urn, occurredAt?]`, without delivering them. */
const queue = (name: string, items: ReadonlyArray<readonly [string, string, string?]>) =>
  Effect.gen(function*() {
    const incidents = items.map(([occurrence, urn, occurredAt], i) =>
      Fixtures.incident(occurrence, [{ ref: "A", urn, line: i + 2 }], occurredAt === undefined ? {} : { occurredAt }))
    const inbox = yield* FeedInbox.FeedInbox
    const received = yield* inbox.receive({ ...Fixtures.feed(name), content: Stream.succeed(new TextEncoder().encode(name)) }, "file")
    yield* Ingest.process(received.id).pipe(
      Effect.provideService(ActiveSources.ActiveSources, ActiveSources.ActiveSources.fromPlugins([Fixtures.sourceOf(incidents)]))
    )
  })

const rowOf = (occurrence: string) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query<{ channel: string; state: string; attempts: number; next_attempt_at: Date; last_error: string | null }>`SELECT channel, state,
        attempts, next_attempt_at, last_error FROM notification WHERE occurrence = ${occurrence}`
  ).pipe(Effect.flatMap(([row]) => (row === undefined ? Effect.dieMessage(`no notification for ${occurrence}`) : Effect.succeed(row))))

/** A channel whose every attempt hangs (a server that never answers), signalling when one starts. */
const hangingChannel = (plugin: ChannelPlugin.ChannelPlugin) =>
  Effect.map(Deferred.make<void>(), (started) => ({
    started,
    plugin: { ...plugin, deliver: () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never) } satisfies ChannelPlugin.ChannelPlugin
  }))

/** Completes once `plugin` has delivered `count` notifications. */
const signallingAfter = (plugin: ChannelPlugin.ChannelPlugin, count: number) =>
  Effect.gen(function*() {
    const done = yield* Deferred.make<void>()
    const seen = yield* Ref.make(0)
    const signalling: ChannelPlugin.ChannelPlugin = {
      ...plugin,
      deliver: (n) =>
        Effect.tap(plugin.deliver(n), () =>
          Effect.flatMap(Ref.updateAndGet(seen, (s) => s + 1), (s) => (s === count ? Deferred.succeed(done, undefined) : Effect.void)))
    }
    return { done, plugin: signalling }
  })

layer(TestLive, { timeout: 120_000 })("Outbox, per channel", (it) => {
  it.effect("a channel whose server hangs delays no other channel: every secure-email notification goes while the sftp attempt waits", () =>
    Effect.gen(function*() {
      // The sftp notification has the most urgent deadline: a single queue would be stuck behind it.
      yield* queue("7100.csv", [
        ["43/7100000/26", sftp, "2026-11-16T21:00:00Z"],
        ...[1, 2, 3, 4].map((i) => [`43/710000${i}/26`, email] as const)
      ])
      const x = yield* hangingChannel((yield* Fixtures.recordingChannelFor("sftp")).plugin)
      const y = yield* Fixtures.recordingChannel
      const { done, plugin } = yield* signallingAfter(y.plugin, 4)
      const run = yield* Effect.fork(Outbox.deliverDueWith({ attemptTimeout: Duration.seconds(60) }).pipe(Fixtures.withChannels(x.plugin, plugin)))
      yield* Deferred.await(x.started)
      yield* Deferred.await(done)
      expect((yield* Ref.get(y.delivered)).map((n) => n.notification.occurrence).sort()).toEqual(
        ["43/7100001/26", "43/7100002/26", "43/7100003/26", "43/7100004/26"]
      )
      expect((yield* rowOf("43/7100000/26")).attempts).toBe(0)
      // The sftp attempt times out; it is retried later, and the run ends.
      yield* TestClock.adjust(Duration.seconds(61))
      const lines = yield* Fiber.join(run)
      expect(lines.map((l) => l.outcome).sort()).toEqual(["delivered", "delivered", "delivered", "delivered", "retry"])
      const hung = yield* rowOf("43/7100000/26")
      expect(hung).toMatchObject({ channel: "sftp", state: "queued", attempts: 1 })
      expect(hung.last_error).toContain("no answer within")
    }))

  it.effect("a channel with concurrency 3 has three attempts in flight at once, never more", () =>
    Effect.gen(function*() {
      yield* queue("7200.csv", [0, 1, 2, 3, 4].map((i) => [`43/720000${i}/26`, email] as const))
      const { plugin } = yield* Fixtures.recordingChannel
      const inFlight = yield* Ref.make(0)
      const most = yield* Ref.make(0)
      const three = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const gated: ChannelPlugin.ChannelPlugin = {
        ...plugin,
        deliver: (n) =>
          Effect.gen(function*() {
            const now = yield* Ref.updateAndGet(inFlight, (i) => i + 1)
            yield* Ref.update(most, (m) => Math.max(m, now))
            if (now === 3) yield* Deferred.succeed(three, undefined)
            yield* Deferred.await(gate)
            yield* Ref.update(inFlight, (i) => i - 1)
            return yield* plugin.deliver(n)
          })
      }
      const run = yield* Effect.fork(Outbox.deliverDueWith({ concurrency: { "secure-email": 3 } }).pipe(Fixtures.withChannels(gated)))
      yield* Deferred.await(three)
      expect(yield* Ref.get(inFlight)).toBe(3)
      yield* Deferred.succeed(gate, undefined)
      const lines = yield* Fiber.join(run)
      expect(lines.map((l) => l.outcome)).toEqual(["delivered", "delivered", "delivered", "delivered", "delivered"])
      expect(yield* Ref.get(most)).toBe(3)
    }))

  it.effect("a channel's own concurrency applies when the region sets none; 1 when neither does", () =>
    Effect.gen(function*() {
      const { plugin } = yield* Fixtures.recordingChannel
      expect(Outbox.concurrencyOf({ ...plugin, concurrency: 4 })).toBe(4)
      expect(Outbox.concurrencyOf({ ...plugin, concurrency: 4 }, { concurrency: { "secure-email": 2 } })).toBe(2)
      expect(Outbox.concurrencyOf(plugin)).toBe(1)
    }))

  it.effect("within a channel the most urgent deadline goes first", () =>
    Effect.gen(function*() {
      // Queued least urgent first: Wednesday's, Tuesday's, then Monday's incident.
      yield* queue("7300.csv", [
        ["43/7300003/26", email, "2026-11-18T21:00:00Z"],
        ["43/7300002/26", email, "2026-11-17T21:00:00Z"],
        ["43/7300001/26", email, "2026-11-16T21:00:00Z"]
      ])
      const { delivered, plugin } = yield* Fixtures.recordingChannel
      yield* Outbox.deliverDue.pipe(Fixtures.withChannels(plugin))
      expect((yield* Ref.get(delivered)).map((n) => n.notification.occurrence)).toEqual(["43/7300001/26", "43/7300002/26", "43/7300003/26"])
    }))

  it.effect("a notification of a channel this process does not enable stays queued, untouched, until a process enabling it delivers it", () =>
    Effect.gen(function*() {
      yield* queue("7400.csv", [["43/7400000/26", sftp], ["43/7400001/26", email]])
      const before = yield* rowOf("43/7400000/26")
      const emailOnly = yield* Fixtures.recordingChannel
      const lines = yield* Outbox.deliverDue.pipe(Fixtures.withChannels(emailOnly.plugin))
      expect(lines.map((l) => l.outcome)).toEqual(["delivered"])
      expect(yield* rowOf("43/7400000/26")).toEqual(before)
      expect(before).toMatchObject({ channel: "sftp", state: "queued", attempts: 0 })
      const sftpProcess = yield* Fixtures.recordingChannelFor("sftp")
      const later = yield* Outbox.deliverDue.pipe(Fixtures.withChannels(sftpProcess.plugin))
      expect(later.map((l) => l.outcome)).toEqual(["delivered"])
      expect((yield* Ref.get(sftpProcess.delivered)).map((n) => n.notification.occurrence)).toEqual(["43/7400000/26"])
      expect((yield* rowOf("43/7400000/26")).state).toBe("delivered")
    }))
})
