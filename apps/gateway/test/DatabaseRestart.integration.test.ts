/**
 * The database restarts under a running gateway (issue 10, item 12): one `encompass serve` on a
 * PostgreSQL server of the test's own (initdb on a free port, so stopping it disturbs no other
 * database), a real smtp-server as the schools' relay. The server is restarted while a feed is
 * being decoded, and stopped again just as the relay accepts a mail, before the gateway can
 * record it. The gateway never exits; the cut-off feed is taken up again within seconds (not
 * after its 10-minute lease); the accepted mail's outcome is recorded once the database is back,
 * so it is not sent again; every notification is delivered, and every message the relay saw
 * carries a notification's own Message-ID, so any re-send would be the same message.
 *
 * The leases are the defaults (feed 10 minutes, delivery 2 minutes): a claim kept after a
 * database error would hold its work far beyond this test's time limits. Each restart waits on an
 * observable phase (incidents committed, a mail held at the relay), never a fixed sleep.
 *
 * It always uses its own server, so it runs once: in the embedded run of `npm test`, skipped in
 * the DATABASE_URL run (which would only repeat it).
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as CountingSink from "./support/CountingSink.js"
import { type Gateway, type LogEvent, messageIdDomain, push, startGateway, stopGateway, until, withStore, writeRegion } from "./support/Gateway.js"
import * as NicheFeeds from "./support/NicheFeeds.js"
import * as ThrowawayPostgres from "./support/ThrowawayPostgres.js"

const token = "push-token-for-niche"
const decodingCount = 100
const deliveryCount = 6
const inDatabaseUrlRun = (process.env["DATABASE_URL"] ?? "") !== ""

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-dbrestart-"))
let pg: ThrowawayPostgres.ThrowawayPostgres | undefined
let sink: CountingSink.CountingSink | undefined
let gateway: Gateway | undefined
/** Set by the delivery phase: the relay holds the next message until this resolves. */
let holdNext: ((messageId: string) => Promise<void>) | undefined

/** Whether a log line says `text` (a line logged with a reason carries both as an array). */
const says = (e: LogEvent, text: string) => e.message === text || (Array.isArray(e.message) && e.message[0] === text)
const messageIdOf = (n: { readonly reference: string; readonly version: number }) => `<${n.reference}.v${n.version}@${messageIdDomain}>`
/** Incidents committed so far, or -1 while the database is unreachable. */
const incidentsIn = (url: string) =>
  withStore({ url }, (sql) => sql.query<{ n: number }>`SELECT count(*)::int AS n FROM incident`).then((rows) => rows[0]?.n ?? 0, () => -1)

