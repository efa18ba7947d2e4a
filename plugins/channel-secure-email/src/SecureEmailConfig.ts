/**
 * Configuration of the secure-email channel. The annotations are the documentation: the README
 * config table is written from them.
 */
import { Ids } from "@encompass/domain"
import { Schema, Struct } from "effect"

const isUrn = Schema.is(Ids.Urn)

/**
 * A password the force has already given the recipient by another route (TVP ISA 4.3c). At
 * least 12 characters: it is the only thing between the attachment and anyone who can read the
 * school's shared mailbox.
 */
const Password = Schema.Redacted(Schema.String.pipe(Schema.minLength(12, { message: () => "a password needs at least 12 characters" })))

/** `setting:123456`, `ehe-team:E06000055`, `front-door:E06000055`: the recipient keys of audit events. */
const RecipientKey = /^(setting:\d{6}|ehe-team(:[EW]0[6-9]\d{6})?|front-door:[EW]0[6-9]\d{6})$/

/** Keys are checked as a whole: a plain `Schema.Record` would silently drop a mistyped URN and its password. */
const PasswordsByRecipient = Schema.Record({ key: Schema.String, value: Password }).pipe(
  Schema.filter((passwords) => {
    const bad = Object.keys(passwords).find((key) => !isUrn(key) && !RecipientKey.test(key))
    return bad === undefined ? true : `"${bad}" is neither a URN (six digits) nor a recipient key (setting:<URN>, ehe-team:<LA code>, front-door:<LA code>)`
  })
)

const Millis = Schema.Int.pipe(Schema.positive())

export class SecureEmailConfig extends Schema.Class<SecureEmailConfig>("SecureEmailConfig")({
  version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
    description: "Version of this configuration's schema"
  }),
  host: Schema.NonEmptyTrimmedString.annotations({
    description: "SMTP relay (submission server) host name or IP address",
    examples: ["smtp.force.example"]
  }),
  port: Schema.Int.pipe(Schema.between(1, 65535)).annotations({
    description: "SMTP relay port: 587 for STARTTLS, 465 for implicit TLS",
    examples: [587, 465]
  }),
  secure: Schema.optionalWith(Schema.Boolean, { default: () => false }).annotations({
    description: "true: TLS from the first byte (implicit TLS, port 465). false: STARTTLS, which is then required; a server that does not offer it is refused"
  }),
  ca: Schema.optional(Schema.NonEmptyString).annotations({
    description: "PEM certificate(s) of the CA that signed the relay's certificate (a private CA or a self-signed certificate). When set, only these are trusted, not the system store"
  }),
  rejectUnauthorized: Schema.optionalWith(Schema.Boolean, { default: () => true }).annotations({
    description: "Refuse a relay whose certificate does not verify against the trusted CAs or does not match the host. Never turn off outside a test"
  }),
  auth: Schema.optional(
    Schema.Struct({
      user: Schema.NonEmptyString,
      pass: Schema.Redacted(Schema.NonEmptyString)
    })
  ).annotations({ description: "SMTP AUTH credentials for the relay, if it requires them" }),
  from: Schema.NonEmptyTrimmedString.annotations({
    description: "The From header: the force's Operation Encompass mailbox",
    examples: ["Thames Valley Police Operation Encompass <encompass@thamesvalley.pnn.police.uk>"]
  }),
  messageIdDomain: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/)).annotations({
    description: "Domain of the deterministic Message-ID `<reference.vN@domain>`, normally the force's mail domain",
    examples: ["thamesvalley.pnn.police.uk"]
  }),
  senderName: Schema.NonEmptyTrimmedString.annotations({
    description: "The force's name as recipients know it, shown in the email body",
    examples: ["Thames Valley Police"]
  }),
  contact: Schema.NonEmptyTrimmedString.annotations({
    description: "Who recipients contact with questions, shown in the email body: a generic mailbox or phone line, never a person's own details",
    examples: ["Encompass@thamesvalley.pnn.police.uk"]
  }),
  passwords: PasswordsByRecipient.annotations({
    description: "Attachment password of each recipient that publishes no key, as previously supplied to it by the force (TVP ISA 4.3c): a school or college by URN (`{ \"123456\": \"…\" }`) or by recipient key (`setting:<URN>`), a council's EHE team (`ehe-team:<LA code>`) or front door (`front-door:<LA code>`). A recipient with no password here and no pinned key gets nothing"
  }),
  eheTeamPassword: Schema.optional(Password).annotations({
    description: "Attachment password of any council's elective home education team without one of its own under `passwords` (`ehe-team:<LA code>`); kept for region files written before recipient keys"
  }),
  keyDirectory: Schema.optional(Schema.NonEmptyTrimmedString).annotations({
    description: "Folder of the recipients' armoured OpenPGP public keys, kept with the directory (relative to the region file's folder unless absolute): `setting-<URN>.asc`, `ehe-team-<LA code>.asc`, `front-door-<LA code>.asc`. A recipient whose directory row pins a key fingerprint gets its notification encrypted to that key, never to a password",
    examples: ["config/keys"]
  }),
  maxConnections: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 5 }).annotations({
    description: "Pooled SMTP connections kept open to the relay"
  }),
  connectionTimeoutMs: Schema.optionalWith(Millis, { default: () => 10_000 }).annotations({
    description: "Milliseconds to wait for the TCP (or implicit TLS) connection"
  }),
  greetingTimeoutMs: Schema.optionalWith(Millis, { default: () => 10_000 }).annotations({
    description: "Milliseconds to wait for the server's greeting after connecting"
  }),
  socketTimeoutMs: Schema.optionalWith(Millis, { default: () => 60_000 }).annotations({
    description: "Milliseconds of silence from the server after which a connection is dropped"
  })
}) {}

/**
 * The connection part of the channel's settings — host, port, TLS, credentials, From and
 * timeouts — with the channel's own rules and defaults (TLS required; STARTTLS unless `secure`).
 * Other keys (`messageIdDomain`, `passwords` …) are ignored, so the channel's settings serve as
 * well as settings of their own. The gateway's SPOC alerts send with it.
 */
export const RelaySettings = Schema.Struct(Struct.pick(
  SecureEmailConfig.fields,
  "host",
  "port",
  "secure",
  "ca",
  "rejectUnauthorized",
  "auth",
  "from",
  "connectionTimeoutMs",
  "greetingTimeoutMs",
  "socketTimeoutMs"
))
export type RelaySettings = typeof RelaySettings.Type
