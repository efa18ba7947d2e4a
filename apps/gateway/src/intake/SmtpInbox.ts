/**
 * The SMTP inbox intake transport (DESIGN.md §3): a force's record system emails its export as an
 * attachment, and every attachment becomes a feed in the `FeedInbox`. Only over STARTTLS, only
 * after AUTH, only from an envelope sender the allow-list gives that account. The answer is 250
 * once every attachment is stored, 451 if storing fails (the sender's MTA retries; the inbox
 * recognises what it already has), and 5xx with an audit event when the message is refused.
 * AUTH, MAIL, RCPT or DATA before STARTTLS is refused by smtp-server itself, and audited at a
 * bounded rate per peer address (`internal/smtpPlaintext`).
 */
import { AuditLog } from "@encompass/audit"
import { FeedInbox } from "@encompass/pipeline"
import { Cause, Effect, Exit, FiberSet, Layer, Option } from "effect"
import type { Redacted, Scope } from "effect"
import * as fs from "node:fs/promises"
import type { AddressInfo } from "node:net"
import * as Password from "./internal/smtpPassword.js"
import * as Plaintext from "./internal/smtpPlaintext.js"
import * as Session from "./internal/smtpSession.js"
import type { SmtpInboxConfig } from "./SmtpInboxConfig.js"
import { SmtpInboxError } from "./SmtpInboxError.js"

export interface Listening {
  readonly address: string
  /** The port listened on; the one the system picked when the config says 0. */
  readonly port: number
}

const errorCode = (e: unknown): string => (e instanceof Error && "code" in e ? String(e.code) : "error")

const fail = (reason: SmtpInboxError["reason"], detail: string) => new SmtpInboxError({ method: "make", reason, detail })

const readPem = (file: string, what: string) =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (e) => fail("InvalidConfig", `cannot read the TLS ${what} file ${file} (${errorCode(e)})`)
  })

const toServerError = (reply: Session.Reply): Error => Object.assign(new Error(reply.text), { responseCode: reply.code })

/** Starts the inbox for the lifetime of the scope; closing the scope lets open sessions finish first. */
export const make = (config: SmtpInboxConfig): Effect.Effect<Listening, SmtpInboxError, Scope.Scope | FeedInbox.FeedInbox | AuditLog.AuditLog> =>
  Effect.gen(function*() {
    const [cert, key] = yield* Effect.all([readPem(config.certFile, "certificate"), readPem(config.keyFile, "key")])
    const audit = yield* AuditLog.AuditLog
    const session = Session.make({ config, inbox: yield* FeedInbox.FeedInbox, audit })
    // Made before the server, so its last summaries are written once the server is closed.
    const plaintext = yield* Plaintext.make(audit, { perPeer: config.plaintextAuditPerPeer, windowMs: config.plaintextAuditWindowMs })
    // Made before the server, so it is released after it: a handler still running once the
    // server's grace period is over is interrupted, and its client told 421.
    const run = yield* FiberSet.makeRuntime()

    // Runs a handler and gives smtp-server its reply: success, the handler's refusal, a
    // temporary failure for a defect, or 421 when shutdown interrupts it.
    const answer = <A>(onDefect: Session.Reply, handler: Effect.Effect<A, Session.Reply>, done: (error: Error | null, value?: A) => void) => {
      run(handler.pipe(
        Effect.tapDefect((cause) => Effect.logError("smtp inbox: unexpected failure", cause)),
        Effect.exit,
        Effect.map((exit) =>
          Exit.isSuccess(exit) ? done(null, exit.value) : done(toServerError(Option.getOrElse(Cause.failureOption(exit.cause), () => onDefect)))
        ),
        Effect.onInterrupt(() => Effect.sync(() => done(toServerError(Session.shuttingDown))))
      ))
    }

    // Loaded here, not at start: only a region with an SMTP inbox needs it.
    const { SMTPServer } = yield* Effect.promise(() => import("smtp-server"))
    const server = yield* Effect.try({
      try: () =>
        new SMTPServer({
          ...(config.serverName === undefined ? {} : { name: config.serverName }),
          key,
          cert,
          minVersion: "TLSv1.2",
          // STARTTLS is offered and required: AUTH before it gets 538, MAIL before AUTH 530.
          secure: false,
          hideSTARTTLS: false,
          allowInsecureAuth: false,
          authOptional: false,
          authMethods: ["PLAIN", "LOGIN"],
          size: config.maxMessageBytes,
          maxClients: config.maxConnections,
          socketTimeout: config.socketTimeoutMs,
          closeTimeout: config.closeTimeoutMs,
          // Its own log lines name user names and addresses, so none are kept: its logger only
          // reports the commands it refuses before STARTTLS.
          ...Plaintext.watch(plaintext.report),
          disableReverseLookup: true,
          onAuth: (auth, s, done) => answer(Session.authTemporary, session.authenticate(auth, s), done),
          onMailFrom: (address, s, done) => answer(Session.temporary, session.mailFrom(address, s), done),
          onData: (stream, s, done) => answer(Session.temporary, session.data(stream, s), done)
        }),
      catch: (e) => fail("InvalidConfig", `the TLS certificate or key cannot be used (${errorCode(e)})`)
    })

    let listening = false
    // A client's failed TLS handshake or dropped socket must not end the process.
    server.on("error", (e) => {
      if (listening) run(Effect.logWarning("smtp inbox: connection error").pipe(Effect.annotateLogs({ code: errorCode(e) })))
    })

    const bound = yield* Effect.acquireRelease(
      Effect.async<AddressInfo, SmtpInboxError>((resume) => {
        server.once("error", (e) => {
          if (!listening) resume(Effect.fail(fail("Transport", `cannot listen on ${config.host}:${config.port} (${errorCode(e)})`)))
        })
        server.listen(config.port, config.host, () => {
          listening = true
          resume(Effect.succeed(server.server.address() as AddressInfo))
        })
      }),
      () =>
        Effect.async<void>((resume) => server.close(() => resume(Effect.void))).pipe(
          Effect.zipRight(Effect.logInfo("smtp inbox: stopped"))
        )
    )
    yield* Effect.logInfo("smtp inbox: listening").pipe(Effect.annotateLogs({ address: bound.address, port: bound.port }))
    return { address: bound.address, port: bound.port }
  })

/** The inbox as a layer, for composing the gateway. */
export const layer = (config: SmtpInboxConfig): Layer.Layer<never, SmtpInboxError, FeedInbox.FeedInbox | AuditLog.AuditLog> =>
  Layer.scopedDiscard(make(config))

/** Hashes a new account password for the config's `passwordHash` (scrypt, PHC string format). */
export const hashPassword = (password: Redacted.Redacted<string>): Effect.Effect<Redacted.Redacted<string>> => Password.hash(password)
