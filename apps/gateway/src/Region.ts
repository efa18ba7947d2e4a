/**
 * Composes one region's gateway from its config: the store (DATABASE_URL, else embedded PGlite),
 * the vault, the audit log, the feed inbox, the directory, agreement and calendar, and the
 * plugins the region enables out of the explicit registration list below plus the region's own
 * `plugins:` modules (DESIGN.md §3: boot fails on an unknown or disabled id). Each plugin's
 * settings are decoded by its manifest's config Schema (PluginSettings), so adding a plugin never
 * edits the region schema.
 */
import { AuditLog } from "@encompass/audit"
import { SecureEmailChannel } from "@encompass/channel-secure-email"
import { CouncilFhirChannel } from "@encompass/channel-council-fhir"
import { SftpChannel } from "@encompass/channel-sftp"
import { Authorities, Directory } from "@encompass/directory"
import type { Agreement } from "@encompass/isa-policy"
import { ActiveAgreement, ActiveChannels, ActiveSources, FeedInbox } from "@encompass/pipeline"
import { Manifest, PluginRegistry } from "@encompass/plugin-sdk"
import { AthenaSource } from "@encompass/source-athena"
import { JsonSource } from "@encompass/source-json"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import { Sql, StoreKeys } from "@encompass/store"
import { Effect, Layer, Redacted, Schema } from "effect"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as AgreementFiles from "./AgreementFiles.js"
import * as MasterKey from "./MasterKey.js"
import * as PluginSettings from "./PluginSettings.js"
import type { RegionConfig, RegionConfigError } from "./RegionConfig.js"

/** Every source plugin this gateway build ships. */
export const sources: ReadonlyArray<PluginRegistry.SourceRegistration> = [
  NicheRmsSource.registration,
  AthenaSource.registration,
  JsonSource.registration
]

/** Every channel plugin this gateway build ships. */
export const channels: ReadonlyArray<PluginRegistry.ChannelRegistration> = [SecureEmailChannel.registration, SftpChannel.registration, CouncilFhirChannel.registration]

export interface Registrations {
  readonly sources: ReadonlyArray<PluginRegistry.SourceRegistration>
  readonly channels: ReadonlyArray<PluginRegistry.ChannelRegistration>
}

const isChannelManifest = Schema.is(Manifest.ChannelManifest)
const isSourceManifest = Schema.is(Manifest.SourceManifest)

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/**
 * The registrations one `plugins:` module exports: every exported namespace holding a
 * `registration` (`export * as FooChannel from "./FooChannel.js"`, as a plugin's barrel has it).
 * A registration whose manifest is neither a valid channel nor source manifest refuses the region.
 */
const loadModule = (file: string, module: string, index: number): Effect.Effect<Registrations, RegionConfigError> =>
  Effect.gen(function*() {
    const at = ["plugins", index] as const
    const exports = yield* Effect.tryPromise({
      // The CLI runs under tsx, so a plugin's TypeScript sources load as they are.
      try: () => import(pathToFileURL(module).href) as Promise<Record<string, unknown>>,
      catch: (e) => e
    }).pipe(Effect.catchAll((e) =>
      PluginSettings.refuse(file, at, `cannot load the module (${isObject(e) && "code" in e ? String(e.code) : "error"})`)
    ))
    const found: { sources: Array<PluginRegistry.SourceRegistration>; channels: Array<PluginRegistry.ChannelRegistration> } = { sources: [], channels: [] }
    for (const [name, value] of Object.entries(exports)) {
      if (!isObject(value) || !isObject(value["registration"])) continue
      const registration = value["registration"]
      const manifest = registration["manifest"]
      if (typeof registration["build"] !== "function") return yield* PluginSettings.refuse(file, at, `${name}.registration has no build function`)
      if (isChannelManifest(manifest)) found.channels.push(registration as unknown as PluginRegistry.ChannelRegistration)
      else if (isSourceManifest(manifest)) found.sources.push(registration as unknown as PluginRegistry.SourceRegistration)
      else return yield* PluginSettings.refuse(file, at, `${name}.registration.manifest is not a valid channel or source manifest`)
    }
    if (found.sources.length + found.channels.length === 0) {
      return yield* PluginSettings.refuse(file, at, "the module exports no namespace with a `registration`")
    }
    return found
  })

