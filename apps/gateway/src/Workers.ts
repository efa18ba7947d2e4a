/**
 * The gateway's background work: decoding stored feeds and delivering due notifications. Each
 * worker runs when woken — by this process (a feed received, a feed just decoded) or, through
 * LISTEN/NOTIFY, by any gateway process on the same server — and on a poll, the fallback. A failure is
 * logged and the loop goes on; interruption (SIGTERM), or a database failure once the database
 * answers again, releases the feed being decoded, whose work so far is committed incident by
 * incident and is simply skipped when it is decoded again.
 */
import { ActiveAgreement, ActiveChannels, Alerts, FeedInbox, Ingest, Outbox, Retention } from "@encompass/pipeline"
import { Sql, SqlError } from "@encompass/store"
import { Context, Duration, Effect, Layer, Option, Queue, Schedule, Stream } from "effect"

/** Wake-up calls between the inbox and the workers; a sliding queue of one coalesces them. */
export class Wake extends Context.Tag("@encompass/gateway/Workers/Wake")<Wake, {
  readonly feeds: Queue.Queue<void>
  readonly deliveries: Queue.Queue<void>
}>() {
  static readonly layer = Layer.effect(this, Effect.all({ feeds: Queue.sliding<void>(1), deliveries: Queue.sliding<void>(1) }))
}

/** The database inbox, waking the feed worker after each new feed. */
export const wakingInboxLayer = Layer.effect(
  FeedInbox.FeedInbox,
  Effect.gen(function*() {
    const inbox = yield* FeedInbox.make
    const wake = yield* Wake
    return {
      receive: (feed, transport) =>
        inbox.receive(feed, transport).pipe(Effect.tap((received) => (received.repeat ? Effect.void : Queue.offer(wake.feeds, undefined))))
    }
  })
)

const waitFor = (queue: Queue.Queue<void>, poll: Duration.Duration) =>
  Effect.race(Queue.take(queue), Effect.sleep(poll)).pipe(Effect.zipRight(Queue.takeAll(queue)), Effect.asVoid)

const releaseClaim = (id: string) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.query`UPDATE feed SET claimed_until = NULL WHERE id = ${id} AND state = 'stored'`)

/** Decodes one claimed feed, releasing the claim if interrupted so another process takes it at once. */
const processClaimed = (id: string) =>
  Ingest.process(id).pipe(
    Effect.tap((report) =>
      Effect.logInfo("feed decoded").pipe(
        Effect.annotateLogs({
          feed: id,
          incidents: report.incidents,
          repeats: report.repeats,
          rejected: report.rejected.length,
          notifications: report.notificationsCreated
        })
      )
    ),
    Effect.onInterrupt(() => Effect.ignore(releaseClaim(id)))
  )

/**
 * A decode the database cut off (a restart, a lost connection) gives its claim back as soon as
 * the database answers again, so the feed is taken up within seconds rather than when its lease
 * runs out; what it had committed is skipped the second time. Any other failure keeps the claim
 * for the lease: decoding again at once would fail the same way.
 */
const failed = (id: string, lease: Duration.Duration) => (error: Effect.Effect.Error<ReturnType<typeof processClaimed>>) =>
  Effect.logError("feed could not be decoded", error.message).pipe(
    Effect.annotateLogs({ feed: id }),
    Effect.zipRight(
      error._tag === "SqlError" && error.retryable
        ? releaseClaim(id).pipe(
          SqlError.retryWhileAway(lease),
          Effect.catchAll((e) => Effect.logError("could not release the feed's claim; it lapses with its lease", e.message)),
          Effect.annotateLogs({ feed: id })
        )
        : Effect.void
    )
  )

export const feedWorker = (options: { readonly poll: Duration.Duration; readonly lease: Duration.Duration }) =>
  Effect.gen(function*() {
    const wake = yield* Wake
    // Counts the feeds decoded. A database failure ends the round, so a database that keeps
    // failing is tried again at the next wake-up or poll, not in a tight loop.
    const drain: Effect.Effect<number, never, Effect.Effect.Context<ReturnType<typeof processClaimed>> | Sql.Sql> = Effect.gen(function*() {
      let decoded = 0
      while (true) {
        const claimed = yield* Ingest.claimStored(options.lease)
        if (Option.isNone(claimed)) return decoded
        const databaseFailed = yield* processClaimed(claimed.value).pipe(
          Effect.as(false),
          Effect.catchAll((error) => Effect.as(failed(claimed.value, options.lease)(error), error._tag === "SqlError" && error.retryable))
        )
        if (databaseFailed) return decoded
        decoded += 1
      }
    }).pipe(Effect.catchAll((error) => Effect.as(Effect.logError("could not claim stored feeds", error.message), 0)))
    while (true) {
      const decoded = yield* drain
      if (decoded > 0) yield* Queue.offer(wake.deliveries, undefined)
      yield* waitFor(wake.feeds, options.poll)
    }
  })

