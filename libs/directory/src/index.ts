export * as Directory from "./Directory.js"
export * as DirectoryError from "./DirectoryError.js"