/** The built-in registrations and those of the region's `plugins:` modules, in that order. */
export const registrations = (config: RegionConfig, file: string): Effect.Effect<Registrations, RegionConfigError> =>
  Effect.map(
    Effect.forEach(config.plugins, (module, index) => loadModule(file, module, index)),
    (loaded) => ({ sources: [...sources, ...loaded.flatMap((m) => m.sources)], channels: [...channels, ...loaded.flatMap((m) => m.channels)] })
  )

/** The registry of this region: unknown, disabled, duplicate or wrong-SDK plugins refuse it. */
export const registry = (config: RegionConfig, file: string) =>
  Effect.flatMap(registrations(config, file), (registered) =>
    PluginRegistry.make({
      ...registered,
      region: { sources: config.sources.map((s) => s.id), channels: config.channels.map((c) => c.id) }
    }))

type Registry = Effect.Effect.Success<ReturnType<typeof registry>>

const buildContext = (config: RegionConfig, file: string): PluginRegistry.BuildContext => ({
  region: config.region,
  resolve: (settingsPath) => path.resolve(path.dirname(path.resolve(file)), settingsPath)
})

const usesServer = () => {
  const url = process.env["DATABASE_URL"]
  return url !== undefined && url !== ""
}

/** The store: `DATABASE_URL` when set, else embedded PGlite in `dataDir`. */
export const storeAt = (dataDir: string) => {
  const url = process.env["DATABASE_URL"]
  return Sql.layer(url !== undefined && url !== "" ? { url: Redacted.make(url) } : { dataDir })
}

/** The store: `DATABASE_URL` when set, else embedded PGlite in the region's data folder. */
export const storeLayer = (config: RegionConfig) => storeAt(config.dataDir)

/** A store to open, and whether it is embedded: that decides whether a missing key file may be created. */
export interface Store {
  readonly layer: Layer.Layer<Sql.Sql, unknown>
  readonly embedded: boolean
}

/** The region's store: `DATABASE_URL` when set, else embedded PGlite in its data folder. */
const regionStore = (config: RegionConfig): Store => ({ layer: storeLayer(config), embedded: !usesServer() })

/**
 * The master key: with a server database every gateway process must share one, so it must exist
 * already; with an embedded store it is created next to the data on first use.
 */
export const vaultLayer = (config: RegionConfig, store: Store = regionStore(config)) =>
  MasterKey.vaultLayer({ file: config.masterKeyFile, create: store.embedded })

/**
 * A store with the vault of a master key that must exist already, for commands that check what
 * is there (`audit verify`, `audit anchors`): they never create a key, nor a database.
 */
export const keyedStore = (store: Layer.Layer<Sql.Sql, unknown>, masterKeyFile: string) =>
  MasterKey.vaultLayer({ file: masterKeyFile, create: false }).pipe(Layer.provideMerge(store))

/**
 * The store, vault and audit log: all the operator commands (quarantine, audit) need. The audit
 * chain is keyed by the vault's master key, and its head is signed into an anchor when the layer
 * is released (a one-shot command's end, `serve` stopping) if it moved, and copied to the
 * region's `anchorsFile`.
 */
export const storageLayer = (config: RegionConfig, store: Store = regionStore(config)) =>
  AuditLog.layerAnchoring({ anchorsFile: config.anchorsFile }).pipe(
    // The master key is checked first: a store sealed under another one is refused, naming both key ids.
    Layer.provideMerge(Layer.effectDiscard(StoreKeys.checkMasterKey)),
    Layer.provideMerge(vaultLayer(config, store)),
    Layer.provideMerge(store.layer)
  )

/** The settings of the region's `index`th source: `settings`, or niche-rms's `mapping` file, or none. */
const sourceSettings = (config: RegionConfig, file: string, index: number): PluginSettings.Origin => {
  const entry = config.sources[index]
  return { settings: entry?.settings ?? entry?.mapping, inline: { file, path: ["sources", index, "settings"] } }
}

/** The region's enabled source plugins, built with their per-region settings. */
const buildSources = (config: RegionConfig, file: string, enabled: Registry) =>
  Effect.forEach(enabled.sources, (registration) => {
    const index = config.sources.findIndex((s) => s.id === registration.manifest.id)
    return Effect.flatMap(
      PluginSettings.load(registration.manifest.config, sourceSettings(config, file, index)),
      (settings) => registration.build(settings, buildContext(config, file))
    )
  })

