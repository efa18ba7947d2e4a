/**
 * Why an SFTP attempt failed, naming the step and the server (`user@host:port`), never key
 * material, passwords or the notification's data. `reason` decides whether the core retries.
 */
import { ChannelPlugin } from "@encompass/plugin-sdk"
import { Schema } from "effect"

export class SftpChannelError extends Schema.TaggedError<SftpChannelError>("@encompass/channel-sftp/SftpChannelError")(
  "SftpChannelError",
  {
    module: Schema.Literal("SftpChannel"),
    method: Schema.Literal("check", "deliver"),
    /**
     * `Transport`, `Timeout`: the connection failed, worth retrying. `Auth`: the server refused our
     * key; `HostKey`: the server is not the one pinned; `Rejected`: the server refused an upload or
     * rename (a missing folder, no permission); `InvalidConfig`: our own key, password or folder.
     */
    reason: Schema.Literal("Transport", "Timeout", "Auth", "HostKey", "Rejected", "InvalidConfig"),
    server: Schema.String,
    detail: Schema.String
  }
) {
  get retryable(): boolean {
    return this.reason === "Transport" || this.reason === "Timeout"
  }

  override get message(): string {
    return `SFTP ${this.method} at ${this.server} failed (${this.reason}): ${this.detail}`
  }

  /** The contract's error; a host key mismatch is an authentication failure of the server, for a person to resolve. */
  toDeliveryError(channel: string): ChannelPlugin.DeliveryError {
    const reason = this.reason === "HostKey" ? "Auth" : this.reason
    return new ChannelPlugin.DeliveryError({ channel, reason, detail: this.message })
  }
}
