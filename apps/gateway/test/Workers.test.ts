/**
 * The delivery worker as `serve` runs it, on two channels: secure-email's relay hangs (never
 * answers), and the sftp channel's notifications are still delivered at once, woken by the feed
 * worker's wake-up rather than by a poll (the test clock never reaches the poll).
 */
import { AuditLog } from "@encompass/audit"
import { Directory } from "@encompass/directory"
import { Ids } from "@encompass/domain"
import { ActiveAgreement, ActiveChannels, ActiveSources, Alerts, FeedInbox, Ingest } from "@encompass/pipeline"
import { ChannelPlugin, Manifest } from "@encompass/plugin-sdk"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { Sql, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { DateTime, Deferred, Duration, Effect, Exit, Fiber, Layer, Logger, Queue, Ref, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as AgreementFiles from "../src/AgreementFiles.js"
import * as Workers from "../src/Workers.js"
import { demo } from "./support/Gateway.js"

// The demo region with Chiltern Beech Primary (100002) reached by sftp, which the agreement allows too.
const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-workers-"))
const agreementFile = path.join(work, "agreement.yaml")
fs.writeFileSync(
  agreementFile,
  fs.readFileSync(AgreementFiles.defaultAgreementFile, "utf8")
    .replace("          - channel: secure-email\n", "          - channel: sftp\n            form: encrypted-email\n          - channel: secure-email\n")
)
const directoryFile = path.join(work, "directory.csv")
fs.writeFileSync(
  directoryFile,
  fs.readFileSync(path.join(demo, "directory.csv"), "utf8").replace(/^(100002,.*),secure-email$/m, "$1,sftp")
)

const agreementLayer = Layer.effect(
  ActiveAgreement.ActiveAgreement,
  Effect.flatMap(AgreementFiles.loadBaseline(AgreementFiles.baselineFile), (baseline) => AgreementFiles.loadAgreement(agreementFile, baseline))
)

const TestLive = Layer.mergeAll(
  FeedInbox.layer,
  Directory.layerCsv(directoryFile),
  agreementLayer,
  ActiveSources.ActiveSources.layer([NicheRmsSource.make()]),
  Workers.Wake.layer,
  Alerts.Alerts.logOnly
).pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

const fake = (id: string, deliver: ChannelPlugin.ChannelPlugin["deliver"]): ChannelPlugin.ChannelPlugin => ({
  id: Ids.ChannelId.make(id),
  manifest: new Manifest.ChannelManifest({
    id: Ids.ChannelId.make(id),
    capabilities: { batching: false, acknowledgement: false, idempotentResend: true },
    version: "0.1.0",
    sdk: "^0.1.0",
    status: "experimental",
    description: "a fake for the worker test",
    docs: "apps/gateway/test/Workers.test.ts",
    config: Schema.Struct({})
  }),
  check: Effect.void,
  deliver
})

layer(TestLive, { timeout: 120_000 })("Workers.deliveryWorker", (it) => {
  it.effect("with secure-email's relay hanging, every sftp notification is delivered at once", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const inbox = yield* FeedInbox.FeedInbox
      const received = yield* inbox.receive({
        source: Ids.SourceId.make("niche-rms"),
        name: "niche-feed.csv",
        content: Stream.succeed(fs.readFileSync(path.join(demo, "niche-feed.csv")))
      }, "file")
      yield* Ingest.process(received.id)
      const queued = yield* sql.query<{ channel: string; count: number }>`SELECT channel, count(*)::int AS count FROM notification
        WHERE state = 'queued' GROUP BY channel ORDER BY channel`
      const sftpCount = queued.find((q) => q.channel === "sftp")?.count ?? 0
      expect(sftpCount).toBeGreaterThan(0)
      expect(queued.find((q) => q.channel === "secure-email")?.count ?? 0).toBeGreaterThan(0)

      const emailAttempts = yield* Ref.make(0)
      const hanging = fake("secure-email", () => Effect.zipRight(Ref.update(emailAttempts, (n) => n + 1), Effect.never))
      const delivered = yield* Ref.make<ReadonlyArray<string>>([])
      const allSftp = yield* Deferred.make<void>()
      const sftp = fake("sftp", (authorized) =>
        Effect.gen(function*() {
          const all = yield* Ref.updateAndGet(delivered, (d) => [...d, authorized.notification.reference])
          if (all.length === sftpCount) yield* Deferred.succeed(allSftp, undefined)
          return new ChannelPlugin.Receipt({ channel: "sftp", remoteId: authorized.notification.reference, acceptedAt: DateTime.unsafeNow() })
        }))

      const worker = yield* Effect.fork(
        Workers.deliveryWorker({ poll: Duration.minutes(10), outbox: { concurrency: { "secure-email": 2 } } }).pipe(
          Effect.provideService(ActiveChannels.ActiveChannels, ActiveChannels.ActiveChannels.fromPlugins([hanging, sftp]))
        )
      )
      // What the feed worker does after decoding a feed.
      yield* Queue.offer((yield* Workers.Wake).deliveries, undefined)
      yield* Deferred.await(allSftp)
      expect(new Set(yield* Ref.get(delivered)).size).toBe(sftpCount)
      const [stuck] = yield* sql.query<{ count: number }>`SELECT count(*)::int AS count FROM notification
        WHERE channel = 'secure-email' AND state = 'queued' AND attempts = 0`
      expect(stuck?.count).toBe(queued.find((q) => q.channel === "secure-email")?.count)
      yield* Fiber.interrupt(worker)
      // Interrupted, the hanging attempts gave their claims back: every email notification is due again.
      const [due] = yield* sql.query<{ count: number }>`SELECT count(*)::int AS count FROM notification
        WHERE channel = 'secure-email' AND state = 'queued' AND next_attempt_at <= now() AND claimed_until IS NULL`
      expect(due?.count).toBe(stuck?.count)
      expect(yield* Ref.get(emailAttempts)).toBeGreaterThan(0)
    }))

  it.effect("one hanging attempt holds up no other notification of its channel, not even one due later", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      // The email notifications the first test left queued; one of them becomes due only later.
      const waiting = yield* sql.query<{ reference: string }>`SELECT reference FROM notification
        WHERE channel = 'secure-email' AND state = 'queued' ORDER BY deadline, id`
      expect(waiting.length).toBeGreaterThan(2)
      const later = waiting[waiting.length - 1]!.reference
      yield* sql.query`UPDATE notification SET next_attempt_at = now() + interval '1 hour' WHERE reference = ${later}`

      const hung = yield* Deferred.make<string>()
      const delivered = yield* Ref.make<ReadonlyArray<string>>([])
      const firstOnes = yield* Deferred.make<void>()
      const laterOne = yield* Deferred.make<void>()
      const email = fake("secure-email", (authorized) =>
        Effect.gen(function*() {
          const reference = authorized.notification.reference
          // The first attempt hangs: a server that accepted the connection and never answers.
          if (yield* Deferred.succeed(hung, reference)) return yield* Effect.never
          const all = yield* Ref.updateAndGet(delivered, (d) => [...d, reference])
          if (all.length === waiting.length - 2) yield* Deferred.succeed(firstOnes, undefined)
          if (reference === later) yield* Deferred.succeed(laterOne, undefined)
          return new ChannelPlugin.Receipt({ channel: "secure-email", remoteId: reference, acceptedAt: DateTime.unsafeNow() })
        }))
      // A loop logs what it attempted once it has found nothing more due.
      const drained = yield* Deferred.make<void>()
      const watching = Logger.add(Logger.make(({ message }) => {
        if (String(message).includes("deliveries attempted")) Deferred.unsafeDone(drained, Exit.void)
      }))
      const wake = yield* Workers.Wake
      const worker = yield* Effect.fork(
        Workers.deliveryWorker({ poll: Duration.minutes(10), outbox: { concurrency: { "secure-email": 2 } } }).pipe(
          Effect.provideService(ActiveChannels.ActiveChannels, ActiveChannels.ActiveChannels.fromPlugins([email])),
          Effect.provide(watching)
        )
      )
      yield* Queue.offer(wake.deliveries, undefined)
      yield* Deferred.await(firstOnes)
      yield* Deferred.await(drained)
      const stuck = yield* Deferred.await(hung)
      yield* sql.query`UPDATE notification SET next_attempt_at = now() WHERE reference = ${later}`
      yield* Queue.offer(wake.deliveries, undefined)
      yield* Deferred.await(laterOne)
      expect(yield* Ref.get(delivered)).not.toContain(stuck)
      expect(new Set([...(yield* Ref.get(delivered)), stuck]).size).toBe(waiting.length)
      yield* Fiber.interrupt(worker)
    }))
})