/** The region's enabled channel plugins, built with their settings. None connects before its first `check` or delivery. */
const buildChannels = (config: RegionConfig, file: string, enabled: Registry) =>
  Effect.forEach(enabled.channels, (registration) => {
    const index = config.channels.findIndex((c) => c.id === registration.manifest.id)
    const entry = config.channels[index]
    return Effect.flatMap(
      PluginSettings.load(registration.manifest.config, {
        settings: entry?.settings,
        passwords: entry?.passwords,
        inline: { file, path: ["channels", index, "settings"] }
      }),
      (settings) => registration.build(settings, buildContext(config, file))
    )
  })

/**
 * Every recipient kind of the agreement must have an allowed channel the region enables: one
 * without would be routed nowhere, so the region does not start (the agreement's file, line and key).
 */
const checkRoutes = (config: RegionConfig, agreement: Agreement.Agreement) =>
  Effect.forEach(agreement.recipients.kinds, (rule, index) => {
    const allowed = rule.channels.allowed.map((a) => a.channel)
    return allowed.some((id) => config.channels.some((c) => c.id === id))
      ? Effect.void
      : PluginSettings.refuse(config.agreement, ["recipients", "kinds", index, "channels", "allowed"], `${rule.kind}: none of its channels (${[...new Set(allowed)].join(", ")}) is enabled in region ${config.region}`)
  }, { discard: true })

const decisionLayerWith = (config: RegionConfig, file: string, enabled: Registry) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const plugins = yield* buildSources(config, file, enabled)
    const baseline = yield* AgreementFiles.loadBaseline(AgreementFiles.baselineFile)
    const agreement = yield* AgreementFiles.loadAgreement(config.agreement, baseline)
    yield* checkRoutes(config, agreement)
    const calendar = yield* AgreementFiles.loadCalendar(config.calendar ?? AgreementFiles.calendarFile)
    return Layer.mergeAll(
      Directory.layerCsv(config.directory, { channels: config.channels.map((c) => c.id) }),
      config.authorities === undefined
        ? Authorities.layerEmpty({ notServed: config.notServed })
        : Authorities.layerCsv(config.authorities, { channels: config.channels.map((c) => c.id), notServed: config.notServed }),
      ActiveAgreement.ActiveAgreement.layer(agreement),
      ActiveAgreement.ActiveCalendar.layer(calendar),
      ActiveSources.ActiveSources.layer(plugins)
    )
  }))

/** The region's agreement alone, checked against the statutory baseline: what the retention run reads. */
export const agreementLayer = (config: RegionConfig) =>
  Layer.effect(
    ActiveAgreement.ActiveAgreement,
    Effect.flatMap(AgreementFiles.loadBaseline(AgreementFiles.baselineFile), (baseline) => AgreementFiles.loadAgreement(config.agreement, baseline))
  )

/**
 * What deciding needs and nothing more — the enabled sources, the agreement, the calendar and the
 * settings and authorities directories, no store and no channel: `policy explain` runs on it, and `layer` builds on it.
 */
export const decisionLayer = (config: RegionConfig, file: string) =>
  Layer.unwrapEffect(Effect.map(registry(config, file), (enabled) => decisionLayerWith(config, file, enabled)))

export interface LayerOptions {
  /** The store instead of the region's: the demo's is always embedded, whatever DATABASE_URL says. */
  readonly store?: Store | undefined
}

/** The enabled channels by id; their pools close with the layer. */
const channelsLayer = (config: RegionConfig, file: string, enabled: Registry) =>
  Layer.unwrapScoped(Effect.map(buildChannels(config, file, enabled), (plugins) =>
    ActiveChannels.ActiveChannels.layer(plugins)))

/** Everything ingest, quarantine retry, the one-shot commands and the workers need: one composition for all of them. */
export const layer = (config: RegionConfig, file: string, options: LayerOptions = {}) =>
  Layer.unwrapEffect(Effect.map(registry(config, file), (enabled) =>
    Layer.mergeAll(
      FeedInbox.layer,
      decisionLayerWith(config, file, enabled),
      channelsLayer(config, file, enabled)
    ).pipe(Layer.provideMerge(storageLayer(config, options.store)))))
