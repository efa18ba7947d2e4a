import { Ids } from "@encompass/domain"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Manifest, PluginRegistry } from "../src/index.js"

const source = (id: string, sdk = "^0.1.0") =>
  ({
    manifest: new Manifest.SourceManifest({
      id: Ids.SourceId.make(id),
      system: "Test RMS",
      formats: ["text/csv"],
      version: "1.0.0",
      sdk,
      status: "stable",
      description: "a test source",
      docs: "plugins/test/README.md",
      config: Schema.Struct({})
    }),
    label: `source ${id}`
  }) as const

const channel = (id: string) => ({
  manifest: new Manifest.ChannelManifest({
    id: Ids.ChannelId.make(id),
    capabilities: { batching: false, acknowledgement: false, idempotentResend: true },
    version: "0.2.0",
    sdk: ">=0.1.0 <0.2.0",
    status: "experimental",
    description: "a test channel",
    docs: "plugins/test/README.md",
    config: Schema.Struct({})
  })
})

const registered = { sources: [source("niche-rms"), source("source-json")], channels: [channel("secure-email")] }

describe("PluginRegistry", () => {
  it.effect("enables exactly the region's plugins, in the region's order, keeping what was registered", () =>
    Effect.gen(function*() {
      const registry = yield* PluginRegistry.make({ ...registered, region: { sources: ["source-json", "niche-rms"], channels: [] } })
      expect(registry.sources.map((s) => s.label)).toEqual(["source source-json", "source niche-rms"])
      expect(registry.channels).toEqual([])
      expect(registry.sdkVersion).toBe(Manifest.sdkVersion)
    }))

  it.effect.each([
    ["an unknown id", { region: { sources: ["athena"], channels: [] } }, "UnknownPlugin", "athena"],
    ["a disabled id", { disabled: ["secure-email"], region: { sources: [], channels: ["secure-email"] } }, "DisabledPlugin", "secure-email"],
    ["an id the region lists twice", { region: { sources: ["niche-rms", "niche-rms"], channels: [] } }, "DuplicatePlugin", "niche-rms"],
    ["an SDK the plugin does not support", { sdkVersion: "0.2.0", region: { sources: [], channels: ["secure-email"] } }, "UnsupportedSdk", "secure-email"]
  ] as const)("refuses %s, naming it", ([, options, reason, id]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(PluginRegistry.make({ ...registered, ...options }))
      expect(error.reason).toBe(reason)
      expect(error.pluginId).toBe(id)
      expect(error.message).toContain(id)
    }))

  it.effect("refuses two plugins registered under one id", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        PluginRegistry.make({ sources: [source("niche-rms"), source("niche-rms")], channels: [], region: { sources: [], channels: [] } })
      )
      expect([error.reason, error.pluginId]).toEqual(["DuplicatePlugin", "niche-rms"])
    }))

  it.effect("refuses a manifest that is not one (a literal passed off as a manifest)", () =>
    Effect.gen(function*() {
      const fake = { manifest: { ...source("niche-rms").manifest } as Manifest.SourceManifest }
      const error = yield* Effect.flip(PluginRegistry.make({ sources: [fake], channels: [], region: { sources: [], channels: [] } }))
      expect(error.reason).toBe("InvalidManifest")
    }))
})
