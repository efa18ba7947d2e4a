export * as NicheMapping from "./NicheMapping.js"
export * as NicheMappingError from "./NicheMappingError.js"
export * as NicheRmsSource from "./NicheRmsSource.js"
