/**
 * The SMTP inbox against a real client: the `smtp-server` it starts on loopback, nodemailer
 * sending as a force's record system would (STARTTLS, trusting the shipped demo certificate as
 * its CA), the in-memory `FeedInbox`, and the real audit log on PGlite or DATABASE_URL.
 */
import { AuditLog } from "@encompass/audit"
import { FeedInbox } from "@encompass/pipeline"
import { Sql, SqlError, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Chunk, Clock, Deferred, Duration, Effect, Either, Exit, Fiber, Layer, Logger, Redacted, Ref, Schema, Scope, Stream, TestClock } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { createTransport } from "nodemailer"
import type { NodemailerError, SendMailOptions, SMTPTransportOptions } from "nodemailer"
import { feedName } from "../src/intake/internal/smtpMessage.js"
import * as Plaintext from "../src/intake/internal/smtpPlaintext.js"
import * as SmtpInbox from "../src/intake/SmtpInbox.js"
import { SmtpInboxConfig } from "../src/intake/SmtpInboxConfig.js"

const tls = path.resolve(import.meta.dirname, "../../cli/demo/tls")
const certFile = path.join(tls, "sink-cert.pem")
// The demo certificate is self-signed (CA:TRUE, SAN 127.0.0.1), so the client trusts it as its CA.
const ca = fs.readFileSync(certFile, "utf8")

const username = "tvp-niche"
const password = "a long random machine password 7f3c"
const sender = "Niche-Export@Force.Example"

const TestLive = AuditLog.layer.pipe(Layer.provideMerge(Layer.mergeAll(Sql.layerTest, Vault.layerTest)))

const baseConfig = (passwordHash: string) => ({
  host: "127.0.0.1",
  port: 0,
  certFile,
  keyFile: path.join(tls, "sink-key.pem"),
  accounts: [{ username, passwordHash }],
  senders: [{ address: sender, account: username, source: "niche-rms" }],
  closeTimeoutMs: 2_000
})

// Hashed once: scrypt is slow on purpose.
const passwordHash = Effect.runSync(Effect.cached(Effect.map(SmtpInbox.hashPassword(Redacted.make(password)), Redacted.value)))

const configWith = (overrides: Record<string, unknown> = {}) =>
  Effect.map(passwordHash, (hash) => Schema.decodeUnknownSync(SmtpInboxConfig)({ ...baseConfig(hash), ...overrides }))

const send = (port: number, mail: SendMailOptions, client: Partial<SMTPTransportOptions> = {}) =>
  Effect.tryPromise({
    try: () =>
      createTransport({
        host: "127.0.0.1",
        port,
        secure: false,
        requireTLS: true,
        tls: { ca },
        auth: { user: username, pass: password },
        ...client
      }).sendMail(mail),
    catch: (e) => e as NodemailerError
  })

const csv = Buffer.from("occurrence,child_given_name\r\n43/261101/26,Zoë\r\n43/261102/26,Émile\r\n", "utf8")

const mail = (overrides: Partial<SendMailOptions> = {}): SendMailOptions => ({
  from: sender,
  to: "intake@encompass.example",
  subject: "Daily export",
  text: "Export attached.",
  attachments: [{ filename: "export.csv", content: csv, contentType: "text/csv" }],
  ...overrides
})

const smtpEvents = Effect.flatMap(AuditLog.AuditLog, (audit) => Stream.runCollect(audit.events({ subjectPrefix: "smtp:" }))).pipe(
  Effect.map(Chunk.toArray)
)

/** Runs `f` against a fresh inbox (in memory) and a freshly started server. */
const withInbox = <A, E, R>(
  f: (port: number) => Effect.Effect<A, E, R>,
  overrides: Record<string, unknown> = {}
) =>
  Effect.gen(function*() {
    const listening = yield* SmtpInbox.make(yield* configWith(overrides))
    return yield* f(listening.port)
  }).pipe(Effect.scoped)

const feeds = Effect.flatten(FeedInbox.MemoryFeeds)

const canConnect = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

/**
 * A raw SMTP client in clear, as a scanner or a misconfigured record system talks: after the
 * greeting, each line is sent once the previous one is answered; the replies' codes, in order.
 */
