/**
 * The one SQL code path (DESIGN.md §4): postgres.js in an Effect service. Server Postgres when
 * `DATABASE_URL` is set, otherwise embedded PGlite served to postgres.js over a private socket.
 * The same queries and migrations run on both.
 */
import { Config, Context, Effect, Exit, FiberRef, Layer, Option, Redacted, Stream } from "effect"
import type { ConfigError, Scope } from "effect"
import { randomBytes } from "node:crypto"
import type postgres from "postgres"
import * as connect from "./internal/connect.js"
import { migrate } from "./internal/migrate.js"
import * as sessions from "./internal/sessions.js"
import type { Held } from "./internal/sessions.js"
import { fromUnknown } from "./internal/sqlError.js"
import { SqlError } from "./SqlError.js"

/**
 * The postgres.js handle a `use` callback receives: the pool, or the connection of the
 * transaction the calling fiber is in. Build queries with it; do not keep it.
 */
export type Client = postgres.ISql

export type Backend = "server" | "embedded"

export interface Sql {
  readonly backend: Backend
  /** Runs postgres.js calls on the current connection; `sql.use((s) => s\`SELECT …\`)`. */
  readonly use: <A>(f: (client: Client) => PromiseLike<A>) => Effect.Effect<A, SqlError>
  /** A tagged-template query: `sql.query<{ n: number }>\`SELECT ${x}::int AS n\``. */
  readonly query: <A extends object = postgres.Row>(
    strings: TemplateStringsArray,
    ...params: ReadonlyArray<postgres.ParameterOrFragment<never>>
  ) => Effect.Effect<ReadonlyArray<A>, SqlError>
  /**
   * Streams a large result through a cursor, `batchSize` rows (default 500) per round trip. The
   * cursor holds its connection until the stream ends: with the embedded database (one
   * connection) do not wait on other queries while consuming it.
   */
  readonly stream: <A extends object = postgres.Row>(
    f: (client: Client) => postgres.PendingQuery<Array<A>>,
    options?: { readonly batchSize?: number | undefined }
  ) => Stream.Stream<A, SqlError>
  /**
   * Runs `self` in one transaction: committed if it succeeds, rolled back if it fails or is
   * interrupted. Every `use`, `query` and `stream` of this fiber (and of fibers it forks) inside
   * it goes to the transaction's connection. A nested call is a savepoint: its failure rolls back
   * only its own work. Run nested transactions one at a time, not in concurrent child fibers.
   */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
  /**
   * Runs `self` on one dedicated connection (no transaction), for session state such as advisory
   * locks. Inside a transaction it simply uses the transaction's connection.
   */
  readonly withConnection: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
  /**
   * The payloads of `NOTIFY channel` (or `pg_notify`) from any process on the server, on a
   * dedicated connection held while the stream runs. On the embedded store it never emits: there
   * is one process, whose own wake-ups suffice, and its one connection is not held for listening.
   */
  readonly listen: (channel: string) => Stream.Stream<string, SqlError>
}

export const Sql = Context.GenericTag<Sql>("@encompass/store/Sql")

interface Reserved extends Held {
  /** 0: reserved, no transaction; 1: in a transaction; 2+: in savepoints. */
  readonly depth: number
}

/** Wraps a postgres.js pool. The layers below build the pool; `make` is for an existing one. */
export const make = (pool: postgres.Sql, backend: Backend): Sql => makeWith(pool, backend, sessions.reserving(pool))

// The statement a held connection refuses once it was lost (sessions.ts says why).
const lostError = (method: string) =>
  new SqlError({
    module: "Sql",
    method,
    reason: "Connection",
    code: "CONNECTION_CLOSED",
    detail: "the database connection was lost; the work not yet committed on it was rolled back"
  })

