/**
 * What the SMTP inbox answers at each step of a session, as Effects: a failure is the reply the
 * client gets. Every refusal is audited (stage `refused`, subject `smtp:<session id>`) before it
 * is answered; a refusal that cannot be audited is answered as a temporary failure instead, so
 * the client comes back when it can be recorded.
 */
import type { AuditEvent, AuditLog } from "@encompass/audit"
import type { Ids } from "@encompass/domain"
import type { FeedInbox } from "@encompass/pipeline"
import { Array as Arr, Data, Effect, Option, Redacted, Stream } from "effect"
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from "smtp-server"
import type { SmtpInboxConfig } from "../SmtpInboxConfig.js"
import * as Message from "./smtpMessage.js"
import * as Password from "./smtpPassword.js"
import * as Senders from "./smtpSenders.js"

/** An SMTP reply other than success; `text` starts with the enhanced status code. */
export class Reply extends Data.TaggedError("Reply")<{ readonly code: number; readonly text: string }> {}

export const temporary = new Reply({ code: 451, text: "4.3.0 Temporary local failure, try again later" })
export const authTemporary = new Reply({ code: 454, text: "4.7.0 Temporary authentication failure, try again later" })
export const shuttingDown = new Reply({ code: 421, text: "4.3.2 Service shutting down, try again later" })

export interface Deps {
  readonly config: SmtpInboxConfig
  readonly inbox: FeedInbox.FeedInbox
  readonly audit: AuditLog.AuditLog
}

// onAuth made the account name the session's user; smtp-server allows MAIL and DATA only after it.
const accountOf = (session: SMTPServerSession): string => String(session.user)

