/**
 * The channel plugins this process enables, by id (DESIGN.md §3, "channels are routed, not
 * wired"): a notification is delivered by the plugin its route names, and the outbox claims only
 * notifications of these channels, each with its own workers. A region composes it from its
 * plugin registry.
 */
import type { ChannelPlugin } from "@encompass/plugin-sdk"
import { Context, Layer } from "effect"

export class ActiveChannels extends Context.Tag("@encompass/pipeline/ActiveChannels")<
  ActiveChannels,
  ReadonlyMap<string, ChannelPlugin.ChannelPlugin>
>() {
  static readonly fromPlugins = (plugins: ReadonlyArray<ChannelPlugin.ChannelPlugin>): ReadonlyMap<string, ChannelPlugin.ChannelPlugin> =>
    new Map(plugins.map((plugin) => [plugin.id, plugin]))
  static readonly layer = (plugins: ReadonlyArray<ChannelPlugin.ChannelPlugin>): Layer.Layer<ActiveChannels> =>
    Layer.succeed(this, ActiveChannels.fromPlugins(plugins))
}
