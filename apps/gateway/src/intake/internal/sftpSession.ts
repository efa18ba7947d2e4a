/**
 * The intake's requests over one SFTP connection to a force's server, for one poll. The connection
 * (SftpConnection of @encompass/channel-sftp: host key pinned, key authentication, every request
 * time-boxed) closes — socket destroyed — when the poll's scope closes, also on interruption. A
 * poll that fails for any reason therefore leaves nothing behind, and the next poll starts on a
 * fresh connection (CONVENTIONS: SFTP pitfalls).
 */
import { SftpConnection } from "@encompass/channel-sftp"
import { NodeStream } from "@effect/platform-node"
import { Data, Duration, Effect, Stream } from "effect"
import type { Scope } from "effect"
import type { SftpDropConfig } from "../SftpDropConfig.js"
import { SftpDropError } from "../SftpDropError.js"

export interface RemoteEntry {
  /** `-` a regular file, `d` a directory, `l` a symbolic link. */
  readonly type: string
  readonly name: string
  readonly size: number
  readonly modifyTime: number
}

/**
 * Why a download stopped. `Gone`: the file disappeared; `Unreadable`: the server refused to open
 * or read it (the connection is fine); `Transport`/`Timeout`: the connection is not.
 */
export class ReadProblem extends Data.TaggedError("ReadProblem")<{
  readonly kind: "Gone" | "Unreadable" | "Transport" | "Timeout"
  readonly detail: string
}> {}

export interface Session {
  readonly list: (directory: string) => Effect.Effect<ReadonlyArray<RemoteEntry>, SftpDropError>
  readonly exists: (path: string) => Effect.Effect<boolean, SftpDropError>
  readonly mkdir: (path: string) => Effect.Effect<void, SftpDropError>
  /** Never replaces an existing file on OpenSSH; check `exists` first for other servers. */
  readonly rename: (from: string, to: string) => Effect.Effect<void, SftpDropError>
  /** The file's bytes; each run of the stream downloads it again, while the session is open. */
  readonly read: (path: string) => Stream.Stream<Uint8Array, ReadProblem>
}

export const server = (config: SftpDropConfig): string => SftpConnection.server(config)

const NO_SUCH_FILE = 2

export const open = (config: SftpDropConfig, privateKey: Buffer): Effect.Effect<Session, SftpDropError, Scope.Scope> =>
  Effect.gen(function*() {
    const at = server(config)
    const ours = (method: SftpDropError["method"]) => (error: SftpConnection.SftpConnectionError) =>
      new SftpDropError({ method, reason: error.reason === "Refused" ? "Remote" : error.reason, server: at, detail: error.detail })

    const { call: request, client } = yield* SftpConnection.open({
      endpoint: config,
      key: privateKey,
      connectTimeout: config.connectTimeout,
      operationTimeout: config.operationTimeout,
      clientName: "encompass-sftp-drop",
      spared: "nothing downloaded"
    }).pipe(Effect.mapError(ours("connect")))

    const call = <A>(method: SftpDropError["method"], what: string, f: () => Promise<A>): Effect.Effect<A, SftpDropError> =>
      Effect.mapError(request(what, f), ours(method))

    const readProblem = (cause: unknown): ReadProblem => {
      const code = (cause as { readonly code?: unknown } | undefined)?.code
      const kind = code === NO_SUCH_FILE ? "Gone" : typeof code === "number" ? "Unreadable" : "Transport"
      return new ReadProblem({ kind, detail: SftpConnection.said(cause) })
    }

    return {
      list: (directory) =>
        call("list", `list ${directory}`, () => client.list(directory)).pipe(
          Effect.map((entries) => entries.map(({ modifyTime, name, size, type }) => ({ type, name, size, modifyTime })))
        ),
      exists: (path) => Effect.map(call("move", `stat ${path}`, () => client.exists(path)), (type) => type !== false),
      mkdir: (path) => Effect.asVoid(call("move", `create ${path}`, () => client.mkdir(path, true))),
      rename: (from, to) => Effect.asVoid(call("move", `rename ${from} to ${to}`, () => client.rename(from, to))),
      read: (path) =>
        Stream.unwrap(
          Effect.try({
            try: () => {
              const readable = client.createReadStream(path)
              // Once the file is read the stream closes its handle in the background; if the poll's
              // connection is destroyed first, ssh2 fails that close ("No response from server") with
              // nobody listening any more — an uncaught exception that would stop the gateway. The
              // read itself reports its errors through the listener `fromReadable` adds.
              readable.on("error", () => undefined)
              return readable
            },
            catch: readProblem
          }).pipe(
            Effect.map((readable) => NodeStream.fromReadable<ReadProblem>(() => readable, readProblem))
          )
        ).pipe(
          Stream.timeoutFail(
            () => new ReadProblem({ kind: "Timeout", detail: `no data for ${Duration.format(config.operationTimeout)}` }),
            config.operationTimeout
          )
        )
    } satisfies Session
  })
