/**
 * `encompass serve` as an operator runs it: a child process on a region file, against the store a
 * user would point it at (DATABASE_URL, or embedded), a real OpenSSH sshd as the force's SFTP
 * server, a real SMTP client for the inbox, HTTP pushes, and a local mail sink as the schools'
 * relay. Feeds arriving by each transport become delivered notifications; SIGTERM stops it
 * cleanly; the quarantine commands replay a corrected record.
 */
import { OpenSshd } from "@encompass/plugin-testkit"
import { TestDatabase } from "@encompass/store"
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { simpleParser } from "mailparser"
import nodemailer from "nodemailer"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as SmtpInbox from "../src/intake/SmtpInbox.js"
import * as CountingSink from "./support/CountingSink.js"
import * as Gateway from "./support/Gateway.js"

const { demo, tls } = Gateway

const work = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-serve-"))
const token = "push-token-for-niche"
const athenaToken = "push-token-for-athena"
const smtpPassword = "smtp-password-for-niche"

const feedLines = fs.readFileSync(path.join(demo, "niche-feed.csv"), "utf8").split("\n")
const header = feedLines[0] ?? ""
/** A Niche feed of the demo's rows for one occurrence, optionally altered. */
const feedOf = (occurrence: string, alter: (row: string) => string = (row) => row) =>
  [header, ...feedLines.filter((l) => l.startsWith(`${occurrence},`)).map(alter), ""].join("\n")
// Each goes to a signed-up school (demo directory), so each gives at least one email.
const httpFeed = feedOf("43/261101/26")
const smtpFeed = feedOf("43/261103/26")
const sftpFeed = feedOf("43/261109/26")
const badFeed = feedOf("43/261101/26", (row) => row.replace("43/261101/26", "43/261199/26").replace("2017-04-12", "2017-02-30"))

const scope = Effect.runSync(Scope.make())
let sink: CountingSink.CountingSink
let sshd: Context.Tag.Service<OpenSshd.Sshd>
let database: TestDatabase.TestDatabase
let gateway: Gateway.Gateway
let smtp = { host: "", port: 0 }
let drop = ""

const output = () => gateway.output()
const events = () => gateway.events()
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) =>
  Gateway.until(what, check, timeoutMs, () => `gateway output:\n${output()}`)
const encompass = (args: ReadonlyArray<string>) => Gateway.encompass(args, database.url)
const push = (source: string, body: string, bearer: string | null = token) => Gateway.push(gateway.http, source, body, bearer)

