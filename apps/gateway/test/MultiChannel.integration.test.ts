/**
 * Every recipient through its own channel (issue 11, Acceptance), with `encompass serve` as an
 * operator runs it and real peers: an `smtp-server` relay for the schools' secure email, OpenSSH
 * `sshd` on loopback as Bedford Borough Council's SFTP server (its EHE team and Integrated Front
 * Door), and `gpg` opening what each recipient receives. One region file enables both channels;
 * the agreement is a region-local copy of the Bedford one that also permits an encrypted file by
 * SFTP for the council's teams (fixtures/multichannel/agreement.yaml).
 *
 * Recipients: school A opens its attachment with a password, school B with its OpenPGP key (its
 * fingerprint pinned in the settings directory), school C's pinned key has expired; the EHE team
 * opens its files with a password and the front door with its RSA key (pinned in the authorities
 * directory). Each test runs its own gateway on its own store (DATABASE_URL's server, or the
 * embedded PGlite) and SFTP folder; the sshd and the recipients' keys are shared.
 */
import { GnuPg, OpenSshd } from "@encompass/plugin-testkit"
import { TestDatabase } from "@encompass/store"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { simpleParser } from "mailparser"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { SMTPServer } from "smtp-server"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Gateway from "./support/Gateway.js"

const fixtures = path.join(import.meta.dirname, "fixtures/multichannel")
const bedford = "E06000055"
const urn = { a: "109001", b: "109002", c: "109003" } as const
const token = "push-token-for-bedford-niche"
const passwords = {
  schoolA: "school-a-attachment-pw-7Qx2",
  eheTeam: "bedford-ehe-team-pw-4Hm9"
}
const emailSubject = /^Operation Encompass notification — reference (EG-[0-9A-F-]+)$/

/** The relay: a real `smtp-server` with STARTTLS that keeps every accepted message. */
interface Relay {
  readonly host: string
  readonly port: number
  readonly ca: string
  readonly messages: Array<Buffer>
  readonly close: () => Promise<void>
}

const startRelay = () =>
  new Promise<Relay>((resolve, reject) => {
    const messages: Array<Buffer> = []
    const server = new SMTPServer({
      ...Gateway.tls,
      authOptional: true,
      logger: false,
      disabledCommands: ["AUTH"],
      onData(stream, _session, callback) {
        const chunks: Array<Buffer> = []
        stream.on("data", (chunk: Buffer) => chunks.push(chunk))
        stream.on("end", () => {
          messages.push(Buffer.concat(chunks))
          callback(null, "Saved")
        })
      }
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      server.on("error", () => undefined)
      const address = server.server.address()
      resolve({
        host: "127.0.0.1",
        port: typeof address === "object" && address !== null ? address.port : 0,
        ca: Gateway.tls.cert,
        messages,
        close: () => new Promise((done) => server.close(() => done()))
      })
    })
  })

interface Mail {
  readonly subject: string
  readonly to: string
  readonly text: string
  readonly attachments: ReadonlyArray<{ readonly filename: string; readonly content: Buffer }>
}

const mailsOf = (relay: Relay): Promise<ReadonlyArray<Mail>> =>
  Promise.all(relay.messages.map(async (raw) => {
    const mail = await simpleParser(raw)
    const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(", ") : mail.to?.text ?? ""
    return {
      subject: mail.subject ?? "",
      to,
      text: mail.text ?? "",
      attachments: mail.attachments.map((a) => ({ filename: a.filename ?? "", content: a.content }))
    }
  }))

/** A Niche RMS row (plugins/source-niche-rms/README.md) of a Bedford incident a few hours ago. */
const row = (occurrence: string, child: { readonly ref: string; readonly given: string; readonly education: string; readonly presence?: string }) => {
  const when = new Date(Date.now() - 3 * 60 * 60 * 1000).toISOString().slice(0, 16)
  const address = "\"12 Ouse Walk, Bedford\""
  return `${occurrence},${when},domestic,${address},MK40 1AA,1,${child.ref},${child.given},Testbury,2016-05-14,${address},MK40 1AA,${
    child.presence ?? "present"
  },${child.education},standard,N`
}

