/**
 * The example region as shipped, run as its quick start says (apps/gateway/README.md): the demo's
 * mail sink (`encompass demo sink`), `encompass serve --config examples/region.yaml`, today's
 * sample feed (`encompass demo feed`) pushed with the example's token. Only the data folder, the
 * anchors file and the ports are moved, so a test does not touch `.encompass/` or clash with a gateway on 8080 or
 * a sink on 2525. Every notification is delivered, and none is logged as missed or failed.
 */
import { TestDatabase } from "@encompass/store"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, expect, it } from "vitest"
import * as YAML from "yaml"
import * as Gateway from "./support/Gateway.js"

const examples = path.join(Gateway.gatewayRoot, "examples")
const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-example-"))
const stops: Array<() => Promise<unknown>> = []

afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
  fs.rmSync(work, { recursive: true, force: true })
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** The example region file with its relative paths made absolute, and the data folder and ports moved into `work`. */
const exampleRegion = (sinkPort: number) => {
  const relay = JSON.parse(fs.readFileSync(path.join(examples, "relay.json"), "utf8")) as Record<string, unknown>
  fs.writeFileSync(path.join(work, "relay.json"), JSON.stringify({ ...relay, port: sinkPort }))
  const region = YAML.parse(fs.readFileSync(path.join(examples, "region.yaml"), "utf8")) as {
    dataDir: string
    masterKeyFile: string
    anchorsFile: string
    agreement: string
    directory: string
    channels: Array<{ settings: string; passwords: string }>
    http: { port: number }
  }
  const at = (file: string) => path.resolve(examples, file)
  region.dataDir = path.join(work, "pgdata")
  region.masterKeyFile = path.join(work, "master.key")
  region.anchorsFile = path.join(work, "anchors.jsonl")
  region.agreement = at(region.agreement)
  region.directory = at(region.directory)
  for (const channel of region.channels) {
    channel.settings = path.join(work, "relay.json")
    channel.passwords = at(channel.passwords)
  }
  region.http.port = 0
  const file = path.join(work, "region.yaml")
  fs.writeFileSync(file, YAML.stringify(region))
  // The key exists before start, as it must with a server database.
  fs.writeFileSync(region.masterKeyFile, `${Gateway.masterKey}\n`, { mode: 0o600 })
  return file
}

it("the example region delivers today's sample feed to the demo sink, with no deadline missed", async () => {
  const sinkPort = await freePort()
  const sink = spawn(process.execPath, ["dist/encompass.mjs", "demo", "sink", "--out", path.join(work, "sink"), "--port", String(sinkPort)], {
    cwd: Gateway.cliRoot,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let sinkOutput = ""
  sink.stdout.on("data", (d: Buffer) => (sinkOutput += d.toString()))
  sink.stderr.on("data", (d: Buffer) => (sinkOutput += d.toString()))
  stops.push(() => new Promise((resolve) => (sink.exitCode === null ? (sink.once("exit", resolve), sink.kill("SIGTERM")) : resolve(null))))
  await Gateway.until("the sink to listen", () => sinkOutput.includes(`Mail sink on 127.0.0.1:${sinkPort}`), 60_000, () => sinkOutput)

  const database = await TestDatabase.fresh()
  stops.push(() => database.drop())
  const gateway = await Gateway.startGateway({ config: exampleRegion(sinkPort), databaseUrl: database.url })
  stops.push(() => Gateway.stopGateway(gateway))

  const feed = await Gateway.encompass(["demo", "feed"], database.url)
  expect(feed.code).toBe(0)
  const pushed = await Gateway.push(gateway.http, "niche-rms", feed.stdout, "example-niche-token")
  expect(pushed.status).toBe(202)

  // The demo feed's 18 notifications (apps/cli/demo/README.md), each one email.
  const mail = path.join(work, "sink/mail")
  const mails = () => (fs.existsSync(mail) ? fs.readdirSync(mail).length : 0)
  await Gateway.until("18 emails in the sink", () => mails() >= 18, 120_000, () => gateway.output())
  await Gateway.until("the outbox to be empty", async () => {
    const health = await (await fetch(`http://${gateway.http}/health`)).json() as { feedsWaiting: number; notificationsQueued: number }
    return health.feedsWaiting === 0 && health.notificationsQueued === 0
  }, 60_000, () => gateway.output())
  expect(mails()).toBe(18)

  expect(await Gateway.stopGateway(gateway, "SIGTERM")).toBe(0)
  // Dated for today, every one is delivered before its deadline (not late, as November's dates made them).
  const late = await Gateway.withStore(database.url === undefined ? { dataDir: path.join(work, "pgdata") } : { url: database.url }, (sql) =>
    sql.query<{ n: number; late: number }>`SELECT count(*)::int AS n, count(*) FILTER (WHERE delivered_at IS NULL OR delivered_at > deadline)::int AS late
      FROM notification`)
  expect(late).toEqual([{ n: 18, late: 0 }])
  const messages = gateway.events().map((e) => e.message)
  expect(messages).toContain("gateway stopped")
  // Stopping signed the head, and copied the anchor outside the database.
  const anchors = fs.readFileSync(path.join(work, "anchors.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { seq: number })
  expect(anchors.at(-1)?.seq).toBeGreaterThan(0)
  for (const unwanted of ["notification missed its deadline", "notification at risk of missing its deadline", "delivery attempt failed", "notification dead-lettered"]) {
    expect(messages).not.toContain(unwanted)
  }
}, 300_000)
