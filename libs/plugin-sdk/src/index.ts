export * as ChannelPlugin from "./ChannelPlugin.js"
export * as RawFeed from "./RawFeed.js"
export * as SourcePlugin from "./SourcePlugin.js"
