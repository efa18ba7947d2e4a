/**
 * One SFTP connection to a force's server, for one poll: host key pinned, key authentication,
 * every request time-boxed, and closed — socket destroyed — when the poll's scope closes, also on
 * interruption. A poll that fails for any reason therefore leaves nothing behind, and the next
 * poll starts on a fresh connection (CONVENTIONS: SFTP pitfalls).
 */
import { SshHostKey } from "@encompass/plugin-sdk"
import { NodeStream } from "@effect/platform-node"
import { Data, Duration, Effect, Stream } from "effect"
import type { Scope } from "effect"
import * as net from "node:net"
import SftpClient from "ssh2-sftp-client"
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

export const server = (config: SftpDropConfig): string => `${config.username}@${config.host}:${config.port}`

/** ssh2's own errors carry a `level` (`client-authentication`, `client-timeout`, …). */
interface SshError extends Error {
  readonly level?: string
  readonly code?: unknown
}

const ignore = () => undefined

/** Library text, kept short and single-line; it names paths, never key material (which we never pass it as text). */
const said = (cause: unknown): string => {
  const text = cause instanceof Error ? cause.message : String(cause)
  return /PRIVATE KEY/.test(text) ? "[redacted]" : text.replace(/\s+/g, " ").trim().slice(0, 300)
}

/** SFTP status codes are numbers; ssh2-sftp-client names a few refusals itself. The rest is the connection failing. */
const refusedByServer = (cause: unknown): boolean => {
  const code = (cause as SshError | undefined)?.code
  return typeof code === "number" || code === "ERR_BAD_PATH" || code === "ENOENT" || code === "EACCES" || code === "ENOTDIR"
}

const NO_SUCH_FILE = 2

export const open = (config: SftpDropConfig, privateKey: Buffer): Effect.Effect<Session, SftpDropError, Scope.Scope> =>
  Effect.gen(function*() {
    const at = server(config)
    const fail = (method: SftpDropError["method"], reason: SftpDropError["reason"], detail: string) =>
      new SftpDropError({ method, reason, server: at, detail })

    // The socket is ours, so closing the scope can always destroy it, even mid-handshake.
    const { client, socket } = yield* Effect.acquireRelease(
      Effect.sync(() => ({ client: new SftpClient("encompass-sftp-drop", { error: ignore, end: ignore, close: ignore }), socket: new net.Socket() })),
      ({ client, socket }) =>
        // A polite goodbye if the server is still there; the socket goes regardless.
        Effect.tryPromise(() => client.end()).pipe(
          Effect.timeout(Duration.seconds(2)),
          Effect.ignore,
          Effect.ensuring(Effect.sync(() => socket.destroy()))
        )
    )

    let presented: { readonly fingerprint: string; readonly type: string } | undefined
    let sshError: SshError | undefined
    client.on("error", (error: SshError) => {
      sshError ??= error
    })

    const connectError = (cause: unknown): SftpDropError => {
      if (presented !== undefined && !SshHostKey.sameKey(presented.fingerprint, config.hostKey)) {
        return fail(
          "connect",
          "HostKey",
          `the server presented the ${presented.type} host key ${presented.fingerprint}, not the pinned ${config.hostKey}; refused before logging in, nothing downloaded`
        )
      }
      switch (sshError?.level) {
        case "client-authentication":
          return fail("connect", "Auth", `the server refused key authentication as ${config.username}`)
        case "client-timeout":
          return fail("connect", "Timeout", `no SSH handshake within ${Duration.format(config.connectTimeout)}`)
      }
      if (/private ?key/i.test(said(cause))) {
        return fail("connect", "InvalidConfig", `the private key ${config.privateKey} cannot be used (not an unencrypted OpenSSH or PEM key)`)
      }
      return fail("connect", "Transport", said(sshError ?? cause))
    }

    yield* Effect.tryPromise({
      try: () => {
        socket.connect({ host: config.host, port: config.port })
        return client.connect({
          sock: socket,
          host: config.host,
          port: config.port,
          username: config.username,
          privateKey,
          // Called with the raw key blob (no `hostHash`): compared as OpenSSH's SHA256 fingerprint.
          hostVerifier: (key: Buffer) => {
            presented = { fingerprint: SshHostKey.fingerprint(key), type: SshHostKey.keyType(key) }
            return SshHostKey.sameKey(presented.fingerprint, config.hostKey)
          },
          readyTimeout: Duration.toMillis(config.connectTimeout),
          tryKeyboard: false
        })
      },
      catch: connectError
    }).pipe(
      Effect.timeoutFail({
        duration: config.connectTimeout,
        onTimeout: () => fail("connect", "Timeout", `not connected within ${Duration.format(config.connectTimeout)}`)
      })
    )

    const call = <A>(method: SftpDropError["method"], what: string, f: () => Promise<A>): Effect.Effect<A, SftpDropError> =>
      Effect.tryPromise({
        try: f,
        catch: (cause) => fail(method, refusedByServer(cause) ? "Remote" : "Transport", `${what}: ${said(cause)}`)
      }).pipe(
        Effect.timeoutFail({
          duration: config.operationTimeout,
          onTimeout: () => fail(method, "Timeout", `${what}: no answer within ${Duration.format(config.operationTimeout)}`)
        })
      )

    const readProblem = (cause: unknown): ReadProblem => {
      const code = (cause as SshError | undefined)?.code
      const kind = code === NO_SUCH_FILE ? "Gone" : typeof code === "number" ? "Unreadable" : "Transport"
      return new ReadProblem({ kind, detail: said(cause) })
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