const header = "occurrence_number,incident_datetime,incident_category,incident_address,incident_postcode,version,person_ref,child_given_name,child_family_name,child_dob,home_address,home_postcode,presence,school_urn,risk_grading,sensitive"
const feedOf = (rows: ReadonlyArray<string>) => `${[header, ...rows].join("\n")}\n`

const scope = Effect.runSync(Scope.make())
const run = <A>(effect: Effect.Effect<A, unknown, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, scope))
const root = fs.mkdtempSync(path.join(os.tmpdir(), "encompass-multichannel-"))
const keyDirectory = path.join(root, "keys")
let sshd: Context.Tag.Service<OpenSshd.Sshd>
let gpg: GnuPg.Home
let keyless: GnuPg.Home
let keys: { readonly schoolB: GnuPg.Key; readonly schoolC: GnuPg.Key; readonly frontDoor: GnuPg.Key }

interface Region {
  readonly work: string
  readonly config: string
  /** The council's SFTP folder this region uploads into. */
  readonly inbound: string
  readonly database: TestDatabase.TestDatabase
  readonly store: { readonly url: string } | { readonly dataDir: string }
}

/** A region file enabling secure-email and sftp, pinning `hostKey`, in its own folder and store. */
const writeRegion = async (name: string, hostKey: string, relay: Relay): Promise<Region> => {
  const work = path.join(root, name)
  fs.mkdirSync(work, { recursive: true })
  const inbound = sshd.folder(`${name}-inbound`)
  const write = (file: string, text: string) => fs.writeFileSync(path.join(work, file), text)
  write("directory.csv", [
    "urn,name,kind,signed_up,contacts,channel,openpgp_fingerprint",
    `${urn.a},Ouse Valley Primary School,school,Y,dsl@ouse-valley-primary.sch.example,secure-email,`,
    `${urn.b},Castle Lane Academy,school,Y,dsl@castle-lane-academy.sch.example,secure-email,${keys.schoolB.fingerprint}`,
    `${urn.c},Kempston Rise School,school,Y,dsl@kempston-rise.sch.example,secure-email,${keys.schoolC.fingerprint}`,
    ""
  ].join("\n"))
  write("authorities.csv", [
    "local_authority,team,name,signed_up,contacts,channel,openpgp_fingerprint",
    `${bedford},ehe-team,Bedford Borough Council EHE team,Y,ehe@bedford.gov.example,sftp,`,
    `${bedford},council-front-door,Bedford Borough Council Integrated Front Door,Y,frontdoor@bedford.gov.example,sftp,${keys.frontDoor.fingerprint}`,
    ""
  ].join("\n"))
  write("email.json", JSON.stringify({
    host: relay.host,
    port: relay.port,
    ca: relay.ca,
    from: "Bedfordshire Police Operation Encompass <encompass@bedfordshire.police.example>",
    messageIdDomain: "bedfordshire.police.example",
    senderName: "Bedfordshire Police",
    contact: "encompass@bedfordshire.police.example",
    keyDirectory
  }))
  write("email-passwords.json", JSON.stringify({ [urn.a]: passwords.schoolA }))
  write("sftp-passwords.json", JSON.stringify({ [`ehe-team:${bedford}`]: passwords.eheTeam }))
  fs.writeFileSync(path.join(work, "master.key"), `${Gateway.masterKey}\n`, { mode: 0o600 })
  const config = path.join(work, "region.yaml")
  fs.writeFileSync(config, [
    "version: 1",
    "region: bedford",
    "dataDir: ./pgdata",
    "masterKeyFile: ./master.key",
    `agreement: ${path.join(fixtures, "agreement.yaml")}`,
    "directory: ./directory.csv",
    "authorities: ./authorities.csv",
    "sources:",
    "  - id: niche-rms",
    "channels:",
    "  - id: secure-email",
    "    settings: ./email.json",
    "    passwords: ./email-passwords.json",
    "    retry: { base: 300 millis, cap: 1 second, budget: 50 }",
    "  - id: sftp",
    "    settings:",
    "      host: 127.0.0.1",
    `      port: ${sshd.port}`,
    `      username: ${sshd.user}`,
    `      privateKey: ${sshd.clientKey}`,
    `      hostKey: "${hostKey}"`,
    `      directory: ${inbound}`,
    `      keyDirectory: ${keyDirectory}`,
    "      connectTimeoutMs: 5000",
    "      operationTimeoutMs: 10000",
    "    passwords: ./sftp-passwords.json",
    // Short waits keep the test quick; the budget outlasts any outage here many times over.
    "    retry: { base: 300 millis, cap: 1 second, budget: 200 }",
    "http:",
    "  port: 0",
    "  tokens:",
    `    - { source: niche-rms, sha256: ${Gateway.sha256(token)} }`,
    "alerts:",
    "  email:",
    "    to: [encompass-spoc@bedfordshire.police.example]",
    "    wait: 200 millis",
    "    interval: 1 second",
    "workers:",
    "  feedPoll: 500 millis",
    "  deliveryPoll: 500 millis",
    "  attemptTimeout: 15 seconds",
    "  deliveryLease: 30 seconds",
    ""
  ].join("\n"))
  const database = await TestDatabase.fresh()
  return { work, config, inbound, database, store: database.url === undefined ? { dataDir: path.join(work, "pgdata") } : { url: database.url } }
}