describe.skipIf(inDatabaseUrlRun || !ThrowawayPostgres.available)(
  ThrowawayPostgres.titled(`database restarts under a running gateway (own throwaway PostgreSQL server${inDatabaseUrlRun ? "; not repeated in the DATABASE_URL run" : ""})`),
  () => {
    beforeAll(async () => {
      pg = await ThrowawayPostgres.create()
      sink = await CountingSink.start({
        beforeAnswer: (id) => {
          const hold = holdNext
          holdNext = undefined
          return hold === undefined ? Promise.resolve() : hold(id)
        }
      })
    })

    afterAll(async () => {
      if (gateway !== undefined) await stopGateway(gateway)
      await sink?.close()
      await pg?.destroy()
      fs.rmSync(work, { recursive: true, force: true })
    })

    it("survives a restart while a feed is decoded and one just as a mail is accepted: the feed resumes within seconds, nothing is lost, nothing is sent twice under another Message-ID", async () => {
      if (pg === undefined || sink === undefined) throw new Error("setup failed")
      const server = pg
      const relay = sink
      const config = writeRegion({
        work,
        relay,
        tokens: [{ source: "niche-rms", token }],
        workers: { feedPoll: "200 millis", deliveryPoll: "200 millis" }
      })
      const g = await startGateway({ config, databaseUrl: server.url })
      gateway = g
      const alive = () => {
        if (g.process.exitCode !== null || g.process.signalCode !== null) throw new Error(`the gateway exited:\n${g.output()}`)
      }
      const decoded = () => g.events().filter((e) => says(e, "feed decoded")).length
      const incidents = () => {
        alive()
        return incidentsIn(server.url)
      }

      // 1. Restart while the feed is being decoded: some incidents committed, the feed not finished.
      expect((await push(g.http, "niche-rms", NicheFeeds.feed({ batch: 1, count: decodingCount }), token)).status).toBe(202)
      await until("the feed's first incidents committed", async () => (await incidents()) > 0, 30_000, g.output)
      expect(decoded()).toBe(0)
      const restartBegan = Date.now()
      await server.stop()
      await server.start()
      const restartMs = Date.now() - restartBegan
      // Decoding goes on: more incidents than the restart found (the 10-minute lease would hold them).
      const committed = await incidents()
      await until("decoding to resume after the restart", async () => (await incidents()) > committed || decoded() >= 1, 30_000, g.output)
      const resumedMs = Date.now() - restartBegan - restartMs
      // The restart did cut the decoding off (the feed was not finished before it).
      expect(g.events().some((e) => says(e, "feed could not be decoded") && e.annotations["feed"] === "1")).toBe(true)
      await until("the cut-off feed decoded after the restart", () => {
        alive()
        return decoded() >= 1
      }, 30_000, g.output)
      const decodedAfterMs = Date.now() - restartBegan
      await until(`all ${decodingCount} notifications of the first feed accepted`, () => {
        alive()
        return relay.byMessageId.size >= decodingCount
      }, 45_000, () => `${relay.byMessageId.size} accepted\n${g.output()}`)

      // 2. Stop the database just as the relay accepts a mail: the gateway cannot record it yet.
      let held = ""
      let recordingFailed = 0
      holdNext = async (id) => {
        held = id
        await server.stop()
        recordingFailed = g.events().length
      }
      expect((await push(g.http, "niche-rms", NicheFeeds.feed({ batch: 2, count: deliveryCount }), token)).status).toBe(202)
      await until("a mail held at the relay while the database stops", () => {
        alive()
        return held !== "" && recordingFailed > 0
      }, 30_000, g.output)
      // The relay has answered 250; the database stays down until the gateway has met it so.
      await until("the gateway failing to reach the database after the mail was accepted", () => {
        alive()
        return g.events().slice(recordingFailed).some((e) => /ECONNREFUSED/.test(JSON.stringify(e.message)))
      }, 30_000, g.output)
      // Meanwhile /health says the database is away, and the process stays up.
      expect((await fetch(`http://${g.http}/health`)).status).toBe(503)
      await server.start()
      await until(`all ${decodingCount + deliveryCount} notifications accepted`, () => {
        alive()
        return relay.byMessageId.size >= decodingCount + deliveryCount
      }, 45_000, () => `${relay.byMessageId.size} accepted\n${g.output()}`)

      const stored = await withStore({ url: server.url }, (sql) =>
        Effect.all({
          notifications: sql.query<{ reference: string; version: number; state: string }>`SELECT reference, version, state FROM notification`,
          attempts: sql.query<{ reference: string; outcome: string }>`SELECT n.reference, a.outcome FROM delivery_attempt a
            JOIN notification n ON n.id = a.notification_id`,
          feeds: sql.query<{ state: string }>`SELECT state FROM feed`
        }))
      alive()
      expect((await fetch(`http://${g.http}/health`)).status).toBe(200)
      expect(await stopGateway(g, "SIGTERM")).toBe(0)
      gateway = undefined
      const duplicates = [...relay.byMessageId.entries()].filter(([, n]) => n > 1)
      console.log(JSON.stringify({ restartMs, resumedMs, decodedAfterMs, accepted: relay.received(), duplicates: duplicates.length }))

      // Both feeds decoded in full, every notification delivered, under its own Message-ID only.
      expect(stored.feeds.map((f) => f.state)).toEqual(["processed", "processed"])
      expect(stored.notifications.length).toBe(decodingCount + deliveryCount)
      expect(stored.notifications.filter((n) => n.state !== "delivered")).toEqual([])
      expect(new Set(relay.byMessageId.keys())).toEqual(new Set(stored.notifications.map(messageIdOf)))
      // The mail accepted while the database was down was recorded as delivered, and not sent again.
      expect(relay.byMessageId.get(held)).toBe(1)
      const heldReference = stored.notifications.find((n) => messageIdOf(n) === held)?.reference
      expect(stored.attempts.filter((a) => a.reference === heldReference).map((a) => a.outcome)).toEqual(["delivered"])
    }, 180_000)
  }
)
