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

export const server = (
  url: Redacted.Redacted,
  options: { readonly max: number; readonly searchPath?: string | undefined }
): Effect.Effect<postgres.Sql, SqlError, Scope.Scope> =>
  Effect.suspend(() =>
    open(
      postgres(Redacted.value(url), {
        ...common,
        max: options.max,
        idle_timeout: 60,
        connection: {
          ...common.connection,
          ...(options.searchPath === undefined ? {} : { search_path: options.searchPath })
        }
      })
    )
  )

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
