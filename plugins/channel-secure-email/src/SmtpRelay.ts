/**
 * How this plugin talks to an SMTP relay, for anything else in the gateway that sends mail (the
 * SPOC alerts) so there is one TLS policy and one redaction rule: TLS is never optional, nodemailer
 * never logs or touches the filesystem, and server text never carries an address or a secret.
 */
import { Redacted } from "effect"
import type { SMTPTransportOptions } from "nodemailer"
import type { SecureEmailConfig } from "./SecureEmailConfig.js"

/** The connection part of the channel's settings. */
export type Connection = Pick<
  SecureEmailConfig,
  "host" | "port" | "secure" | "ca" | "rejectUnauthorized" | "auth" | "connectionTimeoutMs" | "greetingTimeoutMs" | "socketTimeoutMs"
>

/** STARTTLS is required unless `secure` (implicit TLS) is set; TLS 1.2 at least; certificates verified unless configured otherwise. */
export const connectionOptions = (connection: Connection): SMTPTransportOptions => ({
  host: connection.host,
  port: connection.port,
  secure: connection.secure,
  requireTLS: true,
  tls: {
    minVersion: "TLSv1.2",
    rejectUnauthorized: connection.rejectUnauthorized,
    ...(connection.ca === undefined ? {} : { ca: connection.ca })
  },
  ...(connection.auth === undefined ? {} : { auth: { user: connection.auth.user, pass: Redacted.value(connection.auth.pass) } }),
  connectionTimeout: connection.connectionTimeoutMs,
  greetingTimeout: connection.greetingTimeoutMs,
  socketTimeout: connection.socketTimeoutMs,
  logger: false,
  debug: false,
  disableFileAccess: true,
  disableUrlAccess: true
})

/** The credentials to strip from anything a server says. */
export const secretsOf = (connection: Connection): ReadonlyArray<string> =>
  connection.auth === undefined ? [] : [Redacted.value(connection.auth.pass)]

const EMAIL = /[^\s<>()[\]"',;:@]+@[^\s<>()[\]"',;:@]+/g

/** Server text may quote addresses (`550 <dsl@school.example> unknown`); secrets are removed in case a server echoes one. */
export const redact = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets
    .filter((secret) => secret.length > 0)
    .reduce((acc, secret) => acc.split(secret).join("[redacted]"), text)
    .replace(EMAIL, "[address]")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300)
