export * as ChannelConformance from "./ChannelConformance.js"
export * as SourceConformance from "./SourceConformance.js"
