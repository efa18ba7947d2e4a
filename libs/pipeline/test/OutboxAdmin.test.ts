import { AuditLog } from "@encompass/audit"
import type { ChannelPlugin } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Layer, Ref, Stream } from "effect"
import { ActiveAgreement, ActiveSources, FeedInbox, Ingest, Outbox, OutboxAdmin } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"

const TestLive = Layer.mergeAll(FeedInbox.layer, Fixtures.directoryLayer, ActiveAgreement.ActiveAgreement.layer(Fixtures.tvp)).pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

const operator = "ops.tester"

/** Queues one notification (to setting 100001) for `occurrence` without delivering it; returns its reference. */
const queued = (occurrence: string) =>
  Effect.gen(function*() {
    const inbox = yield* FeedInbox.FeedInbox
    const received = yield* inbox.receive({ ...Fixtures.feed(`${occurrence}.csv`), content: Stream.succeed(new TextEncoder().encode(occurrence)) }, "file")
    yield* Ingest.process(received.id).pipe(
      Effect.provideService(
        ActiveSources.ActiveSources,
        ActiveSources.ActiveSources.fromPlugins([Fixtures.sourceOf([Fixtures.incident(occurrence, [{ ref: "A", urn: "100001", line: 2 }])])])
      )
    )
    const sql = yield* Sql.Sql
    const [row] = yield* sql.query<{ reference: string }>`SELECT reference FROM notification WHERE occurrence = ${occurrence}`
    return row === undefined ? yield* Effect.dieMessage(`no notification for ${occurrence}`) : row.reference
  })

const channel = Effect.tap(Fixtures.recordingChannel, (c) => Ref.set(c.behaviour, "accept"))

const deliverWith = (behaviour: Fixtures.ChannelBehaviour, options: Outbox.Options = {}) =>
  Effect.gen(function*() {
    const { behaviour: b, plugin } = yield* channel
    yield* Ref.set(b, behaviour)
    return yield* Outbox.deliverDueWith(options).pipe(Fixtures.withChannels(plugin))
  })

const makeDue = (reference: string) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.query`UPDATE notification SET next_attempt_at = now() WHERE reference = ${reference}`)

const auditOf = (reference: string) =>
  Effect.flatMap(AuditLog.AuditLog, (a) => Stream.runCollect(a.events({ subjectPrefix: `notification:${reference}` }))).pipe(
    Effect.map(Chunk.toReadonlyArray)
  )

