/**
 * Configuration of the SMTP inbox intake transport: where it listens, its STARTTLS certificate,
 * the accounts a force's record system logs in with, and which envelope senders each account may
 * use for which source. The annotations are the documentation.
 */
import { Ids } from "@encompass/domain"
import { Option, Schema } from "effect"
import * as Password from "./internal/smtpPassword.js"

const Username = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/, { message: () => "a user name is 1 to 128 letters, digits and . _ @ + -, starting with a letter or digit" })
)

// The message never quotes the value: even a hash is material for guessing offline.
const PasswordHash = Schema.Redacted(
  Schema.String.pipe(
    Schema.filter((text) => Option.isSome(Password.parse(text)), {
      message: () => "expected an scrypt hash `$scrypt$ln=15,r=8,p=1$<salt>$<key>` (ln 14 to 20, r 1 to 16, p 1 to 4, salt of 16 bytes or more, key of 32 bytes or more)"
    })
  )
)

const Account = Schema.Struct({
  username: Username.annotations({ description: "SMTP AUTH user name of one record system", examples: ["tvp-niche-export"] }),
  passwordHash: PasswordHash.annotations({
    description: "scrypt hash of the account's password in PHC format, made with `SmtpInbox.hashPassword`; the password itself is never stored"
  })
})

const Sender = Schema.Struct({
  address: Schema.String.pipe(Schema.pattern(/^[^\s@<>]+@[^\s@<>]+$/, { message: () => "expected an email address" })).annotations({
    description: "Envelope sender (MAIL FROM) the record system uses, compared whole and case-insensitively",
    examples: ["niche-export@thamesvalley.police.uk"]
  }),
  account: Username.annotations({ description: "The account that must be logged in to send from this address" }),
  source: Ids.SourceId.annotations({ description: "Source plugin that decodes this sender's attachments", examples: [Ids.SourceId.make("niche-rms")] })
})

const Extension = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9]{1,16}$/, { message: () => "an extension is 1 to 16 letters or digits, without the dot" }))
const ContentType = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/, { message: () => "expected a MIME type such as text/csv, without parameters" })
)

const AttachmentTypes = Schema.Struct({
  extensions: Schema.optional(Schema.NonEmptyArray(Extension)).annotations({
    description: "File name extensions an attachment may have, without the dot, case-insensitive",
    examples: [["csv"]]
  }),
  contentTypes: Schema.optional(Schema.NonEmptyArray(ContentType)).annotations({
    description: "MIME types an attachment may be declared as, case-insensitive",
    examples: [["text/csv", "application/vnd.ms-excel"]]
  })
})

const Positive = Schema.Int.pipe(Schema.positive())

const fields = {
  version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
    description: "Version of this configuration's schema"
  }),
  host: Schema.NonEmptyTrimmedString.annotations({
    description: "Address to listen on: `0.0.0.0` for every IPv4 interface, or one interface's address",
    examples: ["0.0.0.0", "10.20.0.5"]
  }),
  port: Schema.Int.pipe(Schema.between(0, 65535)).annotations({
    description: "Port to listen on, normally 587 (submission); 0 picks a free port (tests)",
    examples: [587]
  }),
  serverName: Schema.optional(Schema.NonEmptyTrimmedString).annotations({
    description: "Host name in the greeting, normally the name in the certificate; default the machine's host name",
    examples: ["encompass-intake.thamesvalley.police.uk"]
  }),
  certFile: Schema.NonEmptyString.annotations({
    description: "PEM certificate chain offered with STARTTLS, the server's own certificate first. STARTTLS is required before AUTH and MAIL"
  }),
  keyFile: Schema.NonEmptyString.annotations({
    description: "PEM private key of that certificate; keep the file readable by the gateway only"
  }),
  accounts: Schema.NonEmptyArray(Account).annotations({
    description: "Accounts record systems log in with (SMTP AUTH PLAIN or LOGIN, over TLS only)"
  }),
  senders: Schema.NonEmptyArray(Sender).annotations({
    description: "Allow-list: each entry lets one account send from one envelope address, and names the source its attachments are fed to. Any other sender is refused (550) and audited"
  }),
  attachmentTypes: Schema.optionalWith(Schema.Record({ key: Schema.String, value: AttachmentTypes }), { default: () => ({}) }).annotations({
    description: "Per source id, the attachment types it accepts; a message with any other attachment is refused (550). A source not listed accepts any type"
  }),
  maxMessageBytes: Schema.optionalWith(Positive, { default: () => 25 * 1024 * 1024 }).annotations({
    description: "Largest message accepted, in bytes as sent (default 26214400, 25 MiB; attachments are base64, a third larger than the file); a message of more bytes is refused (552)"
  }),
  maxAttachments: Schema.optionalWith(Positive, { default: () => 10 }).annotations({
    description: "Most attachments in one message; a message with more is refused (550)"
  }),
  maxConnections: Schema.optionalWith(Positive, { default: () => 10 }).annotations({
    description: "Most SMTP connections open at once. Each may hold one message in memory while it is checked, so memory is bounded by this times maxMessageBytes"
  }),
  socketTimeoutMs: Schema.optionalWith(Positive, { default: () => 60_000 }).annotations({
    description: "Milliseconds of silence from a client after which its connection is closed"
  }),
  closeTimeoutMs: Schema.optionalWith(Positive, { default: () => 30_000 }).annotations({
    description: "On shutdown, milliseconds open connections get to finish before they are told 421 and closed"
  }),
  plaintextAuditPerPeer: Schema.optionalWith(Positive, { default: () => 10 }).annotations({
    description:
      "AUTH, MAIL, RCPT or DATA before STARTTLS is refused (538, 530) and audited with the peer's address and the command, never its argument: at most this many events per peer address in each plaintextAuditWindowMs. Further ones are counted and the count audited as one event when the window is over, so a scanner cannot flood the audit log"
  }),
  plaintextAuditWindowMs: Schema.optionalWith(Positive, { default: () => 600_000 }).annotations({
    description: "Milliseconds of the window in which plaintextAuditPerPeer refusals before STARTTLS from one peer address are audited one by one"
  })
}

type Fields = Schema.Struct.Type<typeof fields>

const duplicates = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Array<number> => {
  const seen = new Set<string>()
  return items.flatMap((item, i) => {
    const k = key(item)
    if (seen.has(k)) return [i]
    seen.add(k)
    return []
  })
}

/** Cross-field rules: a typo must fail loading, not silently widen or narrow the allow-list. */
const consistent = (config: Fields): Array<Schema.FilterIssue> => {
  const usernames = new Set(config.accounts.map((a) => a.username))
  const sources = new Set<string>(config.senders.map((s) => s.source))
  return [
    ...duplicates(config.accounts, (a) => a.username).map((i) => ({ path: ["accounts", i, "username"], message: "this user name is already an account" })),
    ...config.senders.flatMap((s, i) => usernames.has(s.account) ? [] : [{ path: ["senders", i, "account"], message: "no account has this user name" }]),
    ...duplicates(config.senders, (s) => `${s.account}\u0000${s.address.toLowerCase()}`).map((i) => ({
      path: ["senders", i],
      message: "this account is already allowed this address"
    })),
    ...Object.keys(config.attachmentTypes).flatMap((key) => sources.has(key) ? [] : [{ path: ["attachmentTypes", key], message: "no sender feeds this source" }])
  ]
}

export class SmtpInboxConfig extends Schema.Class<SmtpInboxConfig>("SmtpInboxConfig")(
  Schema.Struct(fields).pipe(Schema.filter(consistent))
) {}
