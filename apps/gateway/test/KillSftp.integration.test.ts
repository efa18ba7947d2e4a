/**
 * Durable SFTP delivery under crashes (DESIGN.md §6, issue 11): one `encompass serve` process whose
 * schools all take their notifications over SFTP, a real OpenSSH sshd behind a slow link so that
 * uploads are always in flight, and the gateway killed with SIGKILL while a temporary file is on
 * the server — mid-upload — and restarted each time. Afterwards the folder holds exactly one file
 * per notification, under its final name, each the whole file whose delivery the gateway recorded,
 * and no temporary file; a reader polling the folder throughout never saw an incomplete file under
 * a final name; the audit chain is whole.
 *
 * Runs on the store the gateway would use: DATABASE_URL's server, or the embedded PGlite data
 * directory. Short leases (`workers.deliveryLease`) let the restarted process take the killed
 * one's uploads over quickly.
 */
import { AuditLog } from "@encompass/audit"
import { OpenSshd } from "@encompass/plugin-testkit"
import { TestDatabase } from "@encompass/store"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demo, type Gateway, gatewayRoot, masterKey, push, sha256, startGateway, stopGateway, until, withStore } from "./support/Gateway.js"
import * as NicheFeeds from "./support/NicheFeeds.js"
import * as SlowLink from "./support/SlowLink.js"

const total = 48
const kills = 3
const token = "push-token-for-niche"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-kill-sftp-"))
const scope = Effect.runSync(Scope.make())
let database: TestDatabase.TestDatabase
let sshd: Context.Tag.Service<OpenSshd.Sshd>
let link: SlowLink.SlowLink
let folder = ""
let config = ""
let gateway: Gateway | undefined

const store = () => (database.url === undefined ? { dataDir: path.join(work, "pgdata") } : { url: database.url })
const start = () => startGateway({ config, databaseUrl: database.url })
const health = async (g: Gateway) =>
  (await (await fetch(`http://${g.http}/health`)).json()) as { feedsWaiting: number; notificationsQueued: number }

/** What the channel's README tells a recipient to take: final names, never a hidden one. */
const isNotification = (name: string) => /^encompass-.*\.json\.asc$/.test(name)
const isTemporary = (name: string) => name.startsWith(".")

/**
 * The recipient's side, polling the folder every few milliseconds as an eager reader would: each
 * file it sees under a final name must be a whole OpenPGP message the moment it appears.
 */