const talk = (port: number, lines: ReadonlyArray<string>) =>
  Effect.async<ReadonlyArray<number>, Error>((resume) => {
    const socket = net.connect(port, "127.0.0.1")
    const codes: Array<number> = []
    const pending = [...lines, "QUIT"]
    let greeted = false
    let buffer = ""
    socket.setEncoding("utf8")
    socket.on("data", (text: string) => {
      buffer += text
      let end = buffer.indexOf("\r\n")
      while (end >= 0) {
        const line = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        end = buffer.indexOf("\r\n")
        // The last line of a reply has a space after its code; the greeting is not counted.
        if (!/^\d{3} /.test(line)) continue
        if (greeted) codes.push(Number(line.slice(0, 3)))
        greeted = true
        const next = pending.shift()
        if (next !== undefined) socket.write(`${next}\r\n`)
      }
    })
    socket.on("error", (e) => resume(Effect.fail(e)))
    socket.on("close", () => resume(Effect.succeed(codes.slice(0, lines.length))))
  })

/** Every log line written while `effect` runs, as text: message and annotations. */
const logged = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines = yield* Ref.make<ReadonlyArray<string>>([])
    const capture = Logger.make(({ annotations, message }) =>
      Effect.runSync(Ref.update(lines, (l) => [...l, JSON.stringify({ message, annotations: Object.fromEntries(annotations) })]))
    )
    const result = yield* Effect.provide(effect, Logger.replace(Logger.defaultLogger, capture))
    return [result, yield* Ref.get(lines)] as const
  })

const plainAuth = Buffer.from(`\u0000${username}\u0000${password}`).toString("base64")

