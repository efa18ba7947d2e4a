/**
 * The secure-email channel: one email per notification to the setting's generic monitored
 * address (TVP ISA 4.3a), over TLS, carrying no personal data itself, with the notification as
 * an OpenPGP attachment encrypted to the recipient's public key where the directory pins one, or
 * else with the password the force previously supplied to the recipient (TVP ISA 4.3c, 4.4).
 */
import { Ids, Recipient } from "@encompass/domain"
import type { AuthorizedNotification } from "@encompass/domain"
import { ChannelPlugin, Manifest, OpenPgpSeal } from "@encompass/plugin-sdk"
import type { PluginRegistry } from "@encompass/plugin-sdk"
import { DateTime, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { createTransport } from "nodemailer"
import * as Message from "./internal/message.js"
import { poolOptions, toDeliveryError, toPartialRefusal } from "./internal/transport.js"
import { SecureEmailConfig } from "./SecureEmailConfig.js"
import * as SmtpRelay from "./SmtpRelay.js"

export const id: Ids.ChannelId = Ids.ChannelId.make("secure-email")

export const manifest: Manifest.ChannelManifest = new Manifest.ChannelManifest({
  id,
  version: "0.1.0",
  sdk: "^0.1.0",
  status: "stable",
  description: "OpenPGP-encrypted notification (to the recipient's pinned public key, or with its password) attached to an email sent over SMTP with TLS required",
  docs: "plugins/channel-secure-email/README.md",
  config: SecureEmailConfig,
  capabilities: {
    batching: false,
    acknowledgement: false,
    // A re-send carries the same Message-ID, `<reference.vN@domain>`.
    idempotentResend: true
  }
})

const invalidConfig = (detail: string) => new ChannelPlugin.DeliveryError({ channel: id, reason: "InvalidConfig", detail })

/**
 * Builds the channel on a pooled transporter that is closed when the scope closes. Nothing
 * connects until the first `check` or `deliver`.
 */
export const make = (config: SecureEmailConfig): Effect.Effect<ChannelPlugin.ChannelPlugin, never, Scope.Scope> =>
  Effect.gen(function*() {
    const transporter = yield* Effect.acquireRelease(
      Effect.sync(() => createTransport(poolOptions(config))),
      (transporter) => Effect.sync(() => transporter.close())
    )
    // The iterated S2K hashes a fresh 16 MiB buffer synchronously on the event loop (~13 ms):
    // running several at once only multiplies memory, so encryptions take turns (a public-key
    // one takes ~1.4 ms).
    const encryption = yield* Effect.makeSemaphore(1)
    const secrets = SmtpRelay.secretsOf(config)

    const passwordFor = (recipient: Recipient.Recipient): Effect.Effect<OpenPgpSeal.Secret, ChannelPlugin.DeliveryError> => {
      // By recipient key first, then a setting's bare URN or the EHE teams' shared password; never another recipient's.
      const key = Recipient.recipientKey(recipient)
      const password = config.passwords[key] ??
        (recipient._tag === "Setting" ? config.passwords[recipient.urn] : recipient._tag === "EheTeam" ? config.eheTeamPassword : undefined)
      return password === undefined
        ? Effect.fail(invalidConfig(`no attachment password is configured for recipient ${key}`))
        : Effect.succeed(OpenPgpSeal.password(password))
    }

    // A recipient whose directory row pins a key gets that key or nothing: any problem with it is
    // permanent, and never a reason to use a password instead.
    const secretFor = (route: Recipient.Route, recipient: Recipient.Recipient, date: Date) => {
      const pinned = route.openPgpKey
      if (pinned === undefined) return passwordFor(recipient)
      if (config.keyDirectory === undefined) {
        return Effect.fail(invalidConfig(`the directory pins OpenPGP key ${pinned} for ${Recipient.recipientKey(recipient)}, but no keyDirectory is configured`))
      }
      return OpenPgpSeal.readKeyFile(config.keyDirectory, recipient, pinned, date).pipe(
        Effect.mapError((error) => new ChannelPlugin.DeliveryError({ channel: id, reason: "Encryption", detail: error.detail }))
      )
    }

    const check: Effect.Effect<void, ChannelPlugin.DeliveryError> = Effect.tryPromise({
      try: () => transporter.verify(),
      catch: (cause) => toDeliveryError(cause, secrets)
    })

    const deliver = (
      authorized: AuthorizedNotification.AuthorizedNotification
    ): Effect.Effect<ChannelPlugin.Receipt, ChannelPlugin.DeliveryError> =>
      Effect.gen(function*() {
        const notification = authorized.notification
        if (notification.route.channel !== id) {
          return yield* invalidConfig(`notification is routed to channel ${notification.route.channel}, not ${id}`)
        }
        const now = DateTime.toDate(yield* DateTime.now)
        const secret = yield* secretFor(notification.route, notification.recipient, now)
        const armored = yield* encryption.withPermits(1)(
          OpenPgpSeal.seal(notification.payload, secret, Message.payloadName(notification.reference, notification.version), now)
        ).pipe(Effect.mapError((error) => new ChannelPlugin.DeliveryError({ channel: id, reason: "Encryption", detail: error.detail })))
        const info = yield* Effect.tryPromise({
          try: (signal) => transporter.sendMail({ ...Message.build(notification, armored, config), signal }),
          catch: (cause) => toDeliveryError(cause, secrets)
        })
        // Another address took the message: a refusal (5xx) is a directory error a person must fix,
        // a deferral (4xx only) is retried; a re-send keeps the Message-ID, so it is recognisable.
        if (info.rejected.length > 0) return yield* toPartialRefusal(info, notification.route.addresses.length, secrets)
        return new ChannelPlugin.Receipt({
          channel: id,
          remoteId: info.messageId,
          acceptedAt: yield* DateTime.now,
          response: info.response
        })
      })

    return { id, manifest, concurrency: config.maxConnections, check, deliver }
  })

/** The channel as the contract's service; hoist it into one constant (one layer, one pool). */
export const layer = (config: SecureEmailConfig): Layer.Layer<ChannelPlugin.ChannelPlugin> =>
  Layer.scoped(ChannelPlugin.ChannelPlugin, make(config))

/**
 * The channel as the gateway registers it: the region's settings decoded by `SecureEmailConfig`,
 * a relative `keyDirectory` taken from the region file's folder, one pool per region.
 */
export const registration: PluginRegistry.ChannelRegistration<SecureEmailConfig> = {
  manifest,
  build: (config, context) =>
    make(config.keyDirectory === undefined ? config : new SecureEmailConfig({ ...config, keyDirectory: context.resolve(config.keyDirectory) }))
}
