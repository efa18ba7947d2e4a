/**
 * Configuration of the SFTP channel, as a region's config file holds it. The annotations are the
 * documentation: the README's config table is generated from them (test/ConfigTable.ts).
 * Pinning the server's host key is mandatory: there is no "accept any key" setting.
 */
import { SshHostKey } from "@encompass/plugin-sdk"
import { Schema } from "effect"

/** A local file or folder; the gateway resolves a relative one against the region file's folder. */
const LocalPath = Schema.NonEmptyTrimmedString

/** At least 12 characters: it is all that stands between the file and anyone who can read the folder. */
const Password = Schema.Redacted(Schema.String.pipe(Schema.minLength(12, { message: () => "a password needs at least 12 characters" })))

/** `setting:123456`, `ehe-team:E06000055`, `front-door:E06000055`: the recipient keys of audit events. */
const RecipientKey = /^(setting:\d{6}|ehe-team(:[EW]0[6-9]\d{6})?|front-door:[EW]0[6-9]\d{6})$/

/** Keys are checked as a whole: a plain `Schema.Record` would silently drop a mistyped key and its password. */
const PasswordsByRecipient = Schema.Record({ key: Schema.String, value: Password }).pipe(
  Schema.filter((passwords) => {
    const bad = Object.keys(passwords).find((key) => !RecipientKey.test(key))
    return bad === undefined ? true : `"${bad}" is not a recipient key (setting:<URN>, ehe-team:<LA code>, front-door:<LA code>)`
  })
)

const Millis = Schema.Int.pipe(Schema.positive())

export class SftpChannelConfig extends Schema.Class<SftpChannelConfig>("SftpChannelConfig")({
  version: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }).annotations({
    description: "Version of this configuration's schema"
  }),
  host: Schema.NonEmptyTrimmedString.annotations({
    description: "The recipient's SFTP server: host name or IP address",
    examples: ["sftp.bedford.gov.example"]
  }),
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 22 }).annotations({
    description: "SSH port of the SFTP server"
  }),
  username: Schema.NonEmptyTrimmedString.annotations({
    description: "Account the gateway logs in as (key authentication only)",
    examples: ["encompass"]
  }),
  privateKey: LocalPath.annotations({
    description: "Path of the gateway's private key file, relative to the region file's folder unless absolute (OpenSSH or PEM format, unencrypted), read at every attempt. Its content is never logged",
    examples: ["/etc/encompass/keys/council-sftp_ed25519"]
  }),
  hostKey: SshHostKey.Pinned.annotations({
    description: "The pinned host key: the SHA-256 fingerprint of the server's host key, as `ssh-keygen -lf <key>.pub` prints it. A server presenting any other key is refused before logging in",
    examples: ["SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"]
  }),
  directory: Schema.NonEmptyTrimmedString.annotations({
    description: "The remote folder files are uploaded into; relative paths start in the account's login folder. It must already exist: the channel never creates it",
    examples: ["/inbound/encompass", "inbound"]
  }),
  manifest: Schema.optionalWith(Schema.Boolean, { default: () => false }).annotations({
    description: "Also upload `<file>.sha256` (the `sha256sum` line of the encrypted file), after the file itself"
  }),
  keyDirectory: Schema.optional(LocalPath.annotations({
    description: "Local folder of the recipients' armoured OpenPGP public keys, kept with the directory (relative to the region file's folder unless absolute): `setting-<URN>.asc`, `ehe-team-<LA code>.asc`, `front-door-<LA code>.asc`. A recipient whose directory row pins a key fingerprint gets its file encrypted to that key, never to a password",
    examples: ["/etc/encompass/keys/openpgp"]
  })),
  passwords: Schema.optionalWith(PasswordsByRecipient, { exact: true, default: () => ({}) }).annotations({
    description: "OpenPGP password of each recipient that publishes no key, by recipient key (`setting:<URN>`, `ehe-team:<LA code>`, `front-door:<LA code>`), as the force previously gave it to the recipient. A recipient with neither a pinned key nor a password gets nothing"
  }),
  connectTimeoutMs: Schema.optionalWith(Millis, { default: () => 20_000 }).annotations({
    description: "Milliseconds to wait for the SSH connection, handshake and login"
  }),
  operationTimeoutMs: Schema.optionalWith(Millis, { default: () => 60_000 }).annotations({
    description: "Milliseconds to wait for each SFTP request (upload, rename, stat)"
  })
}) {}
