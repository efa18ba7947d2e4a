/**
 * Durable delivery under crashes (DESIGN.md §6, issue 5): one `encompass serve` process, feeds of
 * 500 notifications, a relay slow enough that deliveries are always in flight, and the gateway
 * killed with SIGKILL at random points (mid-decode or mid-delivery) and restarted each time.
 * Nothing accepted is lost, nothing is decided twice, and the only duplicates the schools can
 * see are re-sends of a message whose acceptance the gateway never recorded — carrying the
 * original's deterministic Message-ID, so they are recognisably the same message.
 *
 * Runs on the store the gateway would use: DATABASE_URL's server, or the embedded PGlite data
 * directory, which must survive `kill -9` and reopen cleanly (the test reopens it after each kill).
 *
 * A killed process's claims are taken over when their lease runs out; the region file sets short
 * ones (`workers.deliveryLease`, `workers.feedLease`), as a force wanting fast takeover would.
 */
import { AuditLog } from "@encompass/audit"
import { TestDatabase } from "@encompass/store"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as CountingSink from "./support/CountingSink.js"
import { type Gateway, messageIdDomain, push, startGateway, stopGateway, until, withStore, writeRegion } from "./support/Gateway.js"
import * as NicheFeeds from "./support/NicheFeeds.js"

const feeds = 2
const perFeed = 250
const total = feeds * perFeed
const kills = 3
/** How long the relay holds each message's answer back. */
const relayDelayMs = 25
/** Deliveries in flight at once: secure-email's `concurrency`, its default `maxConnections`. */
const inFlight = 5
const token = "push-token-for-niche"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-kill-"))
let database: TestDatabase.TestDatabase
let sink: CountingSink.CountingSink
let config = ""
let gateway: Gateway | undefined

const store = () => (database.url === undefined ? { dataDir: path.join(work, "pgdata") } : { url: database.url })
const start = () => startGateway({ config, databaseUrl: database.url })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const health = async (g: Gateway) =>
  (await (await fetch(`http://${g.http}/health`)).json()) as { feedsWaiting: number; notificationsQueued: number }

describe(`kill -9 during delivery (${(process.env["DATABASE_URL"] ?? "") === "" ? "embedded PGlite" : "server Postgres"})`, () => {
  beforeAll(async () => {
    database = await TestDatabase.fresh()
    sink = await CountingSink.start({ delayMs: relayDelayMs })
    config = writeRegion({
      work,
      relay: sink,
      tokens: [{ source: "niche-rms", token }],
      workers: {
        feedPoll: "200 millis",
        deliveryPoll: "200 millis",
        feedLease: "5 seconds",
        attemptTimeout: "2 seconds",
        deliveryLease: "3 seconds"
      }
    })
  })

  afterAll(async () => {
    if (gateway !== undefined) await stopGateway(gateway)
    await sink.close()
    await database.drop()
    fs.rmSync(work, { recursive: true, force: true })
  })

  it(`delivers all ${total} notifications across ${kills} SIGKILLs and restarts; re-sends keep their Message-ID`, async () => {
    const began = Date.now()
    let current = await start()
    gateway = current
    const startedAt = [Date.now() - began]
    const statuses = await Promise.all(Array.from({ length: feeds }, (_, f) =>
      push(current.http, "niche-rms", NicheFeeds.feed({ batch: f + 1, count: perFeed }), token).then((r) => r.status)))
    expect(statuses).toEqual(Array.from({ length: feeds }, () => 202))

    const crashes: Array<{ afterMessages: number; decodedFeeds: number; notificationsClaimed: number; feedsClaimed: number; reopenMs: number }> = []
    for (let k = 0; k < kills; k++) {
      // A random number of messages into this run, then a random moment within the next ones.
      const from = sink.received()
      const after = 15 + Math.floor(Math.random() * 40)
      const g = current
      await until(`${after} more deliveries before kill ${k + 1}`, () => sink.received() >= from + after, 90_000, g.output)
      await sleep(Math.random() * 4 * relayDelayMs)
      g.process.kill("SIGKILL")
      await g.exit
      expect(g.process.signalCode).toBe("SIGKILL")
      const afterMessages = sink.received()
      const decodedFeeds = g.events().filter((e) => e.message === "feed decoded").length

      // The store a crashed process left must open; the dead process's claims are left to expire.
      const reopening = Date.now()
      const [claims, feedClaims] = await withStore(store(), (sql) =>
        Effect.all([
          sql.query`SELECT id FROM notification WHERE state = 'queued' AND claimed_until > now()`,
          sql.query`SELECT id FROM feed WHERE state = 'stored' AND claimed_until > now()`
        ]))
      crashes.push({ afterMessages, decodedFeeds, notificationsClaimed: claims.length, feedsClaimed: feedClaims.length, reopenMs: Date.now() - reopening })

      const restarting = Date.now()
      current = await start()
      gateway = current
      startedAt.push(Date.now() - restarting)
    }

    const g = current
    await until("every feed decoded and every notification delivered", async () => {
      const h = await health(g)
      return h.feedsWaiting === 0 && h.notificationsQueued === 0 && sink.byMessageId.size >= total
    }, 120_000, () => `${sink.byMessageId.size} distinct messages so far\n${g.output()}`)
    const finished = Date.now()
    expect(await stopGateway(g, "SIGTERM")).toBe(0)
    gateway = undefined

    const stored = await withStore(store(), (sql) =>
      Effect.all({
        notifications: sql.query<{ reference: string; version: number; state: string }>`SELECT reference, version, state FROM notification`,
        attempts: sql.query<{ outcome: string; n: number; notifications: number }>`SELECT outcome, count(*)::int AS n,
            count(DISTINCT notification_id)::int AS notifications FROM delivery_attempt GROUP BY outcome`,
        feeds: sql.query<{ state: string; n: number }>`SELECT state, count(*)::int AS n FROM feed GROUP BY state`,
        audit: Effect.flatMap(AuditLog.AuditLog, (audit) => audit.verify)
      }))

    const duplicates = [...sink.byMessageId.entries()].filter(([, n]) => n > 1)
    console.log(JSON.stringify({
      store: database.url === undefined ? "embedded" : "server",
      notifications: total,
      seconds: Math.round((finished - began) / 100) / 10,
      startMs: startedAt,
      crashes,
      received: sink.received(),
      resent: duplicates.length
    }))

    // Nothing lost, nothing decided twice: each occurrence gave exactly one notification, delivered.
    expect(stored.feeds).toEqual([{ state: "processed", n: feeds }])
    expect(stored.notifications.length).toBe(total)
    expect(stored.notifications.filter((n) => n.state !== "delivered")).toEqual([])
    // The relay holds exactly the notifications' deterministic Message-IDs: a re-send after a
    // crash is the same message again, never a new one.
    expect(new Set(sink.byMessageId.keys())).toEqual(
      new Set(stored.notifications.map((n) => `<${n.reference}.v${n.version}@${messageIdDomain}>`))
    )
    // Only a message in flight at a kill can be re-sent, and only once per kill.
    expect(duplicates.length).toBeLessThanOrEqual(kills * inFlight)
    expect(sink.received()).toBe(total + duplicates.reduce((n, [, count]) => n + count - 1, 0))
    // One recorded, successful attempt per notification: a killed attempt leaves no record.
    expect(stored.attempts).toEqual([{ outcome: "delivered", n: total, notifications: total }])
    // Transactions cut short by the kills left the audit chain whole.
    expect(stored.audit._tag).toBe("Intact")
  }, 300_000)
})
