import { Notification } from "@encompass/domain"
import { ChannelPlugin } from "@encompass/plugin-sdk"
import { Effect, Redacted, Schema } from "effect"
import { createMessage, encrypt, enums } from "openpgp"
import type { PartialConfig } from "openpgp"

/**
 * Recipients open the attachment with GnuPG-family tools, and GnuPG 2.2 opens neither argon2
 * S2K nor SEIPD v2 (AEAD) packets (DESIGN.md §6, research/performance-anchors.md). Pinned here
 * rather than left to openpgp's defaults, so a library upgrade cannot lock recipients out.
 */
const pgpConfig: PartialConfig = {
  aeadProtect: false,
  v6Keys: false,
  s2kType: enums.s2k.iterated,
  preferredSymmetricAlgorithm: enums.symmetric.aes256,
  preferredCompressionAlgorithm: enums.compression.uncompressed,
  showVersion: false,
  showComment: false
}

const fail = (detail: string) => new ChannelPlugin.DeliveryError({ channel: "secure-email", reason: "Encryption", detail })

const encodePayload = Schema.encode(Schema.parseJson(Notification.Payload, { space: 2 }))

/**
 * The payload as pretty JSON in an ASCII-armoured, password-encrypted OpenPGP message. Neither
 * failure's detail carries the cause: a parse error would quote the personal data it failed on.
 */
export const encryptPayload = (
  payload: Notification.Payload,
  password: Redacted.Redacted<string>,
  filename: string
): Effect.Effect<string, ChannelPlugin.DeliveryError> =>
  encodePayload(payload).pipe(
    Effect.mapError(() => fail("the notification payload could not be encoded as JSON")),
    Effect.flatMap((json) =>
      Effect.tryPromise({
        try: async () =>
          encrypt({
            message: await createMessage({ text: `${json}\n`, filename, format: "utf8" }),
            passwords: [Redacted.value(password)],
            format: "armored",
            config: pgpConfig
          }),
        catch: () => fail("OpenPGP encryption of the payload failed")
      })
    )
  )
