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

/** Keys are checked as a whole: a plain `Schema.Record` would silently drop a mistyped URN and its password. */
const PasswordsByUrn = Schema.Record({ key: Schema.String, value: Password }).pipe(
  Schema.filter((passwords) => {
    const bad = Object.keys(passwords).find((key) => !isUrn(key))
    return bad === undefined ? true : `"${bad}" is not a URN (six digits)`
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
  passwords: PasswordsByUrn.annotations({
    description: "Attachment password of each school or college by URN, as previously supplied to it by the force (TVP ISA 4.3c), e.g. `{ \"123456\": \"…\" }`. A setting with no password here gets nothing"
  }),
  eheTeamPassword: Schema.optional(Password).annotations({
    description: "Attachment password of the local authority's elective home education team, if it receives notifications by email"
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
