/**
 * The SFTP channel: each notification becomes one OpenPGP-encrypted file on the recipient's SFTP
 * server (DESIGN.md §6: key auth, pinned host key, encrypted files). The file is uploaded under a
 * hidden temporary name and then renamed, so a reader polling the folder only ever sees complete
 * files under final names; the final name is the notification's reference and version, so a
 * re-send replaces only its own file.
 *
 * The contract (libs/plugin-sdk/src/ChannelPlugin.ts): one `deliver` is one attempt on its own
 * connection, time-boxed and always closed; no retries, sleeps, queues or audit events.
 */
import { Ids, Recipient } from "@encompass/domain"
import type { AuthorizedNotification, Notification } from "@encompass/domain"
import { ChannelPlugin, Manifest, OpenPgpSeal } from "@encompass/plugin-sdk"
import type { PluginRegistry } from "@encompass/plugin-sdk"
import { DateTime, Effect, Layer } from "effect"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as posix from "node:path/posix"
import * as SftpSession from "./internal/SftpSession.js"
import { SftpChannelConfig } from "./SftpChannelConfig.js"
import { SftpChannelError } from "./SftpChannelError.js"

export const id: Ids.ChannelId = Ids.ChannelId.make("sftp")

export const manifest: Manifest.ChannelManifest = new Manifest.ChannelManifest({
  id,
  version: "0.1.0",
  sdk: "^0.1.0",
  // "stable" once it has delivered to a real recipient.
  status: "experimental",
  description: "OpenPGP-encrypted notification uploaded over SFTP with key authentication and a pinned host key, under a temporary name then renamed",
  docs: "plugins/channel-sftp/README.md",
  config: SftpChannelConfig,
  capabilities: {
    batching: false,
    acknowledgement: false,
    // A re-send writes the same file name, replacing the earlier file rather than adding one.
    idempotentResend: true
  }
})

/**
 * `encompass-<reference>-v<version>.json.asc`: the opaque gateway reference (as in the secure
 * email's attachment), so the recipient can quote it; no occurrence number or personal data. A
 * correction or withdrawal has its own reference, so its own file.
 */
export const fileName = (notification: Notification.Notification): string => `${payloadName(notification)}.asc`

/** The name inside the OpenPGP message: what `gpg --decrypt` writes out. */
const payloadName = (notification: Notification.Notification): string => `encompass-${notification.reference}-v${notification.version}.json`

