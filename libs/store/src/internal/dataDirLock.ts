/**
 * One process per embedded data directory: two PGlite instances on one folder corrupt it. The
 * lock is a listening Unix-domain socket named after the folder's real path, so the operating
 * system releases it when the holder exits or is killed: there is no stale lock to clear. On
 * Linux the name is in the abstract namespace (no file at all); elsewhere it is a socket file in
 * the temporary folder, and one nothing answers on is a dead holder's, removed and taken over.
 * The holder answers a connection with its pid, so the refusal can name it.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { SqlError } from "../SqlError.js"

const socketName = (dir: string) => {
  const id = `encompass-pgdata-${createHash("sha256").update(dir).digest("hex").slice(0, 32)}`
  return process.platform === "linux" ? `\0${id}` : path.join(os.tmpdir(), `${id}.sock`)
}

/** The pid the holder answers with; undefined when nothing answers (a dead holder's socket file). */
const holder = (name: string) =>
  new Promise<string | undefined>((resolve) => {
    let answer = ""
    const socket = net.connect(name)
    socket.setTimeout(2_000, () => socket.destroy())
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()))
    socket.once("error", () => resolve(undefined))
    socket.once("close", () => resolve(answer.trim() === "" ? "unknown" : answer.trim()))
  })

const listen = (name: string) =>
  new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer((socket) => socket.end(`${process.pid}\n`))
    server.once("error", reject)
    server.listen(name, () => {
      // The lock alone must not keep the process alive.
      server.unref()
      resolve(server)
    })
  })

const inUse = (dir: string, pid: string) =>
  new SqlError({
    module: "Sql",
    method: "lockDataDir",
    reason: "Connection",
    code: "EBUSY",
    detail: `the embedded database ${dir} is in use by another encompass process (pid ${pid}); ` +
      "stop it (e.g. `encompass serve`) before running a command on the same data directory, or use a server database (DATABASE_URL)"
  })

/** Holds the lock on `dir` (an existing folder) for the scope, or fails naming the holder. */
export const acquire = (dir: string): Effect.Effect<void, SqlError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const name = socketName(fs.realpathSync(dir))
        for (let attempt = 0; ; attempt++) {
          try {
            return await listen(name)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error
            const pid = await holder(name)
            if (pid !== undefined || attempt > 0 || process.platform === "linux") throw inUse(dir, pid ?? "unknown")
            fs.rmSync(name, { force: true })
          }
        }
      },
      catch: (error) =>
        error instanceof SqlError
          ? error
          : new SqlError({ module: "Sql", method: "lockDataDir", reason: "Connection", detail: `could not lock the embedded database ${dir}` })
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.asVoid)
