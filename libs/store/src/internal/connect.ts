import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Effect, Function, Redacted } from "effect"
import type { Scope } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"
import type { SqlError } from "../SqlError.js"
import * as DataDirLock from "./dataDirLock.js"
import { type Held, separate } from "./sessions.js"
import { fromUnknown } from "./sqlError.js"

const attempt = <A>(f: () => PromiseLike<A>): Effect.Effect<A, SqlError> =>
  Effect.tryPromise({ try: f, catch: (cause) => fromUnknown("Sql", "connect", cause) })

// A failed close must not mask the outcome of the scope; it is logged instead.
const closing = (what: string, f: () => PromiseLike<unknown>): Effect.Effect<void> =>
  Effect.tryPromise(f).pipe(
    Effect.catchAll(() => Effect.logWarning(`could not close the ${what}`)),
    Effect.asVoid
  )

const common = {
  // Notices ("relation already exists, skipping") are not the application's output.
  onnotice: Function.constVoid,
  connect_timeout: 10,
  connection: { application_name: "encompass-gateway" }
} satisfies postgres.Options<{}>

const open = (client: postgres.Sql): Effect.Effect<postgres.Sql, SqlError, Scope.Scope> =>
  Effect.acquireRelease(Effect.succeed(client), (c) => closing("connection pool", () => c.end({ timeout: 5 }))).pipe(
    // Connect now, so a wrong URL or a down server fails at start rather than at first use.
    Effect.tap((c) => attempt(() => c`SELECT 1`))
  )

// postgres.js 3.4.x reads the server's array types on each new connection from a promise that
// nothing awaits (`fetchArrayTypes` in connection.js): a server that ends the connection just then
// (a restart) rejects it unhandled, and Node ends the process. Such a rejection, a connection-class
// PostgresError raised inside the driver, concerns only a connection already lost, which the
// pool replaces; every other unhandled rejection still ends the process, as it would without this.
const lostInDriver = (reason: unknown): boolean =>
  reason instanceof Error && reason.name === "PostgresError" &&
  /^(08|57P0[123])/.test(String((reason as { code?: unknown }).code)) &&
  /[\\/]postgres[\\/]src[\\/]connection\.js|\bErrorResponse\b/.test(reason.stack ?? "")

const ignoringLostInDriver: Effect.Effect<void, never, Scope.Scope> = Effect.asVoid(Effect.acquireRelease(
  Effect.sync(() => {
    const handler = (reason: unknown) => {
      if (!lostInDriver(reason)) throw reason
    }
    process.on("unhandledRejection", handler)
    return handler
  }),
  (handler) => Effect.sync(() => process.off("unhandledRejection", handler))
))

/** A server's pool, and its connections for transactions and sessions (see sessions.ts). */
export interface Server {
  readonly pool: postgres.Sql
  readonly held: Effect.Effect<Held, SqlError, Scope.Scope>
}

export const server = (
  url: Redacted.Redacted,
  options: { readonly max: number; readonly searchPath?: string | undefined }
): Effect.Effect<Server, SqlError, Scope.Scope> =>
  Effect.suspend(() => {
    const settings = (max: number, onclose?: () => void): postgres.Options<{}> => ({
      ...common,
      max,
      idle_timeout: 60,
      ...(onclose === undefined ? {} : { onclose }),
      connection: {
        ...common.connection,
        ...(options.searchPath === undefined ? {} : { search_path: options.searchPath })
      }
    })
    return Effect.zipRight(ignoringLostInDriver, Effect.all({
      pool: open(postgres(Redacted.value(url), settings(options.max))),
      // Half as many again as the pool: a process runs few transactions at once, and those
      // beyond wait for a connection rather than open more on a server shared by several processes.
      held: separate((onclose) => postgres(Redacted.value(url), settings(1, onclose)), Math.max(2, Math.ceil(options.max / 2)))
    }))
  })

/** `dataDir` undefined keeps the database in memory. */
export const embedded = (dataDir: string | undefined): Effect.Effect<postgres.Sql, SqlError, Scope.Scope> =>
  Effect.gen(function*() {
    const dir = dataDir === undefined ? undefined : path.resolve(dataDir)
    // One process per data directory (dataDirLock.ts); the lock is released after the database closes.
    if (dir !== undefined) yield* Effect.zipRight(attempt(() => fs.mkdir(dir, { recursive: true })), DataDirLock.acquire(dir))
    const db = yield* Effect.acquireRelease(
      attempt(() => (dir === undefined ? PGlite.create() : PGlite.create(dir))),
      (db) => closing("embedded database", () => db.close())
    )
    // A Unix socket in a private (0700) directory: unlike a TCP port, other local users cannot
    // reach it, and PGlite accepts any credentials.
    const socketDir = yield* Effect.acquireRelease(
      attempt(() => fs.mkdtemp(path.join(os.tmpdir(), "encompass-pglite-"))),
      (dir) => closing("socket directory", () => fs.rm(dir, { recursive: true, force: true }))
    )
    const socketPath = path.join(socketDir, ".s.PGSQL.5432")
    yield* Effect.acquireRelease(
      attempt(async () => {
        const socketServer = new PGLiteSocketServer({ db, path: socketPath })
        await socketServer.start()
        return socketServer
      }),
      (socketServer) => closing("embedded database socket", () => socketServer.stop())
    )
    // PGlite is a single backend: one connection, kept for the life of the layer, since a
    // reconnect would share session state (prepared statements, locks) with the old one.
    return yield* open(postgres({ ...common, path: socketPath, max: 1, idle_timeout: 0, max_lifetime: null }))
  })