layer(TestLive, { timeout: 120_000 })("SmtpInbox", (it) => {
  it.effect("an allow-listed sender's CSV attachment, over STARTTLS and AUTH, becomes a feed with its exact bytes", () =>
    withInbox((port) =>
      Effect.gen(function*() {
        const info = yield* send(port, mail())
        expect(info.response).toMatch(/^250 2\.6\.0 Accepted: feed 1$/)
        const [feed, ...rest] = yield* feeds
        expect(rest).toEqual([])
        expect(feed?.source).toBe("niche-rms")
        expect(feed?.transport).toBe("smtp")
        expect(feed?.name).toBe("export.csv")
        expect(Buffer.from(feed?.bytes ?? []).equals(csv)).toBe(true)
      })
    ).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("a sender not on the allow list is refused at MAIL FROM with 550, audited by domain and hash only", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const outsider = "Someone.Else@Force.Example"
      const error = yield* withInbox((port) => Effect.flip(send(port, mail({ from: outsider }))))
      expect(error.responseCode).toBe(550)
      expect(error.response).toContain("5.7.1")
      expect(yield* feeds).toEqual([])
      const events = (yield* smtpEvents).slice(before)
      expect(events.map((e) => [e.stage, e.detail["reason"]])).toEqual([["refused", "sender-not-allowed"]])
      const detail = events[0]?.detail
      expect(detail).toMatchObject({
        transport: "smtp",
        account: username,
        senderDomain: "force.example",
        senderSha256: createHash("sha256").update(outsider.toLowerCase()).digest("hex")
      })
      expect(JSON.stringify(events[0]).toLowerCase()).not.toContain("someone.else")
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("AUTH before STARTTLS is refused (538), audited with the peer's address and nothing of the credentials", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const [error, lines] = yield* logged(withInbox((port) => Effect.flip(send(port, mail(), { ignoreTLS: true, requireTLS: false }))))
      expect(error.responseCode).toBe(538)
      expect(yield* feeds).toEqual([])
      const events = (yield* smtpEvents).slice(before)
      expect(events.map((e) => [e.stage, e.detail])).toEqual([
        ["refused", { transport: "smtp", remoteAddress: "127.0.0.1", reason: "before-starttls", command: "AUTH", reply: 538 }]
      ])
      expect(events[0]?.subject).toMatch(/^smtp:/)
      expect(lines.some((l) => l.includes("refused before STARTTLS"))).toBe(true)
      for (const text of [JSON.stringify(events), ...lines]) {
        for (const secret of [password, plainAuth, Buffer.from(username).toString("base64"), Buffer.from(password).toString("base64")]) {
          expect(text).not.toContain(secret)
        }
      }
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("AUTH, MAIL, RCPT and DATA in clear are each refused and audited by command, without their arguments", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const [codes, lines] = yield* logged(withInbox((port) =>
        talk(port, ["EHLO scanner.example", `AUTH PLAIN ${plainAuth}`, `MAIL FROM:<${sender}>`, "RCPT TO:<dsl@school.example>", "DATA"])
      ))
      expect(codes).toEqual([250, 538, 530, 530, 530])
      const events = (yield* smtpEvents).slice(before)
      expect(events.map((e) => [e.detail["reason"], e.detail["command"], e.detail["reply"], e.detail["remoteAddress"]])).toEqual([
        ["before-starttls", "AUTH", 538, "127.0.0.1"],
        ["before-starttls", "MAIL", 530, "127.0.0.1"],
        ["before-starttls", "RCPT", 530, "127.0.0.1"],
        ["before-starttls", "DATA", 530, "127.0.0.1"]
      ])
      for (const text of [JSON.stringify(events), ...lines]) {
        for (const secret of [plainAuth, password, sender.toLowerCase(), "dsl@school.example"]) expect(text.toLowerCase()).not.toContain(secret.toLowerCase())
      }
      expect(yield* feeds).toEqual([])
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("MAIL FROM over STARTTLS without AUTH is refused (530), and is no refusal in clear", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const error = yield* withInbox((port) => Effect.flip(send(port, mail(), { auth: undefined })))
      expect(error.responseCode).toBe(530)
      expect((yield* smtpEvents).slice(before)).toEqual([])
      expect(yield* feeds).toEqual([])
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("a flood of 200 connections trying AUTH in clear is audited 10 times, then once with the 190 it suppressed", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const codes = yield* withInbox((port) =>
        Effect.forEach(Array.from({ length: 200 }), () => talk(port, ["EHLO scanner.example", `AUTH PLAIN ${plainAuth}`]), { concurrency: 5 })
      )
      expect(codes.every((c) => c[1] === 538)).toBe(true)
      // Closing the inbox summarises the window still open.
      const events = (yield* smtpEvents).slice(before)
      expect(events.map((e) => e.detail["reason"])).toEqual([...Array.from({ length: 10 }, () => "before-starttls"), "before-starttls-suppressed"])
      expect(events[10]?.subject).toBe("smtp:peer:127.0.0.1")
      expect(events[10]?.detail).toMatchObject({ transport: "smtp", remoteAddress: "127.0.0.1", suppressed: 190 })
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("refusals in clear are audited at most perPeer times per peer in each window; the count over it is audited when the window is over", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const audit = yield* AuditLog.AuditLog
      const refusal = (remoteAddress: string, n: number): Plaintext.Refusal => ({ session: `s${n}`, remoteAddress, command: "AUTH", reply: 538 })
      const reasons = Effect.map(smtpEvents, (events) => events.slice(before).map((e) => [e.detail["remoteAddress"], e.detail["reason"], e.detail["suppressed"] ?? null]))
      const start = new Date(yield* Clock.currentTimeMillis).toISOString()
      yield* Effect.scoped(Effect.gen(function*() {
        const auditor = yield* Plaintext.make(audit, { perPeer: 3, windowMs: 60_000 })
        yield* Effect.forEach(Array.from({ length: 50 }), (_, n) => auditor.refused(refusal("192.0.2.7", n)), { discard: true })
        yield* auditor.refused(refusal("198.51.100.9", 0))
        expect(yield* reasons).toEqual([
          ...Array.from({ length: 3 }, () => ["192.0.2.7", "before-starttls", null]),
          ["198.51.100.9", "before-starttls", null]
        ])
        yield* TestClock.adjust(Duration.minutes(1))
        const summarised = [["192.0.2.7", "before-starttls-suppressed", 47]]
        yield* reasons.pipe(Effect.repeat({ until: (r) => r.length === 5 }))
        expect((yield* reasons).slice(4)).toEqual(summarised)
        expect((yield* smtpEvents).slice(before)[4]?.detail).toMatchObject({ since: start, until: new Date(Date.parse(start) + 60_000).toISOString() })
        // A new window: audited again, one by one.
        yield* auditor.refused(refusal("192.0.2.7", 50))
        expect((yield* reasons).slice(5)).toEqual([["192.0.2.7", "before-starttls", null]])
      }))
      expect((yield* reasons).length).toBe(6)
    }))

  it.effect("a wrong password gets 535 and is audited, without the password", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const error = yield* withInbox((port) => Effect.flip(send(port, mail(), { auth: { user: username, pass: "not the password" } })))
      expect(error.responseCode).toBe(535)
      const events = (yield* smtpEvents).slice(before)
      expect(events.map((e) => [e.stage, e.detail["reason"], e.detail["account"]])).toEqual([["refused", "auth-failed", username]])
      expect(JSON.stringify(events)).not.toContain("not the password")
      expect(yield* feeds).toEqual([])
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("an unknown user name is audited without recording the name", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const error = yield* withInbox((port) => Effect.flip(send(port, mail(), { auth: { user: "jane.doe@home.example", pass: password } })))
      expect(error.responseCode).toBe(535)
      const events = (yield* smtpEvents).slice(before)
      expect(events.map((e) => [e.detail["reason"], e.detail["account"]])).toEqual([["auth-failed", null]])
      expect(JSON.stringify(events)).not.toContain("jane.doe")
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("when the inbox cannot store the feed the client gets 451, a temporary failure its MTA retries", () => {
    const failing: FeedInbox.FeedInbox = {
      receive: () => new SqlError.SqlError({ module: "Sql", method: "query", reason: "Connection", detail: "connection refused" })
    }
    return Effect.gen(function*() {
      const error = yield* withInbox((port) => Effect.flip(send(port, mail())))
      expect(error.responseCode).toBe(451)
      expect(error.response).toContain("4.3.0")
    }).pipe(Effect.provideService(FeedInbox.FeedInbox, failing))
  })

  it.effect("a message without an attachment is refused with 550 and audited", () =>
    Effect.gen(function*() {
      const before = (yield* smtpEvents).length
      const error = yield* withInbox((port) => Effect.flip(send(port, mail({ attachments: [], messageId: "<no-attachment@force.example>" }))))
      expect(error.responseCode).toBe(550)
      expect(error.response).toContain("No attachment")
      const events = (yield* smtpEvents).slice(before)
      expect(events.map((e) => [e.stage, e.detail["reason"], e.detail["source"], e.detail["messageId"]])).toEqual([
        ["refused", "no-attachment", "niche-rms", "<no-attachment@force.example>"]
      ])
      expect(JSON.stringify(events)).not.toContain("Export attached")
      expect(yield* feeds).toEqual([])
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("two attachments become two feeds", () =>
    Effect.gen(function*() {
      const second = Buffer.from("occurrence,child_given_name\r\n43/261103/26,Leo\r\n")
      const info = yield* withInbox((port) =>
        send(port, mail({ attachments: [{ filename: "monday.csv", content: csv }, { filename: "tuesday.csv", content: second }] }))
      )
      expect(info.response).toContain("feed 1, feed 2")
      const stored = yield* feeds
      expect(stored.map((f) => [f.name, Buffer.from(f.bytes).toString("utf8")])).toEqual([
        ["monday.csv", csv.toString("utf8")],
        ["tuesday.csv", second.toString("utf8")]
      ])
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("the same attachment sent twice is one feed; the second reply says repeat", () =>
    Effect.gen(function*() {
      const [first, second] = yield* withInbox((port) => Effect.all([send(port, mail()), send(port, mail())]))
      expect(first?.response).toMatch(/feed 1$/)
      expect(second?.response).toMatch(/feed 1 \(repeat\)$/)
      expect(yield* feeds).toHaveLength(1)
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("a message over the size limit is refused with 552 and nothing of it is stored", () =>
    Effect.gen(function*() {
      const big = Buffer.alloc(64 * 1024, "0123456789,")
      const before = (yield* smtpEvents).length
      const error = yield* withInbox(
        (port) => Effect.flip(send(port, mail({ attachments: [{ filename: "small.csv", content: csv }, { filename: "big.csv", content: big }] }))),
        { maxMessageBytes: 16 * 1024 }
      )
      expect(error.responseCode).toBe(552)
      expect((yield* smtpEvents).slice(before).map((e) => e.detail["reason"])).toEqual(["too-large"])
      expect(yield* feeds).toEqual([])
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("more attachments than allowed, or one of a type its source does not take, refuses the whole message", () =>
    Effect.gen(function*() {
      const limits = { maxAttachments: 2, attachmentTypes: { "niche-rms": { extensions: ["csv"], contentTypes: ["text/csv"] } } }
      const before = (yield* smtpEvents).length
      const [tooMany, wrongType] = yield* withInbox(
        (port) =>
          Effect.all([
            Effect.flip(send(port, mail({ attachments: ["a", "b", "c"].map((n) => ({ filename: `${n}.csv`, content: `${n}\r\n` })) }))),
            Effect.flip(send(port, mail({ attachments: [{ filename: "export.csv", content: csv }, { filename: "notes.xlsx", content: "x" }] })))
          ]),
        limits
      )
      expect([tooMany.responseCode, wrongType.responseCode]).toEqual([550, 550])
      expect(wrongType.response).toContain("5.6.1 attachment extension not accepted for source niche-rms")
      expect((yield* smtpEvents).slice(before).map((e) => [e.detail["reason"], e.detail["extension"] ?? null])).toEqual([
        ["too-many-attachments", null],
        ["attachment-type-not-accepted", "xlsx"]
      ])
      expect(yield* feeds).toEqual([])
    }).pipe(Effect.provide(FeedInbox.layerMemory)))

  it.effect("on shutdown new connections are refused while a message being stored is finished and answered 250", () =>
    Effect.gen(function*() {
      const memory = yield* FeedInbox.makeMemory
      const storing = yield* Deferred.make<void>()
      const proceed = yield* Deferred.make<void>()
      const slow: FeedInbox.FeedInbox = {
        receive: (feed, transport) =>
          Deferred.succeed(storing, undefined).pipe(Effect.zipRight(Deferred.await(proceed)), Effect.zipRight(memory.inbox.receive(feed, transport)))
      }
      const scope = yield* Scope.make()
      const { port } = yield* SmtpInbox.make(yield* configWith()).pipe(Scope.extend(scope), Effect.provideService(FeedInbox.FeedInbox, slow))
      const sending = yield* Effect.fork(send(port, mail()))
      yield* Deferred.await(storing)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* canConnect(port).pipe(Effect.repeat({ until: (connected) => !connected }))
      yield* Deferred.succeed(proceed, undefined)
      expect((yield* Fiber.join(sending)).response).toMatch(/^250 /)
      yield* Fiber.join(closing)
      expect(yield* memory.feeds).toHaveLength(1)
      expect(yield* canConnect(port)).toBe(false)
    }))

  it("attachment names become safe feed names", () => {
    expect(feedName("../../etc/passwd.csv", 1)).toBe("passwd.csv")
    expect(feedName("C:\\exports\\daily export (1).csv", 1)).toBe("daily export (1).csv")
    expect(feedName(".hidden;rm -rf.csv", 1)).toBe("hidden_rm -rf.csv")
    expect(feedName(undefined, 2)).toBe("attachment-2")
    expect(feedName("...", 3)).toBe("attachment-3")
  })

  it.effect("the config refuses a plaintext password without quoting it, and senders of unknown accounts", () =>
    Effect.gen(function*() {
      const hash = yield* passwordHash
      const decode = Schema.decodeUnknownEither(SmtpInboxConfig)
      const plaintext = decode({ ...baseConfig("hunter2-plaintext"), port: 587 })
      expect(Either.isLeft(plaintext) && plaintext.left.message).toContain("expected an scrypt hash")
      expect(Either.isLeft(plaintext) && plaintext.left.message).not.toContain("hunter2")
      const orphan = decode({ ...baseConfig(hash), senders: [{ address: sender, account: "nobody", source: "niche-rms" }] })
      expect(Either.isLeft(orphan) && orphan.left.message).toContain("no account has this user name")
      const typo = decode({ ...baseConfig(hash), attachmentTypes: { "niche-rm": { extensions: ["csv"] } } })
      expect(Either.isLeft(typo) && typo.left.message).toContain("no sender feeds this source")
    }))
})
