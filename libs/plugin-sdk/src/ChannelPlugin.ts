/**
 * The contract of a channel plugin (DESIGN.md §3, CONVENTIONS.md rule 5). One `deliver` call is
 * one attempt: the core owns retries, timeouts, queueing and audit. `deliver` accepts only an
 * AuthorizedNotification, which only the ISA policy can construct, so a channel cannot send
 * what the agreement did not allow.
 */
import type { AuthorizedNotification, Ids } from "@encompass/domain"
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type { ChannelManifest } from "./Manifest.js"

/** Proof that the remote side accepted a notification. */
export class Receipt extends Schema.Class<Receipt>("Receipt")({
  channel: Schema.String,
  /** The remote's id for what it accepted (a Message-ID, a file name); never personal data. */
  remoteId: Schema.String,
  acceptedAt: Schema.DateTimeUtc,
  /** The remote's own words, e.g. the SMTP `250 OK` line. */
  response: Schema.optional(Schema.String),
  /** `sha256:<hex>` of exactly what the remote holds, where the channel knows it (a file it uploaded). */
  digest: Schema.optional(Schema.String)
}) {}

/**
 * Why a delivery attempt failed. `reason` tells the core whether to retry: `Transport` and
 * `Timeout` are worth retrying, the rest need a person.
 */
export class DeliveryError extends Schema.TaggedError<DeliveryError>()("DeliveryError", {
  channel: Schema.String,
  reason: Schema.Literal("Transport", "Timeout", "Auth", "Rejected", "InvalidConfig", "Encryption"),
  /** A description safe to log: no credentials, no personal data. */
  detail: Schema.String
}) {
  get retryable(): boolean {
    return this.reason === "Transport" || this.reason === "Timeout"
  }
  override get message(): string {
    return `${this.channel} delivery failed (${this.reason}): ${this.detail}`
  }
}

export interface ChannelPlugin {
  /** `manifest.id`, for convenience. */
  readonly id: Ids.ChannelId
  readonly manifest: ChannelManifest
  /**
   * How many deliveries the channel takes at once (its connection pool size); the outbox runs
   * that many attempts of this channel in parallel unless the region sets its own. Default 1.
   */
  readonly concurrency?: number
  /** Checks the channel's configuration and reachability without sending anything. */
  readonly check: Effect.Effect<void, DeliveryError>
  readonly deliver: (notification: AuthorizedNotification.AuthorizedNotification) => Effect.Effect<Receipt, DeliveryError>
}

export const ChannelPlugin = Context.GenericTag<ChannelPlugin>("@encompass/plugin-sdk/ChannelPlugin")
