import { AuditLog } from "@encompass/audit"
import { ChannelPlugin } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Ref, Stream } from "effect"
import { ActiveAgreement, ActiveSources, FeedInbox, Ingest, Outbox } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"

const TestLive = Layer.mergeAll(FeedInbox.layer, Fixtures.directoryLayer, ActiveAgreement.ActiveAgreement.layer(Fixtures.tvp)).pipe(
  Layer.provideMerge(Layer.mergeAll(AuditLog.layer, Vault.layerTest)),
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

const withChannel = (channel: ChannelPlugin.ChannelPlugin) => Effect.provideService(ChannelPlugin.ChannelPlugin, channel)

layer(TestLive, { timeout: 120_000 })("Outbox", (it) => {
  it.effect("two delivery runs at once, as two gateway processes would, deliver every notification exactly once", () =>
    Effect.gen(function*() {
      yield* queue("5100", 20)
      const { delivered, plugin } = yield* Fixtures.recordingChannel
      // Slow enough that the two runs overlap for the whole batch (a real timer: the test clock stands still).
      const pause = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
      const slow: ChannelPlugin.ChannelPlugin = { ...plugin, deliver: (n) => Effect.zipLeft(plugin.deliver(n), pause) }
      const [a, b] = yield* Effect.all([Outbox.deliverDue, Outbox.deliverDue], { concurrency: 2 }).pipe(withChannel(slow))
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
      const run = yield* Effect.fork(Outbox.deliverDue.pipe(withChannel(hanging)))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(run)
      const lines = yield* Outbox.deliverDue.pipe(withChannel(plugin))
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
      expect(yield* Outbox.deliverDue.pipe(withChannel(plugin))).toEqual([])
      yield* sql.query`UPDATE notification SET next_attempt_at = now() - interval '1 second' WHERE occurrence = '43/5300000/26'`
      expect((yield* Outbox.deliverDue.pipe(withChannel(plugin))).map((l) => l.outcome)).toEqual(["delivered"])
    }))
})
