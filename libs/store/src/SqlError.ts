/**
 * The one error of the store. It crosses boundaries (logs, CLI output, HTTP problem details), so
 * it never carries query parameter values or Postgres' `detail` text: either may hold personal
 * data. It keeps only the SQLSTATE or driver code, a constraint name and a short safe message.
 */
import { Effect, Schedule, Schema } from "effect"
import type { Duration } from "effect"

/**
 * Why a database call failed. `Connection`, `Timeout` and `Conflict` (serialization failure or
 * deadlock) are worth retrying; `Constraint`, `Query` and `Migration` need a change of input or
 * code.
 */
export const Reason = Schema.Literal("Connection", "Timeout", "Conflict", "Constraint", "Query", "Migration")
export type Reason = typeof Reason.Type

export class SqlError extends Schema.TaggedError<SqlError>()("SqlError", {
  module: Schema.String,
  method: Schema.String,
  reason: Reason,
  /** SQLSTATE (e.g. `23505`) or driver code (e.g. `ECONNREFUSED`). */
  code: Schema.optional(Schema.String),
  constraint: Schema.optional(Schema.String),
  /** A description safe to log: no parameter values, no personal data. */
  detail: Schema.String
}) {
  get retryable(): boolean {
    return this.reason === "Connection" || this.reason === "Timeout" || this.reason === "Conflict"
  }
  override get message(): string {
    const code = this.code === undefined ? "" : ` [${this.code}]`
    return `${this.module}.${this.method} failed (${this.reason}${code}): ${this.detail}`
  }
}

/**
 * Retries `self` while it fails with a retryable SqlError (the database is away, e.g. restarting,
 * or a conflict), every 0.1 s doubling to every 2 s, for up to `within`; then fails with the last
 * error. For work that must not be dropped because the database blinked.
 */
export const retryWhileAway = (within: Duration.DurationInput) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.retry(self, {
    while: (e) => e instanceof SqlError && e.retryable,
    schedule: Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")), Schedule.upTo(within))
  })
