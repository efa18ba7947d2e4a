/**
 * The gateway's explicit list of plugins and a region's choice among them (DESIGN.md §3; the
 * benthos model: plugins register, a deployment enables a named set). Building the registry is
 * where boot fails on a region naming a plugin that is not registered or is switched off, on
 * two plugins claiming one id, or on a plugin written for another SDK.
 */
import { Effect, Schema } from "effect"
import type { Scope } from "effect"
import type { ChannelPlugin } from "./ChannelPlugin.js"
import { ChannelManifest, sdkVersion, SourceManifest, supports } from "./Manifest.js"
import type { SourcePlugin } from "./SourcePlugin.js"

export class PluginRegistryError extends Schema.TaggedError<PluginRegistryError>()("PluginRegistryError", {
  module: Schema.Literal("PluginRegistry"),
  method: Schema.String,
  reason: Schema.Literal("UnknownPlugin", "DisabledPlugin", "DuplicatePlugin", "UnsupportedSdk", "InvalidManifest"),
  kind: Schema.Literal("source", "channel"),
  /** The plugin id at fault: ids are configuration, never personal data. */
  pluginId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.kind} plugin ${this.pluginId}: ${this.detail}`
  }
}

/** Anything registered under a manifest, typically a `ChannelRegistration` or `SourceRegistration`. */
export interface Registered<M> {
  readonly manifest: M
}

/** A plugin could not be built from its region settings (a key file missing, say); the region does not boot. */
export class PluginBuildError extends Schema.TaggedError<PluginBuildError>()("@encompass/plugin-sdk/PluginBuildError", {
  module: Schema.Literal("PluginRegistry"),
  method: Schema.String,
  reason: Schema.Literal("InvalidConfig", "Unreadable"),
  kind: Schema.Literal("source", "channel"),
  pluginId: Schema.String,
  /** Names the setting at fault, never its value. */
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.kind} plugin ${this.pluginId}: ${this.detail}`
  }
}

/** What a plugin is built with besides its settings. */
export interface BuildContext {
  /** The region's id. */
  readonly region: string
  /** Resolves a path written in the plugin's settings against the region file's folder. */
  readonly resolve: (file: string) => string
}

/**
 * A channel plugin as the gateway registers it (CONVENTIONS 13, the benthos model): its manifest,
 * whose `config` Schema decodes the region's settings for it, and how to build it from them.
 * `build` is declared as a method so that a registration typed with its own config class is one.
 */
export interface ChannelRegistration<Config = unknown> {
  readonly manifest: ChannelManifest
  build(config: Config, context: BuildContext): Effect.Effect<ChannelPlugin, PluginBuildError, Scope.Scope>
}

/** A source plugin as the gateway registers it; see `ChannelRegistration`. */
export interface SourceRegistration<Config = unknown> {
  readonly manifest: SourceManifest
  build(config: Config, context: BuildContext): Effect.Effect<SourcePlugin, PluginBuildError, Scope.Scope>
}

export interface Options<S extends Registered<SourceManifest>, C extends Registered<ChannelManifest>> {
  /** Every plugin this gateway build ships, in order. */
  readonly sources: ReadonlyArray<S>
  readonly channels: ReadonlyArray<C>
  /** Ids registered but switched off for every region of this deployment (a withdrawn plugin). */
  readonly disabled?: ReadonlyArray<string>
  /** The region's allow-list: the ids it enables. */
  readonly region: {
    readonly sources: ReadonlyArray<string>
    readonly channels: ReadonlyArray<string>
  }
  /** The SDK the gateway runs; `sdkVersion` unless a test says otherwise. */
  readonly sdkVersion?: string
}

export interface PluginRegistry<S extends Registered<SourceManifest>, C extends Registered<ChannelManifest>> {
  readonly sdkVersion: string
  /** The region's enabled plugins, in the order the region lists them. */
  readonly sources: ReadonlyArray<S>
  readonly channels: ReadonlyArray<C>
}

type Kind = "source" | "channel"

const fail = (kind: Kind, pluginId: string, reason: PluginRegistryError["reason"], detail: string) =>
  new PluginRegistryError({ module: "PluginRegistry", method: "make", kind, pluginId, reason, detail })

const select = <M extends SourceManifest | ChannelManifest, R extends Registered<M>>(
  kind: Kind,
  registered: ReadonlyArray<R>,
  allowed: ReadonlyArray<string>,
  disabled: ReadonlySet<string>,
  sdk: string
): Effect.Effect<ReadonlyArray<R>, PluginRegistryError> =>
  Effect.gen(function*() {
    const isManifest = kind === "source" ? Schema.is(SourceManifest) : Schema.is(ChannelManifest)
    const byId = new Map<string, R>()
    for (const entry of registered) {
      const id: string = entry.manifest.id
      // Manifests are often written as literals: check them as data, not just as types.
      if (!isManifest(entry.manifest)) {
        return yield* fail(kind, id, "InvalidManifest", `the manifest is not a valid ${kind} manifest`)
      }
      if (byId.has(id)) return yield* fail(kind, id, "DuplicatePlugin", "two plugins are registered under this id")
      byId.set(id, entry)
    }
    const seen = new Set<string>()
    const enabled: Array<R> = []
    for (const id of allowed) {
      const entry = byId.get(id)
      if (entry === undefined) return yield* fail(kind, id, "UnknownPlugin", `no ${kind} plugin is registered under this id`)
      if (disabled.has(id)) return yield* fail(kind, id, "DisabledPlugin", "the plugin is registered but disabled in this deployment")
      if (seen.has(id)) return yield* fail(kind, id, "DuplicatePlugin", "the region lists this id twice")
      if (!supports(entry.manifest.sdk, sdk)) {
        return yield* fail(kind, id, "UnsupportedSdk", `the plugin supports plugin-sdk ${entry.manifest.sdk}, not ${sdk}`)
      }
      seen.add(id)
      enabled.push(entry)
    }
    return enabled
  })

export const make = <S extends Registered<SourceManifest>, C extends Registered<ChannelManifest>>(
  options: Options<S, C>
): Effect.Effect<PluginRegistry<S, C>, PluginRegistryError> =>
  Effect.gen(function*() {
    const sdk = options.sdkVersion ?? sdkVersion
    const disabled = new Set(options.disabled ?? [])
    const sources = yield* select<SourceManifest, S>("source", options.sources, options.region.sources, disabled, sdk)
    const channels = yield* select<ChannelManifest, C>("channel", options.channels, options.region.channels, disabled, sdk)
    return { sdkVersion: sdk, sources, channels }
  })