const gateways: Array<Gateway.Gateway> = []
const regions: Array<Region> = []
const relays: Array<Relay> = []

/** A region of its own, its relay and its gateway, all stopped and removed after the file. */
const setUp = async (name: string, hostKey: string) => {
  const relay = await startRelay()
  relays.push(relay)
  const region = await writeRegion(name, hostKey, relay)
  regions.push(region)
  const gateway = await Gateway.startGateway({ config: region.config, databaseUrl: region.database.url })
  gateways.push(gateway)
  const until = (what: string, check: () => boolean | Promise<boolean>) => Gateway.until(what, check, 45_000, () => gateway.output())
  return { relay, region, gateway, until }
}

const logged = (gateway: Gateway.Gateway, message: string) => gateway.events().filter((e) => e.message === message)

/** Finished notification files in the council's folder (hidden names are uploads in progress). */
const filesIn = (folder: string) => fs.readdirSync(folder).filter((name) => !name.startsWith(".")).sort()

/** The notification emails among the relay's messages (not the SPOC's alerts), by reference. */
const notificationEmails = async (relay: Relay) => {
  const mails = await mailsOf(relay)
  return mails.flatMap((mail) => {
    const reference = emailSubject.exec(mail.subject)?.[1]
    return reference === undefined ? [] : [{ reference, ...mail }]
  })
}

type Payload = { readonly children: ReadonlyArray<{ readonly name?: { readonly givenName: string } }> }

/**
 * gpg on `content`: with the recipients' secret keys, or with a password in a home that holds no
 * key at all — so a password that opens a file proves the file was sealed with it.
 */
const open = async (name: string, content: Buffer | string, password?: string) => {
  const file = path.join(root, `${String(++opened).padStart(3, "0")}-${name}`)
  fs.writeFileSync(file, content)
  const result = await run(password === undefined ? gpg.decrypt(file) : keyless.decryptWithPassword(file, password))
  return { ...result, payload: result.exitCode === 0 ? JSON.parse(result.stdout) as Payload : undefined }
}
let opened = 0
/** The given names of the children a payload tells of; a file gpg could not open tells of none. */
const namesIn = (opened: { readonly payload: Payload | undefined; readonly stderr: string }) => {
  expect(opened.payload, opened.stderr).toBeDefined()
  return (opened.payload?.children ?? []).map((c) => c.name?.givenName).sort()
}
/** The queue is empty: a file in place is not yet a delivery the store has recorded. */
const drained = async (gateway: Gateway.Gateway) =>
  ((await (await fetch(`http://${gateway.http}/health`)).json()) as { readonly notificationsQueued: number }).notificationsQueued === 0

const countsByState = (region: Region) =>
  Gateway.withStore(region.store, (sql) =>
    sql.query<{ channel: string; state: string; count: string }>`SELECT channel, state, count(*)::text AS count FROM notification
      GROUP BY channel, state ORDER BY channel, state`)

