import { ChannelPlugin } from "@encompass/plugin-sdk"
import type { NodemailerError, SMTPPoolOptions } from "nodemailer"
import type { SecureEmailConfig } from "../SecureEmailConfig.js"
import { connectionOptions, redact } from "../SmtpRelay.js"

/** Pooled SMTP options on the shared connection rules (`SmtpRelay`). */
export const poolOptions = (config: SecureEmailConfig): SMTPPoolOptions & { pool: true } => ({
  ...connectionOptions(config),
  pool: true,
  maxConnections: config.maxConnections,
  // One deliver is one attempt: the core owns retries, so the pool must not requeue on its own.
  maxRequeues: 0
})

const isNodemailerError = (u: unknown): u is NodemailerError => u instanceof Error

/**
 * Maps a nodemailer failure to the contract's error. `reason` decides retrying: a 4xx reply or
 * a broken connection is worth another attempt, a 5xx reply or failed login needs a person.
 */
export const toDeliveryError = (cause: unknown, secrets: ReadonlyArray<string>): ChannelPlugin.DeliveryError => {
  const fail = (reason: ChannelPlugin.DeliveryError["reason"], detail: string) =>
    new ChannelPlugin.DeliveryError({ channel: "secure-email", reason, detail: redact(detail, secrets) })
  if (!isNodemailerError(cause)) return fail("Transport", "unexpected failure from the SMTP client")
  const { code, responseCode } = cause
  const said = `${code ?? "error"}: ${cause.response ?? cause.message}`
  const transient = responseCode !== undefined && responseCode >= 400 && responseCode < 500
  switch (code) {
    case "ETIMEDOUT":
      return fail("Timeout", said)
    case "ETLS":
    case "EREQUIRETLS":
      return fail("Transport", `TLS is required but could not be set up (the server did not offer STARTTLS, or the handshake failed): ${said}`)
    case "EAUTH":
    case "ENOAUTH":
      return fail(transient ? "Transport" : "Auth", said)
    case "ECONFIG":
      return fail("InvalidConfig", said)
  }
  // 530: the relay wants a login the configuration does not give.
  if (responseCode === 530) return fail("Auth", said)
  // 503 (bad sequence of commands) is a session fault, not a verdict on the message.
  if (responseCode !== undefined && responseCode >= 500 && responseCode !== 503) return fail("Rejected", said)
  if (code === "EENVELOPE" && responseCode === undefined) return fail("InvalidConfig", said)
  return fail("Transport", said)
}

/**
 * Some of the route's addresses were refused while others took the message. A refusal is a
 * directory error a person must fix — unless every refusal was a 4xx (greylisting, a mailbox
 * over quota for now): then the relay asked to be tried again, and the re-send, which also
 * reaches the addresses that took it, carries the same Message-ID.
 */
export const toPartialRefusal = (
  info: { readonly rejected: ReadonlyArray<unknown>; readonly rejectedErrors?: ReadonlyArray<NodemailerError> | undefined },
  addresses: number,
  secrets: ReadonlyArray<string>
): ChannelPlugin.DeliveryError => {
  const refused = info.rejected.length
  const errors = info.rejectedErrors ?? []
  const deferred = errors.length === refused &&
    errors.every((e) => e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode < 500)
  return deferred
    ? new ChannelPlugin.DeliveryError({
      channel: "secure-email",
      reason: "Transport",
      detail: redact(`the relay deferred ${refused} of ${addresses} addresses: ${errors[0]?.response ?? ""}`, secrets)
    })
    : new ChannelPlugin.DeliveryError({
      channel: "secure-email",
      reason: "Rejected",
      // The server's reason is what the operator needs to fix the directory; addresses are redacted.
      detail: redact(`the relay refused ${refused} of ${addresses} addresses: ${errors.find((e) => (e.responseCode ?? 0) >= 500)?.response ?? ""}`, secrets)
    })
}