const watch = () => {
  const seen = new Set<string>()
  const incomplete: Array<string> = []
  let names: ReadonlyArray<string> = []
  let stopped = false
  const look = () => {
    names = fs.readdirSync(folder)
    for (const name of names.filter((n) => !isTemporary(n) && !seen.has(n))) {
      const content = fs.readFileSync(path.join(folder, name), { encoding: "utf8", flag: "r" })
      seen.add(name)
      if (!isNotification(name) || !content.trimEnd().endsWith("-----END PGP MESSAGE-----")) incomplete.push(`${name} (${content.length} bytes)`)
    }
  }
  const loop = () => {
    if (stopped) return
    look()
    setTimeout(loop, 2)
  }
  loop()
  return {
    seen,
    incomplete,
    temporaries: () => names.filter(isTemporary),
    /** Resolves once `check` holds, looking at the folder every 2 ms: fast enough to act mid-upload. */
    when: async (what: string, check: () => boolean, timeoutMs: number, context: () => string) => {
      const end = Date.now() + timeoutMs
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${context()}`)
        await new Promise((r) => setTimeout(r, 2))
      }
    },
    stop: () => {
      stopped = true
    }
  }
}

/** The Thames Valley agreement, copied for this region with SFTP also permitted for settings. */
const writeAgreement = (file: string) => {
  const shipped = fs.readFileSync(path.join(gatewayRoot, "../../libs/isa-policy/agreements/tvp-schools.yaml"), "utf8")
  const allowed = "          - channel: secure-email\n            form: password-protected-attachment\n"
  expect(shipped).toContain(allowed)
  fs.writeFileSync(file, shipped.replace(allowed, `${allowed}          - channel: sftp\n            form: password-protected-attachment\n`))
}

const writeRegion = () => {
  fs.writeFileSync(path.join(work, "master.key"), `${masterKey}\n`, { mode: 0o600 })
  writeAgreement(path.join(work, "agreement.yaml"))
  // The demo's settings, every one of them reached over SFTP.
  const directory = fs.readFileSync(path.join(demo, "directory.csv"), "utf8").replaceAll(/,secure-email$/gm, ",sftp")
  fs.writeFileSync(path.join(work, "directory.csv"), directory)
  // The demo's attachment passwords, by the SFTP channel's recipient keys.
  const passwords = JSON.parse(fs.readFileSync(path.join(demo, "passwords.json"), "utf8")) as Record<string, string>
  fs.writeFileSync(path.join(work, "sftp-passwords.json"), JSON.stringify(Object.fromEntries(Object.entries(passwords).map(([urn, p]) => [`setting:${urn}`, p]))))
  fs.writeFileSync(path.join(work, "sftp.json"), JSON.stringify({
    host: "127.0.0.1",
    port: link.port,
    username: sshd.user,
    privateKey: sshd.clientKey,
    hostKey: sshd.hostKey,
    directory: folder
  }))
  const file = path.join(work, "region.yaml")
  fs.writeFileSync(file, [
    "version: 1",
    "region: thames-valley",
    "dataDir: ./pgdata",
    "masterKeyFile: ./master.key",
    "agreement: ./agreement.yaml",
    "directory: ./directory.csv",
    "sources:",
    "  - id: niche-rms",
    "channels:",
    "  - id: sftp",
    "    settings: ./sftp.json",
    "    passwords: ./sftp-passwords.json",
    "    concurrency: 3",
    "    retry: { base: 200 millis, cap: 1 second, budget: 100 }",
    "http:",
    "  port: 0",
    "  tokens:",
    `    - { source: niche-rms, sha256: ${sha256(token)} }`,
    "workers:",
    "  feedPoll: 200 millis",
    "  deliveryPoll: 200 millis",
    "  feedLease: 5 seconds",
    "  attemptTimeout: 4 seconds",
    "  deliveryLease: 5 seconds",
    ""
  ].join("\n"))
  return file
}

describe.skipIf(!OpenSshd.runSshTests)(
  OpenSshd.titled(`kill -9 during SFTP uploads (${(process.env["DATABASE_URL"] ?? "") === "" ? "embedded PGlite" : "server Postgres"})`),
  () => {
    beforeAll(async () => {
      database = await TestDatabase.fresh()
      sshd = await Effect.runPromise(Scope.extend(Effect.map(Layer.build(OpenSshd.SshdLive), Context.get(OpenSshd.Sshd)), scope))
      folder = sshd.folder("inbound")
      // Each round trip a little longer, so an upload (open, write, close, rename) stays in flight a while.
      link = await SlowLink.start({ to: sshd.port, latencyMs: 8, bytesPerSecond: 256 * 1024 })
      config = writeRegion()
    })

    afterAll(async () => {
      if (gateway !== undefined) await stopGateway(gateway)
      await link.close()
      await Effect.runPromise(Scope.close(scope, Exit.void))
      await database.drop()
      fs.rmSync(work, { recursive: true, force: true })
    })

    it(`delivers all ${total} notifications as one file each across ${kills} SIGKILLs mid-upload and restarts; no temporary file is left`, async () => {
      const reader = watch()
      try {
        let current = await start()
        gateway = current
        expect((await push(current.http, "niche-rms", NicheFeeds.feed({ batch: 1, count: total }), token)).status).toBe(202)

        const crashes: Array<{ files: number; caught: string; left: ReadonlyArray<string> }> = []
        for (let k = 0; k < kills; k++) {
          // A few more files into this run, then the moment a new upload starts: its temporary file
          // appears at the SFTP open, several round trips before its rename.
          const from = reader.seen.size
          const after = 3 + Math.floor(Math.random() * 6)
          const g = current
          await reader.when(`${after} more files before kill ${k + 1}`, () => reader.seen.size >= from + after, 60_000, g.output)
          const earlier = new Set(reader.temporaries())
          await reader.when(`an upload to start before kill ${k + 1}`, () => reader.temporaries().some((n) => !earlier.has(n)), 60_000, g.output)
          g.process.kill("SIGKILL")
          const caught = reader.temporaries().find((n) => !earlier.has(n)) ?? ""
          await g.exit
          expect(g.process.signalCode).toBe("SIGKILL")
          crashes.push({ files: reader.seen.size, caught, left: fs.readdirSync(folder).filter(isTemporary) })
          current = await start()
          gateway = current
        }

        const g = current
        await until("every notification delivered", async () => {
          const h = await health(g)
          return h.feedsWaiting === 0 && h.notificationsQueued === 0
        }, 60_000, () => `${reader.seen.size} files so far\n${g.output()}`)
        expect(await stopGateway(g, "SIGTERM")).toBe(0)
        gateway = undefined
        reader.stop()

        const stored = await withStore(store(), (sql) =>
          Effect.all({
            notifications: sql.query<{ reference: string; version: number; state: string; detail: string }>`SELECT n.reference, n.version, n.state, a.detail
              FROM notification n LEFT JOIN delivery_attempt a ON a.notification_id = n.id AND a.outcome = 'delivered'`,
            attempts: sql.query<{ outcome: string; n: number; notifications: number }>`SELECT outcome, count(*)::int AS n,
              count(DISTINCT notification_id)::int AS notifications FROM delivery_attempt GROUP BY outcome`,
            failures: sql.query<{ detail: string }>`SELECT detail FROM delivery_attempt WHERE outcome <> 'delivered'`,
            audit: Effect.flatMap(AuditLog.AuditLog, (audit) => audit.verify)
          }))
        console.log(JSON.stringify({ store: database.url === undefined ? "embedded" : "server", notifications: total, crashes }))

        // Every kill caught an upload in flight: it left that upload's temporary file on the server.
        expect(crashes.every((c) => c.files < total && c.left.includes(c.caught)), JSON.stringify(crashes)).toBe(true)
        expect(stored.notifications.length).toBe(total)
        expect(stored.notifications.filter((n) => n.state !== "delivered")).toEqual([])
        // One file per notification under its final name, and nothing else: no temporary file left.
        const names = fs.readdirSync(folder).sort()
        expect(names).toEqual(stored.notifications.map((n) => `encompass-${n.reference}-v${n.version}.json.asc`).sort())
        // Each the whole file whose delivery was recorded (the receipt's sha256).
        for (const n of stored.notifications) {
          const file = path.join(folder, `encompass-${n.reference}-v${n.version}.json.asc`)
          expect(n.detail).toContain(`sha256 ${createHash("sha256").update(fs.readFileSync(file)).digest("hex")}`)
        }
        // The reader never saw an incomplete file, or anything but a notification, under a final name.
        expect(reader.incomplete).toEqual([])
        // One recorded, successful attempt per notification: a killed attempt leaves no record.
        expect(stored.attempts, JSON.stringify(stored.failures)).toEqual([{ outcome: "delivered", n: total, notifications: total }])
        expect(stored.audit._tag).toBe("Intact")
      } finally {
        reader.stop()
      }
    }, 120_000)
  }
)
