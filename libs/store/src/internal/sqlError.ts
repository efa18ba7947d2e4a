import { SqlError } from "../SqlError.js"
import type { Reason } from "../SqlError.js"

interface PostgresErrorLike {
  readonly name: "PostgresError"
  readonly code: string
  readonly message: string
  readonly constraint_name?: string
  readonly column_name?: string
}

const isPostgresError = (u: unknown): u is PostgresErrorLike =>
  u instanceof Error && u.name === "PostgresError" && typeof (u as { code?: unknown }).code === "string"

const codeOf = (u: unknown): string | undefined => {
  const code = typeof u === "object" && u !== null ? (u as { code?: unknown }).code : undefined
  return typeof code === "string" ? code : undefined
}

// SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html
const reasonOfSqlState = (code: string): Reason => {
  if (code === "57014" || code === "55P03") return "Timeout"
  if (code === "40001" || code === "40P01") return "Conflict"
  if (code.startsWith("08") || code.startsWith("53") || code.startsWith("57P")) return "Connection"
  if (code.startsWith("23")) return "Constraint"
  return "Query"
}

// Driver (postgres.js) and socket codes that mean the database could not be reached.
const connectionCodes = /^(CONNECTION_|E(CONNREFUSED|CONNRESET|NOTFOUND|HOSTUNREACH|NETUNREACH|PIPE|ADDRNOTAVAIL|NOENT|ACCES|AI_AGAIN)$)/

/**
 * Maps anything postgres.js or PGlite throws to a SqlError. Only the code, the constraint name
 * and messages known to hold no values survive: class 22 (data exception) messages quote the
 * offending value, Postgres' `detail` does too, and a JavaScript error may quote its argument.
 */
export const fromUnknown = (module: string, method: string, cause: unknown): SqlError => {
  if (cause instanceof SqlError) return cause
  if (isPostgresError(cause)) {
    const dataException = cause.code.startsWith("22")
    return new SqlError({
      module,
      method,
      reason: reasonOfSqlState(cause.code),
      code: cause.code,
      ...(cause.constraint_name === undefined ? {} : { constraint: cause.constraint_name }),
      detail: dataException
        ? `invalid value${cause.column_name === undefined ? "" : ` for column ${cause.column_name}`}`
        : cause.message
    })
  }
  const code = codeOf(cause)
  if (code === "CONNECT_TIMEOUT") {
    return new SqlError({ module, method, reason: "Timeout", code, detail: "timed out connecting to the database" })
  }
  if (code !== undefined && connectionCodes.test(code)) {
    // Socket messages name only the host, port or socket path.
    return new SqlError({ module, method, reason: "Connection", code, detail: cause instanceof Error ? cause.message : code })
  }
  const name = cause instanceof Error ? cause.name : typeof cause
  return new SqlError({ module, method, reason: "Query", ...(code === undefined ? {} : { code }), detail: `${name} from the database driver` })
}
