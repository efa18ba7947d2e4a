export * as Authorities from "./Authorities.js"
export * as Directory from "./Directory.js"
export * as DirectoryError from "./DirectoryError.js"
export * as Leavers from "./Leavers.js"
