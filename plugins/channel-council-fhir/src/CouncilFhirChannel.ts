/**
 * The council FHIR channel: each notification to a council (its front door, Bedford ISA 10, or its
 * EHE team, ISA 7) becomes one FHIR R4 transaction Bundle (`FhirBundle`), validated before it is
 * sent (`FhirValidation`) and posted with fhir-kit-client to the council's server over TLS.
 * Every entry is a conditional create, so a re-send creates nothing new.
 *
 * The contract (libs/plugin-sdk/src/ChannelPlugin.ts): one `deliver` is one attempt, time-boxed;
 * no retries, sleeps, queues or audit events. A 4xx is permanent, with the server's
 * OperationOutcome diagnostics stripped of any value it quotes; 429, 5xx and network failures are
 * retryable.
 */
import { Ids, Recipient } from "@encompass/domain"
import type { AuthorizedNotification } from "@encompass/domain"
import { ChannelPlugin, Manifest } from "@encompass/plugin-sdk"
import type { PluginRegistry } from "@encompass/plugin-sdk"
import type { Bundle, OperationOutcome } from "@medplum/fhirtypes"
import { DateTime, Effect, Either, Layer } from "effect"
import type { Client } from "fhir-kit-client"
import * as fs from "node:fs/promises"
import { Agent } from "undici"
import { CouncilFhirConfig } from "./CouncilFhirConfig.js"
import type { Server } from "./CouncilFhirConfig.js"
import * as Tokens from "./internal/tokens.js"
import * as FhirBundle from "./FhirBundle.js"
import * as FhirValidation from "./FhirValidation.js"

export const id: Ids.ChannelId = Ids.ChannelId.make("council-fhir")

export const manifest: Manifest.ChannelManifest = new Manifest.ChannelManifest({
  id,
  version: "0.1.0",
  sdk: "^0.1.0",
  // "stable" once it has delivered to a real council.
  status: "experimental",
  description: "Each notification to a council as one validated FHIR R4 transaction Bundle (Communication, Patients, Organizations) with conditional creates, over TLS",
  docs: "plugins/channel-council-fhir/README.md",
  config: CouncilFhirConfig,
  capabilities: {
    batching: false,
    acknowledgement: false,
    // Conditional creates on the notification's reference and version.
    idempotentResend: true
  }
})

