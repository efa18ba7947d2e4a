import { Schema } from "effect"

/**
 * Why a poll of an SFTP drop failed. `Transport`, `Timeout`, `Remote` (the server refused a
 * request, e.g. a missing folder) and `Store` (the inbox or audit log could not record) may clear
 * by themselves; `HostKey`, `Auth` and `InvalidConfig` need a person.
 */
export const Reason = Schema.Literal("Transport", "Timeout", "HostKey", "Auth", "InvalidConfig", "Remote", "Store")
export type Reason = typeof Reason.Type

export class SftpDropError extends Schema.TaggedError<SftpDropError>()("SftpDropError", {
  module: Schema.Literal("SftpDrop").pipe(Schema.propertySignature, Schema.withConstructorDefault(() => "SftpDrop" as const)),
  method: Schema.Literal("readKey", "connect", "list", "read", "move", "receive", "audit"),
  reason: Reason,
  /** `user@host:port` of the drop; no credentials. */
  server: Schema.String,
  /** A description safe to log: never key material or file contents; file names are fine. */
  detail: Schema.String
}) {
  get retryable(): boolean {
    return this.reason === "Transport" || this.reason === "Timeout" || this.reason === "Remote" || this.reason === "Store"
  }
  override get message(): string {
    return `SFTP drop ${this.server}: ${this.method} failed (${this.reason}): ${this.detail}`
  }
}
