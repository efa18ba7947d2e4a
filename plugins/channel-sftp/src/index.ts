export * as SftpChannel from "./SftpChannel.js"
export * as SftpChannelConfig from "./SftpChannelConfig.js"
export * as SftpConnection from "./SftpConnection.js"
export * as SftpChannelError from "./SftpChannelError.js"
