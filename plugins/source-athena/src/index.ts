export * as AthenaSource from "./AthenaSource.js"
export * as AthenaSourceConfig from "./AthenaSourceConfig.js"