/**
 * Per enabled channel, as many delivery loops as the channel's concurrency, each with its own
 * wake-up queue (every wake-up, from this process or through LISTEN/NOTIFY, reaches every loop's)
 * and its own poll, each attempting one notification at a time: an outage or a hanging server of
 * one channel never delays another channel's notifications, and one hanging attempt never holds
 * up the rest of its own channel.
 */
export const deliveryWorker = (options: { readonly poll: Duration.Duration; readonly outbox: Outbox.Options }) =>
  Effect.gen(function*() {
    const wake = yield* Wake
    // Dead letters go to the region's alert sink (the SPOC's email). The outbox only looks for
    // one; requiring it here makes forgetting it in `serve` a type error.
    const alerts = yield* Alerts.Alerts
    const channels = yield* ActiveChannels.ActiveChannels
    const loops = yield* Effect.forEach(
      Array.from(channels.values()).flatMap((channel) => Array.from({ length: Outbox.concurrencyOf(channel, options.outbox) }, () => channel)),
      (channel) => Effect.map(Queue.sliding<void>(1), (queue) => ({ channel, queue }))
    )
    const fanOut = Effect.forever(
      Effect.zipRight(Queue.take(wake.deliveries), Effect.forEach(loops, ({ queue }) => Queue.offer(queue, undefined), { discard: true }))
    )
    const loop = ({ channel, queue }: (typeof loops)[number]) =>
      Effect.gen(function*() {
        const deliver = Outbox.deliverChannel(channel, { ...options.outbox, concurrency: { [channel.id]: 1 } }).pipe(
          Effect.provideService(Alerts.Alerts, alerts)
        )
        while (true) {
          const lines = yield* deliver.pipe(
            Effect.catchAll((error) => Effect.as(Effect.logError("delivery run failed", error.message), []))
          )
          if (lines.length > 0) {
            yield* Effect.logInfo("deliveries attempted").pipe(
              Effect.annotateLogs({
                delivered: lines.filter((l) => l.outcome === "delivered").length,
                retry: lines.filter((l) => l.outcome === "retry").length,
                dead: lines.filter((l) => l.outcome === "dead").length
              })
            )
          }
          yield* waitFor(queue, options.poll)
        }
      }).pipe(Effect.annotateLogs({ channel: channel.id }))
    yield* Effect.all([fanOut, ...loops.map(loop)], { concurrency: "unbounded", discard: true })
  })

/**
 * Turns `NOTIFY` from any gateway process on the server into wake-ups here, so a feed received
 * or a notification queued elsewhere is worked on at once rather than at the next poll. A lost
 * listening connection is logged and re-opened; the polls cover the gap.
 */
export const listener = Effect.gen(function*() {
  const sql = yield* Sql.Sql
  const wake = yield* Wake
  const relay = (channel: string, queue: Queue.Queue<void>) =>
    Stream.runForEach(sql.listen(channel), () => Queue.offer(queue, undefined)).pipe(
      Effect.tapError((error) => Effect.logWarning("listening for wake-ups failed; polling meanwhile", error.message)),
      Effect.retry(Schedule.spaced("5 seconds")),
      Effect.orDie
    )
  yield* Effect.all([
    relay(FeedInbox.wakeChannels.feeds, wake.feeds),
    relay(FeedInbox.wakeChannels.outbox, wake.deliveries)
  ], { concurrency: 2, discard: true })
})

/** Uploads a crashed process left half-stored are removed at start and hourly. */
export const sweeper = Effect.gen(function*() {
  while (true) {
    const swept = yield* FeedInbox.sweepAbandoned(Duration.days(1)).pipe(
      Effect.catchAll((error) => Effect.as(Effect.logError("sweep of abandoned uploads failed", error.message), 0))
    )
    if (swept > 0) yield* Effect.logWarning("removed uploads abandoned mid-transfer").pipe(Effect.annotateLogs({ feeds: swept }))
    yield* Effect.sleep(Duration.hours(1))
  }
})

/**
 * The agreement's retention schedule, at start and every six hours: a period measured in days is
 * kept to within hours. An agreement without one is said once in the log.
 */
export const retention = Effect.gen(function*() {
  const agreement = yield* ActiveAgreement.ActiveAgreement
  if (agreement.retention === undefined) {
    return yield* Effect.logWarning("the agreement sets no retention schedule: nothing is deleted on schedule").pipe(
      Effect.annotateLogs({ agreement: agreement.id })
    )
  }
  while (true) {
    yield* Retention.run().pipe(
      Effect.flatMap((report) => {
        const purged = report.lines.filter((l) => l.purged && l.count > 0)
        return purged.length === 0
          ? Effect.void
          : Effect.logInfo("retention run purged records").pipe(Effect.annotateLogs(Object.fromEntries(purged.map((l) => [l.kind, l.count]))))
      }),
      Effect.catchAll((error) => Effect.logError("retention run failed", error.message))
    )
    yield* Effect.sleep(Duration.hours(6))
  }
})
