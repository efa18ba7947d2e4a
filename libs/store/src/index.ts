export * as Migrator from "./Migrator.js"
export * as Sql from "./Sql.js"
export * as SqlError from "./SqlError.js"
export * as Vault from "./Vault.js"
