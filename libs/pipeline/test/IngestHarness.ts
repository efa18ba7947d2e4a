/** The pipeline on a fresh test database with a recording channel: what Ingest and Corrections tests drive. */
import { AuditLog } from "@encompass/audit"
import type { SourcePlugin } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import { Context, Effect, Layer, Ref } from "effect"
import { ActiveAgreement, ActiveChannels, ActiveSources, FeedInbox, Ingest } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"

export class Recording extends Context.Tag("test/Recording")<Recording, Effect.Effect.Success<typeof Fixtures.recordingChannel>>() {}

const ChannelLive = Layer.effect(ActiveChannels.ActiveChannels, Effect.map(Recording, (r) => ActiveChannels.ActiveChannels.fromPlugins([r.plugin]))).pipe(
  Layer.provideMerge(Layer.effect(Recording, Fixtures.recordingChannel))
)

export const TestLive = Layer.mergeAll(FeedInbox.layer, Fixtures.directoryLayer, ActiveAgreement.ActiveAgreement.layer(Fixtures.tvp), ChannelLive).pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

/** Receives a feed named `name` whose source yields `items`, processes it and delivers what is due. */
export const ingest = (name: string, items: ReadonlyArray<SourcePlugin.Decoded>) =>
  Ingest.ingest(Fixtures.feed(name), { transport: "file" }).pipe(
    Effect.provideService(ActiveSources.ActiveSources, ActiveSources.ActiveSources.fromPlugins([Fixtures.sourceOf(items)]))
  )

export const rows = <A extends object>(strings: TemplateStringsArray, ...params: ReadonlyArray<string | number>) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.query<A>(strings, ...params))

/** What the channel was given for `occurrence`, in order. */
export const deliveredTo = (occurrence: string) =>
  Effect.map(Recording, (r) => r.delivered).pipe(
    Effect.flatMap(Ref.get),
    Effect.map((all) => all.filter((a) => a.notification.occurrence === occurrence))
  )