const makeWith = (pool: postgres.Sql, backend: Backend, held: Effect.Effect<Held, SqlError, Scope.Scope>): Sql => {
  // One FiberRef per instance, so two stores in one program never share a transaction.
  const current = FiberRef.unsafeMake(Option.none<Reserved>())
  const reserved = Effect.map(FiberRef.get(current), Option.filter((r) => !r.state.released))

  const attempt = <A>(method: string, f: () => PromiseLike<A>): Effect.Effect<A, SqlError> =>
    Effect.tryPromise({ try: f, catch: (cause) => fromUnknown("Sql", method, cause) })

  // On a held connection: nothing more once it is lost, and an error that ends the server's
  // session marks it lost (not 53xxx, insufficient resources: that session lives on).
  const on = <A>(method: string, r: Option.Option<Reserved>, f: (client: postgres.Sql) => PromiseLike<A>): Effect.Effect<A, SqlError> => {
    if (Option.isNone(r)) return attempt(method, () => f(pool))
    const { client, state } = r.value
    if (state.lost) return Effect.fail(lostError(method))
    return attempt(method, () => f(client)).pipe(
      Effect.tapError((e) => Effect.sync(() => (state.lost ||= e.reason === "Connection" && e.code?.startsWith("53") !== true)))
    )
  }

  const use: Sql["use"] = (f) => Effect.flatMap(reserved, (r) => on("use", r, f))

  const query: Sql["query"] = <A extends object>(
    strings: TemplateStringsArray,
    ...params: ReadonlyArray<postgres.ParameterOrFragment<never>>
  ) => Effect.flatMap(reserved, (r) => on("query", r, (client) => client<Array<A>>(strings, ...params)))

  const stream: Sql["stream"] = <A extends object>(
    f: (client: Client) => postgres.PendingQuery<Array<A>>,
    options?: { readonly batchSize?: number | undefined }
  ) =>
    Stream.unwrap(
      Effect.flatMap(reserved, (r) =>
        Option.isSome(r) && r.value.state.lost
          ? Effect.fail(lostError("stream"))
          : Effect.try({
            try: () => f(Option.isSome(r) ? r.value.client : pool).cursor(options?.batchSize ?? 500),
            catch: (cause) => fromUnknown("Sql", "stream", cause)
          }))
        .pipe(Effect.map((batches) => Stream.fromAsyncIterable(batches, (cause) => fromUnknown("Sql", "stream", cause))))
    ).pipe(Stream.mapConcat((rows): ReadonlyArray<A> => rows))

  const reserve = <A, E, R>(f: (r: Reserved) => Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
    Effect.scoped(Effect.gen(function*() {
      const connection = yield* held
      yield* Effect.addFinalizer(() => Effect.sync(() => (connection.state.released = true)))
      return yield* f({ ...connection, depth: 0 })
    }))

  const withConnection: Sql["withConnection"] = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.flatMap(reserved, (r): Effect.Effect<A, E | SqlError, R> =>
      Option.isSome(r) ? self : reserve((fresh) => Effect.locally(self, current, Option.some(fresh))))

  const transactionOn = <A, E, R>(r: Reserved, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> => {
    const savepoint = `encompass_sp_${r.depth}`
    const [begin, commit, rollback] = r.depth === 0
      ? ["BEGIN", "COMMIT", "ROLLBACK"]
      : [`SAVEPOINT ${savepoint}`, `RELEASE SAVEPOINT ${savepoint}`, `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`]
    const run = (statement: string) => on("transaction", Option.some(r), (client) => client.unsafe(statement))
    const inner: Reserved = { client: r.client, depth: r.depth + 1, state: r.state }
    return Effect.uninterruptibleMask((restore) =>
      run(begin).pipe(
        Effect.zipRight(Effect.exit(restore(Effect.locally(self, current, Option.some(inner))))),
        Effect.flatMap((exit): Effect.Effect<A, E | SqlError> =>
          Exit.isSuccess(exit)
            ? Effect.as(run(commit), exit.value)
            // A lost connection's transaction ended with its server session: nothing to roll back.
            : Effect.zipRight(r.state.lost ? Effect.void : Effect.ignore(run(rollback)), exit)
        )
      )
    )
  }

  const transaction: Sql["transaction"] = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.flatMap(reserved, (r): Effect.Effect<A, E | SqlError, R> =>
      Option.isSome(r) ? transactionOn(r.value, self) : reserve((fresh) => transactionOn(fresh, self)))

  const listen: Sql["listen"] = (channel) =>
    backend === "embedded"
      ? Stream.never
      : Stream.asyncScoped<string, SqlError>((emit) =>
        Effect.acquireRelease(
          attempt("listen", () => pool.listen(channel, (payload) => void emit.single(payload))),
          (subscription) => Effect.ignore(attempt("listen", () => subscription.unlisten()))
        )
      )

  return { backend, use, query, stream, transaction, withConnection, listen }
}

/** Where the migrations of every library live, applied in file-name order. */
export const migrations: URL = new URL("../migrations/", import.meta.url)

/** The embedded database's data directory when `ENCOMPASS_DATA_DIR` is not set. */
export const defaultDataDir = "./.encompass/pgdata"

/** PGlite's name for a database kept in memory only. */
export const memory = "memory://"

export type Options =
  & (
    | {
      /** A server Postgres; the password stays redacted in logs. */
      readonly url: Redacted.Redacted
      /** Pool size, default 10. */
      readonly max?: number | undefined
    }
    | {
      /** The embedded database's data directory, or `memory://`. One process per directory. */
      readonly dataDir: string
    }
  )
  & {
    /** Apply pending migrations when the layer starts (default true). */
    readonly migrate?: boolean | undefined
  }

const build = (
  client: Effect.Effect<connect.Server, SqlError, Scope.Scope>,
  backend: Backend,
  shouldMigrate: boolean | undefined
): Layer.Layer<Sql, SqlError> =>
  Layer.scoped(
    Sql,
    Effect.gen(function*() {
      const { held, pool } = yield* client
      const sql = makeWith(pool, backend, held)
      if (shouldMigrate !== false) yield* migrate(sql, migrations)
      return sql
    })
  )

// The embedded store's one connection is held with the driver's own `reserve()`: PGlite runs in
// this process, so that connection is never lost to a server restart.
const embedded = (dataDir: string | undefined): Effect.Effect<connect.Server, SqlError, Scope.Scope> =>
  Effect.map(connect.embedded(dataDir), (pool) => ({ pool, held: sessions.reserving(pool) }))

/** Connects (server or embedded per `options`), migrates, and closes everything on release. */
export const layer = (options: Options): Layer.Layer<Sql, SqlError> =>
  "url" in options
    ? build(connect.server(options.url, { max: options.max ?? 10 }), "server", options.migrate)
    : build(embedded(options.dataDir === memory ? undefined : options.dataDir), "embedded", options.migrate)

// An empty DATABASE_URL counts as unset, as shells and compose files often leave it so.
const databaseUrl = Config.option(Config.redacted("DATABASE_URL")).pipe(
  Config.map(Option.filter((url) => Redacted.value(url) !== ""))
)

/**
 * The application's layer: `DATABASE_URL` set → that server (pool of 10); otherwise embedded
 * PGlite in `ENCOMPASS_DATA_DIR` (default `./.encompass/pgdata`).
 */
export const layerConfig: Layer.Layer<Sql, SqlError | ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(
    Config.all({ url: databaseUrl, dataDir: Config.string("ENCOMPASS_DATA_DIR").pipe(Config.withDefault(defaultDataDir)) }),
    ({ dataDir, url }) => layer(Option.isSome(url) ? { url: url.value } : { dataDir })
  )
)

/**
 * A fresh, isolated database for one test layer instance: with `DATABASE_URL`, a new uniquely
 * named schema on that server (dropped on release); otherwise an in-memory PGlite.
 */
export const layerTestWith = (options: { readonly migrate?: boolean | undefined }): Layer.Layer<Sql, SqlError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(databaseUrl, (url) => {
      if (Option.isNone(url)) return build(embedded(undefined), "embedded", options.migrate)
      const schema = `test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`
      const client = Effect.tap(connect.server(url.value, { max: 4, searchPath: schema }), ({ pool: c }) =>
        Effect.acquireRelease(
          Effect.tryPromise({ try: () => c.unsafe(`CREATE SCHEMA ${schema}`), catch: (cause) => fromUnknown("Sql", "layerTest", cause) }),
          () => Effect.ignoreLogged(Effect.tryPromise(() => c.unsafe(`DROP SCHEMA ${schema} CASCADE`)))
        ))
      return build(client, "server", options.migrate)
    })
  )

/** `layerTestWith({})`: an isolated, migrated database; see README for use in other libraries. */
export const layerTest: Layer.Layer<Sql, SqlError | ConfigError.ConfigError> = layerTestWith({})
