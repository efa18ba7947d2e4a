export * as IncidentLine from "./IncidentLine.js"
export * as JsonSource from "./JsonSource.js"
export * as SourceJsonConfig from "./SourceJsonConfig.js"
