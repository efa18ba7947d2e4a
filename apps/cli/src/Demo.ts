/**
 * `encompass demo`: the whole path on a fresh machine with no server installed. Embedded
 * PostgreSQL (PGlite) and a local SMTP sink stand in for the force's database and the schools'
 * mail relay; everything else — decoding, policy, outbox, encryption, audit — is the real thing.
 */
import { AuditLog } from "@encompass/audit"
import { Ingest } from "@encompass/pipeline"
import { SecureEmailChannel } from "@encompass/channel-secure-email"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { Sql } from "@encompass/store"
import { Console, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as FileFeed from "./FileFeed.js"
import * as AgreementFiles from "@encompass/gateway/AgreementFiles"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import * as MailSink from "./MailSink.js"
import * as SampleFeed from "./SampleFeed.js"
import * as Summary from "./Summary.js"

/** The shipped sample data: a Niche feed, a directory and the settings' attachment passwords. */
export const demoFolder = path.resolve(import.meta.dirname, "../demo")

/** The local mail sink with the demo's certificate (`demo/tls`, for 127.0.0.1 and localhost). */
const demoSink = (options: { readonly directory: string; readonly attachments: string; readonly port?: number }) =>
  MailSink.make({
    ...options,
    key: fs.readFileSync(path.join(demoFolder, "tls/sink-key.pem"), "utf8"),
    cert: fs.readFileSync(path.join(demoFolder, "tls/sink-cert.pem"), "utf8")
  })

/**
 * `encompass demo sink`: the demo's mail sink on a fixed port until SIGTERM or Ctrl-C, standing
 * in for the schools' relay of the example region (`apps/gateway/examples/relay.json`).
 */
export const sink = (options: { readonly out: string; readonly port: number }) =>
  Effect.gen(function*() {
    const folders = { directory: path.join(options.out, "mail"), attachments: path.join(options.out, "attachments") }
    const started = yield* demoSink({ ...folders, port: options.port })
    yield* Console.log(
      `Mail sink on ${started.host}:${started.port} (STARTTLS, the demo certificate): mail to ${folders.directory}/, attachments to ${folders.attachments}/. Stop it with Ctrl-C.`
    )
    return yield* Effect.never
  }).pipe(Effect.scoped)

/** The demo's region: the TVP agreement, the shipped directory and passwords, the local sink as relay. */
const demoRegion = (options: { readonly out: string; readonly data: string; readonly sink: MailSink.MailSink }) =>
  new RegionConfig.RegionConfig({
    version: 1,
    region: "thames-valley",
    dataDir: options.data,
    masterKeyFile: path.join(options.out, "master.key"),
    agreement: AgreementFiles.defaultAgreementFile,
    calendar: AgreementFiles.calendarFile,
    directory: path.join(demoFolder, "directory.csv"),
    sources: [new RegionConfig.SourceEntry({ id: NicheRmsSource.id })],
    channels: [
      new RegionConfig.ChannelEntry({
        id: SecureEmailChannel.id,
        settings: {
          host: options.sink.host,
          port: options.sink.port,
          ca: options.sink.ca,
          from: "Thames Valley Police Operation Encompass <encompass@police.example>",
          messageIdDomain: "encompass.police.example",
          senderName: "Thames Valley Police",
          contact: "encompass@police.example"
        },
        passwords: path.join(demoFolder, "passwords.json")
      })
    ]
  })

export const run = (out: string) =>
  Effect.gen(function*() {
    const folders = { mail: path.join(out, "mail"), attachments: path.join(out, "attachments"), data: path.join(out, "pgdata") }
    // Each run starts from nothing, so the summary always tells the same story.
    for (const folder of Object.values(folders)) fs.rmSync(folder, { recursive: true, force: true })
    const passwordsFile = path.join(demoFolder, "passwords.json")
    // The shipped feed dated for today, so its notifications are not past their deadlines.
    const feedFile = path.join(out, "niche-feed.csv")
    fs.mkdirSync(out, { recursive: true })
    fs.writeFileSync(feedFile, SampleFeed.today(new Date()))

    yield* Console.log("Encompass Gateway demo: Thames Valley Police schools agreement, embedded PostgreSQL (PGlite), local mail sink\n")
    const sink = yield* demoSink({ directory: folders.mail, attachments: folders.attachments })
    const region = demoRegion({ out, data: folders.data, sink })
    // The region's own composition, as `ingest` and `serve` build it, on the embedded store
    // whatever DATABASE_URL says: the demo never writes to a server.
    const gateway = Region.layer(region, path.join(out, "demo region"), {
      store: { layer: Sql.layer({ dataDir: folders.data }), embedded: true }
    })

    const { first, second, verified } = yield* Effect.gen(function*() {
      const feed = yield* FileFeed.make(NicheRmsSource.id, feedFile)
      const first = yield* Ingest.ingest(feed, { transport: "file" })
      const second = yield* Ingest.ingest(feed, { transport: "file" })
      const verified = yield* Effect.flatMap(AuditLog.AuditLog, (audit) => audit.verify)
      return { first, second, verified }
    }).pipe(Effect.provide(gateway))

    yield* Console.log(Summary.ingest(first))
    yield* Console.log(Summary.verify(verified))
    const resent = second.deliveries.filter((d) => d.outcome === "delivered").length
    yield* Console.log(
      `\nThe same feed ingested again: ${second.notificationsCreated} new notifications, ${resent} emails sent (${second.repeats} incidents already recorded).`
    )

    const sample = first.deliveries.find((d) => d.outcome === "delivered" && d.recipient.startsWith("setting:"))
    yield* Console.log(`\n${sink.received()} emails are in ${folders.mail}/ and their encrypted attachments in ${folders.attachments}/.`)
    if (sample !== undefined) {
      const urn = sample.recipient.slice("setting:".length)
      const password = JSON.parse(fs.readFileSync(passwordsFile, "utf8"))[urn] as string
      const attachment = fs.readdirSync(folders.attachments).find((f) => f.includes(sample.reference))
      yield* Console.log(
        [
          `Open one as the school's Designated Safeguarding Lead would (URN ${urn}; its password is in ${path.relative(process.cwd(), passwordsFile)}):`,
          `  gpg --batch --pinentry-mode loopback --passphrase '${password}' -d ${path.join(folders.attachments, attachment ?? "<attachment>")}`,
          `Check the audit chain again at any time:`,
          `  npm run encompass -- audit verify --data-dir ${folders.data}`
        ].join("\n")
      )
    }
  }).pipe(Effect.scoped)
