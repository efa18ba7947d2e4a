/**
 * The source plugins a region enables, by id: a stored feed is decoded by the plugin its
 * `source` names. A region composes it from its plugin registry.
 */
import type { SourcePlugin } from "@encompass/plugin-sdk"
import { Context, Layer } from "effect"

export class ActiveSources extends Context.Tag("@encompass/pipeline/ActiveSources")<
  ActiveSources,
  ReadonlyMap<string, SourcePlugin.SourcePlugin>
>() {
  static readonly fromPlugins = (plugins: ReadonlyArray<SourcePlugin.SourcePlugin>): ReadonlyMap<string, SourcePlugin.SourcePlugin> =>
    new Map(plugins.map((plugin) => [plugin.id, plugin]))
  static readonly layer = (plugins: ReadonlyArray<SourcePlugin.SourcePlugin>): Layer.Layer<ActiveSources> =>
    Layer.succeed(this, ActiveSources.fromPlugins(plugins))
}