layer(TestLive, { timeout: 120_000 })("OutboxAdmin", (it) => {
  it.effect("lists notifications by state with attempts, deadline, next attempt and last error, and never the body", () =>
    Effect.gen(function*() {
      const reference = yield* queued("43/6100000/26")
      yield* deliverWith("transport-error")
      const [entry] = (yield* OutboxAdmin.list({ state: "queued" })).filter((e) => e.reference === reference)
      expect(entry).toMatchObject({
        reference,
        recipient: "setting:100001",
        channel: "secure-email",
        state: "queued",
        attempts: 1,
        lastError: expect.stringContaining("451"),
        deliveredAt: null
      })
      expect(entry?.nextAttemptAt?.getTime()).toBeGreaterThan(Date.now())
      expect(entry?.deadline).toBeInstanceOf(Date)
      expect(Object.keys(entry ?? {})).not.toContain("body")
      expect(JSON.stringify(entry)).not.toContain("Given")
      expect((yield* OutboxAdmin.list({ state: "delivered" })).map((e) => e.reference)).not.toContain(reference)
      expect(yield* OutboxAdmin.list({ limit: 1 })).toHaveLength(1)
    }))

  it.effect("shows one notification with every attempt; an unknown reference is NotFound", () =>
    Effect.gen(function*() {
      const reference = yield* queued("43/6200000/26")
      yield* deliverWith("transport-error")
      yield* makeDue(reference)
      yield* deliverWith("accept")
      const shown = yield* OutboxAdmin.get(reference)
      expect(shown.entry).toMatchObject({ state: "delivered", attempts: 2, nextAttemptAt: null })
      expect(shown.attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, "retry"], [2, "delivered"]])
      const missing = yield* Effect.flip(OutboxAdmin.get("EG-0000-0000-0000"))
      expect(missing).toMatchObject({ _tag: "OutboxAdminError", module: "OutboxAdmin", method: "get", reason: "NotFound" })
    }))

  it.effect("a cancelled notification is never delivered, even when due; the cancel is audited with who and why", () =>
    Effect.gen(function*() {
      const cancelled = yield* queued("43/6300000/26")
      const other = yield* queued("43/6300001/26")
      const entry = yield* OutboxAdmin.cancel(cancelled, { operator, reason: "sent by phone instead" })
      expect(entry).toMatchObject({ state: "cancelled", cancellation: `cancelled by ${operator}: sent by phone instead`, nextAttemptAt: null })
      yield* makeDue(cancelled)
      const lines = yield* deliverWith("accept")
      expect(lines.map((l) => l.reference)).toContain(other)
      expect(lines.map((l) => l.reference)).not.toContain(cancelled)
      expect((yield* OutboxAdmin.get(cancelled)).attempts).toEqual([])
      const events = (yield* auditOf(cancelled)).filter((e) => e.stage === "cancelled")
      expect(events.map((e) => e.detail)).toEqual([{ operator, from: "queued", reason: "sent by phone instead" }])
      // Cancelled is final: neither retried nor cancelled again.
      expect(yield* Effect.flip(OutboxAdmin.retry(cancelled, { operator }))).toMatchObject({ reason: "WrongState", method: "retry" })
      expect(yield* Effect.flip(OutboxAdmin.cancel(cancelled, { operator, reason: "again" }))).toMatchObject({ reason: "WrongState" })
    }))

  it.effect("a dead letter can be cancelled; a delivered notification cannot", () =>
    Effect.gen(function*() {
      const dead = yield* queued("43/6400000/26")
      yield* deliverWith("reject")
      expect((yield* OutboxAdmin.cancel(dead, { operator, reason: "school closed" })).state).toBe("cancelled")
      const delivered = yield* queued("43/6400001/26")
      yield* deliverWith("accept")
      const error = yield* Effect.flip(OutboxAdmin.cancel(delivered, { operator, reason: "too late" }))
      expect(error.message).toBe(`notification ${delivered}: the notification is delivered`)
    }))

  it.effect("retrying a dead letter re-queues it due now with a fresh attempt budget; attempts keep counting", () =>
    Effect.gen(function*() {
      const reference = yield* queued("43/6500000/26")
      const budgetOfTwo = { retry: { "secure-email": { budget: 2 } } }
      yield* deliverWith("transport-error", budgetOfTwo)
      yield* makeDue(reference)
      yield* deliverWith("transport-error", budgetOfTwo)
      expect((yield* OutboxAdmin.get(reference)).entry).toMatchObject({ state: "dead", attempts: 2 })

      const requeued = yield* OutboxAdmin.retry(reference, { operator })
      expect(requeued.state).toBe("queued")
      expect(requeued.nextAttemptAt?.getTime()).toBeLessThanOrEqual(Date.now() + 1000)
      // Two attempts would have spent the old budget; after the retry this failure is only the first.
      const lines = yield* deliverWith("transport-error", budgetOfTwo)
      expect(lines.filter((l) => l.reference === reference).map((l) => l.outcome)).toEqual(["retry"])
      yield* makeDue(reference)
      yield* deliverWith("accept", budgetOfTwo)
      const shown = yield* OutboxAdmin.get(reference)
      expect(shown.entry).toMatchObject({ state: "delivered", attempts: 4 })
      expect(shown.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4])
      const events = (yield* auditOf(reference)).filter((e) => e.stage === "requeued")
      expect(events.map((e) => e.detail)).toEqual([{ operator, from: "dead", attempts: 2 }])
      expect(yield* Effect.flip(OutboxAdmin.retry(reference, { operator }))).toMatchObject({ reason: "WrongState" })
    }))

  it.effect("retrying a queued notification in back-off makes it due now", () =>
    Effect.gen(function*() {
      const reference = yield* queued("43/6600000/26")
      yield* deliverWith("transport-error")
      expect((yield* deliverWith("accept")).map((l) => l.reference)).not.toContain(reference)
      yield* OutboxAdmin.retry(reference, { operator })
      expect((yield* deliverWith("accept")).filter((l) => l.reference === reference).map((l) => l.outcome)).toEqual(["delivered"])
    }))

  it.effect("neither retry nor cancel touches a notification while an attempt is in flight", () =>
    Effect.gen(function*() {
      const reference = yield* queued("43/6700000/26")
      const { plugin } = yield* channel
      const started = yield* Deferred.make<void>()
      const hanging: ChannelPlugin.ChannelPlugin = { ...plugin, deliver: () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never) }
      const run = yield* Effect.fork(Outbox.deliverDue.pipe(Fixtures.withChannels(hanging)))
      yield* Deferred.await(started)
      expect(yield* Effect.flip(OutboxAdmin.cancel(reference, { operator, reason: "mid-send" }))).toMatchObject({ reason: "InFlight" })
      expect(yield* Effect.flip(OutboxAdmin.retry(reference, { operator }))).toMatchObject({ reason: "InFlight" })
      yield* Fiber.interrupt(run)
      expect((yield* OutboxAdmin.cancel(reference, { operator, reason: "after the attempt" })).state).toBe("cancelled")
    }))
})