/** The server's OperationOutcome, as words safe to log: codes and FHIRPaths, never the values it quotes. */
const outcome = (data: unknown): string => {
  const issues = (data as Partial<OperationOutcome> | undefined)?.resourceType === "OperationOutcome" ? (data as OperationOutcome).issue ?? [] : []
  const words = issues.slice(0, 3).map((i) =>
    [i.severity, i.code, i.expression?.join(" "), (i.diagnostics ?? i.details?.text)?.replace(/"[^"]*"|'[^']*'/g, "…").split(":")[0]]
      .filter((w) => w !== undefined && w !== "").join(" ")
  )
  return words.length === 0 ? "no OperationOutcome" : words.join("; ")
}

const isBundle = (u: unknown): u is Bundle => (u as Partial<Bundle> | undefined)?.resourceType === "Bundle"

interface HttpFailure {
  readonly response?: { readonly status?: number; readonly data?: unknown }
}

/** Builds the channel. Nothing connects until `check` or `deliver`. */
export const make = (config: CouncilFhirConfig): Effect.Effect<ChannelPlugin.ChannelPlugin> =>
  Effect.gen(function*() {
    const fail = (reason: ChannelPlugin.DeliveryError["reason"], detail: string) => new ChannelPlugin.DeliveryError({ channel: id, reason, detail })

    // One TLS agent for every attempt: keeps connections to each council's server.
    const agent = Effect.runSync(Effect.cached(
      config.ca === undefined
        ? Effect.succeed(new Agent())
        : Effect.map(
          Effect.tryPromise({
            try: () => fs.readFile(config.ca ?? ""),
            catch: (cause) => fail("InvalidConfig", `the CA file ${config.ca} cannot be read (${(cause as { code?: string }).code ?? "error"})`)
          }),
          (ca) => new Agent({ connect: { ca } })
        )
    ))

    const tokens = yield* Tokens.make(id, agent)

    type Call = (client: Client, signal: AbortSignal) => Promise<unknown>

    /** One request to a council's server with `token` if it has one, classified. */
    const once = (baseUrl: string, token: string | undefined, call: Call) =>
      Effect.flatMap(agent, (dispatcher) =>
        Effect.tryPromise({
          // Loaded on the first request, not at every command's start.
          try: async (signal) =>
            call(new (await import("fhir-kit-client")).Client({ baseUrl, requestOptions: { dispatcher }, ...(token === undefined ? {} : { bearerToken: token }) }), signal),
          catch: (error) => {
            const status = (error as HttpFailure).response?.status
            if (status === undefined) {
              const cause = (error as { cause?: { code?: string; message?: string } }).cause
              return fail("Transport", `the council's server at ${new URL(baseUrl).host} did not answer (${cause?.code ?? cause?.message ?? "network error"})`)
            }
            const words = `HTTP ${status}: ${outcome((error as HttpFailure).response?.data)}`
            if (status === 401 || status === 403) return fail("Auth", words)
            if (status === 429 || status >= 500) return fail("Transport", words)
            return fail("Rejected", words)
          }
        }).pipe(
          Effect.timeoutFail({ duration: config.timeoutMs, onTimeout: () => fail("Timeout", `no answer from ${new URL(baseUrl).host} in ${config.timeoutMs} ms`) })
        ))

    /**
     * A request to a recipient's server, signed in with OAuth2 when it asks for it. A reused token
     * the server refuses (401) is dropped and the request made once more with a fresh one, in the
     * same attempt; a fresh token refused is permanent.
     */
    const request = (recipient: string, server: Server, call: Call) =>
      Effect.gen(function*() {
        const oauth2 = server.oauth2
        if (oauth2 === undefined) return yield* once(server.url, undefined, call)
        const secret = config.passwords[recipient]
        if (secret === undefined) return yield* fail("InvalidConfig", `no OAuth2 client secret for recipient ${recipient} in passwords`)
        const first = yield* tokens.get(oauth2, secret)
        return yield* once(server.url, first.token, call).pipe(
          Effect.catchIf(
            (error) => !first.fresh && error.reason === "Auth" && error.detail.startsWith("HTTP 401"),
            () => Effect.zipRight(tokens.drop(oauth2), Effect.flatMap(tokens.get(oauth2, secret), (fresh) => once(server.url, fresh.token, call)))
          )
        )
      })

    const send = (recipient: string, server: Server, bundle: Bundle) =>
      request(recipient, server, (client, signal) => client.transaction({ body: bundle as never, options: { signal } }))

    // Every council's server answers its CapabilityStatement, signed in: reachable, trusted, FHIR.
    const check: Effect.Effect<void, ChannelPlugin.DeliveryError> = Effect.forEach(
      Object.entries(config.servers),
      ([recipient, server]) => request(recipient, server, (client, signal) => client.capabilityStatement({ signal })),
      { discard: true }
    )

    const deliver = (
      authorized: AuthorizedNotification.AuthorizedNotification
    ): Effect.Effect<ChannelPlugin.Receipt, ChannelPlugin.DeliveryError> =>
      Effect.gen(function*() {
        const notification = authorized.notification
        if (notification.route.channel !== id) {
          return yield* fail("InvalidConfig", `notification is routed to channel ${notification.route.channel}, not ${id}`)
        }
        const recipient = Recipient.recipientKey(notification.recipient)
        const server = config.servers[recipient]
        if (server === undefined) return yield* fail("InvalidConfig", `no FHIR server is configured for recipient ${recipient}`)

        const bundle = FhirBundle.build(notification, config.sender)
        const valid = yield* FhirValidation.validate(bundle)
        if (Either.isLeft(valid)) {
          return yield* fail("Rejected", `the Bundle is not valid FHIR R4, not sent: ${valid.left.path}: ${valid.left.detail}`)
        }
        const response: unknown = yield* send(recipient, server, bundle)
        // The ids the server gave (or had) for each entry, in order: `Communication/12`.
        const entries = isBundle(response) ? response.entry ?? [] : []
        const locations = entries.map((e) => e.response?.location ?? e.response?.status ?? "?")
        const communication = locations.at(-1) ?? "?"
        return new ChannelPlugin.Receipt({
          channel: id,
          remoteId: communication.split("/_history/")[0] ?? communication,
          acceptedAt: yield* DateTime.now,
          response: `transaction-response from ${new URL(server.url).host}: ${locations.join(", ")}`
        })
      })

    return { id, manifest, check, deliver }
  })

/** The channel as the plugin-sdk ChannelPlugin service. */
export const layer = (config: CouncilFhirConfig): Layer.Layer<ChannelPlugin.ChannelPlugin> => Layer.effect(ChannelPlugin.ChannelPlugin, make(config))

/** The channel as the gateway registers it: `ca` relative to the region file's folder. */
export const registration: PluginRegistry.ChannelRegistration<CouncilFhirConfig> = {
  manifest,
  build: (config, context) =>
    make(new CouncilFhirConfig({ ...config, ...(config.ca === undefined ? {} : { ca: context.resolve(config.ca) }) }))
}