/** Hidden (a leading dot) and unique per attempt: no reader takes it for a notification, and two attempts never share one. */
const temporaryName = (name: string): string => `.${name}.${randomBytes(6).toString("hex")}.part`

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** Builds the channel. Nothing connects until `check` or `deliver`. */
export const make = (config: SftpChannelConfig): Effect.Effect<ChannelPlugin.ChannelPlugin> =>
  Effect.sync(() => {
    const at = SftpSession.server(config)
    const fail = (method: SftpChannelError["method"], reason: SftpChannelError["reason"], detail: string) =>
      new SftpChannelError({ module: "SftpChannel", method, reason, server: at, detail })

    const privateKey = (method: SftpChannelError["method"]) =>
      Effect.tryPromise({
        try: () => fs.readFile(config.privateKey),
        catch: (cause) => fail(method, "InvalidConfig", `the private key file ${config.privateKey} cannot be read (${(cause as { code?: string }).code ?? "error"})`)
      })

    /** One connection for `use`, closed when it ends, whatever happens. */
    const session = <A>(method: SftpChannelError["method"], use: (session: SftpSession.Session) => Effect.Effect<A, SftpChannelError>) =>
      Effect.scoped(Effect.flatMap(privateKey(method), (key) => Effect.flatMap(SftpSession.open(config, method, key), use)))

    const folderMissing = (method: SftpChannelError["method"]) => fail(method, "InvalidConfig", `the remote folder ${config.directory} does not exist or is not a folder`)

    const check: Effect.Effect<void, ChannelPlugin.DeliveryError> = session("check", (s) =>
      Effect.flatMap(s.isDirectory(config.directory), (ok) => (ok ? Effect.void : Effect.fail(folderMissing("check"))))
    ).pipe(Effect.mapError((error) => error.toDeliveryError(id)))

    // A recipient whose directory row pins a key gets that key or nothing: any problem with it is
    // permanent, and never a reason to use a password instead.
    const secretFor = (notification: Notification.Notification, date: Date): Effect.Effect<OpenPgpSeal.Secret, ChannelPlugin.DeliveryError> => {
      const recipient = Recipient.recipientKey(notification.recipient)
      const pinned = notification.route.openPgpKey
      const invalid = (detail: string) => new ChannelPlugin.DeliveryError({ channel: id, reason: "InvalidConfig", detail })
      if (pinned !== undefined) {
        if (config.keyDirectory === undefined) return Effect.fail(invalid(`the directory pins OpenPGP key ${pinned} for ${recipient}, but no keyDirectory is configured`))
        return OpenPgpSeal.readKeyFile(config.keyDirectory, notification.recipient, pinned, date).pipe(
          Effect.mapError((error) => new ChannelPlugin.DeliveryError({ channel: id, reason: "Encryption", detail: error.detail }))
        )
      }
      const password = config.passwords[recipient]
      return password === undefined
        ? Effect.fail(invalid(`no OpenPGP key is pinned and no password is configured for recipient ${recipient}`))
        : Effect.succeed(OpenPgpSeal.password(password))
    }

    /**
     * Uploads under a temporary name, then renames it over `path`; a failed attempt removes its
     * temporary file. Once in place, temporaries of the same file that a killed process left
     * behind are removed too (best effort): the lease means no other attempt of it is running.
     */
    const upload = (s: SftpSession.Session, content: Uint8Array, path: string) => {
      const name = posix.basename(path)
      const temporary = posix.join(config.directory, temporaryName(name))
      const leftovers = s.namesStartingWith(config.directory, `.${name}.`).pipe(
        Effect.flatMap((names) => Effect.forEach(names.filter((n) => n.endsWith(".part")), (n) => s.remove(posix.join(config.directory, n)), { discard: true })),
        Effect.ignore
      )
      return s.put(content, temporary).pipe(
        Effect.zipRight(s.replace(temporary, path)),
        Effect.tapError(() => s.remove(temporary)),
        Effect.tap(() => leftovers)
      )
    }

    const deliver = (
      authorized: AuthorizedNotification.AuthorizedNotification
    ): Effect.Effect<ChannelPlugin.Receipt, ChannelPlugin.DeliveryError> =>
      Effect.gen(function*() {
        const notification = authorized.notification
        if (notification.route.channel !== id) {
          return yield* new ChannelPlugin.DeliveryError({
            channel: id,
            reason: "InvalidConfig",
            detail: `notification is routed to channel ${notification.route.channel}, not ${id}`
          })
        }
        const now = DateTime.toDate(yield* DateTime.now)
        const secret = yield* secretFor(notification, now)
        const armored = yield* OpenPgpSeal.seal(notification.payload, secret, payloadName(notification), now).pipe(
          Effect.mapError((error) => new ChannelPlugin.DeliveryError({ channel: id, reason: "Encryption", detail: error.detail }))
        )
        const content = new TextEncoder().encode(armored)
        const digest = sha256(content)
        const name = fileName(notification)
        const path = posix.join(config.directory, name)

        const how = yield* session("deliver", (s) =>
          Effect.gen(function*() {
            const how = yield* upload(s, content, path)
            // After the file: a reader that sees the manifest finds the file it describes complete.
            if (config.manifest) yield* upload(s, new TextEncoder().encode(`${digest}  ${name}\n`), `${path}.sha256`)
            return how
          })
        ).pipe(
          Effect.mapError((error) =>
            error.reason === "Rejected" && /No such file/i.test(error.detail) ? folderMissing("deliver").toDeliveryError(id) : error.toDeliveryError(id)
          )
        )
        return new ChannelPlugin.Receipt({
          channel: id,
          remoteId: path,
          acceptedAt: yield* DateTime.now,
          digest: `sha256:${digest}`,
          response: `uploaded ${path} (${content.length} bytes, sha256 ${digest}${config.manifest ? ", with manifest" : ""}) by ${how}`
        })
      })

    return { id, manifest, check, deliver }
  })

/** The channel as the plugin-sdk ChannelPlugin service; hoist it into one constant. */
export const layer = (config: SftpChannelConfig): Layer.Layer<ChannelPlugin.ChannelPlugin> => Layer.effect(ChannelPlugin.ChannelPlugin, make(config))

/** The channel as the gateway registers it: `privateKey` and `keyDirectory` relative to the region file's folder. */
export const registration: PluginRegistry.ChannelRegistration<SftpChannelConfig> = {
  manifest,
  build: (config, context) =>
    make(
      new SftpChannelConfig({
        ...config,
        privateKey: context.resolve(config.privateKey),
        ...(config.keyDirectory === undefined ? {} : { keyDirectory: context.resolve(config.keyDirectory) })
      })
    )
}
