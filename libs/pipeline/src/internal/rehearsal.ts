/**
 * A purge run in one transaction that, as a dry run, is rolled back once its report is made: the
 * dry run's report is then exactly what the run would have done.
 */
import { Sql } from "@encompass/store"
import type { SqlError } from "@encompass/store"
import { Effect } from "effect"

class RolledBack<A> {
  readonly _tag = "RolledBack"
  constructor(readonly report: A) {}
}

export const transaction = <A, E, R>(
  work: Effect.Effect<A, E, R>,
  dryRun: boolean
): Effect.Effect<A, E | SqlError.SqlError, R | Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.transaction(dryRun ? Effect.flatMap(work, (report) => Effect.fail(new RolledBack(report))) : work).pipe(
      Effect.catchIf((e): e is RolledBack<A> => e instanceof RolledBack, (e) => Effect.succeed(e.report))
    ))