describe.skipIf(!OpenSshd.runSshTests || !GnuPg.runGpgTests)(OpenSshd.titled("multi-channel delivery (secure email and SFTP, real peers)"), () => {
  beforeAll(async () => {
    sshd = await run(Effect.map(Layer.build(OpenSshd.SshdLive), Context.get(OpenSshd.Sshd)))
    gpg = await run(GnuPg.home)
    keyless = await run(GnuPg.home)
    // The recipients' keys: v4 cv25519 and RSA-3072, as GnuPG 2.2 makes them; school C's has expired.
    const [schoolB, schoolC, frontDoor] = await run(Effect.all([
      gpg.generate({ kind: "cv25519", uid: "Castle Lane Academy DSL <dsl@castle-lane-academy.sch.example>" }),
      gpg.generate({ kind: "cv25519", uid: "Kempston Rise School DSL <dsl@kempston-rise.sch.example>", expired: true }),
      gpg.generate({ kind: "rsa3072", uid: "Bedford Integrated Front Door <frontdoor@bedford.gov.example>" })
    ], { concurrency: 3 }))
    keys = { schoolB, schoolC, frontDoor }
    fs.mkdirSync(keyDirectory, { recursive: true })
    fs.writeFileSync(path.join(keyDirectory, `setting-${urn.b}.asc`), schoolB.publicKey)
    fs.writeFileSync(path.join(keyDirectory, `setting-${urn.c}.asc`), schoolC.publicKey)
    fs.writeFileSync(path.join(keyDirectory, `front-door-${bedford}.asc`), frontDoor.publicKey)
  }, 120_000)

  afterAll(async () => {
    await Promise.all(gateways.map((g) => Gateway.stopGateway(g)))
    await Promise.all(regions.map((r) => r.database.drop()))
    await Promise.all(relays.map((r) => r.close()))
    await Effect.runPromise(Scope.close(scope, Exit.void))
    fs.rmSync(root, { recursive: true, force: true })
  })

  it("one Bedford feed: each child reaches its own recipient by its own channel, and gpg opens every kind of attachment and file (Bedford ISA 7, 10)", async () => {
    const { gateway, region, relay, until } = await setUp("route", await run(sshd.start()))

    // A reader polling the council's folder throughout: every name it can see is a complete file.
    const seen = new Map<string, string>()
    let polling = true
    // One last look after polling stops: the file that ended the wait is seen too.
    const poller = (async () => {
      for (;;) {
        const last = !polling
        for (const name of filesIn(region.inbound)) {
          const text = fs.readFileSync(path.join(region.inbound, name), "utf8")
          if (!seen.has(name)) seen.set(name, text)
          expect(text, `${name} was visible before it was complete`).toMatch(/^-----BEGIN PGP MESSAGE-----\n[\s\S]*\n-----END PGP MESSAGE-----\n?$/)
        }
        if (last) return
        await new Promise((r) => setTimeout(r, 10))
      }
    })()

    const occurrence = "BD/26/0001001"
    const feed = feedOf([
      row(occurrence, { ref: "P-A1", given: "Ava", education: urn.a }),
      row(occurrence, { ref: "P-B1", given: "Ben", education: urn.b, presence: "witness" }),
      row(occurrence, { ref: "P-E1", given: "Eli", education: "EHE" })
    ])
    expect((await Gateway.push(gateway.http, "niche-rms", feed, token)).status).toBe(202)

    try {
      await until("both schools' emails", async () => (await notificationEmails(relay)).length >= 2)
      await until("the EHE team's and the front door's files", () => filesIn(region.inbound).length >= 2)
    } finally {
      polling = false
      await poller
    }

    const emails = await notificationEmails(relay)
    expect(emails.map((m) => m.to).sort()).toEqual(["dsl@castle-lane-academy.sch.example", "dsl@ouse-valley-primary.sch.example"])
    const [toA] = emails.filter((m) => m.to === "dsl@ouse-valley-primary.sch.example")
    const [toB] = emails.filter((m) => m.to === "dsl@castle-lane-academy.sch.example")
    const [attachmentA] = toA?.attachments ?? []
    const [attachmentB] = toB?.attachments ?? []
    expect(attachmentA?.filename).toMatch(/\.asc$/)
    expect(attachmentB?.filename).toMatch(/\.asc$/)
    // School A by its password, school B with its secret key: each sees only its own child.
    expect(namesIn(await open("a.asc", attachmentA?.content ?? "", passwords.schoolA))).toEqual(["Ava"])
    const openedB = await open("b.asc", attachmentB?.content ?? "")
    expect(namesIn(openedB)).toEqual(["Ben"])
    expect(openedB.stderr).toContain("Castle Lane Academy DSL")
    expect(toB?.text).toContain(keys.schoolB.fingerprint)

    // Under their final names only, one per recipient, nothing half-written left behind.
    const names = fs.readdirSync(region.inbound).sort()
    expect(names).toHaveLength(2)
    for (const name of names) expect(name).toMatch(/^encompass-EG-[0-9A-F-]+-v1\.json\.asc$/)
    const files = await Promise.all(names.map(async (name) => {
      const content = fs.readFileSync(path.join(region.inbound, name))
      // The EHE team opens its file with its password; the front door's is encrypted to its RSA key.
      const byPassword = await open(name, content, passwords.eheTeam)
      return byPassword.exitCode === 0
        ? { sealed: "password", children: namesIn(byPassword) }
        : await open(name, content).then((byKey) => ({ sealed: `key of ${/Bedford Integrated Front Door/.test(byKey.stderr) ? "the front door" : "another"}`, children: namesIn(byKey) }))
    }))
    expect(files.sort((x, y) => x.sealed.localeCompare(y.sealed))).toEqual([
      { sealed: "key of the front door", children: ["Ava", "Ben", "Eli"] },
      { sealed: "password", children: ["Eli"] }
    ])
    expect([...seen.keys()].sort()).toEqual(names)

    await until("every delivery recorded", () => drained(gateway))
    expect(await Gateway.stopGateway(gateway, "SIGTERM")).toBe(0)
    expect(await countsByState(region)).toEqual([
      { channel: "secure-email", state: "delivered", count: "2" },
      { channel: "sftp", state: "delivered", count: "2" }
    ])
  }, 90_000)

  it("with the council's SFTP server down, every email of the feed is delivered while its files wait and retry; back up, the files are delivered and nothing is lost", async () => {
    const hostKey = await run(sshd.start())
    const { gateway, region, relay, until } = await setUp("outage", hostKey)
    await run(sshd.stop)
    const occurrences = ["BD/26/0002001", "BD/26/0002002", "BD/26/0002003"]
    const feed = feedOf(occurrences.flatMap((occurrence, i) => [
      row(occurrence, { ref: `P-A${i}`, given: "Ava", education: urn.a }),
      row(occurrence, { ref: `P-B${i}`, given: "Ben", education: urn.b }),
      row(occurrence, { ref: `P-E${i}`, given: "Eli", education: "EHE" })
    ]))
    expect((await Gateway.push(gateway.http, "niche-rms", feed, token)).status).toBe(202)

    // The highest failed attempt of each SFTP notification so far, by reference.
    const sftpFailures = () =>
      new Map(logged(gateway, "delivery attempt failed").filter((e) => e.annotations["channel"] === "sftp")
        .map((e) => [String(e.annotations["reference"]), Number(e.annotations["attempt"])] as const)
        .sort(([, a], [, b]) => a - b))
    await until("the six schools' emails", async () => (await notificationEmails(relay)).length >= 6)
    await until("each of the six files to have failed and been retried", () => {
      const failures = sftpFailures()
      return failures.size === 6 && [...failures.values()].every((attempt) => attempt >= 2)
    })
    expect(fs.readdirSync(region.inbound)).toEqual([])
    expect(logged(gateway, "delivery attempt failed").filter((e) => e.annotations["channel"] !== "sftp")).toEqual([])
    expect(logged(gateway, "notification dead-lettered")).toEqual([])

    // The same server, on the same port with the same host key.
    expect(await run(sshd.start())).toBe(hostKey)
    await until("the six files", () => filesIn(region.inbound).length >= 6)
    expect(fs.readdirSync(region.inbound).sort()).toEqual([...sftpFailures().keys()].map((reference) => `encompass-${reference}-v1.json.asc`).sort())
    expect((await notificationEmails(relay)).length).toBe(6)

    await until("every delivery recorded", () => drained(gateway))
    expect(await Gateway.stopGateway(gateway, "SIGTERM")).toBe(0)
    expect(await countsByState(region)).toEqual([
      { channel: "secure-email", state: "delivered", count: "6" },
      { channel: "sftp", state: "delivered", count: "6" }
    ])
    const attempts = await Gateway.withStore(region.store, (sql) =>
      sql.query<{ channel: string; attempts: number }>`SELECT channel, attempts FROM notification ORDER BY channel`)
    expect(attempts.filter((a) => a.channel === "secure-email").map((a) => a.attempts)).toEqual([1, 1, 1, 1, 1, 1])
    for (const a of attempts.filter((a) => a.channel === "sftp")) expect(a.attempts).toBeGreaterThanOrEqual(3)
  }, 90_000)

  it("a changed SFTP host key and an expired OpenPGP key each end as a permanent error naming the fingerprints, audited and alerted, with nothing sent", async () => {
    const pinned = await run(sshd.start())
    const { gateway, region, relay, until } = await setUp("refused", pinned)
    // The council's server rebuilt (or impersonated) under another host key.
    const presented = await run(sshd.start({ newHostKey: true }))
    expect(presented).not.toBe(pinned)
    const occurrence = "BD/26/0003001"
    const feed = feedOf([
      row(occurrence, { ref: "P-C1", given: "Cal", education: urn.c }),
      row(occurrence, { ref: "P-E1", given: "Eli", education: "EHE" })
    ])
    expect((await Gateway.push(gateway.http, "niche-rms", feed, token)).status).toBe(202)

    await until("three dead letters", () => logged(gateway, "notification dead-lettered").length >= 3)
    const dead = logged(gateway, "notification dead-lettered").map((e) => e.annotations)
    expect(dead.map((a) => [a["recipient"], a["channel"], a["reason"], a["attempts"]]).sort()).toEqual([
      [`ehe-team:${bedford}`, "sftp", "permanent-error", 1],
      [`front-door:${bedford}`, "sftp", "permanent-error", 1],
      [`setting:${urn.c}`, "secure-email", "permanent-error", 1]
    ])
    const references = dead.map((a) => String(a["reference"]))
    // The SPOC is told of each, by reference.
    const alerts = async () => (await mailsOf(relay)).filter((m) => m.to === "encompass-spoc@bedfordshire.police.example").map((m) => m.text).join("\n")
    await until("the SPOC's alert email listing the three", async () => {
      const text = await alerts()
      return references.every((reference) => text.includes(reference))
    })
    expect(await alerts()).toContain("DEAD LETTERS")
    // Nothing sent: no notification email, no file, not even a temporary one.
    expect(await notificationEmails(relay)).toEqual([])
    expect(fs.readdirSync(region.inbound)).toEqual([])

    expect(await Gateway.stopGateway(gateway, "SIGTERM")).toBe(0)
    const rows = await Gateway.withStore(region.store, (sql) =>
      sql.query<{ recipient: string; state: string; last_error: string }>`SELECT recipient, state, last_error FROM notification ORDER BY recipient`)
    const audited = await Gateway.withStore(region.store, (sql) =>
      sql.query<{ subject: string; recipient: string; reason: string; detail: string }>`SELECT subject, detail->>'recipient' AS recipient,
        detail->>'reason' AS reason, detail->>'detail' AS detail FROM audit_event WHERE stage = 'dead-lettered' ORDER BY subject`)
    const byRecipient = (recipient: string) => ({
      error: rows.find((r) => r.recipient === recipient)?.last_error ?? "",
      audit: audited.find((a) => a.recipient === recipient)
    })
    expect(rows.map((r) => r.state)).toEqual(["dead", "dead", "dead"])
    expect(audited.map((a) => a.subject).sort()).toEqual(references.map((r) => `notification:${r}`).sort())
    for (const team of [`ehe-team:${bedford}`, `front-door:${bedford}`]) {
      const { audit, error } = byRecipient(team)
      // Expected and presented, as `ssh-keygen -lf` prints them.
      expect(error).toContain(`the server presented the ssh-ed25519 host key ${presented}, not the pinned ${pinned}`)
      expect(audit).toMatchObject({ reason: "permanent-error" })
      expect(audit?.detail).toContain(presented)
      expect(audit?.detail).toContain(pinned)
    }
    const school = byRecipient(`setting:${urn.c}`)
    expect(school.error).toMatch(new RegExp(`key ${keys.schoolC.fingerprint} expired at 2020-01-0`))
    expect(school.audit).toMatchObject({ reason: "permanent-error" })
    expect(school.audit?.detail).toContain(keys.schoolC.fingerprint)
  }, 90_000)
})

