import { AuditLog } from "@encompass/audit"
import { Sql, SqlError, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, HashMap, Layer, List, Logger, Metric, Ref, Stream, TestClock } from "effect"
import { ActiveAgreement, ActiveSources, Alerts, ComplianceReport, DeadlineWatch, FeedInbox, Ingest, Outbox } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"

/** What the region's alert sink was given, in order. */
const notified: Array<Alerts.Alert> = []

const TestLive = Layer.mergeAll(
  FeedInbox.layer,
  Fixtures.directoryLayer,
  ActiveAgreement.ActiveAgreement.layer(Fixtures.tvp),
  Layer.succeed(Alerts.Alerts, { notify: (alert) => Effect.sync(() => notified.push(alert)) })
).pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

const lead = Duration.hours(2)
const region = "thames-valley"

/** Stores one incident's decisions and queues its notifications (undelivered); returns them by recipient. */
const queue = (occurrence: string, occurredAt: string, children: ReadonlyArray<{ ref: string; urn: string }>) =>
  Effect.gen(function*() {
    const items = [Fixtures.incident(occurrence, children.map((c, i) => ({ ...c, line: i + 2 })), { occurredAt })]
    const inbox = yield* FeedInbox.FeedInbox
    const received = yield* inbox.receive({ ...Fixtures.feed(occurrence), content: Stream.succeed(new TextEncoder().encode(occurrence)) }, "file")
    yield* Ingest.process(received.id).pipe(
      Effect.provideService(ActiveSources.ActiveSources, ActiveSources.ActiveSources.fromPlugins([Fixtures.sourceOf(items)]))
    )
    const sql = yield* Sql.Sql
    return yield* sql.query<{ reference: string; deadline: Date }>`SELECT reference, deadline FROM notification
      WHERE occurrence = ${occurrence} ORDER BY recipient`
  })

/** Sets the test clock relative to a deadline. */
const setAt = (deadline: Date, offset: Duration.DurationInput, sign: 1 | -1) =>
  TestClock.setTime(deadline.getTime() + sign * Duration.toMillis(offset))

/** The alerts a scan raised for the given references (scans see the whole store). */
const scanFor = (references: ReadonlyArray<string>) =>
  Effect.map(DeadlineWatch.scan({ atRiskLead: lead }), (alerts) =>
    alerts.filter((a) => references.includes(a.reference)).map((a) => [a.kind, a.reference]))

const delivered = (reference: string, at: Date) =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query`UPDATE notification SET state = 'delivered', delivered_at = ${at}, attempts = 1 WHERE reference = ${reference}`)

