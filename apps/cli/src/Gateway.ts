/**
 * Composes the gateway for one run of `ingest` or `demo`: the store, the audit log, the
 * vault, the feed inbox, the directory, the agreement and school calendar, the Niche RMS source
 * and the secure-email channel.
 */
import { AuditLog } from "@encompass/audit"
import { SecureEmailChannel } from "@encompass/channel-secure-email"
import type { SecureEmailConfig } from "@encompass/channel-secure-email"
import { Directory } from "@encompass/directory"
import * as MasterKey from "@encompass/gateway/MasterKey"
import { ActiveAgreement, ActiveChannels, ActiveSources, FeedInbox } from "@encompass/pipeline"
import type { NicheMapping } from "@encompass/source-niche-rms"
import { NicheRmsSource } from "@encompass/source-niche-rms"
import type { Vault } from "@encompass/store"
import { Sql } from "@encompass/store"
import { Effect, Layer, Redacted } from "effect"
import * as AgreementFiles from "@encompass/gateway/AgreementFiles"

const agreementLayer = (file: string) =>
  Layer.effect(
    ActiveAgreement.ActiveAgreement,
    Effect.flatMap(AgreementFiles.loadBaseline(AgreementFiles.baselineFile), (baseline) => AgreementFiles.loadAgreement(file, baseline))
  )

const calendarLayer = (file: string) => Layer.effect(ActiveAgreement.ActiveCalendar, AgreementFiles.loadCalendar(file))

/** The store: `DATABASE_URL` when set, else embedded PGlite in `dataDir`. */
export const storeLayer = (dataDir: string) => {
  const url = process.env["DATABASE_URL"]
  return Sql.layer(url !== undefined && url !== "" ? { url: Redacted.make(url) } : { dataDir })
}

/** Always the embedded store, whatever `DATABASE_URL` says: the demo never writes to a server. */
export const embeddedStoreLayer = (dataDir: string) => Sql.layer({ dataDir })

/** The master key next to the embedded store, created on first use unless ENCOMPASS_MASTER_KEY is set. */
export const vaultLayer = (keyFile: string) => MasterKey.vaultLayer({ file: keyFile, create: true })

export interface GatewayOptions {
  readonly store: Layer.Layer<Sql.Sql, unknown>
  readonly vault: Layer.Layer<Vault.Vault, unknown>
  readonly directoryFile: string
  readonly agreementFile: string
  readonly calendarFile: string
  readonly channel: SecureEmailConfig.SecureEmailConfig
  /** The Niche field mapping; the default layout when absent. */
  readonly mapping?: NicheMapping.NicheMapping | undefined
}

export const layer = (options: GatewayOptions) =>
  Layer.mergeAll(
    FeedInbox.layer,
    Directory.layerCsv(options.directoryFile),
    agreementLayer(options.agreementFile),
    calendarLayer(options.calendarFile),
    ActiveSources.ActiveSources.layer([NicheRmsSource.make(options.mapping)]),
    Layer.scoped(ActiveChannels.ActiveChannels, Effect.map(SecureEmailChannel.make(options.channel), (plugin) => ActiveChannels.ActiveChannels.fromPlugins([plugin])))
  ).pipe(
    Layer.provideMerge(Layer.mergeAll(AuditLog.layer, options.vault)),
    Layer.provideMerge(options.store)
  )
