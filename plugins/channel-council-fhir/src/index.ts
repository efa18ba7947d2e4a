export * as CouncilFhirChannel from "./CouncilFhirChannel.js"
export * as CouncilFhirConfig from "./CouncilFhirConfig.js"
export * as FhirBundle from "./FhirBundle.js"
export * as FhirValidation from "./FhirValidation.js"
