/**
 * OAuth2 client-credentials tokens (RFC 6749 §4.4) for the councils' servers: one per token
 * endpoint and client, fetched on first use, reused until shortly before it expires, and dropped
 * when the server refuses it so the next request fetches a fresh one. The secret goes in the
 * Basic authorization header and never into an error.
 */
import { ChannelPlugin } from "@encompass/plugin-sdk"
import { Effect, Redacted, Ref } from "effect"
import { fetch } from "undici"
import type { Dispatcher } from "undici"
import type { OAuth2 } from "../CouncilFhirConfig.js"

/** A token is renewed this long before it expires, so none expires in flight. */
const marginMs = 30_000

interface Held {
  readonly token: string
  readonly until: number
}

export interface Token {
  readonly token: string
  /** Fetched for this request, rather than reused. */
  readonly fresh: boolean
}

export interface Tokens {
  readonly get: (oauth2: OAuth2, secret: Redacted.Redacted<string>) => Effect.Effect<Token, ChannelPlugin.DeliveryError>
  readonly drop: (oauth2: OAuth2) => Effect.Effect<void>
}

const keyOf = (oauth2: OAuth2) => `${oauth2.tokenUrl} ${oauth2.clientId}`

export const make = (channel: string, dispatcher: Effect.Effect<Dispatcher, ChannelPlugin.DeliveryError>): Effect.Effect<Tokens> =>
  Effect.map(Ref.make(new Map<string, Held>()), (held): Tokens => {
    const fail = (reason: ChannelPlugin.DeliveryError["reason"], detail: string) => new ChannelPlugin.DeliveryError({ channel, reason, detail })

    const fetchToken = (oauth2: OAuth2, secret: Redacted.Redacted<string>) =>
      Effect.flatMap(dispatcher, (agent) =>
        Effect.tryPromise({
          try: async (signal) => {
            const basic = Buffer.from(`${encodeURIComponent(oauth2.clientId)}:${encodeURIComponent(Redacted.value(secret))}`).toString("base64")
            const body = new URLSearchParams({ grant_type: "client_credentials", ...(oauth2.scope === undefined ? {} : { scope: oauth2.scope }) })
            const response = await fetch(oauth2.tokenUrl, {
              method: "POST",
              headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
              body,
              signal,
              dispatcher: agent
            })
            return { status: response.status, body: await response.json().catch(() => undefined) as { access_token?: unknown; expires_in?: unknown; error?: unknown } | undefined }
          },
          catch: (error) => {
            const cause = (error as { cause?: { code?: string; message?: string } }).cause
            return fail("Transport", `the token endpoint at ${new URL(oauth2.tokenUrl).host} did not answer (${cause?.code ?? cause?.message ?? "network error"})`)
          }
        })).pipe(
        Effect.flatMap(({ body, status }) => {
          const where = `the token endpoint at ${new URL(oauth2.tokenUrl).host}`
          if (status === 429 || status >= 500) return Effect.fail(fail("Transport", `${where} answered HTTP ${status}`))
          if (status !== 200 || typeof body?.access_token !== "string") {
            // `error` is an RFC 6749 code such as invalid_client: safe to log.
            const code = typeof body?.error === "string" && /^[a-z_]{1,40}$/.test(body.error) ? ` (${body.error})` : ""
            return Effect.fail(fail("Auth", `${where} refused client ${oauth2.clientId}: HTTP ${status}${code}`))
          }
          const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 300
          return Effect.succeed({ token: body.access_token, until: Date.now() + seconds * 1000 - marginMs })
        })
      )

    return {
      get: (oauth2, secret) =>
        Effect.gen(function*() {
          const cached = (yield* Ref.get(held)).get(keyOf(oauth2))
          if (cached !== undefined && cached.until > Date.now()) return { token: cached.token, fresh: false }
          const got = yield* fetchToken(oauth2, secret)
          yield* Ref.update(held, (m) => new Map(m).set(keyOf(oauth2), got))
          return { token: got.token, fresh: true }
        }),
      drop: (oauth2) =>
        Ref.update(held, (m) => {
          const next = new Map(m)
          next.delete(keyOf(oauth2))
          return next
        })
    }
  })