export const make = (deps: Deps) => {
  const { audit, config, inbox } = deps
  const allowList = Senders.make(config)
  // The config's schema has checked every hash, so parsing cannot fail here.
  const hashes = Arr.map(config.accounts, (a) => [a.username, Option.getOrThrow(Password.parse(Redacted.value(a.passwordHash)))] as const)
  const accounts = new Map(hashes)
  const decoy = Password.decoy(Arr.headNonEmpty(hashes)[1])

  const refuse = (session: SMTPServerSession, reply: Reply, detail: AuditEvent.Detail, onAuditFailure: Reply = temporary) =>
    audit.append({ stage: "refused", subject: `smtp:${session.id}`, detail: { transport: "smtp", remoteAddress: session.remoteAddress, ...detail } }).pipe(
      Effect.tapErrorCause((cause) => Effect.logError("smtp inbox: a refusal could not be audited; answered as temporary", cause)),
      Effect.mapError(() => onAuditFailure),
      Effect.zipRight(Effect.logWarning("smtp inbox: refused")),
      Effect.annotateLogs({ session: session.id, reason: String(detail["reason"]), reply: reply.code }),
      Effect.zipRight(Effect.fail(reply))
    )

  /** The account name for smtp-server's session, or 535. */
  const authenticate = (auth: SMTPServerAuthentication, session: SMTPServerSession) =>
    Effect.gen(function*() {
      const username = auth.username ?? ""
      const hash = accounts.get(username)
      const matches = yield* Password.verify(auth.password ?? "", hash ?? decoy)
      // PLAIN can ask to act as another identity (authzid); an account acts only as itself.
      const asItself = auth.authzid === undefined || auth.authzid === "" || auth.authzid === username
      if (hash !== undefined && matches && asItself) {
        yield* Effect.logInfo("smtp inbox: authenticated").pipe(Effect.annotateLogs({ session: session.id, account: username }))
        return { user: username }
      }
      // An unknown user name is not recorded: it may be anything, a person's address included.
      return yield* refuse(
        session,
        new Reply({ code: 535, text: "5.7.8 Authentication credentials invalid" }),
        { reason: "auth-failed", method: auth.method, account: hash === undefined ? null : username },
        authTemporary
      )
    })

  /** Allows the envelope sender only if the logged-in account may use it; 550 otherwise. */
  const mailFrom = (address: SMTPServerAddress, session: SMTPServerSession) => {
    const account = accountOf(session)
    return Option.match(allowList.source(account, address.address), {
      onSome: () => Effect.void,
      onNone: () =>
        refuse(session, new Reply({ code: 550, text: "5.7.1 Sender address not allowed for this account" }), {
          reason: "sender-not-allowed",
          account,
          ...Senders.fingerprint(address.address)
        })
    })
  }

  // One at a time; after a partial failure the client's retry finds the stored ones as repeats.
  const store = (source: Ids.SourceId, attachments: ReadonlyArray<Message.Attachment>) =>
    Effect.forEach(attachments, (a) => inbox.receive({ source, name: a.name, content: Stream.succeed(a.bytes) }, "smtp")).pipe(
      Effect.tapErrorCause((cause) => Effect.logError("smtp inbox: storing a feed failed; answered 451 so the client retries", cause)),
      Effect.mapError(() => new Reply({ code: 451, text: "4.3.0 The message could not be stored, try again later" }))
    )

  /** Feeds every attachment to the inbox, then answers 250; 451 if storing fails, 5xx if the message is refused. */
  const data = (stream: SMTPServerDataStream, session: SMTPServerSession) =>
    Effect.gen(function*() {
      // Read first, always: whatever the answer, the client's DATA has to be consumed.
      const read = yield* Message.read(stream)
      const account = accountOf(session)
      const sender = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address
      const source = yield* Effect.orDieWith(allowList.source(account, sender), () => new Error("DATA from a sender MAIL did not allow"))
      const base = { account, source }
      switch (read._tag) {
        case "Aborted":
          return yield* Effect.fail(temporary)
        case "TooLarge":
          return yield* refuse(session, new Reply({ code: 552, text: `5.3.4 Message larger than ${config.maxMessageBytes} bytes` }), {
            ...base,
            reason: "too-large",
            maxBytes: config.maxMessageBytes
          })
        case "Malformed":
          return yield* refuse(session, new Reply({ code: 550, text: "5.6.0 Message is not valid MIME" }), { ...base, reason: "malformed" })
      }
      // Header values are the sender's text: kept short in the audit log.
      const detail = { ...base, messageId: read.messageId?.slice(0, 200) ?? null, attachments: read.attachments.length }
      if (read.attachments.length === 0) {
        return yield* refuse(session, new Reply({ code: 550, text: "5.6.0 No attachment: send the export as an attachment" }), {
          ...detail,
          reason: "no-attachment"
        })
      }
      if (read.attachments.length > config.maxAttachments) {
        return yield* refuse(
          session,
          new Reply({ code: 550, text: `5.6.0 ${read.attachments.length} attachments, at most ${config.maxAttachments} are accepted per message` }),
          { ...detail, reason: "too-many-attachments", maxAttachments: config.maxAttachments }
        )
      }
      for (const attachment of read.attachments) {
        const refusal = allowList.refuseType(source, attachment)
        if (Option.isSome(refusal)) {
          return yield* refuse(session, new Reply({ code: 550, text: `5.6.1 ${refusal.value}` }), {
            ...detail,
            reason: "attachment-type-not-accepted",
            extension: Senders.extensionOf(attachment.name).slice(0, 32),
            contentType: attachment.contentType.slice(0, 100)
          })
        }
      }
      const received = yield* store(source, read.attachments)
      const feeds = received.map((r) => `feed ${r.id}${r.repeat ? " (repeat)" : ""}`)
      yield* Effect.logInfo("smtp inbox: message accepted").pipe(
        Effect.annotateLogs({ session: session.id, account, source, feeds: received.map((r) => r.id).join(","), repeats: received.filter((r) => r.repeat).length })
      )
      return `2.6.0 Accepted: ${feeds.join(", ")}`
    })

  return { authenticate, mailFrom, data }
}
