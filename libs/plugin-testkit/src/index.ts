export * as ChannelConformance from "./ChannelConformance.js"
export * as GnuPg from "./GnuPg.js"
export * as OpenSshd from "./OpenSshd.js"
export * as SourceConformance from "./SourceConformance.js"
