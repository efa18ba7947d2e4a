export * as NicheRmsSource from "./NicheRmsSource.js"
