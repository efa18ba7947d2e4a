/**
 * The conformance suite every channel plugin runs (DESIGN.md §3): call `suite(options)` once from
 * `test/<Name>.conformance.test.ts` with a factory and a peer (a fake or the real thing) that
 * counts what it receives. It proves the manifest is valid, an invalid config fails to build
 * (the Airbyte rule), one `deliver` is one attempt, and no error carries a secret or the
 * notification's personal data.
 */
import type { AuthorizedNotification } from "@encompass/domain"
import { ChannelPlugin, Manifest } from "@encompass/plugin-sdk"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Schema } from "effect"
import type { Scope } from "effect"

export interface Options<Config, Encoded, Peer> {
  readonly manifest: Manifest.ChannelManifest
  /** The channel's config schema; the suite checks it is the manifest's. */
  readonly config: Schema.Schema<Config, Encoded>
  /** Builds the channel from a decoded config. */
  readonly make: (config: Config) => Effect.Effect<ChannelPlugin.ChannelPlugin, unknown, Scope.Scope>
  /** Starts a peer for one test; it lives as long as the test's scope. */
  readonly peer: Effect.Effect<Peer, never, Scope.Scope>
  /** How many notifications the peer has received so far. */
  readonly receptions: (peer: Peer) => number
  /** A valid config, encoded (as it would be written in a region's config file), aimed at the peer. */
  readonly validConfig: (peer: Peer) => unknown
  /** Encoded configs that must fail to build, each with what is wrong with it. */
  readonly invalidConfigs: ReadonlyArray<{ readonly name: string; readonly config: unknown }>
  /** Encoded configs that build but make `deliver` fail against the peer (a wrong port, a refused login). */
  readonly failingConfigs: (peer: Peer) => ReadonlyArray<{ readonly name: string; readonly config: unknown }>
  /** A notification the peer accepts, routed to this channel. */
  readonly notification: AuthorizedNotification.AuthorizedNotification
  /** Secrets in the configs (passwords) and personal data in the notification: no error may hold one. */
  readonly secrets: ReadonlyArray<string>
  readonly personalData: ReadonlyArray<string>
}

export const suite = <Config, Encoded, Peer>(options: Options<Config, Encoded, Peer>): void => {
  const build = (encoded: unknown) =>
    Effect.flatMap(Schema.decodeUnknown(options.config)(encoded), options.make)

  const assertClean = (text: string) => {
    for (const value of [...options.secrets, ...options.personalData]) expect(text, `an error holds ${value}`).not.toContain(value)
  }

  describe(`${options.manifest.id} channel conformance`, () => {
    it("has a valid manifest, for this SDK, whose config schema is the channel's", () => {
      expect(Schema.is(Manifest.ChannelManifest)(options.manifest)).toBe(true)
      expect(Manifest.supports(options.manifest.sdk), `sdk range ${options.manifest.sdk}`).toBe(true)
      expect(options.manifest.config).toBe(options.config)
    })

    it.scopedLive("builds from a valid config into a channel under the manifest's id", () =>
      Effect.gen(function*() {
        const peer = yield* options.peer
        const channel = yield* build(options.validConfig(peer))
        expect(channel.id).toBe(options.manifest.id)
        expect(channel.manifest).toBe(options.manifest)
      }))

    for (const invalid of options.invalidConfigs) {
      it.scoped(`fails to build with ${invalid.name}, without quoting a secret`, () =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(build(invalid.config))
          expect(Exit.isFailure(exit)).toBe(true)
          if (Exit.isFailure(exit)) assertClean(Cause.pretty(exit.cause))
        }))
    }

    it.scopedLive("makes exactly one attempt per deliver, and returns a receipt", () =>
      Effect.gen(function*() {
        const peer = yield* options.peer
        const channel = yield* build(options.validConfig(peer))
        const before = options.receptions(peer)
        const receipt = yield* channel.deliver(options.notification)
        expect(options.receptions(peer) - before).toBe(1)
        expect(receipt.channel).toBe(options.manifest.id)
        yield* channel.deliver(options.notification)
        expect(options.receptions(peer) - before).toBe(2)
      }))

    it.scopedLive("fails with a DeliveryError free of secrets and personal data, and never retries on its own", () =>
      Effect.gen(function*() {
        const peer = yield* options.peer
        const failing = options.failingConfigs(peer)
        expect(failing.length).toBeGreaterThan(0)
        for (const { config, name } of failing) {
          const channel = yield* build(config)
          const before = options.receptions(peer)
          const exit = yield* Effect.exit(channel.deliver(options.notification))
          expect(Exit.isFailure(exit), name).toBe(true)
          if (Exit.isFailure(exit)) {
            const error = Cause.failureOption(exit.cause)
            expect(error._tag === "Some" && error.value instanceof ChannelPlugin.DeliveryError, `${name}: a DeliveryError`).toBe(true)
            assertClean(Cause.pretty(exit.cause))
            if (error._tag === "Some") assertClean(`${error.value.message} ${JSON.stringify(error.value)}`)
          }
          expect(options.receptions(peer) - before, name).toBeLessThanOrEqual(1)
        }
      }))
  })
}