describe.skipIf(!OpenSshd.runSshTests)(OpenSshd.titled("encompass serve"), () => {
  beforeAll(async () => {
    database = await TestDatabase.fresh()
    sink = await CountingSink.start({ directory: path.join(work, "mail") })
    sshd = await Effect.runPromise(Scope.extend(Effect.map(Layer.build(OpenSshd.SshdLive), Context.get(OpenSshd.Sshd)), scope))
    drop = sshd.folder("outbound")
    const passwordHash = Redacted.value(await Effect.runPromise(SmtpInbox.hashPassword(Redacted.make(smtpPassword))))
    const config = Gateway.writeRegion({
      work,
      relay: sink,
      tokens: [{ source: "niche-rms", token }, { source: "athena", token: athenaToken }],
      maxFeedBytes: 20000,
      sections: [
        "smtp:",
        "  host: 127.0.0.1",
        "  port: 0",
        `  certFile: ${path.join(demo, "tls/sink-cert.pem")}`,
        `  keyFile: ${path.join(demo, "tls/sink-key.pem")}`,
        "  accounts:",
        `    - { username: niche-export, passwordHash: "${passwordHash}" }`,
        "  senders:",
        "    - { address: niche-export@police.example, account: niche-export, source: niche-rms }",
        "sftp:",
        "  - source: niche-rms",
        "    host: 127.0.0.1",
        `    port: ${sshd.port}`,
        `    username: ${sshd.user}`,
        `    privateKey: ${sshd.clientKey}`,
        `    hostKey: "${sshd.hostKey}"`,
        `    directory: ${drop}`,
        "    pollInterval: 500 millis",
        "    stableFor: 300 millis"
      ],
      workers: { feedPoll: "1 second", deliveryPoll: "1 second" }
    })
    gateway = await Gateway.startGateway({ config, databaseUrl: database.url })
    const [host = "", port = "0"] = String(gateway.started["smtp"]).split(":")
    smtp = { host, port: Number(port) }
  }, 180_000)

  afterAll(async () => {
    if (gateway !== undefined) await Gateway.stopGateway(gateway)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await sink.close()
    await database.drop()
    fs.rmSync(work, { recursive: true, force: true })
  })

  it("answers health with the region and its store", async () => {
    const response = await fetch(`http://${gateway.http}/health`)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ status: "ok", region: "thames-valley", database: database.url === undefined ? "embedded" : "server" })
  })

  it("refuses a push without a valid token, for another source, for a source not enabled, or over the size limit", async () => {
    expect((await push("niche-rms", httpFeed, null)).status).toBe(401)
    expect((await push("niche-rms", httpFeed, "not-the-token")).status).toBe(401)
    expect((await push("niche-rms", httpFeed, athenaToken)).status).toBe(403)
    expect((await push("athena", httpFeed, athenaToken)).status).toBe(404)
    expect((await push("niche-rms", `${httpFeed}${"x".repeat(25_000)}`)).status).toBe(413)
  })

  it("a pushed feed is stored (202, its id), decoded and delivered; the same bytes again are a repeat", async () => {
    const before = sink.received()
    const first = await push("niche-rms", httpFeed)
    expect(first.status).toBe(202)
    const accepted = await first.json() as { feed: string; repeat: boolean }
    expect(accepted.repeat).toBe(false)
    const again = await (await push("niche-rms", httpFeed)).json() as { feed: string; repeat: boolean }
    expect(again).toMatchObject({ feed: accepted.feed, repeat: true })
    await until("the pushed feed's email", () => sink.received() > before)
  })

  it("a feed emailed by an allow-listed sender over STARTTLS + AUTH is delivered; another sender is refused", async () => {
    const transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      requireTLS: true,
      tls: { ca: tls.cert, servername: "localhost" },
      auth: { user: "niche-export", pass: smtpPassword }
    })
    const mail = (from: string) =>
      transport.sendMail({ from, to: "intake@gateway.example", subject: "export", text: "attached", attachments: [{ filename: "export.csv", content: smtpFeed }] })
    const refused = await mail("someone-else@police.example").then(() => undefined, (e: { responseCode?: number }) => e.responseCode)
    expect(refused).toBe(550)
    const before = sink.received()
    await mail("niche-export@police.example")
    await until("the emailed feed's email", () => sink.received() > before)
    transport.close()
  })

  it("a feed uploaded to the force's SFTP folder is picked up, moved to done/ and delivered", async () => {
    const before = sink.received()
    const local = path.join(work, "upload.csv")
    fs.writeFileSync(local, sftpFeed)
    await Effect.runPromise(sshd.upload(local, `${drop}/export.csv`))
    await until("the SFTP feed to be moved to done/", () => fs.existsSync(path.join(drop, "done", "export.csv")))
    await until("the SFTP feed's email", () => sink.received() > before)
  })

  it("a corrected record (version 2) reaches the school that had version 1 as a correction naming it (TVP ISA 4.1)", async () => {
    const corrected = feedOf("43/261101/26", (row) =>
      row.replace(",RG1 3QT,1,", ",RG1 3QT,2,").replace("\"14 Larkspur Close, Reading\"", "\"16 Larkspur Close, Reading\""))
    expect((await push("niche-rms", corrected)).status).toBe(202)
    const mails = () =>
      Promise.all(fs.readdirSync(sink.directory).filter((f) => f.endsWith(".eml")).map((f) => simpleParser(fs.readFileSync(path.join(sink.directory, f)))))
    const correctionsIn = (all: Awaited<ReturnType<typeof mails>>) => all.filter((m) => m.subject?.startsWith("Operation Encompass correction"))
    // Other tests' emails may still be arriving, so wait for this one by its subject.
    await until("the correction's email", async () => correctionsIn(await mails()).length > 0)
    const all = await mails()
    const [correction, ...more] = correctionsIn(all)
    expect(more).toEqual([])
    const original = /CORRECTION of Operation Encompass notification (EG-[0-9A-F-]+)/.exec(correction?.text ?? "")?.[1]
    const originalMail = all.find((m) => m.subject === `Operation Encompass notification — reference ${original}`)
    expect(originalMail).toBeDefined()
    expect(correction?.to).toEqual(originalMail?.to)
  })

  it("logs are JSON lines and carry no personal data from the feeds", () => {
    expect(events().length).toBeGreaterThan(3)
    for (const name of ["Amelia", "Hartwell", "Larkspur", "2017-04-12", smtpPassword, token]) expect(output()).not.toContain(name)
  })

  it("a bad record is quarantined; the operator reads it, corrects it and replays it", async () => {
    const response = await push("niche-rms", badFeed)
    expect(response.status).toBe(202)
    const config = path.join(work, "region.yaml")
    // The embedded store has one process: the operator commands run once the service has stopped.
    await until("the bad feed to be decoded", () => events().some((e) => e.message === "feed decoded" && Number(e.annotations["rejected"]) > 0))
    expect(await Gateway.stopGateway(gateway, "SIGTERM")).toBe(0)
    expect(events().some((e) => e.message === "gateway stopped")).toBe(true)

    const listed = await encompass(["quarantine", "list", "--config", config])
    expect(listed.code).toBe(0)
    const line = listed.stdout.split("\n").find((l) => l.includes("child_dob"))
    expect(line).toContain("not a real calendar date")
    const id = line?.trim().split(/\s+/)[0] ?? ""
    const shown = await encompass(["quarantine", "show", "--config", config, "--record", "--operator", "test.operator", "--reason", "correcting the date of birth", id])
    expect(shown.stdout).toContain("2017-02-30")
    const corrected = path.join(work, "corrected.csv")
    // The record holds the whole occurrence, whose good row was already decided: the correction
    // is a new version (TVP ISA 4.1), sent to the school with every child.
    const record = shown.stdout.slice(shown.stdout.indexOf("occurrence_number,"))
    fs.writeFileSync(corrected, record.replace("2017-02-30", "2017-02-28").replaceAll(",1,P-", ",2,P-"))
    const before = sink.received()
    const retried = await encompass(["quarantine", "retry", "--config", config, "--file", corrected, "--operator", "test.operator", id])
    expect(retried.stdout).toContain(`Entry ${id} is resolved.`)
    expect(sink.received()).toBeGreaterThan(before)
    expect((await encompass(["quarantine", "list", "--config", config])).stdout).not.toContain("child_dob")
    const verified = await encompass(["audit", "verify", "--data-dir", path.join(work, "pgdata")])
    expect(verified.code).toBe(0)
  }, 240_000)
})
