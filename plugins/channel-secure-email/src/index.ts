export * as SecureEmailChannel from "./SecureEmailChannel.js"
export * as SecureEmailConfig from "./SecureEmailConfig.js"
export * as SmtpRelay from "./SmtpRelay.js"