layer(TestLive, { timeout: 120_000 })("DeadlineWatch", (it) => {
  it.effect("an undeliverable notification is alerted at risk once before its deadline and missed once after; the report counts it missed", () =>
    Effect.gen(function*() {
      // Friday 20 Nov 2026, 21:00: due Monday 23 Nov 08:30 London (GMT).
      const [dead] = yield* queue("43/7100/26", "2026-11-20T21:00:00Z", [{ ref: "A", urn: "100001" }])
      const { behaviour, plugin } = yield* Fixtures.recordingChannel
      yield* Ref.set(behaviour, "reject")
      yield* Outbox.deliverDue.pipe(Fixtures.withChannels(plugin))
      const [queued] = yield* queue("43/7101/26", "2026-11-20T21:30:00Z", [{ ref: "A", urn: "100002" }])
      if (dead === undefined || queued === undefined) return yield* Effect.dieMessage("nothing was queued")
      const refs = [dead.reference, queued.reference]
      const { deadline } = dead
      expect(deadline.toISOString()).toBe("2026-11-23T08:30:00.000Z")
      expect(queued.deadline).toEqual(deadline)
      // Alerts come most urgent first, then by reference: here, the same deadline.
      const each = (kind: DeadlineWatch.Kind) => [...refs].sort().map((r) => [kind, r])

      yield* setAt(deadline, "3 hours", -1)
      expect(yield* scanFor(refs)).toEqual([])
      yield* setAt(deadline, "1 hour", -1)
      expect(yield* scanFor(refs)).toEqual(each("at-risk"))
      yield* setAt(deadline, "10 minutes", -1)
      expect(yield* scanFor(refs)).toEqual([])
      yield* setAt(deadline, "1 minute", 1)
      expect(yield* scanFor(refs)).toEqual(each("missed"))
      expect(yield* scanFor(refs)).toEqual([])

      const report = yield* ComplianceReport.forDay("2026-11-23", { region })
      expect(report).toMatchObject({ due: 2, deliveredOnTime: 0, deliveredLate: 0, dead: 1, queued: 1, cancelled: 0, superseded: 0, corrections: 0, withdrawals: 0, missed: 2 })
    }))

  it.effect("a notification delivered on time raises nothing and counts on time; one delivered late counts late and missed", () =>
    Effect.gen(function*() {
      // Thursday 3 Dec 2026: due Friday 4 Dec 08:30.
      const [onTime] = yield* queue("43/7200/26", "2026-12-03T21:00:00Z", [{ ref: "A", urn: "100001" }])
      const [late] = yield* queue("43/7201/26", "2026-12-03T22:00:00Z", [{ ref: "A", urn: "100002" }])
      if (onTime === undefined || late === undefined) return yield* Effect.dieMessage("nothing was queued")
      const { deadline } = onTime
      yield* delivered(onTime.reference, new Date(deadline.getTime() - Duration.toMillis("10 hours")))
      yield* setAt(deadline, "1 hour", -1)
      expect(yield* scanFor([onTime.reference, late.reference])).toEqual([["at-risk", late.reference]])
      yield* delivered(late.reference, new Date(deadline.getTime() + Duration.toMillis("2 hours")))
      yield* setAt(deadline, "3 hours", 1)
      expect(yield* scanFor([onTime.reference, late.reference])).toEqual([])

      const report = yield* ComplianceReport.forDay("2026-12-04", { region })
      expect(report).toMatchObject({ due: 2, deliveredOnTime: 1, deliveredLate: 1, dead: 0, queued: 0, missed: 1 })
      // The day before and after hold none of them.
      expect((yield* ComplianceReport.forDay("2026-12-03", { region })).due).toBe(0)
      expect((yield* ComplianceReport.forDay("2026-12-05", { region })).due).toBe(0)
    }))

  it.effect("TVP ISA 3, next school day: an incident on the last day of the summer term, delivered the next morning, is on time, not a miss", () =>
    Effect.gen(function*() {
      // Tuesday 21 Jul 2026, 15:00 London: the last day of the Thames Valley summer term.
      const [notification] = yield* queue("43/7250/26", "2026-07-21T14:00:00Z", [{ ref: "A", urn: "100001" }]).pipe(
        Effect.provideService(ActiveAgreement.ActiveCalendar, Fixtures.calendar)
      )
      if (notification === undefined) return yield* Effect.dieMessage("nothing was queued")
      expect(notification.deadline.toISOString()).toBe("2026-09-02T07:30:00.000Z")
      // Delivered on Wednesday 22 Jul at 10:30, after the 08:30 a weekday count would have set.
      yield* delivered(notification.reference, new Date("2026-07-22T09:30:00Z"))
      expect((yield* ComplianceReport.forDay("2026-07-22", { region })).due).toBe(0)
      const report = yield* ComplianceReport.forDay("2026-09-02", { region })
      expect(report).toMatchObject({ due: 1, deliveredOnTime: 1, deliveredLate: 0, missed: 0 })
    }))

  it.effect("an alert is logged with ids only, audited, counted and handed to the sink, once per kind", () =>
    Effect.gen(function*() {
      // Monday 7 Dec 2026: due Tuesday 8 Dec 08:30.
      const [row] = yield* queue("43/7300/26", "2026-12-07T21:00:00Z", [{ ref: "A", urn: "100001" }])
      if (row === undefined) return yield* Effect.dieMessage("nothing was queued")
      const atRiskBefore = (yield* Metric.value(DeadlineWatch.atRiskTotal.pipe(Metric.tagged("channel", "secure-email")))).count
      const missedBefore = (yield* Metric.value(DeadlineWatch.missedTotal.pipe(Metric.tagged("channel", "secure-email")))).count
      const logged: Array<{ level: string; message: unknown; annotations: Record<string, unknown> }> = []
      const capture = Logger.add(Logger.make(({ annotations, logLevel, message }) => {
        logged.push({ level: logLevel.label, message: List.isList(message) ? List.toArray(message) : message, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
      }))
      yield* setAt(row.deadline, "30 minutes", -1)
      yield* DeadlineWatch.scan({ atRiskLead: lead }).pipe(Effect.provide(capture))
      yield* setAt(row.deadline, "30 minutes", 1)
      yield* DeadlineWatch.scan({ atRiskLead: lead }).pipe(Effect.provide(capture))
      yield* DeadlineWatch.scan({ atRiskLead: lead }).pipe(Effect.provide(capture))

      const ids = { reference: row.reference, recipient: "setting:100001", channel: "secure-email", deadline: "2026-12-08T08:30:00.000Z", state: "queued", attempts: 0 }
      const mine = logged.filter((l) => l.annotations["reference"] === row.reference)
      expect(mine).toEqual([
        { level: "WARN", message: ["notification at risk of missing its deadline"], annotations: ids },
        { level: "ERROR", message: ["notification missed its deadline"], annotations: ids }
      ])
      const events = yield* Effect.flatMap(AuditLog.AuditLog, (a) => Stream.runCollect(a.events({ subjectPrefix: `notification:${row.reference}` })))
      const { reference: _, ...detail } = ids
      expect(Chunk.toReadonlyArray(events).filter((e) => e.stage === "at-risk" || e.stage === "missed").map((e) => [e.stage, e.detail]))
        .toEqual([["at-risk", detail], ["missed", detail]])
      expect((yield* Metric.value(DeadlineWatch.atRiskTotal.pipe(Metric.tagged("channel", "secure-email")))).count).toBe(atRiskBefore + 1)
      expect((yield* Metric.value(DeadlineWatch.missedTotal.pipe(Metric.tagged("channel", "secure-email")))).count).toBe(missedBefore + 1)
      // The sink gets what the log line carries, the deadline as a Date.
      const deadline = new Date("2026-12-08T08:30:00.000Z")
      expect(notified.filter((a) => a.reference === row.reference)).toEqual([
        { ...ids, kind: "at-risk", deadline },
        { ...ids, kind: "missed", deadline }
      ])
    }))

  it.effect("the report counts the day's withheld and needs-review decisions by rule and clause", () =>
    Effect.gen(function*() {
      // Tuesday 8 Dec 2026, due Wednesday 9 Dec: one child shared, one at a setting not signed up, one at an unknown URN.
      yield* queue("43/7400/26", "2026-12-08T21:00:00Z", [
        { ref: "A", urn: "100001" },
        { ref: "B", urn: "100007" },
        { ref: "C", urn: "999999" }
      ])
      const report = yield* ComplianceReport.forDay("2026-12-09", { region })
      expect(report).toMatchObject({ due: 1, queued: 1 })
      expect(report.withheld.map((r) => ({ ...r }))).toEqual([{ rule: "setting-signed-up", clause: "TVP ISA 4.2, 7", count: 1 }])
      expect(report.needsReview.map((r) => ({ ...r }))).toEqual([{ rule: "setting-unknown", clause: "TVP ISA 4.2, 7", count: 1 }])
      expect(ComplianceReport.format(report)).toContain("Decisions withheld  1\n       1  setting-signed-up (TVP ISA 4.2, 7)")
      // Counted on the deadline's day, not the day they were decided.
      expect((yield* ComplianceReport.forDay("2026-12-08", { region })).withheld).toEqual([])
    }))

  it.effect("a date that is not YYYY-MM-DD is a typed error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ComplianceReport.forDay("2026-02-30", { region }))
      expect(error).toMatchObject({ _tag: "ComplianceReportError", reason: "InvalidDate" })
    }))

  it.effect("the watch logs a failed scan and scans again at the next interval", () =>
    Effect.gen(function*() {
      const sql = yield* Sql.Sql
      const attempts = yield* Ref.make(0)
      const logged: Array<string> = []
      const down: Sql.Sql = {
        ...sql,
        transaction: () =>
          Effect.zipRight(Ref.update(attempts, (n) => n + 1), Effect.fail(new SqlError.SqlError({ module: "Sql", method: "transaction", reason: "Connection", detail: "connection refused" })))
      }
      const fiber = yield* Effect.fork(DeadlineWatch.watch({ interval: Duration.minutes(1), atRiskLead: lead }).pipe(
        Effect.provideService(Sql.Sql, down),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => {
          logged.push(`${logLevel.label} ${List.isList(message) ? List.toArray(message)[0] : message}`)
        })))
      ))
      yield* TestClock.adjust(Duration.minutes(2))
      expect(yield* Ref.get(attempts)).toBe(3)
      expect(logged).toEqual(Array.from({ length: 3 }, () => "ERROR deadline scan failed; trying again at the next interval"))
      yield* Fiber.interrupt(fiber)
    }))
})
