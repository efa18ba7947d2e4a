/**
 * Composes one region's gateway from its config: the store (DATABASE_URL, else embedded PGlite),
 * the vault, the audit log, the feed inbox, the directory, agreement and calendar, and the
 * plugins the region enables out of the explicit registration list below (DESIGN.md §3: boot
 * fails on an unknown or disabled id).
 */
import { AuditLog } from "@encompass/audit"
import { SecureEmailChannel } from "@encompass/channel-secure-email"
import { Directory } from "@encompass/directory"
import { ActiveAgreement, ActiveChannels, ActiveSources, FeedInbox } from "@encompass/pipeline"
import type { Manifest, SourcePlugin } from "@encompass/plugin-sdk"
import { PluginRegistry } from "@encompass/plugin-sdk"
import { AthenaSource } from "@encompass/source-athena"
import { JsonSource } from "@encompass/source-json"
import { NicheMapping, NicheRmsSource } from "@encompass/source-niche-rms"
import { Sql } from "@encompass/store"
import { Effect, Either, Layer, Redacted } from "effect"
import * as AgreementFiles from "./AgreementFiles.js"
import * as EmailConfig from "./EmailConfig.js"
import * as MasterKey from "./MasterKey.js"
import type { RegionConfig, SourceEntry } from "./RegionConfig.js"
import { RegionConfigError } from "./RegionConfig.js"

interface RegisteredSource {
  readonly manifest: Manifest.SourceManifest
  readonly build: (entry: SourceEntry, file: string) => Effect.Effect<SourcePlugin.SourcePlugin, RegionConfigError | AgreementFiles.PolicyFileError>
}

/** Every source plugin this gateway build ships. */
export const sources: ReadonlyArray<RegisteredSource> = [
  {
    manifest: NicheRmsSource.manifest,
    build: (entry) =>
      entry.mapping === undefined
        ? Effect.succeed(NicheRmsSource.make())
        : Effect.flatMap(AgreementFiles.readText(entry.mapping), (text) =>
          Either.match(NicheMapping.fromYaml(text), {
            onLeft: (error) => Effect.fail(new RegionConfigError({ file: entry.mapping ?? "", issues: [error.message] })),
            onRight: (mapping) => Effect.succeed(NicheRmsSource.make(mapping))
          }))
  },
  { manifest: AthenaSource.manifest, build: () => Effect.succeed(AthenaSource.make()) },
  { manifest: JsonSource.manifest, build: () => Effect.succeed(JsonSource.make()) }
]

/** Every channel plugin this gateway build ships. */
export const channels: ReadonlyArray<{ readonly manifest: Manifest.ChannelManifest }> = [{ manifest: SecureEmailChannel.manifest }]

const usesServer = () => {
  const url = process.env["DATABASE_URL"]
  return url !== undefined && url !== ""
}

/** The store: `DATABASE_URL` when set, else embedded PGlite in the region's data folder. */
export const storeLayer = (config: RegionConfig) => {
  const url = process.env["DATABASE_URL"]
  return Sql.layer(url !== undefined && url !== "" ? { url: Redacted.make(url) } : { dataDir: config.dataDir })
}

/**
 * The master key: with a server database every gateway process must share one, so it must exist
 * already; with the embedded store it is created next to the data on first use.
 */
export const vaultLayer = (config: RegionConfig) => MasterKey.vaultLayer({ file: config.masterKeyFile, create: !usesServer() })

/** The store, vault and audit log: all the operator commands (quarantine, audit) need. */
export const storageLayer = (config: RegionConfig, store: Layer.Layer<Sql.Sql, unknown> = storeLayer(config)) =>
  Layer.mergeAll(AuditLog.layer, vaultLayer(config)).pipe(Layer.provideMerge(store))

/** The region's enabled source plugins, built with their per-region settings. */
export const activeSources = (config: RegionConfig, file: string) =>
  Effect.gen(function*() {
    const registry = yield* PluginRegistry.make({
      sources,
      channels,
      region: { sources: config.sources.map((s) => s.id), channels: config.channels.map((c) => c.id) }
    })
    return yield* Effect.forEach(registry.sources, (registered) => {
      const entry = config.sources.find((s) => s.id === registered.manifest.id)
      return entry === undefined ? Effect.dieMessage("registry returned an id the region does not list") : registered.build(entry, file)
    })
  })

/**
 * What deciding needs and nothing more — the enabled sources, the agreement, the calendar and the
 * directory, no store and no channel: `policy explain` runs on it, and `layer` builds on it.
 */
export const decisionLayer = (config: RegionConfig, file: string) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const plugins = yield* activeSources(config, file)
    const baseline = yield* AgreementFiles.loadBaseline(AgreementFiles.baselineFile)
    const agreement = yield* AgreementFiles.loadAgreement(config.agreement, baseline)
    const calendar = yield* AgreementFiles.loadCalendar(config.calendar ?? AgreementFiles.calendarFile)
    return Layer.mergeAll(
      Directory.layerCsv(config.directory),
      ActiveAgreement.ActiveAgreement.layer(agreement),
      ActiveAgreement.ActiveCalendar.layer(calendar),
      ActiveSources.ActiveSources.layer(plugins)
    )
  }))

export interface LayerOptions {
  /** The store instead of the region's (`storeLayer`): the demo's is always embedded. */
  readonly store?: Layer.Layer<Sql.Sql, unknown> | undefined
}

/** Everything ingest, quarantine retry, the one-shot commands and the workers need: one composition for all of them. */
export const layer = (config: RegionConfig, file: string, options: LayerOptions = {}) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const [email] = config.channels
    const channel = yield* EmailConfig.load(email.settings, email.passwords)
    return Layer.mergeAll(
      FeedInbox.layer,
      decisionLayer(config, file),
      Layer.scoped(ActiveChannels.ActiveChannels, Effect.map(SecureEmailChannel.make(channel), (plugin) => ActiveChannels.ActiveChannels.fromPlugins([plugin])))
    ).pipe(Layer.provideMerge(storageLayer(config, options.store)))
  }))
